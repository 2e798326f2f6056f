// The payment platform over HTTP: payment orders created per second through the API
// (POST /api/v1/payments with an Idempotency-Key, from N client threads), then provider
// notifications handled per second (signed pushes to /zahlung/benachrichtigung/{provider},
// each moving an order to paid), then the same pushes again (duplicates: checked, changing
// nothing). The orders are started at the payment SIMULATOR in between (not measured).
// Usage: mvsp_bench_payments DATABASE-URL ORDERS CLIENT-THREADS
#include <Poco/JSON/Object.h>
#include <Poco/JSON/Parser.h>
#include <Poco/Net/HTTPClientSession.h>
#include <Poco/Net/HTTPRequest.h>
#include <Poco/Net/HTTPResponse.h>
#include <Poco/StreamCopier.h>
#include <fmt/format.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <cstdio>
#include <filesystem>
#include <mvsp/core/clock.hpp>
#include <mvsp/core/crypto.hpp>
#include <mvsp/core/log.hpp>
#include <mvsp/identity/identity.hpp>
#include <mvsp/identity/oidc.hpp>
#include <mvsp/payments/payments.hpp>
#include <mvsp/payments/simulator.hpp>
#include <thread>
#include <vector>

#include "app.hpp"

namespace {

constexpr const char* kSecret = "bench-notification-secret";

std::pair<int, std::string> send(Poco::Net::HTTPClientSession& session, const std::string& method,
                                 const std::string& path, const std::string& body,
                                 const std::vector<std::pair<std::string, std::string>>& headers) {
  Poco::Net::HTTPRequest req(method, path, Poco::Net::HTTPMessage::HTTP_1_1);
  for (const auto& [k, v] : headers) req.set(k, v);
  req.setContentLength(static_cast<std::streamsize>(body.size()));
  req.setKeepAlive(true);
  session.sendRequest(req) << body;
  Poco::Net::HTTPResponse res;
  std::string text;
  Poco::StreamCopier::copyToString(session.receiveResponse(res), text);
  return {static_cast<int>(res.getStatus()), text};
}

// Runs `work(i)` for i in [0, n) on `threads` threads, each with its own keep-alive
// session; returns the seconds it took and counts answers other than `expected`.
template <class F>
double run(int port, int n, int threads, int expected, F work) {
  std::atomic<int> next{0};
  std::atomic<int> failed{0};
  auto start = std::chrono::steady_clock::now();
  std::vector<std::thread> pool;
  for (int t = 0; t < threads; ++t) {
    pool.emplace_back([&] {
      Poco::Net::HTTPClientSession session("127.0.0.1", static_cast<Poco::UInt16>(port));
      for (int i = next++; i < n; i = next++) {
        auto [code, text] = work(session, i);
        if (code != expected && failed++ < 3)
          std::fprintf(stderr, "HTTP %d %s\n", code, text.c_str());
      }
    });
  }
  for (auto& t : pool) t.join();
  if (failed > 0) std::fprintf(stderr, "%d requests failed\n", failed.load());
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
}

}  // namespace

