// Paper applications on both databases: a clerk of Schwerin's Bürgeramt enters an application
// that came by post in the online service's own form, with the applicant's address, an
// Aktenzeichen, the day it came in and the scan; the Vorgang opens as an online one does, its
// applicant is reached by post. Each broken rule is named and nothing is written; nobody enters
// one for a service that is not theirs; the pages do the same without JavaScript.
#include <gtest/gtest.h>

#include <cstdio>
#include <fstream>
#include <mvsp/cases/casework.hpp>
#include <mvsp/core/db.hpp>
#include <mvsp/web/http.hpp>
#include <mvsp/web/multipart.hpp>
#include <sstream>

#include "../applications/fixture.hpp"

namespace mvsp::cases {
namespace {

using applications::fixture::eicar;
using applications::fixture::kPdf;

constexpr const char* kService = "test-hunde-online";
constexpr const char* kPassword = "ein langes Passwort 2026";

class PaperApplications : public applications::fixture::ApplicationsTest {
 protected:
  void add_routes(app::App& app) override {
    ApplicationsTest::add_routes(app);
    if (HasFatalFailure()) return;
    auto& id = app.get<identity::Identity>();
    for (auto [email, role] :
         {std::pair{"papier@schwerin.example", "clerk"}, {"zweite@schwerin.example", "clerk"}}) {
      auto a = id.accounts.create_account({.email = email,
                                           .password = kPassword,
                                           .given_name = "Pia",
                                           .family_name = "Papier",
                                           .verified = true,
                                           .role = role,
                                           .tenant_id = tenant_},
                                          "test");
      ASSERT_TRUE(a) << a.error().message;
      staff_.push_back(a->id);
    }
  }

  Casework& work() { return app_->get<Casework>(); }
  Staffer clerk() { return {staff_[0], "Pia Papier", {{tenant_, "clerk"}}}; }
  Staffer admin() { return {"a-admin", "Anna Admin", {{tenant_, "authority_admin"}}}; }

  std::string day(int days_back) {
    return core::format_day(core::berlin_day(clock_->now()) - std::chrono::days(days_back));
  }

  PaperApplication paper(const std::string& key = "schluessel-0123456789") {
    return {.key = key,
            .authority_id = "sn-buergeramt",
            .online_service_id = kService,
            .answers = answers(1),
            .applicant_name = "Erika Papier",
            .applicant_address = "Am Markt 1\r\n\n 19055 Schwerin ",
            .aktenzeichen = "32.1-HST-2026/0815",
            .received_on = day(3),
            .scans = {{.requirement = "",
                       .filename = "C:\\Scans\\scan-seite.html",
                       .media_type = "",
                       .content = kPdf}}};
  }

  std::optional<PaperChoice> chosen(const Staffer& who) {
    for (auto& c : work().paper_choices(who)) {
      if (c.service.id == kService) return std::move(c);
    }
    return std::nullopt;
  }

  std::int64_t count_cases() { return db().query_one("SELECT COUNT(*) FROM cases")->integer(0); }

  test::HttpClient signed_in(const std::string& email) {
    auto c = client();
    auto page = c.get("/anmelden");
    auto res =
        c.post_form("/anmelden", {{"email", web::url_encode(email)},
                                  {"password", web::url_encode(kPassword)},
                                  {"csrf_token", test::HttpClient::csrf_token_in(page.body)}});
    EXPECT_EQ(res.status, 303) << email;
    return c;
  }

  test::HttpResponse post(test::HttpClient& c, const std::string& page, const std::string& action,
                          std::vector<std::pair<std::string, std::string>> fields) {
    auto shown = c.get(page);
    for (auto& [k, v] : fields) v = web::url_encode(v);
    fields.emplace_back("csrf_token", test::HttpClient::csrf_token_in(shown.body));
    return c.post_form(action, fields);
  }

