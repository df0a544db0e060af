// Fuzz target: the cross-service header unpacker (web::signed_unpack) and the
// server side built on it (web::request_scope).
// Input: "<X-Trace-Info>\n<X-Trace-HMAC>[\n<JSON to sign>]".
// Invariants: only a correctly signed header with one of the configured keys
// is accepted, and the result is a JSON object naming that key; a key that
// was removed never verifies; request_scope traces only what signed_unpack
// accepts with a UUID base_id and leaves no profiler behind.
#include <openssl/evp.h>
#include <openssl/hmac.h>

#include <cstdint>
#include <string>

#include "fuzz_support.h"
#include "osprofiler/ids.h"
#include "osprofiler/notifier.h"
#include "osprofiler/profiler.h"
#include "osprofiler/web.h"

namespace {

const std::vector<std::string> current_keys = {"secret", "other key"};
const std::vector<std::string> removed_keys = {"retired"};

std::string hmac_hex(const std::string& data, const std::string& key) {
  unsigned char mac[EVP_MAX_MD_SIZE];
  unsigned int len = 0;
  HMAC(EVP_sha1(), key.data(), static_cast<int>(key.size()), reinterpret_cast<const unsigned char*>(data.data()),
       data.size(), mac, &len);
  static const char* hex = "0123456789abcdef";
  std::string out;
  for (unsigned i = 0; i < len; ++i) {
    out += hex[mac[i] >> 4];
    out += hex[mac[i] & 15];
  }
  return out;
}

std::string trimmed(const std::string& s) {
  const auto b = s.find_first_not_of(" \t\r\n");
  if (b == std::string::npos) return "";
  return s.substr(b, s.find_last_not_of(" \t\r\n") - b + 1);
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  static const bool once = [] {
    osprofiler::set_enabled(true);  // no collector: request points are recorded and dropped
    osprofiler::notifier::set_error_handler([](const std::string&) {});
    osprofiler::web::enable("secret, other key");
    return true;
  }();
  (void)once;
  using namespace osprofiler;
  const std::string in(reinterpret_cast<const char*>(data), size);
  const auto nl = in.find('\n');
  const std::string info = in.substr(0, nl);
  const std::string rest = nl == std::string::npos ? std::string() : in.substr(nl + 1);
  const auto nl2 = rest.find('\n');
  const std::string mac = rest.substr(0, nl2);
  const std::string payload = nl2 == std::string::npos ? std::string() : rest.substr(nl2 + 1);

  // 1. Arbitrary headers.
  const auto got = web::signed_unpack(info, mac, current_keys);
  if (got) {
    FUZZ_CHECK(got->is_object());
    const std::string key = got->value("hmac_key", "");
    FUZZ_CHECK(key == current_keys[0] || key == current_keys[1]);
    FUZZ_CHECK(trimmed(mac) == hmac_hex(info, key));
    FUZZ_CHECK(info.size() <= web::max_header_bytes);
  }
  FUZZ_CHECK(!web::signed_unpack(info, mac, {}));
  if (trimmed(mac) != hmac_hex(info, removed_keys[0])) {
    FUZZ_CHECK(!web::signed_unpack(info, mac, removed_keys));
  }

  {
    web::request_scope scope(info, mac, nlohmann::json{{"path", payload}});
    if (scope.traced()) {
      FUZZ_CHECK(got);
      FUZZ_CHECK(get() != nullptr);
      FUZZ_CHECK(get()->base_id() == (*got)["base_id"].get<std::string>());
      FUZZ_CHECK(get()->depth() == 1);
    }
  }
  FUZZ_CHECK(get() == nullptr);

  // 2. Round trip: anything we sign is accepted with the signing key only.
  auto j = nlohmann::json::parse(payload, nullptr, false);
  if (!j.is_object() || j.contains("hmac_key")) return 0;
  const auto [packed, packed_mac] = web::signed_pack(j, "secret");
  if (packed.size() > web::max_header_bytes) {
    FUZZ_CHECK(!web::signed_unpack(packed, packed_mac, current_keys));
    return 0;
  }
  const auto back = web::signed_unpack(packed, packed_mac, current_keys);
  FUZZ_CHECK(back);
  FUZZ_CHECK((*back)["hmac_key"] == "secret");
  // Key rotation: the same header once "secret" has been removed.
  FUZZ_CHECK(!web::signed_unpack(packed, packed_mac, {"other key"}));
  return 0;
}
