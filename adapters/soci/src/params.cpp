// The use-element decorators: they forward everything to the real backend and
// remember where SOCI keeps each bind value, so the statement can render the
// values as db.params (only while trace_sql_params() is on).
#include <ctime>
#include <string>
#include <vector>

#include <soci/type-wrappers.h>

#include "traced_backend.h"

namespace osprofiler::soci::detail {

namespace {

constexpr std::size_t max_param_bytes = 1024;  // longer text values are cut
constexpr std::size_t max_bulk_values = 64;    // values shown per vector element

nlohmann::json text(const std::string& s) {
  if (s.size() <= max_param_bytes) return s;
  return s.substr(0, max_param_bytes) + "...[truncated " + std::to_string(s.size() - max_param_bytes) + " bytes]";
}

nlohmann::json tm_text(const std::tm& t) {
  char buf[64];
  std::snprintf(buf, sizeof buf, "%04d-%02d-%02d %02d:%02d:%02d", t.tm_year + 1900, t.tm_mon + 1, t.tm_mday, t.tm_hour,
                t.tm_min, t.tm_sec);
  return buf;
}

// One value of a standard use element. `data` points at what SOCI binds
// (after type_conversion, so always one of the exchange types).
nlohmann::json value_of(const void* data, sd::exchange_type type) {
  switch (type) {
    case sd::x_char: return std::string(1, *static_cast<const char*>(data));
    case sd::x_stdstring: return text(*static_cast<const std::string*>(data));
    case sd::x_short: return *static_cast<const short*>(data);
    case sd::x_integer: return *static_cast<const int*>(data);
    case sd::x_long_long: return *static_cast<const long long*>(data);
    case sd::x_unsigned_long_long: return *static_cast<const unsigned long long*>(data);
    case sd::x_double: return *static_cast<const double*>(data);
    case sd::x_stdtm: return tm_text(*static_cast<const std::tm*>(data));
    case sd::x_longstring: return text(static_cast<const ::soci::long_string*>(data)->value);
    case sd::x_xmltype: return text(static_cast<const ::soci::xml_type*>(data)->value);
    case sd::x_blob: return "<blob>";
    case sd::x_rowid: return "<rowid>";
    case sd::x_statement: return "<statement>";
  }
  return "<unknown>";
}

template <class T>
std::size_t vsize(const void* v) {
  return static_cast<const std::vector<T>*>(v)->size();
}
template <class T>
const T& velem(const void* v, std::size_t i) {
  return (*static_cast<const std::vector<T>*>(v))[i];
}

std::size_t vector_size(const void* data, sd::exchange_type type) {
  switch (type) {
    case sd::x_char: return vsize<char>(data);
    case sd::x_stdstring: return vsize<std::string>(data);
    case sd::x_short: return vsize<short>(data);
    case sd::x_integer: return vsize<int>(data);
    case sd::x_long_long: return vsize<long long>(data);
    case sd::x_unsigned_long_long: return vsize<unsigned long long>(data);
    case sd::x_double: return vsize<double>(data);
    case sd::x_stdtm: return vsize<std::tm>(data);
    case sd::x_longstring: return vsize<::soci::long_string>(data);
    case sd::x_xmltype: return vsize<::soci::xml_type>(data);
    default: return 0;
  }
}

nlohmann::json vector_value(const void* data, sd::exchange_type type, std::size_t i) {
  switch (type) {
    case sd::x_char: return std::string(1, velem<char>(data, i));
    case sd::x_stdstring: return text(velem<std::string>(data, i));
    case sd::x_short: return velem<short>(data, i);
    case sd::x_integer: return velem<int>(data, i);
    case sd::x_long_long: return velem<long long>(data, i);
    case sd::x_unsigned_long_long: return velem<unsigned long long>(data, i);
    case sd::x_double: return velem<double>(data, i);
    case sd::x_stdtm: return tm_text(velem<std::tm>(data, i));
    case sd::x_longstring: return text(velem<::soci::long_string>(data, i).value);
    case sd::x_xmltype: return text(velem<::soci::xml_type>(data, i).value);
    default: return "<unsupported>";
  }
}

void put(std::vector<std::pair<int, nlohmann::json>>& positional, nlohmann::json& named, int position,
         const std::string& name, nlohmann::json v) {
  if (name.empty()) {
    positional.emplace_back(position, std::move(v));
  } else {
    named[name] = std::move(v);
  }
}

class traced_use final : public sd::standard_use_type_backend, public param_source {
 public:
  explicit traced_use(sd::standard_use_type_backend* inner) : inner_(inner) {}
  ~traced_use() override {
    if (owner_) owner_->forget(this);
  }

