// `mvsp` as operators run it.
#include <fmt/format.h>
#include <gtest/gtest.h>

#include <algorithm>
#include <cctype>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <mvsp/core/audit.hpp>
#include <mvsp/core/db.hpp>
#include <regex>
#include <sstream>

#include "process.hpp"
#include "support.hpp"

namespace mvsp::app {
namespace {

using test::run_mvsp;

TEST(Cli, PrintsTheVersionAndHelp) {
  auto v = run_mvsp("version");
  EXPECT_EQ(v.exit_code, 0);
  EXPECT_EQ(v.output.rfind("mvsp ", 0), 0u);
  auto h = run_mvsp("help");
  EXPECT_NE(h.output.find("--public-url"), std::string::npos);
  // After a command, --help shows the help and starts nothing (it once ran the simulator).
  auto simulate_help = run_mvsp("simulate eid --help --listen 127.0.0.1:1");
  EXPECT_EQ(simulate_help.exit_code, 0);
  EXPECT_NE(simulate_help.output.find("simulate eid"), std::string::npos);
  EXPECT_EQ(simulate_help.output.find("entity_id\""), std::string::npos);
  EXPECT_EQ(run_mvsp("frobnicate").exit_code, 2);
  auto stray = run_mvsp("migrate now --database sqlite:/nonexistent/x.db");
  EXPECT_EQ(stray.exit_code, 2);
  EXPECT_NE(stray.output.find("unexpected argument \"now\""), std::string::npos) << stray.output;
}

TEST(Cli, AnUnknownConfigKeyStopsTheStartWithItsName) {
  test::TempDir dir;
  auto config = (dir.path() / "mvsp.toml").string();
  std::ofstream(config) << "[server]\nlisten = \"127.0.0.1:0\"\nmax_body = 10\n";
  auto serve = run_mvsp("serve --config " + config);
  EXPECT_EQ(serve.exit_code, 2);
  EXPECT_NE(serve.output.find("server.max_body"), std::string::npos) << serve.output;
  auto check = run_mvsp("config check --config " + config);
  EXPECT_EQ(check.exit_code, 2);
  EXPECT_NE(check.output.find("unknown key server.max_body"), std::string::npos);
}

// Run where there is no installation, a command that works on one says so and makes
// nothing (it once set up an empty database and a new master key and reported an empty
// catalog as if all were well).
TEST(Cli, ACommandOnAMissingDatabaseSaysSoAndMakesNothing) {
  test::TempDir dir;
  auto args = " --database sqlite:" + (dir.path() / "var" / "mvsp.db").string() + " --data-dir " +
              (dir.path() / "var").string();
  for (const char* command : {"catalog export", "jobs dead", "mailbox erase-orphans", "keys rotate",
                              "audit verify", "delivery client fv"}) {
    auto run = run_mvsp(command + args);
    EXPECT_EQ(run.exit_code, 1) << command << ": " << run.output;
    EXPECT_NE(run.output.find("there is no database at"), std::string::npos) << command;
  }
  EXPECT_FALSE(std::filesystem::exists(dir.path() / "var")) << "nothing was set up";
  EXPECT_EQ(run_mvsp("migrate" + args).exit_code, 0);
  auto dead = run_mvsp("jobs dead" + args);
  EXPECT_EQ(dead.exit_code, 0) << dead.output;
  EXPECT_NE(dead.output.find("no dead jobs"), std::string::npos) << dead.output;
}

TEST(Cli, ConfigCheckShowsTheEffectiveSettingsWithoutThePassword) {
  auto check = run_mvsp("config check --database postgresql://mvsp:geheim@db/mvsp");
  EXPECT_EQ(check.exit_code, 0) << check.output;
  EXPECT_NE(check.output.find("postgresql://mvsp:***@db/mvsp"), std::string::npos);
  EXPECT_EQ(check.output.find("geheim"), std::string::npos);
}

// An editor's file from the FIM repository becomes the draft of a form; the code list it
// references is read from the folder beside it. A broken file sets nothing up.
TEST(Cli, ImportsAnXDatenfelderFileWithTheCodeListsBesideIt) {
  test::TempDir dir;
  auto args = " --database sqlite:" + (dir.path() / "var" / "mvsp.db").string() + " --data-dir " +
              (dir.path() / "var").string();
  std::ofstream(dir.path() / "kfz.xml") << R"(<?xml version="1.0" encoding="UTF-8"?>
<xdf:xdatenfelder.stammdatenschema.0102 xmlns:xdf="urn:xoev-de:fim:standard:xdatenfelder_2">
<xdf:stammdatenschema>
<xdf:identifikation><xdf:id>S1</xdf:id><xdf:version>1.0</xdf:version></xdf:identifikation>
<xdf:name>Kfz-Zulassung</xdf:name>
<xdf:struktur><xdf:anzahl>1:1</xdf:anzahl><xdf:enthaelt><xdf:datenfeld>
<xdf:identifikation><xdf:id>F1</xdf:id><xdf:version>1.0</xdf:version></xdf:identifikation>
<xdf:name>Fahrzeugart</xdf:name>
<xdf:feldart><code>select</code></xdf:feldart><xdf:datentyp><code>text</code></xdf:datentyp>
<xdf:codelisteReferenz><xdf:genericodeIdentification>
<xdf:canonicalIdentification>urn:de:test:fahrzeugart</xdf:canonicalIdentification>
<xdf:canonicalVersionUri>urn:de:test:fahrzeugart_1</xdf:canonicalVersionUri>
</xdf:genericodeIdentification></xdf:codelisteReferenz>
</xdf:datenfeld></xdf:enthaelt></xdf:struktur>
</xdf:stammdatenschema>
</xdf:xdatenfelder.stammdatenschema.0102>
)";
  std::ofstream(dir.path() / "fahrzeugart.xml") << R"(<?xml version="1.0" encoding="UTF-8"?>
<gc:CodeList xmlns:gc="http://docs.oasis-open.org/codelist/ns/genericode/1.0/">
<Identification><CanonicalVersionUri>urn:de:test:fahrzeugart_1</CanonicalVersionUri></Identification>
<ColumnSet><Column Id="code"/><Column Id="name"/></ColumnSet>
<SimpleCodeList><Row><Value><SimpleValue>pkw</SimpleValue></Value>
<Value><SimpleValue>Personenkraftwagen</SimpleValue></Value></Row></SimpleCodeList>
</gc:CodeList>
)";
  std::ofstream(dir.path() / "kaputt.xml") << "<?xml version=\"1.0\"?>\n<a>\n</b>\n";
  auto refused = run_mvsp("forms import " + (dir.path() / "kaputt.xml").string() + args);
  EXPECT_EQ(refused.exit_code, 2);
  EXPECT_NE(refused.output.find("line 3: Die Datei ist kein wohlgeformtes XML"), std::string::npos)
      << refused.output;
  EXPECT_FALSE(std::filesystem::exists(dir.path() / "var")) << "nothing was set up";
  // a device is not a file: it was read until memory ran out
  auto device = run_mvsp("forms import /dev/zero" + args);
  EXPECT_EQ(device.exit_code, 2);
  EXPECT_NE(device.output.find("cannot read /dev/zero"), std::string::npos) << device.output;

