// The scenarios of shared/spec/adapter-contract.md, run against every
// adapter through its adapter_context (see conformance.h).
#include "conformance.h"

#include <algorithm>
#include <map>
#include <set>

#include "osprofiler/profiler.h"
#include "test_support.h"

namespace osprofiler::testing {
namespace {

using json = nlohmann::json;

bool is_start(const notification& n) { return n.name.size() > 6 && n.name.compare(n.name.size() - 6, 6, "-start") == 0; }

std::string api_of(const notification& n) {
  if (!n.info.contains("db") || !n.info["db"].is_object()) return "";
  return n.info["db"].value("api", "");
}

// The starts whose db.api is `api`.
std::vector<notification> starts(const std::vector<notification>& all, const std::string& api) {
  std::vector<notification> out;
  for (const auto& n : all) {
    if (is_start(n) && api_of(n) == api) out.push_back(n);
  }
  return out;
}

const notification* stop_of(const std::vector<notification>& all, const std::string& trace_id) {
  for (const auto& n : all) {
    if (!is_start(n) && n.trace_id == trace_id) return &n;
  }
  return nullptr;
}

std::string everything(const std::vector<notification>& all) {
  std::string text;
  for (const auto& n : all) text += dump_json(n.to_json()) + "\n";
  return text;
}

class traced_test {
 public:
  explicit traced_test(options o = {}) : scope(o) { init("conformance-key"); }
  ~traced_test() { clean(); }
  tracing_scope scope;
};

}  // namespace

TEST_P(conformance, nothing_is_recorded_when_disabled) {
  auto sink = std::make_shared<memory_collector>();
  set_options(options{});  // enabled = false, the default
  notifier::set(sink);
  init("k");
  ctx->connect();
  ctx->exec("CREATE TABLE conf_off (id INTEGER PRIMARY KEY, v TEXT)");
  ctx->query("SELECT id, v FROM conf_off");
  ctx->close();
  clean();
  notifier::flush();
  notifier::set(std::shared_ptr<collector>{});
  EXPECT_TRUE(sink->take().empty());
}

TEST_P(conformance, nothing_is_recorded_without_a_profiler_on_the_thread) {
  tracing_scope scope;
  clean();
  ctx->connect();
  ctx->exec("CREATE TABLE conf_noprof (id INTEGER PRIMARY KEY)");
  ctx->close();
  EXPECT_TRUE(scope.collect().empty());
}

TEST_P(conformance, every_api_call_is_a_trace_point) {
  traced_test t;
  ctx->connect();
  ctx->exec("CREATE TABLE conf_calls (id INTEGER PRIMARY KEY, v TEXT)");
  ctx->begin();
  ctx->exec("INSERT INTO conf_calls (id, v) VALUES (1, 'a')");
  ctx->commit();
  ctx->begin();
  ctx->exec("INSERT INTO conf_calls (id, v) VALUES (2, 'b')");
  ctx->rollback();
  auto rows = ctx->query("SELECT id, v FROM conf_calls");
  ctx->close();
  ASSERT_EQ(rows.size(), 1u);
  auto all = t.scope.collect();

  for (const char* api : {"connect", "execute", "begin", "commit", "rollback", "close"}) {
    EXPECT_FALSE(starts(all, api).empty()) << "no trace point with db.api=" << api << "\n" << everything(all);
  }
  std::size_t start_count = 0;
  for (const auto& n : all) {
    if (!is_start(n)) continue;
    ++start_count;
    EXPECT_EQ(n.name, "db-start");
    const auto& db = n.info["db"];
    EXPECT_EQ(db.value("system", ""), ctx->system()) << dump_json(n.to_json());
    EXPECT_EQ(db.value("namespace", ""), ctx->namespace_()) << dump_json(n.to_json());
    EXPECT_NE(stop_of(all, n.trace_id), nullptr) << "no stop for " << dump_json(n.to_json());
    EXPECT_TRUE(is_uuid_like(n.trace_id));
  }
  EXPECT_EQ(all.size(), 2 * start_count) << "every start has exactly one stop";
}

TEST_P(conformance, statement_text_only_with_trace_sql) {
  const std::string create = "CREATE TABLE conf_sql (id INTEGER PRIMARY KEY, secret_column TEXT)";
  const std::string select = "SELECT id, secret_column FROM conf_sql";
  {
    traced_test t;  // trace_sql off
    ctx->connect();
    ctx->exec(create);
    ctx->query(select);
    ctx->close();
    auto all = t.scope.collect();
    ASSERT_FALSE(starts(all, "execute").empty());
    EXPECT_EQ(everything(all).find("secret_column"), std::string::npos) << "SQL text left the process";
  }
  {
    options o;
    o.trace_sql = true;
    traced_test t(o);
    ctx->connect();
    ctx->query(select);
    ctx->close();
    auto all = t.scope.collect();
    std::set<std::string> statements;
    for (const auto& n : starts(all, "execute")) statements.insert(n.info["db"].value("statement", ""));
    EXPECT_TRUE(statements.count(select)) << everything(all);
  }
}

TEST_P(conformance, trace_sql_takes_effect_without_reconnecting) {
  traced_test t;
  ctx->connect();
  ctx->exec("CREATE TABLE conf_toggle (id INTEGER PRIMARY KEY)");
  auto o = current_options();
  o.trace_sql = true;
  set_options(o);
  ctx->exec("INSERT INTO conf_toggle (id) VALUES (7)");
  o.trace_sql = false;
  set_options(o);
  ctx->exec("DELETE FROM conf_toggle");
  ctx->close();
  auto all = t.scope.collect();
  std::vector<std::string> seen;
  for (const auto& n : starts(all, "execute")) seen.push_back(n.info["db"].value("statement", "<none>"));
  ASSERT_GE(seen.size(), 3u);
  EXPECT_EQ(seen[seen.size() - 3], "<none>");
  EXPECT_EQ(seen[seen.size() - 2], "INSERT INTO conf_toggle (id) VALUES (7)");
  EXPECT_EQ(seen[seen.size() - 1], "<none>");
}

TEST_P(conformance, params_only_with_trace_sql_params) {
  const std::string sql = "SELECT id FROM conf_params WHERE id = " + ctx->placeholder();
  {
    traced_test t;
    ctx->connect();
    ctx->exec("CREATE TABLE conf_params (id INTEGER PRIMARY KEY)");
    ctx->exec("INSERT INTO conf_params (id) VALUES (987654)");
    auto rows = ctx->query_bound(sql, 987654);
    ctx->close();
    ASSERT_EQ(rows.size(), 1u);
    auto all = t.scope.collect();
    EXPECT_EQ(everything(all).find("987654"), std::string::npos) << "a bind value left the process";
  }
  {
    options o;
    o.trace_sql = true;
    o.trace_sql_params = true;
    traced_test t(o);
    ctx->connect();
    auto rows = ctx->query_bound(sql, 987654);
    ctx->close();
    ASSERT_EQ(rows.size(), 1u);
    auto all = t.scope.collect();
    bool found = false;
    for (const auto& n : starts(all, "execute")) {
      const auto& db = n.info["db"];
      if (db.value("statement", "") == sql && db.contains("params")) {
        found = dump_json(db["params"]).find("987654") != std::string::npos;
      }
    }
    EXPECT_TRUE(found) << everything(all);
  }
}

TEST_P(conformance, errors_are_recorded_then_rethrown_unchanged) {
  traced_test t;
  ctx->connect();
  ctx->exec("CREATE TABLE conf_err (id INTEGER PRIMARY KEY)");
  ctx->exec("INSERT INTO conf_err (id) VALUES (1)");
  EXPECT_TRUE(ctx->throws_native([&] { ctx->exec("INSERT INTO conf_err (id) VALUES (1)"); }));
  ctx->close();
  auto all = t.scope.collect();
  const notification* failed = nullptr;
  for (const auto& n : all) {
    if (!is_start(n) && n.info.contains("etype")) failed = &n;
  }
  ASSERT_NE(failed, nullptr) << everything(all);
  EXPECT_FALSE(failed->info.value("message", "").empty());
  ASSERT_TRUE(failed->info.contains("db")) << dump_json(failed->to_json());
  const auto& code = failed->info["db"][ctx->error_code_key()];
  EXPECT_EQ(code.is_string() ? code.get<std::string>() : code.dump(), ctx->unique_violation_code())
      << dump_json(failed->to_json());
}

TEST_P(conformance, stop_info_carries_row_counts) {
  traced_test t;
  ctx->connect();
  ctx->exec("CREATE TABLE conf_rows (id INTEGER PRIMARY KEY, v INTEGER)");
  for (int i = 1; i <= 3; ++i) ctx->exec("INSERT INTO conf_rows (id, v) VALUES (" + std::to_string(i) + ", 0)");
  EXPECT_EQ(ctx->exec("UPDATE conf_rows SET v = 1"), 3);
  EXPECT_EQ(ctx->query("SELECT id FROM conf_rows").size(), 3u);
  ctx->close();
  auto all = t.scope.collect();
  std::vector<std::int64_t> rows;
  for (const auto& n : starts(all, "execute")) {
    const notification* stop = stop_of(all, n.trace_id);
    ASSERT_NE(stop, nullptr);
    if (stop->info.contains("db") && stop->info["db"].contains("rows")) rows.push_back(stop->info["db"]["rows"]);
  }
  ASSERT_GE(rows.size(), 2u) << everything(all);
  EXPECT_EQ(rows[rows.size() - 2], 3) << "UPDATE affected rows";
  EXPECT_EQ(rows[rows.size() - 1], 3) << "SELECT returned rows";
}

TEST_P(conformance, points_nest_under_the_application_and_the_transaction) {
  traced_test t;
  std::string request_id;
  {
    osprofiler::trace request("wsgi", {{"request", {{"path", "/orders"}}}});
    request_id = get()->id();
    ctx->connect("sql");
    ctx->exec("CREATE TABLE conf_nest (id INTEGER PRIMARY KEY)");
    ctx->begin();
    ctx->exec("INSERT INTO conf_nest (id) VALUES (1)");
    ctx->commit();
    ctx->close();
  }
  auto all = t.scope.collect();
  auto connects = starts(all, "connect");
  ASSERT_EQ(connects.size(), 1u) << everything(all);
  EXPECT_EQ(connects[0].parent_id, request_id);
  EXPECT_EQ(connects[0].name, "sql-start") << "point name set per connection";

  auto tx = starts(all, "transaction");
  ASSERT_EQ(tx.size(), 1u) << "begin..commit is one transaction point\n" << everything(all);
  EXPECT_EQ(tx[0].parent_id, request_id);
  std::map<std::string, std::string> parent_by_api;
  for (const auto& n : all) {
    if (is_start(n) && !api_of(n).empty()) parent_by_api[api_of(n) + ":" + n.info["db"].value("statement", "")] = n.parent_id;
  }
  auto inserts = starts(all, "execute");
  bool insert_in_tx = false;
  for (const auto& n : inserts) insert_in_tx |= n.parent_id == tx[0].trace_id;
  EXPECT_TRUE(insert_in_tx) << "statements in a transaction are its children\n" << everything(all);
  ASSERT_FALSE(starts(all, "commit").empty());
  EXPECT_EQ(starts(all, "commit")[0].parent_id, tx[0].trace_id);
}

}  // namespace osprofiler::testing
