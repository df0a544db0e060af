#include "json_text.h"

#include <algorithm>

namespace osprofiler::detail {

json_text::json_text(std::string& out)
    : out_(out),
      scratch_(std::string()),
      serializer_(nlohmann::detail::output_adapter<char>(out), ' ', nlohmann::json::error_handler_t::replace) {}

void json_text::value(const nlohmann::json& v) { serializer_.dump(v, false, false, 0); }

void json_text::string(std::string_view s) {
  // Printable ASCII without quotes or backslashes is its own literal: ids,
  // timestamps and names nearly always are.
  const bool plain = std::all_of(s.begin(), s.end(), [](char c) { return c >= 0x20 && c < 0x7f && c != '"' && c != '\\'; });
  if (plain) {
    out_.push_back('"');
    out_.append(s);
    out_.push_back('"');
    return;
  }
  scratch_.get_ref<std::string&>().assign(s);
  value(scratch_);
}

void json_text::key(std::string_view k, bool& first) {
  if (!first) out_.push_back(',');
  first = false;
  string(k);
  out_.push_back(':');
}

}  // namespace osprofiler::detail
