// End to end with the real Python OSProfiler: points made by the SQLite
// adapter go to the postgresql:// store on the fixture server, and
// `osprofiler trace show --json` (python3-osprofiler) must rebuild the tree:
// the request, the transaction with its begin / execute / commit children,
// statement text, rows, and the failed statement's exception.
#include <gtest/gtest.h>
#include <libpq-fe.h>

#include <unistd.h>

#include <functional>
#include <string>

#include "osprofiler/notifier.h"
#include "osprofiler/profiler.h"
#include "osprofiler/sqlite/sqlite.h"
#include "osprofiler/stores.h"
#include "test_support.h"

namespace osprofiler::testing {
namespace {

using json = nlohmann::json;

void pg_exec(const std::string& uri, const std::string& statement) {
  PGconn* c = PQconnectdb(uri.c_str());
  ASSERT_EQ(PQstatus(c), CONNECTION_OK) << PQerrorMessage(c);
  PGresult* r = PQexec(c, statement.c_str());
  EXPECT_EQ(PQresultStatus(r), PGRES_COMMAND_OK) << PQerrorMessage(c);
  PQclear(r);
  PQfinish(c);
}

std::string fresh_database() {
  const std::string name = "sqlite_interop_" + std::to_string(getpid());
  pg_exec(pg_uri(), "DROP DATABASE IF EXISTS " + name);
  pg_exec(pg_uri(), "CREATE DATABASE " + name);
  const auto uri = pg_uri();
  return uri.substr(0, uri.rfind('/') + 1) + name;
}

const json* find_node(const json& nodes, const std::function<bool(const json&)>& match) {
  for (const auto& n : nodes) {
    if (match(n)) return &n;
    if (const json* inner = find_node(n["children"], match)) return inner;
  }
  return nullptr;
}

std::string api_of(const json& node) {
  const auto& start = node["info"]["meta.raw_payload.db-start"];
  return start.is_object() ? start["info"]["db"].value("api", "") : "";
}

TEST(sqlite_interop, python_osprofiler_rebuilds_the_tree) {
  register_stores();
  const std::string uri = fresh_database();
  options o;
  o.enabled = true;
  o.trace_sql = true;
  set_options(o);
  notifier::set(notifier::create(uri));
  init("interop-key");
  const std::string base = get()->base_id();
  {
    osprofiler::trace request("wsgi", {{"request", {{"path", "/orders"}}}});
    sqlite::connection c(":memory:");
    c.exec("CREATE TABLE orders (id INTEGER PRIMARY KEY, total REAL)");
    {
      sqlite::transaction tx(c);
      sqlite::statement ins = c.prepare("INSERT INTO orders (total) VALUES (?)");
      for (double total : {9.5, 20.0}) {
        ins.bind(1, total);
        ins.execute();
      }
      tx.commit();
    }
    try {
      c.exec("INSERT INTO orders (id, total) VALUES (1, 0)");
    } catch (const sqlite::error&) {
    }
  }
  clean();
  notifier::flush();
  notifier::set(std::shared_ptr<collector>{});
  set_options(options{});

  std::string out;
  ASSERT_EQ(run(python() + " -m osprofiler.cmd.shell trace show --json " + base + " --connection-string '" + uri + "'",
                &out, false),
            0)
      << out;
  const json report = json::parse(out);
  ASSERT_EQ(report["children"].size(), 1u) << report.dump(1);
  const json& request = report["children"][0];
  EXPECT_EQ(request["info"]["name"], "wsgi");

  const json* tx = find_node(request["children"], [](const json& n) { return api_of(n) == "transaction"; });
  ASSERT_NE(tx, nullptr) << report.dump(1);
  std::vector<std::string> children;
  for (const auto& n : (*tx)["children"]) children.push_back(api_of(n));
  EXPECT_EQ(children, (std::vector<std::string>{"begin", "prepare", "execute", "execute", "commit"}))
      << tx->dump(1);
  const json& insert = (*tx)["children"][2];
  EXPECT_EQ(insert["info"]["meta.raw_payload.db-start"]["info"]["db"]["statement"],
            "INSERT INTO orders (total) VALUES (?)");
  EXPECT_EQ(insert["info"]["meta.raw_payload.db-stop"]["info"]["db"]["rows"], 1);
  EXPECT_EQ(insert["info"]["exception"], "None");

  const json* failed = find_node(request["children"], [](const json& n) {
    return n["info"].value("exception", "None") != "None";
  });
  ASSERT_NE(failed, nullptr) << report.dump(1);
  EXPECT_EQ((*failed)["info"]["exception"], "osprofiler::sqlite::error");
  EXPECT_EQ((*failed)["info"]["meta.raw_payload.db-stop"]["info"]["db"]["code"], SQLITE_CONSTRAINT);
  // connect, CREATE, transaction, begin, prepare, 2 inserts, commit, failed insert, close
  EXPECT_EQ(report["stats"]["db"]["count"], 10) << report["stats"].dump();
}

}  // namespace
}  // namespace osprofiler::testing
