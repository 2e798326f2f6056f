#pragma once
// Identity (MV-Nutzerkonto): tenants, citizen and staff accounts, registration with e-mail
// confirmation, password login with throttling, the profile, and TOTP as second factor.

#include <chrono>
#include <memory>
#include <mvsp/core/clock.hpp>
#include <mvsp/core/error.hpp>
#include <mvsp/core/resources.hpp>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace mvsp::core {
class IdGenerator;
class JobQueue;
class AuditLog;
namespace db {
class Database;
}
}  // namespace mvsp::core

namespace mvsp::web {
class Catalog;
class Router;
class Pages;
class SessionStore;
}  // namespace mvsp::web

namespace mvsp::identity {

std::span<const core::Resource> embedded_resources();

// Level of assurance, in ascending order.
enum class TrustLevel { basic, low, substantial, high };
std::string_view level_name(TrustLevel level);
std::optional<TrustLevel> parse_level(std::string_view name);

struct Profile {
  std::string salutation;
  std::string given_name;
  std::string family_name;
  std::string birth_name;
  std::string doctoral_degree;
  std::string artistic_name;  // Ordens- oder Künstlername
  std::string birth_date;     // YYYY-MM-DD or empty
  std::string birth_place;
  std::string street;  // Straße und Hausnummer
  std::string postcode;
  std::string city;
  std::string country;  // ISO 3166-1 alpha-2, "DE" by default
};

struct Account {
  std::string id;
  std::string kind;  // "citizen" or "staff"
  std::string email;
  bool email_verified = false;
  bool totp_enabled = false;
  std::string locale;
  Profile profile;
  core::TimePoint created_at;

