#include <gtest/gtest.h>

#include <openssl/evp.h>
#include <openssl/hmac.h>

#include "osprofiler/profiler.h"
#include "osprofiler/web.h"
#include "test_support.h"

namespace op = osprofiler;
namespace web = osprofiler::web;

namespace {
const char* vector_info =
    "eyJiYXNlX2lkIjogIjExMTExMTExLTExMTEtMTExMS0xMTExLTExMTExMTExMTExMSIsICJwYXJlbnRfaWQiOiAiMjIyMjIyMjItMjIyMi0y"
    "MjIyLTIyMjItMjIyMjIyMjIyMjIyIn0=";
const char* vector_hmac = "3bdfa937f59d57ba46c9b2e4bdf995faad91e07d";
const char* base = "11111111-1111-1111-1111-111111111111";
const char* parent = "22222222-2222-2222-2222-222222222222";
}  // namespace

TEST(web, signed_pack_matches_the_spec_test_vector) {
  nlohmann::json data = nlohmann::json::object();
  data["base_id"] = base;
  data["parent_id"] = parent;
  auto [info, mac] = web::signed_pack(data, "secret");
  EXPECT_EQ(info, vector_info);
  EXPECT_EQ(mac, vector_hmac);
}

TEST(web, signed_unpack_accepts_the_test_vector_and_names_the_key) {
  auto data = web::signed_unpack(vector_info, vector_hmac, {"old", "secret"});
  ASSERT_TRUE(data);
  EXPECT_EQ((*data)["base_id"], base);
  EXPECT_EQ((*data)["parent_id"], parent);
  EXPECT_EQ((*data)["hmac_key"], "secret");
  EXPECT_TRUE(web::signed_unpack(vector_info, std::string("  ") + vector_hmac + "\n", {"secret"}));
}

// HMAC-SHA1 hex of arbitrary text, to sign data that only decoding can refuse.
static std::string hmac_hex(const std::string& text, const std::string& key) {
  unsigned char md[EVP_MAX_MD_SIZE];
  unsigned int len = 0;
  HMAC(EVP_sha1(), key.data(), static_cast<int>(key.size()), reinterpret_cast<const unsigned char*>(text.data()),
       text.size(), md, &len);
  static const char* digits = "0123456789abcdef";
  std::string out;
  for (unsigned i = 0; i < len; ++i) {
    out += digits[md[i] >> 4];
    out += digits[md[i] & 15];
  }
  return out;
}

TEST(web, signed_unpack_refuses_everything_doubtful) {
  const std::string info = vector_info;
  EXPECT_FALSE(web::signed_unpack(info, vector_hmac, {"wrong"}));
  EXPECT_FALSE(web::signed_unpack(info, vector_hmac, {})) << "no key: not traced";
  EXPECT_FALSE(web::signed_unpack(info, "", {"secret"})) << "no HMAC: not traced";
  EXPECT_FALSE(web::signed_unpack(info, "   ", {"secret"}));
  EXPECT_FALSE(web::signed_unpack(info, std::string(vector_hmac).substr(0, 39), {"secret"}));
  EXPECT_FALSE(web::signed_unpack(info, std::string(vector_hmac) + "00", {"secret"}));
  EXPECT_FALSE(web::signed_unpack("", vector_hmac, {"secret"}));
  std::string oversized(web::max_header_bytes + 4, 'A');
  EXPECT_FALSE(web::signed_unpack(oversized, hmac_hex(oversized, "secret"), {"secret"}));
}

TEST(web, correctly_signed_data_must_still_decode_to_an_object) {
  // Not base64, bad padding, padding inside, standard alphabet, a JSON array, not JSON.
  for (std::string bad : {"!!!!", "abc", "YWJj=", "YW=j", "a+b/", "WzFd", "bm90IGpzb24=", "eyJhIjox"}) {
    EXPECT_FALSE(web::signed_unpack(bad, hmac_hex(bad, "k"), {"k"})) << bad;
  }
  const std::string ok = web::signed_pack({{"base_id", base}}, "k").first;
  EXPECT_TRUE(web::signed_unpack(ok, hmac_hex(ok, "k"), {"k"}));
}

TEST(web, headers_exist_only_while_tracing_with_a_key) {
  op::testing::tracing_scope scope;
  EXPECT_TRUE(web::get_trace_id_headers().empty()) << "no profiler";
  op::init("", base);
  EXPECT_TRUE(web::get_trace_id_headers().empty()) << "no HMAC key";
  op::clean();
  auto* p = op::init("secret", base);
  op::trace t("wsgi");
  auto headers = web::get_trace_id_headers();
  ASSERT_EQ(headers.size(), 2u);
  auto data = web::signed_unpack(headers[web::x_trace_info], headers[web::x_trace_hmac], {"secret"});
  ASSERT_TRUE(data);
  EXPECT_EQ((*data)["base_id"], base);
  EXPECT_EQ((*data)["parent_id"], p->id());
  EXPECT_EQ(data->size(), 3u) << "base_id, parent_id (+hmac_key added by unpack) only";
  op::clean();
}

TEST(web, request_scope_joins_the_callers_tree_and_cleans_up) {
  op::testing::tracing_scope scope;
  web::enable("rotated-out, secret");
  {
    web::request_scope req(vector_info, vector_hmac, {{"path", "/servers"}, {"method", "GET"}});
    ASSERT_TRUE(req.traced());
    ASSERT_NE(op::get(), nullptr);
    EXPECT_EQ(op::get()->base_id(), base);
  }
  EXPECT_EQ(op::get(), nullptr);
  auto all = scope.collect();
  ASSERT_EQ(all.size(), 2u);
  EXPECT_EQ(all[0].name, "wsgi-start");
  EXPECT_EQ(all[0].parent_id, parent);
  EXPECT_EQ(all[0].info["request"]["path"], "/servers");
  web::disable();
}

TEST(web, request_scope_ignores_unsigned_wrongly_signed_or_extra_keys) {
  op::testing::tracing_scope scope;
  web::enable("secret");
  { EXPECT_FALSE(web::request_scope(vector_info, "", {}).traced()); }
  { EXPECT_FALSE(web::request_scope(vector_info, "0000000000000000000000000000000000000000", {}).traced()); }
  {
    auto [info, mac] = web::signed_pack({{"base_id", base}, {"parent_id", parent}, {"admin", true}}, "secret");
    EXPECT_FALSE(web::request_scope(info, mac, {}).traced()) << "extra keys are refused, as in Python";
  }
  {
    auto [info, mac] = web::signed_pack({{"base_id", "not-a-uuid"}}, "secret");
    EXPECT_FALSE(web::request_scope(info, mac, {}).traced());
  }
  {
    auto [info, mac] = web::signed_pack({{"base_id", base}}, "secret");
    EXPECT_TRUE(web::request_scope(info, mac, {}).traced()) << "parent_id is optional";
  }
  web::disable();
  { EXPECT_FALSE(web::request_scope(vector_info, vector_hmac, {}).traced()) << "disabled server side"; }
  EXPECT_EQ(op::get(), nullptr);
}

TEST(web, split_keys_trims_and_drops_empties) {
  EXPECT_EQ(web::split_keys(" a, b ,,c ,"), (std::vector<std::string>{"a", "b", "c"}));
  EXPECT_TRUE(web::split_keys("").empty());
  EXPECT_TRUE(web::split_keys(" , ").empty());
}
