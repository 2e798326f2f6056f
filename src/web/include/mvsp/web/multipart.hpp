#pragma once
// multipart/form-data bodies (RFC 7578), read with POCO's MultipartReader: for APIs that
// take documents with their metadata in one request.

#include <mvsp/core/error.hpp>
#include <string>
#include <vector>

namespace mvsp::web {

struct Request;

struct Part {
  std::string name;          // the form field name
  std::string filename;      // empty unless the part is a file
  std::string content_type;  // as sent; "text/plain" when absent
  std::string body;
};

// The parts of the request body; unsupported_media_type when the request is not
// multipart/form-data, invalid_input (field "body") when the body cannot be split. At most
// `max_parts`.
core::Result<std::vector<Part>> parse_multipart(const Request& req, std::size_t max_parts = 64);

// A body for tests and clients: each part with its headers, and the Content-Type to send.
struct MultipartBody {
  std::string content_type;
  std::string body;
};
MultipartBody build_multipart(const std::vector<Part>& parts);

}  // namespace mvsp::web
