// The citizen's whole journey over HTTP (bench/applications.sh): N virtual citizens, each on
// its own keep-alive connection with its own cookies, apply again and again for a test online
// service of three form pages (name / address / dogs), one document rule (a 200 KB PDF, scanned
// by a real clamd), a fee per dog paid by invoice at the payment platform's payer page, check,
// submit, confirmation and the answers' PDF. The platform runs in process with its job workers
// on: the hand-over to cases opens a Vorgang per submitted application, and the bench waits
// until every submitted one is received before it counts them.
//   guest  start page, guest page, guest form POST, the link read from the mail (an SMTP sink
//          in process takes the platform's mail), then the Vorhaben
//   login  each citizen signs in ONCE (argon2 is deliberately slow) and keeps that session for
//          all its journeys, which begin at the start page's POST
// Every request is timed by its route (method and path pattern); the bench prints one line per
// route (count, p50, p99, max in ms) and a summary line.
// Usage: mvsp_bench_applications DATABASE-URL CLAMD-HOST:PORT guest|login SECONDS CITIZENS
//        [JOB-WORKERS]
#include <Poco/Net/HTTPClientSession.h>
#include <Poco/Net/HTTPCookie.h>
#include <Poco/Net/HTTPRequest.h>
#include <Poco/Net/HTTPResponse.h>
#include <Poco/Net/NameValueCollection.h>
#include <Poco/Net/ServerSocket.h>
#include <Poco/Net/StreamSocket.h>
#include <Poco/Net/TCPServer.h>
#include <Poco/Net/TCPServerConnection.h>
#include <Poco/Net/TCPServerConnectionFactory.h>
#include <Poco/StreamCopier.h>
#include <Poco/URI.h>
#include <fmt/format.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdio>
#include <filesystem>
#include <map>
#include <mutex>
#include <mvsp/catalog/catalog.hpp>
#include <mvsp/core/db.hpp>
#include <mvsp/core/log.hpp>
#include <mvsp/forms/forms.hpp>
#include <mvsp/identity/identity.hpp>
#include <mvsp/web/multipart.hpp>
#include <regex>
#include <string>
#include <thread>
#include <vector>

#include "app.hpp"
#include "settings.hpp"

namespace {

using Clock = std::chrono::steady_clock;

constexpr const char* kService = "bench-hunde-online";
constexpr const char* kPlace = "13004000";        // Schwerin
constexpr const char* kLeika = "99108008000000";  // Hundesteuer: sn-buergeramt
constexpr const char* kPassword = "ein langes Passwort 2026";

// Three pages: the holder, the address, the dogs (a group); the fee is counted per dog.
constexpr const char* kForm =
    R"({"format":"mvsp-form/1","key":"bench-hunde","title":"Benchformular Hunde",
  "language":"de","pages":[
  {"id":"halter","title":"Halter","questions":[{"id":"name","type":"name","label":"Ihr Name"}]},
  {"id":"adresse","title":"Anschrift","questions":[
    {"id":"anschrift","type":"address","label":"Ihre Anschrift"}]},
  {"id":"hunde","title":"Hunde","questions":[{"id":"hunde","type":"group","label":"Hunde",
    "itemLabel":"Hund","minCount":1,"maxCount":5,"questions":[
      {"id":"rufname","type":"text","label":"Name des Hundes","maxLength":60}]}]}]})";

// 200 KB that libmagic calls application/pdf and clamd calls clean: a minimal PDF, padded
// with a comment stream.
std::string upload_pdf() {
  std::string pdf =
      "%PDF-1.4\n1 0 obj\n<< /Type /Catalog >>\nendobj\n%" + std::string(200 * 1024 - 120, 'x');
  pdf += "\ntrailer\n<< /Root 1 0 R >>\n%%EOF\n";
  return pdf;
}

// ---- the mail: a minimal SMTP server that keeps each message's body by recipient ----------

class MailSink {
 public:
  void put(const std::string& to, std::string body) {
    {
      std::lock_guard lock(mutex_);
      mails_[to] = std::move(body);
    }
    arrived_.notify_all();
  }
  // The body of the mail to `to`, waited for up to `timeout`; taken out of the sink.
  std::optional<std::string> take(const std::string& to, std::chrono::seconds timeout) {
    std::unique_lock lock(mutex_);
    if (!arrived_.wait_for(lock, timeout, [&] { return mails_.contains(to); })) return {};
    auto body = std::move(mails_[to]);
    mails_.erase(to);
    return body;
  }
  std::atomic<long> received{0};

