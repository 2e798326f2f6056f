// The delivery service's throughput into our own mailbox, over HTTP like a back office:
// notices accepted per second (POST /api/v1/notices, multipart with a PDF, from N client
// threads, job workers off), then delivered with storage receipt per second (an instance
// with job workers delivers everything that was accepted).
// Usage: mvsp_bench_delivery DATABASE-URL NOTICES CLIENT-THREADS WORKERS
#include <Poco/JSON/Object.h>
#include <Poco/JSON/Parser.h>
#include <Poco/Net/HTTPClientSession.h>
#include <Poco/Net/HTTPRequest.h>
#include <Poco/Net/HTTPResponse.h>
#include <Poco/StreamCopier.h>
#include <fmt/format.h>
#include <sys/resource.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <cstdio>
#include <filesystem>
#include <mvsp/core/db.hpp>
#include <mvsp/identity/identity.hpp>
#include <mvsp/identity/oidc.hpp>
#include <mvsp/web/http.hpp>
#include <mvsp/web/multipart.hpp>
#include <thread>
#include <vector>

#include "app.hpp"

namespace {

// CPU seconds this process used so far (all threads, user and system).
double cpu_seconds() {
  rusage u{};
  getrusage(RUSAGE_SELF, &u);
  auto secs = [](const timeval& t) { return static_cast<double>(t.tv_sec) + t.tv_usec / 1e6; };
  return secs(u.ru_utime) + secs(u.ru_stime);
}

std::pair<int, std::string> send(int port, const std::string& method, const std::string& path,
                                 const std::string& body,
                                 const std::vector<std::pair<std::string, std::string>>& headers,
                                 Poco::Net::HTTPClientSession& session) {
  Poco::Net::HTTPRequest req(method, path, Poco::Net::HTTPMessage::HTTP_1_1);
  for (const auto& [k, v] : headers) req.set(k, v);
  req.setContentLength(static_cast<std::streamsize>(body.size()));
  req.setKeepAlive(true);
  session.sendRequest(req) << body;
  Poco::Net::HTTPResponse res;
  std::string text;
  Poco::StreamCopier::copyToString(session.receiveResponse(res), text);
  (void)port;
  return {static_cast<int>(res.getStatus()), text};
}

}  // namespace

int main(int argc, char** argv) {
  if (argc != 5) {
    std::fprintf(stderr,
                 "usage: mvsp_bench_delivery DATABASE-URL NOTICES CLIENT-THREADS WORKERS\n");
    return 2;
  }
  mvsp::app::tune_allocator();  // as main() does
  std::string url = argv[1];
  int notices = std::atoi(argv[2]);
  int threads = std::atoi(argv[3]);
  int workers = std::atoi(argv[4]);
  char tmpl[] = "/tmp/mvsp-bench-delivery.XXXXXX";
  std::filesystem::path dir = mkdtemp(tmpl);
  mvsp::app::Settings s;
  s.database = url == "sqlite" ? "sqlite:" + (dir / "bench.db").string() : url;
  s.data_dir = dir;
  s.listen = "127.0.0.1:0";
  s.public_url = "http://127.0.0.1";
  s.master_key_hex = std::string(64, 'a');
  s.http.threads = 64;
  s.config_text +=
      "[delivery]\nrate_per_second = 100000\nburst = 100000\ndaily_quota = 100000000\n";
  s.log_level = "warn";
  std::string citizen, token;
  double accept_seconds = 0;
  {
    s.job_workers = 0;
    mvsp::app::App app(s);
    app.start();
    int port = app.port();
    auto tenant = app.get<mvsp::identity::Identity>().staff.create_tenant(
        "Landeshauptstadt Schwerin", "bench");
    auto account = app.get<mvsp::identity::Identity>().accounts.create_account(
        {.email = "erika@example.org", .password = "Sehr-geheimes-Passwort-1", .verified = true},
        "bench");
    auto client = app.get<mvsp::identity::Provider>().create_client(
        {.name = "Fachverfahren",
         .scopes = {"notices:write", "notices:read"},
         .grants = {"client_credentials"},
         .tenant_id = tenant->id},
        "bench");
    citizen = account->id;
    Poco::Net::HTTPClientSession session("127.0.0.1", static_cast<Poco::UInt16>(port));
    auto [status, body] =
        send(port, "POST", "/api/v1/oidc/token",
             "grant_type=client_credentials&scope=notices%3Awrite&client_id=" +
                 client->client.client_id + "&client_secret=" + client->client_secret,
             {{"Content-Type", "application/x-www-form-urlencoded"}}, session);
    token =
        Poco::JSON::Parser().parse(body).extract<Poco::JSON::Object::Ptr>()->getValue<std::string>(
            "access_token");
    // A small real-sized PDF stand-in: 60 KB.
    std::string pdf = "%PDF-1.7\n" + std::string(60 * 1024, 'x') + "\n%%EOF\n";
    std::atomic<int> next{0};
    std::atomic<int> failed{0};
    auto start = std::chrono::steady_clock::now();
    std::vector<std::thread> pool;
    for (int t = 0; t < threads; ++t) {
      pool.emplace_back([&] {
        Poco::Net::HTTPClientSession session("127.0.0.1", static_cast<Poco::UInt16>(port));
        for (int i = next++; i < notices; i = next++) {
          auto body = mvsp::web::build_multipart(
              {{"metadata", "", "application/json",
                fmt::format(R"({{"recipient":"mvsp:{}","subject":"Bescheid {}","body":"Anbei.",)"
                            R"("requiredTrustLevel":"low","reference":"AZ-{}"}})",
                            citizen, i, i)},
               {"document", "bescheid.pdf", "application/pdf", pdf}});
          auto [code, text] = send(port, "POST", "/api/v1/notices", body.body,
                                   {{"Content-Type", body.content_type},
                                    {"Authorization", "Bearer " + token},
                                    {"Idempotency-Key", fmt::format("bench-{}", i)}},
                                   session);
          if (code != 201) {
            if (failed++ < 3) std::fprintf(stderr, "HTTP %d %s\n", code, text.c_str());
          }
        }
      });
    }
    for (auto& t : pool) t.join();
    accept_seconds =
        std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
    if (failed > 0) std::fprintf(stderr, "%d requests failed\n", failed.load());
    app.stop();
  }
  std::fprintf(stderr, "accepted %d notices in %.1f s; delivering\n", notices, accept_seconds);
  s.job_workers = workers;
  mvsp::app::App app(s);
  auto start = std::chrono::steady_clock::now();
  auto cpu_start = cpu_seconds();
  app.start();
  std::int64_t stored = 0;
  while (stored < notices) {
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
    stored = app.database()
                 .query_one("SELECT COUNT(*) FROM delivery_notices WHERE status = 'stored'")
                 ->integer(0);
  }
  double deliver_seconds =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  double deliver_cpu = cpu_seconds() - cpu_start;
  app.stop();
  std::printf(
      "backend=%s notices=%d client_threads=%d accepted_per_second=%.0f workers=%d "
      "delivered_per_second=%.0f cpu_ms_per_delivery=%.2f\n",
      url == "sqlite" ? "sqlite" : "postgresql", notices, threads, notices / accept_seconds,
      workers, notices / deliver_seconds, deliver_cpu * 1000 / notices);
  std::filesystem::remove_all(dir);
  return 0;
}
