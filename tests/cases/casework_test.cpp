// The clerk's work on SQLite and PostgreSQL: who sees which Vorgang, the inbox's filters,
// search and paging, the state machine, the deadline on the business calendar with
// suspension and extension, document requests that pass by themselves, the withdrawal,
// the sealed decision notice and its announcement, and the record of every read.
#include <gtest/gtest.h>

#include <algorithm>
#include <cstdio>
#include <fstream>
#include <mvsp/cases/cases.hpp>
#include <mvsp/cases/casework.hpp>
#include <mvsp/core/audit.hpp>
#include <mvsp/core/blobs.hpp>
#include <mvsp/core/crypto.hpp>
#include <mvsp/core/jobs.hpp>
#include <mvsp/forms/letter.hpp>
#include <sstream>

#include "support.hpp"

namespace mvsp::cases {
namespace {

using namespace std::chrono_literals;

// The delivery service as a test double: what was sent, and what it reports.
class FakeChannel final : public NoticeChannel {
 public:
  core::Result<std::string> send(const Outgoing& n) override {
    sent.push_back(n);
    return "n-" + std::to_string(sent.size());
  }
  core::Result<Progress> progress(std::string_view, std::string_view) override { return next; }
  std::vector<Outgoing> sent;
  Progress next;
};

// A DMS as a test double: what it was given, and an error to answer with.
class FakeDms final : public EfileTarget {
 public:
  core::Status deliver(const EfileContainer& container) override {
    if (refuse) return core::fail(*refuse);
    got.push_back(container);
    return {};
  }
  std::string name() const override { return "test-dms"; }
  std::vector<EfileContainer> got;
  std::optional<core::Error> refuse;
};

std::string run(const std::string& command) {
  std::string out;
  auto* pipe = popen(command.c_str(), "r");
  if (!pipe) return out;
  char buffer[4096];
  while (auto n = fread(buffer, 1, sizeof buffer, pipe)) out.append(buffer, n);
  pclose(pipe);
  return out;
}

class Casework_ : public test::BackendTest {
 protected:
  void SetUp() override {
    BackendTest::SetUp();
    if (IsSkipped()) return;
    database_->migrate(clock_);
    jobs_ = std::make_unique<core::JobQueue>(db(), clock_, ids_);
    jobs_->subscribe(std::string(kCaseRequestReminder), "test.request_reminder");
    audit_ = std::make_unique<core::AuditLog>(clock_);
    blobs_ = std::make_unique<core::BlobStore>(dir_.path() / "cases", std::string(32, 'k'));
    cases_ = std::make_unique<Cases>(db(), clock_, ids_, *jobs_, *audit_, *blobs_);
    work_ = std::make_unique<Casework>(
        db(), clock_, ids_, *jobs_, *audit_, *blobs_, *cases_,
        CaseworkOptions{
            .master_key = std::string(32, 'm'),
            .public_url = "https://mvsp.example",
            .texts = nullptr,
            .colleagues = [this](std::string_view tenant) { return colleagues(tenant); },
            .tenant_name =
                [](std::string_view t) {
                  return t == "t-wismar" ? "Hansestadt Wismar" : "Schwerin";
                },
            .tools = {.render =
                          [](const std::string& authority, const std::string& title,
                             const std::vector<std::string>& recipient,
                             const std::vector<std::pair<std::string, std::string>>& references,
                             const std::string& body) {
                            forms::PdfLetter letter;
                            letter.title = title;
                            letter.sender = {authority};
                            letter.recipient = recipient;
                            letter.references = references;
                            letter.body = forms::letter_blocks(body);
                            return forms::render_letter(letter);
                          }},
            .channel = &channel_,
            .efile = &dms_,
            .efile_location = "Eingang/Hundesteuer",
            .authorities =
                [] {
                  return std::vector<AuthorityRef>{
                      {"hwi-steuern", "Hansestadt Wismar, Steuern", "t-wismar"},
                      {"sn-buergeramt", "Landeshauptstadt Schwerin, Bürgeramt", "t-schwerin"},
                      {"ohne-mandant", "Eine Behörde ohne Mandanten", ""}};
                }});
  }

  std::vector<Colleague> colleagues(std::string_view tenant) {
    if (tenant == "t-wismar") {
      return {{"a-clerk", "Clara Sachbearbeiterin", "clara@wismar.example", {"clerk"}},
              {"a-other", "Otto Kollege", "otto@wismar.example", {"clerk"}},
              {"a-admin", "Anna Admin", "anna@wismar.example", {"authority_admin"}}};
    }
    return {{"a-schwerin", "Sven Schwerin", "sven@schwerin.example", {"clerk"}}};
  }

  Staffer clerk() { return {"a-clerk", "Clara Sachbearbeiterin", {{"t-wismar", "clerk"}}}; }
  Staffer other() { return {"a-other", "Otto Kollege", {{"t-wismar", "clerk"}}}; }
  Staffer admin() { return {"a-admin", "Anna Admin", {{"t-wismar", "authority_admin"}}}; }
  Staffer schwerin() { return {"a-schwerin", "Sven Schwerin", {{"t-schwerin", "clerk"}}}; }

  Case open(const std::string& application, const std::string& name = "Erika Müller",
            const std::string& kind = "account") {
    Intake in{
        .application_id = application,
        .reference = "MV-35CA3-" + application,
        .tenant_id = "t-wismar",
        .authority_id = "hwi-steuern",
        .online_service_id = "hundesteuer-anmeldung",
        .online_service_version = 1,
        .title = "Hundesteuer: Anmeldung eines Hundes",
        .applicant = {.kind = kind,
                      .owner_id = kind == "guest" ? "" : "k" + std::string(25, 'e'),
                      .name = name,
                      .email = "erika@example.org"},
        .submitted_at = clock_.now(),
        .form_key = "hundesteuer",
        .form_version = 1,
        .answers_json =
            R"({"form":"hundesteuer","answers":{"hunde":[{"name":"Bello","rasse":"Dackel"}]}})",
        .answers_xml = "<antrag/>",
        .pdf = "%PDF-1.7\n%%EOF\n"};
    auto opened = cases_->open(in);
    EXPECT_TRUE(opened) << opened.error().message;
    return *opened;
  }