 private:
  std::mutex mutex_;
  std::condition_variable arrived_;
  std::map<std::string, std::string> mails_;
};

MailSink* g_sink = nullptr;

class SmtpConnection : public Poco::Net::TCPServerConnection {
 public:
  using TCPServerConnection::TCPServerConnection;
  void run() override {
    auto& s = socket();
    std::string buffer;
    auto line = [&]() -> std::optional<std::string> {
      for (;;) {
        auto eol = buffer.find("\r\n");
        if (eol != std::string::npos) {
          auto l = buffer.substr(0, eol);
          buffer.erase(0, eol + 2);
          return l;
        }
        char chunk[4096];
        int n = s.receiveBytes(chunk, sizeof chunk);
        if (n <= 0) return {};
        buffer.append(chunk, static_cast<std::size_t>(n));
      }
    };
    auto say = [&](const std::string& text) {
      auto out = text + "\r\n";
      s.sendBytes(out.data(), static_cast<int>(out.size()));
    };
    say("220 bench ESMTP");
    std::string to;
    while (auto l = line()) {
      auto upper = l->substr(0, 4);
      for (auto& c : upper) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
      if (upper == "EHLO" || upper == "HELO") {
        say("250 bench");
      } else if (upper == "RCPT") {
        auto lt = l->find('<');
        auto gt = l->find('>');
        to = l->substr(lt + 1, gt - lt - 1);
        say("250 OK");
      } else if (upper == "DATA") {
        say("354 go on");
        std::string data;
        while (auto d = line()) {
          if (*d == ".") break;
          data += *d + "\n";
        }
        // quoted-printable soft line breaks
        std::string body;
        for (std::size_t i = 0; i < data.size(); ++i) {
          if (data[i] == '=' && i + 1 < data.size() && data[i + 1] == '\n') {
            ++i;
            continue;
          }
          body += data[i];
        }
        g_sink->put(to, std::move(body));
        ++g_sink->received;
        say("250 OK");
      } else if (upper == "QUIT") {
        say("221 bye");
        return;
      } else {
        say("250 OK");
      }
    }
  }
};

// ---- latencies by route -----------------------------------------------------------------

struct Timings {
  std::map<std::string, std::vector<double>> ms;  // "GET /antrag/vorhaben/{id}" -> samples
  void merge(Timings&& other) {
    for (auto& [k, v] : other.ms) ms[k].insert(ms[k].end(), v.begin(), v.end());
  }
};

// The route pattern of a path: ids and tokens replaced, the query left off.
std::string route_of(const std::string& method, std::string path) {
  if (auto q = path.find('?'); q != std::string::npos) path.resize(q);
  static const std::vector<std::pair<std::regex, std::string>> kPatterns = {
      {std::regex("^/antrag/vorhaben/[^/]+"), "/antrag/vorhaben/{id}"},
      {std::regex("^/zahlung/[^/]+"), "/zahlung/{id}"},
  };
  for (const auto& [re, with] : kPatterns) path = std::regex_replace(path, re, with);
  return method + " " + path;
}

double percentile(std::vector<double>& v, double p) {
  if (v.empty()) return 0;
  auto k = static_cast<std::size_t>(p * static_cast<double>(v.size() - 1) + 0.5);
  std::nth_element(v.begin(), v.begin() + static_cast<std::ptrdiff_t>(k), v.end());
  return v[k];
}

// ---- a browser ----------------------------------------------------------------------------

struct Answer {
  int status = 0;
  std::string location;
  std::string body;
};

class Browser {
 public:
  Browser(int port, std::string address, Timings* timings)
      : session_("127.0.0.1", static_cast<Poco::UInt16>(port)),
        address_(std::move(address)),
        timings_(timings) {
    session_.setKeepAlive(true);
    // as a browser does: an idle connection is not reused after the server's 5 s
    session_.setKeepAliveTimeout(Poco::Timespan(4, 0));
    session_.setTimeout(Poco::Timespan(60, 0));
  }

