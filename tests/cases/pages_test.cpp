// The clerk's pages of the case management over HTTP on both databases: a clerk of Wismar
// finds the Vorgänge that arrived at Wismar's offices, opens one and downloads its answers
// and documents (safe file names, never cached); Schwerin's people see none of them, a
// visitor goes to the login and a signed-in person without the role gets 403.
#include <gtest/gtest.h>

#include <mvsp/cases/cases.hpp>
#include <mvsp/cases/casework.hpp>
#include <mvsp/catalog/catalog.hpp>
#include <mvsp/core/clock.hpp>
#include <mvsp/identity/identity.hpp>
#include <mvsp/web/http.hpp>
#include <mvsp/web/multipart.hpp>

#include "app.hpp"
#include "support.hpp"

namespace mvsp::cases {
namespace {

constexpr const char* kPassword = "ein langes Passwort 2026";
const std::string kPdf = std::string("%PDF-1.7\n\0\xff binary\r\n%%EOF\n", 26);

std::string enc(const std::string& s) {
  return web::url_encode(s);
}

class CasePages : public test::ServerTest {
 protected:
  void add_routes(app::App& app) override {
    auto& id = app.get<identity::Identity>();
    schwerin_ = id.staff.create_tenant("Landeshauptstadt Schwerin", "test")->id;
    wismar_ = id.staff.create_tenant("Hansestadt Wismar", "test")->id;
    auto& catalog = app.get<catalog::Catalog>();
    for (auto [authority, tenant, name] :
         {std::tuple{"hwi-steuern", wismar_, "Hansestadt Wismar, Abteilung Steuern und Abgaben"},
          {"hwi-buergerbuero", wismar_, "Hansestadt Wismar, Bürgerbüro"},
          {"sn-buergeramt", schwerin_, "Landeshauptstadt Schwerin, Bürgeramt"}}) {
      ASSERT_TRUE(catalog.put_authority(
          {.actor = "test", .state_wide = true, .tenant_ids = {}},
          {.id = authority, .tenant_id = tenant, .region = "13074087", .name = name}));
    }
    for (auto [email, role, tenant] :
         {std::tuple{"sachbearbeitung@wismar.example", "clerk", wismar_},
          {"zweite@wismar.example", "clerk", wismar_},
          {"kasse@wismar.example", "cashier", wismar_},
          {"verwaltung@schwerin.example", "authority_admin", schwerin_},
          {"verwaltung@wismar.example", "authority_admin", wismar_},
          {"erika@example.org", "", std::string()}}) {
      ASSERT_TRUE(id.accounts.create_account({.email = email,
                                              .password = kPassword,
                                              .given_name = "Kim",
                                              .family_name = "Muster",
                                              .verified = true,
                                              .role = role,
                                              .tenant_id = tenant},
                                             "test"));
    }
    auto& cases = app.get<Cases>();
    auto hund =
        cases.open(intake("a-1", "MV-35CA3-4HFYVHOK", wismar_, "hwi-steuern", "Erika Mustermann"));
    ASSERT_TRUE(hund) << hund.error().message;
    hund_ = hund->id;
    auto other =
        cases.open(intake("a-2", "MV-7QX2D-9ZZP0A1M", wismar_, "hwi-buergerbuero", "Max Meier"));
    ASSERT_TRUE(other);
    other_ = other->id;
    auto schwerin =
        cases.open(intake("a-3", "MV-SCHW1-ERIN0001", schwerin_, "sn-buergeramt", "Sina Schwerin"));
    ASSERT_TRUE(schwerin);
    schwerin_case_ = schwerin->id;
  }

  static Intake intake(const std::string& application, const std::string& reference,
                       const std::string& tenant, const std::string& authority,
                       const std::string& name) {
    return {.application_id = application,
            .reference = reference,
            .tenant_id = tenant,
            .authority_id = authority,
            .online_service_id = "hundesteuer-anmeldung",
            .online_service_version = 3,
            .title = "Hundesteuer: Anmeldung eines Hundes",
            .applicant = {.kind = "account",
                          .owner_id = "k-erika",
                          .name = name,
                          .email = "erika@example.org"},
            .submitted_at = core::from_millis(1'789'999'000'000),
            .form_key = "hundesteuer",
            .form_version = 2,
            .answers_json = R"({"hund":{"name":"Bello"}})",
            .answers_xml = "<antrag><hund><name>Bello</name></hund></antrag>",
            .pdf = kPdf,
            .documents = {{.requirement = "Nachweis für eine Ermäßigung",
                           .filename = "Bescheid \"Grundsicherung\" März.pdf",
                           .media_type = "application/pdf",
                           .content = "%PDF-1.7\n% Nachweis\n%%EOF\n"}},
            .payment_order_id = "p-1",
            .payment_status = "success",
            .payment_method = "invoice",
            .payment_amount_cents = 1500,
            .kassenzeichen = "5260000012"};
  }

  test::HttpClient signed_in(const std::string& email) {
    auto c = client();
    auto page = c.get("/anmelden");
    auto res =
        c.post_form("/anmelden", {{"email", enc(email)},
                                  {"password", enc(kPassword)},
                                  {"csrf_token", test::HttpClient::csrf_token_in(page.body)}});
    EXPECT_EQ(res.status, 303) << email;
    return c;
  }

  bool has(const std::string& body, const std::string& text) {
    return body.find(text) != std::string::npos;
  }

