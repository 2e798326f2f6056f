// After the submission, on both databases: the citizen's status follows the Vorgang in
// citizen words (whatever order its events arrive in); documents the clerk asks for reach
// the owner's mailbox and are sent inside the Vorhaben (checked and scanned as at the
// submission, all or none); a reminder goes out before the day; the citizen withdraws and
// the Vorgang shows it at once, also before the hand-over ran; and the same over HTTP:
// the request's form on the Vorhaben page, its errors, CSRF, and nobody else's Vorhaben.
#include <gtest/gtest.h>

#include <algorithm>
#include <mvsp/applications/applications.hpp>
#include <mvsp/cases/cases.hpp>
#include <mvsp/cases/casework.hpp>
#include <mvsp/core/clock.hpp>
#include <mvsp/core/jobs.hpp>
#include <mvsp/identity/identity.hpp>
#include <mvsp/mailbox/mailbox.hpp>
#include <mvsp/web/http.hpp>
#include <mvsp/web/multipart.hpp>
#include <sstream>

#include "fixture.hpp"

namespace mvsp::applications {
namespace {

using fixture::eicar;
using fixture::kPdf;

class AfterSubmission : public fixture::ApplicationsTest {
 protected:
  cases::Casework& work() { return app_->get<cases::Casework>(); }
  cases::Staffer clerk() { return {"a-clerk", "Clara Sachbearbeiterin", {{tenant_, "clerk"}}}; }

  // Submitted by person 0 and handed over: the Vorgang is there.
  Application submitted() {
    auto me = person();
    auto a = ready(me, started());
    EXPECT_TRUE(apps().submit(me, a.id, true));
    app_->job_runner().run_due();
    return *apps().get(a.id);
  }

  std::string day_in(int days) {
    return core::format_day(core::berlin_day(clock_->now()) + std::chrono::days(days));
  }

  // The Vorgang asks for a document; the events have reached the application.
  cases::DocumentRequest requested(const Application& a, int days = 14) {
    EXPECT_TRUE(work().move(clerk(), a.case_id, cases::State::formal_check, ""));
    auto r = work().request_documents(clerk(), a.case_id, {"Impfpass des Hundes"}, day_in(days),
                                      "Bitte gut lesbar.");
    EXPECT_TRUE(r) << (r ? "" : r.error().message);
    app_->job_runner().run_due();
    return *r;
  }

