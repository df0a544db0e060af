// Every way SOCI runs SQL, traced: sql << with into/use, prepare << and
// statement execute/fetch, rowset iteration, soci::transaction, bulk vectors,
// errors, a plain soci::session on traced(), and a connection_pool shared by
// threads. Each test binary instantiates soci_forms with its backends.
#include <set>
#include <thread>

#include "osprofiler/profiler.h"
#include "soci_context.h"

namespace osprofiler::testing {
namespace {

using json = nlohmann::json;

bool is_start(const notification& n) { return n.name.size() > 6 && n.name.compare(n.name.size() - 6, 6, "-start") == 0; }

std::string api_of(const notification& n) {
  auto it = n.info.find("db");
  return it != n.info.end() && it->is_object() ? it->value("api", "") : "";
}

struct collected {
  std::vector<notification> all;

  std::vector<notification> starts(const std::string& api) const {
    std::vector<notification> out;
    for (const auto& n : all) {
      if (is_start(n) && api_of(n) == api) out.push_back(n);
    }
    return out;
  }
  const notification& stop_of(const notification& start) const {
    for (const auto& n : all) {
      if (!is_start(n) && n.trace_id == start.trace_id) return n;
    }
    throw std::runtime_error("no stop for " + dump_json(start.to_json()));
  }
  json stop_db(const notification& start) const {
    const auto& s = stop_of(start);
    return s.info.contains("db") ? s.info["db"] : json::object();
  }
  std::string text() const {
    std::string t;
    for (const auto& n : all) t += dump_json(n.to_json()) + "\n";
    return t;
  }
};

// Tracing on (with the given switches) and a profiler on this thread.
class traced_scope {
 public:
  explicit traced_scope(bool trace_sql = true, bool params = false) : scope_(make(trace_sql, params)) { init("soci-key"); }
  ~traced_scope() { clean(); }
  collected collect() { return collected{scope_.collect()}; }

