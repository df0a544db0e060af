// order_service: a small order/inventory service traced with osprofiler-cpp.
//
// It keeps its data in SQLite (through the traced osprofiler::sqlite adapter)
// and its traces in the embedded default store, serves a handful of requests,
// each in its own trace (a "wsgi" point like Python's WSGI middleware), and
// prints their base ids. Two performance bugs are there on purpose:
//   * orders has no index on customer_id: listing a customer's orders scans
//     the whole table (tens of milliseconds);
//   * the order list then loads each order's items with one query per order
//     (an N+1 loop).
//
//   order_service [--data-dir DIR] [--add-index]   serve the requests
//   order_service explain <base_id> [--data-dir DIR]
//       SQLite's EXPLAIN QUERY PLAN for the costliest statements of a trace,
//       with a hint when a statement scans a whole table.
//
// Where things go: the shop database is DIR/shop.db (DIR defaults to
// ./order-service-data); traces go to OSPROFILER_CONNECTION_STRING if set,
// else to the embedded store under OSPROFILER_HOME, which defaults here to
// DIR/osprofiler (so the demo never writes into ~/.osprofiler unasked).
// Single-threaded.
#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <random>
#include <regex>
#include <string>
#include <vector>

#include "osprofiler/config.h"
#include "osprofiler/notifier.h"
#include "osprofiler/profiler.h"
#include "osprofiler/sqlite/sqlite.h"
#include "osprofiler/stores.h"
#include "osprofiler/views.h"

namespace fs = std::filesystem;
namespace sql = osprofiler::sqlite;

