// The HTTP engine over real sockets, byte for byte: HTTP/1.1 framing (pipelining,
// "Expect: 100-continue", chunked bodies, HEAD, Connection: close, streamed answers) and
// the limits that keep slow or greedy clients from taking the server (head timeout, body
// rate, connections per address, early 413, head size). No database: a plain handler.
#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <mutex>
#include <mvsp/web/http.hpp>
#include <mvsp/web/server.hpp>
#include <optional>
#include <ostream>
#include <string>
#include <thread>
#include <vector>

namespace mvsp::web {
namespace {

using namespace std::chrono_literals;

// A client socket from a chosen loopback address (127.0.0.x), so that tests can be many
// clients at once.
class Socket {
 public:
  explicit Socket(int port, const char* from = "127.0.0.1") {
    fd_ = ::socket(AF_INET, SOCK_STREAM, 0);
    sockaddr_in local{};
    local.sin_family = AF_INET;
    inet_pton(AF_INET, from, &local.sin_addr);
    ::bind(fd_, reinterpret_cast<sockaddr*>(&local), sizeof local);
    sockaddr_in to{};
    to.sin_family = AF_INET;
    to.sin_port = htons(static_cast<std::uint16_t>(port));
    inet_pton(AF_INET, "127.0.0.1", &to.sin_addr);
    connected_ = ::connect(fd_, reinterpret_cast<sockaddr*>(&to), sizeof to) == 0;
  }
  ~Socket() {
    if (fd_ >= 0) ::close(fd_);
  }
  Socket(const Socket&) = delete;
  Socket& operator=(const Socket&) = delete;
  Socket(Socket&& other) noexcept
      : fd_(std::exchange(other.fd_, -1)), connected_(other.connected_) {}

  bool connected() const { return connected_; }
  void send(std::string_view data) {
    while (!data.empty()) {
      auto n = ::send(fd_, data.data(), data.size(), MSG_NOSIGNAL);
      if (n <= 0) return;
      data.remove_prefix(static_cast<std::size_t>(n));
    }
  }
  // What arrives until the server closes or nothing more comes for `quiet`.
  std::string read_all(std::chrono::milliseconds quiet = 5000ms) {
    std::string out;
    while (auto piece = read_some(quiet)) out += *piece;
    return out;
  }
  // Reads until `out` holds `marker` (or the connection ends / times out).
  std::string read_until(std::string_view marker, std::chrono::milliseconds quiet = 5000ms) {
    std::string out;
    while (out.find(marker) == std::string::npos) {
      auto piece = read_some(quiet);
      if (!piece) break;
      out += *piece;
    }
    return out;
  }
  // Whether the server has closed the connection (EOF or reset) within `wait`.
  bool closed_within(std::chrono::milliseconds wait) {
    auto until = std::chrono::steady_clock::now() + wait;
    while (std::chrono::steady_clock::now() < until) {
      pollfd p{fd_, POLLIN, 0};
      if (::poll(&p, 1, 100) <= 0) continue;
      char buf[4096];
      auto n = ::recv(fd_, buf, sizeof buf, 0);
      if (n <= 0) return true;
    }
    return false;
  }

 private:
  std::optional<std::string> read_some(std::chrono::milliseconds quiet) {
    pollfd p{fd_, POLLIN, 0};
    if (::poll(&p, 1, static_cast<int>(quiet.count())) <= 0) return std::nullopt;
    char buf[65536];
    auto n = ::recv(fd_, buf, sizeof buf, 0);
    if (n <= 0) return std::nullopt;
    return std::string(buf, static_cast<std::size_t>(n));
  }

