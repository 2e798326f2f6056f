// The payment API and pages over HTTP on both databases: machine clients of a tenant
// create and read orders (scopes, Idempotency-Key, problem+json naming the field), the
// payer follows the link once and pays by invoice, and the authority's staff find the
// order, refund and read the journal; another tenant's people see nothing.
#include <Poco/JSON/Object.h>
#include <Poco/JSON/Parser.h>
#include <gtest/gtest.h>

#include <mvsp/catalog/catalog.hpp>
#include <mvsp/identity/identity.hpp>
#include <mvsp/identity/oidc.hpp>
#include <mvsp/payments/payments.hpp>
#include <mvsp/web/http.hpp>
#include <mvsp/web/multipart.hpp>
#include <sstream>

#include "app.hpp"
#include "support.hpp"

namespace mvsp::payments {
namespace {

constexpr const char* kPassword = "ein langes Passwort 2026";

Poco::JSON::Object::Ptr parse(const std::string& s) {
  return Poco::JSON::Parser().parse(s).extract<Poco::JSON::Object::Ptr>();
}

std::string enc(const std::string& s) {
  return web::url_encode(s);
}

// The path and query of an absolute URL of this server.
std::string local(const std::string& url) {
  auto p = url.find('/', url.find("//") + 2);
  return url.substr(p);
}

class PaymentPages : public test::ServerTest {
 protected:
  void add_routes(app::App& app) override {
    auto& id = app.get<identity::Identity>();
    schwerin_ = id.staff.create_tenant("Landeshauptstadt Schwerin", "test")->id;
    wismar_ = id.staff.create_tenant("Hansestadt Wismar", "test")->id;
    auto& payments = app.get<Payments>();
    for (auto [authority, tenant] : {std::pair{"sn", schwerin_}, std::pair{"hwi", wismar_}}) {
      ASSERT_TRUE(payments.save_account({.authority_id = authority,
                                         .tenant_id = tenant,
                                         .authority_name = std::string("Stadt ") + authority,
                                         .payee = std::string("Stadtkasse ") + authority,
                                         .iban = "DE02120300000000202051",
                                         .bic = "BYLADEM1001",
                                         .budget_position = "1.1.2.01",
                                         .booking_account = "43210000",
                                         .kassenzeichen = {"5{YY}{N:6}{P}", "luhn"},
                                         .invoice = true,
                                         .invoice_days = 14},
                                        "test"));
    }
    // An authority of Schwerin in the catalog, without a payment account yet.
    ASSERT_TRUE(app.get<catalog::Catalog>().put_authority(
        {.actor = "test", .state_wide = true, .tenant_ids = {}}, {.id = "sn-standesamt",
                                                                  .tenant_id = schwerin_,
                                                                  .region = "13004000",
                                                                  .name = "Standesamt Schwerin"}));
    for (auto [email, role, tenant] :
         {std::tuple{"kasse@schwerin.example", "cashier", schwerin_},
          {"verwaltung@schwerin.example", "authority_admin", schwerin_},
          {"sachbearbeitung@schwerin.example", "clerk", schwerin_},
          {"kasse@wismar.example", "cashier", wismar_}}) {
      ASSERT_TRUE(id.accounts.create_account({.email = email,
                                              .password = kPassword,
                                              .given_name = "Kim",
                                              .family_name = "Kasse",
                                              .verified = true,
                                              .role = role,
                                              .tenant_id = tenant},
                                             "test"));
    }
  }

  void SetUp() override {
    ServerTest::SetUp();
    if (IsSkipped() || HasFatalFailure()) return;
    token_ = token(schwerin_, "payments:write payments:read");
    wismar_token_ = token(wismar_, "payments:write payments:read");
    read_only_ = token(schwerin_, "payments:read");
  }

  std::string token(const std::string& tenant, const std::string& scopes) {
    std::vector<std::string> list;
    std::istringstream in(scopes);
    for (std::string s; in >> s;) list.push_back(s);
    auto cl = app_->get<identity::Provider>().create_client({.name = "Onlinedienst " + tenant,
                                                             .scopes = list,
                                                             .grants = {"client_credentials"},
                                                             .tenant_id = tenant},
                                                            "test");
    EXPECT_TRUE(cl);
    auto res = client().request("POST", "/api/v1/oidc/token",
                                "grant_type=client_credentials&scope=" + enc(scopes) +
                                    "&client_id=" + cl->client.client_id +
                                    "&client_secret=" + cl->client_secret,
                                {{"Content-Type", "application/x-www-form-urlencoded"}});
    EXPECT_EQ(res.status, 200) << res.body;
    return parse(res.body)->getValue<std::string>("access_token");
  }

