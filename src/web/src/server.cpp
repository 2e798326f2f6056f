// The HTTP engine. The only translation unit that includes Boost (Asio and Beast's parser):
// it costs seconds to compile, so nothing of it reaches a header.
//
// A connection is a chain of asynchronous steps on its own strand: wait for the first byte
// (head timeout, or the keep-alive time between requests), read the head (head timeout,
// size limit), check the head (on a worker when a body is announced, since the check may
// ask the database), invite and read the body (minimum rate, size limit), run the handler
// on a worker, write the answer, and start over or close. Only one step of a connection is
// ever pending, so a connection needs no lock; the engine's counters and the outbox of a
// streamed body do.
#include <sys/resource.h>

#include <algorithm>
#include <array>
#include <atomic>
#include <boost/asio/dispatch.hpp>
#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/strand.hpp>
#include <boost/asio/thread_pool.hpp>
#include <boost/asio/write.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <chrono>
#include <condition_variable>
#include <deque>
#include <limits>
#include <map>
#include <mutex>
#include <mvsp/core/error.hpp>
#include <mvsp/core/log.hpp>
#include <mvsp/web/http.hpp>
#include <mvsp/web/server.hpp>
#include <mvsp/web/site.hpp>
#include <set>
#include <streambuf>
#include <thread>

#include "wire.hpp"

namespace mvsp::web {
namespace {
namespace asio = boost::asio;
namespace beast = boost::beast;
namespace bhttp = boost::beast::http;
using tcp = asio::ip::tcp;
using Clock = std::chrono::steady_clock;
using std::chrono::seconds;
// Decides on a request's head before its body is read: an answer refuses the request (the
// body is never read, the connection closed), nothing lets it go on.
using HeadCheck =
    std::function<std::optional<Response>(Request& head, std::size_t announced, bool has_body)>;
// Answers a request on the I/O thread when that needs no wait (a static file in memory).
using AtOnce = std::function<std::optional<Response>(Request& req)>;

// What a refused connection or an unreadable request gets: a plain answer, then the close.
Response plain(int status, std::string_view text) {
  auto res = Response::text(std::string(text) + "\n", status);
  res.set_header("Cache-Control", "no-store");
  return res;
}

// Refusals written before a request was read (connection limits): static bytes, so that a
// flood of connections costs no allocation beyond the socket.
constexpr std::string_view kBusy =
    "HTTP/1.1 503 Service Unavailable\r\nContent-Type: text/plain; charset=utf-8\r\n"
    "Retry-After: 5\r\nContent-Length: 29\r\nConnection: close\r\n\r\n"
    "Zu viele Verbindungen / busy\n";

// One plain Content-Length of digits, or Transfer-Encoding exactly "chunked" (HTTP/1.1 only)
// without a Content-Length, or neither (RFC 9112 6.1, 6.3). Beast refuses some of the rest
// (differing lengths, both headers); this refuses all of it.
bool well_framed(const Request& head, unsigned version) {
  int lengths = 0;
  int encodings = 0;
  for (const auto& [name, value] : head.headers) {
    if (name == "content-length") {
      ++lengths;
      if (value.empty() || value.size() > 18 ||
          value.find_first_not_of("0123456789") != std::string::npos) {
        return false;
      }
    } else if (name == "transfer-encoding") {
      ++encodings;
      if (!beast::iequals(value, "chunked")) return false;
    }
  }
  if (encodings > 0 && version < 11) return false;
  return lengths <= 1 && encodings <= 1 && !(lengths && encodings);
}

class Connection;

class Engine {
 public:
  Engine(ServerOptions options, HeadCheck check, std::function<Response(Request&)> handle,
         AtOnce at_once = {})
      : options_(std::move(options)),
        check_(std::move(check)),
        handle_(std::move(handle)),
        at_once_(std::move(at_once)) {
    for (const auto& p : options_.trusted_proxies) {
      trusted_.insert(canonical_address(p).value_or(p));
    }
  }

  const ServerOptions& options() const { return options_; }
  bool stopping() const { return stopping_.load(); }
  asio::thread_pool& workers() { return *workers_; }

  std::optional<Response> check(Request& head, std::size_t announced, bool has_body) {
    return check_ ? check_(head, announced, has_body) : std::nullopt;
  }
  Response handle(Request& req) { return handle_(req); }
  std::optional<Response> at_once(Request& req) { return at_once_ ? at_once_(req) : std::nullopt; }

