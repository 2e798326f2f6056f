// The intake of the case management on SQLite and PostgreSQL: a submission opens one
// Vorgang with its answers and documents, once however often (and however many at once)
// it is handed over; an incomplete intake is named field by field and writes nothing; a
// Vorgang exists only for its tenant; the clerk's arrivals are searched by reference
// number and name; what no Vorgang names is swept.
#include <gtest/gtest.h>

#include <atomic>
#include <filesystem>
#include <mvsp/cases/cases.hpp>
#include <mvsp/core/audit.hpp>
#include <mvsp/core/blobs.hpp>
#include <mvsp/core/jobs.hpp>
#include <set>
#include <sstream>
#include <thread>

#include "support.hpp"

namespace mvsp::cases {
namespace {

using namespace std::chrono_literals;

// Bytes a text column would not keep: NUL, invalid UTF-8, CR/LF.
const std::string kBinary = std::string("%PDF-1.7\n\0\xff\xfe\r\n", 15) + std::string(70000, 'x');

class CasesStore : public test::BackendTest {
 protected:
  void SetUp() override {
    BackendTest::SetUp();
    if (IsSkipped()) return;
    database_->migrate(clock_);
    jobs_ = std::make_unique<core::JobQueue>(db(), clock_, ids_);
    jobs_->subscribe(std::string(kCaseReceived), "test.case_received");
    audit_ = std::make_unique<core::AuditLog>(clock_);
    blobs_ = std::make_unique<core::BlobStore>(dir_.path() / "cases", std::string(32, 'k'));
    cases_ = std::make_unique<Cases>(db(), clock_, ids_, *jobs_, *audit_, *blobs_);
  }

  static Intake intake(const std::string& application, const std::string& tenant = "t-wismar") {
    return {.application_id = application,
            .reference = "MV-35CA3-4HFYVHO" + application.substr(application.size() - 1),
            .tenant_id = tenant,
            .authority_id = tenant == "t-wismar" ? "hwi-steuern" : "sn-buergeramt",
            .online_service_id = "hundesteuer-anmeldung",
            .online_service_version = 3,
            .title = "Hundesteuer: Anmeldung eines Hundes",
            .applicant = {.kind = "account",
                          .owner_id = "k-erika",
                          .name = "Erika Mustermann",
                          .email = "erika@example.org"},
            .submitted_at = core::from_millis(1'789'999'000'000),
            .form_key = "hundesteuer",
            .form_version = 2,
            .answers_json = R"({"hund":{"name":"Bello"}})",
            .answers_xml = "<antrag><hund><name>Bello</name></hund></antrag>",
            .pdf = kBinary,
            .documents = {{.requirement = "Nachweis für eine Ermäßigung",
                           .filename = "Bescheid \"Grundsicherung\" – März.pdf",
                           .media_type = "application/pdf",
                           .content = "%PDF-1.7\n% Nachweis\n%%EOF\n"},
                          {.requirement = "Foto des Hundes",
                           .filename = "bello.jpg",
                           .media_type = "image/jpeg",
                           .content = std::string("\xff\xd8\xff\xe0\0\x10JFIF", 10)}},
            .payment_order_id = "p-1",
            .payment_status = "success",
            .payment_method = "CREDITCARD",
            .payment_amount_cents = 1500,
            .kassenzeichen = "5260000012"};
  }

  std::int64_t count(const std::string& table) {
    return db().query_one("SELECT COUNT(*) FROM " + table)->integer(0);
  }
  std::size_t files() { return test::stored_files(dir_.path() / "cases").size(); }
  void age_files(std::chrono::minutes by) {
    for (const auto& f : test::stored_files(dir_.path() / "cases")) {
      std::filesystem::last_write_time(
          f, std::filesystem::file_time_type::clock::from_sys(clock_.now() - by));
    }
  }

