#include <mvsp/identity/accounts.hpp>
#include <regex>

#include "internals.hpp"

namespace mvsp::identity {
using namespace internal;  // identity's own helpers (internals.hpp)

core::Result<Account> Accounts::create_account(const NewAccount& input, std::string_view actor) {
  auto email = normalize_email(input.email);
  Error invalid{core::ErrorCode::invalid_input, "The account data is not valid.", {}, {}};
  if (!valid_email(email)) invalid.and_field("email", "must be an e-mail address");
  if (!valid_new_password(input.password)) {
    invalid.and_field("password", "must have 12 to 128 characters");
  }
  if (input.role.empty() != input.tenant_id.empty()) {
    invalid.and_field("role", "a role needs a tenant and a tenant needs a role");
  }
  if (!input.role.empty() &&
      std::find(staff_roles().begin(), staff_roles().end(), input.role) == staff_roles().end()) {
    invalid.and_field("role",
                      "must be one of editor, clerk, lead, cashier, authority_admin, operator");
  }
  if (!invalid.fields.empty()) return fail(std::move(invalid));
  auto hash = secrets::hash_password(input.password);
  return impl_->db.transaction([&](core::db::Tx& tx) -> core::Result<Account> {
    if (!input.tenant_id.empty() &&
        !tx.query_one("SELECT 1 FROM tenants WHERE id = ?", input.tenant_id)) {
      return fail(Error::invalid("tenant", "no such tenant"));
    }
    auto id = impl_->ids.key();
    if (!impl_->insert_account(tx, id, input.role.empty() ? "citizen" : "staff", email,
                               input.verified, hash, input.locale, input.given_name,
                               input.family_name)) {
      return fail(Error::conflict("An account with this e-mail address exists already."));
    }
    if (!input.role.empty()) {
      tx.execute("INSERT INTO account_roles (account_id, tenant_id, role) VALUES (?, ?, ?)", id,
                 input.tenant_id, input.role);
    }
    impl_->audit_event(tx, std::string(actor), "account.created", id,
                       input.role.empty() ? "{}"
                                          : fmt::format(R"({{"role":"{}","tenant":"{}"}})",
                                                        input.role, input.tenant_id));
    return *impl_->by_email(tx, email);
  });
}

core::Status Accounts::register_citizen(const Registration& input) {
  auto email = normalize_email(input.email);
  const auto& loc = input.locale;
  Error invalid{core::ErrorCode::invalid_input, impl_->text(loc, "errors.summary"), {}, {}};
  if (!valid_email(email)) invalid.and_field("email", impl_->text(loc, "errors.email"));
  if (!valid_new_password(input.password)) {
    invalid.and_field("password", impl_->text(loc, "errors.password_length"));
  } else if (normalize_email(input.password) == email) {
    invalid.and_field("password", impl_->text(loc, "errors.password_is_email"));
  }
  if (input.password != input.password_repeat) {
    invalid.and_field("password_repeat", impl_->text(loc, "errors.password_repeat"));
  }
  if (input.given_name.empty() || input.given_name.size() > kMaxText) {
    invalid.and_field("given_name", impl_->text(loc, "errors.given_name"));
  }
  if (input.family_name.empty() || input.family_name.size() > kMaxText) {
    invalid.and_field("family_name", impl_->text(loc, "errors.family_name"));
  }
  if (!invalid.fields.empty()) return fail(std::move(invalid));
  // Before argon2 and the mail: a script cannot turn registrations into CPU or mail floods.
  if (auto w = impl_->reserve({impl_->request_key("register", input.source_address)}); w > 0) {
    return fail(too_many(w));
  }

  auto hash = secrets::hash_password(input.password);
  impl_->db.transaction([&](core::db::Tx& tx) {
    if (auto existing = impl_->by_email(tx, email)) {
      core::queue_mail(impl_->jobs, tx,
                       {email, impl_->text(existing->locale, "mail.taken_subject"),
                        impl_->text(existing->locale, "mail.taken_body")},
                       impl_->mail_window("taken", email));
      impl_->audit_event(tx, "anonymous", "account.registration_repeated", existing->id);
      return;
    }
    auto id = impl_->ids.key();
    if (!impl_->insert_account(tx, id, "citizen", email, false, hash, input.locale,
                               input.given_name, input.family_name)) {
      // Registered a moment ago by a parallel request: the owner gets the note, as above.
      core::queue_mail(impl_->jobs, tx,
                       {email, impl_->text(input.locale, "mail.taken_subject"),
                        impl_->text(input.locale, "mail.taken_body")},
                       impl_->mail_window("taken", email));
      return;
    }
    impl_->audit_event(tx, "account:" + id, "account.registered", id);
    impl_->send_confirmation(tx, *impl_->by_email(tx, email));
  });
  return {};
}

core::Result<Account> Accounts::confirm_email(std::string_view token) {
  return impl_->db.transaction([&](core::db::Tx& tx) -> core::Result<Account> {
    auto row = tx.query_one(
        "SELECT account_id, expires_at, used_at FROM email_tokens "
        "WHERE token_hash = ? AND purpose = 'confirm'",
        crypto::sha256_hex(token));
    if (!row || !row->is_null(2) || row->integer(1) < impl_->now()) {
      return fail(Error::not_found("This confirmation link is not valid (any more)."));
    }
    auto id = row->text(0);
    tx.execute("UPDATE email_tokens SET used_at = ? WHERE token_hash = ?", impl_->now(),
               crypto::sha256_hex(token));
    tx.execute(
        "UPDATE accounts SET email_verified_at = ?, updated_at = ? "
        "WHERE id = ? AND email_verified_at IS NULL",
        impl_->now(), impl_->now(), id);
    impl_->audit_event(tx, "account:" + id, "account.email_confirmed", id);
    auto acc =
        tx.query_one(fmt::format("SELECT {} FROM accounts WHERE id = ?", kAccountColumns), id);
    if (!acc) return fail(Error::not_found("This confirmation link is not valid (any more)."));
    return read_account(*acc);
  });
}

core::Status Accounts::request_password_reset(std::string_view email_input, std::string_view locale,
                                              std::string_view source_address) {
  auto email = normalize_email(email_input);
  if (!valid_email(email)) {
    return fail(Error::invalid("email", impl_->text(locale, "errors.email")));
  }
  auto& d = *impl_;
  if (auto w = d.reserve({d.request_key("reset", source_address)}); w > 0) {
    return fail(too_many(w));
  }
  d.db.transaction([&](core::db::Tx& tx) {
    auto account = d.by_email(tx, email);
    if (!account) return;
    // One mail per five minutes: a flood of requests does not flood the mailbox, and no
    // link is made that no mail carries.
    auto window = fmt::format("reset:{}:{}", account->id, d.now() / 300'000);
    if (tx.query_one("SELECT 1 FROM jobs WHERE idempotency_key = ?", window)) return;
    auto token = d.issue_token(tx, account->id, "reset");
    auto lifetime = std::chrono::duration_cast<std::chrono::milliseconds>(d.options.reset_lifetime);
    tx.execute("UPDATE email_tokens SET expires_at = ? WHERE token_hash = ?",
               d.now() + lifetime.count(), crypto::sha256_hex(token));
    auto link = fmt::format("{}/passwort-neu?token={}", d.options.public_url, token);
    auto body =
        core::fill_placeholders(d.text(account->locale, "mail.reset_body"), {{"link", link}});
    core::queue_mail(d.jobs, tx, {email, d.text(account->locale, "mail.reset_subject"), body},
                     window);
    d.audit_event(tx, "anonymous", "account.password_reset_requested", account->id);
  });
  return {};
}

core::Result<Account> Accounts::reset_password(const PasswordReset& input) {
  auto& d = *impl_;
  const auto& loc = input.locale;
  if (auto ok = d.check_new_password(input.password, input.password_repeat, loc); !ok) {
    return fail(ok.error());
  }
  auto token_hash = crypto::sha256_hex(input.token);
  auto valid_token = [&](core::db::Connection& c) {
    auto row = c.query_one(
        "SELECT account_id, expires_at, used_at FROM email_tokens "
        "WHERE token_hash = ? AND purpose = 'reset'",
        token_hash);
    return row && row->is_null(2) && row->integer(1) >= d.now();
  };
  // A made-up link costs no argon2 hash.
  if (!valid_token(*d.db.acquire()))
    return fail(Error::not_found(d.text(loc, "reset.invalid_text")));
  auto hash = secrets::hash_password(input.password);
  return d.db.transaction([&](core::db::Tx& tx) -> core::Result<Account> {
    auto row = tx.query_one("SELECT account_id FROM email_tokens WHERE token_hash = ?", token_hash);
    // Used by a parallel request in the meantime: the update decides.
    if (!row || tx.execute("UPDATE email_tokens SET used_at = ? WHERE token_hash = ? AND "
                           "used_at IS NULL AND expires_at >= ?",
                           d.now(), token_hash, d.now()) != 1) {
      return fail(Error::not_found(d.text(loc, "reset.invalid_text")));
    }
    auto id = row->text(0);
    // An address proven only now: whatever was linked to the account before it was proven
    // (an upstream identity from the new-account page, which anyone can give any address)
    // is not the owner's doing and goes.
    std::int64_t unlinked = 0;
    if (tx.query_one("SELECT 1 FROM accounts WHERE id = ? AND email_verified_at IS NULL", id)) {
      unlinked = tx.execute("DELETE FROM identity_links WHERE account_id = ?", id);
    }
    // Every other reset link of the account ends with this one.
    tx.execute(
        "UPDATE email_tokens SET used_at = ? WHERE account_id = ? AND purpose = 'reset' AND "
        "used_at IS NULL",
        d.now(), id);
    // The link came by mail, so the address is proven as well.
    tx.execute(
        "UPDATE accounts SET password_hash = ?, email_verified_at = COALESCE(email_verified_at, "
        "?), "
        "updated_at = ? WHERE id = ?",
        hash, d.now(), d.now(), id);
    auto account =
        tx.query_one(fmt::format("SELECT {} FROM accounts WHERE id = ?", kAccountColumns), id);
    auto a = read_account(*account);
    tx.execute("DELETE FROM login_throttle WHERE throttle_key = ?",
               "login:" + crypto::sha256_hex(a.email));
    auto revoked = revoke_oidc_grants(tx, id);
    // The owner learns of it, also when it was not them (someone who reads their mail).
    d.mail_owner(tx, a, "password_reset");
    d.audit_event(
        tx, "account:" + id, "account.password_reset", id,
        fmt::format(R"({{"oidcGrantsRevoked":{},"upstreamLinksRemoved":{}}})", revoked, unlinked));
    return a;
  });
}

std::vector<Activity> Accounts::activity(std::string_view account_id, int limit) {
  std::vector<Activity> out;
  for (auto& r : impl_->audit.entries_for(impl_->db, "account", account_id, limit)) {
    auto action = r.action;
    if (action.starts_with("account.")) action.erase(0, 8);
    out.push_back({r.at, std::move(action)});
  }
  return out;
}

core::Status Accounts::delete_account(const AccountDeletion& request) {
  auto& d = *impl_;
  auto account = find(request.account_id);
  if (!account) return fail(account.error());
  const auto& loc = account->locale;
  Error invalid{core::ErrorCode::invalid_input, d.text(loc, "errors.summary"), {}, {}};
  if (request.password.empty())
    invalid.and_field("password", d.text(loc, "errors.password_missing"));
  if (account->totp_enabled && digits_of(request.current_code).empty()) {
    invalid.and_field("current_code", d.text(loc, "errors.current_code_missing"));
  }
  if (!invalid.fields.empty()) return fail(std::move(invalid));
  // Throttled like a login: a stolen session cannot guess the password or the code here,
  // nor make the server hash without limit.
  if (auto ok = d.reauthenticate(*account, request.password, request.source_address); !ok) {
    return ok;
  }
  if (account->totp_enabled) {
    if (auto ok = d.check_code(account->id, request.current_code, "current_code"); !ok) return ok;
  }
  return delete_account_reauthenticated(account->id);
}

core::Status Accounts::delete_account_reauthenticated(std::string_view account_id) {
  auto& d = *impl_;
  std::string id(account_id);
  auto row = d.db.query_one("SELECT email FROM accounts WHERE id = ?", id);
  if (!row) return fail(Error::not_found("no such account"));
  d.db.transaction([&](core::db::Tx& tx) { d.erase_account(tx, id, "account.deleted"); });
  return {};
}

core::Result<std::optional<Account>> Accounts::create_federated_account(
    const Profile& profile, std::string_view email_input, std::string_view locale_input,
    std::string_view source_address) {
  auto& d = *impl_;
  auto email = normalize_email(email_input);
  std::string locale(locale_input);
  if (!valid_email(email)) {
    return fail(Error::invalid("email", d.text(locale, "errors.email")));
  }
  if (auto w = d.reserve({d.request_key("register", source_address)}); w > 0) {
    return fail(too_many(w));
  }
  auto unknown_password = secrets::hash_password(crypto::random_token(32));
  return d.db.transaction([&](core::db::Tx& tx) -> core::Result<std::optional<Account>> {
    auto id = d.ids.key();
    if (!d.insert_account(tx, id, "citizen", email, false, unknown_password, locale,
                          profile.given_name, profile.family_name)) {
      // The same answer as for a new address; the owner is told instead.
      if (auto existing = d.by_email(tx, email)) {
        d.mail_owner(tx, *existing, "federated_taken", d.mail_window("taken", email));
        d.audit_event(tx, "anonymous", "account.registration_repeated", existing->id);
      }
      return std::optional<Account>();
    }
    const auto& p = profile;
    tx.execute(
        "UPDATE accounts SET salutation = ?, birth_name = ?, doctoral_degree = ?, "
        "artistic_name = ?, birth_date = ?, birth_place = ?, street = ?, postcode = ?, city = ?, "
        "country = ? WHERE id = ?",
        p.salutation, p.birth_name, p.doctoral_degree, p.artistic_name, p.birth_date, p.birth_place,
        p.street, p.postcode, p.city, p.country.empty() ? "DE" : p.country, id);
    d.audit_event(tx, "account:" + id, "account.registered_federated", id);
    auto account = *d.by_email(tx, email);
    d.send_confirmation(tx, account, fmt::format("{} {}", p.given_name, p.family_name));
    return std::optional<Account>(account);
  });
}

core::Result<Account> Accounts::find(std::string_view id) {
  return impl_->account(id);
}

std::optional<Account> Accounts::find_by_email(std::string_view email) {
  return impl_->by_email(*impl_->db.acquire(), std::string(email));
}

void Accounts::tell_upstream_linked(std::string_view account_id) {
  auto& d = *impl_;
  auto account = find(account_id);
  if (!account) return;
  d.db.transaction([&](core::db::Tx& tx) { d.mail_owner(tx, *account, "upstream_linked"); });
}

core::Result<Account> Accounts::update_profile(std::string_view id, const Profile& p) {
  auto account = find(id);
  if (!account) return account;
  const auto& loc = account->locale;
  Error invalid{core::ErrorCode::invalid_input, impl_->text(loc, "errors.summary"), {}, {}};
  auto check_length = [&](std::string_view field, const std::string& value) {
    if (value.size() > kMaxText)
      invalid.and_field(std::string(field), impl_->text(loc, "errors.too_long"));
  };
  check_length("salutation", p.salutation);
  check_length("birth_name", p.birth_name);
  check_length("doctoral_degree", p.doctoral_degree);
  check_length("artistic_name", p.artistic_name);
  check_length("birth_place", p.birth_place);
  check_length("street", p.street);
  check_length("city", p.city);
  if (p.given_name.empty() || p.given_name.size() > kMaxText) {
    invalid.and_field("given_name", impl_->text(loc, "errors.given_name"));
  }
  if (p.family_name.empty() || p.family_name.size() > kMaxText) {
    invalid.and_field("family_name", impl_->text(loc, "errors.family_name"));
  }
  if (!p.birth_date.empty() && !valid_date(p.birth_date)) {
    invalid.and_field("birth_date", impl_->text(loc, "errors.birth_date"));
  }
  static const std::regex kCountry("^[A-Z]{2}$");
  if (!std::regex_match(p.country, kCountry)) {
    invalid.and_field("country", impl_->text(loc, "errors.country"));
  }
  static const std::regex kGermanPostcode(R"(^\d{5}$)");
  if (p.country == "DE" && !p.postcode.empty() && !std::regex_match(p.postcode, kGermanPostcode)) {
    invalid.and_field("postcode", impl_->text(loc, "errors.postcode"));
  } else {
    check_length("postcode", p.postcode);
  }
  if (!invalid.fields.empty()) return fail(std::move(invalid));
  impl_->db.transaction([&](core::db::Tx& tx) {
    tx.execute(
        "UPDATE accounts SET salutation = ?, given_name = ?, family_name = ?, birth_name = ?, "
        "doctoral_degree = ?, artistic_name = ?, birth_date = ?, birth_place = ?, street = ?, "
        "postcode = ?, city = ?, country = ?, updated_at = ? WHERE id = ?",
        p.salutation, p.given_name, p.family_name, p.birth_name, p.doctoral_degree, p.artistic_name,
        p.birth_date, p.birth_place, p.street, p.postcode, p.city, p.country, impl_->now(),
        std::string(id));
    impl_->audit_event(tx, "account:" + std::string(id), "account.profile_changed",
                       std::string(id));
  });
  return find(id);
}

}  // namespace mvsp::identity
