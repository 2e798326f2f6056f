#pragma once
// The web component's embedded templates, messages and migrations.

#include <span>

#include <mvsp/core/resources.hpp>

namespace mvsp::web {
std::span<const core::Resource> embedded_resources();
}