  test::TempDir dir_;
  test::ManualClock clock_;
  test::SequenceIds ids_;
  std::unique_ptr<core::JobQueue> jobs_;
  std::unique_ptr<core::AuditLog> audit_;
  std::unique_ptr<core::BlobStore> blobs_;
  std::unique_ptr<Cases> cases_;
};

TEST_P(CasesStore, OpensAVorgangWithEverythingTheSubmissionHandedOver) {
  auto opened = cases_->open(intake("a-1"));
  ASSERT_TRUE(opened) << opened.error().message;
  EXPECT_EQ(opened->state, "received");
  EXPECT_EQ(opened->received_at, clock_.now());
  auto found = cases_->find({"t-other", "t-wismar"}, opened->id);
  ASSERT_TRUE(found);
  const auto& c = *found;
  EXPECT_EQ(c.id, opened->id);
  EXPECT_EQ(c.reference, "MV-35CA3-4HFYVHO1");
  EXPECT_EQ(c.tenant_id, "t-wismar");
  EXPECT_EQ(c.authority_id, "hwi-steuern");
  EXPECT_EQ(c.application_id, "a-1");
  EXPECT_EQ(c.online_service_id, "hundesteuer-anmeldung");
  EXPECT_EQ(c.online_service_version, 3);
  EXPECT_EQ(c.title, "Hundesteuer: Anmeldung eines Hundes");
  EXPECT_EQ(c.applicant.kind, "account");
  EXPECT_EQ(c.applicant.owner_id, "k-erika");
  EXPECT_EQ(c.applicant.name, "Erika Mustermann");
  EXPECT_EQ(c.applicant.email, "erika@example.org");
  EXPECT_EQ(c.submitted_at, core::from_millis(1'789'999'000'000));
  EXPECT_EQ(c.received_at, clock_.now());
  EXPECT_EQ(c.form_key, "hundesteuer");
  EXPECT_EQ(c.form_version, 2);
  EXPECT_EQ(c.payment_order_id, "p-1");
  EXPECT_EQ(c.payment_status, "success");
  EXPECT_EQ(c.payment_method, "CREDITCARD");
  EXPECT_EQ(c.payment_amount_cents, 1500);
  EXPECT_EQ(c.kassenzeichen, "5260000012");
  ASSERT_EQ(c.documents.size(), 2u);
  EXPECT_EQ(c.documents[0].position, 0);
  EXPECT_EQ(c.documents[0].filename, "Bescheid \"Grundsicherung\" – März.pdf");
  EXPECT_EQ(c.documents[0].requirement, "Nachweis für eine Ermäßigung");
  EXPECT_EQ(c.documents[0].media_type, "application/pdf");
  EXPECT_EQ(c.documents[1].size, 10);
  EXPECT_EQ(c.documents[1].sha256.size(), 64u);
  EXPECT_EQ(opened->documents.size(), 2u);
  auto by_application = cases_->by_application("a-1");
  ASSERT_TRUE(by_application);
  EXPECT_EQ(by_application->id, c.id);
  EXPECT_FALSE(cases_->by_application("a-2"));

  // The audit record and the event, with the Vorgang.
  auto audit = audit_->entries_for(db(), "case", c.id, 10);
  ASSERT_EQ(audit.size(), 1u);
  EXPECT_EQ(audit[0].action, "case.received");
  EXPECT_EQ(audit[0].actor, "system:applications");
  auto job = db().query_one("SELECT kind, payload FROM jobs WHERE kind = 'test.case_received'");
  ASSERT_TRUE(job);
  EXPECT_EQ(job->text(1), R"({"caseId":")" + c.id +
                              R"(","applicationId":"a-1","reference":"MV-35CA3-4HFYVHO1"})");
  // pdf, json, xml and two documents
  EXPECT_EQ(files(), 5u);
}