 private:
  static options make(bool trace_sql, bool params) {
    options o;
    o.trace_sql = trace_sql;
    o.trace_sql_params = params;
    return o;
  }
  tracing_scope scope_;
};

}  // namespace

TEST_P(soci_forms, once_statements_with_into_and_use) {
  auto fx = GetParam();
  auto [cs, ns] = fx.make_db();
  traced_scope t(true, true);
  {
    osprofiler::soci::session sql(*fx.factory, cs);
    sql << "CREATE TABLE f_once (id INTEGER PRIMARY KEY, v VARCHAR(20))";
    int id = 41;
    std::string v = "forty-one";
    sql << "INSERT INTO f_once (id, v) VALUES (:id, :v)", ::soci::use(id), ::soci::use(v);
    std::string got;
    sql << "SELECT v FROM f_once WHERE id = :id", ::soci::use(id), ::soci::into(got);
    EXPECT_EQ(got, "forty-one");
  }
  auto c = t.collect();
  EXPECT_TRUE(c.starts("prepare").empty()) << "one-time queries are one execute point each\n" << c.text();
  auto ex = c.starts("execute");
  ASSERT_EQ(ex.size(), 3u) << c.text();
  EXPECT_EQ(ex[1].info["db"]["statement"], "INSERT INTO f_once (id, v) VALUES (:id, :v)");
  EXPECT_EQ(ex[1].info["db"]["params"], json::parse(R"([41, "forty-one"])"));
  EXPECT_EQ(c.stop_db(ex[1]).value("rows", -1), 1);
  EXPECT_EQ(ex[2].info["db"]["params"], json::parse("[41]"));
  EXPECT_EQ(c.stop_db(ex[2]).value("rows", -1), 1);
  EXPECT_EQ(ex[2].info["db"]["system"], fx.system);
  EXPECT_EQ(ex[2].info["db"]["namespace"], ns);
}

TEST_P(soci_forms, named_binds_render_as_an_object) {
  auto fx = GetParam();
  auto [cs, ns] = fx.make_db();
  traced_scope t(true, true);
  {
    osprofiler::soci::session sql(*fx.factory, cs);
    sql << "CREATE TABLE f_named (id INTEGER PRIMARY KEY, v VARCHAR(20))";
    int id = 7;
    std::string v = "seven";
    ::soci::indicator null_ind = ::soci::i_null;
    std::string unused;
    sql << "INSERT INTO f_named (id, v) VALUES (:id, :v)", ::soci::use(id, "id"), ::soci::use(unused, null_ind, "v");
    (void)v;
  }
  auto c = t.collect();
  auto ex = c.starts("execute");
  ASSERT_EQ(ex.size(), 2u) << c.text();
  EXPECT_EQ(ex[1].info["db"]["params"], json::parse(R"({"id": 7, "v": null})")) << c.text();
}

TEST_P(soci_forms, prepared_statement_is_one_point_per_execution_covering_its_fetches) {
  auto fx = GetParam();
  auto [cs, ns] = fx.make_db();
  traced_scope t;
  std::string request_id, work_id;
  {
    osprofiler::soci::session sql(*fx.factory, cs);
    sql << "CREATE TABLE f_fetch (id INTEGER PRIMARY KEY)";
    for (int i = 1; i <= 5; ++i) sql << "INSERT INTO f_fetch (id) VALUES (" << i << ")";
    osprofiler::trace request("request");
    request_id = get()->id();
    int id = 0;
    ::soci::statement st = (sql.prepare << "SELECT id FROM f_fetch ORDER BY id", ::soci::into(id));
    std::vector<int> seen;
    for (int run = 0; run < 2; ++run) {
      st.execute();
      while (st.fetch()) {
        seen.push_back(id);
        if (run == 0 && id == 2) {
          // User code between fetches: a sibling of the statement, not its child.
          osprofiler::trace work("work");
          work_id = get()->id();
        }
      }
    }
    EXPECT_EQ(seen, (std::vector<int>{1, 2, 3, 4, 5, 1, 2, 3, 4, 5}));
  }
  auto c = t.collect();
  auto prep = c.starts("prepare");
  ASSERT_EQ(prep.size(), 1u) << c.text();
  EXPECT_EQ(prep[0].info["db"]["statement"], "SELECT id FROM f_fetch ORDER BY id");
  std::vector<notification> selects;
  for (const auto& n : c.starts("execute")) {
    if (n.info["db"].value("statement", "") == "SELECT id FROM f_fetch ORDER BY id") selects.push_back(n);
  }
  ASSERT_EQ(selects.size(), 2u) << "one point per execution, never per row\n" << c.text();
  for (const auto& s : selects) {
    EXPECT_EQ(s.parent_id, request_id);
    EXPECT_EQ(c.stop_db(s).value("rows", -1), 5) << c.text();
    EXPECT_GE(c.stop_of(s).timestamp, s.timestamp);
  }
  bool work_seen = false;
  for (const auto& n : c.all) {
    if (n.name == "work-start") {
      work_seen = true;
      EXPECT_EQ(n.parent_id, request_id) << "code between fetches nests under the application, not the statement";
      // The execution's end is its last fetch, after the work point.
      EXPECT_GE(c.stop_of(selects[0]).timestamp, n.timestamp);
    }
  }
  EXPECT_TRUE(work_seen);
  EXPECT_FALSE(work_id.empty());
}

TEST_P(soci_forms, rowset_iteration_is_one_point) {
  auto fx = GetParam();
  auto [cs, ns] = fx.make_db();
  traced_scope t;
  {
    osprofiler::soci::session sql(*fx.factory, cs);
    sql << "CREATE TABLE f_rowset (id INTEGER PRIMARY KEY)";
    for (int i = 1; i <= 10; ++i) sql << "INSERT INTO f_rowset (id) VALUES (" << i << ")";
    int sum = 0;
    ::soci::rowset<int> rs = (sql.prepare << "SELECT id FROM f_rowset");
    for (int v : rs) sum += v;
    EXPECT_EQ(sum, 55);
  }
  auto c = t.collect();
  std::vector<notification> selects;
  for (const auto& n : c.starts("execute")) {
    if (n.info["db"].value("statement", "") == "SELECT id FROM f_rowset") selects.push_back(n);
  }
  ASSERT_EQ(selects.size(), 1u) << c.text();
  EXPECT_EQ(c.stop_db(selects[0]).value("rows", -1), 10);
}

TEST_P(soci_forms, transaction_object_is_a_point_with_begin_statements_and_end_as_children) {
  auto fx = GetParam();
  auto [cs, ns] = fx.make_db();
  traced_scope t;
  {
    osprofiler::soci::session sql(*fx.factory, cs);
    sql << "CREATE TABLE f_tx (id INTEGER PRIMARY KEY)";
    {
      ::soci::transaction tr(sql);
      sql << "INSERT INTO f_tx (id) VALUES (1)";
      tr.commit();
    }
    {
      ::soci::transaction tr(sql);
      sql << "INSERT INTO f_tx (id) VALUES (2)";
    }  // rolled back by the destructor
    int n = -1;
    sql << "SELECT COUNT(*) FROM f_tx", ::soci::into(n);
    EXPECT_EQ(n, 1);
  }
  auto c = t.collect();
  auto tx = c.starts("transaction");
  ASSERT_EQ(tx.size(), 2u) << c.text();
  auto children_of = [&](const notification& p) {
    std::vector<std::string> apis;
    for (const auto& n : c.all) {
      if (is_start(n) && n.parent_id == p.trace_id) apis.push_back(api_of(n));
    }
    return apis;
  };
  EXPECT_EQ(children_of(tx[0]), (std::vector<std::string>{"begin", "execute", "commit"})) << c.text();
  EXPECT_EQ(children_of(tx[1]), (std::vector<std::string>{"begin", "execute", "rollback"})) << c.text();
  for (const auto& p : tx) EXPECT_GE(c.stop_of(p).timestamp, p.timestamp);
}

TEST_P(soci_forms, bulk_vectors_record_their_batch_size) {
  auto fx = GetParam();
  auto [cs, ns] = fx.make_db();
  traced_scope t(true, true);
  std::vector<int> got(30);
  int total = 0;
  {
    osprofiler::soci::session sql(*fx.factory, cs);
    sql << "CREATE TABLE f_bulk (id INTEGER PRIMARY KEY, v INTEGER)";
    std::vector<int> ids, vs;
    for (int i = 0; i < 100; ++i) {
      ids.push_back(i);
      vs.push_back(i * 2);
    }
    sql << "INSERT INTO f_bulk (id, v) VALUES (:id, :v)", ::soci::use(ids), ::soci::use(vs);
    ::soci::statement st = (sql.prepare << "SELECT id FROM f_bulk ORDER BY id", ::soci::into(got));
    st.execute();
    while (st.fetch()) total += static_cast<int>(got.size());
  }
  EXPECT_EQ(total, 100);
  auto c = t.collect();
  auto ex = c.starts("execute");
  ASSERT_EQ(ex.size(), 3u) << c.text();
  const auto insert_stop = c.stop_db(ex[1]);
  EXPECT_EQ(insert_stop.value("batch_size", -1), 100) << c.text();
  EXPECT_EQ(insert_stop.value("rows", -1), 100);
  const auto& params = ex[1].info["db"]["params"];
  ASSERT_TRUE(params.is_array() && params.size() == 2) << c.text();
  EXPECT_EQ(params[0].size(), 65u) << "64 values, then how many more";
  EXPECT_EQ(params[0][63], 63);
  EXPECT_EQ(params[0][64], "...[36 more]");
  EXPECT_EQ(params[1][1], 2);
  const auto select_stop = c.stop_db(ex[2]);
  EXPECT_EQ(select_stop.value("batch_size", -1), 30) << c.text();
  EXPECT_EQ(select_stop.value("rows", -1), 100) << c.text();
}

// One statement object bound anew (bind_clean_up, then other elements):
// rows are what the new set does, not what the old one did.
TEST_P(soci_forms, a_statement_bound_anew_counts_rows_for_its_new_elements) {
  auto fx = GetParam();
  if (fx.system == "postgresql") GTEST_SKIP() << "SOCI's PostgreSQL backend cannot prepare one statement object twice";
  auto [cs, ns] = fx.make_db();
  traced_scope t;
  long long affected = -1;
  {
    osprofiler::soci::session sql(*fx.factory, cs);
    sql << "CREATE TABLE f_rebind (id INTEGER PRIMARY KEY, v INTEGER)";
    sql << "INSERT INTO f_rebind (id, v) VALUES (1, 10)";
    ::soci::statement st(sql);
    int x = 0;
    st.exchange(::soci::into(x));
    st.alloc();
    st.prepare("SELECT v FROM f_rebind WHERE id = 1");
    st.define_and_bind();
    st.execute(true);
    EXPECT_EQ(x, 10);
    st.bind_clean_up();
    int v = 20;
    st.exchange(::soci::use(v));
    st.prepare("INSERT INTO f_rebind (id, v) VALUES (2, " + fx.placeholder + ")");
    st.define_and_bind();
    st.execute(true);
    affected = st.get_affected_rows();
  }
  EXPECT_EQ(affected, 1);
  auto c = t.collect();
  auto ex = c.starts("execute");
  ASSERT_EQ(ex.size(), 4u) << c.text();
  EXPECT_EQ(c.stop_db(ex[2]).value("rows", -1), 1) << c.text();
  EXPECT_EQ(c.stop_db(ex[3]).value("rows", -1), 1) << c.text();
}

// osprofiler::soci::session takes what soci::session takes:
// connection_parameters (with options) and a connection_pool.
TEST_P(soci_forms, a_session_opens_from_connection_parameters_traced) {
  auto fx = GetParam();
  auto [cs, ns] = fx.make_db();
  traced_scope t;
  {
    ::soci::connection_parameters params(*fx.factory, cs);
    params.set_option(::soci::option_reconnect, ::soci::option_true);
    osprofiler::soci::session sql(params);
    EXPECT_TRUE(osprofiler::soci::is_traced(sql));
    sql << "SELECT 1";
    osprofiler::soci::session later;
    later.open(params);
    EXPECT_TRUE(osprofiler::soci::is_traced(later));
    std::string value;
    EXPECT_TRUE(osprofiler::soci::traced(params).get_option(::soci::option_reconnect, value));
    EXPECT_EQ(value, ::soci::option_true);
  }
  auto c = t.collect();
  EXPECT_EQ(c.starts("connect").size(), 2u) << c.text();
  EXPECT_EQ(c.starts("execute").size(), 1u) << c.text();
}

TEST_P(soci_forms, errors_carry_category_and_code_and_reach_the_caller_unchanged) {
  auto fx = GetParam();
  auto [cs, ns] = fx.make_db();
  const std::string dup = "INSERT INTO f_err (id) VALUES (1)";
  const std::string bad = "SELEC nonsense FROM nowhere";
  // The same failures on an untraced session: what the caller must see.
  std::vector<std::string> raw_messages;
  {
    ::soci::session raw(*fx.factory, cs);
    raw << "CREATE TABLE f_err (id INTEGER PRIMARY KEY)";
    raw << dup;
    for (const auto& sql : {dup, bad}) {
      try {
        raw << sql;
      } catch (const ::soci::soci_error& e) {
        raw_messages.push_back(e.what());
      }
    }
    raw << "DELETE FROM f_err";
  }
  ASSERT_EQ(raw_messages.size(), 2u);
  traced_scope t;
  std::vector<std::string> traced_messages;
  std::vector<bool> native;
  {
    osprofiler::soci::session sql(*fx.factory, cs);
    sql << dup;
    for (const auto& s : {dup, bad}) {
      try {
        sql << s;
      } catch (const ::soci::soci_error& e) {
        traced_messages.push_back(e.what());
        native.push_back(fx.is_native(std::current_exception()));
      }
    }
  }
  EXPECT_EQ(traced_messages, raw_messages) << "the user's error is the driver's, unchanged";
  auto c = t.collect();
  std::vector<json> failures;
  for (const auto& n : c.all) {
    if (!is_start(n) && n.info.contains("etype")) failures.push_back(n.info);
  }
  ASSERT_EQ(failures.size(), 2u) << c.text();
  EXPECT_TRUE(native[0]);
  EXPECT_NE(failures[0]["etype"].get<std::string>().find("soci::"), std::string::npos) << failures[0];
  EXPECT_FALSE(failures[0].value("message", "").empty());
  EXPECT_TRUE(failures[0]["db"].contains("category")) << failures[0];
  const auto& code = failures[0]["db"][fx.code_key];
  EXPECT_EQ(code.is_string() ? code.get<std::string>() : code.dump(), fx.unique_code) << failures[0];
  EXPECT_FALSE(failures[1].value("message", "").empty()) << "a statement that fails to prepare is recorded too";
}

TEST_P(soci_forms, plain_soci_session_on_the_traced_factory) {
  auto fx = GetParam();
  auto [cs, ns] = fx.make_db();
  traced_scope t;
  {
    ::soci::session sql(osprofiler::soci::traced(*fx.factory), cs);
    EXPECT_TRUE(osprofiler::soci::is_traced(sql));
    ASSERT_NE(osprofiler::soci::native_backend(sql), nullptr);
    EXPECT_NE(osprofiler::soci::native_backend(sql), sql.get_backend()) << "the real backend is reachable";
    EXPECT_EQ(osprofiler::soci::native_backend(sql)->get_backend_name(), fx.system);
    EXPECT_EQ(sql.get_backend_name(), fx.system);
    int one = 0;
    sql << "SELECT 1", ::soci::into(one);
    EXPECT_EQ(one, 1);
  }
  {
    ::soci::session untraced(*fx.factory, cs);
    EXPECT_FALSE(osprofiler::soci::is_traced(untraced));
  }
  auto c = t.collect();
  EXPECT_EQ(c.starts("connect").size(), 1u) << "the untraced session records nothing\n" << c.text();
  EXPECT_EQ(c.starts("execute").size(), 1u);
  EXPECT_EQ(c.starts("close").size(), 1u);
  EXPECT_EQ(&osprofiler::soci::traced(*fx.factory), &osprofiler::soci::traced(osprofiler::soci::traced(*fx.factory)))
      << "one factory per backend; tracing twice does not wrap twice";
}

TEST_P(soci_forms, connection_pool_shared_by_threads_traces_each_thread_on_its_own) {
  auto fx = GetParam();
  if (!fx.pool_ok) GTEST_SKIP() << fx.name << ": sessions cannot write concurrently";
  auto [cs, ns] = fx.make_db();
  constexpr int threads = 4, per_thread = 5;
  const std::size_t pool_size = 2;  // fewer sessions than threads: they are shared
  tracing_scope scope;
  ::soci::connection_pool pool(pool_size);
  for (std::size_t i = 0; i < pool_size; ++i) pool.at(i).open(osprofiler::soci::traced(*fx.factory), cs);
  {
    ::soci::session setup(pool);
    setup << "CREATE TABLE f_pool (id INTEGER PRIMARY KEY, thread INTEGER)";
  }
  std::vector<std::string> bases(threads), requests(threads);
  std::vector<std::thread> workers;
  for (int w = 0; w < threads; ++w) {
    workers.emplace_back([&, w] {
      init("pool-key");
      bases[w] = get()->base_id();
      {
        osprofiler::trace request("request");
        requests[w] = get()->id();
        for (int i = 0; i < per_thread; ++i) {
          ::soci::session sql(pool);
          int id = w * 100 + i;
          sql << "INSERT INTO f_pool (id, thread) VALUES (:id, :t)", ::soci::use(id), ::soci::use(w);
        }
      }
      clean();
    });
  }
  for (auto& th : workers) th.join();
  int n = 0;
  {
    ::soci::session sql(pool);
    sql << "SELECT COUNT(*) FROM f_pool", ::soci::into(n);
  }
  EXPECT_EQ(n, threads * per_thread);
  collected c{scope.collect()};
  EXPECT_EQ(std::set<std::string>(bases.begin(), bases.end()).size(), static_cast<std::size_t>(threads));
  for (int w = 0; w < threads; ++w) {
    int inserts = 0;
    for (const auto& s : c.starts("execute")) {
      if (s.base_id != bases[w]) continue;
      ++inserts;
      EXPECT_EQ(s.parent_id, requests[w]) << "a thread's statements land in its own trace";
      EXPECT_EQ(c.stop_of(s).base_id, bases[w]);
    }
    EXPECT_EQ(inserts, per_thread) << "thread " << w << "\n" << c.text();
  }
}

}  // namespace osprofiler::testing