  void settings(const std::string& rule, const std::string& expiry = "material_check",
                const std::string& automatic = {}) {
    auto saved = work_->save_service_settings(admin(), "t-wismar",
                                              {"hundesteuer-anmeldung", rule, expiry, automatic});
    ASSERT_TRUE(saved) << saved.error().message;
  }

  std::string template_id() {
    if (!template_.empty()) return template_;
    auto t = work_->save_template(admin(), "t-wismar",
                                  {"", "Hundesteuer festgesetzt", "Bescheid über die Hundesteuer",
                                   "Sehr geehrte Person {antragsteller},\n\nfür Ihren Hund "
                                   "{antwort.hunde.1.name} setzen wir die Steuer fest.\n\n## "
                                   "Gebühr\n\n| Gebühr | 5,00 € |"});
    EXPECT_TRUE(t) << t.error().message;
    template_ = t->id;
    return template_;
  }
  std::string template_;

  test::TempDir dir_;
  test::ManualClock clock_;  // Monday, 21 September 2026
  test::SequenceIds ids_;
  FakeChannel channel_;
  FakeDms dms_;
  std::unique_ptr<core::JobQueue> jobs_;
  std::unique_ptr<core::AuditLog> audit_;
  std::unique_ptr<core::BlobStore> blobs_;
  std::unique_ptr<Cases> cases_;
  std::unique_ptr<Casework> work_;
};

TEST_P(Casework_, AClerkOfAnotherAuthorityFindsNothingAndChangesNothing) {
  auto k = open("a1");
  auto s = schwerin();
  EXPECT_EQ(work_->open_case(s, k.id, "view").error().code, core::ErrorCode::not_found);
  EXPECT_EQ(work_->assign(s, k.id, "a-schwerin").error().code, core::ErrorCode::not_found);
  EXPECT_EQ(work_->set_aktenzeichen(s, k.id, "X").error().code, core::ErrorCode::not_found);
  EXPECT_EQ(work_->move(s, k.id, State::formal_check, "").error().code, core::ErrorCode::not_found);
  EXPECT_EQ(work_->request_documents(s, k.id, {"Foto"}, "2026-10-30", "").error().code,
            core::ErrorCode::not_found);
  EXPECT_EQ(work_->extend_deadline(s, k.id, "1M", "weil").error().code, core::ErrorCode::not_found);
  EXPECT_EQ(work_->decide(s, k.id, {.template_id = "x"}).error().code, core::ErrorCode::not_found);
  EXPECT_EQ(work_->audit_trail(s, k.id).error().code, core::ErrorCode::not_found);
  EXPECT_TRUE(work_->inbox(s, {})->rows.empty());
  EXPECT_EQ(work_->groups(s, "t-wismar").error().code, core::ErrorCode::forbidden);
  EXPECT_EQ(work_->save_template(s, "t-wismar", {"", "n", "t", "b"}).error().code,
            core::ErrorCode::forbidden);
  // An admin of Wismar is not one of Schwerin.
  EXPECT_EQ(work_->closing_days(admin(), "t-schwerin").error().code, core::ErrorCode::forbidden);
  EXPECT_EQ(work_->open_case(clerk(), k.id, "view")->state, "received");
}

TEST_P(Casework_, AGroupsVorgaengeAreForItsMembersLeadAndAdministration) {
  auto g = work_->save_group(admin(), "t-wismar",
                             {"", "Steuern", {"a-clerk"}, {"hundesteuer-anmeldung"}});
  ASSERT_TRUE(g) << g.error().message;
  auto k = open("a1");
  EXPECT_EQ(k.group_id, g->id);
  EXPECT_TRUE(work_->open_case(clerk(), k.id, "view"));
  EXPECT_EQ(work_->open_case(other(), k.id, "view").error().code, core::ErrorCode::not_found);
  EXPECT_EQ(work_->inbox(other(), {})->rows.size(), 0u);
  EXPECT_EQ(work_->inbox(clerk(), {})->rows.size(), 1u);
  EXPECT_TRUE(work_->open_case(admin(), k.id, "view"));
  Staffer lead{"a-lead", "Leo Leitung", {{"t-wismar", "lead"}}};
  EXPECT_TRUE(work_->open_case(lead, k.id, "view"));
  // A member must be a clerk of the authority.
  auto bad = work_->save_group(admin(), "t-wismar", {"", "Fremde", {"a-schwerin"}, {}});
  ASSERT_FALSE(bad);
  EXPECT_EQ(bad.error().fields.at(0).field, "members");
  EXPECT_FALSE(work_->save_group(admin(), "t-wismar", {"", "Steuern", {}, {}}))
      << "names are unique";
  // Removing the group gives its Vorgänge to every clerk.
  ASSERT_TRUE(work_->remove_group(admin(), "t-wismar", g->id));
  EXPECT_TRUE(work_->open_case(other(), k.id, "view"));
}

TEST_P(Casework_, TheStateMachineAllowsTheStandardProcessOnlyAndRecordsEveryStep) {
  auto k = open("a1");
  auto c = clerk();
  auto wrong = work_->move(c, k.id, State::closed, "");
  ASSERT_FALSE(wrong);
  EXPECT_EQ(wrong.error().fields.at(0).field, "state");
  ASSERT_TRUE(work_->move(c, k.id, State::formal_check, "vollständig?"));
  ASSERT_TRUE(work_->move(c, k.id, State::material_check, ""));
  EXPECT_FALSE(work_->move(c, k.id, State::announced, "")) << "announced comes from delivery";
  auto line = work_->timeline(k.id);
  ASSERT_GE(line.size(), 3u);
  EXPECT_EQ(line[0].action, "case.state");
  EXPECT_NE(line[0].detail.find("material_check"), std::string::npos);
  EXPECT_NE(line[1].detail.find("vollständig?"), std::string::npos);
  EXPECT_NE(line[1].detail.find("Clara Sachbearbeiterin"), std::string::npos);
  auto events = db().query_one("SELECT COUNT(*) FROM jobs WHERE payload LIKE '%material_check%'");
  (void)events;
}

TEST_P(Casework_, TheInboxSearchesFiltersAndPagesByKeyset) {
  for (int i = 0; i < 7; ++i) {
    open("a" + std::to_string(i), i == 3 ? "Jörg Müller" : "Erika Beispiel");
    clock_.advance(1min);
  }
  auto c = clerk();
  auto found = work_->inbox(c, {.text = "mueller"});
  ASSERT_TRUE(found);
  ASSERT_EQ(found->rows.size(), 1u);
  EXPECT_EQ(found->rows[0].c.applicant.name, "Jörg Müller");
  EXPECT_EQ(work_->inbox(c, {.text = "Mül"})->rows.size(), 1u) << "a prefix, transliterated";
  EXPECT_EQ(work_->inbox(c, {.text = "dackel"})->rows.size(), 7u) << "words of the answers";
  EXPECT_EQ(work_->inbox(c, {.text = "dackel jörg"})->rows.size(), 1u) << "every word";
  EXPECT_TRUE(work_->inbox(c, {.text = "pudel"})->rows.empty());
  // a reference number pasted whole, in any case and with spaces around it
  open("4HFYVHOK", "Rita Referenz");
  auto by_reference = work_->inbox(c, {.text = " mv-35ca3-4hfyvhok "});
  ASSERT_EQ(by_reference->rows.size(), 1u);
  EXPECT_EQ(by_reference->rows[0].c.applicant.name, "Rita Referenz");
  EXPECT_TRUE(work_->inbox(c, {.text = "MV-35CA3-4HFYVHOX"})->rows.empty());
  EXPECT_EQ(work_->inbox(c, {.text = "MV 4hfy"})->rows.size(), 1u) << "MV beside a word";
  EXPECT_EQ(work_->inbox(c, {.text = "mv"})->rows.size(), 8u) << "MV alone: every reference";
  ASSERT_TRUE(work_->move(c, by_reference->rows[0].c.id, State::ended, ""));
  // Pages of three, oldest first, with nothing twice and nothing left out.
  std::vector<std::string> seen;
  InboxQuery q{.limit = 3};
  for (int page = 0; page < 5; ++page) {
    auto p = work_->inbox(c, q);
    ASSERT_TRUE(p);
    for (const auto& r : p->rows) seen.push_back(r.c.application_id);
    if (p->next.empty()) break;
    q.after = p->next;
  }
  EXPECT_EQ(seen, (std::vector<std::string>{"a0", "a1", "a2", "a3", "a4", "a5", "a6"}));
  // Assignment filters.
  auto k = work_->inbox(c, {})->rows[2].c;
  ASSERT_TRUE(work_->assign(c, k.id, "a-clerk"));
  EXPECT_EQ(work_->inbox(c, {.assignee = "me"})->rows.size(), 1u);
  EXPECT_EQ(work_->inbox(c, {.assignee = "none"})->rows.size(), 6u);
  EXPECT_FALSE(work_->assign(c, k.id, "a-schwerin")) << "only a colleague";
  // State filter; bad values are named.
  EXPECT_EQ(work_->inbox(c, {.state = "withdrawn"})->rows.size(), 0u);
  auto bad = work_->inbox(c, {.state = "nonsense", .after = "x"});
  ASSERT_FALSE(bad);
  EXPECT_EQ(bad.error().fields.size(), 2u);
}

// The search starts from the Vorgänge that have every word when they are few, and walks the
// inbox's order when they are many: both ways find the same.
TEST_P(Casework_, TheInboxFindsTheSameWhetherTheWordsAreRareOrCommon) {
  for (int i = 0; i < 6; ++i) {
    open("a" + std::to_string(i), i % 2 ? "Jörg Müller" : "Erika Müller-Beispiel");
    clock_.advance(1min);
  }
  for (int i = 6; i < 8; ++i) {
    open("a" + std::to_string(i), "Jörg Schmidt");
    clock_.advance(1min);
  }
  // the same search started from the rarest word's Vorgänge (the default limit), from the
  // Vorgänge of two common words together (limit 3: "jörg" has 5, "müller" 6, both 3), and
  // walking the inbox (limit 1)
  auto with_limit = [&](std::size_t limit) {
    return std::make_unique<Casework>(
        db(), clock_, ids_, *jobs_, *audit_, *blobs_, *cases_,
        CaseworkOptions{.master_key = std::string(32, 'm'),
                        .public_url = "https://mvsp.example",
                        .texts = nullptr,
                        .colleagues = [this](std::string_view t) { return colleagues(t); },
                        .tenant_name = {},
                        .tools = {},
                        .channel = &channel_,
                        .efile = nullptr,
                        .efile_location = {},
                        .search_list_limit = limit});
  };
  auto together = with_limit(3);
  auto walking = with_limit(1);
  auto c = clerk();
  for (std::string text :
       {"mueller", "jörg müller", "erika", "mv-35ca3-a3", "dackel bello", "nobody"}) {
    std::vector<std::string> seen[3];
    InboxQuery q{.text = text, .state = "all", .limit = 2};
    int n = 0;
    for (auto* work : {work_.get(), together.get(), walking.get()}) {
      auto query = q;
      for (int page = 0; page < 10; ++page) {
        auto p = work->inbox(c, query);
        ASSERT_TRUE(p) << text;
        for (const auto& r : p->rows) seen[n].push_back(r.c.application_id);
        if (p->next.empty()) break;
        query.after = p->next;
      }
      ++n;
    }
    EXPECT_EQ(seen[0], seen[2]) << text;
    EXPECT_EQ(seen[1], seen[2]) << text;
  }
  EXPECT_EQ(work_->inbox(c, {.text = "mueller", .state = "all"})->rows.size(), 6u);
  EXPECT_EQ(work_->inbox(c, {.text = "jörg müller", .state = "all"})->rows.size(), 3u);

  // Many Vorgänge of one name, read in chunks in the inbox's order (64, then 256): pages that
  // cross a chunk, two Vorgänge of the same minute, and a filter that leaves out every
  // third, all as the walk finds them.
  for (int i = 0; i < 150; ++i) {
    auto k = open("k" + std::to_string(i), "Anna Kowalski");
    if (i % 3 == 0) {
      ASSERT_TRUE(work_->move(c, k.id, State::ended, ""));
    }
    if (i % 2) clock_.advance(1min);
  }
  for (std::string state : {"all", ""}) {
    std::vector<std::string> seen[2];
    int n = 0;
    for (auto* work : {work_.get(), walking.get()}) {
      InboxQuery query{.text = "kowalski", .state = state, .limit = 25};
      for (int page = 0; page < 10; ++page) {
        auto p = work->inbox(c, query);
        ASSERT_TRUE(p);
        for (const auto& r : p->rows) seen[n].push_back(r.c.application_id);
        if (p->next.empty()) break;
        query.after = p->next;
      }
      ++n;
    }
    EXPECT_EQ(seen[0].size(), state == "all" ? 150u : 100u);
    EXPECT_EQ(seen[0], seen[1]) << state;
  }
}

TEST_P(Casework_, TheDeadlineStopsWhileDocumentsAreRequestedAndCanBeExtended) {
  settings("3M");
  auto k = open("a1");  // received Monday 21 September 2026
  auto d = work_->deadline(k.id);
  ASSERT_TRUE(d);
  EXPECT_EQ(d->on, "2026-12-21");
  auto c = clerk();
  ASSERT_TRUE(work_->move(c, k.id, State::formal_check, ""));
  ASSERT_TRUE(work_->request_documents(c, k.id, {"Foto des Hundes"}, "2026-10-15", "bitte"));
  EXPECT_TRUE(work_->deadline(k.id)->suspended);
  EXPECT_EQ(work_->deadline(k.id)->on, "");
  clock_.advance(std::chrono::days(10));
  auto request = work_->open_requests(k.application_id);
  ASSERT_EQ(request.size(), 1u);
  ASSERT_TRUE(work_->answer_request(k.application_id, request[0].id,
                                    {{.requirement = "Foto des Hundes",
                                      .filename = "bello.jpg",
                                      .media_type = "image/jpeg",
                                      .content = "jpeg"}},
                                    "account:k-erika"));
  auto after = work_->open_case(c, k.id, "view");
  EXPECT_EQ(after->state, "formal_check") << "back to the check it came from";
  EXPECT_EQ(after->documents.size(), 1u);
  // ten days later: 31 December 2026, not a closing day yet
  EXPECT_EQ(work_->deadline(k.id)->on, "2026-12-31");
  ASSERT_TRUE(work_->add_closing_day(admin(), "t-wismar", {"2026-12-31", "Silvester"}));
  ASSERT_TRUE(work_->extend_deadline(c, k.id, "1M", "§ 42a Abs. 2 VwVfG: schwierige Sache"));
  // 31 Dec + 1 month = 31 January 2027, a Sunday: Monday 1 February
  EXPECT_EQ(work_->deadline(k.id)->on, "2027-02-01");
  EXPECT_FALSE(work_->extend_deadline(c, k.id, "1X", "")) << "duration and reason are named";
}

TEST_P(Casework_, ARequestWhoseDayPassesMovesTheVorgangOnByItself) {
  settings("3M", "ended");
  auto k = open("a1");
  auto c = clerk();
  ASSERT_TRUE(work_->request_documents(c, k.id, {"Foto"}, "2026-10-01", ""));
  EXPECT_EQ(work_->run_request_deadlines(), 0) << "nothing due yet";
  clock_.advance(std::chrono::days(8));  // 29 September: three days before, a reminder
  EXPECT_EQ(work_->run_request_deadlines(), 1);
  EXPECT_EQ(
      db().query_one("SELECT COUNT(*) FROM jobs WHERE payload LIKE '%\"request\"%'")->integer(0),
      1);
  clock_.advance(std::chrono::days(3));  // 2 October
  EXPECT_EQ(work_->run_request_deadlines(), 1);
  EXPECT_EQ(work_->open_case(c, k.id, "view")->state, "ended");
  EXPECT_EQ(work_->requests(k.id)[0].status, "expired");
  EXPECT_EQ(work_->run_request_deadlines(), 0) << "once";
}

TEST_P(Casework_, AStatementsDayPassesAndAForwardedVorgangStartsAgainElsewhere) {
  settings("3M");
  auto k = open("a1");
  auto c = clerk();
  ASSERT_TRUE(work_->move(c, k.id, State::formal_check, ""));
  EXPECT_EQ(work_->authorities().size(), 2u) << "only those with a tenant";
  auto asked = work_->ask_statement(c, k.id,
                                    {.party_kind = "outside",
                                     .authority_id = "",
                                     .name = "Grundschule",
                                     .email = "sekretariat@schule.example",
                                     .question = "Besucht das Kind Ihre Schule?",
                                     .deadline_on = "2026-09-25",
                                     .share_documents = false});
  ASSERT_TRUE(asked) << asked.error().message;
  EXPECT_EQ(asked->token.size(), 43u);
  EXPECT_EQ(work_->statements(schwerin(), k.id).error().code, core::ErrorCode::not_found);
  EXPECT_EQ(work_
                ->ask_statement(c, k.id,
                                {.party_kind = "authority",
                                 .authority_id = "ohne-mandant",
                                 .name = "",
                                 .email = "",
                                 .question = "?",
                                 .deadline_on = "2026-09-25",
                                 .share_documents = true})
                .error()
                .fields.front()
                .field,
            "statement_authority");
  EXPECT_EQ(work_->run_request_deadlines(), 0);
  clock_.advance(std::chrono::days(5));  // Saturday 26 September: the day has passed
  EXPECT_EQ(work_->run_request_deadlines(), 1);
  EXPECT_TRUE(work_->statements(c, k.id)->front().overdue);
  EXPECT_EQ(work_->run_request_deadlines(), 0) << "the clerks are told once";
  auto told = work_->timeline(k.id);
  EXPECT_TRUE(std::ranges::any_of(
      told, [](const TimelineEntry& e) { return e.action == "case.statement_overdue"; }));
  // a late answer is still taken, once; the link's holder reads the answer afterwards
  Party school{.staffer = std::nullopt, .token = asked->token};
  ASSERT_TRUE(work_->answer_statement(school, "", {.text = "Ja, Klasse 2b.", .files = {}}));
  EXPECT_EQ(work_->answer_statement(school, "", {.text = "Nochmal.", .files = {}}).error().code,
            core::ErrorCode::conflict);
  EXPECT_EQ(work_->asked(school, "")->statement.answer, "Ja, Klasse 2b.");
  EXPECT_EQ(work_->asked(Party{std::nullopt, asked->token + "x"}, "").error().code,
            core::ErrorCode::not_found);
  EXPECT_EQ(work_->asked(Party{schwerin(), ""}, asked->id).error().code, core::ErrorCode::not_found)
      << "an outside body's request is not Schwerin's";
  // the statement is in the ZIP of all documents
  auto zip = work_->documents_zip(c, k.id);
  ASSERT_TRUE(zip);
  auto path = dir_.path() / "statement.zip";
  std::ofstream(path, std::ios::binary) << zip->content;
  auto names = run("unzip -Z1 '" + path.string() + "'");
  auto at = names.find("_Stellungnahme-1.txt");
  ASSERT_NE(at, std::string::npos) << names;
  auto name = names.substr(names.rfind('\n', at) + 1, at + 20 - names.rfind('\n', at) - 1);
  auto text = run("unzip -p '" + path.string() + "' '" + name + "'");
  EXPECT_NE(text.find("Ja, Klasse 2b."), std::string::npos) << text;
  EXPECT_NE(text.find("Grundschule"), std::string::npos);

  // forwarded: a document request and an open request for a statement end with it
  ASSERT_TRUE(work_->request_documents(c, k.id, {"Foto"}, "2026-10-30", ""));
  ASSERT_TRUE(work_->ask_statement(c, k.id,
                                   {.party_kind = "authority",
                                    .authority_id = "sn-buergeramt",
                                    .name = "",
                                    .email = "",
                                    .question = "Ist der Hund bei Ihnen gemeldet?",
                                    .deadline_on = "2026-10-30",
                                    .share_documents = true}));
  ASSERT_TRUE(work_->assign(c, k.id, "a-clerk"));
  ASSERT_TRUE(work_->set_aktenzeichen(c, k.id, "32.1-HST-2026/0001"));
  EXPECT_EQ(work_->forward(c, k.id, "hwi-steuern", "x").error().fields.front().field,
            "forward_authority");
  EXPECT_EQ(work_->forward(c, k.id, "sn-buergeramt", " ").error().fields.front().field,
            "forward_reason");
  auto moved = work_->forward(c, k.id, "sn-buergeramt", "Der Hund lebt in Schwerin.");
  ASSERT_TRUE(moved) << moved.error().message;
  EXPECT_EQ(moved->tenant_id, "t-schwerin");
  EXPECT_EQ(moved->authority_id, "sn-buergeramt");
  EXPECT_EQ(moved->state, "received");
  EXPECT_TRUE(moved->assignee_id.empty());
  EXPECT_TRUE(moved->aktenzeichen.empty()) << "Wismar's file number is not Schwerin's";
  EXPECT_TRUE(work_->inbox(schwerin(), {.text = "hst", .state = "all"})->rows.empty())
      << "nor is it among the search words";
  EXPECT_EQ(work_->inbox(schwerin(), {.text = "müller", .state = "all"})->rows.size(), 1u);
  auto timeline = work_->timeline(k.id);
  auto forwarded = std::ranges::find(timeline, "case.forwarded", &TimelineEntry::action);
  ASSERT_NE(forwarded, timeline.end());
  EXPECT_NE(forwarded->detail.find("32.1-HST-2026/0001"), std::string::npos) << forwarded->detail;
  EXPECT_EQ(work_->requests(k.id)[0].status, "cancelled");
  EXPECT_TRUE(work_->deadline(k.id)->rule.empty()) << "Schwerin set no deadline";
  EXPECT_EQ(work_->open_case(c, k.id, "view").error().code, core::ErrorCode::not_found);
  auto theirs = work_->statements(schwerin(), k.id);
  ASSERT_TRUE(theirs);
  ASSERT_EQ(theirs->size(), 2u);
  EXPECT_EQ((*theirs)[0].status, "answered");
  EXPECT_EQ((*theirs)[1].status, "cancelled");
  EXPECT_TRUE(work_->asked_of(schwerin()).empty()) << "the cancelled request is gone";
  EXPECT_EQ(work_->asked(school, "").error().code, core::ErrorCode::not_found)
      << "the answered request is Wismar's, and the Vorgang no longer is";
  EXPECT_EQ(work_->forward(c, k.id, "hwi-steuern", "zurück").error().code,
            core::ErrorCode::not_found);
}

// A party reads and answers only while the Vorgang is in a check: a withdrawn application
// is no longer shared with anyone asked about it.
TEST_P(Casework_, ARequestForAStatementEndsWithTheChecks) {
  auto k = open("a1");
  auto c = clerk();
  StatementRequest school{.party_kind = "outside",
                          .authority_id = "",
                          .name = "Grundschule",
                          .email = "sekretariat@schule.example",
                          .question = "Besucht das Kind Ihre Schule?",
                          .deadline_on = "2026-10-01",
                          .share_documents = true};
  auto asked = work_->ask_statement(c, k.id, school);
  ASSERT_TRUE(asked);
  auto authority = work_->ask_statement(c, k.id,
                                        {.party_kind = "authority",
                                         .authority_id = "sn-buergeramt",
                                         .name = "",
                                         .email = "",
                                         .question = "?",
                                         .deadline_on = "2026-10-01",
                                         .share_documents = true});
  ASSERT_TRUE(authority);
  Party holder{.staffer = std::nullopt, .token = asked->token};
  ASSERT_TRUE(work_->asked(holder, ""));
  ASSERT_TRUE(work_->shared_document(holder, "", "antrag"));
  EXPECT_EQ(work_->asked_of(schwerin()).size(), 1u);
  // a text with a NUL is refused, not cut short by one database and kept by the other
  auto nul = work_->answer_statement(holder, "",
                                     {.text = std::string("Ja.\0 Aber nein.", 15), .files = {}});
  ASSERT_FALSE(nul);
  EXPECT_EQ(nul.error().fields.front().field, "statement_answer");
  // a form feed pasted from a PDF is a line break, not a refusal
  ASSERT_TRUE(work_->answer_statement(Party{schwerin(), ""}, authority->id,
                                      {.text = "Seite 1\fSeite 2", .files = {}}));
  EXPECT_EQ(work_->statements(c, k.id)->back().answer, "Seite 1\nSeite 2");
  ASSERT_TRUE(work_->withdraw(k.application_id, "account:k-erika"));
  auto after = work_->statements(c, k.id);
  ASSERT_TRUE(after);
  for (const auto& st : *after) {
    EXPECT_NE(st.status, "open") << "the open request ends with the checks";
  }
  EXPECT_EQ(work_->asked(holder, "").error().code, core::ErrorCode::not_found);
  EXPECT_EQ(work_->shared_document(holder, "", "antrag").error().code, core::ErrorCode::not_found);
  EXPECT_EQ(work_->answer_statement(holder, "", {.text = "Ja.", .files = {}}).error().code,
            core::ErrorCode::not_found);
  EXPECT_TRUE(work_->asked_of(schwerin()).empty());
  EXPECT_EQ(work_->asked(Party{schwerin(), ""}, authority->id).error().code,
            core::ErrorCode::not_found);
  EXPECT_EQ(work_->ask_statement(c, k.id, school).error().fields.front().field, "state")
      << "nobody is asked about a withdrawn application";
  clock_.advance(std::chrono::days(30));
  EXPECT_EQ(work_->run_request_deadlines(), 0) << "nobody is told of a day that no longer counts";
}

TEST_P(Casework_, AWithdrawalShowsAtOnceAndEndsTheRequests) {
  auto k = open("a1");
  auto c = clerk();
  ASSERT_TRUE(work_->request_documents(c, k.id, {"Foto"}, "2026-10-01", ""));
  ASSERT_TRUE(work_->withdraw(k.application_id, "account:k-erika"));
  EXPECT_EQ(work_->open_case(c, k.id, "view")->state, "withdrawn");
  EXPECT_EQ(work_->requests(k.id)[0].status, "cancelled");
  EXPECT_TRUE(work_->withdraw(k.application_id, "account:k-erika")) << "twice is once";
  auto decided = open("a2");
  ASSERT_TRUE(work_->move(c, decided.id, State::formal_check, ""));
  ASSERT_TRUE(work_->decide(c, decided.id, {.template_id = template_id()}));
  EXPECT_EQ(work_->withdraw(decided.application_id, "account:k-erika").error().code,
            core::ErrorCode::conflict);
}

TEST_P(Casework_, TheNoticeIsSealedAnnouncedAndItsReceiptRecorded) {
  auto k = open("a1");
  auto c = clerk();
  EXPECT_FALSE(work_->decide(c, k.id, {.template_id = template_id()})) << "not before the checks";
  ASSERT_TRUE(work_->move(c, k.id, State::formal_check, ""));
  ASSERT_TRUE(work_->set_aktenzeichen(c, k.id, "32.1-HST-2026/0042"));
  auto bad = work_->decide(c, k.id, {.template_id = "nope"});
  ASSERT_FALSE(bad);
  EXPECT_EQ(bad.error().fields.at(0).field, "template");
  auto n = work_->decide(c, k.id, {.template_id = template_id()});
  ASSERT_TRUE(n) << n.error().message;
  EXPECT_EQ(n->status, "sealed");
  EXPECT_EQ(n->recipient, "mvsp:k" + std::string(25, 'e'));
  EXPECT_EQ(work_->open_case(c, k.id, "view")->state, "decided");
  std::ostringstream pdf;
  ASSERT_TRUE(work_->read_notice(k.id, n->id, pdf));
  auto path = dir_.path() / "notice.pdf";
  std::ofstream(path, std::ios::binary) << pdf.str();
  auto verified = run("pdfsig '" + path.string() + "' 2>&1");
  EXPECT_NE(verified.find("Signature is Valid"), std::string::npos) << verified;
  auto text = run("pdftotext '" + path.string() + "' - 2>&1");
  EXPECT_NE(text.find("Erika Müller"), std::string::npos) << text;
  EXPECT_NE(text.find("Bello"), std::string::npos) << "an answer's field";
  EXPECT_NE(text.find("32.1-HST-2026/0042"), std::string::npos);
  // The announce job sends it; delivery reports the receipt.
  core::JobRunner runner(*jobs_, db(), {.threads = 1, .name = "t"});
  work_->register_jobs(runner);
  runner.run_due();
  ASSERT_EQ(channel_.sent.size(), 1u);
  EXPECT_EQ(channel_.sent[0].recipient, n->recipient);
  EXPECT_EQ(channel_.sent[0].pdf, pdf.str());
  EXPECT_EQ(work_->follow_notices(), 0) << "under way";
  channel_.next = {"stored", clock_.now(), "2026-09-25", "<receipt-1@mailbox>"};
  EXPECT_EQ(work_->follow_notices(), 1);
  auto notices = work_->notices(k.id);
  EXPECT_EQ(notices[0].status, "stored");
  EXPECT_EQ(notices[0].deemed_announced_on, "2026-09-25");
  EXPECT_EQ(notices[0].receipt_message_id, "<receipt-1@mailbox>");
  EXPECT_EQ(work_->open_case(c, k.id, "view")->state, "announced");
}

// Announced, the Vorgang goes to the e-file with the application, every document, the
// notice and the proof of its announcement; the ZIP for the clerk holds the same, with an
// index. A DMS that refuses leaves the Vorgang as it was and says why on its timeline.
TEST_P(Casework_, TheFilesOfAVorgangGoToTheEfileAndIntoOneZip) {
  auto k = open("a1");
  auto c = clerk();
  ASSERT_TRUE(work_->move(c, k.id, State::formal_check, ""));
  EXPECT_EQ(work_->hand_to_efile(c, k.id).error().code, core::ErrorCode::invalid_input)
      << "not before the notice is announced";
  ASSERT_TRUE(work_->request_documents(c, k.id, {"Impfpass"}, "2026-10-30", ""));
  ASSERT_TRUE(work_->answer_request("a1", work_->requests(k.id)[0].id,
                                    {{.requirement = "Impfpass",
                                      .filename = "impfpass.pdf",
                                      .media_type = "application/pdf",
                                      .content = "%PDF-1.7\n% Impfpass\n%%EOF\n"}},
                                    "applicant"));
  ASSERT_TRUE(work_->move(c, k.id, State::material_check, ""));
  ASSERT_TRUE(work_->decide(c, k.id, {.template_id = template_id()}));
  core::JobRunner runner(*jobs_, db(), {.threads = 1, .name = "t"});
  work_->register_jobs(runner);
  runner.run_due();
  channel_.next = {"stored", clock_.now(), "2026-09-25", "<receipt-1@mailbox>"};
  ASSERT_EQ(work_->follow_notices(), 1);

  // the ZIP: an index, then each file under its number, read back with unzip
  EXPECT_EQ(work_->documents_zip(schwerin(), k.id).error().code, core::ErrorCode::not_found);
  auto zip = work_->documents_zip(c, k.id);
  ASSERT_TRUE(zip) << zip.error().message;
  EXPECT_EQ(zip->filename, k.reference + ".zip");
  auto path = dir_.path() / "all.zip";
  std::ofstream(path, std::ios::binary) << zip->content;
  auto names = run("unzip -Z1 '" + path.string() + "'");
  for (auto name : {"00_Inhaltsverzeichnis.txt", "01_MV-35CA3-a1.pdf", "02_MV-35CA3-a1.xml",
                    "03_MV-35CA3-a1.json", "04_impfpass.pdf", "05_Bescheid-1.pdf",
                    "06_Zustellnachweis-1.txt"}) {
    EXPECT_NE(names.find(name), std::string::npos) << name << " in\n" << names;
  }
  auto index = run("unzip -p '" + path.string() + "' 00_Inhaltsverzeichnis.txt");
  EXPECT_NE(index.find("Anlage: Impfpass"), std::string::npos) << index;
  EXPECT_NE(index.find(core::crypto::sha256_hex("%PDF-1.7\n% Impfpass\n%%EOF\n")),
            std::string::npos);
  auto proof = run("unzip -p '" + path.string() + "' 06_Zustellnachweis-1.txt");
  EXPECT_NE(proof.find("25.09.2026"), std::string::npos) << proof;
  EXPECT_NE(proof.find("<receipt-1@mailbox>"), std::string::npos);
  auto reads = work_->audit_trail(admin(), k.id);
  EXPECT_TRUE(
      std::ranges::any_of(*reads, [](const TimelineEntry& e) { return e.action == "read:zip"; }));

  // the hand-over: refused by the DMS, the timeline says why and the job does not retry
  EXPECT_EQ(work_->hand_to_efile(schwerin(), k.id).error().code, core::ErrorCode::not_found);
  dms_.refuse = core::Error::forbidden("the DMS user may not write to Eingang/Hundesteuer");
  ASSERT_TRUE(work_->hand_to_efile(c, k.id));
  runner.run_due();
  EXPECT_EQ(work_->open_case(c, k.id, "view")->state, "announced");
  auto timeline = work_->timeline(k.id);
  auto failed = std::ranges::find_if(
      timeline, [](const TimelineEntry& e) { return e.action == "case.efile_failed"; });
  ASSERT_NE(failed, timeline.end());
  EXPECT_NE(failed->detail.find("may not write"), std::string::npos);
  // asked again once the DMS is fixed: filed, with every document in the container
  dms_.refuse.reset();
  auto efile_jobs = [&] {
    return db().query_one("SELECT COUNT(*) FROM jobs WHERE kind = 'cases.efile'")->integer(0);
  };
  auto before = efile_jobs();
  ASSERT_TRUE(work_->hand_to_efile(c, k.id));
  ASSERT_TRUE(work_->hand_to_efile(c, k.id));  // a double click: one job
  EXPECT_EQ(efile_jobs(), before + 1);
  runner.run_due();
  ASSERT_EQ(dms_.got.size(), 1u);
  EXPECT_EQ(work_->open_case(c, k.id, "view")->state, "filed");
  const auto& container = dms_.got[0];
  EXPECT_EQ(container.reference, k.reference);
  EXPECT_NE(container.xml.find("Eingang/Hundesteuer"), std::string::npos);
  EXPECT_NE(container.xml.find("impfpass.pdf"), std::string::npos);
  EXPECT_NE(container.xml.find("Zustellnachweis"), std::string::npos);
  auto xml = dir_.path() / "message.xml";
  std::ofstream(xml, std::ios::binary) << container.xml;
  if (test::reference_available("interop/xdomea/3.0.0/schema/xdomea.xsd")) {
    auto schema = test::reference_dir() + "/interop/xdomea/3.0.0/schema/xdomea.xsd";
    auto valid = run("xmllint --noout --schema '" + schema + "' '" + xml.string() + "' 2>&1");
    EXPECT_NE(valid.find("validates"), std::string::npos) << valid;
  }
  // the operator's export: the same Vorgang's container, and a record of it
  auto again = work_->efile_container(k.id, clock_.now());
  ASSERT_TRUE(again);
  EXPECT_EQ(again->process_id, container.process_id);
  work_->record_export(k.id, "operator:cli", *again);
  auto exported = work_->timeline(k.id);
  EXPECT_TRUE(std::ranges::any_of(exported, [](const TimelineEntry& e) {
    return e.action == "case.exported" && e.actor == "operator:cli";
  }));
  EXPECT_EQ(work_->latest("hwi-steuern", 10).size(), 1u);
  // a reference number as people type it (real ones are upper case)
  auto typed = open("Z9");
  auto found = work_->by_reference(" mv-35ca3-z9 ");
  ASSERT_TRUE(found);
  EXPECT_EQ(found->id, typed.id);
  EXPECT_FALSE(work_->by_reference("MV-35CA3-Z8"));
  EXPECT_TRUE(work_->latest("sn-buergeramt", 10).empty());
}

TEST_P(Casework_, AGuestsNoticeGoesByPost) {
  auto k = open("a1", "Gast Person", "guest");
  auto c = clerk();
  ASSERT_TRUE(work_->move(c, k.id, State::formal_check, ""));
  ASSERT_TRUE(work_->decide(c, k.id, {.template_id = template_id()}));
  core::JobRunner runner(*jobs_, db(), {.threads = 1, .name = "t"});
  work_->register_jobs(runner);
  runner.run_due();
  EXPECT_TRUE(channel_.sent.empty());
  EXPECT_EQ(work_->notices(k.id)[0].status, "postal");
  EXPECT_FALSE(work_->confirm_postal(c, k.id, "2030-01-01")) << "not in the future";
  ASSERT_TRUE(work_->confirm_postal(c, k.id, "2026-09-21"));
  EXPECT_EQ(work_->notices(k.id)[0].deemed_announced_on, "2026-09-25");
  EXPECT_EQ(work_->open_case(c, k.id, "view")->state, "announced");
}

TEST_P(Casework_, AnOnlineServiceSetToDecideAutomaticallyNeedsNoClerk) {
  settings("", "material_check", template_id());
  auto k = open("a1");
  ASSERT_TRUE(work_->prepare(k.id));
  auto notices = work_->notices(k.id);
  ASSERT_EQ(notices.size(), 1u);
  EXPECT_EQ(notices[0].origin, "automatic");
  EXPECT_EQ(work_->open_case(admin(), k.id, "view")->state, "decided");
}

TEST_P(Casework_, EveryReadIsInTheAuditTrailForTheAdministrationOnly) {
  auto k = open("a1");
  clock_.advance(1min);
  ASSERT_TRUE(work_->open_case(clerk(), k.id, "view"));
  ASSERT_TRUE(work_->open_case(clerk(), k.id, "document:0"));
  EXPECT_EQ(work_->audit_trail(clerk(), k.id).error().code, core::ErrorCode::forbidden);
  auto trail = work_->audit_trail(admin(), k.id);
  ASSERT_TRUE(trail);
  int reads = 0;
  for (const auto& e : *trail) {
    if (e.action.starts_with("read:")) {
      ++reads;
      EXPECT_NE(e.actor.find("a-clerk"), std::string::npos);
    }
  }
  EXPECT_EQ(reads, 2);
  EXPECT_EQ(trail->back().action, "case.received");
}

TEST_P(Casework_, TheAuthoritysSettingsRefuseWhatIsNotValid) {
  auto bad = work_->save_service_settings(admin(), "t-wismar",
                                          {"hundesteuer-anmeldung", "3 Monate", "closed", "x"});
  ASSERT_FALSE(bad);
  EXPECT_EQ(bad.error().fields.size(), 3u);
  EXPECT_FALSE(work_->add_closing_day(admin(), "t-wismar", {"2026-02-30", "x"}));
  EXPECT_FALSE(work_->add_closing_day(admin(), "t-wismar", {"2026-12-24", ""}));
  ASSERT_TRUE(work_->add_closing_day(admin(), "t-wismar", {"2026-12-24", "Heiligabend"}));
  EXPECT_FALSE(work_->add_closing_day(admin(), "t-wismar", {"2026-12-24", "Heiligabend"}));
  EXPECT_FALSE(work_->save_template(admin(), "t-wismar", {"", "", "Titel", "Text"}));
  auto seal = work_->upload_seal(admin(), "t-wismar", "not a certificate", "");
  ASSERT_FALSE(seal);
  EXPECT_EQ(seal.error().code, core::ErrorCode::invalid_input);
  auto generated = work_->seal(admin(), "t-wismar");
  ASSERT_TRUE(generated);
  EXPECT_TRUE(generated->generated);
  EXPECT_EQ(generated->subject, "Hansestadt Wismar");
  EXPECT_GT(generated->not_after, clock_.now() + std::chrono::days(365));
}

INSTANTIATE_TEST_SUITE_P(Backends, Casework_, ::testing::ValuesIn(test::backends()));

}  // namespace
}  // namespace mvsp::cases
