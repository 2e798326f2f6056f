#include <gtest/gtest.h>

#include <mvsp/web/errors.hpp>
#include <mvsp/web/http.hpp>
#include <mvsp/web/router.hpp>

namespace mvsp::web {
namespace {

Handler named(std::string name) {
  return [name](Request&) { return Response::text(name); };
}

TEST(Router, MatchesParametersAndPrefersLiterals) {
  Router r;
  r.get("/api/v1/notices/{id}", named("one"));
  r.get("/api/v1/notices/{id}/events", named("events"));
  r.get("/api/v1/notices/export", named("export"));
  r.post("/api/v1/notices", named("create"));

  auto m = r.match(Method::get, "/api/v1/notices/n42");
  ASSERT_TRUE(m.handler);
  EXPECT_EQ(m.pattern, "/api/v1/notices/{id}");
  EXPECT_EQ(m.params.at("id"), "n42");
  EXPECT_EQ(r.match(Method::get, "/api/v1/notices/n42/events").pattern,
            "/api/v1/notices/{id}/events");
  EXPECT_EQ(r.match(Method::get, "/api/v1/notices/export").pattern, "/api/v1/notices/export");
  EXPECT_EQ(r.match(Method::get, "/api/v1/notices/n42/").pattern, "/api/v1/notices/{id}");
}

TEST(Router, TellsUnknownPathsFromWrongMethods) {
  Router r;
  r.post("/api/v1/notices", named("create"));
  auto wrong = r.match(Method::get, "/api/v1/notices");
  EXPECT_FALSE(wrong.handler);
  EXPECT_TRUE(wrong.other_method);
  auto none = r.match(Method::get, "/api/v1/nothing");
  EXPECT_FALSE(none.handler);
  EXPECT_FALSE(none.other_method);
}

TEST(Router, OnATieTheRouteAddedFirstWinsAndParametersComeFromTheWinner) {
  Router r;
  r.post("/x/{a}/{b}", named("post"));
  r.get("/x/{a}/z", named("first"));
  r.get("/x/y/{b}", named("second"));
  r.get("/x/{a}/{b}", named("fewer"));
  auto m = r.match(Method::get, "/x/y/z");
  ASSERT_TRUE(m.handler);
  EXPECT_EQ(m.pattern, "/x/{a}/z");
  EXPECT_EQ(m.params, (std::map<std::string, std::string, std::less<>>{{"a", "y"}}));
  EXPECT_FALSE(m.other_method);
  auto fewer = r.match(Method::get, "/x/q/r");
  EXPECT_EQ(fewer.pattern, "/x/{a}/{b}");
  EXPECT_EQ(fewer.params.at("b"), "r");
  auto wrong = r.match(Method::put, "/x/q/r");
  EXPECT_FALSE(wrong.handler);
  EXPECT_TRUE(wrong.other_method);
  EXPECT_FALSE(r.match(Method::get, "/x/y/z/w/v/u").handler) << "longer than every route";
  EXPECT_FALSE(r.match(Method::get, "/x").handler);
}

TEST(Router, HeadUsesTheGetRoute) {
  Router r;
  r.get("/", named("start"));
  EXPECT_TRUE(r.match(Method::head, "/").handler);
}

TEST(Request, ParsesFormsQueriesAndCookies) {
  Request req;
  req.headers = {{"content-type", "application/x-www-form-urlencoded; charset=utf-8"},
                 {"cookie", "a=1; mvsp_session=abc; b=2"}};
  req.body = "name=M%C3%BCller+Anna&empty=&csrf_token=t%2B1";
  req.query = "q=Hund+anmelden&ags=13074087";
  EXPECT_EQ(req.form("name"), "Müller Anna");
  EXPECT_EQ(req.form("empty"), "");
  EXPECT_EQ(req.form("csrf_token"), "t+1");
  EXPECT_FALSE(req.form("missing"));
  EXPECT_EQ(req.query_param("q"), "Hund anmelden");
  EXPECT_EQ(req.cookie("mvsp_session"), "abc");
  EXPECT_EQ(req.cookie("b"), "2");
  EXPECT_FALSE(req.cookie("mvsp"));
}

TEST(Request, IgnoresBodiesThatAreNotForms) {
  Request req;
  req.headers = {{"content-type", "application/json"}};
  req.body = "csrf_token=x";
  EXPECT_FALSE(req.form("csrf_token"));
}

TEST(UrlCoding, DecodesAndEncodes) {
  EXPECT_EQ(url_decode("a%2Fb+c%", true), "a/b c%");
  EXPECT_EQ(url_decode("a+b", false), "a+b");
  EXPECT_EQ(url_encode("/impressum?x=ä"), "%2Fimpressum%3Fx%3D%C3%A4");
}

// A download's name a person chose cannot break the header or forge a parameter: quotes,
// backslashes and non-ASCII become "_" in filename, the name itself goes percent-encoded
// into filename*, control characters go.
TEST(AttachmentDisposition, KeepsNamesPeopleChoseInsideTheHeader) {
  EXPECT_EQ(attachment_disposition("bescheid.pdf"), "attachment; filename=\"bescheid.pdf\"");
  EXPECT_EQ(attachment_disposition("März \"neu\".pdf"),
            "attachment; filename=\"M_rz _neu_.pdf\"; "
            "filename*=UTF-8''M%C3%A4rz%20%22neu%22.pdf");
  auto evil = attachment_disposition("a\r\nSet-Cookie: x=1;\\\".pdf");
  EXPECT_EQ(evil,
            "attachment; filename=\"aSet-Cookie: x=1;__.pdf\"; "
            "filename*=UTF-8''aSet-Cookie%3A%20x%3D1%3B%5C%22.pdf");
  EXPECT_TRUE(is_valid_header("Content-Disposition", evil));
  EXPECT_EQ(attachment_disposition("\r\n"), "attachment; filename=\"download\"");
  EXPECT_EQ(attachment_disposition("", "antrag.pdf"), "attachment; filename=\"antrag.pdf\"");
  // Bytes that are not UTF-8 are one replacement character each.
  EXPECT_EQ(attachment_disposition("a\xff.pdf"),
            "attachment; filename=\"a_.pdf\"; filename*=UTF-8''a%EF%BF%BD.pdf");
}

TEST(ErrorMapping, EachCodeHasOneStatus) {
  using core::ErrorCode;
  EXPECT_EQ(http_status(ErrorCode::invalid_input), 422);
  EXPECT_EQ(http_status(ErrorCode::not_found), 404);
  EXPECT_EQ(http_status(ErrorCode::conflict), 409);
  EXPECT_EQ(http_status(ErrorCode::forbidden), 403);
  EXPECT_EQ(http_status(ErrorCode::unauthenticated), 401);
  EXPECT_EQ(http_status(ErrorCode::rate_limited), 429);
  EXPECT_EQ(http_status(ErrorCode::unavailable), 503);
  EXPECT_EQ(http_status(ErrorCode::unsupported_media_type), 415);
}

TEST(ErrorMapping, ProblemJsonStatusIsTheResponsesStatus) {
  Request req;
  req.path = "/api/v1/notices";
  auto res = problem(req, core::Error::unsupported_media_type("Send multipart/form-data."));
  EXPECT_EQ(res.status, 415);
  EXPECT_NE(res.body.find(R"("status":415)"), std::string::npos) << res.body;
  EXPECT_NE(res.body.find(R"("title":"Unsupported Media Type")"), std::string::npos);
  EXPECT_NE(res.body.find(R"("type":"urn:mvsp:problem:unsupported-media-type")"),
            std::string::npos);
}

TEST(ErrorMapping, ProblemJsonNamesTheFields) {
  Request req;
  req.path = "/api/v1/notices";
  req.correlation_id = "c1";
  auto err = core::Error::invalid("metadata.recipient", "must be a mailbox id");
  err.and_field("document[0]", "must be a PDF");
  auto res = problem(req, err);
  EXPECT_EQ(res.status, 422);
  EXPECT_EQ(res.header("content-type"), "application/problem+json");
  EXPECT_NE(res.body.find(R"("field":"metadata.recipient")"), std::string::npos) << res.body;
  EXPECT_NE(res.body.find(R"("field":"document[0]")"), std::string::npos);
  EXPECT_NE(res.body.find(R"("type":"urn:mvsp:problem:invalid-input")"), std::string::npos);
  EXPECT_NE(res.body.find(R"("correlationId":"c1")"), std::string::npos);
  auto limited = problem(req, core::Error::rate_limited("slow down", std::chrono::seconds(42)));
  EXPECT_EQ(limited.status, 429);
  EXPECT_EQ(limited.header("retry-after").value_or(""), "42") << "the wait the use case named";
  auto stranger = problem(req, core::Error::unauthenticated("a bearer token is needed"));
  EXPECT_EQ(stranger.status, 401);
  EXPECT_EQ(stranger.header("www-authenticate").value_or(""), "Bearer") << "RFC 9110 15.5.2";
  EXPECT_FALSE(problem(req, core::Error::forbidden("no")).header("www-authenticate"));
}

}  // namespace
}  // namespace mvsp::web
