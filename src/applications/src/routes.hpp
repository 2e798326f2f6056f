#pragma once
// Private to applications: its pages and its API.

#include <chrono>
#include <functional>
#include <mvsp/core/clock.hpp>
#include <string>

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
namespace mvsp::cases {
class Casework;
}
namespace mvsp::payments {
class Payments;
}

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

// The demo's sample Vorhaben (demo.cpp): what they need, and a line for `mvsp demo`.
struct DemoParts {
  Applications& apps;
  cases::Casework& work;
  payments::Payments& payments;
  const core::Clock& clock;
  std::function<void()> run_jobs;  // runs the jobs that are due
  std::string citizen;             // the demo citizen's account
  std::string clerk;               // the demo clerk of Wismar
  std::string tenant;              // Wismar's tenant
  std::string information_tenant;  // the Munitionsbergungsdienst's tenant (decides by itself)
};
// The Hundesteuer Vorgänge of Wismar in every state, and a Kampfmittel-Auskunft that the
// Munitionsbergungsdienst decides automatically; a line for each.
std::vector<std::string> load_demo_vorgaenge(const DemoParts& parts);

}  // namespace mvsp::applications