namespace {

constexpr int kSchemaVersion = 3;
constexpr int kCustomers = 5000, kProducts = 500, kOrders = 300000;

// ---------------------------------------------------------------- data ----

void create_database(const std::string& path) {
  // Set-up is not a request: no profiler on this thread yet, so nothing here is traced.
  sql::connection db(path);
  db.exec("PRAGMA journal_mode = WAL; PRAGMA synchronous = NORMAL;");
  auto version = db.prepare("PRAGMA user_version");
  version.step();
  if (version.column_int(0) == kSchemaVersion) return;
  version.finalize();

  std::cerr << "order_service: creating the shop database (" << kOrders << " orders)...\n";
  db.exec(R"(
    DROP TABLE IF EXISTS order_items; DROP TABLE IF EXISTS orders;
    DROP TABLE IF EXISTS products; DROP TABLE IF EXISTS customers;
    CREATE TABLE customers (id INTEGER PRIMARY KEY, name TEXT NOT NULL, email TEXT NOT NULL);
    CREATE TABLE products (id INTEGER PRIMARY KEY, name TEXT NOT NULL, price_cents INTEGER NOT NULL,
                           stock INTEGER NOT NULL CHECK (stock >= 0));
    -- No index on customer_id: the deliberate slow query of this demo.
    CREATE TABLE orders (id INTEGER PRIMARY KEY, customer_id INTEGER NOT NULL, created TEXT NOT NULL,
                         total_cents INTEGER NOT NULL);
    CREATE TABLE order_items (id INTEGER PRIMARY KEY, order_id INTEGER NOT NULL, product_id INTEGER NOT NULL,
                              quantity INTEGER NOT NULL);
    CREATE INDEX order_items_order ON order_items (order_id);
  )");
  std::mt19937 rng(42);
  sql::transaction tx(db);
  {
    auto ins = db.prepare("INSERT INTO customers (id, name, email) VALUES (?, ?, ?)");
    for (int i = 1; i <= kCustomers; ++i) {
      ins.bind(1, i).bind(2, "customer " + std::to_string(i)).bind(3, "c" + std::to_string(i) + "@example.com");
      ins.execute();
    }
    auto prod = db.prepare("INSERT INTO products (id, name, price_cents, stock) VALUES (?, ?, ?, ?)");
    for (int i = 1; i <= kProducts; ++i) {
      prod.bind(1, i).bind(2, "product " + std::to_string(i)).bind(3, 100 + static_cast<int>(rng() % 9900)).bind(4, 1000);
      prod.execute();
    }
    prod.bind(1, kProducts + 1).bind(2, "last one in stock").bind(3, 4999).bind(4, 1);
    prod.execute();
    auto order = db.prepare("INSERT INTO orders (id, customer_id, created, total_cents) VALUES (?, ?, ?, ?)");
    auto item = db.prepare("INSERT INTO order_items (order_id, product_id, quantity) VALUES (?, ?, ?)");
    char created[32];
    for (int i = 1; i <= kOrders; ++i) {
      std::snprintf(created, sizeof created, "2026-%02d-%02dT%02d:%02d:00", 1 + i % 12, 1 + i % 28, i % 24, i % 60);
      order.bind(1, i).bind(2, 1 + static_cast<int>(rng() % kCustomers)).bind(3, created).bind(4, 0);
      order.execute();
      for (int k = 0, n = 1 + static_cast<int>(rng() % 3); k < n; ++k) {
        item.bind(1, i).bind(2, 1 + static_cast<int>(rng() % kProducts)).bind(3, 1 + static_cast<int>(rng() % 4));
        item.execute();
      }
    }
  }
  tx.commit();
  db.exec("UPDATE orders SET total_cents = (SELECT SUM(i.quantity * p.price_cents) FROM order_items i "
          "JOIN products p ON p.id = i.product_id WHERE i.order_id = orders.id); ANALYZE; PRAGMA user_version = " +
          std::to_string(kSchemaVersion));
}

// ------------------------------------------------------------- service ----

struct request {
  std::string method, path, query;
  int customer = 0, product = 0, quantity = 0;
};

struct response {
  int status = 200;
  std::string body;
};

// GET /products/<id>: one lookup by primary key.
response get_product(sql::connection& db, const request& r) {
  auto st = db.prepare("SELECT id, name, price_cents, stock FROM products WHERE id = ?");
  st.bind(1, r.product);
  if (!st.step()) return {404, "no such product"};
  return {200, st.column_string(1) + ", " + std::to_string(st.column_int(2)) + " cents, " + std::to_string(st.column_int(3)) +
                   " in stock"};
}

// GET /customers/<id>/orders: the slow one (full scan + N+1).
response list_orders(sql::connection& db, const request& r) {
  std::vector<std::pair<int, std::string>> orders;
  {
    auto st = db.prepare(
        "SELECT id, created, total_cents FROM orders WHERE customer_id = ? ORDER BY created DESC LIMIT 20");
    st.bind(1, r.customer);
    while (st.step()) orders.emplace_back(st.column_int(0), st.column_string(1));
  }
  std::string body;
  for (const auto& [id, created] : orders) {
    // One query per order: the N+1 loop (a JOIN with IN (...) would do it in one).
    auto items = db.prepare(
        "SELECT p.name, i.quantity FROM order_items i JOIN products p ON p.id = i.product_id WHERE i.order_id = ?");
    items.bind(1, id);
    body += "order " + std::to_string(id) + " (" + created + "):";
    while (items.step()) body += " " + std::to_string(items.column_int(1)) + "x " + items.column_string(0);
    body += "\n";
  }
  {
    osprofiler::trace render("render", {{"function", {{"name", "order_service.render_order_list"}}}});
    std::sort(body.begin(), body.end());  // stands for templating work
  }
  return {200, std::to_string(orders.size()) + " orders"};
}

// POST /orders: a transaction that takes stock and records the order. Out of
// stock violates CHECK (stock >= 0): the error is traced, then rolled back.
response place_order(sql::connection& db, const request& r) {
  try {
    sql::transaction tx(db, sql::transaction_mode::immediate);
    auto take = db.prepare("UPDATE products SET stock = stock - ? WHERE id = ?");
    take.bind(1, r.quantity).bind(2, r.product);
    take.execute();
    auto order = db.prepare("INSERT INTO orders (customer_id, created, total_cents) "
                            "SELECT ?, strftime('%Y-%m-%dT%H:%M:%S', 'now'), price_cents * ? FROM products WHERE id = ?");
    order.bind(1, r.customer).bind(2, r.quantity).bind(3, r.product);
    order.execute();
    const auto id = db.last_insert_rowid();
    auto item = db.prepare("INSERT INTO order_items (order_id, product_id, quantity) VALUES (?, ?, ?)");
    item.bind(1, id).bind(2, r.product).bind(3, r.quantity);
    item.execute();
    tx.commit();
    return {201, "order " + std::to_string(id)};
  } catch (const sql::error& e) {
    return {409, std::string("out of stock (") + e.what() + ")"};
  }
}

response route(sql::connection& db, const request& r) {
  if (r.method == "GET" && r.path.rfind("/products/", 0) == 0) return get_product(db, r);
  if (r.method == "GET" && r.path.find("/orders") != std::string::npos) return list_orders(db, r);
  if (r.method == "POST" && r.path == "/orders") return place_order(db, r);
  return {404, "not found"};
}

struct served {
  request req;
  response res;
  std::string base_id;
  double ms = 0;
};

// One request, one trace: a new profiler, a "wsgi" point around the handler.
served serve(const std::string& db_path, const request& r) {
  served s;
  s.req = r;
  osprofiler::init("demo-hmac-key");
  const auto t0 = std::chrono::steady_clock::now();
  {
    osprofiler::trace wsgi("wsgi", {{"request", {{"method", r.method}, {"path", r.path}, {"query", r.query}, {"scheme", "http"}}}});
    sql::connection db(db_path);  // a fresh connection per request: its connect/close are traced too
    s.res = route(db, r);
    wsgi.set_stop_info({{"response", {{"status", s.res.status}}}});
  }
  s.ms = std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - t0).count();
  if (auto* p = osprofiler::get()) s.base_id = p->base_id();
  osprofiler::clean();
  return s;
}

