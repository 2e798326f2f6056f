#pragma once
// Identity as a component of the platform (see mvsp/web/component.hpp): its section
// [identity] with [identity.upstream.NAME], and what it offers the other components:
// identity::Identity, identity::Provider, identity::Settings and, with upstreams,
// identity::Federation.

#include <chrono>
#include <memory>
#include <mvsp/identity/federation.hpp>
#include <vector>

namespace mvsp::core {
class Config;
}
namespace mvsp::web {
class Component;
}

namespace mvsp::identity {

struct Settings {
  // A raised trust level (step-up) counts this long.
  std::chrono::minutes step_up_lifetime{30};
  // Then a citizen's account that was never confirmed is deleted.
  std::chrono::days unconfirmed_account_lifetime{30};
  std::vector<UpstreamConfig> upstreams;
};

// Reads [identity] and every [identity.upstream.NAME]; problems are recorded in `config`.
Settings read_settings(core::Config& config);

std::unique_ptr<web::Component> make_component();

}  // namespace mvsp::identity