  // The mailbox id other components deliver to ("mvsp:<id>").
  std::string mailbox() const { return "mvsp:" + id; }
  // The level a login with password (and second factor, if set up) reaches.
  TrustLevel password_level() const { return email_verified ? TrustLevel::low : TrustLevel::basic; }
};

struct Tenant {
  std::string id;
  std::string name;
};

struct NewAccount {
  std::string email;
  std::string password;
  std::string given_name;
  std::string family_name;
  bool verified = false;
  std::string role;       // staff role; empty for a citizen
  std::string tenant_id;  // with a role
  std::string locale = "de";
};

struct Registration {
  std::string email;
  std::string password;
  std::string password_repeat;
  std::string given_name;
  std::string family_name;
  std::string locale = "de";
  std::string source_address;  // the client, for throttling
};

struct LoginAttempt {
  std::string email;
  std::string password;
  std::string source_address;
  std::string device_cookie;  // the mvsp_device cookie, if the browser has one
};

struct Reauthentication {
  std::string email;  // typed, or the signed-in account's own
  std::string password;
  std::string code;  // the second factor's code, where one is set up
  std::string source_address;
  std::string device_cookie;
};

struct LoginResult {
  Account account;
  bool second_factor_required = false;
  std::string device_cookie;  // new value for the mvsp_device cookie
};

struct TotpEnrollment {
  std::string secret;  // base32, for manual entry
  std::string uri;     // otpauth:// URI, for the QR code
};

// Adding, replacing or removing the second factor: the person proves the password and,
// when a factor is in place, that factor (a TOTP code or a recovery code).
struct SecondFactorChange {
  std::string account_id;
  std::string password;
  std::string current_code;  // of the factor in place; ignored when there is none
  std::string secret;        // the new secret from begin_totp (not for removal)
  std::string code;          // a code of the new secret (not for removal)
  std::string source_address;
};

// What proves the owner before the account is deleted.
struct AccountDeletion {
  std::string account_id;
  std::string password;
  std::string current_code;  // TOTP or recovery code; ignored when no second factor is set up
  std::string source_address;
};

// One-time codes that stand in for a TOTP code (lost phone); shown once, stored hashed.
struct RecoveryCodes {
  std::vector<std::string> codes;  // "12345-67890-12345-67890"
};

// One line of a person's own history.
struct Activity {
  core::TimePoint at;
  std::string action;  // "password_verified", "login_failed", "profile_changed", …
};

// A member of an authority's staff as its admins see it.
struct StaffMember {
  std::string id;
  std::string email;
  std::string name;
  std::vector<std::string> roles;  // within the tenant
};

// An invitation to an authority's staff that waits for the invited person to accept it.
struct StaffInvitation {
  std::string id;
  std::string email;
  std::string name;
  std::string role;
  core::TimePoint expires_at;
};

// What the link of a staff invitation asks of the person who opened it.
struct StaffInvitationCheck {
  enum class Next {
    set_password,     // the address has no account yet: one is made with this password
    sign_in,          // the address has a staff account, and someone else (or nobody) is signed in
    accept,           // the signed-in account is the invited one
    citizen_address,  // the address belongs to a citizen account, which never becomes staff
  };
  Next next;
  std::string tenant_name;
  std::string role;
  std::string email;
};

struct StaffInvitationAcceptance {
  std::string token;
  std::string actor;     // the signed-in account, or empty
  std::string password;  // for a new account only
  std::string password_repeat;
  std::string locale = "de";
};

struct StaffJoined {
  Account member;
  // An unconfirmed citizen registration of the address that gave way (its sessions end).
  std::string replaced_account_id;
};

struct NewStaff {
  std::string email;
  std::string given_name;
  std::string family_name;
  std::string role;
  std::string locale = "de";
  std::string source_address;  // the admin's client, for throttling
};

// An organisation account (Organisationskonto) as one of its members sees it.
struct Organisation {
  std::string id;
  std::string name;
  std::string role;  // the viewer's role: "admin" or "member"
};

struct OrganisationMember {
  std::string account_id;
  std::string name;
  std::string email;
  std::string role;
};

// Who receives what arrives in a mailbox (`mvsp:<id>`): an account or an organisation.
struct MailboxOwner {
  std::string id;
  bool organisation = false;
  std::string name;
  std::vector<std::string> emails;  // verified addresses to notify (an organisation's members)
};

struct PasswordReset {
  std::string token;
  std::string password;
  std::string password_repeat;
  std::string locale = "de";
};

struct IdentityOptions {
  std::string public_url;
  std::string site_name = "Serviceportal";
  std::string key;  // 32 bytes, derived from the master key for identity
  // Growing delays after failed logins (no permanent lockout).
  int free_failures = 4;  // per login name and per account's codes
  // Per client address (IPv6: per /64): a household shares one, and a success does not
  // clear it.
  int free_failures_per_address = 20;
  std::chrono::seconds max_delay_per_address{15 * 60};
  std::chrono::seconds max_delay_per_login{60};
  // Wrong second-factor codes per account: the same growing delay, up to this.
  std::chrono::seconds max_delay_per_code{15 * 60};
  std::chrono::hours token_lifetime{24};
  std::chrono::minutes reset_lifetime{60};
  std::chrono::hours invitation_lifetime{7 * 24};
};

// Staff roles.
const std::vector<std::string>& staff_roles();

class Identity {
 public:
  Identity(core::db::Database& db, const core::Clock& clock, core::IdGenerator& ids,
           core::JobQueue& jobs, core::AuditLog& audit, const web::Catalog& catalog,
           IdentityOptions options);

  core::Result<Tenant> create_tenant(std::string_view name, std::string_view actor);
  // For operators and scripts (`mvsp user create`).
  core::Result<Account> create_account(const NewAccount& input, std::string_view actor);

  // Self-registration. Sends the confirmation mail; when the address is taken, sends a
  // note to its owner instead, so the page never tells whether an address is registered.
  // Throttled per client and per address typed (rate_limited, with retry_after)
  // before the password is hashed or a mail is queued.
  core::Status register_citizen(const Registration& input);
  core::Result<Account> confirm_email(std::string_view token);

  // Password check with throttling per source address and per login name: the same
  // answer for an unknown address and a wrong password; rate_limited while a delay runs.
  // The attempt is reserved (counted) in the database before the password is hashed, so
  // parallel guesses are each counted; a success clears the count.
  // A browser that logged in before (valid device cookie) is not held by the per-login
  // delay, so an attacker cannot lock the owner out.
  core::Result<LoginResult> login(const LoginAttempt& attempt);