int serve_all(const fs::path& dir, bool add_index) {
  const std::string db_path = (dir / "shop.db").string();
  create_database(db_path);
  {
    sql::connection db(db_path);
    db.exec(add_index ? "CREATE INDEX IF NOT EXISTS orders_customer ON orders (customer_id)"
                      : "DROP INDEX IF EXISTS orders_customer");
  }

  osprofiler::options o;
  o.enabled = true;
  o.trace_sql = true;  // statement text in db points (off by default, like trace_sqlalchemy)
  o.connection_string = osprofiler::apply_environment({}).connection_string;
  osprofiler::init_from_conf(o, "shop", "order_service");

  const std::vector<request> requests = {
      {"GET", "/products/42", "", 0, 42, 0},
      {"GET", "/customers/1234/orders", "limit=20", 1234, 0, 0},
      {"POST", "/orders", "", 1234, 7, 2},
      {"GET", "/products/9999", "", 0, 9999, 0},
      {"POST", "/orders", "", 77, kProducts + 1, 3},  // only one left: rejected
  };
  std::vector<served> done;
  for (const auto& r : requests) done.push_back(serve(db_path, r));
  if (!osprofiler::notifier::flush(std::chrono::seconds(10))) {
    std::cerr << "order_service: the trace store did not take every trace in time\n";
  }

  std::printf("%-6s %-26s %-6s %10s  %s\n", "method", "path", "status", "time", "trace (base id)");
  const served* slowest = &done.front();
  for (const auto& s : done) {
    std::printf("%-6s %-26s %-6d %7.1f ms  %s\n", s.req.method.c_str(), s.req.path.c_str(), s.res.status, s.ms,
                s.base_id.c_str());
    if (s.ms > slowest->ms) slowest = &s;
  }
  const auto c = osprofiler::notifier::stats();
  std::printf("\n%llu notifications stored in %s\n", static_cast<unsigned long long>(c.sent),
              osprofiler::redact(o.connection_string.empty() ? osprofiler::default_connection_string() : o.connection_string).c_str());
  std::printf("slowest request: %s %s (%.1f ms), trace %s\n", slowest->req.method.c_str(), slowest->req.path.c_str(),
              slowest->ms, slowest->base_id.c_str());
  std::ofstream(dir / "slowest-trace") << slowest->base_id << '\n';
  return 0;
}

// ------------------------------------------------------------- explain ----

