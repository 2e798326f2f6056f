#pragma once
// The case management as a component of the platform (see mvsp/web/component.hpp): it
// needs identity (staff roles through catalog::StaffRoles) and the catalog (authorities'
// names), keeps its documents in its own blob store under the data directory ("cases"),
// and offers cases::Cases.

#include <memory>

namespace mvsp::web {
class Component;
}

namespace mvsp::cases {

std::unique_ptr<web::Component> make_component();

}  // namespace mvsp::cases