  int fd_ = -1;
  bool connected_ = false;
};

// Sends a byte at a time (about five a second) until the server answers; the answer.
std::string trickle(Socket& s) {
  std::string answer;
  for (int i = 0; i < 30 && answer.empty(); ++i) {
    s.send("x");
    answer = s.read_all(200ms);
  }
  return answer;
}

int status_of(std::string_view answer) {
  if (!answer.starts_with("HTTP/1.1 ") || answer.size() < 12) return 0;
  return std::stoi(std::string(answer.substr(9, 3)));
}

int count(std::string_view haystack, std::string_view needle) {
  int n = 0;
  for (auto pos = haystack.find(needle); pos != std::string_view::npos;
       pos = haystack.find(needle, pos + 1)) {
    ++n;
  }
  return n;
}

// Decodes a chunked body (the part of `answer` after the head).
std::string unchunk(std::string_view answer) {
  auto rest = answer.substr(answer.find("\r\n\r\n") + 4);
  std::string body;
  while (true) {
    auto line_end = rest.find("\r\n");
    if (line_end == std::string_view::npos) return body + "<truncated>";
    auto size = std::stoul(std::string(rest.substr(0, line_end)), nullptr, 16);
    if (size == 0) return body;
    body += rest.substr(line_end + 2, size);
    rest.remove_prefix(line_end + 2 + size + 2);
  }
}

class Engine : public ::testing::Test {
 protected:
  void start(ServerOptions options = {}) {
    options.port = 0;
    if (options.threads == ServerOptions{}.threads) options.threads = 4;
    server_ = std::make_unique<HttpServer>(
        [this](Request& req) {
          ++handled_;
          if (req.path == "/echo") {
            return Response::text(std::string(method_name(req.method)) + " " + req.query + " " +
                                  req.body);
          }
          if (req.path == "/stream") {
            Response res;
            res.set_header("Content-Type", "application/octet-stream");
            bool sized = req.query == "sized";
            if (sized) res.set_header("Content-Length", std::to_string(5 * 1024 * 1024));
            // "huge": more than any socket buffers take, so a client that does not read
            // keeps the stream waiting.
            int blocks = req.query == "huge" ? 256 * 1024 : 5 * 1024;
            res.stream = [blocks](std::ostream& out) {
              std::string block(1024, 'x');
              for (int i = 0; i < blocks; ++i) {
                block[0] = static_cast<char>('a' + i % 26);
                out << block;
              }
            };
            return res;
          }
          if (req.path == "/too-long") {
            // A handler whose stream is longer than the length it announced.
            Response res;
            res.set_header("Content-Length", "5");
            res.stream = [](std::ostream& out) {
              out << "hello"
                  << "HTTP/1.1 200 OK\r\nContent-Length: 9\r\n\r\nsmuggled!";
            };
            return res;
          }
          if (req.path == "/wait") {
            std::unique_lock lock(mutex_);
            waiting_ = true;
            changed_.notify_all();
            changed_.wait(lock, [&] { return released_; });
            return Response::text("done");
          }
          return Response::text("hello");
        },
        options);
    server_->start();
    port_ = server_->port();
  }
  void TearDown() override {
    release();
    if (server_) server_->stop();
  }
  void release() {
    std::lock_guard lock(mutex_);
    released_ = true;
    changed_.notify_all();
  }

