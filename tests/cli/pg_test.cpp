// Python OSProfiler and the `osprofiler` command on one PostgreSQL store:
// Python writes a trace with its own driver; both CLIs read it back; ours
// also renders the JSON file Python's `trace show --json` wrote.
#include <fstream>
#include <sstream>

#include <gtest/gtest.h>

#include "osprofiler/store.h"
#include "test_support.h"

using osprofiler::testing::run;

namespace {

std::string cli() { return (osprofiler::testing::binary_dir() / "bin" / "osprofiler").string(); }

std::string slurp(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::stringstream s;
  s << in.rdbuf();
  return s.str();
}

// run() into a fresh output string; returns the exit code.
int sh(const std::string& cmd, std::string* out, bool merge = true) {
  out->clear();
  return run(cmd, out, merge);
}

// A request traced by Python OSProfiler into `uri`: a wsgi point, a slow
// query, an N+1 loop and a failed statement. Returns the base id.
std::string python_writes_trace(const std::string& uri) {
  const auto dir = osprofiler::testing::temp_dir("cli-pg-py");
  const std::string script = (dir / "write.py").string();
  std::ofstream(script) << R"py(import sys, time
from osprofiler import notifier, profiler
notifier.set(notifier.create(sys.argv[1], project="shop", service="orders", host="pyhost"))
profiler.init("key")
with profiler.Trace("wsgi", info={"request": {"method": "GET", "path": "/orders/7"}}):
    with profiler.Trace("db", info={"db": {"statement": "SELECT * FROM orders WHERE customer = 7", "params": {}}}):
        time.sleep(0.03)
    for i in range(4):
        with profiler.Trace("db", info={"db": {"statement": "SELECT name FROM products WHERE id = %d" % i, "params": {}}}):
            pass
    try:
        with profiler.Trace("db", info={"db": {"statement": "INSERT INTO audit VALUES (1)", "params": {}}}):
            raise ValueError("duplicate key")
    except ValueError:
        pass
print(profiler.get().get_base_id())
)py";
  std::string out;
  const int rc = run(osprofiler::testing::python() + " " + script + " '" + uri + "' 2>/dev/null", &out, false);
  if (rc != 0) return {};
  while (!out.empty() && (out.back() == '\n' || out.back() == '\r')) out.pop_back();
  return out;
}

}  // namespace

TEST(CommandOnPostgres, ReadsWhatPythonWroteLikePythonDoes) {
  const std::string uri = osprofiler::testing::pg_fresh_database("cli");
  const std::string base = python_writes_trace(uri);
  ASSERT_EQ(base.size(), 36u) << "python wrote no trace: '" << base << "'";
  const auto dir = osprofiler::testing::temp_dir("cli-pg");

  // Python's own CLI writes the report...
  const std::string py_json = (dir / "python.json").string();
  std::string out;
  ASSERT_EQ(sh("/usr/bin/osprofiler trace show --json " + base + " --connection-string '" + uri + "' --out " + py_json, &out), 0) << out;
  const auto python_report = nlohmann::json::parse(slurp(py_json));

  // ...and ours, from the same store, prints the same report.
  ASSERT_EQ(sh(cli() + " trace show --json " + base + " --connection-string '" + uri + "'", &out, false), 0) << out;
  EXPECT_EQ(nlohmann::json::parse(out), python_report);

  // Ours renders Python's JSON file: tree, slowest call, summary, N+1, error.
  ASSERT_EQ(sh("NO_COLOR=1 " + cli() + " trace show " + py_json, &out, false), 0) << out;
  EXPECT_NE(out.find("wsgi GET /orders/7"), std::string::npos) << out;
  EXPECT_NE(out.find("db SELECT * FROM orders WHERE customer = 7"), std::string::npos) << out;
  EXPECT_NE(out.find("◀ slowest #1"), std::string::npos) << out;
  EXPECT_NE(out.find("✗ ValueError: duplicate key"), std::string::npos) << out;
  EXPECT_NE(out.find("      4 "), std::string::npos) << out;
  EXPECT_NE(out.find("SELECT name FROM products WHERE id = ?  [N+1]"), std::string::npos) << out;
  EXPECT_NE(out.find("4 × SELECT name FROM products WHERE id = ?"), std::string::npos) << out;

  // trace list names it, as Python's does.
  ASSERT_EQ(sh(cli() + " trace list --connection-string '" + uri + "'", &out, false), 0) << out;
  EXPECT_NE(out.find("| " + base + " |"), std::string::npos) << out;
  std::string py_list;
  ASSERT_EQ(sh("/usr/bin/osprofiler trace list --connection-string '" + uri + "'", &py_list), 0) << py_list;
  EXPECT_NE(py_list.find("| " + base + " |"), std::string::npos) << py_list;

  // HTML and DOT from the same store.
  ASSERT_EQ(sh(cli() + " trace show --dot " + base + " --connection-string '" + uri + "'", &out, false), 0) << out;
  EXPECT_NE(out.find("orders:db"), std::string::npos) << out;
  ASSERT_EQ(sh(cli() + " trace show --html " + base + " --connection-string '" + uri + "'", &out, false), 0);
  EXPECT_NE(out.find("SELECT name FROM products WHERE id = ?"), std::string::npos);
}

TEST(CommandOnPostgres, UnknownTraceAndUnreachableStore) {
  const std::string uri = osprofiler::testing::pg_fresh_database("cli");
  std::string err;
  const std::string missing = "00000000-dead-4000-8000-000000000000";
  EXPECT_EQ(sh(cli() + " trace show " + missing + " --connection-string '" + uri + "' 2>&1 >/dev/null", &err, false), 1);
  EXPECT_EQ(err.rfind("osprofiler: trace " + missing + " not found in " + osprofiler::redact(uri), 0), 0u) << err;

  // A password in the connection string never reaches the message.
  const std::string dead = "postgresql://alice:s3cr3tpw@127.0.0.1:1/nodb";
  EXPECT_EQ(sh(cli() + " trace show " + missing + " --connection-string '" + dead + "' 2>&1 >/dev/null", &err, false), 1);
  EXPECT_EQ(err.rfind("osprofiler: cannot ", 0), 0u) << err;
  EXPECT_NE(err.find("postgresql://alice:***@127.0.0.1:1/nodb"), std::string::npos) << err;
  EXPECT_EQ(err.find("s3cr3tpw"), std::string::npos) << err;
  EXPECT_EQ(std::count(err.begin(), err.end(), '\n'), 1) << err;
  EXPECT_EQ(sh(cli() + " trace list --connection-string '" + dead + "' 2>&1 >/dev/null", &err, false), 1);
  EXPECT_EQ(err.find("s3cr3tpw"), std::string::npos) << err;
}
