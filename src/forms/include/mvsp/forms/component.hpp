#pragma once
// The forms component (Formularmanagementsystem): form definitions with versions, the
// citizen's pages through a preview, outputs. It offers forms::Forms; it needs the
// catalog (editors' rights) and identity (staff roles, through catalog::StaffRoles).

#include <memory>
#include <mvsp/core/resources.hpp>
#include <span>

namespace mvsp::web {
class Component;
struct Session;
}  // namespace mvsp::web

namespace mvsp::forms {

struct FillContext;

// What a form may take from the person filling it: the values to prefill, by binding
// (prefill_bindings in docs/forms.md), and which of them an eID vouched for. identity
// answers it, wired in src/app.
class Prefill {
 public:
  virtual ~Prefill() = default;
  virtual void fill(const web::Session& session, FillContext& context) = 0;
};

std::span<const core::Resource> embedded_resources();
std::unique_ptr<web::Component> make_component();

}  // namespace mvsp::forms
