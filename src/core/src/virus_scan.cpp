#include <Poco/Exception.h>
#include <Poco/Net/SocketAddress.h>
#include <Poco/Net/StreamSocket.h>
#include <Poco/Timespan.h>
#include <fmt/format.h>
#include <magic.h>
#include <sys/socket.h>

#include <algorithm>
#include <cstdint>
#include <mvsp/core/virus_scan.hpp>

namespace mvsp::core {
namespace {

namespace net = Poco::Net;

// clamd takes chunks up to its StreamMaxLength; a few hundred KiB keep the system calls few.
constexpr std::size_t kChunkBytes = 256 * 1024;
// A reply is one short line ("stream: Name FOUND"); more is not clamd.
constexpr std::size_t kMaxReplyBytes = 4096;

// Sends all of `bytes`. MSG_NOSIGNAL: clamd closes the connection when a stream exceeds its
// limit, and a write to it must fail with an error, not end the process with SIGPIPE.
void send_all(net::StreamSocket& socket, std::string_view bytes) {
  while (!bytes.empty()) {
    auto n = socket.sendBytes(bytes.data(), static_cast<int>(bytes.size()), MSG_NOSIGNAL);
    if (n <= 0) throw Poco::IOException("clamd took no more bytes");
    bytes.remove_prefix(static_cast<std::size_t>(n));
  }
}

std::string length_prefix(std::size_t length) {
  auto n = static_cast<std::uint32_t>(length);
  return {static_cast<char>(n >> 24), static_cast<char>(n >> 16), static_cast<char>(n >> 8),
          static_cast<char>(n)};
}

// The reply up to its terminating NUL (the "z" form of the command) or the connection's end.
std::string read_reply(net::StreamSocket& socket) {
  std::string reply;
  char buffer[512];
  while (reply.size() < kMaxReplyBytes) {
    int n = socket.receiveBytes(buffer, sizeof buffer);
    if (n <= 0) break;
    reply.append(buffer, static_cast<std::size_t>(n));
    if (auto nul = reply.find('\0'); nul != std::string::npos) {
      reply.resize(nul);
      break;
    }
  }
  while (!reply.empty() && (reply.back() == '\n' || reply.back() == '\r')) reply.pop_back();
  return reply;
}

Result<ScanResult> parse_reply(const std::string& reply) {
  constexpr std::string_view kPrefix = "stream: ";
  constexpr std::string_view kFound = " FOUND";
  std::string_view rest = reply;
  if (rest.starts_with(kPrefix)) {
    rest.remove_prefix(kPrefix.size());
    if (rest == "OK") return ScanResult{};
    if (rest.ends_with(kFound) && rest.size() > kFound.size()) {
      return ScanResult{.infected = true,
                        .signature = std::string(rest.substr(0, rest.size() - kFound.size()))};
    }
  }
  // "... ERROR" (a size limit, a scan error) or anything that is not clamd's answer.
  return fail(Error::unavailable("the virus scanner could not check the file",
                                 fmt::format("clamd answered \"{}\"", reply)));
}

class ClamdScanner final : public VirusScanner {
 public:
  explicit ClamdScanner(ClamdOptions options) : options_(std::move(options)) {}

  Result<ScanResult> scan(std::string_view content) override {
    auto where = fmt::format("{}:{}", options_.host, options_.port);
    Poco::Timespan timeout(static_cast<long>(options_.timeout.count()), 0);
    net::StreamSocket socket;
    try {
      socket.connect(net::SocketAddress(options_.host, static_cast<Poco::UInt16>(options_.port)),
                     timeout);
      socket.setSendTimeout(timeout);
      socket.setReceiveTimeout(timeout);
    } catch (const Poco::Exception& e) {
      return fail(Error::unavailable("the virus scanner is not reachable",
                                     fmt::format("clamd {}: {}", where, e.displayText())));
    }
    try {
      send_all(socket, std::string_view("zINSTREAM\0", 10));
      while (!content.empty()) {
        auto chunk = content.substr(0, kChunkBytes);
        send_all(socket, length_prefix(chunk.size()));
        send_all(socket, chunk);
        content.remove_prefix(chunk.size());
      }
      send_all(socket, length_prefix(0));
    } catch (const Poco::Exception& e) {
      // clamd may have said why it stopped reading (a size limit) before it closed.
      std::string reply;
      try {
        reply = read_reply(socket);
      } catch (const Poco::Exception&) {
        // Nothing to read: the send error says enough.
      }
      return fail(Error::unavailable(
          "the virus scanner could not check the file",
          fmt::format("clamd {}: {}{}", where, e.displayText(),
                      reply.empty() ? std::string() : fmt::format(" (\"{}\")", reply))));
    }
    try {
      auto reply = read_reply(socket);
      if (reply.empty()) {
        return fail(Error::unavailable("the virus scanner could not check the file",
                                       fmt::format("clamd {}: no answer", where)));
      }
      return parse_reply(reply);
    } catch (const Poco::Exception& e) {
      return fail(Error::unavailable("the virus scanner could not check the file",
                                     fmt::format("clamd {}: {}", where, e.displayText())));
    }
  }

 private:
  ClamdOptions options_;
};

// libmagic's handle is not thread safe. One per thread: a lookup costs microseconds and the
// upload handlers run on many threads, so a shared handle behind a mutex would queue them;
// the compiled database is mapped, not copied, so a handle per thread costs little memory.
struct MagicHandle {
  magic_t cookie = nullptr;
  MagicHandle() {
    cookie = magic_open(MAGIC_MIME_TYPE);
    if (cookie == nullptr) throw Failure("libmagic: magic_open failed");
    if (magic_load(cookie, nullptr) != 0) {
      std::string why = magic_error(cookie) ? magic_error(cookie) : "unknown";
      magic_close(cookie);
      throw Failure("libmagic cannot load its database (package libmagic-mgc): " + why);
    }
  }
  ~MagicHandle() { magic_close(cookie); }
  MagicHandle(const MagicHandle&) = delete;
  MagicHandle& operator=(const MagicHandle&) = delete;
};

}  // namespace

std::unique_ptr<VirusScanner> make_clamd_scanner(ClamdOptions options) {
  return std::make_unique<ClamdScanner>(std::move(options));
}

std::string media_type_of(std::string_view content) {
  constexpr std::string_view kUnknown = "application/octet-stream";
  if (content.empty()) return std::string(kUnknown);
  thread_local MagicHandle magic;
  const char* type = magic_buffer(magic.cookie, content.data(), content.size());
  if (type == nullptr) return std::string(kUnknown);
  return type;
}

}  // namespace mvsp::core
