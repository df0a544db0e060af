// The `osprofiler` command as a user runs it: the real binary on real stores
// (a JSON-lines file, the embedded SQLite store when built), its exit codes
// and its one-line errors.
#include <fstream>
#include <sstream>

#include <gtest/gtest.h>

#include "osprofiler/notifier.h"
#include "osprofiler/store.h"
#ifdef OSPROFILER_HAVE_STORES
#include <sqlite3.h>

#include "osprofiler/stores.h"
#endif
#include "test_support.h"

namespace fs = std::filesystem;
using osprofiler::testing::run;

namespace {

const std::string kBase = "6f1c2a1e-0000-4000-8000-000000000001";

std::string data(const std::string& name) { return std::string(CLI_TEST_DATA) + "/" + name; }
std::string cli() { return (osprofiler::testing::binary_dir() / "bin" / "osprofiler").string(); }

std::string slurp(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::stringstream s;
  s << in.rdbuf();
  return s.str();
}

// Runs the command with a clean environment for the store settings; returns
// the exit status, stdout in *out and stderr in *err.
int osp(const std::string& args, std::string* out, std::string* err = nullptr, const std::string& env = "") {
  static int n = 0;
  const auto dir = osprofiler::testing::temp_dir("cli-cmd");
  const std::string errfile = (dir / ("err" + std::to_string(n++))).string();
  if (out) out->clear();
  const int status = run("env -u OSPROFILER_CONNECTION_STRING -u NO_COLOR OSPROFILER_HOME=" + dir.string() + " " + env + " " +
                             cli() + " " + args + " 2>" + errfile,
                         out, false);
  if (err) *err = slurp(errfile);
  return status;  // run() gives the exit code
}

std::vector<osprofiler::notification> shop_notifications() {
  std::vector<osprofiler::notification> out;
  std::ifstream in(data("shop_trace.jsonl"));
  std::string line;
  while (std::getline(in, line)) out.push_back(osprofiler::notification::from_json(nlohmann::json::parse(line)));
  return out;
}

}  // namespace

TEST(Command, ShowsAJsonLinesFileLikeTheGolden) {
  std::string out, err;
  ASSERT_EQ(osp("trace show " + data("shop_trace.jsonl"), &out, &err), 0) << err;
  EXPECT_EQ(out, slurp(data("shop_trace.txt")));  // not a TTY: no colour
  EXPECT_EQ(err, "");
}

TEST(Command, ShowsFromAFileStoreInEveryFormat) {
  const std::string cs = "--connection-string file://" + data("shop_trace.jsonl");
  std::string out, err;
  ASSERT_EQ(osp("trace show " + kBase + " " + cs + " --json", &out, &err), 0) << err;
  const auto report = nlohmann::json::parse(out);
  EXPECT_EQ(report["children"].size(), 1u);
  EXPECT_EQ(report["stats"]["db"]["count"], 19);
  EXPECT_EQ(report["info"]["finished"], 60);

  ASSERT_EQ(osp("trace show " + kBase + " " + cs + " --dot", &out, &err), 0) << err;
  EXPECT_EQ(out.rfind("digraph trace {", 0), 0u);
  // 20 points under the "total" node: 20 edges, the last point under the transaction.
  EXPECT_EQ(std::count(out.begin(), out.end(), '>'), 20);
  EXPECT_NE(out.find("\t16 -> 20\n"), std::string::npos) << out;

  const auto dir = osprofiler::testing::temp_dir("cli-html");
  const std::string html = (dir / "r.html").string();
  ASSERT_EQ(osp("trace show " + kBase + " " + cs + " --html --out " + html, &out, &err), 0) << err;
  EXPECT_EQ(out, "");
  EXPECT_NE(err.find("HTML report written to " + html), std::string::npos) << err;
  EXPECT_NE(slurp(html).find("SELECT name, price FROM products WHERE id = ?"), std::string::npos);

  // The env var is read when the flag is absent.
  ASSERT_EQ(osp("trace show " + kBase + " --no-summary", &out, &err,
                "OSPROFILER_CONNECTION_STRING=file://" + data("shop_trace.jsonl")),
            0)
      << err;
  EXPECT_NE(out.find("wsgi GET /customers/17/orders"), std::string::npos);
  EXPECT_EQ(out.find("Query summary"), std::string::npos);

  ASSERT_EQ(osp("trace list " + cs, &out, &err), 0) << err;
  EXPECT_EQ(out,
            "+--------------------------------------+----------------------------+\n"
            "| base_id                              | timestamp                  |\n"
            "+--------------------------------------+----------------------------+\n"
            "| 6f1c2a1e-0000-4000-8000-000000000001 | 2026-11-21T16:00:00.000000 |\n"
            "+--------------------------------------+----------------------------+\n");
}

