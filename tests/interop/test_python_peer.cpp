// Both directions against the real Python OSProfiler (tests/interop/peer.py):
// headers signed here are accepted there and vice versa, and Python's report
// code and ours build the same report from the same notifications.
#include <gtest/gtest.h>

#include <fstream>
#include <sstream>

#include "osprofiler/profiler.h"
#include "osprofiler/report.h"
#include "osprofiler/store.h"
#include "osprofiler/web.h"
#include "test_support.h"

namespace op = osprofiler;
namespace web = osprofiler::web;
using nlohmann::json;

namespace {
std::string quote(const std::string& s) {
  std::string q = "'";
  for (char c : s) q += c == '\'' ? std::string("'\\''") : std::string(1, c);
  return q + "'";
}

std::string peer(const std::string& args) {
  std::string out;
  const std::string cmd = op::testing::python() + " " +
                          quote((op::testing::source_dir() / "tests/interop/peer.py").string()) + " " + args;
  const int rc = op::testing::run(cmd, &out, /*merge_stderr=*/false);
  EXPECT_EQ(rc, 0) << cmd << "\n" << out;
  return out;
}

std::vector<op::notification> read_lines(const std::string& path) {
  std::vector<op::notification> out;
  std::ifstream in(path);
  std::string line;
  while (std::getline(in, line)) out.push_back(op::notification::from_json(json::parse(line)));
  return out;
}
}  // namespace

TEST(python_peer, python_accepts_headers_signed_here) {
  const std::string base = op::uuid::generate().str(), parent = op::uuid::generate().str();
  auto [info, mac] = web::signed_pack({{"base_id", base}, {"parent_id", parent}}, "s3cr\xc3\xa9t");
  const json got = json::parse(peer("unpack " + quote(info) + " " + quote(mac) + " " + quote("other,s3cr\xc3\xa9t")));
  ASSERT_TRUE(got.is_object()) << got;
  EXPECT_EQ(got["base_id"], base);
  EXPECT_EQ(got["parent_id"], parent);
  EXPECT_EQ(got["hmac_key"], "s3cr\xc3\xa9t");
  EXPECT_TRUE(json::parse(peer("unpack " + quote(info) + " " + quote(mac) + " wrong")).is_null());

  // Python's middleware takes them too (only base_id and parent_id inside).
  const json mw = json::parse(peer("middleware " + quote(info) + " " + quote(mac) + " " + quote("a, s3cr\xc3\xa9t")));
  ASSERT_TRUE(mw.is_object()) << mw;
  EXPECT_EQ(mw["base_id"], base);
}

TEST(python_peer, headers_from_the_current_trace_are_accepted_by_python) {
  op::testing::tracing_scope scope;
  op::init("shared-key");
  op::trace t("wsgi");
  auto headers = web::get_trace_id_headers();
  const json got = json::parse(peer("unpack " + quote(headers[web::x_trace_info]) + " " +
                                    quote(headers[web::x_trace_hmac]) + " shared-key"));
  EXPECT_EQ(got["base_id"], op::get()->base_id());
  EXPECT_EQ(got["parent_id"], op::get()->id());
  op::clean();
}

TEST(python_peer, headers_signed_by_python_are_accepted_here) {
  const std::string base = op::uuid::generate().str(), parent = op::uuid::generate().str();
  std::istringstream lines(peer("pack " + quote(json{{"base_id", base}, {"parent_id", parent}}.dump()) + " key2"));
  std::string info, mac;
  std::getline(lines, info);
  std::getline(lines, mac);
  auto data = web::signed_unpack(info, mac, {"key1", "key2"});
  ASSERT_TRUE(data) << info << " / " << mac;
  EXPECT_EQ((*data)["base_id"], base);
  EXPECT_EQ((*data)["parent_id"], parent);
  EXPECT_FALSE(web::signed_unpack(info, mac, {"key1"})) << "a removed key is refused";

  op::testing::tracing_scope scope;
  web::enable("key2");
  {
    web::request_scope req(info, mac, {{"path", "/"}});
    ASSERT_TRUE(req.traced());
  }
  web::disable();
  auto all = scope.collect();
  ASSERT_EQ(all.size(), 2u);
  EXPECT_EQ(all[0].base_id, base);
  EXPECT_EQ(all[0].parent_id, parent) << "the trees join";
}

TEST(python_peer, python_builds_the_same_report_from_our_notifications) {
  const auto dir = op::testing::temp_dir("interop");
  const std::string file = (dir / "ours.jsonl").string();
  op::testing::tracing_scope scope;
  op::notifier::set(op::notifier::create("file://" + file, {"nova", "api", ""}));
  op::init("k");
  const std::string base = op::get()->base_id();
  {
    op::trace request("wsgi", {{"request", {{"path", "/orders"}}}});
    for (int i = 0; i < 5; ++i) {
      op::trace q("db", {{"db", {{"statement", "SELECT " + std::to_string(i)}}}});
    }
    op::trace failing("rpc");
    failing.fail(std::make_exception_ptr(std::runtime_error("timeout")));
  }
  op::clean();
  ASSERT_TRUE(op::notifier::flush());

  const json python = json::parse(peer("report " + quote(file)));
  const json ours = op::build_report(read_lines(file));
  EXPECT_EQ(ours, python) << "ours:\n" << ours.dump(1) << "\npython:\n" << python.dump(1);
  EXPECT_EQ(op::open_store("file://" + file)->get_report(base), python);
}

TEST(python_peer, our_report_of_python_notifications_matches_python) {
  const auto dir = op::testing::temp_dir("interop");
  const std::string file = (dir / "python.jsonl").string();
  std::string base = peer("emit " + quote(file) + " k");
  base.erase(base.find_last_not_of("\n") + 1);
  auto notes = read_lines(file);
  ASSERT_EQ(notes.size(), 10u);
  for (const auto& n : notes) EXPECT_EQ(n.base_id, base);
  const json python = json::parse(peer("report " + quote(file)));
  const json ours = op::build_report(notes);
  EXPECT_EQ(ours, python) << "ours:\n" << ours.dump(1) << "\npython:\n" << python.dump(1);
  ASSERT_EQ(ours["children"].size(), 1u);
  EXPECT_EQ(ours["children"][0]["children"].size(), 4u);
  EXPECT_EQ(ours["children"][0]["children"][3]["info"]["exception"], "ValueError");
}