  auto run = run_mvsp("forms import " + (dir.path() / "kfz.xml").string() + args);
  EXPECT_EQ(run.exit_code, 0) << run.output;
  EXPECT_NE(run.output.find("\"form\": \"s1-kfz-zulassung\""), std::string::npos) << run.output;
  EXPECT_NE(run.output.find("\"codeLists\": 1"), std::string::npos);
  EXPECT_NE(run.output.find("\"fields\": 1"), std::string::npos);
  auto db = core::db::Database::open("sqlite:" + (dir.path() / "var" / "mvsp.db").string());
  auto row = db->query_one("SELECT state, definition FROM forms_versions");
  ASSERT_TRUE(row);
  EXPECT_EQ(row->text(0), "draft");
  EXPECT_NE(row->text(1).find("Personenkraftwagen"), std::string::npos);
}

class AuditCli : public test::BackendTest {};

TEST_P(AuditCli, VerifyPassesOnAnIntactLogAndNamesTheFirstBadEntry) {
  test::TempDir data;
  auto args = "--database '" + database_->url() + "' --data-dir " + data.path().string();
  auto migrate = run_mvsp("migrate " + args);
  ASSERT_EQ(migrate.exit_code, 0) << migrate.output;
  EXPECT_NE(migrate.output.find("applied core/0001_core"), std::string::npos);
  EXPECT_NE(run_mvsp("migrate " + args).output.find("up to date"), std::string::npos);

  core::SystemClock clock;
  core::AuditLog log(clock);
  for (int i = 0; i < 3; ++i) {
    db().transaction([&](core::db::Tx& tx) {
      log.append(tx, {.actor = "system", .action = "test", .object_type = "t", .object_id = "x"});
    });
  }
  auto ok = run_mvsp("audit verify " + args);
  EXPECT_EQ(ok.exit_code, 0) << ok.output;
  EXPECT_NE(ok.output.find("3 entries verified"), std::string::npos);

  db().execute("UPDATE audit_log SET action = 'changed' WHERE seq = 2");
  auto altered = run_mvsp("audit verify " + args);
  EXPECT_EQ(altered.exit_code, 1);
  EXPECT_NE(altered.output.find("entry 2 was altered"), std::string::npos) << altered.output;

  db().execute("UPDATE audit_log SET action = 'test' WHERE seq = 2");
  db().execute("DELETE FROM audit_log WHERE seq = 1");
  auto removed = run_mvsp("audit verify " + args);
  EXPECT_EQ(removed.exit_code, 1);
  EXPECT_NE(removed.output.find("entry 1 is missing"), std::string::npos) << removed.output;
}