  // A request may wait for a worker while fewer than threads + max_queued do.
  bool admit() {
    if (pending_.fetch_add(1) < options_.threads + options_.max_queued) return true;
    pending_.fetch_sub(1);
    return false;
  }
  void done() { pending_.fetch_sub(1); }
  // A streamed body holds its worker while the client reads: at most half of them do.
  bool begin_stream() {
    if (streams_.fetch_add(1) < std::max(1, options_.threads / 2)) return true;
    streams_.fetch_sub(1);
    return false;
  }
  void end_stream() { streams_.fetch_sub(1); }

  void start();
  void stop();
  int port() const { return port_; }
  int connections() {
    std::lock_guard lock(mutex_);
    return connections_;
  }
  void forget(const Connection* c, const std::string& address);

 private:
  void accept();
  void accepted(tcp::socket socket);
  void refuse(tcp::socket& socket, const char* reason);
  void raise_file_limit();

  ServerOptions options_;
  HeadCheck check_;
  std::function<Response(Request&)> handle_;
  AtOnce at_once_;
  std::set<std::string> trusted_;
  int port_ = 0;
  std::atomic<bool> stopping_{false};
  std::atomic<int> pending_{0};
  std::atomic<int> streams_{0};
  std::atomic<std::int64_t> last_refusal_log_{0};

  // Declared before the io_context: its destructor destroys connections still waiting in
  // handlers, and they deregister here.
  std::mutex mutex_;
  std::condition_variable all_closed_;
  int connections_ = 0;
  std::map<std::string, int, std::less<>> per_address_;
  std::map<const Connection*, std::weak_ptr<Connection>> open_;  // for the shutdown

  asio::io_context ioc_;
  std::optional<asio::executor_work_guard<asio::io_context::executor_type>> work_;
  // The acceptor and its retry timer live on one strand: stop() closes them from outside.
  asio::strand<asio::io_context::executor_type> accept_strand_{asio::make_strand(ioc_)};
  tcp::acceptor acceptor_{accept_strand_};
  asio::steady_timer retry_accept_{accept_strand_};
  std::vector<std::thread> io_threads_;
  // After the io_context: handlers on workers hold connections (and their sockets).
  std::optional<asio::thread_pool> workers_;
};

// The body of a streamed response on its way from the handler's thread (which writes into
// an std::ostream) to the connection's strand (which sends it). At most kWindow bytes wait;
// a writer beyond that waits for the client, at most write_timeout.
struct Outbox {
  static constexpr std::size_t kWindow = 256 * 1024;
  std::mutex mutex;
  std::condition_variable drained;
  std::deque<std::string> queue;  // front: being written
  std::size_t queued = 0;
  bool writing = false;
  bool failed = false;     // the client went away or stopped reading
  bool finished = false;   // the writer is done
  bool complete = false;   // ... and the body is whole (else the connection is closed)
  std::uint64_t sent = 0;  // bytes the client has taken
  Clock::time_point started = Clock::now();
};

class Connection : public std::enable_shared_from_this<Connection> {
 public:
  Connection(Engine& engine, tcp::socket socket, std::string address)
      : engine_(engine),
        stream_(std::move(socket)),
        buffer_(std::max<std::size_t>(64 * 1024, engine.options().max_head_bytes + 4096)),
        address_(std::move(address)) {}
  ~Connection() { engine_.forget(this, address_); }
  Connection(const Connection&) = delete;
  Connection& operator=(const Connection&) = delete;

  void start() { wait_for_request(); }

  // At shutdown: a connection between requests (or still sending a head) is closed now; one
  // whose request runs is closed after its answer.
  // An upload under way (State::body) goes on: its request is running, in effect.
  void close_if_idle() {
    if (state_ == State::idle || state_ == State::head) close();
  }
  // At the end of a shutdown: a handler still writing a stream to a slow client stops.
  void abandon_stream() {
    auto box = outbox_.load();
    if (!box) return;
    std::lock_guard lock(box->mutex);
    box->failed = true;
    box->drained.notify_all();
  }
  auto executor() { return stream_.get_executor(); }

  // The worker side of a streamed body.
  void stream_out(Response res, bool close);

 private:
  enum class State { idle, head, body, handling, writing, closed };