TEST_P(CasesStore, AnswersAndDocumentsReadBackByteForByte) {
  auto in = intake("a-1");
  auto c = cases_->open(in);
  ASSERT_TRUE(c);
  auto pdf = cases_->answers(c->id, "pdf");
  ASSERT_TRUE(pdf);
  EXPECT_EQ(*pdf, kBinary);
  EXPECT_EQ(*cases_->answers(c->id, "json"), in.answers_json);
  EXPECT_EQ(*cases_->answers(c->id, "xml"), in.answers_xml);
  EXPECT_EQ(cases_->answers(c->id, "html").error().code, core::ErrorCode::invalid_input);
  EXPECT_EQ(cases_->answers("k-none", "pdf").error().code, core::ErrorCode::not_found);
  for (int i = 0; i < 2; ++i) {
    std::ostringstream out;
    ASSERT_TRUE(cases_->read_document(c->id, i, out));
    EXPECT_EQ(out.str(), in.documents[i].content);
  }
  std::ostringstream none;
  EXPECT_EQ(cases_->read_document(c->id, 2, none).error().code, core::ErrorCode::not_found);

  // Answers that were not handed over are not there.
  auto bare = intake("a-2");
  bare.answers_xml.clear();
  bare.documents.clear();
  auto b = cases_->open(bare);
  ASSERT_TRUE(b);
  EXPECT_EQ(cases_->answers(b->id, "xml").error().code, core::ErrorCode::not_found);
  EXPECT_TRUE(b->documents.empty());
}

TEST_P(CasesStore, HandingTheSameApplicationOverAgainOpensNothingNew) {
  auto first = cases_->open(intake("a-1"));
  ASSERT_TRUE(first);
  clock_.advance(5min);
  auto again = intake("a-1");
  again.pdf = "%PDF-1.7\n% another copy\n%%EOF\n";
  auto second = cases_->open(again);
  ASSERT_TRUE(second);
  EXPECT_EQ(second->id, first->id);
  EXPECT_EQ(second->received_at, first->received_at);
  EXPECT_EQ(count("cases"), 1);
  EXPECT_EQ(count("case_documents"), 2);
  EXPECT_EQ(count("jobs WHERE kind = 'test.case_received'"), 1);
  EXPECT_EQ(files(), 5u) << "the second hand-over wrote nothing";
  EXPECT_EQ(*cases_->answers(first->id, "pdf"), kBinary);

  // The same application handed to another tenant is a mistake, and leaves nothing.
  auto elsewhere = cases_->open(intake("a-1", "t-schwerin"));
  ASSERT_FALSE(elsewhere);
  EXPECT_EQ(elsewhere.error().code, core::ErrorCode::conflict);
  EXPECT_EQ(count("cases"), 1);
}

TEST_P(CasesStore, ManyHandOversAtOnceOpenOneVorgang) {
  constexpr int kThreads = 8;
  std::vector<std::thread> threads;
  std::vector<core::Result<Case>> results(kThreads, core::fail(core::Error::not_found("-")));
  std::atomic<bool> go{false};
  for (int i = 0; i < kThreads; ++i) {
    threads.emplace_back([&, i] {
      while (!go) std::this_thread::yield();
      auto in = intake("a-race");
      // Each with its own copy of the PDF: the losers' copies must not stay behind.
      in.pdf = "%PDF-1.7\n% copy " + std::to_string(i) + "\n%%EOF\n";
      results[i] = cases_->open(in);
    });
  }
  go = true;
  for (auto& t : threads) t.join();
  std::set<std::string> ids;
  for (const auto& r : results) {
    ASSERT_TRUE(r) << r.error().message;
    ids.insert(r->id);
  }
  EXPECT_EQ(ids.size(), 1u);
  EXPECT_EQ(count("cases"), 1);
  EXPECT_EQ(count("case_documents"), 2);
  EXPECT_EQ(count("jobs WHERE kind = 'test.case_received'"), 1);
  EXPECT_EQ(audit_->entries_for(db(), "case", *ids.begin(), 10).size(), 1u);
  // One PDF (the winner's), json, xml, two documents: the losers' PDFs are removed.
  EXPECT_EQ(files(), 5u);
  auto pdf = cases_->answers(*ids.begin(), "pdf");
  ASSERT_TRUE(pdf);
  EXPECT_TRUE(pdf->starts_with("%PDF-1.7\n% copy "));
}