  std::vector<mailbox::Message> inbox() {
    return app_->get<mailbox::Mailbox>().inbox(accounts_[0]);
  }
};

TEST_P(AfterSubmission, TheStatusFollowsTheVorgangInCitizenWords) {
  auto a = submitted();
  ASSERT_EQ(a.status, Status::received);
  ASSERT_FALSE(a.case_id.empty());
  ASSERT_TRUE(work().move(clerk(), a.case_id, cases::State::formal_check, ""));
  app_->job_runner().run_due();
  EXPECT_EQ(apps().get(a.id)->status, Status::in_progress);
  // the same state again (a redelivered event) adds nothing to the history
  auto before = apps().events(a.id).size();
  ASSERT_TRUE(apps().follow_case(a.id));
  EXPECT_EQ(apps().events(a.id).size(), before);
  ASSERT_TRUE(work().move(clerk(), a.case_id, cases::State::ended, "Antrag gegenstandslos"));
  // closed before the event was followed: the citizen still reads how it ended
  ASSERT_TRUE(work().move(clerk(), a.case_id, cases::State::closed, ""));
  app_->job_runner().run_due();
  auto ended = apps().get(a.id);
  EXPECT_EQ(ended->status, Status::ended);
  auto events = apps().events(a.id);
  EXPECT_EQ(std::ranges::count_if(events, [](const Event& e) { return e.status == Status::ended; }),
            1);
  // an application without a Vorgang has nothing to follow
  EXPECT_FALSE(apps().follow_case("gibt-es-nicht"));
}

// The clerk forwards the Vorgang to the competent authority: the Vorhaben names it from now
// on, and the owner reads in the mailbox who decides now.
TEST_P(AfterSubmission, AForwardedVorgangIsNamedAndToldToTheOwner) {
  auto a = submitted();
  ASSERT_TRUE(work().move(clerk(), a.case_id, cases::State::formal_check, ""));
  auto moved = work().forward(clerk(), a.case_id, "hwi-buergerbuero", "Der Hund lebt in Wismar.");
  ASSERT_TRUE(moved) << moved.error().message;
  app_->job_runner().run_due();
  auto after = apps().get(a.id);
  EXPECT_EQ(after->authority_id, "hwi-buergerbuero");
  EXPECT_EQ(after->authority_name, "Hansestadt Wismar, Bürgerbüro");
  EXPECT_EQ(after->status, Status::received);
  auto messages = inbox();
  auto told = std::ranges::find_if(messages, [](const mailbox::Message& m) {
    return m.subject.find("andere Behörde abgegeben") != std::string::npos;
  });
  ASSERT_NE(told, messages.end());
  EXPECT_NE(told->body.find("an Hansestadt Wismar, Bürgerbüro abgegeben"), std::string::npos)
      << told->body;
  EXPECT_EQ(told->body.find("Der Hund lebt in Wismar."), std::string::npos)
      << "the reason is for the authorities";
}

TEST_P(AfterSubmission, RequestedDocumentsAreSentInsideTheVorhaben) {
  auto me = person();
  auto a = submitted();
  auto request = requested(a);
  EXPECT_EQ(apps().get(a.id)->status, Status::documents_requested);
  // the owner is told in the mailbox, with what is asked for and until when
  auto messages = inbox();
  auto told = std::ranges::find_if(messages, [](const mailbox::Message& m) {
    return m.subject.find("Unterlagen nachreichen") != std::string::npos;
  });
  ASSERT_NE(told, messages.end());
  const auto* message = &*told;
  EXPECT_NE(message->body.find("Impfpass des Hundes"), std::string::npos);
  EXPECT_NE(message->body.find(core::format_day_de(request.deadline_on)), std::string::npos);
  EXPECT_NE(message->body.find("/antrag/vorhaben/" + a.id), std::string::npos);

  auto open = apps().requests(me, a.id);
  ASSERT_TRUE(open);
  ASSERT_EQ(open->size(), 1u);
  EXPECT_EQ(open->front().items, std::vector<std::string>{"Impfpass des Hundes"});
  // nobody else sees or answers it
  EXPECT_EQ(apps().requests(person(1), a.id).error().code, core::ErrorCode::not_found);
  EXPECT_EQ(apps().answer_request(person(1), a.id, request.id, {{"p.pdf", kPdf}}).error().code,
            core::ErrorCode::not_found);
  // bad files are refused naming the field and the rule, and nothing reaches the Vorgang
  auto field_of = [](const core::Status& s) {
    return s.error().fields.empty() ? std::string() : s.error().fields[0].field;
  };
  auto none = apps().answer_request(me, a.id, request.id, {});
  ASSERT_FALSE(none);
  EXPECT_EQ(field_of(none), "dateien");
  auto text = apps().answer_request(me, a.id, request.id, {{"impfpass.pdf", "nur Text"}});
  ASSERT_FALSE(text);
  EXPECT_EQ(field_of(text), "dateien");
  EXPECT_NE(text.error().fields[0].message.find("PDF, JPG, PNG"), std::string::npos)
      << text.error().fields[0].message;
  auto infected =
      apps().answer_request(me, a.id, request.id, {{"a.pdf", kPdf}, {"b.pdf", kPdf + eicar()}});
  ASSERT_FALSE(infected);
  EXPECT_NE(infected.error().fields[0].message.find("Schadsoftware"), std::string::npos);
  std::vector<Applications::Upload> eleven(11, {"a.pdf", kPdf});
  EXPECT_EQ(field_of(apps().answer_request(me, a.id, request.id, eleven)), "dateien");
  EXPECT_EQ(app_->get<cases::Cases>().by_application(a.id)->documents.size(), 1u);
  // another request's id is not open
  EXPECT_EQ(apps().answer_request(me, a.id, "gibt-es-nicht", {{"a.pdf", kPdf}}).error().code,
            core::ErrorCode::conflict);

  ASSERT_TRUE(
      apps().answer_request(me, a.id, request.id, {{"../../impfpass.pdf", kPdf}, {"b.pdf", kPdf}}));
  // the citizen sees at once that it goes on; the Vorgang has the files
  EXPECT_EQ(apps().get(a.id)->status, Status::in_progress);
  auto vorgang = app_->get<cases::Cases>().by_application(a.id);
  ASSERT_EQ(vorgang->documents.size(), 3u);
  EXPECT_EQ(vorgang->documents[1].requirement, "Impfpass des Hundes");
  EXPECT_EQ(vorgang->documents[1].filename.find('/'), std::string::npos);
  EXPECT_TRUE(apps().requests(me, a.id)->empty());
  // a second send (double click) finds the request closed
  EXPECT_EQ(apps().answer_request(me, a.id, request.id, {{"a.pdf", kPdf}}).error().code,
            core::ErrorCode::conflict);
}

TEST_P(AfterSubmission, AReminderGoesOutBeforeTheDay) {
  auto a = submitted();
  auto request = requested(a, 10);
  auto reminded = [&] {
    auto messages = inbox();
    return std::ranges::count_if(messages, [](const mailbox::Message& m) {
      return m.subject.starts_with("Erinnerung: Unterlagen");
    });
  };
  work().run_request_deadlines();
  app_->job_runner().run_due();
  EXPECT_EQ(reminded(), 0);
  clock_->advance(std::chrono::days(8));
  work().run_request_deadlines();
  app_->job_runner().run_due();
  EXPECT_EQ(reminded(), 1);
  work().run_request_deadlines();  // once
  app_->job_runner().run_due();
  EXPECT_EQ(reminded(), 1);
  // the day passes without an answer: the Vorgang moves on, and the citizen sees it
  clock_->advance(std::chrono::days(5));
  work().run_request_deadlines();
  app_->job_runner().run_due();
  EXPECT_EQ(apps().get(a.id)->status, Status::in_progress);
  EXPECT_TRUE(apps().requests(person(), a.id)->empty());
}

TEST_P(AfterSubmission, AWithdrawalShowsOnTheVorgangAtOnce) {
  auto me = person();
  auto a = submitted();
  requested(a);
  EXPECT_EQ(apps().withdraw(person(1), a.id).error().code, core::ErrorCode::not_found);
  ASSERT_TRUE(apps().withdraw(me, a.id));
  EXPECT_EQ(apps().get(a.id)->status, Status::withdrawn);
  auto vorgang = app_->get<cases::Cases>().by_application(a.id);
  EXPECT_EQ(vorgang->state, "withdrawn");
  EXPECT_TRUE(work().open_requests(a.id).empty());  // the request ended with it
  EXPECT_TRUE(apps().withdraw(me, a.id));           // again: nothing more happens
  app_->job_runner().run_due();
  auto events = apps().events(a.id);
  EXPECT_EQ(
      std::ranges::count_if(events, [](const Event& e) { return e.status == Status::withdrawn; }),
      1);
  EXPECT_FALSE(Applications::may_withdraw(*apps().get(a.id)));
}

// Acting on the application needs the trust level its submission needed.
TEST_P(AfterSubmission, DocumentsAndWithdrawalNeedTheTrustLevelOfTheSubmission) {
  auto a = submitted();
  auto request = requested(a);
  auto weak = person();
  weak.level = identity::TrustLevel::basic;
  EXPECT_EQ(apps().answer_request(weak, a.id, request.id, {{"a.pdf", kPdf}}).error().code,
            core::ErrorCode::forbidden);
  EXPECT_EQ(apps().withdraw(weak, a.id).error().code, core::ErrorCode::forbidden);
  EXPECT_EQ(apps().get(a.id)->status, Status::documents_requested);
  EXPECT_TRUE(apps().answer_request(person(), a.id, request.id, {{"a.pdf", kPdf}}));
}

TEST_P(AfterSubmission, AWithdrawalBeforeTheHandOverOpensNoVorgangToWork) {
  auto me = person();
  auto a = ready(me, started());
  ASSERT_TRUE(apps().submit(me, a.id, true));
  ASSERT_TRUE(apps().withdraw(me, a.id));
  app_->job_runner().run_due();
  EXPECT_EQ(apps().get(a.id)->status, Status::withdrawn);
  EXPECT_FALSE(app_->get<cases::Cases>().by_application(a.id));
}

TEST_P(AfterSubmission, AnEndedApplicationCannotBeWithdrawnAndADraftIsDiscarded) {
  auto me = person();
  auto a = submitted();
  ASSERT_TRUE(work().move(clerk(), a.case_id, cases::State::ended, ""));
  app_->job_runner().run_due();
  auto refused = apps().withdraw(me, a.id);
  ASSERT_FALSE(refused);
  EXPECT_EQ(refused.error().code, core::ErrorCode::conflict);
  EXPECT_NE(refused.error().message.find("nicht mehr zurückziehen"), std::string::npos);
  auto draft = started();
  EXPECT_EQ(apps().withdraw(me, draft.id).error().code, core::ErrorCode::conflict);
}

// Messages go both ways: the clerk writes with an attachment and the trust level needed to
// read it; the owner is told in the mailbox (that, not what), reads it only at that level,
// and answers inside the Vorhaben (scanned); nobody else and no other authority sees them;
// bad input names the field and writes nothing; a finished Vorgang takes no more.
TEST_P(AfterSubmission, MessagesGoBothWaysWithTheTrustLevelToReadThem) {
  auto a = submitted();
  // a clerk of the authority, who hears of each answer
  ASSERT_TRUE(app_->get<identity::Identity>().accounts.create_account(
      {.email = "clara@schwerin.example",
       .password = "Ein-langes-Passwort-2026",
       .given_name = "Clara",
       .family_name = "Sachbearbeiterin",
       .verified = true,
       .role = "clerk",
       .tenant_id = tenant_},
      "test"));
  auto field_of = [](const auto& r) {
    return r.error().fields.empty() ? std::string() : r.error().fields[0].field;
  };
  cases::MessageInput good{
      .subject = "Rückfrage zur Rasse",
      .body = "Bitte senden Sie uns den Stammbaum.\nDanke.",
      .required_level = "substantial",
      .files = {
          {.requirement = "", .filename = "Merkblatt.pdf", .media_type = "", .content = kPdf}}};
  auto bad = good;
  bad.subject = " ";
  EXPECT_EQ(field_of(work().send_message(clerk(), a.case_id, bad)), "message_subject");
  bad = good;
  bad.body = "";
  EXPECT_EQ(field_of(work().send_message(clerk(), a.case_id, bad)), "message_body");
  bad = good;
  bad.required_level = "mittel";
  EXPECT_EQ(field_of(work().send_message(clerk(), a.case_id, bad)), "message_level");
  bad = good;
  bad.files[0].content = "nur Text";
  EXPECT_EQ(field_of(work().send_message(clerk(), a.case_id, bad)), "message_files");
  bad = good;
  bad.files.assign(6, good.files[0]);
  EXPECT_EQ(field_of(work().send_message(clerk(), a.case_id, bad)), "message_files");
  EXPECT_TRUE(work().messages(clerk(), a.case_id)->empty()) << "nothing half-written";
  // a clerk of another authority neither writes nor reads
  cases::Staffer stranger{"a-other", "Otto Fremd", {{"t-elsewhere", "clerk"}}};
  EXPECT_EQ(work().send_message(stranger, a.case_id, good).error().code,
            core::ErrorCode::not_found);
  EXPECT_EQ(work().messages(stranger, a.case_id).error().code, core::ErrorCode::not_found);

  auto sent = work().send_message(clerk(), a.case_id, good);
  ASSERT_TRUE(sent) << sent.error().message;
  app_->job_runner().run_due();
  // the owner is told that the authority wrote, not what
  auto messages = inbox();
  auto told = std::ranges::find_if(messages, [](const mailbox::Message& m) {
    return m.subject.starts_with("Neue Nachricht zu Ihrem Antrag");
  });
  ASSERT_NE(told, messages.end());
  EXPECT_NE(told->body.find("/antrag/vorhaben/" + a.id), std::string::npos);
  EXPECT_EQ(told->body.find("Stammbaum"), std::string::npos);
  EXPECT_EQ(told->required_level, identity::TrustLevel::low);

  // signed in at "low": the message is there, locked
  auto me = person();
  auto low = apps().messages(me, a.id);
  ASSERT_TRUE(low);
  ASSERT_EQ(low->size(), 1u);
  EXPECT_TRUE(low->front().locked);
  EXPECT_TRUE(low->front().subject.empty()) << "the subject may say as much as the text";
  EXPECT_TRUE(low->front().body.empty());
  EXPECT_TRUE(low->front().files.empty());
  std::ostringstream none;
  EXPECT_FALSE(apps().read_message_file(me, a.id, sent->id, 0, none));
  EXPECT_TRUE(none.str().empty());
  // at "substantial" it reads, with its attachment
  auto strong = me;
  strong.level = identity::TrustLevel::substantial;
  auto read = apps().messages(strong, a.id);
  EXPECT_FALSE(read->front().locked);
  EXPECT_NE(read->front().body.find("Stammbaum"), std::string::npos);
  std::ostringstream file;
  auto got = apps().read_message_file(strong, a.id, sent->id, 0, file);
  ASSERT_TRUE(got);
  EXPECT_EQ(file.str(), kPdf);
  EXPECT_EQ(got->media_type, "application/pdf");
  // the applicant's read is in the Vorgang's record, beside the clerks'
  cases::Staffer admin{"a-admin", "Anna Admin", {{tenant_, "authority_admin"}}};
  auto trail = work().audit_trail(admin, a.case_id);
  ASSERT_TRUE(trail);
  EXPECT_TRUE(std::ranges::any_of(*trail, [&](const cases::TimelineEntry& e) {
    return e.action == "read:message:" + sent->id + ":0" && e.actor.ends_with("(applicant)");
  }));
  EXPECT_FALSE(apps().read_message_file(strong, a.id, sent->id, 1, file));
  // nobody else
  EXPECT_EQ(apps().messages(person(1), a.id).error().code, core::ErrorCode::not_found);
  EXPECT_EQ(apps().send_message(person(1), a.id, "Hallo", {}).error().code,
            core::ErrorCode::not_found);

  // the answer: a text is needed, the attachment is scanned, then the clerk has it
  EXPECT_EQ(field_of(apps().send_message(me, a.id, "  ", {})), "nachricht");
  auto infected = apps().send_message(me, a.id, "Anbei", {{"s.pdf", kPdf + eicar()}});
  ASSERT_FALSE(infected);
  EXPECT_EQ(field_of(infected), "anlagen");
  EXPECT_EQ(work().messages(clerk(), a.case_id)->size(), 1u);
  ASSERT_TRUE(apps().send_message(me, a.id, "Anbei der Stammbaum.", {{"stammbaum.pdf", kPdf}}));
  ASSERT_TRUE(apps().send_message(me, a.id, "Noch eine Frage.", {}));
  // the clerk is mailed of each answer, not only of the first
  EXPECT_EQ(app_->database()
                .query("SELECT payload FROM jobs WHERE kind = 'core.mail' AND payload LIKE "
                       "'%clara@schwerin.example%' AND payload LIKE '%Neue Nachricht zum Antrag%'")
                .size(),
            2u);
  // six files are one too many (as for the clerk)
  std::vector<Applications::Upload> six(6, {"a.pdf", kPdf});
  EXPECT_EQ(field_of(apps().send_message(me, a.id, "Sechs Dateien", six)), "anlagen");
  auto thread = work().messages(clerk(), a.case_id);
  ASSERT_EQ(thread->size(), 3u);
  const auto& reply = (*thread)[1];
  EXPECT_EQ(reply.direction, "from_applicant");
  EXPECT_EQ(reply.body, "Anbei der Stammbaum.");
  ASSERT_EQ(reply.files.size(), 1u);
  std::ostringstream answer;
  ASSERT_TRUE(work().read_message_file(clerk(), a.case_id, reply.id, 0, answer));
  EXPECT_EQ(answer.str(), kPdf);
  EXPECT_EQ(work().read_message_file(stranger, a.case_id, reply.id, 0, answer).error().code,
            core::ErrorCode::not_found);
  auto timeline = work().timeline(a.case_id);
  EXPECT_TRUE(std::ranges::any_of(
      timeline, [](const cases::TimelineEntry& e) { return e.action == "case.message_sent"; }));
  EXPECT_TRUE(std::ranges::any_of(
      timeline, [](const cases::TimelineEntry& e) { return e.action == "case.message_received"; }));
  // the ZIP of every document (and so the e-file) has both messages and their attachments
  auto zip = work().documents_zip(clerk(), a.case_id);
  ASSERT_TRUE(zip);
  for (const auto* name :
       {"Nachricht-1.txt", "Merkblatt.pdf", "Nachricht-2.txt", "stammbaum.pdf"}) {
    EXPECT_NE(zip->content.find(name), std::string::npos) << name;
  }
  // the attachments are named rows: the sweep of unnamed blobs keeps them
  clock_->advance(std::chrono::days(2));
  app_->get<cases::Cases>().remove_unnamed_documents();
  std::ostringstream kept;
  EXPECT_TRUE(work().read_message_file(clerk(), a.case_id, sent->id, 0, kept));
  EXPECT_EQ(kept.str(), kPdf);

  // each answer mails the clerks: ten an hour, then the applicant waits
  for (int i = 0; i < 10; ++i) ASSERT_TRUE(apps().send_message(me, a.id, "Nachtrag", {})) << i;
  auto eleventh = apps().send_message(me, a.id, "Noch ein Nachtrag", {});
  ASSERT_FALSE(eleventh);
  EXPECT_EQ(eleventh.error().code, core::ErrorCode::rate_limited);
  EXPECT_NE(eleventh.error().message.find("später"), std::string::npos);
  clock_->advance(std::chrono::hours(1));
  EXPECT_TRUE(apps().send_message(me, a.id, "Eine Stunde später", {}));

  // withdrawn: no more messages either way
  ASSERT_TRUE(apps().withdraw(me, a.id));
  EXPECT_EQ(work().send_message(clerk(), a.case_id, good).error().code, core::ErrorCode::conflict);
  EXPECT_EQ(apps().send_message(me, a.id, "Noch etwas", {}).error().code,
            core::ErrorCode::conflict);
}

INSTANTIATE_TEST_SUITE_P(Backends, AfterSubmission, ::testing::ValuesIn(test::backends()));

class AfterSubmissionPages : public AfterSubmission {
 protected:
  // A guest's submitted application and a browser that holds its link.
  std::pair<Application, test::HttpClient> guest_submitted() {
    auto s = apps().start({.online_service_id = "test-hunde-online",
                           .place = fixture::kSchwerin,
                           .owner = {"guest", ""},
                           .account_id = {},
                           .guest_email = "gast@example.org",
                           .remote_address = "127.0.0.1",
                           .locale = "de"});
    EXPECT_TRUE(s);
    auto c = client();
    EXPECT_EQ(c.get("/antrag/gast?token=" + s->guest_token).status, 303);
    Actor guest{.account_id = {},
                .organisation_id = {},
                .guest_of = {s->application.id},
                .level = identity::TrustLevel::basic,
                .locale = "de"};
    auto a = ready(guest, s->application);
    EXPECT_TRUE(apps().submit(guest, a.id, true));
    app_->job_runner().run_due();
    return {*apps().get(a.id), std::move(c)};
  }