  test::HttpResponse create(const std::string& token, const std::string& body,
                            const std::string& key = "k1") {
    std::map<std::string, std::string> headers{{"Content-Type", "application/json"}};
    if (!token.empty()) headers["Authorization"] = "Bearer " + token;
    if (!key.empty()) headers["Idempotency-Key"] = key;
    return client().request("POST", "/api/v1/payments", body, headers);
  }

  test::HttpResponse get(const std::string& token, const std::string& path) {
    return client().get(path, {{"Authorization", "Bearer " + token}});
  }

  static std::string body(int cents = 3000, const std::string& authority = "sn") {
    return R"({"authority":")" + authority + R"(","amount":)" + std::to_string(cents) +
           R"(,"purpose":"Bewohnerparkausweis","reference":"MV-35CA3-4HFYVHOK",)"
           R"("returnUrl":"https://dienst.example/fertig",)"
           R"("payer":{"name":"Mustermann","firstName":"Erika","city":"Schwerin"}})";
  }

  test::HttpClient signed_in(const std::string& email) {
    auto c = client();
    auto page = c.get("/anmelden");
    auto res =
        c.post_form("/anmelden", {{"email", enc(email)},
                                  {"password", enc(kPassword)},
                                  {"csrf_token", test::HttpClient::csrf_token_in(page.body)}});
    EXPECT_EQ(res.status, 303) << email;
    return c;
  }

