// What the adapter keeps of a PostgreSQL error message under each switch
// (detail::scrub_message), on messages in the form libpq produces them.
#include <gtest/gtest.h>

#include "osprofiler/pqxx/detail.h"

namespace {

using osprofiler::pqxx::detail::scrub_message;

const char* const unique =
    "ERROR:  duplicate key value violates unique constraint \"t_pkey\"\n"
    "DETAIL:  Key (id)=(5) already exists.\n";

const char* const syntax =
    "ERROR:  syntax error at or near \"FRM\"\n"
    "LINE 1: SELECT secret_column FRM t\n"
    "                             ^\n";

const char* const plpgsql =
    "ERROR:  boom\n"
    "HINT:  try again\n"
    "CONTEXT:  SQL statement \"INSERT INTO audit VALUES (42)\"\n"
    "PL/pgSQL function f() line 3 at SQL statement\n";

TEST(pqxx_message, detail_only_with_params) {
  EXPECT_EQ(scrub_message(unique, "", true, false), "ERROR:  duplicate key value violates unique constraint \"t_pkey\"");
  EXPECT_EQ(scrub_message(unique, "", true, true), std::string(unique).substr(0, std::string(unique).size() - 1));
}

TEST(pqxx_message, statement_echo_only_with_sql) {
  EXPECT_EQ(scrub_message(syntax, "SELECT secret_column FRM t", false, true), "ERROR:  syntax error at or near \"FRM\"");
  const std::string kept = scrub_message(syntax, "SELECT secret_column FRM t", true, true);
  EXPECT_NE(kept.find("LINE 1: SELECT secret_column FRM t"), std::string::npos);
  EXPECT_NE(kept.find('^'), std::string::npos) << "the caret line belongs to the LINE field";
}

TEST(pqxx_message, context_needs_both_switches_and_continuation_lines_follow_their_field) {
  EXPECT_EQ(scrub_message(plpgsql, "", false, false), "ERROR:  boom\nHINT:  try again");
  EXPECT_EQ(scrub_message(plpgsql, "", true, false), "ERROR:  boom\nHINT:  try again");
  EXPECT_EQ(scrub_message(plpgsql, "", true, true), std::string(plpgsql).substr(0, std::string(plpgsql).size() - 1));
}

TEST(pqxx_message, the_query_text_is_cut_wherever_it_appears_without_trace_sql) {
  const std::string msg = "failed while running: UPDATE secrets SET v = 1\n";
  EXPECT_EQ(scrub_message(msg, "UPDATE secrets SET v = 1", false, true), "failed while running: <statement>");
  // A statement of several lines goes whole, before lines are sorted out.
  EXPECT_EQ(scrub_message("failed while running: SELECT secret_col\nFROM t\n", "SELECT secret_col\nFROM t", false, true),
            "failed while running: <statement>");
  EXPECT_EQ(scrub_message(msg, "UPDATE secrets SET v = 1", true, true), "failed while running: UPDATE secrets SET v = 1");
}

// libpq translates the LINE label (LANG=de_DE: "ZEILE 1:"), and shows only a
// window of a long line, so neither the label nor the whole query finds the
// echo: lines of no known field go unless both switches are on.
TEST(pqxx_message, lines_of_unknown_fields_go_unless_nothing_is_hidden) {
  const std::string german =
      "ERROR:  syntax error at or near \"FRM\"\n"
      "ZEILE 1: ...card = '4111-1111-1111-1111' AND secret_column FRM x\n"
      "                                                          ^\n";
  EXPECT_EQ(scrub_message(german, "SELECT whole query", false, true), "ERROR:  syntax error at or near \"FRM\"");
  EXPECT_EQ(scrub_message(german, "", true, false), "ERROR:  syntax error at or near \"FRM\"");
  EXPECT_EQ(scrub_message(german, "", true, true), german.substr(0, german.size() - 1));
  const std::string detail = std::string(unique) + "Key (id)=(6) too\n";
  EXPECT_EQ(scrub_message(detail, "", true, false), "ERROR:  duplicate key value violates unique constraint \"t_pkey\"");
}

TEST(pqxx_message, messages_that_are_not_from_the_server_pass_through) {
  EXPECT_EQ(scrub_message("Expected 1 row(s) of data from query, got 0.", "", false, false),
            "Expected 1 row(s) of data from query, got 0.");
  EXPECT_EQ(scrub_message("", "", false, false), "");
  EXPECT_EQ(scrub_message("bad \xff byte\n", "", false, false), "bad \xff byte");
}

}  // namespace