  void wait_for_request();
  void read_head();
  void on_head(beast::error_code ec);
  void checked(std::optional<Response> refused);
  void read_body();
  void on_body(beast::error_code ec);
  bool take_body_from_buffer();
  // Runs the handler on a worker; with a length, the head check first (the body is here).
  void dispatch(std::optional<std::size_t> check_first = std::nullopt);
  void respond(Response res, bool close);
  bool closes_after_this(bool asked);
  void send_next();
  void linger();
  void close();

  Engine& engine_;
  beast::tcp_stream stream_;
  beast::flat_buffer buffer_;
  std::string address_;
  State state_ = State::idle;
  int served_ = 0;

  // The body grows as it arrives (a string body would reserve the announced length at once:
  // a head costs the client nothing, the reservation us up to max_body_bytes).
  std::optional<bhttp::request_parser<bhttp::dynamic_body>> parser_;
  Request req_;
  bool expect_continue_ = false;
  Clock::time_point window_started_;  // the body's current rate window
  std::size_t window_bytes_ = 0;      // how much of the body had come when it began

  Response res_;      // the answer being written (its body is sent from here)
  std::string head_;  // and its head
  std::atomic<std::shared_ptr<Outbox>> outbox_;  // while a streamed body is written
  bool close_after_ = false;
};

void Connection::wait_for_request() {
  state_ = State::idle;
  if (engine_.stopping()) return close();
  if (buffer_.size() > 0) return read_head();  // a pipelined request is here already
  // An idle connection keeps as little as it can: no parser, no request, a small buffer.
  parser_.reset();
  req_ = Request{};
  buffer_.shrink_to_fit();
  stream_.expires_after(seconds(served_ == 0 ? engine_.options().head_timeout_seconds
                                             : engine_.options().keep_alive_seconds));
  stream_.async_read_some(buffer_.prepare(512),
                          [self = shared_from_this()](beast::error_code ec, std::size_t n) {
                            if (ec) return self->close();
                            self->buffer_.commit(n);
                            self->read_head();
                          });
}

void Connection::read_head() {
  state_ = State::head;
  parser_.emplace();
  parser_->header_limit(static_cast<std::uint32_t>(engine_.options().max_head_bytes));
  // The limit is ours (announced, then counted), so that the check sees a head whose body
  // is too large. (Beast 1.74 takes boost::none as a limit of 0, hence the largest value.)
  parser_->body_limit(std::numeric_limits<std::uint64_t>::max());
  stream_.expires_after(seconds(engine_.options().head_timeout_seconds));
  bhttp::async_read_header(
      stream_, buffer_, *parser_,
      [self = shared_from_this()](beast::error_code ec, std::size_t) { self->on_head(ec); });
}

void Connection::on_head(beast::error_code ec) {
  if (ec == bhttp::error::header_limit || ec == bhttp::error::buffer_overflow) {
    return respond(plain(431, "Request Header Fields Too Large"), true);
  }
  if (ec == beast::error::timeout) return respond(plain(408, "Request Timeout"), true);
  if (ec == bhttp::error::end_of_stream || ec == asio::error::eof ||
      ec == asio::error::connection_reset || ec == asio::error::operation_aborted) {
    return close();
  }
  if (ec) {
    core::log::info("http.bad_head", {{"error", ec.message()}});
    return respond(plain(400, "Bad Request"), true);
  }

  auto& msg = parser_->get();
  req_ = Request{};
  req_.method =
      parse_method(std::string_view(msg.method_string().data(), msg.method_string().size()));
  std::string_view target(msg.target().data(), msg.target().size());
  auto q = target.find('?');
  req_.path = url_decode(target.substr(0, q), false);
  if (q != std::string_view::npos) req_.query = std::string(target.substr(q + 1));
  req_.headers.reserve(16);
  for (const auto& field : msg) {
    std::string name(field.name_string().data(), field.name_string().size());
    for (auto& c : name) {
      if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
    }
    req_.headers.emplace_back(std::move(name),
                              std::string(field.value().data(), field.value().size()));
  }
  req_.remote_address = address_;
  if (!well_framed(req_, msg.version())) {
    // Two readers (a proxy in front and we) could take this body's length differently:
    // the way to smuggle a second request. Refused for every server on this engine.
    core::log::warn("http.ambiguous_framing", {{"path", req_.path}});
    return respond(plain(400, "Bad Request"), true);
  }
  close_after_ = !msg.keep_alive();
  expect_continue_ = beast::iequals(msg[bhttp::field::expect], "100-continue");

  auto announced = parser_->content_length().value_or(0);
  bool has_body = announced > 0 || parser_->chunked();
  std::size_t announced_size =
      announced > SIZE_MAX ? SIZE_MAX : static_cast<std::size_t>(announced);
  if (!has_body) {
    // Without a body the check has nothing to spare and asks nothing slow: done here.
    std::optional<Response> refused, answer;
    try {
      refused = engine_.check(req_, 0, false);
      if (!refused) answer = engine_.at_once(req_);
    } catch (const std::exception& e) {
      core::log::error("http.failure", {{"path", req_.path}, {"error", e.what()}});
      refused = plain(500, "Interner Fehler / Internal error");
    }
    if (refused) return respond(std::move(*refused), true);
    if (answer) return respond(std::move(*answer), false);
    return dispatch();
  }
  if (!parser_->chunked() && announced <= engine_.options().max_body_bytes &&
      buffer_.size() >= announced && take_body_from_buffer()) {
    // A small body that came with its head (the usual form or token request): there is
    // nothing to spare reading, so the check and the handler run in one turn on a worker.
    return dispatch(announced_size);
  }
  state_ = State::handling;
  if (!engine_.admit()) return respond(plain(503, "Service Unavailable"), true);
  asio::post(engine_.workers(), [self = shared_from_this(), announced_size] {
    std::optional<Response> refused;
    try {
      refused = self->engine_.check(self->req_, announced_size, true);
    } catch (const std::exception& e) {
      core::log::error("http.failure", {{"path", self->req_.path}, {"error", e.what()}});
      refused = plain(500, "Interner Fehler / Internal error");
    }
    self->engine_.done();
    asio::post(self->stream_.get_executor(), [self, refused = std::move(refused)]() mutable {
      self->checked(std::move(refused));
    });
  });
}

void Connection::checked(std::optional<Response> refused) {
  if (refused) return respond(std::move(*refused), true);
  auto announced = parser_->content_length().value_or(0);
  if (announced > engine_.options().max_body_bytes) {
    return respond(plain(413, "Payload Too Large"), true);  // when the check let it pass
  }
  bool has_body = announced > 0 || parser_->chunked();
  if (!has_body) return dispatch();
  window_started_ = Clock::now();
  window_bytes_ = 0;
  if (!expect_continue_) return read_body();
  state_ = State::writing;
  static constexpr std::string_view kContinue = "HTTP/1.1 100 Continue\r\n\r\n";
  stream_.expires_after(seconds(engine_.options().write_timeout_seconds));
  asio::async_write(stream_, asio::buffer(kContinue.data(), kContinue.size()),
                    [self = shared_from_this()](beast::error_code ec, std::size_t) {
                      if (ec) return self->close();
                      self->window_started_ = Clock::now();
                      self->read_body();
                    });
}

void Connection::read_body() {
  state_ = State::body;
  // Beast reads into what the buffer has room for: an idle connection's small buffer would
  // take a 200 KB upload in 400 reads of 512 bytes. Room for 64 KiB while a body comes
  // (the idle connection gives it back).
  constexpr std::size_t kBodyReads = 64 * 1024;
  if (buffer_.capacity() - buffer_.size() < kBodyReads)
    buffer_.reserve(buffer_.size() + kBodyReads);
  stream_.expires_after(seconds(engine_.options().head_timeout_seconds));
  bhttp::async_read_some(
      stream_, buffer_, *parser_,
      [self = shared_from_this()](beast::error_code ec, std::size_t) { self->on_body(ec); });
}

void Connection::on_body(beast::error_code ec) {
  const auto& o = engine_.options();
  if (ec == beast::error::timeout) return respond(plain(408, "Request Timeout"), true);
  if (ec == bhttp::error::partial_message || ec == asio::error::eof ||
      ec == asio::error::connection_reset) {
    return close();
  }
  if (ec) {
    core::log::info("http.bad_body", {{"error", ec.message()}});
    return respond(plain(400, "Bad Request"), true);
  }
  const auto& body = parser_->get().body();
  if (body.size() > o.max_body_bytes) {
    // A chunked body over the limit: the pipeline answers 413 on what it sees; the rest is
    // never read.
    req_.body = beast::buffers_to_string(body.data());
    close_after_ = true;
    return dispatch();
  }
  // Each window of head_timeout_seconds must bring its share at the minimum rate: a body
  // sent mostly at once and then a byte at a time is dropped as well as one that trickles.
  auto now = Clock::now();
  auto window = std::chrono::duration<double>(now - window_started_).count();
  if (window >= o.head_timeout_seconds) {
    if (static_cast<double>(body.size() - window_bytes_) <
        window * static_cast<double>(o.min_body_bytes_per_second)) {
      core::log::warn("http.body_too_slow", {{"path", req_.path}});
      return respond(plain(408, "Request Timeout"), true);
    }
    window_started_ = now;
    window_bytes_ = body.size();
  }
  if (!parser_->is_done()) return read_body();
  req_.body = beast::buffers_to_string(body.data());
  dispatch();
}

bool Connection::take_body_from_buffer() {
  beast::error_code ec;
  while (!parser_->is_done() && buffer_.size() > 0) {
    auto used = parser_->put(buffer_.data(), ec);
    buffer_.consume(used);
    if (ec || used == 0) break;
  }
  if (ec || !parser_->is_done()) return false;  // the ordinary way will say what is wrong
  req_.body = beast::buffers_to_string(parser_->get().body().data());
  return true;
}

void Connection::dispatch(std::optional<std::size_t> check_first) {
  state_ = State::handling;
  if (!engine_.admit()) return respond(plain(503, "Service Unavailable"), true);
  asio::post(engine_.workers(), [self = shared_from_this(), check_first] {
    Response res;
    try {
      std::optional<Response> refused;
      if (check_first) refused = self->engine_.check(self->req_, *check_first, true);
      if (refused) {
        self->engine_.done();
        asio::post(self->stream_.get_executor(), [self, res = std::move(*refused)]() mutable {
          self->respond(std::move(res), true);
        });
        return;
      }
      res = self->engine_.handle(self->req_);
    } catch (const std::exception& e) {
      core::log::error("http.failure", {{"path", self->req_.path}, {"error", e.what()}});
      res = plain(500, "Interner Fehler / Internal error");
    }
    self->engine_.done();
    make_safe(res);
    if (res.stream && self->req_.method != Method::head && status_has_body(res.status)) {
      if (self->engine_.begin_stream()) {
        // The strand is idle while the handler runs, so the decision can be taken here.
        bool close = self->closes_after_this(false);
        self->stream_out(std::move(res), close);
        self->engine_.end_stream();
        return;
      }
      // Half of the workers at most write to clients: the rest stay for everyone else.
      core::log::warn("http.streams_busy", {{"path", self->req_.path}});
      res = plain(503, "Service Unavailable");
      res.set_header("Retry-After", "5");
    }
    asio::post(self->stream_.get_executor(),
               [self, res = std::move(res)]() mutable { self->respond(std::move(res), false); });
  });
}

bool Connection::closes_after_this(bool asked) {
  ++served_;
  return asked || close_after_ || served_ >= engine_.options().max_keep_alive_requests ||
         engine_.stopping();
}

void Connection::respond(Response res, bool close) {
  state_ = State::writing;
  make_safe(res);
  close = closes_after_this(close);
  res_ = std::move(res);
  std::string_view body;
  std::optional<std::uint64_t> length;
  if (req_.method == Method::head) {
    // What a GET would announce: the length it names, else that of its body (a stream
    // that names none would be chunked).
    if (auto announced = res_.header("content-length")) {
      length = std::strtoull(announced->c_str(), nullptr, 10);
    } else if (!res_.stream) {
      length = res_.content().size();
    }
  } else {
    body = status_has_body(res_.status) ? res_.content() : std::string_view();
    length = body.size();
  }
  head_ = wire_head(res_, length, close);
  std::array<asio::const_buffer, 2> buffers{asio::buffer(head_),
                                            asio::buffer(body.data(), body.size())};
  stream_.expires_after(seconds(engine_.options().write_timeout_seconds));
  asio::async_write(stream_, buffers,
                    [self = shared_from_this(), close](beast::error_code ec, std::size_t) {
                      self->res_ = Response{};
                      if (ec) return self->close();
                      if (close) return self->linger();
                      self->wait_for_request();
                    });
}

// Streams into the outbox in pieces of 64 KiB, framed as chunks when no length is known.
class OutboxBuffer final : public std::streambuf {
 public:
  // With a length, never more than that goes out: a longer stream fails at the first byte
  // too many (else the rest would be read as the next response on the connection).
  OutboxBuffer(std::function<void(std::string)> push, std::optional<std::uint64_t> length)
      : push_(std::move(push)), length_(length) {
    buffer_.resize(64 * 1024);
    setp(buffer_.data(), buffer_.data() + buffer_.size());
  }
  std::uint64_t count() const { return count_; }
  void flush_out() {
    auto n = static_cast<std::size_t>(pptr() - pbase());
    if (n == 0) return;
    std::string_view data(pbase(), n);
    if (length_ && count_ + n > *length_) {
      throw core::Failure("the stream is longer than the " + std::to_string(*length_) +
                          " bytes it announced");
    }
    count_ += n;
    push_(length_ ? std::string(data) : chunk(data));
    setp(buffer_.data(), buffer_.data() + buffer_.size());
  }