  std::string schwerin_, wismar_, token_, wismar_token_, read_only_;
};

TEST_P(PaymentPages, CreateReadListWithScopesAndIdempotency) {
  EXPECT_EQ(create("", body()).status, 401);
  auto scope = create(read_only_, body());
  EXPECT_EQ(scope.status, 403);
  EXPECT_NE(scope.header("www-authenticate").find("payments:write"), std::string::npos);

  auto made = create(token_, body());
  ASSERT_EQ(made.status, 201) << made.body;
  auto o = parse(made.body);
  auto id = o->getValue<std::string>("paymentId");
  EXPECT_EQ(o->getValue<int>("amount"), 3000);
  EXPECT_EQ(o->getObject("state")->getValue<std::string>("status"), "created");
  EXPECT_FALSE(o->getObject("state")->getValue<bool>("finished"));
  EXPECT_EQ(local(made.header("location")), "/api/v1/payments/" + id);
  auto next = o->getObject("_links")->getObject("next_url")->getValue<std::string>("href");
  EXPECT_NE(next.find("/zahlung/" + id + "?token="), std::string::npos);

  auto replay = create(token_, body());
  EXPECT_EQ(replay.status, 200);
  EXPECT_EQ(replay.header("idempotent-replayed"), "true");
  EXPECT_EQ(parse(replay.body)->getValue<std::string>("paymentId"), id);
  auto conflict = create(token_, body(3100));
  EXPECT_EQ(conflict.status, 409);
  EXPECT_EQ(conflict.header("content-type"), "application/problem+json");

  EXPECT_EQ(get(token_, "/api/v1/payments/" + id).status, 200);
  EXPECT_EQ(get(read_only_, "/api/v1/payments/" + id).status, 200);
  EXPECT_EQ(get(wismar_token_, "/api/v1/payments/" + id).status, 404);
  auto listed = get(token_, "/api/v1/payments?reference=MV-35CA3-4HFYVHOK");
  ASSERT_EQ(listed.status, 200);
  EXPECT_EQ(parse(listed.body)->getArray("payments")->size(), 1u);
  EXPECT_EQ(parse(get(wismar_token_, "/api/v1/payments?reference=MV-35CA3-4HFYVHOK").body)
                ->getArray("payments")
                ->size(),
            0u);
  EXPECT_EQ(get(token_, "/api/v1/payments").status, 422);

  // Another tenant's authority cannot be named; its own can.
  EXPECT_EQ(create(wismar_token_, body(3000, "sn"), "w1").status, 422);
  EXPECT_EQ(create(wismar_token_, body(3000, "hwi"), "w1").status, 201);

  auto cancel = client().request("POST", "/api/v1/payments/" + id + "/cancel", "",
                                 {{"Authorization", "Bearer " + wismar_token_}});
  EXPECT_EQ(cancel.status, 404);
  cancel = client().request("POST", "/api/v1/payments/" + id + "/cancel", "",
                            {{"Authorization", "Bearer " + token_}});
  ASSERT_EQ(cancel.status, 200) << cancel.body;
  EXPECT_EQ(parse(cancel.body)->getObject("state")->getValue<std::string>("status"), "cancelled");
}

TEST_P(PaymentPages, BadRequestsAreNamed) {
  auto fields = [](const test::HttpResponse& r) {
    std::set<std::string> out;
    auto errors = parse(r.body)->getArray("errors");
    for (std::size_t i = 0; errors && i < errors->size(); ++i) {
      out.insert(errors->getObject(i)->getValue<std::string>("field"));
    }
    return out;
  };
  auto no_key = create(token_, body(), "");
  EXPECT_EQ(no_key.status, 422);
  EXPECT_EQ(fields(no_key), std::set<std::string>{"Idempotency-Key"});
  auto not_json = create(token_, "{", "k2");
  EXPECT_EQ(not_json.status, 422);
  EXPECT_EQ(fields(not_json), std::set<std::string>{"body"});
  auto types = create(token_,
                      R"({"authority":"sn","amount":"30","purpose":7,"returnUrl":"x","size":1,)"
                      R"("payer":{"name":"A","shoe":42}})",
                      "k3");
  EXPECT_EQ(types.status, 422);
  EXPECT_EQ(fields(types), (std::set<std::string>{"amount", "purpose", "size", "payer.shoe"}));
  auto amount = create(token_, body(0), "k4");
  EXPECT_EQ(fields(amount), std::set<std::string>{"amount"});
  auto text = client().request("POST", "/api/v1/payments", body(),
                               {{"Authorization", "Bearer " + token_},
                                {"Idempotency-Key", "k5"},
                                {"Content-Type", "text/plain"}});
  EXPECT_EQ(text.status, 415);
}

TEST_P(PaymentPages, ThePayerFollowsTheLinkOnceAndPaysByInvoice) {
  auto made = create(token_, body());
  auto o = parse(made.body);
  auto id = o->getValue<std::string>("paymentId");
  auto next = local(o->getObject("_links")->getObject("next_url")->getValue<std::string>("href"));
  auto payer = client();
  auto entered = payer.get(next);
  ASSERT_EQ(entered.status, 303);
  EXPECT_EQ(entered.header("location"), "/zahlung/" + id);
  auto page = payer.get("/zahlung/" + id);
  ASSERT_EQ(page.status, 200);
  EXPECT_NE(page.body.find("30,00 €"), std::string::npos);
  EXPECT_NE(page.body.find(o->getValue<std::string>("kassenzeichen")), std::string::npos);
  // The link works once; a stranger (or the same link later) gets nothing.
  auto stranger = client();
  EXPECT_EQ(stranger.get(next).status, 303);
  EXPECT_EQ(stranger.get("/zahlung/" + id).status, 404);
  EXPECT_EQ(stranger.get("/zahlung/" + id + "/ergebnis").status, 404);

  auto token = test::HttpClient::csrf_token_in(page.body);
  auto none = payer.post_form("/zahlung/" + id, {{"csrf_token", token}});
  ASSERT_EQ(none.status, 303);
  auto again = payer.get(none.header("location"));
  EXPECT_NE(again.body.find("Wählen Sie aus, wie Sie bezahlen möchten."), std::string::npos);
  EXPECT_EQ(payer.post_form("/zahlung/" + id, {{"method", "rechnung"}}).status, 403)
      << "no CSRF token";
  auto chosen = payer.post_form("/zahlung/" + id, {{"method", "rechnung"}, {"csrf_token", token}});
  ASSERT_EQ(chosen.status, 303);
  auto result = payer.get("/zahlung/" + id + "/ergebnis");
  ASSERT_EQ(result.status, 200);
  EXPECT_NE(result.body.find("Ihre Rechnung"), std::string::npos);
  EXPECT_NE(result.body.find("DE02 1203 0000 0000 2020 51"), std::string::npos);
  auto pdf = payer.get("/zahlung/" + id + "/rechnung.pdf");
  ASSERT_EQ(pdf.status, 200);
  EXPECT_EQ(pdf.header("content-type"), "application/pdf");
  EXPECT_TRUE(pdf.body.starts_with("%PDF-"));
  EXPECT_EQ(stranger.get("/zahlung/" + id + "/rechnung.pdf").status, 404);
  auto state = parse(get(token_, "/api/v1/payments/" + id).body);
  EXPECT_EQ(state->getObject("state")->getValue<std::string>("status"), "submitted");
  EXPECT_EQ(state->getValue<std::string>("method"), "invoice");
}

TEST_P(PaymentPages, StaffFindRefundAndReadTheJournalOfTheirOwnAuthority) {
  auto& payments = app_->get<Payments>();
  auto made = parse(create(token_, body()).body);
  auto id = made->getValue<std::string>("paymentId");
  auto kz = made->getValue<std::string>("kassenzeichen");
  ASSERT_TRUE(payments.invoice(id));

  EXPECT_EQ(client().get("/verwaltung/zahlungen").status, 303) << "anonymous: to the login";
  auto clerk = signed_in("sachbearbeitung@schwerin.example");
  auto found = clerk.get("/verwaltung/zahlungen?q=" + kz);
  ASSERT_EQ(found.status, 200);
  EXPECT_NE(found.body.find("/verwaltung/zahlungen/" + id), std::string::npos);
  EXPECT_NE(found.body.find("Stadt sn"), std::string::npos) << "the authority is named";
  auto order = clerk.get("/verwaltung/zahlungen/" + id);
  ASSERT_EQ(order.status, 200);
  EXPECT_EQ(order.body.find("/bezahlt"), std::string::npos) << "clerks only read";
  EXPECT_EQ(clerk
                .post_form("/verwaltung/zahlungen/" + id + "/bezahlt",
                           {{"csrf_token", test::HttpClient::csrf_token_in(order.body)}})
                .status,
            403);

  auto other = signed_in("kasse@wismar.example");
  EXPECT_EQ(other.get("/verwaltung/zahlungen/" + id).status, 404);
  EXPECT_EQ(other.get("/verwaltung/zahlungen?q=" + kz).body.find(id), std::string::npos);

  auto kasse = signed_in("kasse@schwerin.example");
  auto page = kasse.get("/verwaltung/zahlungen/" + id);
  auto token = test::HttpClient::csrf_token_in(page.body);
  EXPECT_EQ(other
                .post_form("/verwaltung/zahlungen/" + id + "/bezahlt",
                           {{"csrf_token", test::HttpClient::csrf_token_in(
                                               other.get("/verwaltung/zahlungen").body)}})
                .status,
            404);
  ASSERT_EQ(
      kasse.post_form("/verwaltung/zahlungen/" + id + "/bezahlt", {{"csrf_token", token}}).status,
      303);
  page = kasse.get("/verwaltung/zahlungen/" + id);
  EXPECT_NE(page.body.find("Die Zahlung ist als bezahlt markiert."), std::string::npos);
  auto too_much =
      kasse.post_form("/verwaltung/zahlungen/" + id + "/erstattung",
                      {{"amount", "30,01"}, {"reason", "zu viel"}, {"csrf_token", token}});
  EXPECT_EQ(too_much.status, 422);
  EXPECT_NE(too_much.body.find("höchstens so viel, wie bezahlt und noch nicht erstattet ist"),
            std::string::npos);
  auto garbled = kasse.post_form("/verwaltung/zahlungen/" + id + "/erstattung",
                                 {{"amount", "zwölf"}, {"reason", "x"}, {"csrf_token", token}});
  EXPECT_EQ(garbled.status, 422);
  EXPECT_NE(garbled.body.find("zum Beispiel 12,50"), std::string::npos);
  auto refunded = kasse.post_form(
      "/verwaltung/zahlungen/" + id + "/erstattung",
      {{"amount", "12,50"}, {"reason", enc("Teilerstattung")}, {"csrf_token", token}});
  ASSERT_EQ(refunded.status, 303);
  EXPECT_EQ(payments.get(id)->refunded_cents, 1250);

  auto journal = kasse.get("/verwaltung/zahlungen/journal?behoerde=sn");
  ASSERT_EQ(journal.status, 200);
  EXPECT_NE(journal.body.find("17,50 €"), std::string::npos) << "30,00 € paid less 12,50 €";
  EXPECT_EQ(kasse.get("/verwaltung/zahlungen/journal?behoerde=hwi").status, 404);
  auto day = core::format_day(core::berlin_day(core::SystemClock().now()));
  auto csv = kasse.get("/verwaltung/zahlungen/buchungen.csv?behoerde=sn&tag=" + day);
  ASSERT_EQ(csv.status, 200);
  EXPECT_NE(csv.body.find("\"" + kz + "\";30.00;EUR"), std::string::npos) << csv.body;
  EXPECT_NE(csv.body.find(";-12.50;EUR"), std::string::npos);
  EXPECT_EQ(other.get("/verwaltung/zahlungen/buchungen.csv?behoerde=sn&tag=" + day).status, 404);
}

TEST_P(PaymentPages, AnAuthorityAdminKeepsThePaymentAccount) {
  auto cashier = signed_in("kasse@schwerin.example");
  EXPECT_EQ(cashier.get("/verwaltung/zahlungen/konten").status, 403);
  auto admin = signed_in("verwaltung@schwerin.example");
  auto list = admin.get("/verwaltung/zahlungen/konten");
  ASSERT_EQ(list.status, 200);
  EXPECT_NE(list.body.find("Standesamt Schwerin"), std::string::npos);
  EXPECT_NE(list.body.find("noch nicht eingerichtet"), std::string::npos);
  EXPECT_EQ(admin.get("/verwaltung/zahlungen/konten/hwi").status, 404) << "Wismar's";
  auto form = admin.get("/verwaltung/zahlungen/konten/sn-standesamt");
  ASSERT_EQ(form.status, 200);
  auto token = test::HttpClient::csrf_token_in(form.body);
  auto bad = admin.post_form("/verwaltung/zahlungen/konten/sn-standesamt",
                             {{"payee", ""},
                              {"iban", "DE02120300000000202052"},
                              {"budgetPosition", "1.1"},
                              {"bookingAccount", "4321"},
                              {"kassenzeichen.pattern", enc("{N:6}{P}")},
                              {"check", "luhn"},
                              {"invoice", "1"},
                              {"invoiceDays", "14"},
                              {"csrf_token", token}});
  EXPECT_EQ(bad.status, 422);
  EXPECT_NE(bad.body.find("Geben Sie den Kontoinhaber an"), std::string::npos);
  EXPECT_NE(bad.body.find("Geben Sie eine gültige IBAN an"), std::string::npos);
  EXPECT_NE(bad.body.find("Das Muster braucht das Jahr"), std::string::npos);
  EXPECT_FALSE(app_->get<Payments>().account("sn-standesamt"));
  auto good = admin.post_form("/verwaltung/zahlungen/konten/sn-standesamt",
                              {{"payee", enc("Landeshauptstadt Schwerin")},
                               {"iban", enc("DE02 1203 0000 0000 2020 51")},
                               {"budgetPosition", "1.1"},
                               {"bookingAccount", "4321"},
                               {"kassenzeichen.pattern", enc("ST{YY}{N:6}{P}")},
                               {"check", "mod11"},
                               {"invoice", "1"},
                               {"invoiceDays", "30"},
                               {"csrf_token", token}});
  ASSERT_EQ(good.status, 303) << good.body;
  auto saved = app_->get<Payments>().account("sn-standesamt");
  ASSERT_TRUE(saved);
  EXPECT_EQ(saved->tenant_id, schwerin_);
  EXPECT_EQ(saved->authority_name, "Standesamt Schwerin");
  EXPECT_EQ(saved->iban, "DE02120300000000202051");
  EXPECT_EQ(saved->kassenzeichen.check, "mod11");
  EXPECT_EQ(saved->invoice_days, 30);
  EXPECT_EQ(create(token_, body(3000, "sn-standesamt"), "st1").status, 201);
  // Another tenant's admin cannot reach it.
  EXPECT_EQ(
      signed_in("kasse@wismar.example").get("/verwaltung/zahlungen/konten/sn-standesamt").status,
      403);
}

INSTANTIATE_TEST_SUITE_P(Backends, PaymentPages, ::testing::ValuesIn(test::backends()));

}  // namespace
}  // namespace mvsp::payments
