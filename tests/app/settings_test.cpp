#include "settings.hpp"

#include <gtest/gtest.h>

#include <fstream>
#include <mvsp/core/config.hpp>
#include <mvsp/identity/component.hpp>
#include <set>

#include "app.hpp"
#include "support.hpp"

namespace mvsp::app {
namespace {

std::map<std::string, std::string> g_env;
std::optional<std::string> fake_env(const char* name) {
  auto it = g_env.find(name);
  if (it == g_env.end()) return std::nullopt;
  return it->second;
}

core::Result<Settings> load(std::vector<std::string> args) {
  std::vector<char*> argv{const_cast<char*>("mvsp")};
  for (auto& a : args) argv.push_back(a.data());
  auto cli = parse_command_line(static_cast<int>(argv.size()), argv.data());
  if (!cli) return core::fail(cli.error());
  return load_settings(*cli, &fake_env);
}

class SettingsTest : public ::testing::Test {
 protected:
  void SetUp() override { g_env.clear(); }
  std::string write_config(const std::string& text) {
    auto path = (dir_.path() / "mvsp.toml").string();
    std::ofstream(path) << text;
    return path;
  }
  test::TempDir dir_;
};

TEST_F(SettingsTest, DefaultsRunOutOfTheBox) {
  auto s = load({"serve"});
  ASSERT_TRUE(s) << s.error().message;
  EXPECT_EQ(s->listen, "127.0.0.1:8080");
  EXPECT_EQ(s->public_url, "http://127.0.0.1:8080");
  EXPECT_EQ(s->database, "sqlite:var/mvsp.db");
}

TEST_F(SettingsTest, CommandLineBeatsEnvironmentBeatsFile) {
  auto config = write_config(
      "[server]\nlisten = \"0.0.0.0:9000\"\npublic_url = \"https://file.example/\"\n"
      "[database]\nurl = \"sqlite:file.db\"\n");
  g_env["MVSP_CONFIG"] = config;
  g_env["MVSP_DATABASE"] = "sqlite:env.db";
  g_env["MVSP_PUBLIC_URL"] = "https://env.example";
  auto s = load({"serve", "--public-url", "https://cli.example/"});
  ASSERT_TRUE(s) << s.error().message;
  EXPECT_EQ(s->listen, "0.0.0.0:9000");
  EXPECT_EQ(s->database, "sqlite:env.db");
  EXPECT_EQ(s->public_url, "https://cli.example");
}

TEST_F(SettingsTest, ReadsUpstreamProviders) {
  auto cert = (dir_.path() / "idp.crt").string();
  std::ofstream(cert) << "-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n";
  auto config = write_config(
      "[identity.upstream.bundid]\nprotocol = \"saml\"\nlabel = \"BundID\"\n"
      "sso_url = \"https://id.example/sso\"\nidp_entity_id = \"https://id.example\"\n"
      "idp_certificate = \"" +
      cert +
      "\"\n"
      "[identity.upstream.land]\nprotocol = \"oidc\"\nissuer = \"https://login.land.example/\"\n"
      "client_id = \"mvsp\"\nclient_secret = \"s3cret\"\n"
      "[identity.upstream.land.acr_levels]\n\"urn:land:gold\" = \"high\"\n");
  auto s = load({"serve", "--config", config});
  ASSERT_TRUE(s) << s.error().message;
  // The identity component reads them from the same text when the App is built.
  auto parsed = core::Config::parse(s->config_text, config);
  ASSERT_TRUE(parsed);
  auto upstreams = identity::read_settings(*parsed).upstreams;
  ASSERT_EQ(upstreams.size(), 2u);
  EXPECT_EQ(upstreams[0].name, "bundid");
  EXPECT_NE(upstreams[0].idp_certificate_pem.find("BEGIN CERTIFICATE"), std::string::npos);
  EXPECT_EQ(upstreams[1].issuer, "https://login.land.example");
  EXPECT_EQ(upstreams[1].label, "land");
  ASSERT_EQ(upstreams[1].acr_levels.size(), 1u);
  EXPECT_EQ(upstreams[1].acr_levels[0].second, "high");
}

// Each component checks its own sections, and load_settings runs them all before anything
// starts: a bad value of any component stops the start, named by its key.
TEST_F(SettingsTest, EachComponentChecksItsOwnSection) {
  auto config = write_config(
      "[identity]\nstep_up_minutes = 0\n[mailbox]\ndeemed_after_days = 99\n"
      "[delivery]\nretry_hours = 5\nburst = 0\n[delivery.fax]\nendpoint = \"http://x\"\n"
      "[delivery.bundid]\nendpoint = \"https://zbp.example\"\n"
      "author_key = \"/nonexistent.pem\"\nauthor_certificate = \"/nonexistent.crt\"\n"
      "[finder]\nlanguage = \"de\"\n");
  auto s = load({"serve", "--config", config});
  ASSERT_FALSE(s);
  std::set<std::string> fields;
  for (const auto& f : s.error().fields) fields.insert(f.field);
  EXPECT_EQ(fields, (std::set<std::string>{"identity.step_up_minutes", "mailbox.deemed_after_days",
                                           "delivery.burst", "delivery.fax.endpoint",
                                           "delivery.bundid.author_key",
                                           "delivery.bundid.author_certificate", "finder"}));
}

// Settings made in code (as tests make them) are checked by the components when the App is
// built.
TEST_F(SettingsTest, TheAppRefusesABadComponentSection) {
  Settings s;
  s.database = "sqlite:" + (dir_.path() / "mvsp.db").string();
  s.data_dir = dir_.path();
  s.config_text = "[delivery]\nrate_per_second = 0\n";
  try {
    App app(s);
    FAIL() << "built with a bad [delivery] section";
  } catch (const core::Failure& e) {
    EXPECT_NE(std::string(e.what()).find("delivery.rate_per_second"), std::string::npos)
        << e.what();
  }
}

TEST_F(SettingsTest, BadUpstreamsAreNamedKeyByKey) {
  auto config = write_config(
      "[identity.upstream.bundid]\nprotocol = \"saml\"\nsso_url = \"ftp://x\"\n"
      "idp_certificate = \"/nonexistent.crt\"\nclient_id = \"x\"\n"
      "[identity.upstream.land]\nprotocol = \"oauth1\"\n"
      "[identity.upstream.fink]\nprotocol = \"oidc\"\nissuer = \"https://f.example\"\n"
      "client_id = \"a\"\nclient_secret = \"b\"\n"
      "[identity.upstream.fink.acr_levels]\n\"urn:x\" = \"very high\"\n");
  auto s = load({"serve", "--config", config});
  ASSERT_FALSE(s);
  std::set<std::string> fields;
  for (const auto& f : s.error().fields) fields.insert(f.field);
  for (const char* f :
       {"identity.upstream.bundid.sso_url", "identity.upstream.bundid.idp_entity_id",
        "identity.upstream.bundid.idp_certificate", "identity.upstream.bundid.client_id",
        "identity.upstream.land.protocol", "identity.upstream.fink.acr_levels"}) {
    EXPECT_TRUE(fields.contains(f)) << f;
  }
}

TEST_F(SettingsTest, AnUnknownKeyStopsTheStartAndIsNamed) {
  auto config = write_config("[server]\nthreads = 64\nlisten_address = \"x\"\n");
  auto s = load({"serve", "--config=" + config});
  ASSERT_FALSE(s);
  ASSERT_EQ(s.error().fields.size(), 1u);
  EXPECT_EQ(s.error().fields[0].field, "server.listen_address");
}

TEST_F(SettingsTest, BadValuesAreNamed) {
  auto config = write_config("[server]\nthreads = 1\n[secrets]\nmaster_key = \"abc\"\n");
  auto s = load({"serve", "--config", config, "--listen", "localhost", "--database", "mysql://x"});
  ASSERT_FALSE(s);
  std::vector<std::string> fields;
  for (const auto& f : s.error().fields) fields.push_back(f.field);
  EXPECT_EQ(fields, (std::vector<std::string>{"server.threads", "server.listen", "database.url",
                                              "secrets.master_key"}));
}

TEST_F(SettingsTest, ReadsTheVirusScannerAndNamesItsBadValues) {
  auto defaults = load({"serve"});
  ASSERT_TRUE(defaults) << defaults.error().message;
  EXPECT_EQ(defaults->clamav_host, "127.0.0.1");
  EXPECT_EQ(defaults->clamav_port, 3310);
  EXPECT_EQ(defaults->clamav_timeout_seconds, 30);

  auto s = load({"serve", "--config",
                 write_config("[clamav]\nhost = \"scan.internal\"\nport = 3311\n"
                              "timeout_seconds = 5\n")});
  ASSERT_TRUE(s) << s.error().message;
  EXPECT_EQ(s->clamav_host, "scan.internal");
  EXPECT_EQ(s->clamav_port, 3311);
  EXPECT_EQ(s->clamav_timeout_seconds, 5);

  auto bad =
      load({"serve", "--config",
            write_config("[clamav]\nhost = \"\"\nport = 0\ntimeout_seconds = 0\nsocket = 1\n")});
  ASSERT_FALSE(bad);
  std::set<std::string> fields;
  for (const auto& f : bad.error().fields) fields.insert(f.field);
  EXPECT_EQ(fields, (std::set<std::string>{"clamav.host", "clamav.port", "clamav.timeout_seconds",
                                           "clamav.socket"}));
}

TEST_F(SettingsTest, UnknownOptionsAreNamed) {
  auto s = load({"serve", "--databse", "x"});
  ASSERT_FALSE(s);
  EXPECT_EQ(s.error().fields[0].message, "unknown option --databse");
}

TEST_F(SettingsTest, OptionsNeedTheirValues) {
  auto s = load({"serve", "--listen"});
  ASSERT_FALSE(s);
  EXPECT_EQ(s.error().fields[0].field, "--listen");
}

}  // namespace
}  // namespace mvsp::app