TEST(Command, ListsErrorTraces) {
  // Two traces: the shop trace (with an IntegrityError) and a clean one.
  const auto dir = osprofiler::testing::temp_dir("cli-list");
  const std::string file = (dir / "two.jsonl").string();
  const std::string clean = "0c1ea000-0000-4000-8000-000000000002";
  {
    std::ofstream f(file);
    for (auto n : shop_notifications()) {
      f << osprofiler::dump_json(n.to_json()) << '\n';
      if (n.name == "wsgi-start" || n.name == "wsgi-stop") {
        n.base_id = n.parent_id = clean;
        n.timestamp[3] = '7';  // 2027: listed after the shop trace
        f << osprofiler::dump_json(n.to_json()) << '\n';
      }
    }
  }
  const std::string cs = " --connection-string file://" + file;
  std::string out, err;
  ASSERT_EQ(osp("trace list" + cs, &out, &err), 0) << err;
  EXPECT_NE(out.find(kBase), std::string::npos);
  EXPECT_NE(out.find(clean), std::string::npos);
  EXPECT_LT(out.find(kBase), out.find(clean));
  ASSERT_EQ(osp("trace list --error-trace" + cs, &out, &err), 0) << err;
  EXPECT_NE(out.find(kBase), std::string::npos);
  EXPECT_EQ(out.find(clean), std::string::npos);
  ASSERT_EQ(osp("trace list --error-trace True" + cs, &out, &err), 0) << err;
  EXPECT_EQ(out.find(clean), std::string::npos);
  ASSERT_EQ(osp("trace list --error-trace False" + cs, &out, &err), 0) << err;
  EXPECT_NE(out.find(clean), std::string::npos);
  // Several traces in one file: `trace show <file>` asks which one.
  EXPECT_EQ(osp("trace show " + file, &out, &err), 1);
  EXPECT_NE(err.find("holds 2 traces"), std::string::npos) << err;
}

TEST(Command, ErrorsAreOneLineAndNonZero) {
  std::string out, err;
  const auto dir = osprofiler::testing::temp_dir("cli-err");

  EXPECT_EQ(osp("trace show 6f1c2a1e-0000-4000-8000-00000000abcd --connection-string file://" + data("shop_trace.jsonl"), &out, &err), 1);
  EXPECT_EQ(err, "osprofiler: trace 6f1c2a1e-0000-4000-8000-00000000abcd not found in file://" + data("shop_trace.jsonl") +
                     " (searched that store; check the id with `osprofiler trace list`, or pass --connection-string)\n");
  EXPECT_EQ(out, "");

  const std::string bad = (dir / "bad.json").string();
  std::ofstream(bad) << "{\"children\": [\n  {\"info\": }\n]}\n";
  EXPECT_EQ(osp("trace show " + bad, &out, &err), 1);
  EXPECT_EQ(err.rfind("osprofiler: corrupt trace file '" + bad + "': line 2, column 12", 0), 0u) << err;
  EXPECT_EQ(std::count(err.begin(), err.end(), '\n'), 1);

  EXPECT_EQ(osp("trace show not-a-trace", &out, &err), 1);
  EXPECT_EQ(err, "osprofiler: 'not-a-trace' is neither a trace id (a UUID) nor a trace file\n");

  EXPECT_EQ(osp("trace show " + kBase + " --connection-string nosuch://x", &out, &err), 1);
  EXPECT_NE(err.find("unknown scheme 'nosuch'"), std::string::npos) << err;
  EXPECT_EQ(std::count(err.begin(), err.end(), '\n'), 1);

  EXPECT_EQ(osp("trace show " + kBase + " --connection-string file://" + (dir / "none.jsonl").string(), &out, &err), 1);
  EXPECT_NE(err.find("cannot read trace store"), std::string::npos) << err;

  // Usage errors exit 2, naming the sub-command whose help to read.
  EXPECT_EQ(osp("trace show " + data("shop_trace.jsonl") + " --json --dot", &out, &err), 2);
  EXPECT_EQ(err, "osprofiler: error: --json excludes --dot (see osprofiler trace show --help)\n");
  EXPECT_EQ(osp("trace list --error-trace maybe", &out, &err), 2);
  EXPECT_NE(err.find("--error-trace: maybe not in"), std::string::npos) << err;
  EXPECT_EQ(osp("trace show " + data("shop_trace.jsonl") + " --render-dot x", &out, &err), 2);
  EXPECT_NE(err.find("--render-dot requires --dot"), std::string::npos) << err;
  EXPECT_EQ(osp("trace list extra", &out, &err), 2);
  EXPECT_NE(err.find("(see osprofiler trace list --help)"), std::string::npos) << err;
  for (const char* bad : {"nan", "-1", "1e16", "soon"}) {
    EXPECT_EQ(osp("trace show " + data("shop_trace.jsonl") + " --min-duration " + bad, &out, &err), 2) << bad;
    EXPECT_NE(err.find("--min-duration: expected milliseconds from 0 to 1e12"), std::string::npos) << err;
  }

  EXPECT_EQ(osp("trace show", &out, &err), 2);
  EXPECT_NE(err.find("trace is required"), std::string::npos) << err;
  EXPECT_EQ(osp("trace show " + data("shop_trace.jsonl") + " --max-depth -1", &out, &err), 2);

  EXPECT_EQ(osp("trace show " + data("shop_trace.jsonl") + " --out /nonexistent-dir/x.txt", &out, &err), 1);
  EXPECT_NE(err.find("cannot write '/nonexistent-dir/x.txt'"), std::string::npos) << err;
}

