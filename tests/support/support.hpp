#pragma once
// Test support: injected time and ids, a fresh database per test on SQLite or
// PostgreSQL, and the whole server in-process on port 0 with an HTTP client.

#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <filesystem>
#include <map>
#include <memory>
#include <mvsp/core/clock.hpp>
#include <mvsp/core/db.hpp>
#include <mvsp/core/ids.hpp>
#include <mvsp/core/virus_scan.hpp>
#include <mvsp/web/ports.hpp>
#include <string>
#include <vector>

namespace mvsp::app {
class App;
struct Settings;
}  // namespace mvsp::app

namespace mvsp::test {

// A clock that moves only when told.
class ManualClock final : public core::Clock {
 public:
  explicit ManualClock(core::TimePoint start = core::from_millis(1'790'000'000'000))
      : now_(start.time_since_epoch().count()) {}
  core::TimePoint now() const override { return core::from_millis(now_.load()); }
  void advance(std::chrono::milliseconds d) { now_ += d.count(); }

 private:
  std::atomic<std::int64_t> now_;
};

// Ids that count up: "k000…001", "MV-00000-…".
class SequenceIds final : public core::IdGenerator {
 public:
  std::string key() override;
  std::string public_id(std::string_view prefix) override;

 private:
  std::atomic<int> next_{0};
};

// A fresh temporary directory, removed afterwards.
class TempDir {
 public:
  TempDir();
  ~TempDir();
  const std::filesystem::path& path() const { return path_; }

 private:
  std::filesystem::path path_;
};

// What a shell command writes to its standard output (the PDF tests read files back with
// poppler and qpdf); empty when it cannot be started.
std::string output_of(const std::string& command);

// The documents of a blob store under `root`: its files, without unfinished writes (tmp).
std::vector<std::filesystem::path> stored_files(const std::filesystem::path& root);

// "sqlite" or "postgresql": the backends a store contract test runs on.
std::vector<std::string> backends();

// A fresh, empty database: a new SQLite file, or a new schema on the test PostgreSQL
// (MVSP_TEST_POSTGRES). Skips the test when PostgreSQL is asked for but not configured,
// unless MVSP_REQUIRE_POSTGRES=1 (make check), where it fails.
class TestDatabase {
 public:
  explicit TestDatabase(const std::string& backend);
  ~TestDatabase();
  const std::string& url() const { return url_; }
  bool available() const { return !url_.empty(); }
  core::db::Database& db();
  // Database and schema migrated with every component's migrations.
  void migrate(const core::Clock& clock);

 private:
  std::string backend_;
  std::string url_;
  std::string schema_;
  std::unique_ptr<TempDir> dir_;
  std::unique_ptr<core::db::Database> db_;
};

// Base for tests parameterised over the backends.
class BackendTest : public ::testing::TestWithParam<std::string> {
 protected:
  void SetUp() override;
  std::unique_ptr<TestDatabase> database_;
  core::db::Database& db() { return database_->db(); }
};

struct HttpResponse {
  int status = 0;
  std::multimap<std::string, std::string> headers;  // names in lower case
  std::string body;
  std::string header(const std::string& name) const;
};

// A browser-like client: keeps cookies, reads CSRF tokens from pages.
class HttpClient {
 public:
  explicit HttpClient(int port) : port_(port) {}
  HttpResponse get(const std::string& path, std::map<std::string, std::string> headers = {});
  HttpResponse head(const std::string& path);
  HttpResponse post_form(const std::string& path,
                         const std::vector<std::pair<std::string, std::string>>& fields);
  HttpResponse request(const std::string& method, const std::string& path, const std::string& body,
                       std::map<std::string, std::string> headers);
  // The value of the hidden csrf_token field in an HTML page.
  static std::string csrf_token_in(const std::string& html);
  std::map<std::string, std::string>& cookies() { return cookies_; }

 private:
  int port_;
  std::map<std::string, std::string> cookies_;
};

// The whole platform in-process on 127.0.0.1:0 with a fresh database of the backend.
class ServerTest : public BackendTest {
 protected:
  void SetUp() override;
  void TearDown() override;
  // Override to change settings before the App is built.
  virtual void configure(app::Settings&) {}
  // Override to add routes before the server starts.
  virtual void add_routes(app::App&) {}
  // Override to give the App other ports (a manual clock); the real ones by default.
  virtual const web::Ports& ports();
  HttpClient client() { return HttpClient(port_); }

  std::unique_ptr<TempDir> data_dir_;
  std::unique_ptr<app::App> app_;
  int port_ = 0;
};

// Sends `request` byte for byte (no client library in between to normalise it) and returns
// what the server answered: everything up to the end of the first response, the connection's
// close, or `timeout` of silence. An empty string means no answer in time.
std::string raw_http(int port, const std::string& request,
                     std::chrono::milliseconds timeout = std::chrono::seconds(5));
// The status code of a raw answer, 0 when there is none.
int raw_status(const std::string& answer);

// A real SMTP server on 127.0.0.1 (tests/support/smtp_sink.py, Debian's aiosmtpd) that
// keeps every mail it receives.
class SmtpSink {
 public:
  SmtpSink();
  ~SmtpSink();
  int port() const { return port_; }
  struct Mail {
    std::string to;
    std::string subject;
    std::string body;
  };
  // Waits until at least `count` mails arrived (up to 20 s) and returns all of them.
  std::vector<Mail> wait_for(std::size_t count);
  // Mails to `address` are held from now on: the sink never answers their DATA, so they
  // are not accepted. held() waits (up to 20 s) until one to `address` hangs there.
  void hold(const std::string& address);
  bool held(const std::string& address);
  void release_all();

 private:
  TempDir dir_;
  int pid_ = -1;
  int port_ = 0;
};

// A real clamd on 127.0.0.1 for the tests: the one MVSP_TEST_CLAMD names (HOST:PORT of one
// that scripts/test-clamd started, for its database and limits; make check starts it), else
// one this test binary starts once with scripts/test-clamd on a free port and stops when it
// exits. Its database knows the EICAR test file only. Skips the test when clamd is not installed,
// unless MVSP_REQUIRE_CLAMD=1 (make check), where it fails.
class ClamdTest : public ::testing::Test {
 protected:
  void SetUp() override;
  core::ClamdOptions clamd_;
};

// The same for any test: fills `clamd` (or skips or fails the test as above; the caller
// checks IsSkipped() and HasFatalFailure()).
void use_test_clamd(core::ClamdOptions& clamd);

// A port on 127.0.0.1 that nothing listens on (free a moment ago).
int unused_port();

// The built binary, for tests that run `mvsp` as a process.
std::string mvsp_binary();
// The checkout the tests were built from.
std::string source_dir();
// The shared reference data the interfaces are tested against (the xdomea XSDs, XDatenfelder
// files: artifacts no one here wrote, kept outside the repository): MVSP_REFERENCE_DIR, else
// ../shared/reference beside the checkout.
std::string reference_dir();
// Whether `path` below reference_dir() is there. When it is not: a failure of the test with
// MVSP_REQUIRE_REFERENCE=1 (scripts/check sets it when it finds the data, so CI never skips),
// else a note on stderr; the caller skips what needs it.
bool reference_available(const std::string& path);

}  // namespace mvsp::test
