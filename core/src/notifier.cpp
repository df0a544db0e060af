#include "osprofiler/notifier.h"

#include <pthread.h>
#include <unistd.h>

#include <algorithm>
#include <condition_variable>
#include <cstdio>
#include <cstring>
#include <map>
#include <mutex>
#include <new>
#include <thread>

#include "conversion.h"
#include "event.h"
#include "file_store.h"
#include "mpsc_queue.h"
#include "osprofiler/store.h"

namespace osprofiler {
namespace {

using detail::event;
using queue_t = detail::mpsc_queue<event>;
using clock = std::chrono::steady_clock;

constexpr std::size_t batch_limit = 4096;
constexpr auto idle_wait_max = std::chrono::milliseconds(50);
constexpr auto retry_wait_min = std::chrono::milliseconds(50);
constexpr auto retry_wait_max = std::chrono::seconds(5);
constexpr auto shutdown_timeout = std::chrono::seconds(10);

// Adapts Python's notifier.set(callable) to the collector interface.
class callable_collector final : public collector {
 public:
  explicit callable_collector(std::function<void(const nlohmann::json&)> fn) : fn_(std::move(fn)) {}
  void write(const std::vector<notification>& batch) override {
    for (const auto& n : batch) fn_(n.to_json());
  }

 private:
  std::function<void(const nlohmann::json&)> fn_;
};

struct state {
  std::mutex mu;
  std::condition_variable wake_cv;  // the worker waits here
  std::condition_variable done_cv;  // flush() waits here

  // Every queue ever configured, current last. Producers read `current`;
  // the worker drains all of them (old ones empty out and stay empty).
  std::vector<std::unique_ptr<queue_t>> queues;
  std::atomic<queue_t*> current{nullptr};
  std::atomic<overflow_policy> policy{overflow_policy::drop};

  std::shared_ptr<collector> coll;  // guarded by mu
  std::thread* worker = nullptr;    // leaked in a forked child
  std::atomic<bool> running{false};
  std::atomic<bool> sleeping{false};
  std::atomic<bool> stopping{false};
  std::atomic<bool> stopped{false};
  // Set at shutdown once the store could not take what was queued (the
  // exit flush timed out, or the store was unavailable while stopping): the
  // batches left are counted failed without a write, so that exit waits for
  // one write under way at most, not one store timeout per batch. (A batch
  // the store refused for its contents does not set it: the next may go in.)
  std::atomic<bool> abandon{false};

  // dropped: settled by the worker without a collector; dropped_at_push:
  // never entered a queue. stats() adds them up; kept apart so that one
  // increment counts a push-side drop in both `recorded` and `dropped`.
  std::atomic<std::uint64_t> dropped{0}, sent{0}, failed{0};
  // On a line of its own: callers bump it when the queue is full, while the
  // notifier thread updates the others.
  alignas(64) std::atomic<std::uint64_t> dropped_at_push{0};
  alignas(64) std::uint64_t processed = 0;  // events taken off the queues and settled; guarded by mu
  // Pair events taken off the queues: each is two notifications but one
  // pushed slot, so `recorded` adds one per pair once the worker sees it.
  std::atomic<std::uint64_t> pairs_taken{0};
  std::uint64_t flush_requests = 0, flushes_done = 0, flush_target = 0;  // guarded by mu

  std::mutex err_mu;
  std::function<void(const std::string&)> err_handler;
  clock::time_point err_window{};
  int err_in_window = 0;
  std::uint64_t err_suppressed = 0;

  state() {
    queues.push_back(std::make_unique<queue_t>(options{}.queue_size));
    current.store(queues.back().get());
  }

