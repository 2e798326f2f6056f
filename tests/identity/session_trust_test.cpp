// The typed view of a session's trust: one place writes and reads the level keys.
#include <gtest/gtest.h>

#include <mvsp/identity/step_up.hpp>
#include <mvsp/web/sessions.hpp>

namespace mvsp::identity {
namespace {

using namespace std::chrono_literals;

TEST(SessionTrust, ALoginSetsBothARaiseKeepsTheBaseAndNeverLowers) {
  web::Session s;
  EXPECT_EQ(trust_of(s).level, TrustLevel::basic);
  set_login_level(s, TrustLevel::low);
  EXPECT_EQ(trust_of(s).base, TrustLevel::low);
  EXPECT_EQ(trust_of(s).level, TrustLevel::low);
  raise_level(s, TrustLevel::substantial);
  EXPECT_EQ(trust_of(s).base, TrustLevel::low);
  EXPECT_EQ(trust_of(s).level, TrustLevel::substantial);
  raise_level(s, TrustLevel::low);
  EXPECT_EQ(trust_of(s).level, TrustLevel::substantial) << "a raise never lowers";
  set_login_level(s, TrustLevel::high);  // a new login (eID) starts over
  EXPECT_EQ(trust_of(s).base, TrustLevel::high);
  raise_level(s, TrustLevel::substantial);  // setting up a second factor after the eID
  EXPECT_EQ(trust_of(s).level, TrustLevel::high);
}

TEST(SessionTrust, ARaisedLevelCountsOnlyForTheStepUpTime) {
  web::Session s;
  s.created_at = core::from_millis(1'000'000);
  set_login_level(s, TrustLevel::low);
  raise_level(s, TrustLevel::substantial);
  EXPECT_EQ(session_level(s, s.created_at + 10min, 15min), TrustLevel::substantial);
  EXPECT_EQ(session_level(s, s.created_at + 16min, 15min), TrustLevel::low);
  set_login_level(s, TrustLevel::high);
  EXPECT_EQ(session_level(s, s.created_at + 16h, 15min), TrustLevel::high)
      << "a login's own level does not run out";
  web::Session old;  // raised before the base was recorded
  old.data["level"] = "low";
  raise_level(old, TrustLevel::substantial);
  EXPECT_EQ(trust_of(old).base, TrustLevel::low);
}

}  // namespace
}  // namespace mvsp::identity
