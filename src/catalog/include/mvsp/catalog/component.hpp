#pragma once
// The catalog as a component of the platform (see mvsp/web/component.hpp). It offers
// catalog::Catalog; it needs web::MachineClients (its API's bearer tokens) and StaffRoles.

#include <memory>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace mvsp::web {
class Component;
}

namespace mvsp::catalog {

// The roles of a member of staff, (tenant id, role), for the editor's pages; identity
// answers it, wired in src/app.
class StaffRoles {
 public:
  virtual ~StaffRoles() = default;
  virtual std::vector<std::pair<std::string, std::string>> roles_of(
      std::string_view account_id) = 0;
};

std::unique_ptr<web::Component> make_component();

}  // namespace mvsp::catalog