INSTANTIATE_TEST_SUITE_P(Databases, AuditCli, ::testing::ValuesIn(test::backends()));

class AccountsCli : public test::BackendTest {
 protected:
  std::string args() {
    return " --database '" + database_->url() + "' --data-dir " + data_.path().string();
  }
  test::TempDir data_;
};

TEST_P(AccountsCli, CreatesTenantsAndStaffAndPrintsJson) {
  auto tenant = run_mvsp("tenant create --name 'Hansestadt Wismar'" + args());
  ASSERT_EQ(tenant.exit_code, 0) << tenant.output;
  std::smatch m;
  ASSERT_TRUE(std::regex_search(
      tenant.output, m, std::regex(R"re(\{"id":"([a-z0-9]{26})","name":"Hansestadt Wismar"\})re")))
      << tenant.output;
  std::string tenant_id = m[1];
  EXPECT_EQ(run_mvsp("tenant create --name 'Hansestadt Wismar'" + args()).exit_code, 1);

  auto user = run_mvsp(
      "user create --email Karl.Klerk@wismar.de --password 'ein langes Passwort' "
      "--name 'Karl Klerk' --verified --role clerk --tenant " +
      tenant_id + args());
  ASSERT_EQ(user.exit_code, 0) << user.output;
  ASSERT_TRUE(std::regex_search(
      user.output, m,
      std::regex(
          R"re(\{"id":"([a-z0-9]{26})","mailbox":"mvsp:([a-z0-9]{26})","email":"karl.klerk@wismar.de"\})re")))
      << user.output;
  EXPECT_EQ(m[1], m[2]);
  auto row = db().query_one("SELECT given_name, family_name, email_verified_at FROM accounts");
  EXPECT_EQ(row->text(0), "Karl");
  EXPECT_EQ(row->text(1), "Klerk");
  EXPECT_FALSE(row->is_null(2));
  EXPECT_EQ(db().query_one("SELECT role FROM account_roles")->text(0), "clerk");
}

TEST_P(AccountsCli, BadInputNamesTheFieldAndWritesNothing) {
  auto user = run_mvsp("user create --email nobody --password kurz --role clerk" + args());
  EXPECT_EQ(user.exit_code, 2);
  EXPECT_NE(user.output.find("email: must be an e-mail address"), std::string::npos) << user.output;
  EXPECT_NE(user.output.find("password: must have 12 to 128 characters"), std::string::npos);
  EXPECT_NE(user.output.find("role: a role needs a tenant"), std::string::npos);
  EXPECT_EQ(db().query_one("SELECT COUNT(*) FROM accounts")->integer(0), 0);
}

