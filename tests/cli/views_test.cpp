// The views library on fixed inputs: statement shapes, the query summary,
// golden text output, and the safety of the HTML and DOT outputs.
#include <fstream>
#include <sstream>

#include <gtest/gtest.h>

#include "osprofiler/report.h"
#include "osprofiler/views.h"
#include "test_support.h"

namespace views = osprofiler::views;
using osprofiler::notification;

namespace {

std::string data(const std::string& name) { return std::string(CLI_TEST_DATA) + "/" + name; }

std::string slurp(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::stringstream s;
  s << in.rdbuf();
  return s.str();
}

views::trace_model model_of(const std::string& file) {
  auto t = views::load_trace_file(data(file));
  return views::make_model(std::move(t.report), &t.times);
}

std::string text_of(const views::trace_model& m, views::text_options o = {}) {
  std::ostringstream out;
  views::render_text(m, o, out);
  return out.str();
}

// A trace of one root "wsgi" point holding db points with these statements,
// each lasting 1 ms, one after the other.
std::vector<notification> trace_with(const std::vector<std::string>& statements) {
  std::vector<notification> out;
  const std::string base = "11111111-1111-4111-8111-111111111111", root = "22222222-2222-4222-8222-222222222222";
  auto note = [&](std::string name, std::string parent, std::string id, std::int64_t us, nlohmann::json info) {
    notification n;
    n.name = std::move(name);
    n.base_id = base;
    n.parent_id = std::move(parent);
    n.trace_id = std::move(id);
    n.timestamp = osprofiler::format_timestamp(1'700'000'000'000'000 + us);
    n.info = std::move(info);
    out.push_back(std::move(n));
  };
  note("wsgi-start", base, root, 0, {{"request", {{"method", "GET"}, {"path", "/x"}}}});
  for (std::size_t i = 0; i < statements.size(); ++i) {
    char id[64];
    std::snprintf(id, sizeof id, "33333333-3333-4333-8333-%012zu", i);
    const std::int64_t t = 1000 * static_cast<std::int64_t>(i + 1);
    note("db-start", root, id, t, {{"db", {{"system", "sqlite"}, {"api", "execute"}, {"statement", statements[i]}}}});
    note("db-stop", root, id, t + 1000, {{"db", {{"rows", 1}}}});
  }
  note("wsgi-stop", base, root, 1000 * static_cast<std::int64_t>(statements.size() + 2), nlohmann::json::object());
  return out;
}

views::trace_model model_with(const std::vector<std::string>& statements) {
  auto notes = trace_with(statements);
  return views::make_model(osprofiler::build_report(notes), &notes);
}

}  // namespace

TEST(SqlShape, FoldsLiteralsAndBindValues) {
  EXPECT_EQ(views::sql_shape("SELECT * FROM t WHERE id = 1"), "SELECT * FROM t WHERE id = ?");
  EXPECT_EQ(views::sql_shape("SELECT * FROM t WHERE id = 2"), "SELECT * FROM t WHERE id = ?");
  EXPECT_EQ(views::sql_shape("select a from t where name = 'it''s' and x = -3.5e+2"),
            "select a from t where name = ? and x = ?");
  EXPECT_EQ(views::sql_shape("SELECT * FROM t WHERE a = $1 AND b = $12"), "SELECT * FROM t WHERE a = ? AND b = ?");
  EXPECT_EQ(views::sql_shape("SELECT * FROM t WHERE a = ? AND b = ?3 AND c = :name AND d = @v"),
            "SELECT * FROM t WHERE a = ? AND b = ? AND c = ? AND d = ?");
  EXPECT_EQ(views::sql_shape("SELECT * FROM t WHERE id IN (1, 2, 3)"), "SELECT * FROM t WHERE id IN (...)");
  EXPECT_EQ(views::sql_shape("SELECT * FROM t WHERE id IN ($1,$2)"), "SELECT * FROM t WHERE id IN (...)");
  EXPECT_EQ(views::sql_shape("INSERT INTO t (a, b) VALUES (1, 'x'), (2, 'y'), (3, 'z');"),
            "INSERT INTO t (a, b) VALUES (...)");
  EXPECT_EQ(views::sql_shape("SELECT  a,\n\t b -- why\nFROM t /* hint */ WHERE x = X'0aff'"),
            "SELECT a, b FROM t WHERE x = ?");
  EXPECT_EQ(views::sql_shape("SELECT 0x1F, t1.c2 FROM t1"), "SELECT ?, t1.c2 FROM t1");
}

TEST(SqlShape, KeepsIdentifiersCastsAndSubqueries) {
  EXPECT_EQ(views::sql_shape("SELECT \"col 1\" FROM t2 WHERE x::text = 'a'"), "SELECT \"col 1\" FROM t2 WHERE x::text = ?");
  EXPECT_EQ(views::sql_shape("SELECT * FROM t WHERE id IN (SELECT id FROM u WHERE k = 5)"),
            "SELECT * FROM t WHERE id IN (SELECT id FROM u WHERE k = ?)");
  EXPECT_EQ(views::sql_shape("SELECT a - 1 FROM t"), "SELECT a - ? FROM t");
  EXPECT_EQ(views::sql_shape("SELECT 'unterminated"), "SELECT ?");
  EXPECT_EQ(views::sql_shape(""), "");
}

TEST(QuerySummary, GroupsByShapeSortsByTotalAndFlagsNPlusOne) {
  auto m = model_with({"SELECT * FROM orders WHERE c = 1", "SELECT name FROM p WHERE id = 1", "SELECT name FROM p WHERE id = 2",
                       "SELECT name FROM p WHERE id = 3", "SELECT name FROM p WHERE id = 4", "UPDATE x SET a = 1"});
  const auto q = views::summarise_queries(m);
  ASSERT_EQ(q.shapes.size(), 3u);
  EXPECT_EQ(q.statements, 6u);
  EXPECT_EQ(q.total_us, 6000);
  EXPECT_EQ(q.shapes[0].shape, "SELECT name FROM p WHERE id = ?");
  EXPECT_EQ(q.shapes[0].count, 4u);
  EXPECT_EQ(q.shapes[0].total_us, 4000);
  EXPECT_EQ(q.shapes[0].mean_us(), 1000);
  EXPECT_EQ(q.shapes[0].max_us, 1000);
  EXPECT_TRUE(q.shapes[0].n_plus_one);
  EXPECT_FALSE(q.shapes[1].n_plus_one);
  ASSERT_EQ(q.n_plus_one.size(), 1u);
  EXPECT_EQ(q.n_plus_one[0].count, 4u);
  EXPECT_EQ(m.points[q.n_plus_one[0].parent].name, "wsgi");
}

TEST(QuerySummary, TwoRepeatsAreNotNPlusOne) {
  auto m = model_with({"SELECT 1", "SELECT 2"});
  const auto q = views::summarise_queries(m);
  ASSERT_EQ(q.shapes.size(), 1u);
  EXPECT_EQ(q.shapes[0].count, 2u);
  EXPECT_TRUE(q.n_plus_one.empty());
}

TEST(Model, ExactTimesFromNotificationsAndWholeMsFromReport) {
  auto t = views::load_trace_file(data("shop_trace.jsonl"));
  auto exact = views::make_model(t.report, &t.times);
  auto coarse = views::make_model(t.report);
  EXPECT_TRUE(exact.precise);
  EXPECT_FALSE(coarse.precise);
  ASSERT_EQ(exact.points.size(), 20u);
  EXPECT_EQ(exact.points[1].duration_us(), 300);  // connect: 0.3 ms
  EXPECT_EQ(coarse.points[1].duration_us(), 0);   // truncated to whole ms, like Python
  EXPECT_EQ(exact.base_id, "6f1c2a1e-0000-4000-8000-000000000001");
  EXPECT_EQ(exact.points[2].statement, "SELECT id, total FROM orders WHERE customer_id = 17 ORDER BY created DESC");
  EXPECT_EQ(exact.points[18].error, "IntegrityError");
  EXPECT_EQ(exact.points[18].error_message, "UNIQUE constraint failed: audit.id");
  EXPECT_EQ(exact.points[18].depth, 2);
}

TEST(TextView, GoldenJsonLinesTrace) {
  EXPECT_EQ(text_of(model_of("shop_trace.jsonl")), slurp(data("shop_trace.txt")));
}

TEST(TextView, GoldenFilteredTrace) {
  views::text_options o;
  o.db_only = true;
  o.min_duration_us = 500;
  o.max_depth = 2;
  EXPECT_EQ(text_of(model_of("shop_trace.jsonl"), o), slurp(data("shop_trace_filtered.txt")));
}

TEST(TextView, GoldenReportJson) {
  EXPECT_EQ(text_of(model_of("shop_report.json")), slurp(data("shop_report.txt")));
}

TEST(TextView, ColourOnlyWhenAsked) {
  auto m = model_of("shop_trace.jsonl");
  EXPECT_EQ(text_of(m).find('\x1b'), std::string::npos);
  views::text_options o;
  o.colour = true;
  const std::string coloured = text_of(m, o);
  EXPECT_NE(coloured.find("\x1b[1;31m"), std::string::npos);  // slowest / errors
}

TEST(TextView, StatementsAreOneSafeLine) {
  auto m = model_with({"SELECT\n  a\tFROM t WHERE s = '\xff\xfe' AND e = '\x1b[31m'"});
  const std::string out = text_of(m);
  EXPECT_NE(out.find("SELECT a FROM t WHERE s = '\xEF\xBF\xBD\xEF\xBF\xBD' AND e = ' [31m'"), std::string::npos) << out;
  EXPECT_EQ(out.find('\x1b'), std::string::npos);
}

TEST(TextView, LongStatementsAreCut) {
  const std::string longsql = "SELECT " + std::string(300, 'a') + " FROM t";
  views::text_options o;
  o.statement_width = 40;
  o.summary = false;
  const std::string out = text_of(model_with({longsql}), o);
  // "execute " and the statement share the 40 characters, the last one is "…".
  EXPECT_NE(out.find("execute SELECT " + std::string(24, 'a') + "\xE2\x80\xA6  "), std::string::npos) << out;
  EXPECT_EQ(out.find(std::string(25, 'a')), std::string::npos);
}

TEST(Html, DataCannotCloseTheScriptAndSurvivesInvalidUtf8) {
  auto m = model_with({"SELECT '</script><script>alert(1)</script>' AS x", std::string("SELECT '\xc3\x28'")});
  std::ostringstream out;
  views::render_html(m, out);
  const std::string page = out.str();
  EXPECT_EQ(page.find("alert(1)</script>"), std::string::npos);
  EXPECT_EQ(page.find("<script>alert"), std::string::npos);
  EXPECT_EQ(page.find("http://"), std::string::npos);  // nothing fetched from anywhere
  EXPECT_EQ(page.find("https://"), std::string::npos);
  // The embedded data is JSON that gives the statement back as it was.
  const std::string open = "<script type=\"application/json\" id=\"trace-data\">";
  const auto a = page.find(open);
  ASSERT_NE(a, std::string::npos);
  const auto b = page.find("</script>", a);
  const auto j = nlohmann::json::parse(page.substr(a + open.size(), b - a - open.size()));
  EXPECT_EQ(j["points"][1]["sql"], "SELECT '</script><script>alert(1)</script>' AS x");
  EXPECT_EQ(j["points"][2]["sql"], "SELECT '\xEF\xBF\xBD('");
  EXPECT_EQ(j["summary"]["shapes"][0]["shape"], "SELECT ? AS x");
}

TEST(Dot, EscapesLabelsAndLinksEveryPoint) {
  auto m = model_with({"SELECT \"a\\b\" FROM t"});
  std::ostringstream out;
  views::render_dot(m, out);
  const std::string dot = out.str();
  EXPECT_EQ(dot.rfind("digraph trace {", 0), 0u);
  EXPECT_NE(dot.find("execute SELECT \\\"a\\\\b\\\" FROM t"), std::string::npos) << dot;
  EXPECT_NE(dot.find("0 -> 1\n"), std::string::npos);
  EXPECT_NE(dot.find("1 -> 2\n"), std::string::npos);
}

TEST(Json, IsPythonsReportIndentedAndAscii) {
  auto t = views::load_trace_file(data("shop_trace.jsonl"));
  auto m = views::make_model(t.report, &t.times);
  std::ostringstream out;
  views::render_json(m, out);
  EXPECT_EQ(nlohmann::json::parse(out.str()), t.report);
  EXPECT_EQ(out.str().rfind("{\n  \"children\": [", 0), 0u);
}

TEST(Load, CorruptFilesNameTheLine) {
  const auto dir = osprofiler::testing::temp_dir("cli-load");
  const std::string report = (dir / "bad.json").string();
  std::ofstream(report) << "{\"children\": [\n  {\"info\": }\n]}\n";
  try {
    views::load_trace_file(report);
    FAIL() << "no error";
  } catch (const views::user_error& e) {
    EXPECT_NE(std::string(e.what()).find("line 2, column 12"), std::string::npos) << e.what();
  }

  // JSON lines: a broken line in the middle is an error naming it...
  auto lines = slurp(data("shop_trace.jsonl"));
  const std::string broken = (dir / "broken.jsonl").string();
  auto third = lines.find('\n', lines.find('\n') + 1) + 1;
  std::ofstream(broken) << lines.substr(0, third) << "{\"name\": \"db-start\", oops\n" << lines.substr(third);
  try {
    views::load_trace_file(broken);
    FAIL() << "no error";
  } catch (const views::user_error& e) {
    EXPECT_NE(std::string(e.what()).find("line 3"), std::string::npos) << e.what();
  }
  // ...while a torn last line (a writer that died) is left out.
  const std::string torn = (dir / "torn.jsonl").string();
  std::ofstream(torn) << lines << "{\"name\": \"db-st";
  auto t = views::load_trace_file(torn);
  EXPECT_EQ(t.times.spans.size(), 20u);  // 40 notifications, 20 points

  const std::string other = (dir / "other.json").string();
  std::ofstream(other) << "[1, 2]";
  EXPECT_THROW(views::load_trace_file(other), views::user_error);
  EXPECT_THROW(views::load_trace_file((dir / "missing.json").string()), views::user_error);
}

// Invalid UTF-8 in a trace file (a writer that did not repair it) costs the
// bad bytes (U+FFFD), not the file; a hand-made report nested deeper than any
// built one is refused with a reason instead of overflowing the stack.
TEST(Load, InvalidUtf8AndExtremeNesting) {
  const auto dir = osprofiler::testing::temp_dir("cli-load-odd");
  const std::string bad = (dir / "bad.jsonl").string();
  std::ofstream(bad, std::ios::binary)
      << "{\"base_id\":\"b\",\"info\":{\"db\":{\"statement\":\"SELECT '\xff'\"}},\"name\":\"db-start\","
         "\"parent_id\":\"b\",\"timestamp\":\"2026-11-22T10:00:00.000000\",\"trace_id\":\"t\"}\n"
      << "{\"base_id\":\"b\",\"info\":{},\"name\":\"db-stop\",\"parent_id\":\"b\","
         "\"timestamp\":\"2026-11-22T10:00:00.001000\",\"trace_id\":\"t\"}\n";
  const auto t = views::load_trace_file(bad);
  ASSERT_EQ(t.report["children"].size(), 1u);
  EXPECT_EQ(t.report["children"][0]["info"]["meta.raw_payload.db-start"]["info"]["db"]["statement"], "SELECT '\xEF\xBF\xBD'");

  const std::string deep = (dir / "deep.json").string();
  {
    std::ofstream out(deep);
    out << "{\"info\":{\"name\":\"total\"},\"children\":[";
    for (int i = 0; i < 1001; ++i) out << "{\"info\":{\"name\":\"p\"},\"children\":[";
    for (int i = 0; i < 1001; ++i) out << "]}";
    out << "]}";
  }
  try {
    views::load_trace_file(deep);
    FAIL() << "no error";
  } catch (const views::user_error& e) {
    EXPECT_NE(std::string(e.what()).find("more than 1000 levels deep"), std::string::npos) << e.what();
  }
}

// What the report builder left out or moved is said under the tree, and a
// listing prints stored text without control characters.
TEST(TextView, SaysWhatTheReportLeftOutAndListsCleanly) {
  auto notes = trace_with({"SELECT 1"});
  notification bad = notes.front();
  bad.timestamp = "2026-13-45T99:00:00";
  notes.push_back(bad);
  const auto m = views::make_model(osprofiler::build_report(notes), &notes);
  const std::string text = text_of(m);
  EXPECT_NE(text.find("(1 notification left out: no usable timestamp or trace id)"), std::string::npos) << text;
  EXPECT_EQ(text.find("nested more than"), std::string::npos) << text;

  std::ostringstream list;
  views::render_trace_list({{"\x1b[31mred\nid", "2026-11-22T10:00:00.000000"}}, list);
  EXPECT_EQ(list.str().find('\x1b'), std::string::npos) << list.str();
  EXPECT_NE(list.str().find("| [31mred id | 2026-11-22T10:00:00.000000 |"), std::string::npos) << list.str();
}

TEST(Load, UuidRecognition) {
  EXPECT_TRUE(views::looks_like_uuid("6f1c2a1e-0000-4000-8000-000000000001"));
  EXPECT_TRUE(views::looks_like_uuid("6F1C2A1E-0000-4000-8000-000000000001"));
  EXPECT_FALSE(views::looks_like_uuid("6f1c2a1e-0000-4000-8000-00000000000"));
  EXPECT_FALSE(views::looks_like_uuid("trace.json"));
}

TEST(Format, Durations) {
  EXPECT_EQ(views::format_duration(420), "0.42 ms");
  EXPECT_EQ(views::format_duration(12'345), "12.3 ms");
  EXPECT_EQ(views::format_duration(152'400), "152 ms");
  EXPECT_EQ(views::format_duration(1'350'000), "1.35 s");
  EXPECT_EQ(views::format_duration(1'350'000, false), "1350 ms");
}

TEST(TextView, FoldsRunsOfOneStatementShape) {
  auto m = model_with({"SELECT 1", "SELECT a FROM t WHERE id = 1", "SELECT a FROM t WHERE id = 2", "SELECT a FROM t WHERE id = 3",
                       "SELECT a FROM t WHERE id = 4", "SELECT a FROM t WHERE id = 5", "SELECT 2"});
  views::text_options o;
  o.summary = false;
  const std::string folded = text_of(m, o);
  EXPECT_NE(folded.find("WHERE id = 2  ◀ slowest #3\n"), std::string::npos) << folded;
  EXPECT_EQ(folded.find("WHERE id = 3"), std::string::npos) << folded;
  EXPECT_NE(folded.find("  3.00 ms  33.3%  ├─ ⋯ 3 more db points of the same statement shape"), std::string::npos) << folded;
  EXPECT_NE(folded.find("└─ db execute SELECT 2\n"), std::string::npos) << folded;
  o.fold_repeats = false;
  const std::string all = text_of(m, o);
  EXPECT_NE(all.find("WHERE id = 5"), std::string::npos) << all;
  EXPECT_EQ(all.find("⋯"), std::string::npos);
}