  void bind_by_pos(int& position, void* data, sd::exchange_type type, bool read_only) override {
    position_ = position;
    data_ = data;
    type_ = type;
    inner_->bind_by_pos(position, data, type, read_only);
  }
  void bind_by_name(std::string const& name, void* data, sd::exchange_type type, bool read_only) override {
    name_ = name;
    data_ = data;
    type_ = type;
    inner_->bind_by_name(name, data, type, read_only);
  }
  void pre_exec(int num) override { inner_->pre_exec(num); }
  void pre_use(::soci::indicator const* ind) override {
    null_ = ind != nullptr && *ind == ::soci::i_null;
    inner_->pre_use(ind);
  }
  void post_use(bool got_data, ::soci::indicator* ind) override { inner_->post_use(got_data, ind); }
  void clean_up() override { inner_->clean_up(); }

  void render(std::vector<std::pair<int, nlohmann::json>>& positional, nlohmann::json& named) const override {
    if (!data_) return;
    put(positional, named, position_, name_, null_ ? nlohmann::json(nullptr) : value_of(data_, type_));
  }

 private:
  std::unique_ptr<sd::standard_use_type_backend> inner_;
  int position_ = 0;
  std::string name_;
  const void* data_ = nullptr;
  sd::exchange_type type_ = sd::x_integer;
  bool null_ = false;
};

class traced_vector_use final : public sd::vector_use_type_backend, public param_source {
 public:
  explicit traced_vector_use(sd::vector_use_type_backend* inner) : inner_(inner) {}
  ~traced_vector_use() override {
    if (owner_) owner_->forget(this);
  }

  void bind_by_pos(int& position, void* data, sd::exchange_type type) override {
    remember(position, {}, data, type, 0, nullptr);
    inner_->bind_by_pos(position, data, type);
  }
  void bind_by_pos_bulk(int& position, void* data, sd::exchange_type type, std::size_t begin,
                        std::size_t* end) override {
    remember(position, {}, data, type, begin, end);
    inner_->bind_by_pos_bulk(position, data, type, begin, end);
  }
  void bind_by_name(std::string const& name, void* data, sd::exchange_type type) override {
    remember(0, name, data, type, 0, nullptr);
    inner_->bind_by_name(name, data, type);
  }
  void bind_by_name_bulk(std::string const& name, void* data, sd::exchange_type type, std::size_t begin,
                         std::size_t* end) override {
    remember(0, name, data, type, begin, end);
    inner_->bind_by_name_bulk(name, data, type, begin, end);
  }
  void pre_exec(int num) override { inner_->pre_exec(num); }
  void pre_use(::soci::indicator const* ind) override {
    ind_ = ind;
    inner_->pre_use(ind);
  }
  std::size_t size() override { return inner_->size(); }
  void clean_up() override { inner_->clean_up(); }

  // A vector element renders as the list of its values (the first
  // max_bulk_values, then a note of how many more).
  void render(std::vector<std::pair<int, nlohmann::json>>& positional, nlohmann::json& named) const override {
    if (!data_) return;
    const std::size_t n = vector_size(data_, type_);
    const std::size_t first = end_ ? begin_ : 0;
    const std::size_t last = end_ ? std::min(*end_, n) : n;
    nlohmann::json values = nlohmann::json::array();
    for (std::size_t i = first; i < last && i - first < max_bulk_values; ++i) {
      const bool null = ind_ != nullptr && ind_[i] == ::soci::i_null;  // indexed like the values
      values.push_back(null ? nlohmann::json(nullptr) : vector_value(data_, type_, i));
    }
    if (last > first && last - first > max_bulk_values) {
      values.push_back("...[" + std::to_string(last - first - max_bulk_values) + " more]");
    }
    put(positional, named, position_, name_, std::move(values));
  }

 private:
  void remember(int position, std::string name, void* data, sd::exchange_type type, std::size_t begin,
                std::size_t* end) {
    position_ = position;
    name_ = std::move(name);
    data_ = data;
    type_ = type;
    begin_ = begin;
    end_ = end;
  }

  std::unique_ptr<sd::vector_use_type_backend> inner_;
  int position_ = 0;
  std::string name_;
  const void* data_ = nullptr;
  sd::exchange_type type_ = sd::x_integer;
  std::size_t begin_ = 0;
  const std::size_t* end_ = nullptr;
  const ::soci::indicator* ind_ = nullptr;
};

}  // namespace

sd::standard_use_type_backend* traced_statement_backend::make_use_type_backend() {
  rebinding();
  auto p = std::make_unique<traced_use>(inner_->make_use_type_backend());
  uses_.push_back(p.get());
  p->owner_ = this;
  return p.release();
}

sd::vector_use_type_backend* traced_statement_backend::make_vector_use_type_backend() {
  rebinding();
  bulk_ = true;
  auto p = std::make_unique<traced_vector_use>(inner_->make_vector_use_type_backend());
  uses_.push_back(p.get());
  p->owner_ = this;
  return p.release();
}

}  // namespace osprofiler::soci::detail
