#pragma once
// The application steering (eAst) as a component of the platform (see
// mvsp/web/component.hpp): its section [applications]; it needs identity, the catalog,
// forms, payments, the mailbox and cases, and offers applications::Applications.

#include <memory>

namespace mvsp::web {
class Component;
}

namespace mvsp::applications {

std::unique_ptr<web::Component> make_component();

}  // namespace mvsp::applications
