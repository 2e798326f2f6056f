#pragma once
// The mailbox as a component of the platform (see mvsp/web/component.hpp): its section
// [mailbox]; it needs identity (its pages, and mailbox::Owners wired in src/app) and
// offers mailbox::Mailbox.

#include <memory>

namespace mvsp::core {
class Config;
}
namespace mvsp::web {
class Component;
}

namespace mvsp::mailbox {

struct MailboxOptions;

// Reads [mailbox] into `options` (deemed_after_days, retrieval_period_days).
void read_settings(core::Config& config, MailboxOptions& options);

std::unique_ptr<web::Component> make_component();

}  // namespace mvsp::mailbox
