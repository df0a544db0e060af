#include "osprofiler/web.h"

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>

#include <mutex>

#include "osprofiler/notifier.h"
#include "osprofiler/profiler.h"

namespace osprofiler::web {
namespace {

std::string hex(const unsigned char* data, std::size_t n) {
  static constexpr char digits[] = "0123456789abcdef";
  std::string out(n * 2, '\0');
  for (std::size_t i = 0; i < n; ++i) {
    out[2 * i] = digits[data[i] >> 4];
    out[2 * i + 1] = digits[data[i] & 0xf];
  }
  return out;
}

std::string hmac_sha1_hex(std::string_view data, std::string_view key) {
  unsigned char md[EVP_MAX_MD_SIZE];
  unsigned int len = 0;
  HMAC(EVP_sha1(), key.data(), static_cast<int>(key.size()), reinterpret_cast<const unsigned char*>(data.data()),
       data.size(), md, &len);
  return hex(md, len);
}

std::string urlsafe_b64encode(std::string_view raw) {
  std::string out(4 * ((raw.size() + 2) / 3), '\0');
  const int n = EVP_EncodeBlock(reinterpret_cast<unsigned char*>(out.data()),
                                reinterpret_cast<const unsigned char*>(raw.data()), static_cast<int>(raw.size()));
  out.resize(static_cast<std::size_t>(n));
  for (char& c : out) {
    if (c == '+') c = '-';
    if (c == '/') c = '_';
  }
  return out;
}

// Strict URL-safe base64 with padding, as Python's urlsafe_b64encode writes it.
std::optional<std::string> urlsafe_b64decode(std::string_view text) {
  if (text.empty() || text.size() % 4 != 0) return std::nullopt;
  std::string std_text(text);
  std::size_t pad = 0;
  for (std::size_t i = 0; i < std_text.size(); ++i) {
    char& c = std_text[i];
    if (c == '=') {
      if (i + 2 < std_text.size()) return std::nullopt;  // padding only in the last two places
      ++pad;
      continue;
    }
    if (pad) return std::nullopt;  // data after padding
    if (c == '-') c = '+';
    else if (c == '_') c = '/';
    else if (!((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9'))) return std::nullopt;
  }
  std::string out(std_text.size() / 4 * 3, '\0');
  const int n = EVP_DecodeBlock(reinterpret_cast<unsigned char*>(out.data()),
                                reinterpret_cast<const unsigned char*>(std_text.data()),
                                static_cast<int>(std_text.size()));
  if (n < 0 || static_cast<std::size_t>(n) < pad) return std::nullopt;
  out.resize(static_cast<std::size_t>(n) - pad);  // EVP_DecodeBlock counts padding as zero bytes
  return out;
}

// Python's json.dumps: ", " and ": " separators, non-ASCII escaped.
std::string python_json(const nlohmann::json& j) {
  if (j.is_object()) {
    std::string out = "{";
    bool first = true;
    for (auto it = j.begin(); it != j.end(); ++it) {
      if (!first) out += ", ";
      first = false;
      out += nlohmann::json(it.key()).dump(-1, ' ', true, nlohmann::json::error_handler_t::replace);
      out += ": ";
      out += python_json(it.value());
    }
    return out + "}";
  }
  if (j.is_array()) {
    std::string out = "[";
    for (std::size_t i = 0; i < j.size(); ++i) {
      if (i) out += ", ";
      out += python_json(j[i]);
    }
    return out + "]";
  }
  return j.dump(-1, ' ', true, nlohmann::json::error_handler_t::replace);
}

struct server_state {
  std::mutex mu;
  bool enabled = false;
  std::vector<std::string> keys;
};
server_state& server() {
  static server_state s;
  return s;
}

}  // namespace

std::vector<std::string> split_keys(std::string_view text) {
  std::vector<std::string> out;
  std::size_t pos = 0;
  while (pos <= text.size()) {
    std::size_t comma = text.find(',', pos);
    if (comma == std::string_view::npos) comma = text.size();
    std::string_view part = text.substr(pos, comma - pos);
    const auto b = part.find_first_not_of(" \t\r\n");
    if (b != std::string_view::npos) {
      const auto e = part.find_last_not_of(" \t\r\n");
      out.emplace_back(part.substr(b, e - b + 1));
    }
    pos = comma + 1;
  }
  return out;
}

std::pair<std::string, std::string> signed_pack(const nlohmann::json& data, std::string_view hmac_key) {
  std::string packed = urlsafe_b64encode(python_json(data));
  std::string mac = hmac_key.empty() ? std::string() : hmac_sha1_hex(packed, hmac_key);
  return {std::move(packed), std::move(mac)};
}

std::optional<nlohmann::json> signed_unpack(std::string_view data, std::string_view hmac,
                                            const std::vector<std::string>& hmac_keys) {
  try {
    if (hmac_keys.empty() || data.empty() || data.size() > max_header_bytes || hmac.size() > max_header_bytes) {
      return std::nullopt;
    }
    const auto b = hmac.find_first_not_of(" \t\r\n");
    if (b == std::string_view::npos) return std::nullopt;
    hmac = hmac.substr(b, hmac.find_last_not_of(" \t\r\n") - b + 1);
    for (const auto& key : hmac_keys) {
      const std::string expected = hmac_sha1_hex(data, key);
      if (expected.size() != hmac.size() || CRYPTO_memcmp(expected.data(), hmac.data(), hmac.size()) != 0) continue;
      auto raw = urlsafe_b64decode(data);
      if (!raw) return std::nullopt;
      auto contents = nlohmann::json::parse(*raw, nullptr, /*allow_exceptions=*/false);
      if (!contents.is_object()) return std::nullopt;
      contents["hmac_key"] = key;
      return contents;
    }
  } catch (...) {
  }
  return std::nullopt;
}

std::map<std::string, std::string> get_trace_id_headers() {
  const profiler* p = get();
  if (!p || !enabled() || p->hmac_key().empty()) return {};
  nlohmann::json data = nlohmann::json::object();
  data["base_id"] = p->base_id();
  data["parent_id"] = p->id();
  auto [info, mac] = signed_pack(data, p->hmac_key());
  return {{x_trace_info, std::move(info)}, {x_trace_hmac, std::move(mac)}};
}

void enable(std::string_view hmac_keys) {
  auto keys = split_keys(hmac_keys);
  std::lock_guard<std::mutex> lock(server().mu);
  server().keys = std::move(keys);
  server().enabled = true;
}

void disable() {
  std::lock_guard<std::mutex> lock(server().mu);
  server().enabled = false;
}

request_scope::request_scope(std::string_view trace_info, std::string_view trace_hmac, nlohmann::json request_info,
                             std::string_view name) noexcept {
  try {
    std::vector<std::string> keys;
    {
      std::lock_guard<std::mutex> lock(server().mu);
      if (!server().enabled) return;
      keys = server().keys;
    }
    auto data = signed_unpack(trace_info, trace_hmac, keys);
    if (!data) return;
    // Like the Python middleware: base_id required, parent_id optional, nothing else.
    for (auto& [k, v] : data->items()) {
      if (k != "base_id" && k != "parent_id" && k != "hmac_key") return;
      if (!v.is_string()) return;
    }
    if (!data->contains("base_id")) return;
    const std::string base = (*data)["base_id"];
    const std::string parent = data->value("parent_id", "");
    if (!is_uuid_like(base) || (!parent.empty() && !is_uuid_like(parent))) return;
    clean();
    if (!init((*data)["hmac_key"].get<std::string>(), base, parent)) return;
    traced_ = true;
    nlohmann::json info = nlohmann::json::object();
    if (!request_info.is_null()) info["request"] = std::move(request_info);
    start(name, std::move(info));
  } catch (...) {
  }
}

request_scope::~request_scope() {
  if (!traced_) return;
  stop();
  clean();
}

}  // namespace osprofiler::web
