// Soak under load: many threads run traced requests through the three
// adapters (SQLite, libpqxx, SOCI on SQLite) at once, into the SQLite store
// and then into the PostgreSQL store. Afterwards recorded == sent + dropped +
// failed, the store holds exactly `sent` notifications of the workload, and
// every trace that lost nothing is a well-formed tree: one "wsgi" root per
// request, every point started and stopped, every parent present.
// Bounded: OSPROFILER_SOAK_SECONDS per store (default 3), threads
// OSPROFILER_SOAK_THREADS (default 6). OSPROFILER_SOAK_RATE paces the
// threads to that many traced queries per second in all (default: flat out),
// to find the rate at which nothing is dropped. Prints the traced queries per
// second it sustained and what was dropped (docs/reliability.md quotes it).
#include <atomic>
#include <chrono>
#include <cstdlib>
#include <mutex>

#include <gtest/gtest.h>
#include <soci/soci.h>

#include "osprofiler/pqxx/pqxx.h"
#include "osprofiler/report.h"
#include "osprofiler/soci/soci.h"
#include "osprofiler/store.h"
#include "osprofiler/stores.h"
#include "reliability_util.h"

namespace osprofiler::testing {
const ::soci::backend_factory& soci_sqlite3_factory();  // soci_factory.cpp
namespace {

double env_or(const char* name, double fallback) {
  const char* v = std::getenv(name);
  return v && *v ? std::atof(v) : fallback;
}

// One worker: `queries` per request through its adapter; the result of each
// query is known (k * 2 + 1) and checked.
struct soak_result {
  std::vector<std::string> base_ids;
  std::int64_t queries = 0;
  int wrong = 0;
};

constexpr int queries_per_request = 4;

// Spaces a thread's requests evenly when a rate is asked for.
struct pacer {
  std::chrono::steady_clock::time_point start = std::chrono::steady_clock::now();
  std::chrono::duration<double> every{0};  // between two requests of one thread; 0: no pacing
  void wait(int request) const {
    if (every.count() <= 0) return;
    std::this_thread::sleep_until(
        start + std::chrono::duration_cast<std::chrono::steady_clock::duration>(every * request));
  }
};

// Runs requests until `stop`: each on a fresh profiler (its base id kept in
// `r`) under a "wsgi" root point, with `body(i)` doing the queries.
template <typename Body>
void run_requests(const std::atomic<bool>& stop, const pacer& pace, soak_result& r, Body&& body) {
  for (int i = 0; !stop; ++i) {
    pace.wait(i);
    clean();
    init("");
    r.base_ids.push_back(get()->base_id());
    trace request("wsgi");
    body(i);
  }
  clean();
}

void run_sqlite(const std::string& path, const std::atomic<bool>& stop, const pacer& pace, soak_result& r) {
  sqlite::connection db(path);
  db.exec("CREATE TABLE IF NOT EXISTS n(k INTEGER PRIMARY KEY, v INTEGER)");
  db.exec("WITH RECURSIVE s(x) AS (SELECT 0 UNION ALL SELECT x + 1 FROM s WHERE x < 99) "
          "INSERT OR IGNORE INTO n SELECT x, x * 2 + 1 FROM s");
  auto s = db.prepare("SELECT v FROM n WHERE k = ?");
  run_requests(stop, pace, r, [&](int i) {
    db.begin();
    for (int q = 0; q < queries_per_request; ++q) {
      const int k = (i + q) % 100;
      s.bind(1, k);
      if (!s.step() || s.column_int64(0) != k * 2 + 1) ++r.wrong;
      s.reset();
      ++r.queries;
    }
    db.commit();
  });
}

void run_pqxx(const std::atomic<bool>& stop, const pacer& pace, soak_result& r) {
  osprofiler::pqxx::connection c(pg_uri());
  run_requests(stop, pace, r, [&](int i) {
    osprofiler::pqxx::work tx(c);
    for (int q = 0; q < queries_per_request; ++q) {
      const int k = (i + q) % 100;
      if (tx.exec_params1("SELECT $1::int * 2 + 1", k)[0].as<int>() != k * 2 + 1) ++r.wrong;
      ++r.queries;
    }
    tx.commit();
  });
}

void run_soci(const std::string& path, const std::atomic<bool>& stop, const pacer& pace, soak_result& r) {
  osprofiler::soci::session sql(soci_sqlite3_factory(), "db=" + path);
  run_requests(stop, pace, r, [&](int i) {
    ::soci::transaction tx(sql);
    for (int q = 0; q < queries_per_request; ++q) {
      int k = (i + q) % 100, v = 0;
      sql << "SELECT :k * 2 + 1", ::soci::use(k), ::soci::into(v);
      if (v != k * 2 + 1) ++r.wrong;
      ++r.queries;
    }
    tx.commit();
  });
}

// Checks one complete trace: a single wsgi root, every point with both
// start and stop, nothing orphaned.
void expect_well_formed(const std::vector<notification>& ns, const std::string& base) {
  const auto report = build_report(ns);
  ASSERT_EQ(report["children"].size(), 1u) << "trace " << base << ": one root per request";
  const auto& root = report["children"][0];
  EXPECT_EQ(root["info"]["name"], "wsgi");
  EXPECT_EQ(root["parent_id"], base);
  std::vector<const nlohmann::json*> todo{&root};
  std::size_t points = 0;
  while (!todo.empty()) {
    const auto* n = todo.back();
    todo.pop_back();
    ++points;
    const std::string name = (*n)["info"]["name"];
    EXPECT_TRUE((*n)["info"].contains("meta.raw_payload." + name + "-start")) << base;
    EXPECT_TRUE((*n)["info"].contains("meta.raw_payload." + name + "-stop")) << base;
    for (const auto& c : (*n)["children"]) {
      EXPECT_EQ(c["parent_id"], (*n)["trace_id"]);
      todo.push_back(&c);
    }
  }
  EXPECT_EQ(points * 2, ns.size()) << "trace " << base;
}

void soak(const std::string& store_cs) {
  register_stores();
  const double seconds = env_or("OSPROFILER_SOAK_SECONDS", 3);
  const int threads = static_cast<int>(env_or("OSPROFILER_SOAK_THREADS", 6));
  const double rate = env_or("OSPROFILER_SOAK_RATE", 0);
  pacer pace;
  if (rate > 0) pace.every = std::chrono::duration<double>(threads * queries_per_request / rate);
  const auto dir = temp_dir("soak");
  options o;
  o.enabled = true;
  o.trace_sql = true;
  set_options(o);
  notifier::configure_queue(options{}.queue_size, overflow_policy::drop);  // the default queue
  notifier::set(notifier::create(store_cs));
  counter_delta delta;

  std::atomic<bool> stop{false};
  std::vector<soak_result> results(static_cast<std::size_t>(threads));
  std::vector<std::thread> pool;
  const auto t0 = std::chrono::steady_clock::now();
  for (int t = 0; t < threads; ++t) {
    pool.emplace_back([&, t] {
      auto& r = results[static_cast<std::size_t>(t)];
      try {
        switch (t % 3) {
          case 0: run_sqlite((dir / ("app" + std::to_string(t) + ".db")).string(), stop, pace, r); break;
          case 1: run_pqxx(stop, pace, r); break;
          default: run_soci((dir / ("soci" + std::to_string(t) + ".db")).string(), stop, pace, r); break;
        }
      } catch (const std::exception& e) {
        ADD_FAILURE() << "thread " << t << ": " << e.what();
      }
    });
  }
  std::this_thread::sleep_for(std::chrono::duration<double>(seconds));
  stop = true;
  for (auto& th : pool) th.join();
  const double elapsed = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  ASSERT_TRUE(notifier::flush(std::chrono::seconds(120)));
  const auto d = delta.now();
  notifier::set(std::shared_ptr<collector>{});
  set_options(options{});

  std::int64_t queries = 0;
  std::size_t requests = 0;
  for (auto& r : results) {
    EXPECT_EQ(r.wrong, 0);
    queries += r.queries;
    requests += r.base_ids.size();
  }
  std::printf("SOAK %s: %d threads, %.1f s, %zu requests, %lld traced queries (%.0f/s), events recorded %llu, "
              "sent %llu, dropped %llu, failed %llu\n",
              redact(store_cs).c_str(), threads, elapsed, requests, static_cast<long long>(queries),
              static_cast<double>(queries) / elapsed, static_cast<unsigned long long>(d.recorded),
              static_cast<unsigned long long>(d.sent), static_cast<unsigned long long>(d.dropped),
              static_cast<unsigned long long>(d.failed));
  EXPECT_EQ(d.recorded, d.sent + d.dropped + d.failed);
  EXPECT_EQ(d.failed, 0u);
  EXPECT_GT(requests, 0u);

  auto reader = open_store(store_cs);
  std::uint64_t stored = 0;
  std::size_t complete = 0;
  for (auto& r : results) {
    std::vector<std::vector<notification>> traces;
    std::size_t full = 0;  // a complete request of this thread's adapter
    for (const auto& b : r.base_ids) {
      traces.push_back(reader->load(b));
      stored += traces.back().size();
      full = std::max(full, traces.back().size());
    }
    for (std::size_t i = 0; i < traces.size(); ++i) {
      // With drops, only the traces that lost nothing can be whole.
      if (d.dropped == 0 || traces[i].size() == full) {
        expect_well_formed(traces[i], r.base_ids[i]);
        ++complete;
      }
    }
  }
  EXPECT_EQ(stored, d.sent) << "the store holds exactly what was sent";
  if (d.dropped == 0) {
    EXPECT_EQ(complete, requests);
  }
}

TEST(soak, three_adapters_into_the_sqlite_store) {
  soak("sqlite:///" + (temp_dir("soak-store") / "traces.db").string());
}

TEST(soak, three_adapters_into_the_postgresql_store) {
  soak(pg_uri());
}

}  // namespace
}  // namespace osprofiler::testing
