#pragma once
// The catalog as a component of the platform (see mvsp/web/component.hpp). It offers
// catalog::Catalog; it needs web::MachineClients (its API's bearer tokens) and StaffRoles.

#include <memory>
#include <mvsp/catalog/catalog.hpp>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace mvsp::web {
class Component;
struct Request;
}  // namespace mvsp::web

namespace mvsp::catalog {

// The roles of a member of staff, (tenant id, role), for the editor's pages; identity
// answers it, wired in src/app.
class StaffRoles {
 public:
  virtual ~StaffRoles() = default;
  virtual std::vector<std::pair<std::string, std::string>> roles_of(
      std::string_view account_id) = 0;
};

// The editor a signed-in member of staff is, by their roles (staff_editor); nullopt for a
// visitor, a citizen or staff without the role `editor`. The catalog's and the forms'
// editorial pages ask it.
std::optional<Editor> session_editor(const web::Request& req, StaffRoles& staff, Catalog& catalog);

std::unique_ptr<web::Component> make_component();

}  // namespace mvsp::catalog