  std::string schwerin_, wismar_, hund_, other_, schwerin_case_;
};

TEST_P(CasePages, TheClerkFindsTheArrivalsOfTheOwnAuthorities) {
  auto clerk = signed_in("sachbearbeitung@wismar.example");
  auto list = clerk.get("/verwaltung/vorgaenge");
  ASSERT_EQ(list.status, 200) << list.body;
  EXPECT_TRUE(has(list.body, "/verwaltung/vorgaenge/" + hund_));
  EXPECT_TRUE(has(list.body, "/verwaltung/vorgaenge/" + other_));
  EXPECT_FALSE(has(list.body, schwerin_case_)) << "Schwerin's";
  EXPECT_FALSE(has(list.body, "Sina Schwerin"));
  EXPECT_TRUE(has(list.body, "MV-35CA3-4HFYVHOK"));
  EXPECT_TRUE(has(list.body, "Erika Mustermann"));
  EXPECT_TRUE(has(list.body, "Hundesteuer: Anmeldung eines Hundes"));
  EXPECT_TRUE(has(list.body, "Hansestadt Wismar, Abteilung Steuern und Abgaben"));
  // Schwerin's authority is not among the choices.
  EXPECT_FALSE(has(list.body, "value=\"sn-buergeramt\""));

  auto by_name = clerk.get("/verwaltung/vorgaenge?q=meier");
  EXPECT_TRUE(has(by_name.body, other_));
  EXPECT_FALSE(has(by_name.body, hund_));
  auto by_reference = clerk.get("/verwaltung/vorgaenge?q=mv-35ca3-4hfyvhok");
  EXPECT_TRUE(has(by_reference.body, hund_));
  EXPECT_FALSE(has(by_reference.body, other_));
  auto by_authority = clerk.get("/verwaltung/vorgaenge?behoerde=hwi-buergerbuero");
  EXPECT_TRUE(has(by_authority.body, other_));
  EXPECT_FALSE(has(by_authority.body, hund_));
  auto foreign = clerk.get("/verwaltung/vorgaenge?behoerde=sn-buergeramt");
  EXPECT_EQ(foreign.status, 200);
  EXPECT_FALSE(has(foreign.body, schwerin_case_));
  EXPECT_TRUE(has(foreign.body, "Keine Vorgänge gefunden"));

  // Schwerin's admin sees Schwerin's only.
  auto admin = signed_in("verwaltung@schwerin.example");
  auto theirs = admin.get("/verwaltung/vorgaenge");
  ASSERT_EQ(theirs.status, 200);
  EXPECT_TRUE(has(theirs.body, schwerin_case_));
  EXPECT_FALSE(has(theirs.body, hund_));
}

TEST_P(CasePages, TheVorgangShowsItsFactsAndDownloads) {
  auto clerk = signed_in("sachbearbeitung@wismar.example");
  auto page = clerk.get("/verwaltung/vorgaenge/" + hund_);
  ASSERT_EQ(page.status, 200) << page.body;
  for (const auto* text : {"MV-35CA3-4HFYVHOK", "Hundesteuer: Anmeldung eines Hundes (Version 3)",
                           "Hansestadt Wismar, Abteilung Steuern und Abgaben", "Erika Mustermann",
                           "erika@example.org", "Bürgerkonto", "eingegangen", "5260000012",
                           "15,00 €", "Rechnung (Überweisung)", "Nachweis für eine Ermäßigung"}) {
    EXPECT_TRUE(has(page.body, text)) << text;
  }
  // the timeline counts the documents that came with the application
  EXPECT_TRUE(has(page.body, "Unterlagen: 1")) << page.body;
  // The times in Germany's time: submitted at 13:56 UTC on 21.09.2026, summer time.
  EXPECT_TRUE(has(page.body, "21.09.2026, 15:56")) << page.body;
  // The citizen's file name is escaped in the page.
  EXPECT_TRUE(has(page.body, "Bescheid &quot;Grundsicherung&quot; März.pdf"));
  for (const auto* kind : {"pdf", "xml", "json"}) {
    EXPECT_TRUE(has(page.body, "/verwaltung/vorgaenge/" + hund_ + "/antrag." + kind)) << kind;
  }

  auto pdf = clerk.get("/verwaltung/vorgaenge/" + hund_ + "/antrag.pdf");
  ASSERT_EQ(pdf.status, 200);
  EXPECT_EQ(pdf.body, kPdf);
  EXPECT_EQ(pdf.header("content-type"), "application/pdf");
  EXPECT_EQ(pdf.header("cache-control"), "no-store");
  EXPECT_EQ(pdf.header("content-disposition"),
            "attachment; filename=\"antrag-MV-35CA3-4HFYVHOK.pdf\"");
  auto xml = clerk.get("/verwaltung/vorgaenge/" + hund_ + "/antrag.xml");
  EXPECT_EQ(xml.body, "<antrag><hund><name>Bello</name></hund></antrag>");
  auto json = clerk.get("/verwaltung/vorgaenge/" + hund_ + "/antrag.json");
  EXPECT_EQ(json.body, R"({"hund":{"name":"Bello"}})");
  EXPECT_EQ(json.header("cache-control"), "no-store");

  auto doc = clerk.get("/verwaltung/vorgaenge/" + hund_ + "/dokumente/0");
  ASSERT_EQ(doc.status, 200);
  EXPECT_EQ(doc.body, "%PDF-1.7\n% Nachweis\n%%EOF\n");
  EXPECT_EQ(doc.header("cache-control"), "no-store");
  EXPECT_EQ(doc.header("content-disposition"),
            "attachment; filename=\"Bescheid _Grundsicherung_ M_rz.pdf\"; "
            "filename*=UTF-8''Bescheid%20%22Grundsicherung%22%20M%C3%A4rz.pdf");
  EXPECT_EQ(clerk.get("/verwaltung/vorgaenge/" + hund_ + "/dokumente/1").status, 404);
  EXPECT_EQ(clerk.get("/verwaltung/vorgaenge/" + hund_ + "/dokumente/x").status, 404);
  EXPECT_EQ(clerk.get("/verwaltung/vorgaenge/k-no-such").status, 404);
}

TEST_P(CasePages, OthersSeeNothing) {
  // A visitor goes to the login, and comes back after it.
  auto visitor = client().get("/verwaltung/vorgaenge/" + hund_);
  EXPECT_EQ(visitor.status, 303);
  EXPECT_TRUE(has(visitor.header("location"), "/anmelden"));
  EXPECT_EQ(client().get("/verwaltung/vorgaenge").status, 303);
  EXPECT_EQ(client().get("/verwaltung/vorgaenge/" + hund_ + "/antrag.pdf").status, 303);

  // Signed in without the role: 403, for the cash office of Wismar too.
  auto citizen = signed_in("erika@example.org");
  EXPECT_EQ(citizen.get("/verwaltung/vorgaenge").status, 403);
  EXPECT_EQ(citizen.get("/verwaltung/vorgaenge/" + hund_).status, 403);
  EXPECT_EQ(citizen.get("/verwaltung/vorgaenge/" + hund_ + "/dokumente/0").status, 403);
  auto cashier = signed_in("kasse@wismar.example");
  EXPECT_EQ(cashier.get("/verwaltung/vorgaenge").status, 403);

  // Another tenant's Vorgang does not exist for Schwerin's admin.
  auto admin = signed_in("verwaltung@schwerin.example");
  EXPECT_EQ(admin.get("/verwaltung/vorgaenge/" + hund_).status, 404);
  EXPECT_EQ(admin.get("/verwaltung/vorgaenge/" + hund_ + "/antrag.pdf").status, 404);
  EXPECT_EQ(admin.get("/verwaltung/vorgaenge/" + hund_ + "/antrag.json").status, 404);
  EXPECT_EQ(admin.get("/verwaltung/vorgaenge/" + hund_ + "/dokumente/0").status, 404);
  EXPECT_EQ(admin.get("/verwaltung/vorgaenge/" + schwerin_case_).status, 200);
}

// The clerk's steps over HTTP: each needs the CSRF token, refuses bad input with the
// field's rule on the page (and changes nothing), and is 404 for another tenant's people.
TEST_P(CasePages, TheClerksStepsNeedTheTokenAndTheTenant) {
  auto clerk = signed_in("sachbearbeitung@wismar.example");
  auto base = "/verwaltung/vorgaenge/" + hund_;
  auto page = clerk.get(base);
  ASSERT_EQ(page.status, 200);
  auto token = test::HttpClient::csrf_token_in(page.body);
  ASSERT_FALSE(token.empty());
  auto state = [&] { return app_->get<Cases>().find({wismar_}, hund_)->state; };
  auto post = [&](test::HttpClient& c, const std::string& path,
                  std::vector<std::pair<std::string, std::string>> fields,
                  const std::string& csrf) {
    for (auto& [k, v] : fields) v = enc(v);
    if (!csrf.empty()) fields.emplace_back("csrf_token", csrf);
    return c.post_form(base + path, fields);
  };

  // without the token nothing moves
  EXPECT_EQ(post(clerk, "/status", {{"nach", "formal_check"}}, "").status, 403);
  EXPECT_EQ(state(), "received");
  // a step the process does not allow, and a state that does not exist
  auto skipped = post(clerk, "/status", {{"nach", "decided"}}, token);
  EXPECT_EQ(skipped.status, 422);
  EXPECT_TRUE(has(skipped.body, "Dieser Schritt ist im jetzigen Status nicht möglich."));
  EXPECT_EQ(post(clerk, "/status", {{"nach", "gibt-es-nicht"}}, token).status, 422);
  EXPECT_EQ(state(), "received");
  // an Aktenzeichen of two lines
  auto akz = post(clerk, "/aktenzeichen", {{"aktenzeichen", "32.1\r\nSet-Cookie: x=1"}}, token);
  EXPECT_EQ(akz.status, 422);
  EXPECT_TRUE(has(akz.body, "Das Aktenzeichen ist eine Zeile mit höchstens 64 Zeichen"));
  EXPECT_TRUE(app_->get<Cases>().find({wismar_}, hund_)->aktenzeichen.empty());
  // a request without documents and with a day in the past: both named, nothing kept
  auto incomplete =
      post(clerk, "/nachforderung", {{"items", " "}, {"deadline", "2020-01-01"}}, token);
  EXPECT_EQ(incomplete.status, 422);
  EXPECT_TRUE(has(incomplete.body, "Nennen Sie mindestens eine"));
  EXPECT_TRUE(has(incomplete.body, "Geben Sie einen Tag nach heute"));
  EXPECT_TRUE(has(incomplete.body, "2020-01-01"));  // what was sent stays in the form
  // assigning to someone who is not a clerk here
  auto stranger = post(clerk, "/zuweisen", {{"bearbeitung", "k-erika"}}, token);
  EXPECT_EQ(stranger.status, 422);
  EXPECT_TRUE(has(stranger.body, "Wählen Sie jemanden aus der Sachbearbeitung"));

  // done right, each step goes back to the Vorgang
  EXPECT_EQ(post(clerk, "/zuweisen", {{"bearbeitung", "ich"}}, token).status, 303);
  EXPECT_EQ(post(clerk, "/aktenzeichen", {{"aktenzeichen", "32.1-0815/26"}}, token).status, 303);
  EXPECT_EQ(post(clerk, "/status", {{"nach", "formal_check"}}, token).status, 303);
  EXPECT_EQ(state(), "formal_check");
  auto shown = clerk.get(base);
  EXPECT_TRUE(has(shown.body, "32.1-0815/26"));

  // Schwerin's admin, with a token of its own session, reaches none of it
  auto admin = signed_in("verwaltung@schwerin.example");
  auto admin_token = test::HttpClient::csrf_token_in(admin.get("/verwaltung/vorgaenge").body);
  ASSERT_FALSE(admin_token.empty());
  for (auto [path, field, value] : {std::tuple{"/status", "nach", "ended"},
                                    {"/zuweisen", "bearbeitung", "ich"},
                                    {"/aktenzeichen", "aktenzeichen", "SN-1"},
                                    {"/nachforderung", "items", "Pass"},
                                    {"/frist", "duration", "1M"},
                                    {"/post", "posted_on", "2026-12-01"},
                                    {"/bescheid", "vorlage", "x"},
                                    {"/eakte", "x", "x"}}) {
    EXPECT_EQ(post(admin, path, {{field, value}}, admin_token).status, 404) << path;
  }
  EXPECT_EQ(admin.get(base + "/bescheid").status, 404);
  EXPECT_EQ(admin.get(base + "/protokoll").status, 404);
  EXPECT_EQ(admin.get(base + "/unterlagen.zip").status, 404);
  // the clerk's ZIP of every document, never cached
  auto zip = clerk.get(base + "/unterlagen.zip");
  EXPECT_EQ(zip.status, 200);
  EXPECT_EQ(zip.header("content-type"), "application/zip");
  EXPECT_TRUE(zip.body.starts_with("PK"));
  EXPECT_TRUE(has(zip.header("content-disposition"), "MV-35CA3-4HFYVHOK.zip"));
  EXPECT_TRUE(has(zip.header("cache-control"), "no-store"));
  // no e-file is set up here: nothing offered, and asking anyway is refused
  EXPECT_FALSE(has(shown.body, "/eakte"));
  EXPECT_EQ(post(clerk, "/eakte", {}, token).status, 409);
  EXPECT_EQ(state(), "formal_check");
  EXPECT_EQ(app_->get<Cases>().find({wismar_}, hund_)->aktenzeichen, "32.1-0815/26");
  // an Aktenzeichen of digits only is an Aktenzeichen on the timeline, not a count
  EXPECT_EQ(post(clerk, "/aktenzeichen", {{"aktenzeichen", "4711"}}, token).status, 303);
  auto timeline = clerk.get("/verwaltung/vorgaenge/" + hund_).body;
  EXPECT_TRUE(has(timeline, "4711")) << timeline;
  EXPECT_FALSE(has(timeline, "timeline_count")) << timeline;
  // and the cash office of Wismar is no clerk
  auto cashier = signed_in("kasse@wismar.example");
  auto cashier_token = test::HttpClient::csrf_token_in(cashier.get("/konto").body);
  ASSERT_FALSE(cashier_token.empty());
  EXPECT_EQ(post(cashier, "/status", {{"nach", "ended"}}, cashier_token).status, 403);
  EXPECT_EQ(state(), "formal_check");
}

// The authority's administration sets up its case management on one page: each change
// needs the token, names the field and its rule when refused (and keeps nothing), and
// reaches only the person's own tenant.
// A message to the applicant from the Vorgang page: multipart with the CSRF token, each bad
// field named on the page with nothing written, the attachment downloadable, and another
// tenant's people get 404 for the form and the file.
// The clerk's attachments go to citizens: scanned by a real clamd.
class CaseMessagePages : public CasePages {
 protected:
  void SetUp() override {
    test::use_test_clamd(clamd_);
    if (IsSkipped() || HasFatalFailure()) return;
    CasePages::SetUp();
  }
  void configure(app::Settings& s) override {
    s.clamav_host = clamd_.host;
    s.clamav_port = clamd_.port;
  }
  core::ClamdOptions clamd_;
};

TEST_P(CaseMessagePages, TheClerkWritesToTheApplicantFromTheVorgang) {
  auto clerk = signed_in("sachbearbeitung@wismar.example");
  auto base = "/verwaltung/vorgaenge/" + hund_;
  auto page = clerk.get(base);
  ASSERT_EQ(page.status, 200);
  EXPECT_TRUE(has(page.body, "Noch keine Nachrichten.")) << page.body;
  auto token = test::HttpClient::csrf_token_in(page.body);
  auto send = [&](test::HttpClient& c, const std::string& csrf, const std::string& subject,
                  const std::string& level, const std::string& file) {
    std::vector<web::Part> parts;
    if (!csrf.empty())
      parts.push_back({.name = "csrf_token", .filename = {}, .content_type = {}, .body = csrf});
    parts.push_back({.name = "betreff", .filename = {}, .content_type = {}, .body = subject});
    parts.push_back(
        {.name = "text", .filename = {}, .content_type = {}, .body = "Bitte rufen Sie uns an."});
    parts.push_back(
        {.name = "vertrauensniveau", .filename = {}, .content_type = {}, .body = level});
    parts.push_back({.name = "anlage",
                     .filename = "Merkblatt.pdf",
                     .content_type = "application/pdf",
                     .body = file});
    auto body = web::build_multipart(parts);
    return c.request("POST", base + "/nachrichten", body.body,
                     {{"Content-Type", body.content_type}});
  };
  auto& work = app_->get<Casework>();
  Staffer wismar_clerk{"x", "x", {{wismar_, "lead"}}};
  EXPECT_EQ(send(clerk, "", "Rückfrage", "low", kPdf).status, 403);
  auto no_subject = send(clerk, token, "", "hoch", "kein PDF");
  EXPECT_EQ(no_subject.status, 422);
  for (const auto* rule : {"Geben Sie einen Betreff an", "Wählen Sie ein Vertrauensniveau",
                           "jede als PDF, PNG oder JPEG", "href=\"#message_subject\""}) {
    EXPECT_TRUE(has(no_subject.body, rule)) << rule;
  }
  // the EICAR test file, in two halves so that no scanner flags this source
  auto infected = send(clerk, token, "Rückfrage", "low",
                       std::string("%PDF-1.4\n") + R"(X5O!P%@AP[4\PZX54(P^)7CC)7}$)" +
                           "EICAR-STANDARD-ANTIVIRUS-TEST-FILE!$H+H*");
  EXPECT_EQ(infected.status, 422);
  EXPECT_TRUE(has(infected.body, "ohne Schadsoftware")) << infected.body;
  EXPECT_TRUE(work.messages(wismar_clerk, hund_)->empty());
  auto sent = send(clerk, token, "Rückfrage zum Hund", "substantial", kPdf);
  EXPECT_EQ(sent.status, 303);
  EXPECT_TRUE(has(sent.header("location"), "#nachrichten"));
  auto thread = work.messages(wismar_clerk, hund_);
  ASSERT_EQ(thread->size(), 1u);
  auto shown = clerk.get(base).body;
  EXPECT_TRUE(has(shown, "Rückfrage zum Hund"));
  EXPECT_TRUE(has(shown, "Bitte rufen Sie uns an."));
  EXPECT_TRUE(has(shown, "lesbar ab Vertrauensniveau „substantiell“"));
  auto href = base + "/nachrichten/" + thread->front().id + "/0";
  EXPECT_TRUE(has(shown, href));
  auto file = clerk.get(href);
  EXPECT_EQ(file.status, 200);
  EXPECT_EQ(file.body, kPdf);
  EXPECT_EQ(file.header("cache-control"), "no-store");
  EXPECT_TRUE(has(file.header("content-disposition"), "Merkblatt.pdf"));
  EXPECT_EQ(clerk.get(base + "/nachrichten/" + thread->front().id + "/1").status, 404);
  EXPECT_EQ(clerk.get(base + "/nachrichten/" + thread->front().id + "/x").status, 404);
  // Schwerin's administration: neither the file nor the form
  auto other = signed_in("verwaltung@schwerin.example");
  auto other_token = test::HttpClient::csrf_token_in(other.get("/verwaltung/vorgaenge").body);
  EXPECT_EQ(other.get(href).status, 404);
  EXPECT_EQ(send(other, other_token, "Übernahme", "low", kPdf).status, 404);
  EXPECT_EQ(work.messages(wismar_clerk, hund_)->size(), 1u);
}

// Participation: Schwerin's administration answers Wismar's request in its own case
// management, an outside body by its mailed link; each reads only the request and what was
// shared, never the Vorgang; bad input is named at its field with nothing written.
TEST_P(CaseMessagePages, AnotherAuthorityAndAnOutsideBodyGiveAStatement) {
  auto clerk = signed_in("sachbearbeitung@wismar.example");
  auto base = "/verwaltung/vorgaenge/" + hund_;
  auto page = clerk.get(base);
  ASSERT_EQ(page.status, 200);
  EXPECT_TRUE(has(page.body, "Noch keine andere Stelle beteiligt.")) << page.body;
  EXPECT_TRUE(has(page.body, "value=\"sn-buergeramt\""));
  EXPECT_FALSE(has(page.body, "<option value=\"hwi-steuern\""));  // its own authority
  // named with the tenant, which the catalog's editors cannot rename
  EXPECT_TRUE(has(page.body, "Landeshauptstadt Schwerin, Bürgeramt (Landeshauptstadt Schwerin)"));
  auto token = test::HttpClient::csrf_token_in(page.body);
  auto in_two_weeks =
      core::format_day(core::berlin_day(core::SystemClock().now()) + std::chrono::days(14));
  auto ask = [&](test::HttpClient& c, const std::string& csrf,
                 std::vector<std::pair<std::string, std::string>> fields) {
    for (auto& [k, v] : fields) v = enc(v);
    fields.emplace_back("csrf_token", csrf);
    return c.post_form(base + "/stellungnahmen", fields);
  };
  Staffer wismar_lead{"x", "x", {{wismar_, "lead"}}};
  auto& work = app_->get<Casework>();

  // everything wrong at once: each field named, nothing kept
  auto bad = ask(clerk, token,
                 {{"beteiligt", "outside"},
                  {"name", ""},
                  {"email", "schule\r\nBcc: x@y.z"},
                  {"frage", " "},
                  {"frist", "2020-01-01"}});
  EXPECT_EQ(bad.status, 422);
  // each error also at its field, the field marked invalid and pointing to it
  EXPECT_TRUE(has(bad.body, "id=\"statement_email-error\""));
  EXPECT_TRUE(has(bad.body, "aria-describedby=\"statement_email-error\" aria-invalid=\"true\""))
      << bad.body;
  EXPECT_TRUE(has(bad.body, "kern-form-input kern-form-input--error"));
  EXPECT_FALSE(has(bad.body, "id=\"forward_reason-error\"")) << "only the fields of the form sent";
  for (const auto* rule :
       {"Geben Sie den Namen der Stelle an", "E-Mail-Adresse der Stelle",
        "Schreiben Sie Ihre Frage", "Geben Sie bei „Stellungnahme bis“ einen Tag",
        "href=\"#statement_email\""}) {
    EXPECT_TRUE(has(bad.body, rule)) << rule;
  }
  EXPECT_EQ(ask(clerk, token,
                {{"beteiligt", "authority"},
                 {"behoerde", "hwi-steuern"},
                 {"frage", "?"},
                 {"frist", in_two_weeks}})
                .status,
            422);
  EXPECT_EQ(
      ask(clerk, token, {{"beteiligt", "jemand"}, {"frage", "?"}, {"frist", in_two_weeks}}).status,
      422);
  EXPECT_TRUE(work.statements(wismar_lead, hund_)->empty());

  // Schwerin's Bürgeramt, with the application shared
  EXPECT_EQ(ask(clerk, token,
                {{"beteiligt", "authority"},
                 {"behoerde", "sn-buergeramt"},
                 {"frage", "Ist der Hund in Schwerin gemeldet?"},
                 {"frist", in_two_weeks},
                 {"unterlagen", "ja"}})
                .status,
            303);
  auto asked = work.statements(wismar_lead, hund_);
  ASSERT_EQ(asked->size(), 1u);
  auto id = asked->front().id;
  // Schwerin has no clerk: its administration is mailed the link to the request
  EXPECT_EQ(app_->database()
                .query("SELECT payload FROM jobs WHERE kind = 'core.mail' AND payload LIKE "
                       "'%verwaltung@schwerin.example%' AND payload LIKE ?",
                       "%/verwaltung/beteiligungen/" + id + "%")
                .size(),
            1u);
  auto schwerin = signed_in("verwaltung@schwerin.example");
  auto list = schwerin.get("/verwaltung/beteiligungen");
  ASSERT_EQ(list.status, 200);
  EXPECT_TRUE(has(list.body, "/verwaltung/beteiligungen/" + id));
  EXPECT_TRUE(has(list.body, "MV-35CA3-4HFYVHOK"));
  auto request = schwerin.get("/verwaltung/beteiligungen/" + id);
  ASSERT_EQ(request.status, 200) << request.body;
  for (const auto* text :
       {"Ist der Hund in Schwerin gemeldet?", "Erika Mustermann",
        "Hansestadt Wismar, Abteilung Steuern und Abgaben", "Antrag-MV-35CA3-4HFYVHOK.pdf"}) {
    EXPECT_TRUE(has(request.body, text)) << text;
  }
  auto shared = "/verwaltung/beteiligungen/" + id + "/unterlagen/";
  EXPECT_EQ(schwerin.get(shared + "antrag").body, kPdf);
  EXPECT_EQ(schwerin.get(shared + "0").body, "%PDF-1.7\n% Nachweis\n%%EOF\n");
  EXPECT_EQ(schwerin.get(shared + "0").header("cache-control"), "no-store");
  EXPECT_EQ(schwerin.get(shared + "7").status, 404);
  EXPECT_EQ(schwerin.get(shared + "..%2F0").status, 404);
  // the party reads the request, never the Vorgang; Wismar's clerk is no party
  EXPECT_EQ(schwerin.get(base).status, 404);
  EXPECT_EQ(clerk.get("/verwaltung/beteiligungen/" + id).status, 404);
  EXPECT_FALSE(has(clerk.get("/verwaltung/beteiligungen").body, id));

  auto answer = [&](test::HttpClient& c, const std::string& path, const std::string& csrf,
                    const std::string& text, const std::string& file,
                    const std::string& access = {}) {
    std::vector<web::Part> parts;
    if (!csrf.empty())
      parts.push_back({.name = "csrf_token", .filename = {}, .content_type = {}, .body = csrf});
    if (!access.empty())
      parts.push_back({.name = "zugang", .filename = {}, .content_type = {}, .body = access});
    parts.push_back({.name = "text", .filename = {}, .content_type = {}, .body = text});
    if (!file.empty()) {
      parts.push_back({.name = "anlage",
                       .filename = "Meldebescheinigung.pdf",
                       .content_type = "application/pdf",
                       .body = file});
    }
    auto body = web::build_multipart(parts);
    return c.request("POST", path, body.body, {{"Content-Type", body.content_type}});
  };
  auto mine = "/verwaltung/beteiligungen/" + id;
  auto schwerin_token = test::HttpClient::csrf_token_in(request.body);
  EXPECT_EQ(answer(schwerin, mine, "", "Ja.", "").status, 403);
  auto empty = answer(schwerin, mine, schwerin_token, " ", "");
  EXPECT_EQ(empty.status, 422);
  EXPECT_TRUE(has(empty.body, "Schreiben Sie Ihre Stellungnahme")) << empty.body;
  auto infected = answer(schwerin, mine, schwerin_token, "Ja.",
                         std::string("%PDF-1.4\n") + R"(X5O!P%@AP[4\PZX54(P^)7CC)7}$)" +
                             "EICAR-STANDARD-ANTIVIRUS-TEST-FILE!$H+H*");
  EXPECT_EQ(infected.status, 422);
  EXPECT_TRUE(has(infected.body, "ohne Schadsoftware"));
  EXPECT_EQ(work.statements(wismar_lead, hund_)->front().status, "open");
  auto given = answer(schwerin, mine, schwerin_token, "Ja, seit 2024 in Schwerin gemeldet.", kPdf);
  EXPECT_EQ(given.status, 303);
  EXPECT_EQ(answer(schwerin, mine, schwerin_token, "Nochmal.", "").status, 409);
  EXPECT_TRUE(has(schwerin.get(mine).body, "Ihre Stellungnahme ist eingegangen"));
  auto shown = clerk.get(base).body;
  EXPECT_TRUE(has(shown, "Ja, seit 2024 in Schwerin gemeldet.")) << shown;
  auto file = base + "/stellungnahmen/" + id + "/0";
  EXPECT_TRUE(has(shown, file));
  EXPECT_EQ(clerk.get(file).body, kPdf);
  EXPECT_EQ(schwerin.get(file).status, 404);
  // the clerks who work the Vorgang are mailed of the answer
  EXPECT_EQ(app_->database()
                .query("SELECT payload FROM jobs WHERE kind = 'core.mail' AND payload LIKE "
                       "'%sachbearbeitung@wismar.example%' AND payload LIKE '%Stellungnahme zu%'")
                .size(),
            1u);

  // an outside body, without the documents: its link is mailed, only the hash is kept
  EXPECT_EQ(ask(clerk, token,
                {{"beteiligt", "outside"},
                 {"name", "Grundschule am Lindenplatz"},
                 {"email", "sekretariat@schule.example"},
                 {"frage", "Besucht das Kind Ihre Schule?"},
                 {"frist", in_two_weeks}})
                .status,
            303);
  auto mails = app_->database().query(
      "SELECT payload FROM jobs WHERE kind = 'core.mail' AND payload LIKE "
      "'%sekretariat@schule.example%'");
  ASSERT_EQ(mails.size(), 1u);
  auto payload = mails[0].text(0);
  auto at = payload.find("/beteiligung?zugang=");
  ASSERT_NE(at, std::string::npos) << payload;
  auto secret = payload.substr(at + 20, 43);
  EXPECT_TRUE(app_->database()
                  .query("SELECT id FROM case_statements WHERE token_hash = ?", secret)
                  .empty());
  auto outsider = client();
  auto wrong = secret.substr(0, 42) + (secret.back() == 'A' ? "B" : "A");
  EXPECT_EQ(outsider.get("/beteiligung?zugang=" + wrong).status, 404);
  EXPECT_EQ(outsider.get("/beteiligung").status, 404);
  auto link = "/beteiligung?zugang=" + secret;
  auto open = outsider.get(link);
  ASSERT_EQ(open.status, 200) << open.body;
  EXPECT_TRUE(has(open.body, "Besucht das Kind Ihre Schule?"));
  EXPECT_FALSE(has(open.body, "Erika Mustermann")) << "not shared";
  EXPECT_FALSE(has(open.body, "/unterlagen/"));
  EXPECT_EQ(outsider.get("/beteiligung/unterlagen/antrag?zugang=" + secret).status, 404);
  auto outsider_token = test::HttpClient::csrf_token_in(open.body);
  ASSERT_FALSE(outsider_token.empty());
  EXPECT_EQ(answer(outsider, "/beteiligung", outsider_token, "Ja.", "", "falsch").status, 404);
  auto sent = answer(outsider, "/beteiligung", outsider_token, "Ja, in der 2b.", "", secret);
  EXPECT_EQ(sent.status, 303);
  EXPECT_EQ(sent.header("location"), link);
  EXPECT_TRUE(has(outsider.get(link).body, "Ihre Stellungnahme ist eingegangen"));
  EXPECT_TRUE(has(clerk.get(base).body, "Ja, in der 2b."));

  // withdrawn, a request's link leads nowhere
  ASSERT_EQ(ask(clerk, token,
                {{"beteiligt", "outside"},
                 {"name", "Tierarzt Dr. Hase"},
                 {"email", "praxis@tierarzt.example"},
                 {"frage", "Ist Bello geimpft?"},
                 {"frist", in_two_weeks}})
                .status,
            303);
  auto vet = app_->database()
                 .query(
                     "SELECT payload FROM jobs WHERE kind = 'core.mail' AND payload LIKE "
                     "'%praxis@tierarzt.example%'")[0]
                 .text(0);
  auto vet_link = "/beteiligung?zugang=" + vet.substr(vet.find("/beteiligung?zugang=") + 20, 43);
  EXPECT_EQ(client().get(vet_link).status, 200);
  auto third = work.statements(wismar_lead, hund_)->back().id;
  EXPECT_EQ(
      clerk.post_form(base + "/stellungnahmen/" + third + "/zurueckziehen", {{"csrf_token", token}})
          .status,
      303);
  EXPECT_EQ(client().get(vet_link).status, 404);
  // Schwerin can neither ask nor withdraw on Wismar's Vorgang
  auto other_token = test::HttpClient::csrf_token_in(schwerin.get("/verwaltung/vorgaenge").body);
  EXPECT_EQ(ask(schwerin, other_token,
                {{"beteiligt", "outside"},
                 {"name", "X"},
                 {"email", "x@y.example"},
                 {"frage", "?"},
                 {"frist", in_two_weeks}})
                .status,
            404);
  EXPECT_EQ(schwerin
                .post_form(base + "/stellungnahmen/" + id + "/zurueckziehen",
                           {{"csrf_token", other_token}})
                .status,
            404);
  EXPECT_EQ(work.statements(wismar_lead, hund_)->size(), 3u);
  // The assigned clerk leaves the authority: the next answer goes to the other clerks who
  // work the Vorgang, not to the administration.
  EXPECT_EQ(
      clerk.post_form(base + "/zuweisen", {{"bearbeitung", "ich"}, {"csrf_token", token}}).status,
      303);
  ASSERT_EQ(ask(clerk, token,
                {{"beteiligt", "authority"},
                 {"behoerde", "sn-buergeramt"},
                 {"frage", "Noch eine Frage: wohnt der Halter bei Ihnen?"},
                 {"frist", in_two_weeks}})
                .status,
            303);
  auto fourth = work.statements(wismar_lead, hund_)->back().id;
  auto& identity = app_->get<identity::Identity>();
  auto admin_id = identity.accounts.find_by_email("verwaltung@wismar.example")->id;
  auto clerk_id = identity.accounts.find_by_email("sachbearbeitung@wismar.example")->id;
  auto told = [&](const std::string& address) {
    return app_->database()
        .query(
            "SELECT payload FROM jobs WHERE kind = 'core.mail' AND payload LIKE ? AND "
            "payload LIKE '%Stellungnahme zu%'",
            "%" + address + "%")
        .size();
  };
  auto colleague_before = told("zweite@wismar.example");
  auto admin_before = told("verwaltung@wismar.example");
  ASSERT_TRUE(identity.staff.remove_staff(admin_id, wismar_, clerk_id, "de"));
  ASSERT_TRUE(
      work.answer_statement(Party{Staffer{"s", "Sina", {{schwerin_, "authority_admin"}}}, ""},
                            fourth, {.text = "Nein.", .files = {}}));
  EXPECT_EQ(told("zweite@wismar.example"), colleague_before + 1);
  EXPECT_EQ(told("verwaltung@wismar.example"), admin_before);
  // every read by a party is in the Vorgang's read record
  auto trail = work.audit_trail(Staffer{"y", "y", {{wismar_, "authority_admin"}}}, hund_);
  ASSERT_TRUE(trail);
  int party_reads = 0;
  for (const auto& e : *trail) {
    if (e.action.starts_with("read:statement:")) ++party_reads;
  }
  EXPECT_GE(party_reads, 5);
}

// Forwarding: the Vorgang goes to Schwerin as received, Wismar's clerk no longer sees it,
// Schwerin's administration does, with the forwarding on its timeline.
TEST_P(CasePages, TheClerkForwardsAVorgangToTheCompetentAuthority) {
  auto clerk = signed_in("sachbearbeitung@wismar.example");
  auto base = "/verwaltung/vorgaenge/" + hund_;
  auto token = test::HttpClient::csrf_token_in(clerk.get(base).body);
  auto forward = [&](std::vector<std::pair<std::string, std::string>> fields) {
    for (auto& [k, v] : fields) v = enc(v);
    fields.emplace_back("csrf_token", token);
    return clerk.post_form(base + "/abgabe", fields);
  };
  auto bad = forward({{"behoerde", "gibt-es-nicht"}, {"grund", ""}});
  EXPECT_EQ(bad.status, 422);
  EXPECT_TRUE(has(bad.body, "Wählen Sie bei „Zuständige Behörde“ eine andere Behörde"));
  EXPECT_TRUE(has(bad.body, "Begründen Sie die Abgabe"));
  EXPECT_EQ(forward({{"behoerde", "hwi-steuern"}, {"grund", "x"}}).status, 422);
  EXPECT_EQ(app_->get<Cases>().find({wismar_}, hund_)->authority_id, "hwi-steuern");
  auto done = forward({{"behoerde", "sn-buergeramt"}, {"grund", "Hund lebt in Schwerin."}});
  EXPECT_EQ(done.status, 303);
  EXPECT_EQ(done.header("location"), "/verwaltung/vorgaenge?abgegeben=1");
  EXPECT_TRUE(has(clerk.get(done.header("location")).body, "Der Vorgang wurde abgegeben."));
  EXPECT_EQ(clerk.get(base).status, 404);
  EXPECT_FALSE(has(clerk.get("/verwaltung/vorgaenge").body, hund_));
  auto schwerin = signed_in("verwaltung@schwerin.example");
  EXPECT_TRUE(has(schwerin.get("/verwaltung/vorgaenge").body, hund_));
  auto theirs = schwerin.get(base);
  ASSERT_EQ(theirs.status, 200);
  EXPECT_TRUE(has(theirs.body, "An eine andere Behörde abgegeben"));
  EXPECT_TRUE(has(theirs.body, "Hund lebt in Schwerin."));
  EXPECT_TRUE(has(theirs.body, "Landeshauptstadt Schwerin, Bürgeramt"));
  auto k = app_->get<Cases>().find({schwerin_}, hund_);
  ASSERT_TRUE(k);
  EXPECT_EQ(k->tenant_id, schwerin_);
  EXPECT_EQ(k->state, "received");
  // Schwerin has no clerk: its administration is mailed of the Vorgang that arrived
  EXPECT_EQ(app_->database()
                .query("SELECT payload FROM jobs WHERE kind = 'core.mail' AND payload LIKE "
                       "'%verwaltung@schwerin.example%' AND payload LIKE '%abgegeben%'")
                .size(),
            1u);
  // the applicant is told: the applications component's job is queued
  EXPECT_EQ(
      app_->database().query("SELECT id FROM jobs WHERE kind = 'applications.forwarded'").size(),
      1u);
}

TEST_P(CasePages, TheAdministrationSetsUpItsCaseManagement) {
  const std::string base = "/verwaltung/fallmanagement";
  EXPECT_EQ(client().get(base).status, 303);
  EXPECT_EQ(signed_in("sachbearbeitung@wismar.example").get(base).status, 403);
  EXPECT_EQ(signed_in("kasse@wismar.example").get(base).status, 403);
  auto admin = signed_in("verwaltung@wismar.example");
  auto page = admin.get(base);
  ASSERT_EQ(page.status, 200);
  EXPECT_TRUE(has(page.body, "Kim Muster"));  // the clerk, to choose as a member
  auto token = test::HttpClient::csrf_token_in(page.body);
  ASSERT_FALSE(token.empty());
  auto q = "?mandant=" + wismar_;
  auto post = [&](test::HttpClient& c, const std::string& path,
                  std::vector<std::pair<std::string, std::string>> fields,
                  const std::string& csrf) {
    for (auto& [k, v] : fields) v = enc(v);
    if (!csrf.empty()) fields.emplace_back("csrf_token", csrf);
    return c.post_form(base + path, fields);
  };
  auto& id = app_->get<identity::Identity>();
  std::string clerk_id;
  for (const auto& colleague : id.staff.members(wismar_)) {
    if (colleague.email == "sachbearbeitung@wismar.example") clerk_id = colleague.id;
  }
  ASSERT_FALSE(clerk_id.empty());
  auto& work = app_->get<Casework>();
  Staffer wismar_admin{"x", "x", {{wismar_, "authority_admin"}}};

  EXPECT_EQ(post(admin, "/gruppen" + q, {{"name", "Steuern"}}, "").status, 403);
  auto unnamed = post(admin, "/gruppen" + q, {{"name", " "}}, token);
  EXPECT_EQ(unnamed.status, 422);
  EXPECT_TRUE(has(unnamed.body, "href=\"#gruppen-name\""));
  EXPECT_TRUE(has(unnamed.body, "Geben Sie einen Namen an"));
  EXPECT_TRUE(work.groups(wismar_admin, wismar_)->empty());
  auto saved = post(admin, "/gruppen" + q, {{"name", "Steuern"}, {"mitglieder", clerk_id}}, token);
  ASSERT_EQ(saved.status, 303);
  EXPECT_TRUE(has(saved.header("location"), "#gruppen"));
  auto groups = work.groups(wismar_admin, wismar_);
  ASSERT_EQ(groups->size(), 1u);
  EXPECT_EQ(groups->front().members, std::vector<std::string>{clerk_id});
  EXPECT_TRUE(has(admin.get(base).body, "Steuern"));

  auto day = post(admin, "/schliesstage" + q, {{"tag", "31.12.2026"}, {"bezeichnung", "Silvester"}},
                  token);
  EXPECT_EQ(day.status, 422);
  EXPECT_TRUE(has(day.body, "href=\"#schliesstage-day\""));
  EXPECT_EQ(
      post(admin, "/schliesstage" + q, {{"tag", "2026-12-31"}, {"bezeichnung", "Silvester"}}, token)
          .status,
      303);
  EXPECT_TRUE(has(admin.get(base).body, "31.12.2026: Silvester"));
  EXPECT_EQ(post(admin, "/schliesstage/2026-12-31/entfernen" + q, {}, token).status, 303);
  EXPECT_TRUE(work.closing_days(wismar_admin, wismar_)->empty());

  auto templ =
      post(admin, "/vorlagen" + q, {{"name", "Bescheid"}, {"title", ""}, {"body", ""}}, token);
  EXPECT_EQ(templ.status, 422);
  EXPECT_TRUE(has(templ.body, "href=\"#vorlagen-title\""));
  EXPECT_TRUE(has(templ.body, "href=\"#vorlagen-body\""));
  EXPECT_TRUE(has(templ.body, "value=\"Bescheid\""));  // what was sent stays
  EXPECT_EQ(post(admin, "/vorlagen" + q,
                 {{"name", "Bescheid"},
                  {"title", "Bescheid"},
                  {"body", "Sehr geehrte Person {antragsteller},"}},
                 token)
                .status,
            303);
  EXPECT_EQ(work.templates(wismar_admin, wismar_)->size(), 1u);

  auto rule =
      post(admin, "/dienste/hundesteuer-anmeldung" + q,
           {{"frist", "drei Monate"}, {"ablauf", "material_check"}, {"automatisch", ""}}, token);
  EXPECT_EQ(rule.status, 422);
  EXPECT_TRUE(has(rule.body, "Geben Sie die Frist an"));

  // a seal file that is none: the rule, and the generated seal stays
  auto body = web::build_multipart(
      {{.name = "csrf_token", .filename = {}, .content_type = {}, .body = token},
       {.name = "zertifikat",
        .filename = "siegel.p12",
        .content_type = "application/x-pkcs12",
        .body = "kein Zertifikat"}});
  auto seal =
      admin.request("POST", base + "/siegel" + q, body.body, {{"Content-Type", body.content_type}});
  EXPECT_EQ(seal.status, 422);
  EXPECT_TRUE(has(seal.body, "Siegelzertifikat"));
  EXPECT_TRUE(work.seal(wismar_admin, wismar_)->generated);

  // Schwerin's admin: not Wismar's page, not Wismar's groups, not Wismar's clerk
  auto other = signed_in("verwaltung@schwerin.example");
  EXPECT_EQ(other.get(base + q).status, 403);
  auto other_token = test::HttpClient::csrf_token_in(other.get(base).body);
  ASSERT_FALSE(other_token.empty());
  EXPECT_EQ(post(other, "/gruppen" + q, {{"name", "Übernahme"}}, other_token).status, 403);
  EXPECT_EQ(post(other, "/gruppen/" + groups->front().id + "/entfernen", {}, other_token).status,
            404);
  auto stolen = post(other, "/gruppen", {{"name", "Fremd"}, {"mitglieder", clerk_id}}, other_token);
  EXPECT_EQ(stolen.status, 422);
  EXPECT_EQ(work.groups(wismar_admin, wismar_)->size(), 1u);
  EXPECT_EQ(post(admin, "/gruppen/" + groups->front().id + "/entfernen" + q, {}, token).status,
            303);
  EXPECT_TRUE(work.groups(wismar_admin, wismar_)->empty());
  // the account page leads the administration here
  EXPECT_TRUE(has(admin.get("/konto").body, "href=\"/verwaltung/fallmanagement\""));
}

TEST_P(CasePages, TheAccountPageLeadsClerksToTheirVorgaenge) {
  auto clerk = signed_in("sachbearbeitung@wismar.example");
  EXPECT_TRUE(has(clerk.get("/konto").body, "href=\"/verwaltung/vorgaenge\""));
  auto cashier = signed_in("kasse@wismar.example");
  EXPECT_FALSE(has(cashier.get("/konto").body, "href=\"/verwaltung/vorgaenge\""));
}

INSTANTIATE_TEST_SUITE_P(Backends, CasePages, ::testing::ValuesIn(test::backends()));
INSTANTIATE_TEST_SUITE_P(Backends, CaseMessagePages, ::testing::ValuesIn(test::backends()));

}  // namespace
}  // namespace mvsp::cases
