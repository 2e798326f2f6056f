#pragma once
// Uploaded files are scanned for malware before they are stored (a port with a clamd
// adapter), and their media type is told by their content, never by their name.

#include <chrono>
#include <memory>
#include <mvsp/core/error.hpp>
#include <string>
#include <string_view>

namespace mvsp::core {

// What a scan found. `signature` is clamd's name of it ("Win.Test.EICAR_HDB-1"); empty when
// the content is clean.
struct ScanResult {
  bool infected = false;
  std::string signature;
};

class VirusScanner {
 public:
  virtual ~VirusScanner() = default;
  // unavailable when the scanner cannot be reached, times out or answers with an error (e.g.
  // "INSTREAM size limit exceeded"): the caller refuses the upload, never stores it unscanned.
  // Safe to call from several threads at once.
  virtual Result<ScanResult> scan(std::string_view content) = 0;
};

// Where clamd listens (its TCPSocket and TCPAddr); `timeout` bounds the connect and each
// send and receive.
struct ClamdOptions {
  std::string host = "127.0.0.1";
  int port = 3310;
  std::chrono::seconds timeout{30};
};

// Scans with clamd's INSTREAM command over TCP, one connection per scan. clamd's
// StreamMaxLength must be at least the largest upload, or such uploads are refused.
std::unique_ptr<VirusScanner> make_clamd_scanner(ClamdOptions options);

// The media type by content (libmagic, MAGIC_MIME_TYPE): "application/pdf", "image/png",
// "image/jpeg", "text/plain", …; "application/octet-stream" when unknown or empty. Safe to
// call from several threads at once.
std::string media_type_of(std::string_view content);

}  // namespace mvsp::core