  // A step that is no request, timed from `since`.
  void record(const std::string& what, Clock::time_point since) {
    if (timings_)
      timings_->ms[what].push_back(
          std::chrono::duration<double, std::milli>(Clock::now() - since).count());
  }

  // Where the following requests' latencies go (none: not measured).
  void measure_into(Timings* timings) { timings_ = timings; }

  Answer request(const std::string& method, const std::string& path, const std::string& body = {},
                 const std::string& content_type = {}) {
    Poco::Net::HTTPRequest req(method, path, Poco::Net::HTTPMessage::HTTP_1_1);
    req.setKeepAlive(true);
    req.set("X-Forwarded-For", address_);  // one client address per citizen (trusted proxy)
    if (!cookies_.empty()) {
      Poco::Net::NameValueCollection c;
      for (const auto& [k, v] : cookies_) c.add(k, v);
      req.setCookies(c);
    }
    if (!content_type.empty()) req.setContentType(content_type);
    if (method == "POST") req.setContentLength(static_cast<std::streamsize>(body.size()));
    Answer a;
    auto start = Clock::now();
    try {
      session_.sendRequest(req) << body;
      Poco::Net::HTTPResponse res;
      Poco::StreamCopier::copyToString(session_.receiveResponse(res), a.body);
      a.status = static_cast<int>(res.getStatus());
      a.location = res.get("Location", "");
      std::vector<Poco::Net::HTTPCookie> set;
      res.getCookies(set);
      for (const auto& c : set) {
        if (c.getMaxAge() == 0) {
          cookies_.erase(c.getName());
        } else {
          cookies_[c.getName()] = c.getValue();
        }
      }
    } catch (const Poco::Exception& e) {
      session_.reset();
      a.status = 599;
      a.body = e.displayText();
    }
    auto ms = std::chrono::duration<double, std::milli>(Clock::now() - start).count();
    if (timings_) timings_->ms[route_of(method, path)].push_back(ms);
    if (a.status == 200) page_ = a.body;
    // an absolute Location on the public URL: the path is enough here
    if (a.location.starts_with("http://")) a.location = a.location.substr(a.location.find('/', 7));
    return a;
  }

  Answer get(const std::string& path) { return request("GET", path); }

  // A form POST with the CSRF token of the last page shown.
  Answer post(const std::string& path, std::vector<std::pair<std::string, std::string>> fields) {
    fields.emplace_back("csrf_token", csrf());
    std::string body;
    for (const auto& [k, v] : fields) {
      std::string ek, ev;
      Poco::URI::encode(k, "&=+;/?:@,[]", ek);
      Poco::URI::encode(v, "&=+;/?:@,[]", ev);
      body += (body.empty() ? "" : "&") + ek + "=" + ev;
    }
    return request("POST", path, body, "application/x-www-form-urlencoded");
  }

