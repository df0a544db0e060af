// Security properties: HMAC keys never appear in notifications, stores,
// error messages or stderr; bind values never leave the process unless
// trace_sql_params is on, through all three adapters (SQLite, libpqxx on the
// fixture's PostgreSQL, SOCI), including the failure paths; and a header
// signed with a key that was removed is refused (key rotation).
#include <fstream>
#include <mutex>

#include <gtest/gtest.h>
#include <soci/soci.h>

#include "osprofiler/config.h"
#include "osprofiler/pqxx/pqxx.h"
#include "osprofiler/soci/soci.h"
#include "osprofiler/store.h"
#include "osprofiler/stores.h"
#include "osprofiler/web.h"
#include "reliability_util.h"

namespace osprofiler::testing {
const ::soci::backend_factory& soci_sqlite3_factory();  // soci_factory.cpp
namespace {

const std::string key = "K3y-Sup3r-S3cr3t-0xC0FFEE";
const std::string bind_text = "B1nd-V4lue-7781";
const std::int64_t bind_number = 987654321;

std::string all_text(const std::vector<notification>& ns) {
  std::string out;
  for (const auto& n : ns) out += dump_json(n.to_json()) + "\n";
  return out;
}

TEST(security, hmac_key_never_leaves_in_notifications_stores_or_errors) {
  register_stores();
  const auto dir = temp_dir("security");
  std::vector<std::string> errors;
  std::mutex mu;
  notifier::set_error_handler([&](const std::string& m) {
    std::lock_guard<std::mutex> lock(mu);
    errors.push_back(m);
  });
  ::testing::internal::CaptureStderr();
  const auto file = (dir / "traces.jsonl").string();
  {
    options o;
    o.enabled = true;
    o.trace_sql = true;
    o.trace_sql_params = true;
    set_options(o);
    notifier::set(notifier::create("file://" + file));
    web::enable(key + ", second-" + key);
    clean();
    init(key);
    {
      trace request("wsgi", {{"request", {{"path", "/"}}}});
      const auto headers = web::get_trace_id_headers();
      ASSERT_EQ(headers.size(), 2u);
      for (const auto& [name, value] : headers) EXPECT_EQ(value.find(key), std::string::npos) << name;
      sqlite::connection db((dir / "app.db").string());
      db.exec("CREATE TABLE t(k TEXT PRIMARY KEY)");
      db.prepare("INSERT INTO t VALUES (?)").bind(1, "x").execute();
      EXPECT_THROW(db.prepare("INSERT INTO t VALUES (?)").bind(1, "x").execute(), sqlite::error);
      // The receiving side of the same headers: traced, key not recorded.
      clean();
      web::request_scope server(headers.at(web::x_trace_info), headers.at(web::x_trace_hmac), {{"path", "/x"}});
      EXPECT_TRUE(server.traced());
      { trace inner("inner"); }
    }
    clean();
    // Errors that name what went wrong: a bad id, a failing collector, a bad config value.
    EXPECT_EQ(init(key, "not-a-uuid"), nullptr);
    ASSERT_TRUE(notifier::flush());
    notifier::set(notifier::create("file:///dev/full"));
    init(key);
    { trace t("lost"); }
    notifier::flush();
    std::ofstream(dir / "bad.conf") << "[profiler]\nhmac_keys = " << key << "\nqueue_size = " << key << "\n";
    try {
      load_options((dir / "bad.conf").string());
      ADD_FAILURE() << "a bad queue_size must be refused";
    } catch (const config_error& e) {
      errors.push_back(e.what());
    }
    notifier::set(std::shared_ptr<collector>{});
    clean();
    set_options(options{});
    web::disable();
  }
  const std::string err = ::testing::internal::GetCapturedStderr();
  notifier::set_error_handler(nullptr);

  std::ifstream in(file);
  const std::string stored((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  EXPECT_NE(stored.find("wsgi-start"), std::string::npos);
  EXPECT_NE(stored.find("inner-start"), std::string::npos);
  EXPECT_EQ(stored.find(key), std::string::npos) << "an HMAC key was written to the trace store";
  EXPECT_EQ(stored.find("hmac"), std::string::npos);
  EXPECT_GE(errors.size(), 2u);
  // The config error quotes the bad value (which the test made equal to the
  // key on purpose: what is quoted is the queue_size value, not hmac_keys).
  std::size_t quoting_config = 0;
  for (const auto& e : errors) {
    if (e.find("queue_size") != std::string::npos) {
      ++quoting_config;
      continue;
    }
    EXPECT_EQ(e.find(key), std::string::npos) << e;
  }
  EXPECT_EQ(quoting_config, 1u);
  EXPECT_EQ(err.find(key), std::string::npos) << err;
}

// Runs `body` with trace_sql on and params as given; returns every
// notification as text.
template <typename F>
std::string traced_text(bool params, F&& body) {
  options o;
  o.trace_sql = true;
  o.trace_sql_params = params;
  tracing_scope scope(o);
  init("");
  {
    trace request("wsgi");
    body();
  }
  return all_text(scope.collect());
}

void expect_params_only_when_on(const std::function<void()>& body) {
  const std::string off = traced_text(false, body);
  EXPECT_NE(off.find("\"statement\""), std::string::npos) << "the statement is traced";
  EXPECT_EQ(off.find(bind_text), std::string::npos) << off;
  EXPECT_EQ(off.find(std::to_string(bind_number)), std::string::npos) << off;
  const std::string on = traced_text(true, body);
  EXPECT_NE(on.find(bind_text), std::string::npos) << "with trace_sql_params the values are recorded";
}

TEST(security, bind_values_stay_in_process_sqlite) {
  const auto dir = temp_dir("security-sqlite");
  int round = 0;
  expect_params_only_when_on([&] {
    sqlite::connection db((dir / ("p" + std::to_string(round++) + ".db")).string());
    db.exec("CREATE TABLE t(k TEXT PRIMARY KEY, n INTEGER)");
    db.prepare("INSERT INTO t VALUES (?, ?)").bind(1, bind_text).bind(2, bind_number).execute();
    auto s = db.prepare("SELECT n FROM t WHERE k = ?");
    s.bind(1, bind_text);
    ASSERT_TRUE(s.step());
    EXPECT_EQ(s.column_int64(0), bind_number);
    s.reset();
    // A constraint failure whose message could quote the value.
    EXPECT_THROW(db.prepare("INSERT INTO t VALUES (?, ?)").bind(1, bind_text).bind(2, 1).execute(), sqlite::error);
  });
}

TEST(security, bind_values_stay_in_process_pqxx) {
  expect_params_only_when_on([&] {
    osprofiler::pqxx::connection c(pg_uri());
    {
      osprofiler::pqxx::work tx(c);
      tx.exec0("CREATE TEMP TABLE t(k TEXT PRIMARY KEY, n BIGINT)");
      tx.exec_params0("INSERT INTO t VALUES ($1, $2)", bind_text, bind_number);
      const auto r = tx.exec_params1("SELECT n FROM t WHERE k = $1", bind_text);
      EXPECT_EQ(r[0].as<std::int64_t>(), bind_number);
      // PostgreSQL's message for this failure carries the key value in its DETAIL.
      EXPECT_THROW(tx.exec_params0("INSERT INTO t VALUES ($1, $2)", bind_text, 1), ::pqxx::unique_violation);
    }
    c.prepare("by_key", "SELECT $1::text || 'x'");
    osprofiler::pqxx::work tx(c);
    EXPECT_EQ(tx.exec_prepared1("by_key", bind_text)[0].as<std::string>(), bind_text + "x");
    tx.commit();
  });
}

TEST(security, bind_values_stay_in_process_soci) {
  const auto dir = temp_dir("security-soci");
  int round = 0;
  expect_params_only_when_on([&] {
    osprofiler::soci::session sql(soci_sqlite3_factory(), "db=" + (dir / ("s" + std::to_string(round++) + ".db")).string());
    sql << "CREATE TABLE t(k TEXT PRIMARY KEY, n INTEGER)";
    long long n = bind_number;
    sql << "INSERT INTO t VALUES (:k, :n)", ::soci::use(bind_text), ::soci::use(n);
    long long got = 0;
    sql << "SELECT n FROM t WHERE k = :k", ::soci::use(bind_text), ::soci::into(got);
    EXPECT_EQ(got, bind_number);
    long long one = 1;
    EXPECT_THROW((sql << "INSERT INTO t VALUES (:k, :n)", ::soci::use(bind_text), ::soci::use(one)),
                 ::soci::soci_error);
  });
}

TEST(security, header_signed_with_a_removed_key_is_refused) {
  set_enabled(true);
  nlohmann::json ids = {{"base_id", uuid::generate().str()}, {"parent_id", uuid::generate().str()}};
  const auto [info, mac] = web::signed_pack(ids, "old-key");
  // Rotation step 1: both keys accepted (the new one signs).
  web::enable("new-key, old-key");
  {
    web::request_scope s(info, mac);
    EXPECT_TRUE(s.traced());
    EXPECT_EQ(get()->base_id(), ids["base_id"]);
  }
  EXPECT_EQ(get(), nullptr);
  // Step 2: the old key is removed; its headers are refused.
  web::enable("new-key");
  {
    web::request_scope s(info, mac);
    EXPECT_FALSE(s.traced());
    EXPECT_EQ(get(), nullptr);
  }
  EXPECT_FALSE(web::signed_unpack(info, mac, web::split_keys("new-key")));
  const auto [info2, mac2] = web::signed_pack(ids, "new-key");
  EXPECT_TRUE(web::signed_unpack(info2, mac2, web::split_keys("new-key")));
  web::disable();
  set_enabled(false);
}

}  // namespace
}  // namespace osprofiler::testing