TEST_P(AccountsCli, DemoDataLoadsTwiceWithoutHarm) {
  auto first = run_mvsp("demo" + args());
  ASSERT_EQ(first.exit_code, 0) << first.output;
  EXPECT_NE(first.output.find("erika.mustermann@example.org"), std::string::npos);
  auto second = run_mvsp("demo" + args());
  EXPECT_EQ(second.exit_code, 0) << second.output;
  EXPECT_NE(second.output.find("already there"), std::string::npos);
  EXPECT_EQ(db().query_one("SELECT COUNT(*) FROM accounts")->integer(0), 7);
  EXPECT_EQ(db().query_one("SELECT COUNT(*) FROM tenants")->integer(0), 3);
  EXPECT_EQ(db().query_one("SELECT COUNT(*) FROM account_roles")->integer(0), 6);
  // Schwerin's two offices, Wismar's two and the Munitionsbergungsdienst.
  EXPECT_EQ(db().query_one("SELECT COUNT(*) FROM payment_accounts")->integer(0), 5);
  EXPECT_NE(first.output.find("sachbearbeitung.wismar@example.org"), std::string::npos);
  EXPECT_NE(second.output.find("catalog: 61 services"), std::string::npos) << second.output;
  EXPECT_EQ(db().query_one("SELECT COUNT(*) FROM catalog_services")->integer(0), 61);
}

// `forms pdf` writes a demo form's PDF, filled or empty; what is wrong is named.
TEST_P(AccountsCli, FormsPdfWritesAFilledOrEmptyFormAndNamesWhatIsWrong) {
  ASSERT_EQ(run_mvsp("demo" + args()).exit_code, 0);
  auto out = (data_.path() / "leer.pdf").string();
  auto empty = run_mvsp("forms pdf --form hundesteuer-anmelden --out " + out + args());
  ASSERT_EQ(empty.exit_code, 0) << empty.output;
  EXPECT_GT(std::filesystem::file_size(out), 1000u);
  auto answers = (data_.path() / "a.json").string();
  std::ofstream(answers) << R"({"im_gemeindegebiet":"nein","_done":"wohnort"})";
  auto exit = run_mvsp("forms pdf --form hundesteuer-anmelden --answers " + answers + " --out " +
                       out + args());
  EXPECT_EQ(exit.exit_code, 2) << "answers that end on an exit page are no application";
  EXPECT_NE(exit.output.find("nicht online"), std::string::npos) << exit.output;
  auto unknown = run_mvsp("forms pdf --form gibt-es-nicht --out " + out + args());
  EXPECT_EQ(unknown.exit_code, 2);
  EXPECT_NE(unknown.output.find("--form: no published form gibt-es-nicht"), std::string::npos)
      << unknown.output;
  std::ofstream(answers) << "[1, 2]";
  auto bad = run_mvsp("forms pdf --form hundesteuer-anmelden --answers " + answers + " --out " +
                      out + args());
  EXPECT_EQ(bad.exit_code, 2);
  EXPECT_NE(bad.output.find("--answers"), std::string::npos);
  EXPECT_EQ(run_mvsp("forms pdf --form hundesteuer-anmelden" + args()).exit_code, 2) << "no --out";
}