TEST_P(CasesStore, AnIncompleteIntakeIsNamedFieldByFieldAndWritesNothing) {
  Intake bad{.applicant = {.kind = "citizen"},
             .documents = {{.filename = "../a\r\nb.pdf", .media_type = "pdf", .content = "x"}}};
  auto refused = cases_->open(bad);
  ASSERT_FALSE(refused);
  EXPECT_EQ(refused.error().code, core::ErrorCode::invalid_input);
  std::vector<std::string> fields;
  for (const auto& f : refused.error().fields) fields.push_back(f.field);
  EXPECT_EQ(fields, (std::vector<std::string>{"application_id", "reference", "tenant_id",
                                              "authority_id", "online_service_id", "title",
                                              "applicant.kind", "applicant.name", "submitted_at",
                                              "pdf", "documents[0].media_type"}));
  auto no_owner = intake("a-1");
  no_owner.applicant.owner_id.clear();
  no_owner.applicant.email = "keine Adresse";
  no_owner.payment_status.clear();
  auto named = cases_->open(no_owner);
  ASSERT_FALSE(named);
  fields.clear();
  for (const auto& f : named.error().fields) fields.push_back(f.field);
  EXPECT_EQ(fields,
            (std::vector<std::string>{"applicant.owner_id", "applicant.email", "payment_status"}));
  // A guest has no account to name. A file name is whatever the browser sent: it is kept
  // without line breaks and slashes rather than refused.
  auto guest = intake("a-2");
  guest.applicant = {.kind = "guest", .owner_id = "", .name = "Max Gast", .email = ""};
  guest.documents[1].filename = "../a\r\nb\\c.jpg";
  guest.documents[0].filename = "\r\n";
  auto opened = cases_->open(guest);
  ASSERT_TRUE(opened);
  EXPECT_EQ(opened->documents[1].filename, ".._ab_c.jpg");
  EXPECT_EQ(opened->documents[0].filename, "dokument-1");
  EXPECT_EQ(cases_->find({"t-wismar"}, opened->id)->documents[1].filename, ".._ab_c.jpg");

  EXPECT_EQ(count("cases"), 1);
  EXPECT_EQ(count("case_documents"), 2);
  EXPECT_EQ(count("jobs WHERE kind = 'test.case_received'"), 1);
  EXPECT_EQ(files(), 5u) << "only the guest's";
}

TEST_P(CasesStore, AVorgangExistsOnlyForItsTenant) {
  auto wismar = cases_->open(intake("a-1", "t-wismar"));
  auto schwerin = cases_->open(intake("a-2", "t-schwerin"));
  ASSERT_TRUE(wismar && schwerin);
  EXPECT_EQ(cases_->find({"t-schwerin"}, wismar->id).error().code, core::ErrorCode::not_found);
  EXPECT_EQ(cases_->find({}, wismar->id).error().code, core::ErrorCode::not_found);
  EXPECT_EQ(cases_->find({"t-wismar"}, "k-no-such").error().code, core::ErrorCode::not_found);
  EXPECT_TRUE(cases_->find({"t-wismar"}, wismar->id));
  auto listed = cases_->arrivals({.tenant_ids = {"t-schwerin"}});
  ASSERT_EQ(listed.size(), 1u);
  EXPECT_EQ(listed[0].id, schwerin->id);
  EXPECT_TRUE(cases_->arrivals({.tenant_ids = {}}).empty());
  EXPECT_EQ(cases_->arrivals({.tenant_ids = {"t-schwerin", "t-wismar"}}).size(), 2u);
  // Naming an authority of another tenant finds nothing either.
  EXPECT_TRUE(
      cases_->arrivals({.tenant_ids = {"t-schwerin"}, .authority_id = "hwi-steuern"}).empty());
}

