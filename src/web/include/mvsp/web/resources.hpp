#pragma once
// The web component's embedded templates, messages and migrations.

#include <mvsp/core/resources.hpp>
#include <span>

namespace mvsp::web {
std::span<const core::Resource> embedded_resources();
}