// Messages whose owner went before the deletion event existed (here: the account row
// removed behind the platform's back) are erased by the one-off command, and only those.
TEST_P(AccountsCli, EraseOrphansRemovesOnlyMailboxesWithoutOwner) {
  ASSERT_EQ(run_mvsp("demo" + args()).exit_code, 0);
  auto erika = db().query_one("SELECT id FROM accounts WHERE email = ?",
                              std::string("erika.mustermann@example.org"))
                   ->text(0);
  auto volker = db().query_one("SELECT id FROM accounts WHERE email = ?",
                               std::string("verwaltung@example.org"))
                    ->text(0);
  for (const auto& [id, owner] : {std::pair{"m1", erika}, std::pair{"m2", volker}}) {
    db().execute(
        "INSERT INTO mailbox_messages (id, owner_id, source_ref, kind, sender, subject, body, "
        "reference, required_level, provided_at, deemed_announced_on, event_job_kind) "
        "VALUES (?, ?, ?, 'notice', 'Amt', 'Bescheid', 'Text', '', 'low', 0, '2026-01-01', '')",
        std::string(id), owner, std::string("src-") + id);
  }
  db().execute("DELETE FROM account_roles WHERE account_id = ?", erika);
  db().execute("DELETE FROM accounts WHERE id = ?", erika);
  auto erased = run_mvsp("mailbox erase-orphans" + args());
  EXPECT_EQ(erased.exit_code, 0) << erased.output;
  EXPECT_NE(erased.output.find("mailboxes of 1 owners"), std::string::npos) << erased.output;
  EXPECT_EQ(
      db().query_one("SELECT COUNT(*) FROM mailbox_messages WHERE owner_id = ?", erika)->integer(0),
      0);
  EXPECT_EQ(db().query_one("SELECT COUNT(*) FROM mailbox_messages WHERE owner_id = ?", volker)
                ->integer(0),
            1);
}

TEST_P(AccountsCli, ExportsAndImportsTheCatalogAllOrNothing) {
  ASSERT_EQ(run_mvsp("demo" + args()).exit_code, 0);
  auto exported = run_mvsp("catalog export" + args());
  ASSERT_EQ(exported.exit_code, 0);
  // The JSON is one line on stdout; log lines (stderr) may stand around it.
  std::string json;
  std::istringstream lines(exported.output);
  for (std::string line; std::getline(lines, line);) {
    if (line.starts_with("{")) json = line;
  }
  ASSERT_NE(json.find("\"format\":\"mvsp-catalog/1\""), std::string::npos);
  auto file = (data_.path() / "katalog.json").string();
  std::ofstream(file) << json;
  EXPECT_EQ(run_mvsp("catalog import " + file + args()).exit_code, 0);
  auto bad = (data_.path() / "kaputt.json").string();
  std::ofstream(bad) << R"({"format":"mvsp-catalog/1","services":[{"leikaKey":"12","name":"X"}],)"
                     << R"("responsibilities":[{"leikaKey":"99108008000000","region":"13",)"
                     << R"("authorityId":"nobody"}]})";
  auto refused = run_mvsp("catalog import " + bad + args());
  EXPECT_EQ(refused.exit_code, 2);
  EXPECT_NE(refused.output.find("services[0].leikaKey: must be 14 digits"), std::string::npos)
      << refused.output;
  EXPECT_EQ(db().query_one("SELECT COUNT(*) FROM catalog_services")->integer(0), 61);
  EXPECT_EQ(run_mvsp("catalog import /nonexistent.json" + args()).exit_code, 2);
}

TEST_P(AccountsCli, RegistersClientsAndRotatesKeys) {
  auto confidential = run_mvsp(
      "client create --name Fachverfahren --redirect-uri https://rp.example/cb "
      "--scope openid --scope profile" +
      args());
  ASSERT_EQ(confidential.exit_code, 0) << confidential.output;
  std::smatch m;
  EXPECT_TRUE(std::regex_search(
      confidential.output, m,
      std::regex(R"re(\{"client_id":"[a-z0-9]{26}","client_secret":"[A-Za-z0-9_-]{43}"\})re")))
      << confidential.output;
  auto pub = run_mvsp("client create --name App --public --redirect-uri http://127.0.0.1:8000/cb" +
                      args());
  ASSERT_EQ(pub.exit_code, 0) << pub.output;
  EXPECT_EQ(pub.output.find("client_secret"), std::string::npos);
  auto bad = run_mvsp("client create --name X --public --grant client_credentials" + args());
  EXPECT_EQ(bad.exit_code, 2);
  EXPECT_NE(bad.output.find("grant: a public client cannot use client credentials"),
            std::string::npos)
      << bad.output;
  EXPECT_EQ(db().query_one("SELECT COUNT(*) FROM oidc_clients")->integer(0), 2);
  EXPECT_EQ(db().query_one("SELECT COUNT(*) FROM oidc_keys WHERE retired_at IS NULL")->integer(0),
            2);
  auto rotated = run_mvsp("keys rotate" + args());
  EXPECT_EQ(rotated.exit_code, 0) << rotated.output;
  EXPECT_EQ(db().query_one("SELECT COUNT(*) FROM oidc_keys WHERE retired_at IS NULL")->integer(0),
            2);
  EXPECT_EQ(db().query_one("SELECT COUNT(*) FROM oidc_keys")->integer(0), 4);
}

