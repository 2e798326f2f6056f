#include <Poco/Net/MessageHeader.h>
#include <Poco/Net/MultipartReader.h>
#include <Poco/Net/NameValueCollection.h>
#include <Poco/StreamCopier.h>
#include <Poco/String.h>

#include <mvsp/core/crypto.hpp>
#include <mvsp/web/http.hpp>
#include <mvsp/web/multipart.hpp>
#include <sstream>

namespace mvsp::web {

core::Result<std::vector<Part>> parse_multipart(const Request& req, std::size_t max_parts) {
  auto type = req.header("content-type").value_or("");
  std::string media;
  Poco::Net::NameValueCollection params;
  Poco::Net::MessageHeader::splitParameters(type, media, params);
  if (Poco::icompare(media, "multipart/form-data") != 0 || !params.has("boundary") ||
      params.get("boundary").empty()) {
    return core::fail(core::Error::unsupported_media_type(
        "The body must be sent as multipart/form-data with a boundary."));
  }
  std::vector<Part> parts;
  try {
    std::istringstream in(req.body);
    Poco::Net::MultipartReader reader(in, params.get("boundary"));
    while (reader.hasNextPart()) {
      if (parts.size() == max_parts) {
        return core::fail(
            core::Error::invalid("body", "has more than " + std::to_string(max_parts) + " parts"));
      }
      Poco::Net::MessageHeader header;
      reader.nextPart(header);
      Part p;
      std::string disposition;
      Poco::Net::NameValueCollection dparams;
      Poco::Net::MessageHeader::splitParameters(header.get("Content-Disposition", ""), disposition,
                                                dparams);
      p.name = dparams.get("name", "");
      p.filename = dparams.get("filename", "");
      p.content_type = header.get("Content-Type", "text/plain");
      Poco::StreamCopier::copyToString(reader.stream(), p.body);
      // POCO 1.11 takes a body that ends without the close delimiter ("--boundary--") as
      // complete, and when it ends inside a delimiter line it appends EOF as a byte 0xFF
      // to the part (found by fuzz/multipart_fuzz): a truncated upload would pass as a
      // whole, with a changed last document. A part (or its headers) that runs into the
      // end of the body is refused; after the close delimiter the stream is still good.
      bool closed = in.good() && !reader.hasNextPart();
      if (!closed && in.rdbuf()->sgetc() == std::char_traits<char>::eof()) {
        return core::fail(core::Error::invalid("body", "ends before its closing boundary"));
      }
      parts.push_back(std::move(p));
    }
  } catch (const Poco::Exception&) {
    return core::fail(core::Error::invalid("body", "is not a valid multipart/form-data body"));
  }
  return parts;
}

MultipartBody build_multipart(const std::vector<Part>& parts) {
  auto boundary = "mvsp-" + core::crypto::random_token(18);
  std::string body;
  for (const auto& p : parts) {
    body += "--" + boundary + "\r\nContent-Disposition: form-data; name=\"" + p.name + "\"";
    if (!p.filename.empty()) body += "; filename=\"" + p.filename + "\"";
    body += "\r\nContent-Type: " + (p.content_type.empty() ? "text/plain" : p.content_type);
    body += "\r\n\r\n" + p.body + "\r\n";
  }
  body += "--" + boundary + "--\r\n";
  return {"multipart/form-data; boundary=" + boundary, body};
}

}  // namespace mvsp::web
