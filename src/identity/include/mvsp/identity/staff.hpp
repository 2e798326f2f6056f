#pragma once
// Tenants (authorities) and their staff: roles, invitations, operators.
#include <memory>
#include <mvsp/identity/model.hpp>
#include <string_view>

namespace mvsp::identity {

class Staff {
 public:
  explicit Staff(std::shared_ptr<internal::Internals> internals) : impl_(std::move(internals)) {}

  core::Result<Tenant> create_tenant(std::string_view name, std::string_view actor);
  // Staff self-service of an authority. Every call checks that `actor` is an
  // authority_admin of `tenant_id` (forbidden otherwise) and that the member belongs to
  // that tenant (not_found otherwise), so no admin reaches another authority's staff.
  std::vector<Tenant> administered_tenants(std::string_view actor);
  // Operators run the installation (client registry); the role is given on the command line.
  bool is_operator(std::string_view account_id);
  // The account's staff roles: (tenant id, role) pairs.
  std::vector<std::pair<std::string, std::string>> roles_of(std::string_view account_id);
  std::vector<Tenant> tenants();
  std::optional<Tenant> tenant(std::string_view id);
  // Who is told when something of the tenant needs a person: its authority admins' addresses.
  std::vector<std::string> tenant_contacts(std::string_view tenant_id);
  core::Result<std::vector<StaffMember>> list_staff(std::string_view actor,
                                                    std::string_view tenant_id);
  // The same without the admin's check: for the platform's own components (a case's
  // colleagues), never for a route.
  std::vector<StaffMember> members(std::string_view tenant_id);
  core::Result<StaffMember> staff_member(std::string_view actor, std::string_view tenant_id,
                                         std::string_view member_id);
  // Mails a link (valid 7 days) to the address and keeps the invitation until it is
  // accepted, withdrawn or expired. Nothing is added to the authority before the owner of
  // the address accepts, and the admin sees the same pending invitation whether or not the
  // address has an account, so no admin probes addresses or adds someone without consent.
  // A new invitation of the same address to the same authority replaces the earlier one.
  // Throttled per client and per address typed before anything is mailed.
  core::Status invite_staff(std::string_view actor, std::string_view tenant_id,
                            const NewStaff& input);
  core::Result<std::vector<StaffInvitation>> staff_invitations(std::string_view actor,
                                                               std::string_view tenant_id);
  core::Status withdraw_staff_invitation(std::string_view actor, std::string_view tenant_id,
                                         std::string_view invitation_id);
  // For whoever holds the link: not_found when it is unknown, used or expired.
  core::Result<StaffInvitationCheck> check_staff_invitation(std::string_view token,
                                                            std::string_view actor,
                                                            std::string_view locale);
  // Makes the staff account (set_password) or gives the signed-in invited account the role
  // (accept); single use, so parallel requests accept once.
  core::Result<StaffJoined> accept_staff_invitation(const StaffInvitationAcceptance& input);
  // Replaces the member's roles in the tenant; an admin cannot take their own admin role.
  core::Status set_staff_roles(std::string_view actor, std::string_view tenant_id,
                               std::string_view member_id, const std::vector<std::string>& roles,
                               std::string_view locale);
  core::Status remove_staff(std::string_view actor, std::string_view tenant_id,
                            std::string_view member_id, std::string_view locale);

 private:
  std::shared_ptr<internal::Internals> impl_;
};

}  // namespace mvsp::identity