// A torn last line (a writer that died) is left out, and stderr says so.
TEST(Command, NotesATornLastLine) {
  const auto dir = osprofiler::testing::temp_dir("cli-torn");
  const std::string torn = (dir / "torn.jsonl").string();
  std::ofstream(torn) << slurp(data("shop_trace.jsonl")) << "{\"name\": \"db-st";
  std::string out, err;
  ASSERT_EQ(osp("trace show " + torn, &out, &err), 0) << err;
  EXPECT_EQ(out, slurp(data("shop_trace.txt")));
  EXPECT_NE(err.find("osprofiler: note: '" + torn + "': incomplete last line 41 ignored"), std::string::npos) << err;
}

TEST(Command, HelpAndVersion) {
  std::string out;
  EXPECT_EQ(osp("--version", &out), 0);
  EXPECT_EQ(out.rfind("osprofiler-cpp ", 0), 0u);
  EXPECT_EQ(osp("-v", &out), 0);
  EXPECT_EQ(osp("trace show --help", &out), 0);
  for (const char* flag : {"--connection-string", "--json", "--html", "--dot", "--out", "--min-duration", "--db-only", "--max-depth"}) {
    EXPECT_NE(out.find(flag), std::string::npos) << flag;
  }
  EXPECT_EQ(osp("-h", &out), 0);
  EXPECT_NE(out.find("trace"), std::string::npos);
}

TEST(Command, DefaultStoreThatDoesNotExistYet) {
  std::string out, err;
  EXPECT_EQ(osp("trace show " + kBase, &out, &err), 1);
  EXPECT_NE(err.find("not found: the store sqlite://"), std::string::npos) << err;
  EXPECT_NE(err.find("does not exist yet"), std::string::npos) << err;
  EXPECT_EQ(osp("trace list", &out, &err), 0);
  EXPECT_NE(err.find("no traces yet"), std::string::npos) << err;
}

