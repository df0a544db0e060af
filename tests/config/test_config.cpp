#include <gtest/gtest.h>

#include <cstdlib>
#include <fstream>

#include "osprofiler/config.h"
#include "osprofiler/notifier.h"
#include "osprofiler/profiler.h"
#include "test_support.h"

namespace op = osprofiler;

namespace {
std::string write_conf(const std::string& text) {
  static int n = 0;
  auto path = op::testing::temp_dir("conf") / ("c" + std::to_string(n++) + ".conf");
  std::ofstream(path) << text;
  return path.string();
}

// Clears OSPROFILER_* variables for the test and restores them afterwards.
class config_test : public ::testing::Test {
 protected:
  void SetUp() override {
    for (const char* v : vars) unsetenv(v);
  }
  void TearDown() override {
    for (const char* v : vars) unsetenv(v);
    op::notifier::set(std::shared_ptr<op::collector>{});
    op::set_options(op::options{});
    op::clean();
  }
  static constexpr const char* vars[] = {"OSPROFILER_ENABLED", "OSPROFILER_TRACE_SQL", "OSPROFILER_QUEUE_SIZE",
                                         "OSPROFILER_CONNECTION_STRING", "OSPROFILER_OVERFLOW_POLICY",
                                         "OSPROFILER_HMAC_KEYS"};
};
}  // namespace

TEST_F(config_test, defaults_are_all_off) {
  const op::options o = op::load_options(write_conf("[DEFAULT]\ndebug = true\n"));
  EXPECT_FALSE(o.enabled);
  EXPECT_FALSE(o.trace_sql);
  EXPECT_FALSE(o.trace_sql_params);
  EXPECT_TRUE(o.connection_string.empty());
  EXPECT_EQ(o.overflow, op::overflow_policy::drop);
}

TEST_F(config_test, an_openstack_service_config_file_works) {
  const auto path = write_conf(R"([DEFAULT]
transport_url = rabbit://guest:guest@localhost:5672/

[database]
connection = mysql+pymysql://nova:pw@db/nova

[profiler]
# the usual OpenStack profiler section
enabled = True
trace_sqlalchemy = true
hmac_keys = SECRET_KEY, older_key
connection_string = postgresql://osprofiler@db/osprofiler
queue_size = 4096
overflow_policy = block
trace_sql_params = no
)");
  std::vector<std::string> warnings;
  const op::options o = op::load_options(path, &warnings);
  EXPECT_TRUE(warnings.empty());
  EXPECT_TRUE(o.enabled);
  EXPECT_TRUE(o.trace_sql) << "trace_sqlalchemy is the OpenStack alias";
  EXPECT_FALSE(o.trace_sql_params);
  EXPECT_EQ(o.hmac_keys, "SECRET_KEY, older_key");
  EXPECT_EQ(o.connection_string, "postgresql://osprofiler@db/osprofiler");
  EXPECT_EQ(o.queue_size, 4096u);
  EXPECT_EQ(o.overflow, op::overflow_policy::block);
}

TEST_F(config_test, bad_values_name_file_key_value_and_expectation) {
  const auto path = write_conf("[profiler]\nenabled = maybe\n");
  try {
    op::load_options(path);
    FAIL() << "no error";
  } catch (const op::config_error& e) {
    const std::string m = e.what();
    EXPECT_NE(m.find(path), std::string::npos) << m;
    EXPECT_NE(m.find("enabled"), std::string::npos) << m;
    EXPECT_NE(m.find("maybe"), std::string::npos) << m;
    EXPECT_NE(m.find("boolean"), std::string::npos) << m;
  }
  for (const char* text : {"[profiler]\nqueue_size = -5\n", "[profiler]\nqueue_size = lots\n",
                           "[profiler]\noverflow_policy = sometimes\n", "[profiler]\nqueue_size = 1\n",
                           // a typo, not a plan: it would try to allocate terabytes
                           "[profiler]\nqueue_size = 999999999999\n"}) {
    EXPECT_THROW(op::load_options(write_conf(text)), op::config_error) << text;
  }
  EXPECT_EQ(op::load_options(write_conf("[profiler]\nqueue_size = 16777216\n")).queue_size, 16777216u);
  // oslo.config has no inline comments either: the value is all after "=".
  EXPECT_THROW(op::load_options(write_conf("[profiler]\nenabled = true  # on\n")), op::config_error);
}

TEST_F(config_test, broken_or_missing_files_are_errors) {
  EXPECT_THROW(op::load_options("/nonexistent/osprofiler.conf"), op::config_error);
  std::vector<std::string> warnings;
  op::load_options(write_conf("[profiler]\nenabled = true\nthis line is not ini\n"), &warnings);
  ASSERT_EQ(warnings.size(), 1u);
  EXPECT_NE(warnings[0].find("this line is not ini"), std::string::npos) << warnings[0];
  // A key whose "=" went missing is a bad value, not a silent default.
  EXPECT_THROW(op::load_options(write_conf("[profiler]\nenabled\n")), op::config_error);
  // A section header without its "]" (SimpleIni would skip the line, and the
  // keys after it would land in the section before, profiling off).
  const auto typo = write_conf("[DEFAULT]\ndebug = true\n[profiler\nenabled = true\n");
  try {
    op::load_options(typo);
    FAIL() << "no error";
  } catch (const op::config_error& e) {
    EXPECT_EQ(std::string(e.what()), "configuration file '" + typo + "', line 3: section header '[profiler' has no closing ']'");
  }
  // A directory is not a file: the message says why.
  try {
    op::load_options("/tmp");
    FAIL() << "no error";
  } catch (const op::config_error& e) {
    EXPECT_NE(std::string(e.what()).find("Is a directory"), std::string::npos) << e.what();
  }
}

