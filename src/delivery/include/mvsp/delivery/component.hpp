#pragma once
// The delivery service as a component of the platform (see mvsp/web/component.hpp): its
// sections [delivery], [delivery.bundid] and [delivery.muk]; it needs the mailbox (its
// own adapter), identity (machine clients' tokens, delivery::Senders wired in src/app)
// and offers delivery::Delivery.

#include <memory>
#include <mvsp/delivery/delivery.hpp>
#include <string>
#include <vector>

namespace mvsp::core {
class Config;
}
namespace mvsp::web {
class Component;
}

namespace mvsp::delivery {

// A federal mailbox the delivery service writes to ([delivery.bundid], [delivery.muk]).
struct ExternalMailbox {
  std::string type;
  std::string endpoint;
  // Read from the PEM files author_key and author_certificate; both empty: a generated
  // pair in <data_dir>/delivery-keys.
  std::string author_key_pem;
  std::string author_certificate_pem;
  std::string bearer_token;
  int timeout_seconds = 30;
};

struct Settings {
  // Retries, limits and keeping; the component fills in what comes from the platform.
  DeliveryOptions options;
  std::string service = "Serviceportal";  // "service" in federal mailbox messages
  std::vector<ExternalMailbox> mailboxes;
};

// Reads [delivery] and its mailbox sections; problems are recorded in `config`.
Settings read_settings(core::Config& config);

std::unique_ptr<web::Component> make_component();

}  // namespace mvsp::delivery
