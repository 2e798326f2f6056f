#pragma once
// What mailbox and delivery ask of identity, through the narrow interfaces they declare
// (mailbox::Owners, delivery::Senders), answered here by identity's parts. App wires them;
// tests that build a mailbox or delivery service use them too.
#include <mvsp/delivery/delivery.hpp>
#include <mvsp/identity/organisations.hpp>
#include <mvsp/identity/staff.hpp>
#include <mvsp/mailbox/mailbox.hpp>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace mvsp::app {

class MailboxOwners final : public mailbox::Owners {
 public:
  explicit MailboxOwners(identity::Organisations& organisations) : organisations_(organisations) {}
  std::optional<std::vector<std::string>> notify_addresses(std::string_view id) override {
    auto owner = organisations_.mailbox_owner(id);
    if (!owner) return std::nullopt;
    return owner->emails;
  }

 private:
  identity::Organisations& organisations_;
};

class TenantSenders final : public delivery::Senders {
 public:
  explicit TenantSenders(identity::Staff& staff) : staff_(staff) {}
  std::optional<std::string> name(std::string_view tenant_id) override {
    auto tenant = staff_.tenant(tenant_id);
    if (!tenant) return std::nullopt;
    return tenant->name;
  }
  std::vector<std::string> contacts(std::string_view tenant_id) override {
    return staff_.tenant_contacts(tenant_id);
  }

 private:
  identity::Staff& staff_;
};

}  // namespace mvsp::app