// What oslo.config reads in a file, read alike here (oslo_config/iniparser.py):
// ':' as the separator, one pair of quotes around a value, indented lines
// continuing a value, and enabled's deprecated name profiler_enabled.
TEST_F(config_test, oslo_config_syntax_reads_as_python_reads_it) {
  std::vector<std::string> warnings;
  const op::options o = op::load_options(write_conf(R"([profiler]
profiler_enabled = true
hmac_keys = "k1,
    k2"
project: 'nova'
service = "api'
connection_string : postgresql://u:pw@db/traces
)"),
                                         &warnings);
  EXPECT_TRUE(warnings.empty()) << warnings.front();
  EXPECT_TRUE(o.enabled);
  EXPECT_EQ(o.hmac_keys, "\"k1, k2\"") << "quotes come off the first line only, as in oslo.config";
  EXPECT_EQ(o.project, "nova");
  EXPECT_EQ(o.service, "\"api'") << "only a matching pair";
  EXPECT_EQ(o.connection_string, "postgresql://u:pw@db/traces");
  EXPECT_EQ(op::load_options(write_conf("[profiler]\nhmac_keys = \"k1\"\n")).hmac_keys, "k1");
  EXPECT_EQ(op::load_options(write_conf("[profiler]\nhmac_keys = k1,\n\tk2\n")).hmac_keys, "k1, k2");
  // An indented line is a value's continuation even when it starts with '['.
  EXPECT_EQ(op::load_options(write_conf("[profiler]\nhmac_keys = k1\n    [k2\n")).hmac_keys, "k1 [k2");
  // oslo.config refuses these files; so does this library, naming the line.
  const auto orphan = write_conf("[profiler]\n  enabled = true\n");
  try {
    op::load_options(orphan);
    FAIL() << "no error";
  } catch (const op::config_error& e) {
    EXPECT_EQ(std::string(e.what()), "configuration file '" + orphan +
                                         "', line 2: continuation line with no value before it: 'enabled = true'");
  }
  EXPECT_THROW(op::load_options(write_conf("[profiler]\n= true\n")), op::config_error);
}

TEST_F(config_test, unknown_keys_are_warned_about) {
  std::vector<std::string> warnings;
  op::load_options(write_conf("[profiler]\nenabeld = true\n"), &warnings);
  ASSERT_EQ(warnings.size(), 1u);
  EXPECT_NE(warnings[0].find("enabeld"), std::string::npos);
}

TEST_F(config_test, environment_overrides_the_file) {
  setenv("OSPROFILER_ENABLED", "1", 1);
  setenv("OSPROFILER_QUEUE_SIZE", "128", 1);
  setenv("OSPROFILER_CONNECTION_STRING", "file:///tmp/x.jsonl", 1);
  const op::options o = op::load_options(write_conf("[profiler]\nenabled = false\nqueue_size = 64\n"));
  EXPECT_TRUE(o.enabled);
  EXPECT_EQ(o.queue_size, 128u);
  EXPECT_EQ(o.connection_string, "file:///tmp/x.jsonl");
  setenv("OSPROFILER_TRACE_SQL", "perhaps", 1);
  try {
    op::apply_environment({});
    FAIL();
  } catch (const op::config_error& e) {
    EXPECT_NE(std::string(e.what()).find("OSPROFILER_TRACE_SQL"), std::string::npos) << e.what();
  }
}

TEST_F(config_test, long_values_are_read_whole) {
  std::string keys;
  for (int i = 0; i < 60; ++i) keys += (i ? "," : "") + std::string("key-number-") + std::to_string(i);
  const op::options o = op::load_options(write_conf("[profiler]\nhmac_keys = " + keys + "\n"));
  EXPECT_EQ(o.hmac_keys, keys);
}

TEST_F(config_test, init_from_conf_sets_up_collector_switches_and_identity) {
  const auto dir = op::testing::temp_dir("initconf");
  op::options o;
  o.enabled = true;
  o.trace_sql = true;
  o.hmac_keys = "k1";
  o.connection_string = "file://" + (dir / "t.jsonl").string();
  op::init_from_conf(o, "nova", "nova-api", "compute-1");
  EXPECT_TRUE(op::enabled());
  EXPECT_TRUE(op::trace_sql());
  op::init("k1");
  { op::trace t("wsgi"); }
  ASSERT_TRUE(op::notifier::flush());
  std::ifstream in(dir / "t.jsonl");
  std::string line;
  ASSERT_TRUE(std::getline(in, line));
  auto j = nlohmann::json::parse(line);
  EXPECT_EQ(j["project"], "nova");
  EXPECT_EQ(j["service"], "nova-api");

  op::options bad = o;
  bad.connection_string = "mongodb://nowhere";
  EXPECT_THROW(op::init_from_conf(bad, "p", "s"), std::invalid_argument);
}

TEST_F(config_test, init_from_conf_disabled_records_nothing) {
  op::init_from_conf(op::options{}, "p", "s");
  EXPECT_FALSE(op::enabled());
  EXPECT_FALSE(op::active());
}