  // Sends `files` with the CSRF token of the session (`token`; "" sends none).
  test::HttpResponse send(test::HttpClient& c, const std::string& base,
                          const std::string& request_id, const std::string& token,
                          std::vector<web::Part> files) {
    std::vector<web::Part> parts;
    if (!token.empty()) {
      parts.push_back({.name = "csrf_token", .filename = {}, .content_type = {}, .body = token});
    }
    for (auto& f : files) parts.push_back(std::move(f));
    auto body = web::build_multipart(parts);
    return c.request("POST", base + "/nachreichen/" + request_id, body.body,
                     {{"Content-Type", body.content_type}});
  }
  static web::Part file(std::string name, std::string content) {
    return {.name = "dateien",
            .filename = std::move(name),
            .content_type = "application/pdf",
            .body = std::move(content)};
  }
};

// The guest reads the authority's message on the Vorhaben page (mailed: the link, not the
// text) and answers there: CSRF, the rule at the field, a message above the guest's level
// locked.
TEST_P(AfterSubmissionPages, AGuestReadsAndAnswersMessagesOnTheVorhabenPage) {
  auto [a, c] = guest_submitted();
  auto base = "/antrag/vorhaben/" + a.id;
  ASSERT_TRUE(work().send_message(clerk(), a.case_id,
                                  {.subject = "Rückfrage",
                                   .body = "Wie alt ist der Hund?",
                                   .required_level = "low",
                                   .files = {}}));
  ASSERT_TRUE(work().send_message(clerk(), a.case_id,
                                  {.subject = "Steuerbescheid",
                                   .body = "Vertraulicher Inhalt",
                                   .required_level = "high",
                                   .files = {}}));
  app_->job_runner().run_due();
  auto mails = app_->database().query(
      "SELECT payload FROM jobs WHERE kind = 'core.mail' AND payload LIKE '%Neue Nachricht%'");
  ASSERT_EQ(mails.size(), 2u);
  EXPECT_NE(mails[0].text(0).find("/antrag/gast?token="), std::string::npos);
  EXPECT_EQ(mails[0].text(0).find("Wie alt"), std::string::npos);

  auto page = c.get(base);
  ASSERT_EQ(page.status, 200);
  EXPECT_NE(page.body.find("Wie alt ist der Hund?"), std::string::npos);
  EXPECT_EQ(page.body.find("Vertraulicher Inhalt"), std::string::npos);
  EXPECT_NE(page.body.find("Vertrauensniveau „hoch“"), std::string::npos);
  auto token = test::HttpClient::csrf_token_in(page.body);
  auto write = [&](const std::string& csrf, const std::string& text) {
    std::vector<web::Part> parts;
    if (!csrf.empty()) {
      parts.push_back({.name = "csrf_token", .filename = {}, .content_type = {}, .body = csrf});
    }
    parts.push_back({.name = "nachricht", .filename = {}, .content_type = {}, .body = text});
    parts.push_back({.name = "anlagen", .filename = "", .content_type = "", .body = ""});
    auto body = web::build_multipart(parts);
    return c.request("POST", base + "/nachrichten", body.body,
                     {{"Content-Type", body.content_type}});
  };
  EXPECT_EQ(write("", "Zwei Jahre.").status, 403);
  auto empty = write(token, " ");
  EXPECT_EQ(empty.status, 422);
  EXPECT_NE(empty.body.find("Schreiben Sie eine Nachricht"), std::string::npos);
  EXPECT_NE(empty.body.find("href=\"#nachricht\""), std::string::npos);
  EXPECT_NE(empty.body.find("aria-invalid=\"true\""), std::string::npos);
  auto sent = write(token, "Zwei Jahre.");
  ASSERT_EQ(sent.status, 303);
  EXPECT_EQ(sent.header("location"), base + "#nachrichten");
  auto after = c.get(base);
  EXPECT_NE(after.body.find("Ihre Nachricht wurde an die Behörde gesendet."), std::string::npos);
  EXPECT_NE(after.body.find("Zwei Jahre."), std::string::npos);
  EXPECT_EQ(work().messages(clerk(), a.case_id)->back().body, "Zwei Jahre.");
  // another browser: not this Vorhaben's messages
  auto stranger = client();
  EXPECT_NE(stranger.get(base).status, 200);
}

TEST_P(AfterSubmissionPages, AGuestSendsTheRequestedDocumentsOnTheVorhabenPage) {
  auto [a, c] = guest_submitted();
  auto base = "/antrag/vorhaben/" + a.id;
  auto request = requested(a);
  // the guest is mailed that documents are asked for, with the link and without content
  auto mails = app_->database().query(
      "SELECT payload FROM jobs WHERE kind = 'core.mail' AND payload LIKE '%nachreichen%'");
  ASSERT_EQ(mails.size(), 1u);
  EXPECT_NE(mails[0].text(0).find("/antrag/gast?token="), std::string::npos);
  EXPECT_EQ(mails[0].text(0).find("Impfpass"), std::string::npos);

  auto page = c.get(base);
  ASSERT_EQ(page.status, 200);
  EXPECT_NE(page.body.find("Unterlagen nachreichen"), std::string::npos);
  EXPECT_NE(page.body.find("Impfpass des Hundes"), std::string::npos);
  EXPECT_NE(page.body.find("/nachreichen/" + request.id), std::string::npos);
  EXPECT_NE(page.body.find("enctype=\"multipart/form-data\""), std::string::npos);

  auto token = test::HttpClient::csrf_token_in(page.body);
  // without the CSRF token, or by a stranger (with a token of its own), nothing is taken
  EXPECT_EQ(send(c, base, request.id, "", {file("a.pdf", kPdf)}).status, 403);
  auto stranger = client();
  auto stranger_token = test::HttpClient::csrf_token_in(stranger.get("/anmelden").body);
  auto refused = send(stranger, base, request.id, stranger_token, {file("a.pdf", kPdf)});
  EXPECT_EQ(refused.status, 303);
  EXPECT_TRUE(refused.header("location").starts_with("/anmelden")) << refused.header("location");
  // an infected file: the page again, the message at the field
  auto infected = send(c, base, request.id, token, {file("a.pdf", kPdf + eicar())});
  EXPECT_EQ(infected.status, 422);
  EXPECT_NE(infected.body.find("Schadsoftware"), std::string::npos);
  EXPECT_NE(infected.body.find("href=\"#dateien-" + request.id + "\""), std::string::npos);
  EXPECT_NE(infected.body.find("aria-invalid=\"true\""), std::string::npos);
  // no file chosen (the browser sends an empty part)
  auto empty = send(c, base, request.id, token, {file("", "")});
  EXPECT_EQ(empty.status, 422);
  EXPECT_NE(empty.body.find("Wählen Sie eine Datei aus."), std::string::npos);
  EXPECT_EQ(app_->get<cases::Cases>().by_application(a.id)->documents.size(), 1u);

  auto sent = send(c, base, request.id, token, {file("impfpass.pdf", kPdf)});
  ASSERT_EQ(sent.status, 303);
  EXPECT_EQ(sent.header("location"), base);
  auto after = c.get(base);
  EXPECT_NE(after.body.find("Ihre Unterlagen wurden an die Behörde gesendet."), std::string::npos);
  EXPECT_NE(after.body.find("In Bearbeitung"), std::string::npos);
  EXPECT_EQ(after.body.find("/nachreichen/"), std::string::npos);
  EXPECT_EQ(app_->get<cases::Cases>().by_application(a.id)->documents.size(), 2u);
  // sent again (the back button): told it is not open any more
  auto again = send(c, base, request.id, token, {file("impfpass.pdf", kPdf)});
  EXPECT_EQ(again.status, 409);
  EXPECT_NE(again.body.find("nicht mehr offen"), std::string::npos);
  EXPECT_NE(again.body.find("role=\"alert\""), std::string::npos);
  // more parts than files are allowed: the rule, in German
  std::vector<web::Part> many(13, file("a.pdf", kPdf));
  auto too_many = send(c, base, request.id, token, many);
  EXPECT_EQ(too_many.status, 422);
  EXPECT_NE(too_many.body.find("höchstens 10 Dateien"), std::string::npos);
}

TEST_P(AfterSubmissionPages, AGuestWithdrawsAfterConfirming) {
  auto [a, c] = guest_submitted();
  auto base = "/antrag/vorhaben/" + a.id;
  auto page = c.get(base);
  EXPECT_NE(page.body.find(base + "/zurueckziehen"), std::string::npos);
  EXPECT_NE(c.get("/meine-antraege").body.find(base + "/zurueckziehen"), std::string::npos);
  auto confirm = c.get(base + "/zurueckziehen");
  ASSERT_EQ(confirm.status, 200);
  EXPECT_NE(confirm.body.find(a.reference), std::string::npos);
  EXPECT_EQ(c.post_form(base + "/zurueckziehen", {}).status, 403);
  EXPECT_EQ(client().post_form(base + "/zurueckziehen", {}).status, 403);
  EXPECT_EQ(app_->get<cases::Cases>().by_application(a.id)->state, "received");
  auto done = c.post_form(base + "/zurueckziehen",
                          {{"csrf_token", test::HttpClient::csrf_token_in(confirm.body)}});
  ASSERT_EQ(done.status, 303);
  EXPECT_EQ(app_->get<cases::Cases>().by_application(a.id)->state, "withdrawn");
  auto after = c.get(base);
  EXPECT_NE(after.body.find("Zurückgezogen"), std::string::npos);
  EXPECT_EQ(after.body.find(base + "/zurueckziehen"), std::string::npos);
  EXPECT_EQ(c.get(base + "/zurueckziehen").status, 303);  // nothing left to confirm
}

TEST_P(AfterSubmissionPages, TooLateToWithdrawIsSaidOnThePage) {
  auto [a, c] = guest_submitted();
  auto base = "/antrag/vorhaben/" + a.id;
  auto confirm = c.get(base + "/zurueckziehen");
  ASSERT_TRUE(work().move(clerk(), a.case_id, cases::State::ended, ""));
  auto refused = c.post_form(base + "/zurueckziehen",
                             {{"csrf_token", test::HttpClient::csrf_token_in(confirm.body)}});
  EXPECT_EQ(refused.status, 409);
  EXPECT_NE(refused.body.find("nicht mehr zurückziehen"), std::string::npos);
  EXPECT_EQ(app_->get<cases::Cases>().by_application(a.id)->state, "ended");
}

INSTANTIATE_TEST_SUITE_P(Backends, AfterSubmissionPages, ::testing::ValuesIn(test::backends()));

}  // namespace
}  // namespace mvsp::applications