int main(int argc, char** argv) {
  if (argc != 4) {
    std::fprintf(stderr, "usage: mvsp_bench_payments DATABASE-URL ORDERS CLIENT-THREADS\n");
    return 2;
  }
  mvsp::app::tune_allocator();  // as main() does
  // As `mvsp serve` with log.level = "warn": no line per request.
  mvsp::core::log::configure(mvsp::core::log::Level::warn, mvsp::core::log::Format::text);
  std::string url = argv[1];
  int orders = std::atoi(argv[2]);
  int threads = std::atoi(argv[3]);
  char tmpl[] = "/tmp/mvsp-bench-payments.XXXXXX";
  std::filesystem::path dir = mkdtemp(tmpl);

  mvsp::core::SystemClock clock;
  mvsp::payments::PaymentSimulator simulator({}, mvsp::app::system_ports());
  simulator.start();

  mvsp::app::Settings s;
  s.database = url == "sqlite" ? "sqlite:" + (dir / "bench.db").string() : url;
  s.data_dir = dir;
  s.listen = "127.0.0.1:0";
  s.public_url = "http://127.0.0.1";
  s.master_key_hex = std::string(64, 'a');
  s.http.threads = 64;
  s.job_workers = 0;
  s.log_level = "warn";
  s.config_text += fmt::format(
      "[payments.providers.bench]\nbase_url = \"{}\"\noriginator_id = \"mvsp-bench\"\n"
      "extensions = true\nnotification_secret = \"{}\"\n",
      simulator.base_url(), kSecret);
  mvsp::app::App app(s);
  app.start();
  int port = app.port();
  auto& payments = app.get<mvsp::payments::Payments>();
  auto tenant = app.get<mvsp::identity::Identity>().staff.create_tenant("Stadt", "bench");
  auto saved = payments.save_account({.authority_id = "sn",
                                      .tenant_id = tenant->id,
                                      .authority_name = "Stadt",
                                      .payee = "Stadtkasse",
                                      .iban = "DE02120300000000202051",
                                      .budget_position = "1.1.2.01",
                                      .booking_account = "43210000",
                                      .kassenzeichen = {"{YY}{N:8}{P}", "luhn"},
                                      .provider = "bench",
                                      .endpoint_id = "13004000",
                                      .invoice = true},
                                     "bench");
  if (!saved) {
    std::fprintf(stderr, "account: %s\n", saved.error().message.c_str());
    return 1;
  }
  auto client = app.get<mvsp::identity::Provider>().create_client({.name = "Onlinedienst",
                                                                   .scopes = {"payments:write"},
                                                                   .grants = {"client_credentials"},
                                                                   .tenant_id = tenant->id},
                                                                  "bench");
  Poco::Net::HTTPClientSession session("127.0.0.1", static_cast<Poco::UInt16>(port));
  auto [status, body] = send(
      session, "POST", "/api/v1/oidc/token",
      "grant_type=client_credentials&scope=payments%3Awrite&client_id=" + client->client.client_id +
          "&client_secret=" + client->client_secret,
      {{"Content-Type", "application/x-www-form-urlencoded"}});
  auto token =
      Poco::JSON::Parser().parse(body).extract<Poco::JSON::Object::Ptr>()->getValue<std::string>(
          "access_token");

  std::vector<std::string> ids_made(static_cast<std::size_t>(orders));
  auto create_seconds =
      run(port, orders, threads, 201, [&](Poco::Net::HTTPClientSession& session, int i) {
        auto answer = send(
            session, "POST", "/api/v1/payments",
            fmt::format(R"({{"authority":"sn","amount":3000,"purpose":"Bewohnerparkausweis {}",)"
                        R"("reference":"MV-{}","returnUrl":"https://dienst.example/fertig",)"
                        R"("payer":{{"name":"Mustermann","firstName":"Erika"}}}})",
                        i, i),
            {{"Content-Type", "application/json"},
             {"Authorization", "Bearer " + token},
             {"Idempotency-Key", fmt::format("bench-{}", i)}});
        if (answer.first == 201) {
          ids_made[static_cast<std::size_t>(i)] = Poco::JSON::Parser()
                                                      .parse(answer.second)
                                                      .extract<Poco::JSON::Object::Ptr>()
                                                      ->getValue<std::string>("paymentId");
        }
        return answer;
      });
  std::fprintf(stderr, "created %d orders in %.2f s; starting them at the simulator\n", orders,
               create_seconds);

  // Each order to the simulator (as the payer's "pay online" does), in parallel.
  std::vector<std::string> pushes(static_cast<std::size_t>(orders));
  {
    std::atomic<int> next{0};
    std::vector<std::thread> pool;
    for (int t = 0; t < threads; ++t) {
      pool.emplace_back([&] {
        for (int i = next++; i < orders; i = next++) {
          const auto& id = ids_made[static_cast<std::size_t>(i)];
          if (id.empty() || !payments.start(id, "http://127.0.0.1/zahlung/" + id + "/zurueck")) {
            continue;
          }
          auto tx = payments.get(id)->provider_transaction;
          auto dot = tx.find('.');
          pushes[static_cast<std::size_t>(i)] = fmt::format(
              R"({{"originatorId":"mvsp-bench","endPointId":"{}","transactionId":"{}",)"
              R"("status":"PAYED","paymentMethod":"CREDITCARD","transactionReference":"R{}"}})",
              tx.substr(0, dot), tx.substr(dot + 1), i);
        }
      });
    }
    for (auto& t : pool) t.join();
  }
  auto push = [&](Poco::Net::HTTPClientSession& session, int i) {
    const auto& body = pushes[static_cast<std::size_t>(i)];
    auto ts = std::to_string(
        std::chrono::duration_cast<std::chrono::seconds>(clock.now().time_since_epoch()).count());
    auto signature =
        mvsp::core::crypto::to_hex(mvsp::core::crypto::hmac_sha256(kSecret, ts + "." + body));
    return send(session, "POST", "/zahlung/benachrichtigung/bench", body,
                {{"Content-Type", "application/json"},
                 {"X-Payment-Timestamp", ts},
                 {"X-Payment-Signature", "v1=" + signature}});
  };
  auto notify_seconds = run(port, orders, threads, 204, push);
  auto duplicate_seconds = run(port, orders, threads, 204, push);
  auto paid = payments.counts()["success"];
  app.stop();
  simulator.stop();
  std::filesystem::remove_all(dir);
  std::printf(
      "orders=%d threads=%d created_per_second=%.0f notifications_per_second=%.0f "
      "duplicates_per_second=%.0f paid=%lld\n",
      orders, threads, orders / create_seconds, orders / notify_seconds, orders / duplicate_seconds,
      static_cast<long long>(paid));
  return paid == orders ? 0 : 1;
}
