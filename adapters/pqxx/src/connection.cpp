#include "osprofiler/pqxx/connection.h"

#include <libpq-fe.h>

#include <charconv>
#include <string_view>

#include "osprofiler/profiler.h"
#include "osprofiler/store.h"

namespace osprofiler::pqxx {
namespace {

const std::string& empty_string() {
  static const std::string empty;
  return empty;
}

// The endpoint's namespace and server attributes from what is known.
void describe(db::endpoint& ep, std::string_view dbname, std::string_view host, std::string_view port) {
  ep.ns = db::intern(dbname);
  nlohmann::json attrs = nlohmann::json::object();
  if (!host.empty()) attrs["server.address"] = std::string(host);
  int number = 0;
  const auto [end, ec] = std::from_chars(port.data(), port.data() + port.size(), number);
  if (!port.empty() && ec == std::errc{} && end == port.data() + port.size()) attrs["server.port"] = number;
  ep.attributes = attrs.empty() ? nullptr : db::intern(attrs);
}

// Before connecting: database, host and port as the connection string (or
// libpq's environment defaults) gives them. Never fails: a string libpq
// cannot parse is refused by the connect itself, with libpqxx's error.
void describe_options(db::endpoint& ep, const std::string& options) {
  std::string dbname, host, port, user;
  auto take = [&](PQconninfoOption* opts, bool only_missing) {
    if (!opts) return;
    for (PQconninfoOption* o = opts; o->keyword; ++o) {
      if (!o->val || !*o->val) continue;
      const std::string_view key = o->keyword;
      std::string* slot = key == "dbname" ? &dbname : key == "host" ? &host : key == "port" ? &port
                                                    : key == "user" ? &user : nullptr;
      if (slot && (!only_missing || slot->empty())) *slot = o->val;
    }
    PQconninfoFree(opts);
  };
  char* error = nullptr;
  take(PQconninfoParse(options.c_str(), &error), false);
  if (error) PQfreemem(error);
  take(PQconndefaults(), true);
  if (dbname.empty()) dbname = user;  // libpq's own default
  describe(ep, dbname, host, port);
}

std::string_view text_or_empty(const char* s) { return s ? std::string_view(s) : std::string_view(); }

}  // namespace

connection::connection(const std::string& options, std::string point_name)
    : state_(std::make_unique<detail::connection_state>()) {
  db::endpoint& ep = state_->ep;
  ep.point_name = db::intern(point_name);
  ep.system = "postgresql";
  if (active()) describe_options(ep, options);
  {
    db::call c(ep, "connect");
    try {
      state_->raw = std::make_unique<::pqxx::connection>(options);
    } catch (...) {
      if (c.recording()) {
        // libpq's parse errors quote the string, password included.
        detail::failure f = detail::current_failure();
        try {
          f.message = redact_in(std::move(f.message), options);
        } catch (...) {
          f.message.clear();
        }
        detail::apply(c, f);
      }
      throw;
    }
  }
  // From now on, what the server says rather than what was asked for.
  try {
    describe(ep, text_or_empty(state_->raw->dbname()), text_or_empty(state_->raw->hostname()),
             text_or_empty(state_->raw->port()));
  } catch (...) {  // the connection broke already: its next call will say so
  }
}

connection::~connection() {
  if (state_ && state_->raw && is_open() && active()) {
    try {
      close();
    } catch (...) {
    }
  }
}

connection::connection(connection&&) noexcept = default;
connection& connection::operator=(connection&& other) noexcept {
  if (this != &other) {
    // The connection replaced is dropped open: a close point, as in the destructor.
    if (state_ && state_->raw && is_open() && active()) {
      try {
        close();
      } catch (...) {
      }
    }
    state_ = std::move(other.state_);
  }
  return *this;
}

void connection::prepare(const std::string& name, const std::string& definition) {
  db::shared_text text = db::make_text(definition);
  db::call c(state_->ep, "prepare", text);
  detail::run(c, [&] { state_->raw->prepare(name, definition); });
  state_->prepared[name] = std::move(text);
}

void connection::prepare(const std::string& definition) { prepare(std::string{}, definition); }

void connection::unprepare(const std::string& name) {
  state_->raw->unprepare(name);
  state_->prepared.erase(name);
}

void connection::close() {
  if (!state_ || !state_->raw) return;
  db::call c(state_->ep, "close");
#if PQXX_VERSION_MAJOR >= 7
  detail::run(c, [&] { state_->raw->close(); });
#else
  state_->raw->disconnect();  // noexcept in libpqxx 6
#endif
}

bool connection::is_open() const noexcept { return state_ && state_->raw && state_->raw->is_open(); }

const std::string& connection::dbname() const noexcept {
  return state_ && state_->ep.ns ? *state_->ep.ns : empty_string();
}

}  // namespace osprofiler::pqxx
