#pragma once
// The payment platform as a component of the platform (see mvsp/web/component.hpp): its
// sections [payments] and [payments.providers.NAME]; it needs identity (machine clients,
// staff roles through catalog::StaffRoles) and the catalog (authorities), and offers
// payments::Payments.

#include <chrono>
#include <memory>
#include <mvsp/payments/payments.hpp>
#include <string>
#include <vector>

namespace mvsp::core {
class Config;
}
namespace mvsp::web {
class Component;
}

namespace mvsp::payments {

// A configured provider: XBezahldiensteOptions without the transport, and its timeout.
struct ProviderSettings {
  XBezahldiensteOptions options;
  int timeout_seconds = 20;
  std::string page_origin;  // where its payment pages are; default: the base URL's origin
};

struct Settings {
  PaymentsOptions options;
  std::chrono::seconds sweep_every{60};  // expiry and reconciliation
  std::vector<ProviderSettings> providers;
};

// Reads [payments] and [payments.providers.*]; problems are recorded in `config`.
Settings read_settings(core::Config& config);

std::unique_ptr<web::Component> make_component();

}  // namespace mvsp::payments
