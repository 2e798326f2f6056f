// The forms store's contract, on both databases: drafts and published versions, who may
// change which form, what is refused, and the list of changes between versions.
#include <gtest/gtest.h>

#include <mvsp/catalog/catalog.hpp>
#include <mvsp/core/audit.hpp>
#include <mvsp/core/db.hpp>
#include <mvsp/core/ids.hpp>
#include <mvsp/forms/component.hpp>
#include <mvsp/forms/forms.hpp>
#include <mvsp/identity/component.hpp>
#include <thread>

#include "support.hpp"

namespace mvsp::forms {
namespace {

const catalog::Editor kState{.actor = "account:state", .state_wide = true, .tenant_ids = {}};
const catalog::Editor kDistrict{
    .actor = "account:nwm", .state_wide = false, .tenant_ids = {"tenant-nwm"}};

std::string form_json(const std::string& key, const std::string& label = "Name des Hundes") {
  return R"({"format":"mvsp-form/1","key":")" + key +
         R"(","title":"Test","pages":[{"id":"p","title":"Seite",
    "questions":[{"id":"rufname","type":"text","label":")" +
         label + R"("}]}]})";
}

class FormsStore : public test::BackendTest {
 protected:
  void SetUp() override {
    BackendTest::SetUp();
    if (IsSkipped() || HasFatalFailure()) return;
    database_->migrate(clock_);
    audit_ = std::make_unique<core::AuditLog>(clock_);
    catalog_ = std::make_unique<catalog::Catalog>(db(), clock_, ids_, *audit_);
    catalog::Authority nwm{
        .id = "lk-nwm", .tenant_id = "tenant-nwm", .region = "13074", .name = "Landkreis NWM"};
    catalog::Authority lup{
        .id = "lk-lup", .tenant_id = "tenant-lup", .region = "13076", .name = "Landkreis LUP"};
    ASSERT_TRUE(catalog_->put_authority(kState, nwm));
    ASSERT_TRUE(catalog_->put_authority(kState, lup));
    forms_ = std::make_unique<Forms>(db(), clock_, *audit_, *catalog_);
  }

  test::ManualClock clock_;
  test::SequenceIds ids_;
  std::unique_ptr<core::AuditLog> audit_;
  std::unique_ptr<catalog::Catalog> catalog_;
  std::unique_ptr<Forms> forms_;
};

TEST_P(FormsStore, ADraftBecomesAVersionThatNeverChangesAndTheNextDraftIsTheNextVersion) {
  auto draft = forms_->save_draft(kState, "", form_json("hund"));
  ASSERT_TRUE(draft);
  EXPECT_EQ(draft->version, 1);
  EXPECT_FALSE(forms_->published("hund"));
  auto v1 = forms_->publish(kState, "hund");
  ASSERT_TRUE(v1);
  EXPECT_EQ(v1->state, "published");

  auto v2 = forms_->save_draft(kState, "", form_json("hund", "Rufname"));
  ASSERT_TRUE(v2);
  EXPECT_EQ(v2->version, 2);
  // saving again replaces the draft; the published version stays as it was
  ASSERT_TRUE(forms_->save_draft(kState, "", form_json("hund", "Rufname des Hundes")));
  EXPECT_EQ(forms_->published("hund")->form.pages[0].questions[0].label, "Name des Hundes");
  EXPECT_EQ(forms_->draft("hund")->form.pages[0].questions[0].label, "Rufname des Hundes");
  ASSERT_TRUE(forms_->publish(kState, "hund"));
  EXPECT_EQ(forms_->published("hund")->version, 2);
  EXPECT_EQ(forms_->published("hund", 1)->form.pages[0].questions[0].label, "Name des Hundes");
  EXPECT_FALSE(forms_->draft("hund"));
  EXPECT_EQ(forms_->history("hund").size(), 2u);

  auto list = forms_->list();
  ASSERT_EQ(list.size(), 1u);
  EXPECT_EQ(list[0].published, 2);
  EXPECT_EQ(list[0].draft, 0);

  auto changes =
      differences(forms_->published("hund", 1)->form, forms_->published("hund", 2)->form);
  ASSERT_EQ(changes.size(), 1u);
  EXPECT_EQ(changes[0], "Frage „Rufname des Hundes“ auf Seite „Seite“ geändert: Frage");

  auto entries = audit_->entries_for(db(), "form", "hund", 10);
  ASSERT_EQ(entries.size(), 5u);
  EXPECT_EQ(entries.front().action, "form.published");
}

