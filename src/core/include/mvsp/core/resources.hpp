#pragma once
// Text files compiled into the binary (migrations, templates, message catalogs).

#include <span>
#include <string_view>

namespace mvsp::core {

struct Resource {
  std::string_view path;  // relative to the component folder, e.g. "sql/0001_core.sql"
  std::string_view content;
};

// The resources of the core component itself.
std::span<const Resource> embedded_resources();

}  // namespace mvsp::core
