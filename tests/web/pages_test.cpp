// The error pages: a use case's refusal becomes the status web::http_status gives its code,
// the same mapping the APIs use, with texts in the visitor's language.
#include <gtest/gtest.h>

#include <mvsp/web/errors.hpp>
#include <mvsp/web/pages.hpp>
#include <mvsp/web/resources.hpp>
#include <mvsp/web/templates.hpp>

namespace mvsp::web {
namespace {

class ErrorPages : public ::testing::Test {
 protected:
  void SetUp() override {
    templates_.add("web", embedded_resources());
    texts_.add(embedded_resources());
  }
  Response page_for(const core::Error& e, std::string locale = "de") {
    Request req;
    req.path = "/x";
    req.locale = std::move(locale);
    return pages_.error(req, e);
  }
  Templates templates_;
  Catalog texts_;
  Pages pages_{templates_, texts_};
};

TEST_F(ErrorPages, EachRefusalHasItsStatusAndText) {
  EXPECT_EQ(page_for(core::Error::forbidden("x")).status, 403);
  EXPECT_EQ(page_for(core::Error::not_found("x")).status, 404);
  auto conflict = page_for(core::Error::conflict("x"));
  EXPECT_EQ(conflict.status, 409);
  EXPECT_NE(conflict.body.find("Der Stand hat sich geändert"), std::string::npos);
  auto english = page_for(core::Error::conflict("x"), "en");
  EXPECT_NE(english.body.find("Things have changed"), std::string::npos);
  auto waiting = page_for(core::Error::rate_limited("x", std::chrono::seconds(30)));
  EXPECT_EQ(waiting.status, 429);
  EXPECT_EQ(waiting.header("retry-after"), "30");
  EXPECT_NE(waiting.body.find("Zu viele Versuche"), std::string::npos);
  EXPECT_EQ(page_for(core::Error::unavailable("x")).status, 503);
  auto unsupported = page_for(core::Error::unsupported_media_type("x"));
  EXPECT_EQ(unsupported.status, 415);
  EXPECT_NE(unsupported.body.find("Dieses Format wird nicht angenommen"), std::string::npos);
  EXPECT_EQ(page_for(core::Error::forbidden("x")).body.find(">x<"), std::string::npos)
      << "the use case's own words (often English, for logs) are not shown";
}

TEST(Refusals, AreWhatAFormCannotMend) {
  EXPECT_TRUE(is_refusal(core::Error::forbidden("x")));
  EXPECT_TRUE(is_refusal(core::Error::not_found("x")));
  EXPECT_TRUE(is_refusal(core::Error::unauthenticated("x")));
  EXPECT_FALSE(is_refusal(core::Error::invalid("f", "x")));
  EXPECT_FALSE(is_refusal(core::Error::conflict("x")));
  EXPECT_FALSE(is_refusal(core::Error::rate_limited("x", std::chrono::seconds(1))));
}

}  // namespace
}  // namespace mvsp::web
