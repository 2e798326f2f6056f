#pragma once
// Private to applications: a document rule as the citizen reads it, on the pages and in the
// refusals of the use cases.

#include <cctype>
#include <cstdint>
#include <string>
#include <vector>

namespace mvsp::applications {

// "application/pdf", "image/jpeg" -> "PDF, JPG".
inline std::string type_names(const std::vector<std::string>& types) {
  std::string out;
  for (const auto& t : types) {
    auto slash = t.find('/');
    auto name = slash == std::string::npos ? t : t.substr(slash + 1);
    for (auto& ch : name) ch = static_cast<char>(std::toupper(static_cast<unsigned char>(ch)));
    if (name == "JPEG") name = "JPG";
    out += (out.empty() ? "" : ", ") + name;
  }
  return out;
}

// Whole megabytes, rounded up: what a size limit is called.
inline std::int64_t megabytes(std::int64_t bytes) {
  return (bytes + 1024 * 1024 - 1) / (1024 * 1024);
}

}  // namespace mvsp::applications
