#include "wire.hpp"

#include <Poco/Net/HTTPServerResponse.h>
#include <fmt/format.h>

#include <mvsp/core/log.hpp>
#include <mvsp/web/errors.hpp>
#include <mvsp/web/http.hpp>
#include <optional>
#include <ostream>
#include <streambuf>

namespace mvsp::web {
namespace {

// Passes a streamed body on and counts it, so that a body shorter (or longer) than the
// Content-Length it announced is noticed.
class CountingBuffer final : public std::streambuf {
 public:
  explicit CountingBuffer(std::streambuf* target) : target_(target) {}
  std::int64_t count() const { return count_; }

 protected:
  int_type overflow(int_type ch) override {
    if (traits_type::eq_int_type(ch, traits_type::eof())) return traits_type::not_eof(ch);
    ++count_;
    return target_->sputc(traits_type::to_char_type(ch));
  }
  std::streamsize xsputn(const char* s, std::streamsize n) override {
    auto written = target_->sputn(s, n);
    count_ += written;
    return written;
  }
  int sync() override { return target_->pubsync(); }

 private:
  std::streambuf* target_;
  std::int64_t count_ = 0;
};

}  // namespace

void write_response(const Response& res, Poco::Net::HTTPServerResponse& out, bool head) {
  for (const auto& [k, v] : res.headers) {
    if (is_valid_header(k, v)) continue;
    core::log::error("http.unsafe_header", {{"header", k}});
    Response refused = Response::text("Interner Fehler / Internal error\n", 500);
    refused.set_header("Cache-Control", "no-store");
    write_response(refused, out, head);
    return;
  }
  out.setStatusAndReason(static_cast<Poco::Net::HTTPResponse::HTTPStatus>(res.status),
                         std::string(status_reason(res.status)));
  for (const auto& [k, v] : res.headers) {
    if (k == "Content-Length") continue;
    out.add(k, v);
  }
  if (head) {
    if (auto len = res.header("content-length")) out.setContentLength64(std::stoll(*len));
    out.send();
  } else if (res.stream) {
    std::optional<std::int64_t> announced;
    if (auto len = res.header("content-length")) {
      announced = std::stoll(*len);
      out.setContentLength64(*announced);
    } else {
      out.setChunkedTransferEncoding(true);
    }
    try {
      auto& sink = out.send();
      CountingBuffer counter(sink.rdbuf());
      std::ostream counted(&counter);
      res.stream(counted);
      counted.flush();
      if (!counted || (announced && counter.count() != *announced)) {
        throw core::Failure(
            fmt::format("streamed {} bytes of {} announced", counter.count(), *announced));
      }
    } catch (const std::exception& e) {
      // Too late for an error answer: logged here, and the exception ends the connection
      // (POCO closes it), so the body stays visibly incomplete and no later response on the
      // connection is read as the rest of it.
      core::log::error("http.stream_failed", {{"error", e.what()}});
      throw;
    }
  } else {
    out.setContentLength64(static_cast<Poco::Int64>(res.body.size()));
    out.sendBuffer(res.body.data(), res.body.size());
  }
}

}  // namespace mvsp::web