TEST_P(CasesStore, ArrivalsNewestFirstFoundByReferenceOrName) {
  std::vector<std::string> ids;
  for (auto [app, name] : {std::pair{"a-1", "Erika Mustermann"},
                           {"a-2", "Özlem Übel"},
                           {"a-3", "Max 100%_Mustermann"}}) {
    auto in = intake(app);
    in.applicant.name = name;
    if (std::string(app) == "a-3") in.authority_id = "hwi-buergerbuero";
    auto c = cases_->open(in);
    ASSERT_TRUE(c);
    ids.push_back(c->id);
    clock_.advance(1min);
  }
  auto ids_of = [](const std::vector<Case>& cs) {
    std::vector<std::string> out;
    for (const auto& c : cs) out.push_back(c.id);
    return out;
  };
  const std::vector<std::string> wismar{"t-wismar"};
  EXPECT_EQ(ids_of(cases_->arrivals({.tenant_ids = wismar})),
            (std::vector<std::string>{ids[2], ids[1], ids[0]}));
  EXPECT_EQ(ids_of(cases_->arrivals({.tenant_ids = wismar, .limit = 2})),
            (std::vector<std::string>{ids[2], ids[1]}));
  // The reference number, whole or in part, in any case.
  EXPECT_EQ(ids_of(cases_->arrivals({.tenant_ids = wismar, .text = "MV-35CA3-4HFYVHO2"})),
            (std::vector<std::string>{ids[1]}));
  EXPECT_EQ(ids_of(cases_->arrivals({.tenant_ids = wismar, .text = " mv-35ca3-4hfyvho1 "})),
            (std::vector<std::string>{ids[0]}));
  // The name, in any case, umlauts too.
  EXPECT_EQ(ids_of(cases_->arrivals({.tenant_ids = wismar, .text = "mustermann"})),
            (std::vector<std::string>{ids[2], ids[0]}));
  EXPECT_EQ(ids_of(cases_->arrivals({.tenant_ids = wismar, .text = "ÖZLEM ÜBEL"})),
            (std::vector<std::string>{ids[1]}));
  // LIKE's wildcards are only themselves.
  EXPECT_EQ(ids_of(cases_->arrivals({.tenant_ids = wismar, .text = "100%_"})),
            (std::vector<std::string>{ids[2]}));
  EXPECT_EQ(ids_of(cases_->arrivals({.tenant_ids = wismar, .text = "_"})),
            (std::vector<std::string>{ids[2]}));
  EXPECT_TRUE(cases_->arrivals({.tenant_ids = wismar, .text = "Er%a"}).empty());
  EXPECT_TRUE(cases_->arrivals({.tenant_ids = wismar, .text = "Er_ka"}).empty());
  EXPECT_TRUE(cases_->arrivals({.tenant_ids = wismar, .text = "Schmidt"}).empty());
  // And by authority.
  EXPECT_EQ(ids_of(cases_->arrivals({.tenant_ids = wismar, .authority_id = "hwi-buergerbuero"})),
            (std::vector<std::string>{ids[2]}));
}

// A copy written for a hand-over whose transaction never came is named by no Vorgang; the
// sweep removes it once it is an hour old and keeps every blob a Vorgang names.
TEST_P(CasesStore, DocumentsNoVorgangNamesAreSweptAfterAnHour) {
  auto c = cases_->open(intake("a-1"));
  ASSERT_TRUE(c);
  (void)blobs_->put(std::string_view("%PDF-1.7\n% never named\n%%EOF\n"));
  ASSERT_EQ(files(), 6u);
  age_files(30min);
  EXPECT_EQ(cases_->remove_unnamed_documents(), 0) << "not an hour old yet";
  clock_.advance(31min);
  EXPECT_EQ(cases_->remove_unnamed_documents(), 1);
  EXPECT_EQ(files(), 5u);
  EXPECT_EQ(*cases_->answers(c->id, "pdf"), kBinary);
  std::ostringstream out;
  EXPECT_TRUE(cases_->read_document(c->id, 1, out));
}

INSTANTIATE_TEST_SUITE_P(Backends, CasesStore, ::testing::ValuesIn(test::backends()));

}  // namespace
}  // namespace mvsp::cases
