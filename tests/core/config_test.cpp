#include <gtest/gtest.h>

#include <mvsp/core/config.hpp>

namespace mvsp::core {
namespace {

std::vector<std::string> problem_fields(const Status& s) {
  std::vector<std::string> out;
  if (!s) {
    for (const auto& f : s.error().fields) out.push_back(f.field);
  }
  return out;
}

TEST(Config, ReadsTypedValuesAndDefaults) {
  auto c = Config::parse("[server]\nthreads = 32\nname = \"x\"\n[log]\njson = true\n", "t.toml");
  ASSERT_TRUE(c);
  auto server = c->section("server");
  EXPECT_EQ(server.integer("threads", 8, 1, 100), 32);
  EXPECT_EQ(server.integer("absent", 8, 1, 100), 8);
  EXPECT_EQ(server.string("name", ""), "x");
  EXPECT_TRUE(c->section("log").boolean("json", false));
  EXPECT_TRUE(c->check());
}

TEST(Config, NamesUnknownKeysAndSections) {
  auto c = Config::parse("[server]\nthreads = 32\nthraeds = 2\n[sever]\nx = 1\n", "t.toml");
  ASSERT_TRUE(c);
  c->section("server").integer("threads", 8, 1, 100);
  auto fields = problem_fields(c->check());
  EXPECT_EQ(fields, (std::vector<std::string>{"server.thraeds", "sever"}));
  EXPECT_NE(c->check().error().fields[0].message.find("unknown key server.thraeds"),
            std::string::npos);
}

TEST(Config, NamesBadValues) {
  auto c = Config::parse(
      "[server]\nthreads = \"many\"\nport = 99999\n[log]\nlevel = \"loud\"\nflag = 1\n", "t.toml");
  ASSERT_TRUE(c);
  auto server = c->section("server");
  EXPECT_EQ(server.integer("threads", 8, 1, 100), 8);
  EXPECT_EQ(server.integer("port", 80, 0, 65535), 80);
  auto log = c->section("log");
  EXPECT_EQ(log.choice("level", "info", {"debug", "info"}), "info");
  log.boolean("flag", false);
  auto st = c->check();
  ASSERT_FALSE(st);
  EXPECT_EQ(problem_fields(st),
            (std::vector<std::string>{"server.threads", "server.port", "log.level", "log.flag"}));
  EXPECT_NE(st.error().fields[1].message.find("between 0 and 65535"), std::string::npos);
}

TEST(Config, ReportsSyntaxErrorsWithTheLine) {
  auto c = Config::parse("[server]\nthreads = \n", "mvsp.toml");
  ASSERT_FALSE(c);
  EXPECT_NE(c.error().message.find("mvsp.toml:2"), std::string::npos) << c.error().message;
}

TEST(Config, MissingFileIsAnError) {
  auto c = Config::load("/nonexistent/mvsp.toml");
  ASSERT_FALSE(c);
  EXPECT_EQ(c.error().code, ErrorCode::invalid_input);
}

}  // namespace
}  // namespace mvsp::core
