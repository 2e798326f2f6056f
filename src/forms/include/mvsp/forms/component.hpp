#pragma once
// The forms component (Formularmanagementsystem): form definitions with versions, the
// citizen's pages through a preview, outputs. It offers forms::Forms; it needs the
// catalog (editors' rights) and identity (staff roles, through catalog::StaffRoles).

#include <memory>
#include <mvsp/core/resources.hpp>
#include <span>

namespace mvsp::web {
class Component;
}

namespace mvsp::forms {

std::span<const core::Resource> embedded_resources();
std::unique_ptr<web::Component> make_component();

}  // namespace mvsp::forms