INSTANTIATE_TEST_SUITE_P(Databases, AccountsCli, ::testing::ValuesIn(test::backends()));

// `mvsp demo` submits sample Vorhaben through the journey and works them into every state
// of the process; `mvsp cases` lists them and exports one Vorgang's xdomea container. A
// second `mvsp demo` adds nothing; bad input names the option.
TEST_P(AccountsCli, TheDemoVorgaengeAreListedAndExported) {
  auto efile = data_.path() / "efile";
  std::filesystem::create_directories(efile);
  auto config = (data_.path() / "mvsp.toml").string();
  // the Kampfmittel-Auskunft's plan goes through the virus scanner: with the one make check
  // starts, the automatic decision is there to see; without one it is left out
  const char* scanner = std::getenv("MVSP_TEST_CLAMD");
  bool scanned = scanner && *scanner;
  std::string clamav;
  if (scanned) {
    std::string where = scanner;
    auto colon = where.rfind(':');
    clamav = fmt::format("[clamav]\nhost = \"{}\"\nport = {}\n", where.substr(0, colon),
                         where.substr(colon + 1));
  }
  std::ofstream(config) << "[cases]\nefile = \"folder\"\nefile_folder = \"" << efile.string()
                        << "\"\n"
                        << clamav;
  auto demo = run_mvsp("demo --config " + config + args());
  ASSERT_EQ(demo.exit_code, 0) << demo.output;
  EXPECT_NE(demo.output.find("10 Vorgänge of the Hundesteuer"), std::string::npos) << demo.output;
  EXPECT_NE(demo.output.find(scanned ? "decided automatically by the Munitionsbergungsdienst and "
                                       "announced"
                                     : "Kampfmittel-Auskunft left out"),
            std::string::npos)
      << demo.output;
  // one came on paper, its scan through the virus scanner too
  EXPECT_NE(demo.output.find(scanned ? "and one that came on paper" : "the one on paper left out"),
            std::string::npos)
      << demo.output;
  EXPECT_EQ(db().query_one("SELECT COUNT(*) FROM cases WHERE source = 'paper' AND applicant_kind "
                           "= 'paper' AND aktenzeichen = '32.1-HST-2026/0060'")
                ->integer(0),
            scanned ? 1 : 0);
  auto again = run_mvsp("demo --config " + config + args());
  EXPECT_NE(again.output.find("applications: Hundesteuer: already there"), std::string::npos)
      << again.output;

  auto list = run_mvsp("cases list --json" + args());
  ASSERT_EQ(list.exit_code, 0) << list.output;
  EXPECT_EQ(list.output.find(R"("source":"paper")") != std::string::npos, scanned) << list.output;
  EXPECT_NE(list.output.find(R"("source":"online")"), std::string::npos);
  for (auto state : {"received", "formal_check", "documents_requested", "material_check", "decided",
                     "announced", "filed", "closed", "withdrawn", "ended"}) {
    EXPECT_NE(list.output.find(fmt::format("\"state\":\"{}\"", state)), std::string::npos) << state;
  }
  EXPECT_EQ(std::distance(std::filesystem::directory_iterator(efile), {}), 1) << "one filed";
  // a question of the clerk and Erika's answer, on the Vorgang in the formal check
  EXPECT_EQ(db().query_one("SELECT COUNT(*) FROM case_messages")->integer(0), 2);
  // Schwerin's Bürgeramt is asked for a statement about the Vorgang in the material check
  EXPECT_EQ(db().query_one("SELECT COUNT(*) FROM case_statements WHERE party_authority_id = "
                           "'sn-buergeramt' AND status = 'open'")
                ->integer(0),
            1);
  // the Kampfmittel-Auskunft was decided and announced without a clerk: its notice is in
  // Erika's mailbox
  EXPECT_EQ(
      std::regex_search(
          list.output,
          std::regex(R"re("state":"announced","tenantId":"[^"]*","authorityId":"lpbk-mbd")re")),
      scanned)
      << list.output;
  EXPECT_EQ(db().query_one("SELECT COUNT(*) FROM mailbox_messages WHERE kind = 'notice' AND "
                           "subject = 'Kampfmittelbelastungsauskunft'")
                ->integer(0),
            scanned ? 1 : 0);
  std::smatch m;
  ASSERT_TRUE(std::regex_search(
      list.output, m,
      std::regex(
          R"re("reference":"(MV-[A-Z0-9-]+)","aktenzeichen":"[^"]*","state":"announced","tenantId":"[^"]*","authorityId":"hwi-steuern")re")));
  std::string reference = m[1];
  auto table = run_mvsp("cases list --authority hwi-steuern --limit 3" + args());
  EXPECT_NE(table.output.find("3 Vorgänge"), std::string::npos) << table.output;

  auto out = data_.path() / "out";
  std::filesystem::create_directories(out);
  // as people type it, in lower case
  auto lower = reference;
  std::ranges::transform(lower, lower.begin(), [](unsigned char ch) { return std::tolower(ch); });
  auto exported = run_mvsp("cases export-efile " + lower + " --out " + out.string() + args());
  ASSERT_EQ(exported.exit_code, 0) << exported.output;
  ASSERT_EQ(std::distance(std::filesystem::directory_iterator(out), {}), 1);
  auto zip = std::filesystem::directory_iterator(out)->path();
  EXPECT_TRUE(zip.string().ends_with("_FVDaten.SGOAblegen.0605.zip"));
  auto names = test::output_of("unzip -Z1 '" + zip.string() + "'");
  EXPECT_EQ(std::ranges::count(names, '\n'), 6) << names;  // message, answers ×3, notice, proof
  // every document of the Vorgang: for the owner and the group only, and never replaced
  EXPECT_EQ(std::filesystem::status(zip).permissions() & std::filesystem::perms::others_read,
            std::filesystem::perms::none);
  auto twice = run_mvsp("cases export-efile " + reference + " --out " + out.string() + args());
  EXPECT_EQ(twice.exit_code, 2);
  EXPECT_NE(twice.output.find("is there already"), std::string::npos) << twice.output;
  // the timeline records the export that was written, not the one refused
  EXPECT_EQ(
      db().query_one("SELECT COUNT(*) FROM audit_log WHERE action = 'case.exported'")->integer(0),
      1);

  EXPECT_EQ(run_mvsp("cases export-efile MV-GIBT-ESNICHT --out " + out.string() + args()).exit_code,
            2);
  EXPECT_EQ(run_mvsp("cases export-efile " + reference + args()).exit_code, 2) << "no --out";
  EXPECT_EQ(run_mvsp("cases export-efile " + reference + " --out /nonexistent" + args()).exit_code,
            2);
  EXPECT_EQ(run_mvsp("cases list --limit 0" + args()).exit_code, 2);
}

TEST(Cli, AnEfileFolderThatIsNotThereStopsTheStartWithItsKey) {
  test::TempDir dir;
  auto config = (dir.path() / "mvsp.toml").string();
  std::ofstream(config) << "[cases]\nefile = \"folder\"\nefile_folder = \"/nonexistent/efile\"\n";
  auto check = run_mvsp("config check --config " + config);
  EXPECT_EQ(check.exit_code, 2);
  EXPECT_NE(check.output.find("cases.efile_folder"), std::string::npos) << check.output;
  std::ofstream(config) << "[cases]\nefile = \"cmis\"\ncmis_url = \"ftp://dms\"\n";
  auto cmis = run_mvsp("config check --config " + config);
  EXPECT_EQ(cmis.exit_code, 2);
  EXPECT_NE(cmis.output.find("cases.cmis_url"), std::string::npos) << cmis.output;
  EXPECT_NE(cmis.output.find("cases.cmis_folder"), std::string::npos) << cmis.output;
}

}  // namespace
}  // namespace mvsp::app