// Columns compared in a statement shape's WHERE clause ("o.customer_id = ?" -> customer_id).
std::vector<std::string> where_columns(const std::string& shape) {
  std::vector<std::string> cols;
  auto w = shape.find(" WHERE ");
  if (w == std::string::npos) return cols;
  static const std::regex cmp(R"(([A-Za-z_][A-Za-z0-9_]*\.)?([A-Za-z_][A-Za-z0-9_]*)\s*(=|<|>|<=|>=|IN|LIKE)\s*(\?|\())");
  const std::string tail = shape.substr(w);
  for (std::sregex_iterator it(tail.begin(), tail.end(), cmp), end; it != end; ++it) {
    if (std::find(cols.begin(), cols.end(), (*it)[2].str()) == cols.end()) cols.push_back((*it)[2].str());
  }
  return cols;
}

int explain(const fs::path& dir, const std::string& base_id) {
  namespace views = osprofiler::views;
  views::trace_model m;
  try {
    auto t = views::load_trace_from_store(base_id, osprofiler::apply_environment({}).connection_string);
    m = views::make_model(std::move(t.report), &t.times);
  } catch (const std::exception& e) {
    std::cerr << "order_service: " << e.what() << '\n';
    return 1;
  }
  const auto q = views::summarise_queries(m);
  sql::connection db((dir / "shop.db").string(), SQLITE_OPEN_READONLY);
  std::printf("Why is it slow? SQLite's plan for the costliest statements of trace %s:\n", base_id.c_str());
  std::size_t shown = 0;
  for (const auto& s : q.shapes) {
    if (shown == 3) break;
    const auto& p = m.points[s.slowest_point];
    if (s.shape.size() < 6 || (s.shape.compare(0, 6, "SELECT") != 0 && s.shape.compare(0, 6, "select") != 0)) continue;
    ++shown;
    std::printf("\n  %s in %zu run%s: %s\n", views::format_duration(s.total_us).c_str(), s.count, s.count == 1 ? "" : "s",
                s.shape.c_str());
    auto plan = db.prepare("EXPLAIN QUERY PLAN " + std::string(p.statement));
    while (plan.step()) {
      const std::string detail = plan.column_string(3);
      std::printf("      %s", detail.c_str());
      static const std::regex scan(R"(^SCAN (\w+)(?: AS \w+)?$)");
      std::smatch hit;
      if (std::regex_match(detail, hit, scan)) {
        const auto cols = where_columns(s.shape);
        std::string table = hit[1].str();
        std::printf("   <- full table scan: missing index?");
        if (!cols.empty()) {
          std::string list;
          for (const auto& c : cols) list += (list.empty() ? "" : ", ") + c;
          std::printf(" try CREATE INDEX %s_%s ON %s (%s)", table.c_str(), cols.front().c_str(), table.c_str(), list.c_str());
        }
      }
      std::printf("\n");
    }
    if (s.n_plus_one) {
      std::printf("      <- N+1: run %zu times under one parent; load them in one query (JOIN / IN (...))\n", s.count);
    }
  }
  if (!shown) std::printf("  (no SELECT statements in this trace)\n");
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  fs::path dir = "order-service-data";
  bool add_index = false;
  std::string mode = "serve", base_id;
  for (int i = 1; i < argc; ++i) {
    const std::string a = argv[i];
    if (a == "--data-dir" && i + 1 < argc) {
      dir = argv[++i];
    } else if (a == "--add-index") {
      add_index = true;
    } else if (a == "explain" && i + 1 < argc) {
      mode = "explain";
      base_id = argv[++i];
    } else {
      std::cerr << "usage: order_service [--data-dir DIR] [--add-index]\n"
                   "       order_service explain <base_id> [--data-dir DIR]\n";
      return 2;
    }
  }
  try {
    fs::create_directories(dir);
    dir = fs::absolute(dir);
    // Traces stay next to the demo's data unless told otherwise.
    if (!std::getenv("OSPROFILER_HOME") && !std::getenv("OSPROFILER_CONNECTION_STRING")) {
      ::setenv("OSPROFILER_HOME", (dir / "osprofiler").c_str(), 1);
    }
    if (const char* home = std::getenv("OSPROFILER_HOME")) fs::create_directories(home);
    osprofiler::register_stores();
    return mode == "explain" ? explain(dir, base_id) : serve_all(dir, add_index);
  } catch (const std::exception& e) {
    std::cerr << "order_service: " << e.what() << '\n';
    return 1;
  }
}
