#pragma once
// What identity's parts take and give: accounts, tenants, staff, organisations, the options.
#include <chrono>
#include <mvsp/core/clock.hpp>
#include <mvsp/core/error.hpp>
#include <mvsp/identity/level.hpp>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace mvsp::identity {

// What the parts share (database, ports, keys, throttles); private to src/identity.
namespace internal {
struct Internals;
}

// Events identity publishes on the job queue's outbox (core::JobQueue::publish), in the
// transaction of the deletion, with the payload {"ownerId": "<id>"}: an account was
// deleted; an organisation went with its last member. Whatever keeps something of them
// subscribes (src/app wires it).
inline constexpr std::string_view kAccountDeleted = "account.deleted";
inline constexpr std::string_view kOrganisationDeleted = "organisation.deleted";

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
  // An account whose address was never confirmed is deleted after this (retention sweep).
  std::chrono::days unconfirmed_account_lifetime{30};
};

// Staff roles.
const std::vector<std::string>& staff_roles();

}  // namespace mvsp::identity