  std::string csrf() const {
    static const std::regex kToken(R"re(name="csrf_token" value="([^"]+)")re");
    std::smatch m;
    return std::regex_search(page_, m, kToken) ? m[1].str() : std::string();
  }

 private:
  Poco::Net::HTTPClientSession session_;
  std::string address_;
  Timings* timings_;
  std::map<std::string, std::string> cookies_;
  std::string page_;  // the body of the last 200
};

// A failed step: what was asked and what came back.
struct Failed {
  std::string what;
};

void expect(const Answer& a, int status, const std::string& what) {
  if (a.status != status) {
    throw Failed{
        fmt::format("{}: HTTP {} (expected {}) {}", what, a.status, status, a.body.substr(0, 300))};
  }
}

// One whole application; the Vorhaben's path on success.
std::string journey(Browser& b, bool guest, const std::string& email, MailSink& mail,
                    const std::string& pdf) {
  const std::string service = std::string("/antrag/") + kService;
  expect(b.get(service + "?ort=" + kPlace), 200, "start page");
  std::string base;
  if (guest) {
    expect(b.get(service + "/gast?ort=" + kPlace), 200, "guest page");
    expect(b.post(service + "/gast", {{"email", email}, {"ort", kPlace}}), 200, "guest start");
    auto waited = Clock::now();
    auto body = mail.take(email, std::chrono::seconds(60));
    b.record("(the mail with the link arrives)", waited);
    if (!body) throw Failed{"no mail for " + email};
    // the link's token is in the query ("=" may come quoted-printable as "=3D")
    static const std::regex kLink(R"(/antrag/gast\?token(?:=3D|=)([A-Za-z0-9_-]+))");
    std::smatch m;
    if (!std::regex_search(*body, m, kLink)) throw Failed{"no link in the mail"};
    auto opened = b.get("/antrag/gast?token=" + m[1].str());
    expect(opened, 303, "guest link");
    base = opened.location;
  } else {
    auto started = b.post(service + "/starten", {{"ort", kPlace}});
    expect(started, 303, "start");
    base = started.location;
  }
  if (!base.starts_with("/antrag/vorhaben/")) throw Failed{"no Vorhaben: " + base};
  expect(b.get(base), 200, "task list");

  const std::vector<std::pair<std::string, std::vector<std::pair<std::string, std::string>>>>
      pages = {
          {"halter", {{"name.vorname", "Erika"}, {"name.nachname", "Mustermann"}}},
          {"adresse",
           {{"anschrift.strasse", "Am Markt"},
            {"anschrift.hausnummer", "1"},
            {"anschrift.plz", "19055"},
            {"anschrift.ort", "Schwerin"}}},
          {"hunde", {{"hunde", "2"}, {"hunde[0].rufname", "Bello"}, {"hunde[1].rufname", "Zora"}}}};
  for (const auto& [page, fields] : pages) {
    auto path = base + "/formular/" + page;
    expect(b.get(path), 200, "form page " + page);
    expect(b.post(path, fields), 303, "form POST " + page);
  }

  expect(b.get(base + "/unterlagen"), 200, "documents page");
  auto multipart = mvsp::web::build_multipart(
      {{.name = "csrf_token", .filename = {}, .content_type = {}, .body = b.csrf()},
       {.name = "unterlage", .filename = {}, .content_type = {}, .body = "0"},
       {.name = "datei",
        .filename = "nachweis.pdf",
        .content_type = "application/pdf",
        .body = pdf}});
  expect(b.request("POST", base + "/unterlagen", multipart.body, multipart.content_type), 303,
         "upload");

  expect(b.get(base), 200, "task list before paying");
  auto pay = b.post(base + "/bezahlen", {});
  expect(pay, 303, "bezahlen");
  auto granted = b.get(pay.location);  // the link's token grants this browser the order
  expect(granted, 303, "payment link");
  expect(b.get(granted.location), 200, "payer page");
  auto invoiced = b.post(granted.location, {{"method", "rechnung"}});
  expect(invoiced, 303, "invoice");
  expect(b.get(invoiced.location), 200, "back from the payment");

  expect(b.get(base + "/pruefen"), 200, "check page");
  auto submitted = b.post(base + "/absenden", {{"erklaerung", "ja"}});
  expect(submitted, 303, "submit");
  expect(b.get(submitted.location), 200, "confirmation");
  auto pdf_answer = b.get(base + "/antrag.pdf");
  expect(pdf_answer, 200, "PDF");
  if (!pdf_answer.body.starts_with("%PDF")) throw Failed{"the PDF is no PDF"};
  return base;
}

void sign_in(Browser& b, const std::string& email) {
  expect(b.get("/anmelden"), 200, "login page");
  expect(b.post("/anmelden", {{"email", email}, {"password", kPassword}}), 303, "login");
}

long count(mvsp::app::App& app, const std::string& sql) {
  return static_cast<long>(app.database().query_one(sql)->integer(0));
}

}  // namespace

int main(int argc, char** argv) {
  if (argc < 6) {
    std::fprintf(stderr,
                 "usage: mvsp_bench_applications DATABASE-URL CLAMD-HOST:PORT guest|login "
                 "SECONDS CITIZENS [JOB-WORKERS]\n");
    return 2;
  }
  mvsp::app::tune_allocator();  // as main() does
  mvsp::core::log::configure(mvsp::core::log::Level::warn, mvsp::core::log::Format::text);
  std::string url = argv[1];
  std::string clamd = argv[2];
  bool guest = std::string(argv[3]) == "guest";
  double seconds = std::atof(argv[4]);
  int citizens = std::atoi(argv[5]);
  int workers = argc > 6 ? std::atoi(argv[6]) : 2;
  // BENCH_DATA_DIR: where the data dir goes (default /tmp), e.g. a tmpfs to compare
  const char* parent = std::getenv("BENCH_DATA_DIR");
  std::string tmpl =
      std::string(parent && *parent ? parent : "/tmp") + "/mvsp-bench-applications.XXXXXX";
  std::filesystem::path dir = mkdtemp(tmpl.data());

  MailSink sink;
  g_sink = &sink;
  Poco::Net::ServerSocket smtp_socket(Poco::Net::SocketAddress("127.0.0.1", 0));
  Poco::Net::TCPServerParams::Ptr smtp_params = new Poco::Net::TCPServerParams;
  smtp_params->setMaxThreads(8);
  Poco::Net::TCPServer smtp(new Poco::Net::TCPServerConnectionFactoryImpl<SmtpConnection>(),
                            smtp_socket, smtp_params);
  smtp.start();

  mvsp::app::Settings s;
  s.database = url == "sqlite" ? "sqlite:" + (dir / "bench.db").string() : url;
  s.data_dir = dir;
  s.listen = "127.0.0.1:0";
  s.public_url = "http://127.0.0.1";
  s.master_key_hex = std::string(64, 'a');
  s.http.threads = 64;
  s.http.trusted_proxies = {"127.0.0.1"};  // the citizens' X-Forwarded-For is believed
  s.job_workers = workers;
  if (auto pool = std::getenv("BENCH_POOL_SIZE")) s.pool_size = std::atoi(pool);
  s.log_level = "warn";
  s.smtp_host = "127.0.0.1";
  s.smtp_port = smtp_socket.address().port();
  auto colon = clamd.rfind(':');
  s.clamav_host = clamd.substr(0, colon);
  s.clamav_port = std::atoi(clamd.substr(colon + 1).c_str());
  mvsp::app::App app(s);
  app.load_demo_data();

  // The online service: three pages, one document rule, 5 euros per dog, guests welcome.
  mvsp::catalog::Editor editor{.actor = "bench", .state_wide = true, .tenant_ids = {}};
  auto& forms = app.get<mvsp::forms::Forms>();
  if (!forms.save_draft(editor, "", kForm) || !forms.publish(editor, "bench-hunde")) {
    std::fprintf(stderr, "the form did not save\n");
    return 1;
  }
  mvsp::catalog::OnlineService os;
  os.id = kService;
  os.leika_key = kLeika;
  os.name = "Hunde anmelden (Bench)";
  os.config.documents = {{.name = "Nachweis",
                          .types = {"application/pdf", "image/png"},
                          .max_bytes = 1024 * 1024,
                          .required = true,
                          .multiple = true}};
  os.config.fee_per_unit_cents = 500;
  os.config.fee_unit_field = "hunde";
  os.config.guest_access = true;
  os.config.min_level = "low";
  os.config.draft_days = 30;
  os.config.reminder_days = 7;
  os.config.retention_days = 90;
  os.config.form = "bench-hunde";
  os.config.form_version = 1;
  auto& catalog = app.get<mvsp::catalog::Catalog>();
  auto saved = catalog.put_online_service(editor, os);
  if (!saved || !catalog.publish(editor, kService, "test") ||
      !catalog.publish(editor, kService, "production") ||
      !catalog.adopt(editor, kService, "sn-buergeramt")) {
    std::fprintf(stderr, "the online service did not save\n");
    return 1;
  }
  if (!guest) {
    auto& identity = app.get<mvsp::identity::Identity>();
    for (int i = 0; i < citizens; ++i) {
      auto a = identity.accounts.create_account({.email = fmt::format("buerger{}@example.org", i),
                                                 .password = kPassword,
                                                 .given_name = "Erika",
                                                 .family_name = "Mustermann",
                                                 .verified = true},
                                                "bench");
      if (!a) {
        std::fprintf(stderr, "account: %s\n", a.error().message.c_str());
        return 1;
      }
    }
  }
  app.start();
  int port = app.port();
  const auto pdf = upload_pdf();

  // The citizens: sign in once (login), then journeys until the time is up.
  std::vector<Timings> timings(static_cast<std::size_t>(citizens));
  std::atomic<long> done{0};
  std::atomic<long> failed{0};
  std::atomic<int> ready{0};
  std::atomic<bool> go{false};
  Clock::time_point start, deadline;
  std::vector<std::thread> pool;
  for (int t = 0; t < citizens; ++t) {
    pool.emplace_back([&, t] {
      Timings& mine = timings[static_cast<std::size_t>(t)];
      // the signed-in person: one browser, one login (not measured), kept for every journey
      Browser person(port, fmt::format("10.{}.0.1", t), nullptr);
      try {
        if (!guest) sign_in(person, fmt::format("buerger{}@example.org", t));
      } catch (const Failed& f) {
        std::fprintf(stderr, "citizen %d: %s\n", t, f.what.c_str());
      }
      person.measure_into(&mine);
      ++ready;
      while (!go) std::this_thread::sleep_for(std::chrono::milliseconds(1));
      for (long j = 0; Clock::now() < deadline; ++j) {
        auto email = fmt::format("gast{}-{}@example.org", t, j);
        try {
          if (guest) {
            // a guest is a new person each time: own client address, own browser (connection)
            Browser fresh(port, fmt::format("10.{}.{}.{}", t, (j >> 8) & 255, j & 255), &mine);
            journey(fresh, true, email, sink, pdf);
          } else {
            journey(person, false, email, sink, pdf);
          }
          ++done;
        } catch (const Failed& f) {
          if (failed++ < 5) std::fprintf(stderr, "citizen %d: %s\n", t, f.what.c_str());
        }
      }
    });
  }
  while (ready < citizens) std::this_thread::sleep_for(std::chrono::milliseconds(10));
  start = Clock::now();
  deadline =
      start + std::chrono::duration_cast<Clock::duration>(std::chrono::duration<double>(seconds));
  go = true;
  for (auto& t : pool) t.join();
  auto elapsed = std::chrono::duration<double>(Clock::now() - start).count();

  // The hand-over: every submitted application received, a Vorgang each.
  auto drain_start = Clock::now();
  while (workers > 0 &&
         count(app, "SELECT COUNT(*) FROM applications WHERE status = 'submitted'") > 0 &&
         Clock::now() - drain_start < std::chrono::minutes(10)) {
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
  }
  auto drain = std::chrono::duration<double>(Clock::now() - drain_start).count();
  auto received = count(app, "SELECT COUNT(*) FROM applications WHERE status = 'received'");
  auto vorgaenge = count(app, "SELECT COUNT(*) FROM cases");
  app.stop();
  smtp.stop();
  std::filesystem::remove_all(dir);

  Timings all;
  for (auto& t : timings) all.merge(std::move(t));
  double worst_p99 = 0;
  for (auto& [route, v] : all.ms) {
    if (route.starts_with("(")) {  // not a page: its p99 is no page's
      std::printf("step route=%s count=%zu p50=%.1f p99=%.1f max=%.1f\n", route.c_str(), v.size(),
                  percentile(v, 0.50), percentile(v, 0.99), *std::max_element(v.begin(), v.end()));
      continue;
    }
    auto p50 = percentile(v, 0.50);
    auto p99 = percentile(v, 0.99);
    auto max = *std::max_element(v.begin(), v.end());
    worst_p99 = std::max(worst_p99, p99);
    std::printf("page route=%s count=%zu p50=%.1f p99=%.1f max=%.1f\n", route.c_str(), v.size(),
                p50, p99, max);
  }
  std::printf(
      "variant=%s citizens=%d seconds=%.1f journeys=%ld failed=%ld journeys_per_second=%.1f "
      "drain_seconds=%.1f with_handover_per_second=%.1f received=%ld vorgaenge=%ld "
      "worst_p99=%.1f mails=%ld\n",
      guest ? "guest" : "login", citizens, elapsed, done.load(), failed.load(), done / elapsed,
      drain, done / (elapsed + drain), received, vorgaenge, worst_p99, sink.received.load());
  return failed == 0 && vorgaenge == done && received == done ? 0 : 1;
}
