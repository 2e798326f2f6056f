#pragma once
// The platform in-process with the demo data, a test online service of Schwerin (a form of
// two pages, one document rule, a fee per dog, guest access) and a real clamd: the fixture of
// the applications tests.
#include <fmt/format.h>
#include <gtest/gtest.h>

#include <mvsp/applications/applications.hpp>
#include <mvsp/catalog/catalog.hpp>
#include <mvsp/core/virus_scan.hpp>
#include <mvsp/forms/forms.hpp>
#include <mvsp/identity/identity.hpp>
#include <mvsp/payments/payments.hpp>
#include <string>
#include <vector>

#include "app.hpp"
#include "settings.hpp"
#include "support.hpp"

namespace mvsp::applications::fixture {

inline constexpr const char* kSchwerin = "13004000";
inline constexpr const char* kLeika = "99108008000000";  // Hundesteuer: sn-buergeramt in Schwerin

// A small form: the holder's name and the dogs (a group), the fee counted per dog.
inline constexpr const char* kForm =
    R"({"format":"mvsp-form/1","key":"test-hunde","title":"Testformular Hunde",
  "language":"de","pages":[
  {"id":"halter","title":"Halter","questions":[{"id":"name","type":"name","label":"Ihr Name"}]},
  {"id":"hunde","title":"Hunde","questions":[{"id":"hunde","type":"group","label":"Hunde",
    "itemLabel":"Hund","minCount":1,"maxCount":5,"questions":[
      {"id":"rufname","type":"text","label":"Name des Hundes","maxLength":60}]}]}]})";

// The start of a minimal PDF: what libmagic needs to call it application/pdf.
inline const std::string kPdf =
    "%PDF-1.4\n1 0 obj\n<< /Type /Catalog >>\nendobj\ntrailer\n<< /Root 1 0 R >>\n%%EOF\n";

inline std::string eicar() {
  // in two halves, so that no scanner flags this source file
  return std::string(R"(X5O!P%@AP[4\PZX54(P^)7CC)7}$)") +
         "EICAR-STANDARD-ANTIVIRUS-TEST-FILE!$H+H*";
}

class ApplicationsTest : public test::ServerTest {
 protected:
  void SetUp() override {
    test::use_test_clamd(clamd_);
    if (IsSkipped() || HasFatalFailure()) return;
    ServerTest::SetUp();
  }

  void configure(app::Settings& s) override {
    s.clamav_host = clamd_.host;
    s.clamav_port = scanner_down_ ? test::unused_port() : clamd_.port;
    s.job_workers = 0;  // the tests run the jobs, when they say
  }

  const web::Ports& ports() override { return ports_; }

  void add_routes(app::App& app) override {
    app.load_demo_data();
    auto& id = app.get<identity::Identity>();
    tenant_ = app.get<catalog::Catalog>().authority("sn-buergeramt")->tenant_id;
    for (auto email : {"erika@example.org", "max@example.org"}) {
      auto a = id.accounts.create_account({.email = email,
                                           .password = "ein langes Passwort 2026",
                                           .given_name = "Erika",
                                           .family_name = "Mustermann",
                                           .verified = true},
                                          "test");
      ASSERT_TRUE(a);
      accounts_.push_back(a->id);
    }
    catalog::Editor editor{.actor = "test", .state_wide = true, .tenant_ids = {}};
    auto& forms = app.get<forms::Forms>();
    ASSERT_TRUE(forms.save_draft(editor, "", kForm));
    ASSERT_TRUE(forms.publish(editor, "test-hunde"));
    catalog::OnlineService os;
    os.id = "test-hunde-online";
    os.leika_key = kLeika;
    os.name = "Hunde anmelden (Test)";
    os.config.documents = {{.name = "Nachweis",
                            .types = {"application/pdf", "image/png"},
                            .max_bytes = 64 * 1024,
                            .required = true,
                            .multiple = true}};
    os.config.fee_per_unit_cents = 500;
    os.config.fee_unit_field = "hunde";
    os.config.guest_access = true;
    os.config.min_level = "low";
    os.config.draft_days = 30;
    os.config.reminder_days = 7;
    os.config.retention_days = 90;
    os.config.form = "test-hunde";
    os.config.form_version = 1;
    auto& catalog = app.get<catalog::Catalog>();
    auto saved = catalog.put_online_service(editor, os);
    ASSERT_TRUE(saved) << saved.error().message;
    ASSERT_TRUE(catalog.publish(editor, "test-hunde-online", "test"));
    ASSERT_TRUE(catalog.publish(editor, "test-hunde-online", "production"));
    ASSERT_TRUE(catalog.adopt(editor, "test-hunde-online", "sn-buergeramt"));
  }

  Applications& apps() { return app_->get<Applications>(); }

  Actor person(int i = 0) {
    return {.account_id = accounts_[static_cast<std::size_t>(i)],
            .organisation_id = {},
            .guest_of = {},
            .level = identity::TrustLevel::low,
            .locale = "de"};
  }

  Application started(int who = 0) {
    auto s = apps().start({.online_service_id = "test-hunde-online",
                           .place = kSchwerin,
                           .owner = {"account", accounts_[static_cast<std::size_t>(who)]},
                           .account_id = accounts_[static_cast<std::size_t>(who)],
                           .guest_email = {},
                           .remote_address = "127.0.0.1",
                           .locale = "de"});
    EXPECT_TRUE(s) << (s ? "" : s.error().message);
    return s->application;
  }

  static forms::Answers answers(int dogs = 2) {
    forms::Answers a{{"name.vorname", "Erika"},
                     {"name.nachname", "Mustermann"},
                     {"hunde", std::to_string(dogs)},
                     {"_done", "halter\nhunde"}};
    for (int i = 0; i < dogs; ++i)
      a[fmt::format("hunde[{}].rufname", i)] = fmt::format("Hund {}", i);
    return a;
  }

  // Filled, documented and paid by invoice: ready to submit.
  Application ready(const Actor& actor, Application a) {
    EXPECT_TRUE(apps().save_answers(actor, a.id, answers()));
    EXPECT_TRUE(apps().add_document(actor, a.id, 0, "nachweis.pdf", kPdf));
    auto where = apps().pay(actor, a.id);
    EXPECT_TRUE(where) << (where ? "" : where.error().message);
    auto fresh = apps().find(actor, a.id);
    EXPECT_TRUE(app_->get<payments::Payments>().invoice(fresh->payment_order_id));
    return *apps().find(actor, a.id);
  }

  std::size_t stored_documents() {
    return test::stored_files(data_dir_->path() / "applications").size();
  }

  std::shared_ptr<test::ManualClock> clock_ = std::make_shared<test::ManualClock>();
  web::Ports ports_{
      .clock = *clock_, .ids = app::system_ports().ids, .http = app::system_ports().http};
  core::ClamdOptions clamd_;
  bool scanner_down_ = false;
  std::string tenant_;
  std::vector<std::string> accounts_;
};

}  // namespace mvsp::applications::fixture
