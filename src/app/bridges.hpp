#pragma once
// What catalog, mailbox and delivery ask of identity, through the narrow interfaces they
// declare (catalog::StaffRoles, mailbox::Owners, delivery::Senders), answered here by
// identity's parts. App offers them to the components; tests that build a mailbox or
// delivery service by hand use them too.
#include <memory>
#include <mvsp/cases/casework.hpp>
#include <mvsp/catalog/component.hpp>
#include <mvsp/delivery/delivery.hpp>
#include <mvsp/forms/component.hpp>
#include <mvsp/forms/filling.hpp>
#include <mvsp/identity/accounts.hpp>
#include <mvsp/identity/organisations.hpp>
#include <mvsp/identity/staff.hpp>
#include <mvsp/mailbox/mailbox.hpp>
#include <mvsp/web/component.hpp>
#include <mvsp/web/sessions.hpp>
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

// The colleagues of a Vorgang's tenant and the tenant's name, for the case management.
class StaffDirectory final : public cases::StaffDirectory {
 public:
  explicit StaffDirectory(identity::Staff& staff) : staff_(staff) {}
  std::vector<cases::Colleague> colleagues(std::string_view tenant_id) override {
    std::vector<cases::Colleague> out;
    for (auto& m : staff_.members(tenant_id)) {
      out.push_back({std::move(m.id), std::move(m.name), std::move(m.email), std::move(m.roles)});
    }
    return out;
  }
  std::string tenant_name(std::string_view tenant_id) override {
    auto tenant = staff_.tenant(tenant_id);
    return tenant ? tenant->name : std::string(tenant_id);
  }

 private:
  identity::Staff& staff_;
};

// A form's prefill from the signed-in person's account, and the organisation they act
// for. Which values an eID vouched for is the application journey's to say (it knows how
// the person identified for this application); here nothing is locked.
class AccountPrefill final : public forms::Prefill {
 public:
  explicit AccountPrefill(identity::Accounts& accounts) : accounts_(accounts) {}
  void fill(const web::Session& session, forms::FillContext& context) override {
    if (session.account_id.empty()) return;
    auto account = accounts_.find(session.account_id);
    if (!account) return;
    const auto& p = account->profile;
    auto& v = context.prefill;
    v["account.salutation"] = p.salutation;
    v["account.given_name"] = p.given_name;
    v["account.family_name"] = p.family_name;
    v["account.birth_name"] = p.birth_name;
    v["account.doctoral_degree"] = p.doctoral_degree;
    v["account.birth_date"] = p.birth_date;
    v["account.birth_place"] = p.birth_place;
    v["account.email"] = account->email;
    // "Am Markt 1a": the profile keeps street and number in one line
    auto space = p.street.find_last_of(' ');
    bool number = space != std::string::npos && space + 1 < p.street.size() &&
                  std::isdigit(static_cast<unsigned char>(p.street[space + 1]));
    v["account.street"] = number ? p.street.substr(0, space) : p.street;
    v["account.house_number"] = number ? p.street.substr(space + 1) : std::string();
    v["account.postcode"] = p.postcode;
    v["account.city"] = p.city;
    if (auto it = session.data.find("acting_for_name"); it != session.data.end())
      v["organisation.name"] = it->second;
  }

 private:
  identity::Accounts& accounts_;
};

// Made when a component first needs one, from identity (which that component lists in
// its needs, so it is built by then).
inline void offer_bridges(web::Services& services) {
  auto* s = &services;
  services.offer_lazy<mailbox::Owners>(
      [s] { return std::make_shared<MailboxOwners>(s->need<identity::Organisations>()); });
  services.offer_lazy<delivery::Senders>(
      [s] { return std::make_shared<TenantSenders>(s->need<identity::Staff>()); });
  services.offer_lazy<forms::Prefill>(
      [s] { return std::make_shared<AccountPrefill>(s->need<identity::Accounts>()); });
  services.offer_lazy<cases::StaffDirectory>(
      [s] { return std::make_shared<StaffDirectory>(s->need<identity::Staff>()); });
  services.offer_lazy<catalog::StaffRoles>(
      [s] { return std::make_shared<StaffRoles>(s->need<identity::Staff>()); });
}

}  // namespace mvsp::app