  std::unique_ptr<HttpServer> server_;
  int port_ = 0;
  std::atomic<int> handled_{0};
  std::mutex mutex_;
  std::condition_variable changed_;
  bool waiting_ = false;
  bool released_ = false;
};

TEST_F(Engine, AnswersPipelinedRequestsInOrder) {
  start();
  Socket s(port_);
  s.send(
      "GET /echo?1 HTTP/1.1\r\nHost: x\r\n\r\n"
      "POST /echo?2 HTTP/1.1\r\nHost: x\r\nContent-Length: 3\r\n\r\nabc"
      "GET /echo?3 HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n");
  auto answer = s.read_all();
  EXPECT_EQ(count(answer, "HTTP/1.1 200"), 3) << answer;
  auto first = answer.find("GET 1 ");
  auto second = answer.find("POST 2 abc");
  auto third = answer.find("GET 3 ");
  ASSERT_NE(first, std::string::npos);
  ASSERT_NE(second, std::string::npos);
  ASSERT_NE(third, std::string::npos);
  EXPECT_LT(first, second);
  EXPECT_LT(second, third);
  EXPECT_NE(answer.find("Connection: close"), std::string::npos);  // on the last only
  EXPECT_EQ(count(answer, "Connection: close"), 1);
}

TEST_F(Engine, InvitesAnExpectedBodyWithContinue) {
  start();
  Socket s(port_);
  s.send(
      "POST /echo HTTP/1.1\r\nHost: x\r\nExpect: 100-continue\r\nContent-Length: 5\r\n"
      "Connection: close\r\n\r\n");
  auto interim = s.read_until("\r\n\r\n");
  EXPECT_EQ(interim, "HTTP/1.1 100 Continue\r\n\r\n");
  s.send("hello");
  auto answer = s.read_all();
  EXPECT_EQ(status_of(answer), 200) << answer;
  EXPECT_NE(answer.find("POST  hello"), std::string::npos) << answer;
}

TEST_F(Engine, ReadsChunkedRequestBodies) {
  start();
  Socket s(port_);
  s.send(
      "POST /echo HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\nConnection: close\r\n\r\n"
      "5\r\nhello\r\n6\r\n world\r\n0\r\n\r\n");
  auto answer = s.read_all();
  EXPECT_EQ(status_of(answer), 200) << answer;
  EXPECT_NE(answer.find("POST  hello world"), std::string::npos) << answer;
}

TEST_F(Engine, HeadAnnouncesTheLengthWithoutABody) {
  start();
  Socket s(port_);
  s.send("HEAD /echo HTTP/1.1\r\nHost: x\r\n\r\nGET /echo HTTP/1.1\r\nHost: x\r\n\r\n");
  auto answer = s.read_until("GET  ");
  // The HEAD answer says what GET would send ("HEAD  " is 6 bytes; the handler answers a
  // HEAD like a GET here), and the next answer follows at once, with no body between.
  EXPECT_EQ(answer.find("HTTP/1.1 200"), 0U) << answer;
  auto second = answer.find("HTTP/1.1 200", 1);
  ASSERT_NE(second, std::string::npos) << answer;
  EXPECT_TRUE(answer.substr(0, second).ends_with("\r\n\r\n")) << answer;
  EXPECT_NE(answer.substr(0, second).find("Content-Length: 6\r\n"), std::string::npos) << answer;
}

TEST_F(Engine, ClosesWhenAsked) {
  start();
  Socket s(port_);
  s.send("GET / HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n");
  auto answer = s.read_until("hello");
  EXPECT_EQ(status_of(answer), 200);
  EXPECT_NE(answer.find("Connection: close"), std::string::npos);
  EXPECT_TRUE(s.closed_within(3000ms));
  // HTTP/1.0 without keep-alive closes as well.
  Socket old(port_);
  old.send("GET / HTTP/1.0\r\n\r\n");
  EXPECT_EQ(status_of(old.read_until("hello")), 200);
  EXPECT_TRUE(old.closed_within(3000ms));
}

TEST_F(Engine, KeepsTheConnectionBetweenRequests) {
  start();
  Socket s(port_);
  for (int i = 0; i < 3; ++i) {
    s.send("GET / HTTP/1.1\r\nHost: x\r\n\r\n");
    auto answer = s.read_until("hello");
    EXPECT_EQ(status_of(answer), 200) << i;
    EXPECT_EQ(answer.find("Connection: close"), std::string::npos);
  }
  EXPECT_EQ(handled_, 3);
}

TEST_F(Engine, StreamsALargeBodyChunkedOrWithItsLength) {
  start();
  for (std::string query : {"", "sized"}) {
    Socket s(port_);
    s.send("GET /stream?" + query + " HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n");
    auto answer = s.read_all();
    ASSERT_EQ(status_of(answer), 200) << query;
    std::string body = query.empty() ? unchunk(answer) : answer.substr(answer.find("\r\n\r\n") + 4);
    if (query.empty()) {
      EXPECT_NE(answer.find("Transfer-Encoding: chunked"), std::string::npos);
    } else {
      EXPECT_NE(answer.find("Content-Length: 5242880"), std::string::npos);
    }
    ASSERT_EQ(body.size(), 5U * 1024 * 1024) << query;
    EXPECT_EQ(body[0], 'a');
    EXPECT_EQ(body[1024 * 27], 'b');  // the 28th block
    EXPECT_EQ(body[body.size() - 1024], static_cast<char>('a' + (5 * 1024 - 1) % 26));
  }
}

TEST_F(Engine, ARequestHeadMustArriveInTime) {
  start({.head_timeout_seconds = 1});
  Socket silent(port_);   // never sends a byte
  Socket halfway(port_);  // a request line, one header, no end
  halfway.send("GET / HTTP/1.1\r\nHost: x\r\n");
  EXPECT_TRUE(silent.closed_within(5000ms));
  EXPECT_TRUE(halfway.closed_within(5000ms));
  EXPECT_EQ(handled_, 0);
}

TEST_F(Engine, ABodyMustArriveAtTheMinimumRate) {
  start({.head_timeout_seconds = 1, .min_body_bytes_per_second = 1000});
  Socket s(port_);
  s.send("POST /echo HTTP/1.1\r\nHost: x\r\nContent-Length: 100000\r\n\r\n0123456789");
  // Then a trickle, well below 1000 bytes a second.
  auto answer = trickle(s);
  EXPECT_EQ(status_of(answer), 408) << answer;
  EXPECT_EQ(handled_, 0);
}

TEST_F(Engine, LimitsConnectionsPerAddressButNotForTrustedProxies) {
  start({.max_connections_per_address = 2});
  Socket a(port_, "127.0.0.2");
  Socket b(port_, "127.0.0.2");
  a.send("GET / HTTP/1.1\r\nHost: x\r\n\r\n");
  EXPECT_EQ(status_of(a.read_until("hello")), 200);
  Socket c(port_, "127.0.0.2");
  auto refused = c.read_all(3000ms);
  EXPECT_EQ(status_of(refused), 503) << refused;
  EXPECT_NE(refused.find("Retry-After"), std::string::npos);
  // Another address is not affected.
  Socket d(port_, "127.0.0.3");
  d.send("GET / HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n");
  EXPECT_EQ(status_of(d.read_all()), 200);
  server_->stop();

  start({.max_connections_per_address = 2, .trusted_proxies = {"127.0.0.4"}});
  std::vector<Socket> proxy;
  for (int i = 0; i < 4; ++i) proxy.emplace_back(port_, "127.0.0.4");
  for (auto& s : proxy) s.send("GET / HTTP/1.1\r\nHost: x\r\n\r\n");
  for (auto& s : proxy) EXPECT_EQ(status_of(s.read_until("hello")), 200);
}

TEST_F(Engine, RefusesAnAnnouncedBodyOverTheLimitAtOnce) {
  start({.max_body_bytes = 1000});
  Socket s(port_);
  s.send("POST /echo HTTP/1.1\r\nHost: x\r\nContent-Length: 1001\r\n\r\n");
  auto answer = s.read_all(3000ms);
  EXPECT_EQ(status_of(answer), 413) << answer;
  EXPECT_NE(answer.find("Connection: close"), std::string::npos);
  EXPECT_EQ(handled_, 0);
  // A chunked body is counted as it comes; past the limit the handler decides on what it
  // has (the platform answers 413), and the connection is not kept.
  Socket chunked(port_);
  chunked.send("POST /echo HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n7d0\r\n" +
               std::string(2000, 'y') + "\r\n");
  auto second = chunked.read_all(3000ms);
  EXPECT_EQ(status_of(second), 200) << second;
  EXPECT_NE(second.find("Connection: close"), std::string::npos);
}

TEST_F(Engine, RefusesAHeadOverTheLimit) {
  start({.max_head_bytes = 2048});
  Socket s(port_);
  s.send("GET / HTTP/1.1\r\nHost: x\r\nX-Big: " + std::string(4000, 'a') + "\r\n\r\n");
  auto answer = s.read_all(3000ms);
  EXPECT_EQ(status_of(answer), 431) << answer;
  EXPECT_EQ(handled_, 0);
}

TEST_F(Engine, RefusesMalformedRequests) {
  start();
  for (std::string request :
       {"GET / HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\nContent-Length: 6\r\n\r\n",
        "GET / HTTP/1.1\r\nHost: x\r\nContent-Length: -1\r\n\r\n", "GARBAGE\r\n\r\n",
        "GET / HTTP/1.1\r\nBad Header\r\n\r\n"}) {
    Socket s(port_);
    s.send(request);
    EXPECT_EQ(status_of(s.read_all(3000ms)), 400) << request;
  }
  EXPECT_EQ(handled_, 0);
}

TEST_F(Engine, HalfOpenConnectionsDoNotKeepANewVisitorWaiting) {
  // Many clients (from other addresses) that started a request and never finish it: with a
  // thread per connection they took every thread. Here they take none.
  start({.threads = 2, .io_threads = 1});
  std::vector<Socket> half_open;
  for (int i = 0; i < 300; ++i) {
    auto from = "127.0.1." + std::to_string(1 + i % 250);
    half_open.emplace_back(port_, from.c_str());
    half_open.back().send("GET / HTTP/1.1\r\nHost: x\r\n");
  }
  Socket visitor(port_);
  visitor.send("GET / HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n");
  EXPECT_EQ(status_of(visitor.read_all(5000ms)), 200);
  EXPECT_GE(server_->connections(), 300);
}

TEST_F(Engine, StopLetsARunningRequestFinish) {
  start();
  Socket idle(port_);
  Socket busy(port_);
  busy.send("GET /wait HTTP/1.1\r\nHost: x\r\n\r\n");
  {
    std::unique_lock lock(mutex_);
    changed_.wait(lock, [&] { return waiting_; });
  }
  std::thread stopper([&] { server_->stop(); });
  EXPECT_TRUE(idle.closed_within(5000ms));  // an idle connection is closed at once
  release();
  auto answer = busy.read_all();
  stopper.join();
  EXPECT_EQ(status_of(answer), 200) << answer;
  EXPECT_NE(answer.find("done"), std::string::npos);
  EXPECT_NE(answer.find("Connection: close"), std::string::npos);
  Socket late(port_);
  EXPECT_FALSE(late.connected());
}

TEST_F(Engine, NeverSendsMoreThanTheAnnouncedLength) {
  start();
  Socket s(port_);
  s.send("GET /too-long HTTP/1.1\r\nHost: x\r\n\r\nGET / HTTP/1.1\r\nHost: x\r\n\r\n");
  auto answer = s.read_all(3000ms);
  EXPECT_EQ(answer.find("smuggled"), std::string::npos) << answer;
  EXPECT_EQ(count(answer, "HTTP/1.1 200"), 1) << "the connection ends after the bad stream";
  EXPECT_TRUE(s.closed_within(3000ms));
}

TEST_F(Engine, RefusesFramingTwoReadersCouldTakeDifferently) {
  // Without a Site in front: the engine itself refuses (the simulators run like this).
  start();
  for (std::string framing : {"Transfer-Encoding: chunked, gzip\r\n", "Transfer-Encoding: gzip\r\n",
                              "Content-Length: 3\r\nContent-Length: 3\r\n",
                              "Transfer-Encoding: chunked\r\nTransfer-Encoding: chunked\r\n"}) {
    Socket s(port_);
    s.send("POST /echo HTTP/1.1\r\nHost: x\r\n" + framing +
           "\r\n0\r\n\r\nGET /smuggled HTTP/1.1\r\nHost: x\r\n\r\n");
    auto answer = s.read_all(3000ms);
    EXPECT_EQ(status_of(answer), 400) << framing << answer;
    EXPECT_EQ(count(answer, "HTTP/1.1"), 1) << framing << answer;
  }
  Socket old(port_);
  old.send("POST /echo HTTP/1.0\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabc\r\n0\r\n\r\n");
  EXPECT_EQ(status_of(old.read_all(3000ms)), 400);
  EXPECT_EQ(handled_, 0);
}

TEST_F(Engine, ABodySentAtOnceAndThenTrickledIsDropped) {
  start({.head_timeout_seconds = 1, .min_body_bytes_per_second = 1000});
  Socket s(port_);
  s.send("POST /echo HTTP/1.1\r\nHost: x\r\nContent-Length: 100000\r\n\r\n" +
         std::string(50000, 'a'));  // well above the rate for many seconds, on average
  auto answer = trickle(s);
  EXPECT_EQ(status_of(answer), 408) << answer;
  EXPECT_EQ(handled_, 0);
}

TEST_F(Engine, SlowReadersCannotTakeEveryWorker) {
  // Two workers: one may stream to a client that does not read; the next stream is refused
  // and every other request is still answered.
  start({.threads = 2});
  Socket slow(port_);
  slow.send("GET /stream?huge HTTP/1.1\r\nHost: x\r\n\r\n");  // 256 MiB, read no further
  EXPECT_EQ(status_of(slow.read_until("\r\n\r\n")), 200);     // its stream has begun
  Socket second(port_);
  second.send("GET /stream HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n");
  EXPECT_EQ(status_of(second.read_until("\r\n\r\n")), 503);
  Socket visitor(port_);
  visitor.send("GET / HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n");
  EXPECT_EQ(status_of(visitor.read_all()), 200);
}

TEST_F(Engine, StopLetsAnUploadUnderWayFinish) {
  start();
  Socket idle(port_);
  Socket upload(port_);
  upload.send(
      "POST /echo HTTP/1.1\r\nHost: x\r\nExpect: 100-continue\r\nContent-Length: 10\r\n\r\n");
  EXPECT_EQ(upload.read_until("\r\n\r\n"), "HTTP/1.1 100 Continue\r\n\r\n");  // reading the body
  upload.send("01234");
  std::thread stopper([&] { server_->stop(); });
  EXPECT_TRUE(idle.closed_within(5000ms));  // the shutdown is under way
  upload.send("56789");
  auto answer = upload.read_all();
  stopper.join();
  EXPECT_EQ(status_of(answer), 200) << answer;
  EXPECT_NE(answer.find("POST  0123456789"), std::string::npos) << answer;
}

}  // namespace
}  // namespace mvsp::web
