#pragma once
// Private to applications: its pages and its API.

#include <chrono>
#include <mvsp/core/clock.hpp>

namespace mvsp::web {
class Router;
class Pages;
class SessionStore;
class MachineClients;
}  // namespace mvsp::web
namespace mvsp::identity {
class Accounts;
class Organisations;
class Provider;
}  // namespace mvsp::identity
namespace mvsp::catalog {
class Catalog;
}
namespace mvsp::mailbox {
class Mailbox;
}
namespace mvsp::forms {
class Forms;
class Prefill;
}  // namespace mvsp::forms

namespace mvsp::applications {

class Applications;

struct PageOptions {
  const core::Clock* clock = nullptr;
  std::chrono::minutes step_up_lifetime{30};
  bool has_upstream = false;  // an eID provider: `high` can be reached
  identity::Organisations* organisations = nullptr;
  identity::Accounts* accounts = nullptr;
  web::SessionStore* sessions = nullptr;
  catalog::Catalog* catalog = nullptr;
  forms::Forms* forms = nullptr;
  forms::Prefill* prefill = nullptr;    // may be null: nothing is prefilled
  mailbox::Mailbox* mailbox = nullptr;  // the notices and messages of a Vorhaben
};

void register_pages(web::Router& router, const web::Pages& pages, Applications& apps,
                    PageOptions options);

// /api/v1/vorhaben: external online services. A Vorhaben is created with the token of the
// person (OpenID Connect code flow, scope "vorhaben"); status and messages are posted with
// the client's own token (client credentials, scope "vorhaben:write") for its Vorhaben.
void register_api(web::Router& router, Applications& apps, identity::Provider& provider,
                  web::MachineClients& clients);

}  // namespace mvsp::applications
