#pragma once
// The finder as a component of the platform (see mvsp/web/component.hpp): it needs the
// catalog, offers finder::Finder, and keeps its index current in a thread of its own.

#include <memory>

namespace mvsp::web {
class Component;
}

namespace mvsp::finder {

std::unique_ptr<web::Component> make_component();

}  // namespace mvsp::finder
