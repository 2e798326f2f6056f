#include <gtest/gtest.h>

#include <mvsp/core/db.hpp>
#include <mvsp/web/sessions.hpp>

#include "support.hpp"

namespace mvsp::web {
namespace {

using namespace std::chrono_literals;

class Sessions : public test::BackendTest {
 protected:
  void SetUp() override {
    BackendTest::SetUp();
    if (IsSkipped() || HasFatalFailure()) return;
    database_->migrate(clock_);
    store_ = std::make_unique<SessionStore>(db(), clock_,
                                            SessionOptions{.idle = 30min, .absolute = 12h});
  }
  test::ManualClock clock_;
  std::unique_ptr<SessionStore> store_;
};

TEST_P(Sessions, LoadsWhatWasSavedAndStoresOnlyTheTokenHash) {
  auto s = store_->create();
  s.data["step"] = "2";
  s.account_id = "acc1";
  store_->save(s);
  auto loaded = store_->load(s.token);
  ASSERT_TRUE(loaded);
  EXPECT_EQ(loaded->data.at("step"), "2");
  EXPECT_EQ(loaded->account_id, "acc1");
  EXPECT_EQ(loaded->csrf_token, s.csrf_token);
  EXPECT_FALSE(db().query_one("SELECT 1 FROM sessions WHERE token_hash = ?", s.token));
  EXPECT_FALSE(store_->load("not-a-token"));
}

// A value that is not UTF-8 once made the session's data unreadable, and every request
// with that cookie failed (500; PostgreSQL refused to store it). Its broken bytes now
// become U+FFFD, and data that does not read is dropped rather than failing the session.
TEST_P(Sessions, DataThatDoesNotReadIsDroppedAndTheSessionGoesOn) {
  auto s = store_->create();
  s.account_id = "acc1";
  s.data["answers"] = "kaputt \xff\xfe";
  store_->save(s);
  auto loaded = store_->load(s.token);
  ASSERT_TRUE(loaded);
  EXPECT_EQ(loaded->account_id, "acc1");
  EXPECT_EQ(loaded->csrf_token, s.csrf_token);
  EXPECT_EQ(loaded->data.at("answers"), "kaputt \xEF\xBF\xBD\xEF\xBF\xBD");
  db().execute("UPDATE sessions SET data = ?", std::string("{\"a\": "));
  loaded = store_->load(s.token);
  ASSERT_TRUE(loaded) << "a session whose data does not read still loads";
  EXPECT_TRUE(loaded->data.empty());
  loaded->data["step"] = "3";
  store_->save(*loaded);
  EXPECT_EQ(store_->load(s.token)->data.at("step"), "3");
}

TEST_P(Sessions, ExpireWhenIdleAndAfterTheAbsoluteTime) {
  auto idle = store_->create();
  clock_.advance(31min);
  EXPECT_FALSE(store_->load(idle.token));

  auto busy = store_->create();
  for (int i = 0; i < 25; ++i) {
    clock_.advance(29min);  // 25 × 29 min = 12 h 5 min
    if (i < 24) {
      ASSERT_TRUE(store_->load(busy.token)) << i;
    }
  }
  EXPECT_FALSE(store_->load(busy.token)) << "older than 12 hours";
}

TEST_P(Sessions, RotationInvalidatesTheOldToken) {
  auto s = store_->create();
  s.data["cart"] = "x";
  store_->save(s);
  auto old_token = s.token;
  auto old_csrf = s.csrf_token;
  EXPECT_TRUE(store_->rotate(s));
  EXPECT_NE(s.token, old_token);
  EXPECT_NE(s.csrf_token, old_csrf);
  EXPECT_FALSE(store_->load(old_token));
  EXPECT_EQ(store_->load(s.token)->data.at("cart"), "x");
}

// A request that loaded the session before it was revoked (a password reset in another
// tab) must not bring it back by rotating it.
TEST_P(Sessions, ARevokedSessionIsNotBroughtBackByRotation) {
  auto s = store_->create();
  s.account_id = "k1";
  store_->save(s);
  auto loaded = store_->load(s.token);
  ASSERT_TRUE(loaded);
  EXPECT_EQ(store_->revoke_all("k1"), 1);
  EXPECT_FALSE(store_->rotate(*loaded));
  EXPECT_FALSE(store_->load(loaded->token));
  EXPECT_TRUE(store_->list_for_account("k1").empty());
}

TEST_P(Sessions, PurgeDeletesExpiredOnly) {
  store_->create();
  clock_.advance(20min);
  auto fresh = store_->create();
  clock_.advance(15min);
  EXPECT_EQ(store_->purge_expired(), 1);
  EXPECT_TRUE(store_->load(fresh.token));
}

TEST_P(Sessions, CookieIsHttpOnlyLaxAndSecureOnHttps) {
  auto s = store_->create();
  auto cookie = store_->cookie(s);
  EXPECT_NE(cookie.find("HttpOnly"), std::string::npos);
  EXPECT_NE(cookie.find("SameSite=Lax"), std::string::npos);
  EXPECT_EQ(cookie.find("Secure"), std::string::npos);
  SessionStore https(db(), clock_, SessionOptions{.secure_cookie = true});
  EXPECT_NE(https.cookie(s).find("; Secure"), std::string::npos);
}

INSTANTIATE_TEST_SUITE_P(Databases, Sessions, ::testing::ValuesIn(test::backends()));

}  // namespace
}  // namespace mvsp::web