  test::HttpResponse finish(test::HttpClient& c, const std::string& base,
                            std::vector<web::Part> parts) {
    auto shown = c.get(base + "/abschluss");
    parts.push_back({.name = "csrf_token",
                     .filename = {},
                     .content_type = {},
                     .body = test::HttpClient::csrf_token_in(shown.body)});
    auto body = web::build_multipart(parts);
    return c.request("POST", base + "/abschluss", body.body, {{"Content-Type", body.content_type}});
  }

  std::vector<std::string> staff_;
};

TEST_P(PaperApplications, AClerkEntersOneInTheServicesOwnFormAndItIsReachedByPost) {
  // the services the Bürgeramt has, with a form, in production: the test service among them
  auto choice = chosen(clerk());
  ASSERT_TRUE(choice);
  EXPECT_EQ(choice->authority.id, "sn-buergeramt");
  EXPECT_EQ(choice->service.form_key, "test-hunde");
  for (const auto& c : work().paper_choices(clerk())) {
    EXPECT_EQ(c.authority.tenant_id, tenant_) << c.service.id;
    EXPECT_FALSE(c.service.form_key.empty()) << c.service.id;
  }

  auto opened = work().open_paper(clerk(), paper());
  ASSERT_TRUE(opened) << opened.error().message;
  const auto& k = *opened;
  EXPECT_EQ(k.source, "paper");
  EXPECT_EQ(k.state, "received");
  EXPECT_EQ(k.tenant_id, tenant_);
  EXPECT_EQ(k.title, "Hunde anmelden (Test)");
  EXPECT_TRUE(k.reference.starts_with("MV-"));
  EXPECT_EQ(k.applicant.kind, "paper");
  EXPECT_EQ(k.applicant.name, "Erika Papier");
  EXPECT_EQ(k.applicant.address, "Am Markt 1\n19055 Schwerin");
  EXPECT_EQ(k.aktenzeichen, "32.1-HST-2026/0815");
  // it came in three days ago: it is listed, and its deadline runs, from then
  EXPECT_EQ(core::format_day(core::berlin_day(k.received_at)), day(3));
  ASSERT_EQ(k.documents.size(), 1u);
  EXPECT_EQ(k.documents[0].requirement, "Papierantrag (Scan)");
  // the name as the browser sent it is made safe and fits the content
  EXPECT_EQ(k.documents[0].filename, "scan-seite.html.pdf");
  EXPECT_EQ(k.documents[0].media_type, "application/pdf");
  // the answers as an online application has them
  auto json = app_->get<Cases>().answers(k.id, "json");
  ASSERT_TRUE(json);
  EXPECT_NE(json->find("Hund 0"), std::string::npos);
  EXPECT_NE(json->find(k.reference), std::string::npos);
  EXPECT_TRUE(app_->get<Cases>().answers(k.id, "pdf")->starts_with("%PDF"));
  EXPECT_NE(app_->get<Cases>().answers(k.id, "xml")->find("Hund 0"), std::string::npos);
  // found in the inbox by its Aktenzeichen and by the answers
  auto found = work().inbox(clerk(), {.text = "HST-2026/0815"});
  ASSERT_TRUE(found);
  ASSERT_EQ(found->rows.size(), 1u);
  EXPECT_EQ(found->rows[0].c.id, k.id);
  EXPECT_EQ(work().inbox(clerk(), {.text = "hund 0"})->rows.size(), 1u);
  // on the timeline, entered by the clerk
  auto timeline = work().timeline(k.id);
  ASSERT_FALSE(timeline.empty());
  EXPECT_EQ(timeline.front().actor, "account:" + staff_[0]);
  EXPECT_NE(timeline.front().detail.find(R"("source":"paper")"), std::string::npos);
  EXPECT_NE(timeline.front().detail.find(fmt::format(R"("receivedOn":"{}")", day(3))),
            std::string::npos);
  // the e-file learns that it came on paper (hybrid: the paper and its scan), and from where
  auto container = work().efile_container(k.id, clock_->now());
  ASSERT_TRUE(container);
  EXPECT_NE(container->xml.find("Papierantrag " + k.reference), std::string::npos);
  EXPECT_NE(container->xml.find("Am Markt 1, 19055 Schwerin"), std::string::npos);
  EXPECT_NE(container->xml.find("<code>002</code>"), std::string::npos) << container->xml;

  // the same entry sent again (a double click) opens nothing new; its key for another
  // service is not the way to this Vorgang
  auto again = work().open_paper(clerk(), paper());
  ASSERT_TRUE(again);
  EXPECT_EQ(again->id, k.id);
  EXPECT_EQ(count_cases(), 1);
  auto other = chosen(clerk());
  for (const auto& c : work().paper_choices(clerk())) {
    if (c.service.id != kService) other = c;
  }
  ASSERT_NE(other->service.id, kService);
  auto elsewhere = paper();
  elsewhere.authority_id = other->authority.id;
  elsewhere.online_service_id = other->service.id;
  EXPECT_EQ(work().open_paper(clerk(), elsewhere).error().code, core::ErrorCode::conflict);

  // no messages, no document requests through the platform: the applicant has no account
  ASSERT_TRUE(work().move(clerk(), k.id, State::formal_check, ""));
  auto message = work().send_message(clerk(), k.id, {.subject = "Frage", .body = "Text"});
  ASSERT_FALSE(message);
  EXPECT_EQ(message.error().code, core::ErrorCode::conflict);
  auto request = work().request_documents(clerk(), k.id, {"Foto"}, day(-10), "");
  ASSERT_FALSE(request);
  EXPECT_EQ(request.error().code, core::ErrorCode::conflict);

  // the notice is a letter to the address: announced by post
  auto t = work().save_template(admin(), tenant_,
                                {"", "Bescheid", "Bescheid Hundesteuer", "Sehr geehrte Person."});
  ASSERT_TRUE(t) << t.error().message;
  auto notice = work().decide(clerk(), k.id, {.template_id = t->id});
  ASSERT_TRUE(notice) << notice.error().message;
  EXPECT_EQ(notice->recipient, "");
  std::ostringstream pdf;
  ASSERT_TRUE(work().read_notice(k.id, notice->id, pdf));
  auto path = (data_dir_->path() / "bescheid.pdf").string();
  {
    std::ofstream out(path, std::ios::binary);
    out << pdf.str();
  }
  std::string text;
  auto* pipe = popen(("pdftotext " + path + " -").c_str(), "r");
  ASSERT_NE(pipe, nullptr);
  char buffer[4096];
  while (auto n = fread(buffer, 1, sizeof buffer, pipe)) text.append(buffer, n);
  pclose(pipe);
  EXPECT_NE(text.find("Erika Papier"), std::string::npos) << text;
  EXPECT_NE(text.find("Am Markt 1"), std::string::npos) << text;
  EXPECT_NE(text.find("19055 Schwerin"), std::string::npos) << text;
}

TEST_P(PaperApplications, EachBrokenRuleIsNamedAndNothingIsWritten) {
  auto fields_of = [&](const PaperApplication& p) {
    auto r = work().open_paper(clerk(), p);
    EXPECT_FALSE(r);
    std::vector<std::string> fields;
    if (!r) {
      EXPECT_EQ(r.error().code, core::ErrorCode::invalid_input) << r.error().message;
      for (const auto& f : r.error().fields) fields.push_back(f.field);
    }
    return fields;
  };
  using Fields = std::vector<std::string>;
  auto p = paper();
  p.applicant_name = " ";
  p.applicant_address = "Am Markt 1";
  p.aktenzeichen = "";
  p.received_on = day(-1);  // tomorrow
  p.scans.clear();
  EXPECT_EQ(fields_of(p), (Fields{"applicant_name", "applicant_address", "aktenzeichen",
                                  "received_on", "scans"}));
  p = paper();
  p.applicant_name = "Erika\nPapier";
  p.applicant_address = "1\n2\n3\n4\n5";
  p.aktenzeichen = std::string(65, 'A');
  p.received_on = day(400);
  EXPECT_EQ(fields_of(p),
            (Fields{"applicant_name", "applicant_address", "aktenzeichen", "received_on"}));
  // what would move the letter's window: bidi controls, a line separator, a line too long
  p = paper();
  p.applicant_name = "Erika \u202Erepaip";
  p.applicant_address = "Am Markt 1\u2028Hinterhaus\n19055 Schwerin";
  p.aktenzeichen = "32.1\u2066/7";
  EXPECT_EQ(fields_of(p), (Fields{"applicant_name", "applicant_address", "aktenzeichen"}));
  // characters are counted, not bytes: 90 "ä" (180 bytes) fit, 91 do not; an emoji is one;
  // zero widths and C1 controls are refused
  std::string ae90;
  for (int i = 0; i < 90; ++i) ae90 += "ä";
  p = paper("schluessel-zeichen-0001");
  p.applicant_name = ae90;
  p.applicant_address = std::string("Große Straße ") + "\U0001F3E0" +
                        "äöüÄÖÜßäöüÄÖÜßäöüÄÖÜßäöüÄÖÜ1234" + "\n19055 Schwerin";
  auto fits = work().open_paper(clerk(), p);
  EXPECT_TRUE(fits) << fits.error().message;
  p = paper();
  p.applicant_name = ae90 + "ä";
  p.applicant_address = "Am Markt\u200B 1\n19055 Schwerin";
  p.aktenzeichen = "32.1\u0085/7";
  EXPECT_EQ(fields_of(p), (Fields{"applicant_name", "applicant_address", "aktenzeichen"}));
  p = paper();
  p.applicant_name = std::string(91, 'E');
  p.applicant_address = "Am Markt 1\n" + std::string(46, 'x');
  p.received_on = "3.12.2026";
  p.scans = {{.requirement = "", .filename = "antrag.txt", .media_type = "", .content = "Text"}};
  EXPECT_EQ(fields_of(p), (Fields{"applicant_name", "applicant_address", "received_on", "scans"}));
  p = paper();
  p.scans.assign(6, p.scans.front());
  EXPECT_EQ(fields_of(p), (Fields{"scans"}));
  // the form's own check: a page not filled is named with its page
  p = paper();
  p.answers.erase("hunde");
  p.answers["_done"] = "halter";
  auto answers = fields_of(p);
  ASSERT_FALSE(answers.empty());
  EXPECT_TRUE(answers.front().starts_with("answers.hunde")) << answers.front();
  // an infected scan
  p = paper();
  p.scans[0].content = kPdf + eicar();
  EXPECT_EQ(fields_of(p), (Fields{"scans"}));
  // the entry's key is the platform's
  p = paper("kurz");
  EXPECT_EQ(fields_of(p), (Fields{"key"}));
  EXPECT_EQ(count_cases(), 1) << "the one that fits";
}

TEST_P(PaperApplications, NobodyEntersOneForAServiceThatIsNotTheirs) {
  // a clerk of Wismar: Schwerin's service is not among theirs
  auto wismar = app_->get<catalog::Catalog>().authority("hwi-steuern")->tenant_id;
  Staffer stranger{"a-wismar", "Wim Wismar", {{wismar, "clerk"}}};
  EXPECT_FALSE(chosen(stranger));
  auto refused = work().open_paper(stranger, paper());
  ASSERT_FALSE(refused);
  EXPECT_EQ(refused.error().code, core::ErrorCode::forbidden);
  // a person without a role of the case management
  Staffer cashier{staff_[0], "Pia Papier", {{tenant_, "cashier"}}};
  EXPECT_TRUE(work().paper_choices(cashier).empty());
  EXPECT_EQ(work().open_paper(cashier, paper()).error().code, core::ErrorCode::forbidden);
  // a service another group handles: not for this clerk, for its member and the administration
  auto group = work().save_group(
      admin(), tenant_,
      {.id = "", .name = "Hunde", .members = {staff_[1]}, .online_services = {kService}});
  ASSERT_TRUE(group) << group.error().message;
  EXPECT_FALSE(chosen(clerk()));
  EXPECT_EQ(work().open_paper(clerk(), paper()).error().code, core::ErrorCode::forbidden);
  Staffer member{staff_[1], "Zweite", {{tenant_, "clerk"}}};
  EXPECT_TRUE(chosen(member));
  EXPECT_TRUE(chosen(admin()));
  EXPECT_EQ(count_cases(), 0);
  auto opened = work().open_paper(member, paper());
  ASSERT_TRUE(opened) << opened.error().message;
  EXPECT_EQ(opened->group_id, group->id);
  // the key of that entry is not the way to another tenant's Vorgang
  EXPECT_EQ(work().open_paper(stranger, paper()).error().code, core::ErrorCode::forbidden);
}

TEST_P(PaperApplications, ThePagesFillTheFormPageByPageAndOpenTheVorgang) {
  // a visitor goes to the login; a clerk of Wismar cannot choose Schwerin's service
  auto visitor = client();
  EXPECT_EQ(visitor.get("/verwaltung/papierantrag").status, 303);
  auto c = signed_in("papier@schwerin.example");
  auto start = c.get("/verwaltung/papierantrag");
  ASSERT_EQ(start.status, 200) << start.body;
  const std::string choice = "sn-buergeramt|test-hunde-online";
  EXPECT_NE(start.body.find(choice), std::string::npos) << start.body;
  // without the form's token nothing starts
  EXPECT_EQ(c.post_form("/verwaltung/papierantrag", {{"dienst", web::url_encode(choice)}}).status,
            403);
  auto wrong = post(c, "/verwaltung/papierantrag", "/verwaltung/papierantrag",
                    {{"dienst", "hwi-steuern|test-hunde-online"}});
  EXPECT_EQ(wrong.status, 422);
  EXPECT_NE(wrong.body.find("href=\"#online_service\""), std::string::npos);
  // an entry that is not there leads to the start
  EXPECT_EQ(c.get("/verwaltung/papierantrag/gibt-es-nicht/abschluss").header("location"),
            "/verwaltung/papierantrag");

  // two entries at once, as two windows would have them: each keeps its own answers
  auto begin = [&] {
    auto begun =
        post(c, "/verwaltung/papierantrag", "/verwaltung/papierantrag", {{"dienst", choice}});
    EXPECT_EQ(begun.status, 303);
    auto to = begun.header("location");
    EXPECT_TRUE(to.starts_with("/verwaltung/papierantrag/") && to.ends_with("/seiten/halter"))
        << to;
    return to.substr(0, to.size() - std::string("/seiten/halter").size());
  };
  auto one = begin();
  auto two = begin();
  ASSERT_NE(one, two);
  // nobody skips ahead
  EXPECT_EQ(c.get(one + "/abschluss").header("location"), one + "/seiten/halter");
  auto empty = post(c, one + "/seiten/halter", one + "/seiten/halter", {{"name.vorname", ""}});
  EXPECT_EQ(empty.status, 422);
  auto fill = [&](const std::string& base, const std::string& dog) {
    auto holder = post(c, base + "/seiten/halter", base + "/seiten/halter",
                       {{"name.vorname", "Erika"}, {"name.nachname", "Papier"}});
    EXPECT_EQ(holder.header("location"), base + "/seiten/hunde");
    auto dogs = post(c, base + "/seiten/hunde", base + "/seiten/hunde",
                     {{"hunde", "1"}, {"hunde[0].rufname", dog}});
    EXPECT_EQ(dogs.header("location"), base + "/abschluss");
  };
  fill(one, "Bello");
  fill(two, "Zora");
  auto last = c.get(one + "/abschluss");
  ASSERT_EQ(last.status, 200);
  EXPECT_NE(last.body.find("Bello"), std::string::npos);
  EXPECT_EQ(last.body.find("Zora"), std::string::npos);
  EXPECT_NE(last.body.find(one + "/seiten/hunde#"), std::string::npos);
  // both are listed on the start page to go on with
  auto listed = c.get("/verwaltung/papierantrag");
  EXPECT_NE(listed.body.find(one + "/abschluss"), std::string::npos);
  EXPECT_NE(listed.body.find(two + "/abschluss"), std::string::npos);

  // what the paper says besides the form: each missing part named at its field
  auto missing = finish(c, one,
                        {{.name = "name", .filename = {}, .content_type = {}, .body = ""},
                         {.name = "scan", .filename = {}, .content_type = {}, .body = ""}});
  EXPECT_EQ(missing.status, 422);
  for (auto field : {"applicant_name", "applicant_address", "aktenzeichen", "scans"}) {
    EXPECT_NE(missing.body.find(fmt::format("href=\"#{}\"", field)), std::string::npos) << field;
    EXPECT_NE(missing.body.find(fmt::format("id=\"{}-error\"", field)), std::string::npos) << field;
  }
  EXPECT_EQ(count_cases(), 0);

  auto done = finish(
      c, one,
      {{.name = "name", .filename = {}, .content_type = {}, .body = "Erika Papier"},
       {.name = "anschrift",
        .filename = {},
        .content_type = {},
        .body = "Am Markt 1\r\n19055 Schwerin"},
       {.name = "aktenzeichen", .filename = {}, .content_type = {}, .body = "32.1-HST/7"},
       {.name = "eingang", .filename = {}, .content_type = {}, .body = day(1)},
       {.name = "scan", .filename = "scan.pdf", .content_type = "application/pdf", .body = kPdf}});
  ASSERT_EQ(done.status, 303) << done.body;
  auto where = done.header("location");
  ASSERT_TRUE(where.starts_with("/verwaltung/vorgaenge/")) << where;
  EXPECT_TRUE(where.ends_with("?erfasst=1"));
  auto page = c.get(where);
  ASSERT_EQ(page.status, 200);
  EXPECT_NE(page.body.find("Der Papierantrag wurde als Vorgang angelegt."), std::string::npos);
  EXPECT_NE(page.body.find("Am Markt 1, 19055 Schwerin"), std::string::npos);
  EXPECT_NE(page.body.find("32.1-HST/7"), std::string::npos);
  EXPECT_NE(page.body.find("per Post (Papierantrag)"), std::string::npos);
  EXPECT_EQ(page.body.find("/nachrichten\" enctype"), std::string::npos) << "no message form";
  EXPECT_EQ(count_cases(), 1);
  auto json = app_->get<Cases>().answers(
      where.substr(22, where.size() - 22 - std::string("?erfasst=1").size()), "json");
  ASSERT_TRUE(json);
  EXPECT_NE(json->find("Bello"), std::string::npos);
  // that entry is over: its pages lead to the start; the other one is still there
  EXPECT_EQ(c.get(one + "/seiten/halter").header("location"), "/verwaltung/papierantrag");
  EXPECT_EQ(c.get(two + "/abschluss").status, 200);
  auto dropped = post(c, "/verwaltung/papierantrag", two + "/verwerfen", {});
  EXPECT_EQ(dropped.status, 303);
  EXPECT_EQ(c.get(two + "/abschluss").header("location"), "/verwaltung/papierantrag");
  // a key that is no entry leads to the start, whatever is sent to it
  EXPECT_EQ(post(c, "/verwaltung/papierantrag", "/verwaltung/papierantrag/..%2e/seiten/halter",
                 {{"name.vorname", "X"}})
                .status,
            303);
  // a session keeps three entries: a fourth drops the oldest
  std::vector<std::string> entries;
  for (int i = 0; i < 4; ++i) entries.push_back(begin());
  EXPECT_EQ(c.get(entries[0] + "/seiten/halter").header("location"), "/verwaltung/papierantrag");
  for (int i = 1; i < 4; ++i) EXPECT_EQ(c.get(entries[i] + "/seiten/halter").status, 200) << i;
}

INSTANTIATE_TEST_SUITE_P(Backends, PaperApplications, ::testing::ValuesIn(test::backends()));

}  // namespace
}  // namespace mvsp::cases