 protected:
  int_type overflow(int_type ch) override {
    flush_out();
    if (!traits_type::eq_int_type(ch, traits_type::eof())) {
      *pptr() = traits_type::to_char_type(ch);
      pbump(1);
    }
    return traits_type::not_eof(ch);
  }
  int sync() override {
    flush_out();
    return 0;
  }

 private:
  std::function<void(std::string)> push_;
  std::optional<std::uint64_t> length_;
  std::string buffer_;
  std::uint64_t count_ = 0;
};

void Connection::stream_out(Response res, bool close) {
  auto box = std::make_shared<Outbox>();
  auto self = shared_from_this();
  auto wait = seconds(engine_.options().write_timeout_seconds);
  // Queues `data`; waits while the window is full. Throws when the client is gone.
  // A client must take the body at the minimum rate (after the grace that uploads get too):
  // a worker is not held for hours by one that reads a byte at a time.
  auto grace = seconds(engine_.options().head_timeout_seconds);
  auto min_rate = static_cast<double>(engine_.options().min_body_bytes_per_second);
  auto push = [self, box, wait, grace, min_rate](std::string data) {
    std::unique_lock lock(box->mutex);
    auto waiting_since = Clock::now();
    while (!box->failed && box->queued >= Outbox::kWindow) {
      box->drained.wait_for(lock, seconds(1));
      auto now = Clock::now();
      auto late = std::chrono::duration<double>(now - box->started - grace).count();
      if (now - waiting_since > wait ||
          (late > 0 && static_cast<double>(box->sent) < late * min_rate)) {
        box->failed = true;
      }
    }
    if (box->failed) throw core::Failure("the client stopped reading");
    box->queued += data.size();
    box->queue.push_back(std::move(data));
    if (!box->writing) {
      box->writing = true;
      asio::post(self->stream_.get_executor(), [self] { self->send_next(); });
    }
  };
  auto finish = [&](bool complete) {
    std::lock_guard lock(box->mutex);
    box->finished = true;
    box->complete = complete;
    if (!box->writing) {
      box->writing = true;
      asio::post(self->stream_.get_executor(), [self] { self->send_next(); });
    }
  };

  std::optional<std::uint64_t> length;
  if (auto announced = res.header("content-length")) {
    length = std::strtoull(announced->c_str(), nullptr, 10);
  }
  outbox_.store(box);  // the strand reads it only after the first post below
  close_after_ = close;
  try {
    push(wire_head(res, length, close));
    OutboxBuffer out(push, length);
    std::ostream os(&out);
    os.exceptions(std::ios::badbit);  // a client gone ends the handler's writing at once
    res.stream(os);
    os.flush();
    if (!os) throw core::Failure("the stream of the body failed");
    if (length && out.count() != *length) {
      throw core::Failure("streamed " + std::to_string(out.count()) + " bytes of " +
                          std::to_string(*length) + " announced");
    }
    if (!length) push(std::string(kLastChunk));
    finish(true);
  } catch (const std::exception& e) {
    // Too late for an error answer: the connection is closed after what was queued, so the
    // body stays visibly incomplete and nothing later is read as the rest of it.
    core::log::error("http.stream_failed", {{"path", req_.path}, {"error", e.what()}});
    finish(false);
  }
}

void Connection::send_next() {
  state_ = State::writing;
  auto box = outbox_.load();
  std::unique_lock lock(box->mutex);
  if (box->failed) return close();
  if (box->queue.empty()) {
    box->writing = false;
    if (!box->finished) return;
    bool reuse = box->complete && !close_after_;
    lock.unlock();
    outbox_.store(nullptr);
    return reuse ? wait_for_request() : linger();
  }
  const std::string& front = box->queue.front();  // stays put while the deque grows
  lock.unlock();
  stream_.expires_after(seconds(engine_.options().write_timeout_seconds));
  asio::async_write(stream_, asio::buffer(front),
                    [self = shared_from_this(), box](beast::error_code ec, std::size_t) {
                      {
                        std::lock_guard guard(box->mutex);
                        box->queued -= box->queue.front().size();
                        box->sent += box->queue.front().size();
                        box->queue.pop_front();
                        if (ec) box->failed = true;
                      }
                      box->drained.notify_all();
                      if (ec) return self->close();
                      self->send_next();
                    });
}

// After the last answer: our side is shut, and what the client still sends is read and
// dropped for a short, bounded while (1 s, 4 MiB), so that closing with unread data (which
// sends a reset) does not destroy the answer before the client has read it.
void Connection::linger() {
  state_ = State::closed;
  beast::error_code ec;
  stream_.socket().shutdown(tcp::socket::shutdown_send, ec);
  if (ec) return close();
  stream_.expires_after(seconds(1));
  struct Drain {
    std::shared_ptr<Connection> self;
    std::size_t left = 4 * 1024 * 1024;
    void operator()(beast::error_code ec, std::size_t n) {
      left -= std::min(left, n);
      if (ec || left == 0) return self->close();
      self->buffer_.clear();
      auto& s = self->stream_;
      s.async_read_some(self->buffer_.prepare(16 * 1024), std::move(*this));
    }
  };
  buffer_.clear();
  Drain{shared_from_this()}(beast::error_code{}, 0);
}

void Connection::close() {
  state_ = State::closed;
  beast::error_code ec;
  stream_.socket().close(ec);
}

void Engine::raise_file_limit() {
  // Each connection is a file descriptor; the default soft limit (1024) would cap them.
  rlimit limit{};
  if (getrlimit(RLIMIT_NOFILE, &limit) != 0) return;
  auto wanted = static_cast<rlim_t>(options_.max_connections) + 256;
  if (limit.rlim_cur >= wanted) return;
  limit.rlim_cur = std::min(wanted, limit.rlim_max);
  setrlimit(RLIMIT_NOFILE, &limit);
  if (limit.rlim_cur < static_cast<rlim_t>(options_.max_connections)) {
    core::log::warn("http.file_limit",
                    {{"max_connections", std::to_string(options_.max_connections)},
                     {"open_files", std::to_string(limit.rlim_cur)}});
  }
}

void Engine::start() {
  raise_file_limit();
  tcp::resolver resolver(ioc_);
  auto endpoints = resolver.resolve(options_.host, std::to_string(options_.port),
                                    tcp::resolver::passive | tcp::resolver::numeric_service);
  if (endpoints.empty()) throw core::Failure("cannot resolve " + options_.host);
  auto endpoint = endpoints.begin()->endpoint();
  acceptor_.open(endpoint.protocol());
  acceptor_.set_option(asio::socket_base::reuse_address(true));
  acceptor_.bind(endpoint);
  acceptor_.listen(asio::socket_base::max_listen_connections);
  port_ = acceptor_.local_endpoint().port();
  workers_.emplace(static_cast<std::size_t>(std::max(1, options_.threads)));
  work_.emplace(ioc_.get_executor());
  accept();
  int n = options_.io_threads > 0
              ? options_.io_threads
              : static_cast<int>(std::clamp(std::thread::hardware_concurrency(), 1U, 4U));
  for (int i = 0; i < n; ++i) {
    io_threads_.emplace_back([this] {
      // A handler that throws ends only its own step (its connection is dropped when the
      // last reference goes); the thread goes on with the others.
      while (true) {
        try {
          ioc_.run();
          return;
        } catch (const std::exception& e) {
          core::log::error("http.io_failure", {{"error", e.what()}});
        }
      }
    });
  }
}

void Engine::accept() {
  acceptor_.async_accept(asio::make_strand(ioc_), [this](beast::error_code ec, tcp::socket socket) {
    if (ec == asio::error::operation_aborted || !acceptor_.is_open()) return;
    if (ec) {
      // Out of file descriptors (or a like fault): wait a moment instead of spinning.
      core::log::warn("http.accept_failed", {{"error", ec.message()}});
      retry_accept_.expires_after(std::chrono::milliseconds(50));
      retry_accept_.async_wait([this](beast::error_code e) {
        if (!e) accept();
      });
      return;
    }
    accepted(std::move(socket));
    accept();
  });
}

void Engine::accepted(tcp::socket socket) {
  beast::error_code ec;
  auto remote = socket.remote_endpoint(ec);
  if (ec) return;
  auto address = remote.address().to_string();
  address = canonical_address(address).value_or(address);
  socket.set_option(tcp::no_delay(true), ec);
  std::shared_ptr<Connection> connection;
  {
    std::lock_guard lock(mutex_);
    if (connections_ >= options_.max_connections) {
      refuse(socket, "total");
      return;
    }
    bool limited = !trusted_.contains(address);
    auto it = per_address_.find(address);
    if (limited && it != per_address_.end() && it->second >= options_.max_connections_per_address) {
      refuse(socket, "per_address");
      return;
    }
    ++connections_;
    ++per_address_[address];
    connection = std::make_shared<Connection>(*this, std::move(socket), address);
    open_.emplace(connection.get(), connection);
  }
  // Its first step on its own strand, like every later one (stop() posts there too).
  asio::dispatch(connection->executor(), [connection] { connection->start(); });
}

void Engine::refuse(tcp::socket& socket, const char* reason) {
  // Logged at most once a second: a flood must not flood the log as well.
  auto now = std::chrono::duration_cast<seconds>(Clock::now().time_since_epoch()).count();
  auto last = last_refusal_log_.load();
  if (now != last && last_refusal_log_.compare_exchange_strong(last, now)) {
    core::log::warn("http.connection_refused", {{"limit", reason}});
  }
  beast::error_code ec;
  socket.non_blocking(true, ec);
  socket.write_some(asio::buffer(kBusy.data(), kBusy.size()), ec);
  socket.shutdown(tcp::socket::shutdown_both, ec);
  socket.close(ec);
}

void Engine::forget(const Connection* c, const std::string& address) {
  std::lock_guard lock(mutex_);
  --connections_;
  if (auto it = per_address_.find(address); it != per_address_.end() && --it->second == 0) {
    per_address_.erase(it);
  }
  open_.erase(c);
  if (connections_ == 0) all_closed_.notify_all();
}

void Engine::stop() {
  if (io_threads_.empty()) return;
  stopping_ = true;
  asio::post(acceptor_.get_executor(), [this] {
    beast::error_code ec;
    acceptor_.close(ec);
    retry_accept_.cancel();
  });
  std::vector<std::shared_ptr<Connection>> open;
  {
    std::lock_guard lock(mutex_);
    for (const auto& [_, w] : open_) {
      if (auto c = w.lock()) open.push_back(std::move(c));
    }
  }
  for (auto& c : open) {
    // Through the connection's own strand, like every step of it.
    asio::post(c->executor(), [c] { c->close_if_idle(); });
  }
  open.clear();
  {
    std::unique_lock lock(mutex_);
    all_closed_.wait_for(lock, seconds(options_.shutdown_seconds),
                         [&] { return connections_ == 0; });
    for (const auto& [_, w] : open_) {
      if (auto c = w.lock()) open.push_back(std::move(c));
    }
  }
  // What still runs after the grace: a handler writing to a slow client stops now, so that
  // joining the workers below does not wait for it. (Released outside the lock: the last
  // reference to a connection deregisters it.)
  for (auto& c : open) c->abandon_stream();
  open.clear();
  work_.reset();
  ioc_.stop();
  for (auto& t : io_threads_) t.join();
  io_threads_.clear();
  workers_->join();
}

}  // namespace

struct HttpServer::Impl {
  template <typename... Args>
  explicit Impl(Args&&... args) : engine(std::forward<Args>(args)...) {}
  Engine engine;
};

HttpServer::HttpServer(Site& site, ServerOptions options) {
  HeadCheck check = [&site](Request& head, std::size_t announced, bool has_body) {
    return site.before_body(head, announced, has_body);
  };
  impl_ = std::make_unique<Impl>(
      std::move(options), std::move(check), [&site](Request& req) { return site.handle(req); },
      [&site](Request& req) { return site.answer_at_once(req); });
}

HttpServer::HttpServer(std::function<Response(Request&)> handler, ServerOptions options)
    : impl_(std::make_unique<Impl>(std::move(options), HeadCheck(), std::move(handler))) {}

HttpServer::~HttpServer() {
  stop();
}

void HttpServer::start() {
  impl_->engine.start();
}

int HttpServer::port() const {
  return impl_->engine.port();
}

void HttpServer::stop() {
  impl_->engine.stop();
}

int HttpServer::connections() const {
  return impl_->engine.connections();
}

}  // namespace mvsp::web
