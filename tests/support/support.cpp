#include "support.hpp"

#include <Poco/JSON/Array.h>
#include <Poco/JSON/Object.h>
#include <Poco/JSON/Parser.h>
#include <Poco/Net/HTTPClientSession.h>
#include <Poco/Net/HTTPRequest.h>
#include <Poco/Net/HTTPResponse.h>
#include <Poco/Net/NetException.h>
#include <Poco/Net/ServerSocket.h>
#include <Poco/Net/StreamSocket.h>
#include <Poco/StreamCopier.h>
#include <fcntl.h>
#include <fmt/format.h>
#include <signal.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <array>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <mutex>
#include <mvsp/core/crypto.hpp>
#include <mvsp/core/migrations.hpp>
#include <regex>
#include <sstream>
#include <thread>

#include "app.hpp"
#include "settings.hpp"

extern char** environ;

namespace mvsp::test {
namespace fs = std::filesystem;

std::string SequenceIds::key() {
  return fmt::format("k{:025d}", ++next_);
}

std::string SequenceIds::public_id(std::string_view prefix) {
  return core::make_public_id(prefix, fmt::format("{:012d}", ++next_));
}

std::string output_of(const std::string& command) {
  std::string out;
  std::unique_ptr<FILE, int (*)(FILE*)> pipe(popen(command.c_str(), "r"), pclose);
  if (!pipe) return out;
  std::array<char, 4096> buffer{};
  while (auto n = fread(buffer.data(), 1, buffer.size(), pipe.get())) out.append(buffer.data(), n);
  return out;
}

TempDir::TempDir() {
  core::crypto::init();
  path_ = fs::temp_directory_path() /
          ("mvsp-test-" + core::crypto::to_hex(core::crypto::random_bytes(8)));
  fs::create_directories(path_);
}

TempDir::~TempDir() {
  std::error_code ec;
  fs::remove_all(path_, ec);
}

std::vector<fs::path> stored_files(const fs::path& root) {
  std::vector<fs::path> out;
  for (const auto& e : fs::recursive_directory_iterator(root)) {
    if (e.is_regular_file() && e.path().parent_path().filename() != "tmp") out.push_back(e.path());
  }
  return out;
}

std::vector<std::string> backends() {
  return {"sqlite", "postgresql"};
}

TestDatabase::TestDatabase(const std::string& backend) : backend_(backend) {
  core::crypto::init();
  if (backend == "sqlite") {
    dir_ = std::make_unique<TempDir>();
    url_ = "sqlite:" + (dir_->path() / "test.db").string();
    return;
  }
  const char* base = std::getenv("MVSP_TEST_POSTGRES");
  if (!base || !*base) return;
  schema_ = "t_" + core::crypto::to_hex(core::crypto::random_bytes(6));
  auto admin = core::db::Database::open(base, {.size = 1});
  admin->execute(fmt::format("CREATE SCHEMA {}", schema_));
  std::string b(base);
  url_ =
      b + (b.find('?') == std::string::npos ? "?" : "&") + "options=-c%20search_path%3D" + schema_;
}

TestDatabase::~TestDatabase() {
  db_.reset();
  if (!schema_.empty()) {
    try {
      auto admin = core::db::Database::open(std::getenv("MVSP_TEST_POSTGRES"), {.size = 1});
      admin->execute(fmt::format("DROP SCHEMA {} CASCADE", schema_));
    } catch (const std::exception&) {
      // A leftover schema is harmless: the test server is thrown away after the run.
    }
  }
}

core::db::Database& TestDatabase::db() {
  if (!db_) db_ = core::db::Database::open(url_, {.size = 4});
  return *db_;
}

void TestDatabase::migrate(const core::Clock& clock) {
  core::migrate(db(), app::all_migrations(), clock);
}

void BackendTest::SetUp() {
  database_ = std::make_unique<TestDatabase>(GetParam());
  if (!database_->available()) {
    const char* require = std::getenv("MVSP_REQUIRE_POSTGRES");
    if (require && std::string(require) == "1") {
      FAIL() << "MVSP_TEST_POSTGRES is not set but MVSP_REQUIRE_POSTGRES=1";
    }
    GTEST_SKIP() << "no test PostgreSQL (set MVSP_TEST_POSTGRES)";
  }
}

std::string HttpResponse::header(const std::string& name) const {
  auto it = headers.find(name);
  return it == headers.end() ? std::string() : it->second;
}

HttpResponse HttpClient::request(const std::string& method, const std::string& path,
                                 const std::string& body,
                                 std::map<std::string, std::string> headers) {
  Poco::Net::HTTPClientSession session("127.0.0.1", static_cast<Poco::UInt16>(port_));
  session.setTimeout(Poco::Timespan(30, 0));
  Poco::Net::HTTPRequest req(method, path, Poco::Net::HTTPMessage::HTTP_1_1);
  if (!cookies_.empty()) {
    std::string cookie;
    for (const auto& [k, v] : cookies_) cookie += (cookie.empty() ? "" : "; ") + k + "=" + v;
    req.set("Cookie", cookie);
  }
  for (const auto& [k, v] : headers) req.set(k, v);
  if (!body.empty() || method == "POST" || method == "PUT") {
    req.setContentLength(static_cast<std::streamsize>(body.size()));
  }
  session.sendRequest(req) << body;
  Poco::Net::HTTPResponse res;
  std::istream& in = session.receiveResponse(res);
  HttpResponse out;
  out.status = res.getStatus();
  for (const auto& [k, v] : res) {
    std::string name = k;
    for (auto& c : name) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    out.headers.emplace(name, v);
    if (name == "set-cookie") {
      auto eq = v.find('=');
      auto semi = v.find(';');
      auto cname = v.substr(0, eq);
      auto value = v.substr(eq + 1, semi == std::string::npos ? std::string::npos : semi - eq - 1);
      if (v.find("Max-Age=0") != std::string::npos || value.empty()) {
        cookies_.erase(cname);
      } else {
        cookies_[cname] = value;
      }
    }
  }
  if (method != "HEAD") Poco::StreamCopier::copyToString(in, out.body);
  return out;
}

HttpResponse HttpClient::get(const std::string& path, std::map<std::string, std::string> headers) {
  return request("GET", path, "", std::move(headers));
}

HttpResponse HttpClient::head(const std::string& path) {
  return request("HEAD", path, "", {});
}

HttpResponse HttpClient::post_form(const std::string& path,
                                   const std::vector<std::pair<std::string, std::string>>& fields) {
  std::string body;
  for (const auto& [k, v] : fields) {
    if (!body.empty()) body += '&';
    body += k + "=" + v;
  }
  return request("POST", path, body, {{"Content-Type", "application/x-www-form-urlencoded"}});
}

std::string HttpClient::csrf_token_in(const std::string& html) {
  static const std::regex kToken(R"re(name="csrf_token" value="([^"]+)")re");
  std::smatch m;
  if (!std::regex_search(html, m, kToken)) return {};
  return m[1];
}

void ServerTest::SetUp() {
  BackendTest::SetUp();
  if (IsSkipped() || HasFatalFailure()) return;
  data_dir_ = std::make_unique<TempDir>();
  app::Settings s;
  s.listen = "127.0.0.1:0";
  s.database = database_->url();
  s.data_dir = data_dir_->path();
  s.public_url = "http://127.0.0.1";
  s.job_workers = 1;
  s.http.threads = 16;
  configure(s);
  app_ = std::make_unique<app::App>(s, ports());
  add_routes(*app_);
  app_->start();
  port_ = app_->port();
}

const web::Ports& ServerTest::ports() {
  return app::system_ports();
}

void ServerTest::TearDown() {
  if (app_) app_->stop();
  app_.reset();
}

std::string raw_http(int port, const std::string& request, std::chrono::milliseconds timeout) {
  Poco::Net::StreamSocket socket;
  socket.connect(Poco::Net::SocketAddress("127.0.0.1", static_cast<Poco::UInt16>(port)));
  socket.setReceiveTimeout(Poco::Timespan(std::chrono::microseconds(timeout).count()));
  socket.sendBytes(request.data(), static_cast<int>(request.size()));
  std::string answer;
  char buf[8192];
  try {
    while (true) {
      int n = socket.receiveBytes(buf, sizeof buf);
      if (n <= 0) break;
      answer.append(buf, static_cast<std::size_t>(n));
      // One whole response: the head and as much body as Content-Length says.
      auto head_end = answer.find("\r\n\r\n");
      if (head_end == std::string::npos) continue;
      std::smatch m;
      std::string head = answer.substr(0, head_end);
      static const std::regex kLength(R"(\r\ncontent-length:\s*(\d+))", std::regex::icase);
      if (std::regex_search(head, m, kLength) &&
          answer.size() >= head_end + 4 + std::stoul(m[1].str())) {
        break;
      }
    }
  } catch (const Poco::TimeoutException&) {
  } catch (const Poco::Net::NetException&) {
  }
  return answer;
}

int raw_status(const std::string& answer) {
  if (!answer.starts_with("HTTP/1.") || answer.size() < 12) return 0;
  return std::stoi(answer.substr(9, 3));
}

std::string source_dir() {
  return MVSP_SOURCE_DIR;
}

std::string reference_dir() {
  const char* dir = std::getenv("MVSP_REFERENCE_DIR");
  return dir && *dir ? std::string(dir) : source_dir() + "/../shared/reference";
}

bool reference_available(const std::string& path) {
  auto full = reference_dir() + "/" + path;
  if (std::filesystem::exists(full)) return true;
  const char* require = std::getenv("MVSP_REQUIRE_REFERENCE");
  if (require && std::string(require) == "1") {
    ADD_FAILURE() << full << " is not there but MVSP_REQUIRE_REFERENCE=1";
  } else {
    std::fprintf(stderr,
                 "note: %s is not there (set MVSP_REFERENCE_DIR to the shared reference data): "
                 "what needs it is skipped\n",
                 full.c_str());
  }
  return false;
}

std::string mvsp_binary() {
  return MVSP_BINARY_PATH;
}

SmtpSink::SmtpSink() {
  int out[2];
  if (pipe(out) != 0) throw std::runtime_error("pipe failed");
  posix_spawn_file_actions_t actions;
  posix_spawn_file_actions_init(&actions);
  posix_spawn_file_actions_adddup2(&actions, out[1], 1);
  posix_spawn_file_actions_addclose(&actions, out[0]);
  std::string python = "/usr/bin/python3";
  std::string script = std::string(MVSP_SOURCE_DIR) + "/tests/support/smtp_sink.py";
  std::string dir = (dir_.path() / "mails").string();
  char* argv[] = {python.data(), script.data(), dir.data(), nullptr};
  if (posix_spawn(&pid_, argv[0], &actions, nullptr, argv, environ) != 0) {
    throw std::runtime_error("cannot start the SMTP sink");
  }
  posix_spawn_file_actions_destroy(&actions);
  close(out[1]);
  std::string line;
  char c;
  while (read(out[0], &c, 1) == 1 && c != '\n') line += c;
  close(out[0]);
  if (!line.starts_with("ready ")) throw std::runtime_error("SMTP sink did not start: " + line);
  port_ = std::stoi(line.substr(6));
}

SmtpSink::~SmtpSink() {
  if (pid_ > 0) {
    kill(pid_, SIGTERM);
    waitpid(pid_, nullptr, 0);
  }
}

void SmtpSink::hold(const std::string& address) {
  std::ofstream(dir_.path() / "hold", std::ios::app) << address << "\n";
}

bool SmtpSink::held(const std::string& address) {
  auto until = std::chrono::steady_clock::now() + std::chrono::seconds(20);
  while (!fs::exists(dir_.path() / ("held-" + address))) {
    if (std::chrono::steady_clock::now() > until) return false;
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
  return true;
}

void SmtpSink::release_all() {
  fs::remove(dir_.path() / "hold");
}

std::vector<SmtpSink::Mail> SmtpSink::wait_for(std::size_t count) {
  auto dir = dir_.path() / "mails";
  auto until = std::chrono::steady_clock::now() + std::chrono::seconds(20);
  std::vector<fs::path> files;
  for (;;) {
    files.clear();
    if (fs::exists(dir)) {
      for (const auto& e : fs::directory_iterator(dir)) {
        if (e.path().extension() == ".json") files.push_back(e.path());
      }
    }
    if (files.size() >= count || std::chrono::steady_clock::now() > until) break;
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
  std::sort(files.begin(), files.end());
  std::vector<Mail> mails;
  for (const auto& f : files) {
    std::ifstream in(f);
    std::stringstream ss;
    ss << in.rdbuf();
    Poco::JSON::Parser parser;
    auto obj = parser.parse(ss.str()).extract<Poco::JSON::Object::Ptr>();
    mails.push_back({obj->getArray("to")->getElement<std::string>(0),
                     obj->getValue<std::string>("subject"), obj->getValue<std::string>("body")});
  }
  return mails;
}

int unused_port() {
  Poco::Net::ServerSocket socket(Poco::Net::SocketAddress("127.0.0.1", 0));
  return socket.address().port();
}

namespace {

// Runs `argv` and waits for it; its exit status (-1 when it could not run).
int run(std::vector<std::string> argv) {
  std::vector<char*> args;
  for (auto& a : argv) args.push_back(a.data());
  args.push_back(nullptr);
  posix_spawn_file_actions_t actions;
  posix_spawn_file_actions_init(&actions);
  posix_spawn_file_actions_addopen(&actions, 1, "/dev/null", O_WRONLY, 0);
  pid_t pid = -1;
  int spawned = posix_spawn(&pid, args[0], &actions, nullptr, args.data(), environ);
  posix_spawn_file_actions_destroy(&actions);
  if (spawned != 0) return -1;
  int status = 0;
  if (waitpid(pid, &status, 0) != pid) return -1;
  return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

bool clamd_installed() {
  const char* env_path = std::getenv("PATH");
  std::string path = env_path ? env_path : "";
  for (auto dir : {std::string("/usr/sbin"), std::string("/usr/local/sbin")}) path += ":" + dir;
  std::string_view rest = path;
  while (!rest.empty()) {
    auto colon = rest.find(':');
    if (fs::exists(fs::path(rest.substr(0, colon)) / "clamd")) return true;
    if (colon == std::string_view::npos) break;
    rest.remove_prefix(colon + 1);
  }
  return false;
}

// The clamd this test binary started, stopped when the binary exits.
class OwnClamd {
 public:
  OwnClamd() : port_(unused_port()) {
    script_ = source_dir() + "/scripts/test-clamd";
    started_ = run({"/bin/bash", script_, "start", dir_.path().string(), std::to_string(port_)});
    if (started_ != 0) throw std::runtime_error("scripts/test-clamd start failed");
  }
  ~OwnClamd() {
    if (started_ == 0) run({"/bin/bash", script_, "stop", dir_.path().string()});
  }
  int port() const { return port_; }

 private:
  TempDir dir_;
  int port_;
  std::string script_;
  int started_ = -1;
};

}  // namespace

void ClamdTest::SetUp() {
  use_test_clamd(clamd_);
}

void use_test_clamd(core::ClamdOptions& clamd_) {
  if (const char* given = std::getenv("MVSP_TEST_CLAMD"); given && *given) {
    std::string where = given;
    auto colon = where.rfind(':');
    ASSERT_NE(colon, std::string::npos) << "MVSP_TEST_CLAMD must be HOST:PORT";
    clamd_.host = where.substr(0, colon);
    clamd_.port = std::stoi(where.substr(colon + 1));
    return;
  }
  if (!clamd_installed()) {
    const char* require = std::getenv("MVSP_REQUIRE_CLAMD");
    if (require && std::string(require) == "1") {
      FAIL() << "clamd is not installed but MVSP_REQUIRE_CLAMD=1 (scripts/install-deps --tests)";
    }
    GTEST_SKIP() << "clamd is not installed (package clamav-daemon)";
  }
  // Started once per test binary; a static's destructor stops it at exit.
  static std::unique_ptr<OwnClamd> own;
  static std::mutex starting;
  std::lock_guard lock(starting);
  if (!own) {
    try {
      own = std::make_unique<OwnClamd>();
    } catch (const std::exception& e) {
      FAIL() << e.what();
    }
  }
  clamd_.host = "127.0.0.1";
  clamd_.port = own->port();
}

}  // namespace mvsp::test