TEST_P(FormsStore, AnAuthoritysEditorChangesItsOwnFormsOnly) {
  ASSERT_TRUE(forms_->save_draft(kState, "", form_json("land")));
  auto state_form = forms_->save_draft(kDistrict, "", form_json("land", "X"));
  ASSERT_FALSE(state_form);
  EXPECT_EQ(state_form.error().code, core::ErrorCode::forbidden);

  ASSERT_TRUE(forms_->save_draft(kDistrict, "lk-nwm", form_json("kreis")));
  ASSERT_TRUE(forms_->publish(kDistrict, "kreis"));
  // the owner of an existing form stays, whatever a later save names
  auto moved = forms_->save_draft(kDistrict, "lk-lup", form_json("kreis", "Y"));
  ASSERT_TRUE(moved);
  EXPECT_EQ(moved->owner, "lk-nwm");
  const catalog::Editor lup{
      .actor = "account:lup", .state_wide = false, .tenant_ids = {"tenant-lup"}};
  EXPECT_EQ(forms_->publish(lup, "kreis").error().code, core::ErrorCode::forbidden);
  EXPECT_EQ(forms_->save_draft(lup, "lk-lup", form_json("kreis", "Z")).error().code,
            core::ErrorCode::forbidden);
  EXPECT_EQ(forms_->discard_draft(lup, "kreis").error().code, core::ErrorCode::forbidden);
  EXPECT_EQ(
      forms_->save_draft(kDistrict, "lk-unbekannt", form_json("neu")).error().fields.front().field,
      "owner");
  EXPECT_EQ(forms_->draft("kreis")->form.pages[0].questions[0].label, "Y");
}

TEST_P(FormsStore, InvalidFormsAndMissingDraftsAreRefusedAndNothingIsWritten) {
  auto bad =
      forms_->save_draft(kState, "", R"({"format":"mvsp-form/1","key":"x","title":"","pages":[]})");
  ASSERT_FALSE(bad);
  EXPECT_EQ(bad.error().code, core::ErrorCode::invalid_input);
  EXPECT_EQ(bad.error().fields.size(), 2u);
  EXPECT_TRUE(forms_->list().empty());
  EXPECT_EQ(forms_->publish(kState, "x").error().code, core::ErrorCode::not_found);
  EXPECT_EQ(forms_->discard_draft(kState, "x").error().code, core::ErrorCode::not_found);
  ASSERT_TRUE(forms_->save_draft(kState, "", form_json("weg")));
  ASSERT_TRUE(forms_->discard_draft(kState, "weg"));
  EXPECT_TRUE(forms_->list().empty());
}

TEST_P(FormsStore, PublishingFromManyThreadsAtOnceMakesEachVersionOnce) {
  std::vector<std::thread> threads;
  std::atomic<int> published{0};
  for (int i = 0; i < 6; ++i) {
    threads.emplace_back([&, i] {
      if (!forms_->save_draft(kState, "", form_json("parallel", "Frage " + std::to_string(i))))
        return;
      if (forms_->publish(kState, "parallel")) ++published;
    });
  }
  for (auto& t : threads) t.join();
  auto history = forms_->history("parallel");
  std::set<int> versions;
  for (const auto& v : history) {
    EXPECT_TRUE(versions.insert(v.version).second) << "version " << v.version << " twice";
    EXPECT_EQ(v.state, "published");
  }
  EXPECT_EQ(static_cast<int>(history.size()), published.load());
  EXPECT_GE(published.load(), 1);
}

INSTANTIATE_TEST_SUITE_P(Backends, FormsStore, ::testing::ValuesIn(test::backends()));

}  // namespace
}  // namespace mvsp::forms