  std::uint64_t pushed_total() {
    std::uint64_t n = 0;
    for (auto& q : queues) n += q->pushed();
    return n;
  }
};

void atfork_prepare();
void atfork_parent();
void atfork_child();

state& st() {
  // Leaked on purpose: trace points in other statics' destructors may still
  // record after exit() began; shutdown() runs from atexit instead.
  static state* s = [] {
    auto* p = new state;
    std::atexit([] { notifier::shutdown(); });
    pthread_atfork(atfork_prepare, atfork_parent, atfork_child);
    return p;
  }();
  return *s;
}

void atfork_prepare() { st().mu.lock(); }
void atfork_parent() { st().mu.unlock(); }
// The child has no notifier thread, and the inherited collector's
// connections belong to the parent: abandon both. The child records nothing
// (events count as dropped) until it installs a collector of its own.
// The queues go too: what they hold is the parent's to deliver (the child
// would send it twice), and a slot another parent thread was filling at
// the fork would never be completed here, stopping the child's worker at
// it. The child starts with an empty queue and its own counts.
void atfork_child() {
  state& s = st();
  // The parent's worker may have been waiting on these condition variables:
  // their inherited state counts a waiter that does not exist here, and the
  // next notify_all() would wait for it forever. Start them (and the error
  // mutex, which another thread may have held) afresh.
  new (&s.wake_cv) std::condition_variable;
  new (&s.done_cv) std::condition_variable;
  new (&s.err_mu) std::mutex;
  s.worker = nullptr;
  s.running.store(false);
  // Never destroyed here (kept where leak checkers see them): the collector
  // would close the parent's connections, and the queues' slots may be half
  // written.
  static auto* abandoned_collectors = new std::vector<std::shared_ptr<collector>>;
  static auto* abandoned_queues = new std::vector<std::unique_ptr<queue_t>>;
  try {
    if (s.coll) abandoned_collectors->push_back(std::move(s.coll));
  } catch (...) {
    new std::shared_ptr<collector>(std::move(s.coll));
  }
  s.coll.reset();
  const std::size_t capacity = s.current.load()->capacity();
  for (auto& q : s.queues) {
    try {
      abandoned_queues->push_back(std::move(q));
    } catch (...) {
      (void)q.release();
    }
  }
  s.queues.clear();
  try {
    s.queues.push_back(std::make_unique<queue_t>(capacity));
  } catch (...) {
    s.queues.push_back(std::make_unique<queue_t>(2));  // out of memory: a minimal queue
  }
  s.current.store(s.queues.back().get());
  s.processed = 0;
  s.flush_requests = s.flushes_done = s.flush_target = 0;
  s.dropped.store(0);
  s.sent.store(0);
  s.failed.store(0);
  s.dropped_at_push.store(0);
  s.pairs_taken.store(0);
  s.mu.unlock();
}

// ---- worker ---------------------------------------------------------------

// Writes one batch (`count` notifications) through `write`, retrying while the
// collector says it is unavailable. Returns once the batch is settled (sent,
// failed or dropped).
template <typename Write>
void deliver(state& s, std::size_t count, const std::shared_ptr<collector>& c, Write&& write) {
  const auto n = static_cast<std::uint64_t>(count);
  if (!c) {
    s.dropped.fetch_add(n, std::memory_order_relaxed);
    return;
  }
  auto wait = retry_wait_min;
  for (;;) {
    if (s.abandon.load(std::memory_order_relaxed)) {
      s.failed.fetch_add(n, std::memory_order_relaxed);
      return;
    }
    try {
      write();
      s.sent.fetch_add(n, std::memory_order_relaxed);
      return;
    } catch (const collector_unavailable& ex) {
      notifier::report_error(std::string("osprofiler: collector unavailable, will retry: ") + ex.what());
    } catch (const std::exception& ex) {
      s.failed.fetch_add(n, std::memory_order_relaxed);
      notifier::report_error(std::string("osprofiler: collector failed, ") + std::to_string(n) +
                             " notifications lost: " + ex.what());
      return;
    } catch (...) {
      s.failed.fetch_add(n, std::memory_order_relaxed);
      notifier::report_error("osprofiler: collector failed with a non-standard exception");
      return;
    }
    std::unique_lock<std::mutex> lock(s.mu);
    if (s.stopping.load() || s.coll != c) {
      // Shutting down, or the collector was replaced: give the batch up.
      if (s.stopping.load()) s.abandon.store(true);
      s.failed.fetch_add(n, std::memory_order_relaxed);
      return;
    }
    s.wake_cv.wait_for(lock, wait, [&] { return s.stopping.load() || s.coll != c; });
    wait = std::min<std::chrono::milliseconds>(wait * 2, retry_wait_max);
  }
}

void worker_main(state& s) {
  std::vector<notification> batch;
  batch.reserve(batch_limit);
  detail::view_builder texts;  // the batch for a text_collector
  std::vector<std::pair<queue_t*, std::size_t>> taken;  // events peeked, per queue
  std::vector<event*> pending;
  pending.reserve(batch_limit);
  detail::stamp_converter stamps;
  auto idle_wait = std::chrono::milliseconds(1);
  for (;;) {
    std::vector<queue_t*> queues;
    std::uint64_t flush_req, target;
    {
      std::lock_guard<std::mutex> lock(s.mu);
      for (auto& q : s.queues) queues.push_back(q.get());
      flush_req = s.flush_requests;
      target = s.flush_target;
    }
    batch.clear();
    texts.clear();
    taken.clear();
    pending.clear();
    for (queue_t* q : queues) {
      std::size_t n = 0;
      // Events stay in their slots until settled: the queue's capacity then
      // bounds what is queued and what is being delivered (or retried).
      for (event* e; pending.size() < batch_limit && (e = q->peek(n)) != nullptr; ++n) pending.push_back(e);
      if (n > 0) taken.emplace_back(q, n);
    }
    // The collector is read after the events were taken, so that an event
    // recorded after notifier::set() returned never reaches the collector
    // that call replaced.
    std::shared_ptr<collector> c;
    {
      std::lock_guard<std::mutex> lock(s.mu);
      c = s.coll;
    }
    stamps.refresh();  // every event taken was stamped before this
    auto* text = dynamic_cast<text_collector*>(c.get());
    std::size_t converted = 0;  // events; a pair makes two notifications
    for (event* e : pending) {
      // Counted before anything is settled, so that queued() never goes below zero.
      if (e->pair) {
        s.pairs_taken.fetch_add(1, std::memory_order_relaxed);
        // A held call nothing asked the id of (db::call::make_id()) gets it here, in
        // the event, so that a retried delivery keeps it.
        if (e->trace.is_nil()) e->trace = uuid::generate();
      }
      try {
        if (text) {
          texts.add(*e, stamps);
        } else {
          detail::append_notifications(*e, c.get(), stamps, batch);
        }
        ++converted;
      } catch (...) {
        s.failed.fetch_add(e->pair ? 2 : 1, std::memory_order_relaxed);
        std::lock_guard<std::mutex> lock(s.mu);
        ++s.processed;
      }
    }
    const std::size_t built = text ? texts.size() : batch.size();
    if (text && built > 0) {
      deliver(s, built, c, [&] { text->write_text(texts.views(*text)); });
    } else if (built > 0) {
      deliver(s, built, c, [&] { c->write(batch); });
    }
    // A queue configure_queue() replaced gets no new events: its slots are
    // emptied now rather than left holding what they delivered.
    const queue_t* current = s.current.load(std::memory_order_acquire);
    for (auto& [q, n] : taken) q->release(n, q != current);

    std::unique_lock<std::mutex> lock(s.mu);
    if (!pending.empty()) {
      s.processed += converted;
      s.done_cv.notify_all();
    }
    // A flush finishes once everything recorded before it is settled, even
    // while other threads go on recording.
    if (flush_req > s.flushes_done && s.processed >= target) {
      lock.unlock();
      if (c) {
        try {
          c->flush();
        } catch (const std::exception& ex) {
          notifier::report_error(std::string("osprofiler: collector flush failed: ") + ex.what());
        } catch (...) {
        }
      }
      lock.lock();
      s.flushes_done = flush_req;
      s.done_cv.notify_all();
    }
    if (!pending.empty()) {
      idle_wait = std::chrono::milliseconds(1);
      continue;
    }

    // Queues empty: sleep.
    if (s.stopping.load()) break;
    s.sleeping.store(true, std::memory_order_relaxed);
    const bool busy = s.flush_requests > s.flushes_done;
    s.wake_cv.wait_for(lock, busy ? std::chrono::milliseconds(0) + std::chrono::microseconds(100) : idle_wait);
    s.sleeping.store(false, std::memory_order_relaxed);
    idle_wait = std::min<std::chrono::milliseconds>(idle_wait * 2, idle_wait_max);
  }
}

void ensure_worker(state& s) {
  if (s.running.load(std::memory_order_acquire)) return;
  std::lock_guard<std::mutex> lock(s.mu);
  if (s.running.load() || s.stopped.load()) return;
  try {
    s.worker = new std::thread([&s] { worker_main(s); });
    s.running.store(true, std::memory_order_release);
  } catch (...) {
    // No thread: events stay queued (and are dropped once it is full).
  }
}

void wake(state& s) {
  std::lock_guard<std::mutex> lock(s.mu);
  s.wake_cv.notify_one();
}

}  // namespace

// ---- public: notification, collector, connection strings -----------------

nlohmann::json notification::to_json() const {
  nlohmann::json j = {{"name", name}, {"base_id", base_id}, {"trace_id", trace_id}, {"parent_id", parent_id},
                      {"timestamp", timestamp}};
  j["info"] = info.is_object() ? info : nlohmann::json::object();
  if (!project.empty()) j["project"] = project;
  if (!service.empty()) j["service"] = service;
  return j;
}

notification notification::from_json(const nlohmann::json& j) {
  if (!j.is_object()) throw std::invalid_argument("notification is not a JSON object");
  notification n;
  auto text = [&](const char* key, std::string& out, bool required) {
    auto it = j.find(key);
    if (it == j.end() || it->is_null()) {
      if (required) throw std::invalid_argument(std::string("notification has no '") + key + "'");
      return;
    }
    if (!it->is_string()) throw std::invalid_argument(std::string("notification key '") + key + "' is not a string");
    out = it->get<std::string>();
  };
  text("name", n.name, true);
  text("base_id", n.base_id, true);
  text("trace_id", n.trace_id, true);
  text("parent_id", n.parent_id, true);
  text("timestamp", n.timestamp, true);
  text("project", n.project, false);
  text("service", n.service, false);
  auto info = j.find("info");
  if (info != j.end() && info->is_object()) {
    n.info = *info;
    auto host = info->find("host");
    if (host != info->end() && host->is_string()) n.host = host->get<std::string>();
  }
  return n;
}

void text_collector::write(const std::vector<notification>& batch) {
  std::vector<std::string> infos;
  infos.reserve(batch.size());
  for (const auto& n : batch) infos.push_back(dump_json(n.info.is_object() ? n.info : nlohmann::json::object()));
  std::vector<notification_view> views;
  views.reserve(batch.size());
  for (std::size_t i = 0; i < batch.size(); ++i) {
    const notification& n = batch[i];
    views.push_back({n.name, n.base_id, n.parent_id, n.trace_id, n.timestamp, n.project, n.service, n.host, infos[i]});
  }
  write_text(views);
}

void collector::set_identity(std::string project, std::string service, std::string host) {
  project_ = std::move(project);
  service_ = std::move(service);
  host_ = std::move(host);
}

connection_string connection_string::parse(const std::string& text) {
  const auto sep = text.find("://");
  if (sep == std::string::npos || sep == 0) {
    throw std::invalid_argument("connection string '" + redact(text).substr(0, 200) +
                                "' has no scheme: expected <scheme>://..., e.g. sqlite:///traces.db");
  }
  connection_string cs;
  cs.text = text;
  cs.rest = text.substr(sep + 3);
  for (char ch : text.substr(0, sep)) {
    const char c = static_cast<char>(ch >= 'A' && ch <= 'Z' ? ch - 'A' + 'a' : ch);
    const bool ok = (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '+' || c == '.' || c == '-';
    if (!ok) {
      throw std::invalid_argument("connection string '" + redact(text).substr(0, 200) +
                                  "' has an invalid scheme: letters, digits, '+', '.', '-' expected before '://'");
    }
    cs.scheme += c;
  }
  return cs;
}

std::string default_connection_string() {
  if (const char* home = std::getenv("OSPROFILER_HOME"); home && *home) {
    return std::string("sqlite:///") + home + "/traces.db";
  }
  if (const char* home = std::getenv("HOME"); home && *home) {
    return std::string("sqlite:///") + home + "/.osprofiler/traces.db";
  }
  return "sqlite:///.osprofiler/traces.db";
}

const std::string& host_name() {
  // Leaked: the notifier thread reads it while exit() runs the final flush,
  // after statics made later than the notifier's state are destroyed.
  static const std::string* name = [] {
    char buf[256] = {0};
    if (gethostname(buf, sizeof buf - 1) != 0) return new std::string("localhost");
    return new std::string(buf);
  }();
  return *name;
}

std::string format_timestamp(std::int64_t unix_us) {
  char buf[64];
  detail::format_into(unix_us, buf);
  return std::string(buf, 26);
}

std::optional<std::int64_t> parse_timestamp(std::string_view t) noexcept {
  // YYYY-MM-DDTHH:MM:SS[.f{1,6}]
  auto digits = [&](std::size_t pos, std::size_t n, int& out) {
    if (pos + n > t.size()) return false;
    out = 0;
    for (std::size_t i = pos; i < pos + n; ++i) {
      if (t[i] < '0' || t[i] > '9') return false;
      out = out * 10 + (t[i] - '0');
    }
    return true;
  };
  int y, mo, d, h, mi, s;
  if (t.size() < 19 || !digits(0, 4, y) || t[4] != '-' || !digits(5, 2, mo) || t[7] != '-' || !digits(8, 2, d) ||
      t[10] != 'T' || !digits(11, 2, h) || t[13] != ':' || !digits(14, 2, mi) || t[16] != ':' ||
      !digits(17, 2, s)) {
    return std::nullopt;
  }
  if (mo < 1 || mo > 12 || d < 1 || d > 31 || h > 23 || mi > 59 || s > 61) return std::nullopt;
  std::int64_t frac = 0;
  if (t.size() > 19) {
    const std::size_t n = t.size() - 20;
    if (t[19] != '.' || n < 1 || n > 6) return std::nullopt;
    int f;
    if (!digits(20, n, f)) return std::nullopt;
    frac = f;
    for (std::size_t i = n; i < 6; ++i) frac *= 10;
  }
  // Days from civil (Howard Hinnant's algorithm).
  const int yy = y - (mo <= 2);
  const int era = (yy >= 0 ? yy : yy - 399) / 400;
  const unsigned yoe = static_cast<unsigned>(yy - era * 400);
  const unsigned doy = (153 * static_cast<unsigned>(mo + (mo > 2 ? -3 : 9)) + 2) / 5 + static_cast<unsigned>(d) - 1;
  const unsigned doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
  const std::int64_t days = static_cast<std::int64_t>(era) * 146097 + static_cast<std::int64_t>(doe) - 719468;
  return ((days * 24 + h) * 60 + mi) * 60 * 1000000LL + static_cast<std::int64_t>(s) * 1000000LL + frac;
}

std::string dump_json(const nlohmann::json& j, int indent) {
  return j.dump(indent, ' ', false, nlohmann::json::error_handler_t::replace);
}

nlohmann::json parse_json(const std::string& text) {
  auto j = nlohmann::json::parse(text, nullptr, false);
  if (!j.is_discarded()) return j;
  // The text as a JSON string, dumped with U+FFFD for bad bytes and read back.
  const std::string repaired = nlohmann::json::parse(dump_json(nlohmann::json(text))).get<std::string>();
  if (repaired != text) {
    j = nlohmann::json::parse(repaired, nullptr, false);
    if (!j.is_discarded()) return j;
  }
  return nlohmann::json::parse(text);  // throws, naming what is wrong
}

// ---- the calling thread's side -------------------------------------------

namespace {
bool push(queue_t* q, detail::fill_fn fill, const void* ctx, const db::shared_text* statement) noexcept {
  return q->try_emplace([&](event& slot) {
    if (!statement || !*statement) {
      if (slot.db_statement) slot.db_statement.reset();
    } else if (slot.db_statement != *statement) {
      slot.db_statement = *statement;
    }
    fill(slot, ctx);
  });
}
}  // namespace

namespace detail {
void record_with(fill_fn fill, const void* ctx, unsigned notifications, const db::shared_text* statement) noexcept {
  state& s = st();
  auto drop = [&s, notifications] {
    s.dropped_at_push.fetch_add(notifications, std::memory_order_relaxed);
  };
  if (s.stopped.load(std::memory_order_relaxed)) return drop();
  ensure_worker(s);
  queue_t* q = s.current.load(std::memory_order_acquire);
  if (!push(q, fill, ctx, statement)) {
    if (s.policy.load(std::memory_order_relaxed) == overflow_policy::drop || !s.running.load()) {
      drop();
      if (s.sleeping.load(std::memory_order_relaxed)) wake(s);
      return;
    }
    // Block: wait for the worker to make room.
    do {
      wake(s);
      std::this_thread::sleep_for(std::chrono::microseconds(50));
      if (s.stopped.load()) return drop();
      q = s.current.load(std::memory_order_acquire);
    } while (!push(q, fill, ctx, statement));
  }
  // A full-ish queue must not wait for the worker's idle timer.
  if (s.sleeping.load(std::memory_order_relaxed) && q->pushed() - q->popped() >= q->capacity() / 4) wake(s);
}

}  // namespace detail

// ---- public: notifier -----------------------------------------------------

namespace notifier {
namespace {
std::mutex g_registry_mu;
std::map<std::string, factory>& registry() {
  static std::map<std::string, factory> r;
  return r;
}
}  // namespace

void register_scheme(const std::string& scheme, factory make) {
  std::lock_guard<std::mutex> lock(g_registry_mu);
  registry()[scheme] = std::move(make);
}

std::vector<std::string> known_schemes() {
  std::lock_guard<std::mutex> lock(g_registry_mu);
  std::vector<std::string> names{"file"};
  for (auto& [k, v] : registry()) {
    if (k != "file") names.push_back(k);
  }
  return names;
}

std::shared_ptr<collector> create(const std::string& text, const collector_args& args) {
  const auto cs = connection_string::parse(text);
  factory make;
  {
    std::lock_guard<std::mutex> lock(g_registry_mu);
    auto it = registry().find(cs.scheme);
    if (it != registry().end()) make = it->second;
  }
  if (!make && cs.scheme == "file") make = detail::make_file_store;
  if (!make) {
    std::string known;
    for (auto& k : known_schemes()) known += (known.empty() ? "" : ", ") + k + "://";
    throw std::invalid_argument("unknown scheme '" + cs.scheme + "' in connection string '" +
                                redact(cs.text).substr(0, 200) + "'; known schemes: " + known);
  }
  auto c = make(cs, args);
  if (!c) throw std::runtime_error("no collector for connection string '" + redact(cs.text).substr(0, 200) + "'");
  c->set_identity(args.project, args.service, args.host.empty() ? host_name() : args.host);
  return c;
}

void set(std::shared_ptr<collector> c) {
  state& s = st();
  std::shared_ptr<collector> old;
  {
    std::lock_guard<std::mutex> lock(s.mu);
    old = std::move(s.coll);
    s.coll = std::move(c);
    s.wake_cv.notify_all();
  }
  // `old` is released here, outside the lock; the worker may still hold its
  // own reference until its current batch is settled.
}

void set(std::function<void(const nlohmann::json&)> sink) {
  set(sink ? std::make_shared<callable_collector>(std::move(sink)) : std::shared_ptr<collector>{});
}

std::shared_ptr<collector> get() {
  state& s = st();
  std::lock_guard<std::mutex> lock(s.mu);
  return s.coll;
}

void configure_queue(std::size_t capacity, overflow_policy policy) {
  state& s = st();
  s.policy.store(policy);
  capacity = queue_t::rounded(std::clamp<std::size_t>(capacity, 2, max_queue_capacity));
  std::lock_guard<std::mutex> lock(s.mu);
  if (s.current.load()->capacity() == capacity) return;
  for (auto& q : s.queues) {
    if (q->capacity() == capacity) {
      s.current.store(q.get(), std::memory_order_release);
      return;
    }
  }
  s.queues.push_back(std::make_unique<queue_t>(capacity));
  s.current.store(s.queues.back().get(), std::memory_order_release);
}

bool flush(std::chrono::milliseconds timeout) noexcept {
  try {
    state& s = st();
    const auto deadline = clock::now() + timeout;
    std::unique_lock<std::mutex> lock(s.mu);
    if (!s.running.load()) return s.pushed_total() == s.processed;
    // Called by a collector (or exit() from one): waiting would wait for itself.
    if (s.worker && s.worker->get_id() == std::this_thread::get_id()) return false;
    const std::uint64_t target = s.pushed_total();
    s.flush_target = std::max(s.flush_target, target);
    const std::uint64_t my_request = ++s.flush_requests;
    s.wake_cv.notify_all();
    return s.done_cv.wait_until(lock, deadline,
                                [&] { return s.processed >= target && s.flushes_done >= my_request; });
  } catch (...) {
    return false;
  }
}

counters stats() noexcept {
  state& s = st();
  counters c;
  std::lock_guard<std::mutex> lock(s.mu);
  // A consistent snapshot: the settled counts must not move while
  // `recorded` is read, or queued() would count an event twice (settled
  // after the first read, and pushed again before the second). Bounded
  // retries: under a storm of drops the last reading is still close.
  for (int attempt = 0; attempt < 64; ++attempt) {
    c.dropped = s.dropped.load();
    c.sent = s.sent.load();
    c.failed = s.failed.load();
    const std::uint64_t at_push = s.dropped_at_push.load();
    const std::uint64_t pairs = s.pairs_taken.load();
    c.recorded = s.pushed_total() + pairs + at_push;
    const bool still = c.dropped == s.dropped.load() && c.sent == s.sent.load() && c.failed == s.failed.load() &&
                       pairs == s.pairs_taken.load();
    c.dropped += at_push;
    if (still) break;
  }
  return c;
}

void set_error_handler(std::function<void(const std::string&)> handler) {
  state& s = st();
  std::lock_guard<std::mutex> lock(s.err_mu);
  s.err_handler = std::move(handler);
  // A new handler starts with a fresh rate-limit window.
  s.err_window = clock::time_point{};
  s.err_in_window = 0;
  s.err_suppressed = 0;
}

void report_error(const std::string& message) noexcept {
  try {
    state& s = st();
    std::lock_guard<std::mutex> lock(s.err_mu);
    const auto now = clock::now();
    if (now - s.err_window >= std::chrono::seconds(1)) {
      if (s.err_suppressed > 0) {
        const std::string summary =
            "osprofiler: " + std::to_string(s.err_suppressed) + " more errors suppressed in the last second";
        if (s.err_handler) s.err_handler(summary); else std::fprintf(stderr, "%s\n", summary.c_str());
      }
      s.err_window = now;
      s.err_in_window = 0;
      s.err_suppressed = 0;
    }
    if (++s.err_in_window > 5) {
      ++s.err_suppressed;
      return;
    }
    if (s.err_handler) {
      s.err_handler(message);
    } else {
      std::fprintf(stderr, "%s\n", message.c_str());
    }
  } catch (...) {
  }
}

void shutdown() noexcept {
  state& s = st();
  if (s.stopped.exchange(true)) return;
  const bool flushed = flush(shutdown_timeout);
  std::thread* worker = nullptr;
  {
    std::lock_guard<std::mutex> lock(s.mu);
    if (!flushed) s.abandon.store(true);
    s.stopping.store(true);
    s.wake_cv.notify_all();
    if (s.worker && s.worker->get_id() == std::this_thread::get_id()) {
      // exit() on the notifier thread, from inside a collector's write: it
      // cannot join itself, and the collector is busy in that write. What
      // is still queued is lost; the thread ends with the process.
      s.worker->detach();
      return;
    }
    worker = s.worker;
    s.worker = nullptr;
  }
  if (worker && worker->joinable()) worker->join();
  delete worker;
  s.running.store(false);
  std::shared_ptr<collector> c;
  {
    std::lock_guard<std::mutex> lock(s.mu);
    c = std::move(s.coll);
  }
  if (c) {
    try {
      c->flush();
    } catch (...) {
    }
  }
}

}  // namespace notifier
}  // namespace osprofiler