#ifdef OSPROFILER_HAVE_STORES
TEST(Command, EmbeddedSqliteStoreIsTheDefault) {
  osprofiler::register_stores();
  const auto home = osprofiler::testing::temp_dir("cli-home");
  const std::string cs = "sqlite:///" + (home / "traces.db").string();
  {
    auto c = osprofiler::notifier::create(cs);
    c->write(shop_notifications());
    c->flush();
  }
  std::string out, err;
  // No flag, no env: OSPROFILER_HOME's store.
  const int rc = run("env -u OSPROFILER_CONNECTION_STRING OSPROFILER_HOME=" + home.string() + " " + cli() + " trace show " + kBase, &out, false);
  ASSERT_EQ(rc, 0) << out;
  EXPECT_EQ(out, slurp(data("shop_trace.txt")));
  ASSERT_EQ(osp("trace list --connection-string " + cs, &out, &err), 0) << err;
  EXPECT_NE(out.find("| " + kBase + " | 2026-11-21T16:00:00.000000 |"), std::string::npos) << out;
  EXPECT_EQ(osp("trace show 6f1c2a1e-0000-4000-8000-00000000abcd --connection-string " + cs, &out, &err), 1);
  EXPECT_EQ(err.rfind("osprofiler: trace 6f1c2a1e-0000-4000-8000-00000000abcd not found in " + cs, 0), 0u) << err;
}
// SQLAlchemy's sqlite:///rel.db is relative to the working directory, for
// the CLI as for the writer (it once looked for /rel.db and found nothing).
TEST(Command, ReadsASqliteStoreNamedRelativeToTheWorkingDirectory) {
  osprofiler::register_stores();
  const auto dir = osprofiler::testing::temp_dir("cli-relative");
  fs::create_directories(dir / "rel");
  {
    auto c = osprofiler::notifier::create("sqlite:///" + (dir / "rel" / "a.db").string());
    c->write(shop_notifications());
    c->flush();
  }
  const std::string cmd = "cd " + dir.string() + " && env -u OSPROFILER_CONNECTION_STRING " + cli() + " trace ";
  std::string out;
  ASSERT_EQ(run(cmd + "list --connection-string sqlite:///rel/a.db", &out, false), 0) << out;
  EXPECT_NE(out.find("| " + kBase + " |"), std::string::npos) << out;
  out.clear();
  ASSERT_EQ(run(cmd + "show " + kBase + " --connection-string sqlite:///rel/a.db", &out, false), 0) << out;
  EXPECT_EQ(out, slurp(data("shop_trace.txt")));
  EXPECT_EQ(osprofiler::sqlite_file("sqlite:///rel/a.db"), "rel/a.db");
  EXPECT_EQ(osprofiler::sqlite_file("SQLite:////abs/a.db?mode=ro"), "/abs/a.db");
  EXPECT_THROW(osprofiler::sqlite_file("sqlite://"), std::invalid_argument);
  EXPECT_THROW(osprofiler::sqlite_file("file:///x.jsonl"), std::invalid_argument);
}
// Reading changes nothing: a mistyped --connection-string that names someone
// else's database (or an empty file) must leave it as it was, not turn it
// into a WAL-mode trace store with a new table.
TEST(Command, ReadingNeverChangesTheFileItReads) {
  const auto dir = osprofiler::testing::temp_dir("cli-readonly");
  const std::string file = (dir / "theirs.db").string();
  auto query = [&](const char* sql) {
    sqlite3* db = nullptr;
    EXPECT_EQ(sqlite3_open(file.c_str(), &db), SQLITE_OK);
    std::string out;
    sqlite3_exec(
        db, sql,
        [](void* o, int n, char** v, char**) {
          for (int i = 0; i < n; ++i) *static_cast<std::string*>(o) += std::string(v[i] ? v[i] : "NULL") + ";";
          return 0;
        },
        &out, nullptr);
    sqlite3_close(db);
    return out;
  };
  query("CREATE TABLE foo (x INTEGER)");
  const std::string cs = "sqlite:///" + file;
  std::string out, err;
  EXPECT_EQ(osp("trace list --connection-string " + cs, &out, &err), 1);
  EXPECT_NE(err.find("has no table data: not a trace store"), std::string::npos) << err;
  EXPECT_EQ(osp("trace show " + kBase + " --connection-string " + cs, &out, &err), 1);
  EXPECT_NE(err.find("has no table data"), std::string::npos) << err;
  EXPECT_EQ(query("PRAGMA journal_mode"), "delete;");
  EXPECT_EQ(query("SELECT name FROM sqlite_master ORDER BY name"), "foo;");

  const std::string empty = (dir / "empty.db").string();
  std::ofstream(empty).close();
  EXPECT_EQ(osp("trace list --connection-string sqlite:///" + empty, &out, &err), 1);
  EXPECT_EQ(fs::file_size(empty), 0u);
}
#endif
