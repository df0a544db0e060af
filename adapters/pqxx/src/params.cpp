#include "osprofiler/pqxx/detail.h"

namespace osprofiler::pqxx::detail {

void add_param(nlohmann::json& out, std::nullptr_t) { out.push_back(nullptr); }

void add_param(nlohmann::json& out, const std::string& text) { out.push_back(text); }

void add_param(nlohmann::json& out, const char* text) {
  if (text) {
    out.push_back(text);
  } else {
    out.push_back(nullptr);
  }
}

void add_param(nlohmann::json& out, const ::pqxx::binarystring& bytes) {
  static constexpr char hex[] = "0123456789abcdef";
  std::string text = "\\x";
  text.reserve(2 + 2 * bytes.size());
  for (unsigned char b : bytes) {
    text.push_back(hex[b >> 4]);
    text.push_back(hex[b & 0xf]);
  }
  out.push_back(std::move(text));
}

}  // namespace osprofiler::pqxx::detail
