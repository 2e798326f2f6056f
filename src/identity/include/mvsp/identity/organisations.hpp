#pragma once
// Organisation accounts: members, invitations, acting for one; mailbox owners.
#include <memory>
#include <mvsp/identity/model.hpp>
#include <string_view>

namespace mvsp::identity {

class Organisations {
 public:
  explicit Organisations(std::shared_ptr<internal::Internals> internals)
      : impl_(std::move(internals)) {}

  // Organisation accounts. Whoever creates one is its first admin; admins invite people by
  // mail (the link works for the invited address only), members act for it after
  // choosing it. Every call checks membership (not_found for outsiders) and, for changes,
  // the admin role (forbidden); an organisation always keeps an admin.
  core::Result<Organisation> create_organisation(std::string_view actor, std::string_view name,
                                                 std::string_view locale);
  std::vector<Organisation> organisations_of(std::string_view account_id);
  core::Result<Organisation> organisation(std::string_view actor, std::string_view id);
  core::Result<std::vector<OrganisationMember>> organisation_members(std::string_view actor,
                                                                     std::string_view id);
  core::Status invite_to_organisation(std::string_view actor, std::string_view id,
                                      std::string_view email, std::string_view role,
                                      std::string_view locale);
  // The organisation the invitation is for, if it is valid and meant for `actor`.
  core::Result<Organisation> check_invitation(std::string_view actor, std::string_view token,
                                              std::string_view locale);
  core::Result<Organisation> accept_invitation(std::string_view actor, std::string_view token,
                                               std::string_view locale);
  core::Status remove_from_organisation(std::string_view actor, std::string_view id,
                                        std::string_view member, std::string_view locale);
  // The account or organisation with this id, for the mailbox; nothing when neither exists.
  std::optional<MailboxOwner> mailbox_owner(std::string_view id);

 private:
  std::shared_ptr<internal::Internals> impl_;
};

}  // namespace mvsp::identity
