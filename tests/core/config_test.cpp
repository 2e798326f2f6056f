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

TEST(Config, ReadsNestedSectionsAndTheirTables) {
  auto c = Config::parse(
      "[identity]\nstep_up_minutes = 5\n"
      "[identity.upstream.bundid]\nprotocol = \"saml\"\n"
      "[identity.upstream.fink]\nprotocol = \"oidc\"\ntypo = 1\n"
      "[identity.upstream.fink.acr_levels]\n\"urn:x:gold\" = \"high\"\n\"urn:x:tin\" = 3\n",
      "t.toml");
  ASSERT_TRUE(c);
  c->section("identity").integer("step_up_minutes", 30, 1, 60);
  auto names = c->subsections("identity.upstream");
  EXPECT_EQ(names, (std::vector<std::string>{"bundid", "fink"}));
  EXPECT_EQ(c->section("identity.upstream.bundid").string("protocol", ""), "saml");
  auto fink = c->section("identity.upstream.fink");
  EXPECT_EQ(fink.string("protocol", ""), "oidc");
  auto pairs = fink.string_pairs("acr_levels");
  ASSERT_EQ(pairs.size(), 1u);
  EXPECT_EQ(pairs[0], (std::pair<std::string, std::string>{"urn:x:gold", "high"}));
  EXPECT_EQ(problem_fields(c->check()),
            (std::vector<std::string>{"identity.upstream.fink.acr_levels.urn:x:tin",
                                      "identity.upstream.fink.typo"}));
}

// [delivery] has keys of its own beside its sections [delivery.bundid]: listing the
// sections leaves the keys to the section's reader (they were once refused as "must be a
// section").
TEST(Config, ASectionHasKeysBesideItsSubsections) {
  auto c = Config::parse(
      "[delivery]\nretry_hours = 5\n[delivery.bundid]\nendpoint = \"http://x\"\n", "t.toml");
  ASSERT_TRUE(c);
  EXPECT_EQ(c->subsections("delivery"), (std::vector<std::string>{"bundid"}));
  EXPECT_EQ(c->section("delivery").integer("retry_hours", 96, 1, 720), 5);
  EXPECT_EQ(c->section("delivery.bundid").string("endpoint", ""), "http://x");
  EXPECT_TRUE(c->check());
}

TEST(Config, ASubsectionMustBeATable) {
  auto c = Config::parse("[identity.upstream]\nbundid = 1\n", "t.toml");
  ASSERT_TRUE(c);
  EXPECT_TRUE(c->subsections("identity.upstream").empty());
  EXPECT_EQ(problem_fields(c->check()), (std::vector<std::string>{"identity.upstream.bundid"}));
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