  // Sends a link to set a new password when the address has an account; the answer is the
  // same either way. At most one mail per account every 5 minutes; throttled per client
  // and per address typed.
  core::Status request_password_reset(std::string_view email, std::string_view locale,
                                      std::string_view source_address);
  // Sets the new password from a reset link (single use, 60 minutes); the link is checked
  // before the password is hashed. The caller ends the account's sessions.
  core::Result<Account> reset_password(const PasswordReset& input);

  // The account's own history, newest first.
  std::vector<Activity> activity(std::string_view account_id, int limit);
  // Deletes the account after checking its password and, when one is set up, its second
  // factor (DSGVO Art. 17): a stolen session alone deletes nothing. The audit log keeps
  // the account's id, never its personal data. The caller ends the account's sessions.
  core::Status delete_account(const AccountDeletion& request);
  // The same for a person the caller has just identified otherwise (a fresh login through
  // an upstream provider), e.g. an account made from the eID that has no known password.
  core::Status delete_account_reauthenticated(std::string_view account_id);

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

  // A citizen account for a person an upstream provider identified: the profile from
  // there, an unknown password (one can be set with "Passwort vergessen") and a
  // confirmation mail for `email`, which the person chose. When the address is taken,
  // nothing is created (an empty result) and its owner gets a note by mail instead; the
  // caller answers both alike, so the page never tells whether an address is registered.
  // Throttled per client like a registration, before argon2.
  core::Result<std::optional<Account>> create_federated_account(const Profile& profile,
                                                                std::string_view email,
                                                                std::string_view locale,
                                                                std::string_view source_address);

  core::Result<Account> find(std::string_view id);
  // Tells the owner by mail that an upstream provider was linked to the account (if it
  // was not them, they know to unlink it and change the password).
  void tell_upstream_linked(std::string_view account_id);
  // The account or organisation with this id, for the mailbox; nothing when neither exists.
  std::optional<MailboxOwner> mailbox_owner(std::string_view id);
  core::Result<Account> update_profile(std::string_view id, const Profile& profile);

  TotpEnrollment begin_totp(const Account& account);
  // Turns TOTP on, or replaces the factor in place, when `code` matches the new secret,
  // the password is right and (when replacing) the current factor is proven. Returns new
  // recovery codes (the old ones end); the owner is told by mail; audited.
  core::Result<RecoveryCodes> enable_totp(const SecondFactorChange& change);
  // Turns the second factor off after password and current factor; tells the owner.
  core::Status remove_totp(const SecondFactorChange& change);
  // Checks a TOTP code or a recovery code (login, step-up); each is accepted once. Wrong
  // codes are throttled per account like passwords (rate_limited while a delay runs,
  // reserved before the code is checked) and audited.
  core::Status verify_totp(std::string_view account_id, std::string_view code);
  // Proves that the person holds the account now: its password and, where one is set up,
  // its second factor (TOTP or recovery code), with the throttles of a login. For changes
  // that add a lasting way in, such as linking an upstream identity. unauthenticated when
  // address or password is wrong (not saying which); invalid_input "code" for the code.
  core::Result<Account> reauthenticate(const Reauthentication& input);

 private:
  struct Impl;
  std::shared_ptr<Impl> impl_;
};

class Provider;
class Federation;

struct PageOptions {
  const core::Clock* clock = nullptr;  // required
  bool secure_cookies = false;         // the public URL is https
  Provider* oidc = nullptr;            // for the operators' client registry page
  Federation* federation = nullptr;    // upstream providers on the login and security pages
};

// The pages: registration and confirmation, login with second factor, logout, the
// account overview, the profile form and the TOTP set-up.
void register_pages(web::Router& router, const web::Pages& pages, web::SessionStore& sessions,
                    Identity& identity, PageOptions options);

}  // namespace mvsp::identity
