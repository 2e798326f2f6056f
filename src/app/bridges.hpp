#pragma once
// What catalog, mailbox and delivery ask of identity, through the narrow interfaces they
// declare (catalog::StaffRoles, mailbox::Owners, delivery::Senders), answered here by
// identity's parts. App offers them to the components; tests that build a mailbox or
// delivery service by hand use them too.
#include <memory>
#include <mvsp/catalog/component.hpp>
#include <mvsp/delivery/delivery.hpp>
#include <mvsp/identity/organisations.hpp>
#include <mvsp/identity/staff.hpp>
#include <mvsp/mailbox/mailbox.hpp>
#include <mvsp/web/component.hpp>
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

class StaffRoles final : public catalog::StaffRoles {
 public:
  explicit StaffRoles(identity::Staff& staff) : staff_(staff) {}
  std::vector<std::pair<std::string, std::string>> roles_of(std::string_view account_id) override {
    return staff_.roles_of(account_id);
  }

 private:
  identity::Staff& staff_;
};

// Made when a component first needs one, from identity (which that component lists in
// its needs, so it is built by then).
inline void offer_bridges(web::Services& services) {
  auto* s = &services;
  services.offer_lazy<mailbox::Owners>(
      [s] { return std::make_shared<MailboxOwners>(s->need<identity::Organisations>()); });
  services.offer_lazy<delivery::Senders>(
      [s] { return std::make_shared<TenantSenders>(s->need<identity::Staff>()); });
  services.offer_lazy<catalog::StaffRoles>(
      [s] { return std::make_shared<StaffRoles>(s->need<identity::Staff>()); });
}

}  // namespace mvsp::app
