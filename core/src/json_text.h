// Private: appends JSON text to one string without building nlohmann values
// for what is already text (keys, ids, statement text). The write paths of
// the notifier and the stores use it; values that are JSON already go
// through nlohmann's own serializer, so the output is what dump_json() gives
// (invalid UTF-8 becomes U+FFFD).
#pragma once

#include <string>
#include <string_view>

#include <nlohmann/json.hpp>

namespace osprofiler::detail {

class json_text {
 public:
  // Appends to `out`, which must outlive this writer.
  explicit json_text(std::string& out);
  json_text(const json_text&) = delete;
  json_text& operator=(const json_text&) = delete;

  void value(const nlohmann::json& v);
  // `s` as a JSON string literal.
  void string(std::string_view s);
  // A member name and its colon, after a comma unless `first`.
  void key(std::string_view k, bool& first);
  void raw(std::string_view text) { out_.append(text); }
  void raw(char c) { out_.push_back(c); }

 private:
  std::string& out_;
  nlohmann::json scratch_;  // a string value reused for string()
  nlohmann::detail::serializer<nlohmann::json> serializer_;
};

}  // namespace osprofiler::detail
