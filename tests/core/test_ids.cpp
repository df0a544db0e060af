#include <gtest/gtest.h>

#include <climits>
#include <regex>
#include <set>

#include "osprofiler/ids.h"
#include "osprofiler/notifier.h"

using osprofiler::uuid;

TEST(ids, generated_ids_are_canonical_lowercase_uuid4) {
  const std::regex uuid4("^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$");
  for (int i = 0; i < 1000; ++i) {
    const std::string s = uuid::generate().str();
    ASSERT_TRUE(std::regex_match(s, uuid4)) << s;
  }
}

TEST(ids, generated_ids_do_not_repeat) {
  std::set<std::string> seen;
  for (int i = 0; i < 100000; ++i) ASSERT_TRUE(seen.insert(uuid::generate().str()).second);
}

TEST(ids, parse_round_trips_and_normalises_case) {
  const auto u = uuid::generate();
  EXPECT_EQ(uuid::parse(u.str()), u);
  auto upper = uuid::parse("11111111-2222-3333-4444-AABBCCDDEEFF");
  ASSERT_TRUE(upper);
  EXPECT_EQ(upper->str(), "11111111-2222-3333-4444-aabbccddeeff");
  // Every digit in every position class: the formatter works byte by byte.
  const char* all = "01234567-89ab-cdef-fedc-ba9876543210";
  EXPECT_EQ(uuid::parse(all)->str(), all);
}

TEST(ids, parse_refuses_anything_else) {
  for (const char* bad : {"", "11111111-2222-3333-4444-5555555555", "11111111222233334444555555555555",
                          "{11111111-2222-3333-4444-555555555555}", "1111111g-2222-3333-4444-555555555555",
                          "11111111-2222-3333-4444-5555555555555", "11111111_2222-3333-4444-555555555555"}) {
    EXPECT_FALSE(uuid::parse(bad)) << bad;
  }
}

TEST(timestamps, format_has_six_fraction_digits_in_utc) {
  EXPECT_EQ(osprofiler::format_timestamp(0), "1970-01-01T00:00:00.000000");
  EXPECT_EQ(osprofiler::format_timestamp(1795277681833431LL), "2026-11-21T16:14:41.833431");
  EXPECT_EQ(osprofiler::format_timestamp(-1), "1969-12-31T23:59:59.999999");
  // Within one second only the microseconds change (the cached prefix is reused).
  EXPECT_EQ(osprofiler::format_timestamp(1795277681000001LL), "2026-11-21T16:14:41.000001");
  EXPECT_EQ(osprofiler::format_timestamp(1795277681999999LL), "2026-11-21T16:14:41.999999");
  EXPECT_EQ(osprofiler::format_timestamp(1795277682000000LL), "2026-11-21T16:14:42.000000");
  // Absurd times still give 26 characters, never a crash.
  EXPECT_EQ(osprofiler::format_timestamp(INT64_MAX).size(), 26u);
  EXPECT_EQ(osprofiler::format_timestamp(INT64_MIN).size(), 26u);
}

TEST(timestamps, parse_inverts_format_and_accepts_short_fractions) {
  for (std::int64_t us : {0LL, 1795277681833431LL, 951782400000001LL /* 2000-02-29 */}) {
    EXPECT_EQ(osprofiler::parse_timestamp(osprofiler::format_timestamp(us)), us);
  }
  EXPECT_EQ(osprofiler::parse_timestamp("2016-04-18T17:42:10.77"), 1461001330770000LL);
  EXPECT_EQ(osprofiler::parse_timestamp("2016-04-18T17:42:10"), 1461001330000000LL);
  for (const char* bad : {"", "2016-04-18", "2016-04-18 17:42:10.1", "2016-13-18T17:42:10.1",
                          "2016-04-18T17:42:10.", "2016-04-18T17:42:10.1234567", "2016-04-18T17:42:10.12a"}) {
    EXPECT_FALSE(osprofiler::parse_timestamp(bad)) << bad;
  }
}
