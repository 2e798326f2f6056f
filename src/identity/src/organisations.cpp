#include <mvsp/identity/organisations.hpp>

#include "internals.hpp"

namespace mvsp::identity {
using namespace internal;  // identity's own helpers (internals.hpp)

namespace {

std::optional<std::string> member_role(core::db::Connection& c, std::string_view org,
                                       std::string_view account) {
  auto r = c.query_one(
      "SELECT role FROM organisation_members WHERE organisation_id = ? AND account_id = ?",
      std::string(org), std::string(account));
  if (!r) return std::nullopt;
  return r->text(0);
}

}  // namespace

core::Result<Organisation> Organisations::create_organisation(std::string_view actor,
                                                              std::string_view name,
                                                              std::string_view locale) {
  auto& d = *impl_;
  std::string n(name);
  while (!n.empty() && n.back() == ' ') n.pop_back();
  if (n.empty() || n.size() > kMaxText) {
    return fail(Error::invalid("name", d.text(locale, "errors.organisation_name")));
  }
  return d.db.transaction([&](core::db::Tx& tx) -> core::Result<Organisation> {
    Organisation o{d.ids.key(), n, "admin"};
    tx.execute("INSERT INTO organisations (id, name, created_at) VALUES (?, ?, ?)", o.id, o.name,
               d.now());
    tx.execute(
        "INSERT INTO organisation_members (organisation_id, account_id, role, joined_at) "
        "VALUES (?, ?, 'admin', ?)",
        o.id, std::string(actor), d.now());
    d.audit.append(tx, {.actor = "account:" + std::string(actor),
                        .action = "organisation.created",
                        .object_type = "organisation",
                        .object_id = o.id});
    return o;
  });
}

std::optional<MailboxOwner> Organisations::mailbox_owner(std::string_view id) {
  auto& d = *impl_;
  std::string key(id);
  if (auto a = d.db.query_one(
          "SELECT given_name, family_name, email, email_verified_at FROM accounts WHERE id = ?",
          key)) {
    MailboxOwner o{.id = key, .name = fmt::format("{} {}", a->text(0), a->text(1))};
    if (!a->is_null(3)) o.emails.push_back(a->text(2));
    return o;
  }
  auto org = d.db.query_one("SELECT name FROM organisations WHERE id = ?", key);
  if (!org) return std::nullopt;
  MailboxOwner o{.id = key, .organisation = true, .name = org->text(0)};
  for (const auto& r : d.db.query(
           "SELECT a.email FROM organisation_members m JOIN accounts a ON a.id = m.account_id "
           "WHERE m.organisation_id = ? AND a.email_verified_at IS NOT NULL ORDER BY a.email",
           key)) {
    o.emails.push_back(r.text(0));
  }
  return o;
}

std::vector<Organisation> Organisations::organisations_of(std::string_view account_id) {
  std::vector<Organisation> out;
  for (const auto& r : impl_->db.query(
           "SELECT o.id, o.name, m.role FROM organisations o JOIN organisation_members m "
           "ON m.organisation_id = o.id WHERE m.account_id = ? ORDER BY o.name, o.id",
           std::string(account_id))) {
    out.push_back({r.text(0), r.text(1), r.text(2)});
  }
  return out;
}

core::Result<Organisation> Organisations::organisation(std::string_view actor,
                                                       std::string_view id) {
  auto conn = impl_->db.acquire();
  auto role = member_role(*conn, id, actor);
  if (!role) return fail(Error::not_found("no such organisation"));
  auto r = conn->query_one("SELECT name FROM organisations WHERE id = ?", std::string(id));
  return Organisation{std::string(id), r->text(0), *role};
}

core::Result<std::vector<OrganisationMember>> Organisations::organisation_members(
    std::string_view actor, std::string_view id) {
  auto conn = impl_->db.acquire();
  if (!member_role(*conn, id, actor)) return fail(Error::not_found("no such organisation"));
  std::vector<OrganisationMember> out;
  for (const auto& r : conn->query(
           "SELECT a.id, a.given_name, a.family_name, a.email, m.role FROM organisation_members m "
           "JOIN accounts a ON a.id = m.account_id WHERE m.organisation_id = ? "
           "ORDER BY a.family_name, a.given_name, a.id",
           std::string(id))) {
    out.push_back({r.text(0), r.text(1) + " " + r.text(2), r.text(3), r.text(4)});
  }
  return out;
}

core::Status Organisations::invite_to_organisation(std::string_view actor, std::string_view id,
                                                   std::string_view email_input,
                                                   std::string_view role, std::string_view locale) {
  auto& d = *impl_;
  auto email = normalize_email(email_input);
  return d.db.transaction([&](core::db::Tx& tx) -> core::Status {
    auto own = member_role(tx, id, actor);
    if (!own) return fail(Error::not_found("no such organisation"));
    if (*own != "admin") return fail(Error::forbidden("only the organisation's admins invite"));
    Error invalid{core::ErrorCode::invalid_input, d.text(locale, "errors.summary"), {}, {}};
    if (!valid_email(email)) invalid.and_field("email", d.text(locale, "errors.email"));
    if (role != "admin" && role != "member")
      invalid.and_field("role", d.text(locale, "errors.organisation_role"));
    if (!invalid.fields.empty()) return fail(std::move(invalid));
    auto token = crypto::random_token(32);
    tx.execute(
        "INSERT INTO organisation_invitations (token_hash, organisation_id, email, role, "
        "expires_at) "
        "VALUES (?, ?, ?, ?, ?)",
        crypto::sha256_hex(token), std::string(id), email, std::string(role),
        d.now() +
            std::chrono::duration_cast<std::chrono::milliseconds>(d.options.invitation_lifetime)
                .count());
    auto org = tx.query_one("SELECT name FROM organisations WHERE id = ?", std::string(id));
    auto link = fmt::format("{}/organisation/einladung?token={}", d.options.public_url, token);
    auto body = core::fill_placeholders(d.text(locale, "mail.organisation_body"),
                                        {{"organisation", org->text(0)}, {"link", link}});
    core::queue_mail(d.jobs, tx, {email, d.text(locale, "mail.organisation_subject"), body});
    d.audit.append(tx, {.actor = "account:" + std::string(actor),
                        .action = "organisation.invited",
                        .object_type = "organisation",
                        .object_id = std::string(id),
                        .detail = fmt::format(R"({{"role":"{}"}})", role)});
    return {};
  });
}

core::Result<Organisation> Organisations::check_invitation(std::string_view actor,
                                                           std::string_view token,
                                                           std::string_view locale) {
  auto& d = *impl_;
  auto row = d.db.query_one(
      "SELECT i.organisation_id, i.email, i.role, i.expires_at, i.used_at, o.name "
      "FROM organisation_invitations i JOIN organisations o ON o.id = i.organisation_id "
      "WHERE i.token_hash = ?",
      crypto::sha256_hex(token));
  if (!row || !row->is_null(4) || row->integer(3) < d.now()) {
    return fail(Error::not_found(d.text(locale, "organisations.invalid_invitation")));
  }
  auto account = impl_->account(actor);
  if (!account || account->email != row->text(1)) {
    return fail(Error::forbidden(d.text(locale, "organisations.other_address")));
  }
  return Organisation{row->text(0), row->text(5), row->text(2)};
}

core::Result<Organisation> Organisations::accept_invitation(std::string_view actor,
                                                            std::string_view token,
                                                            std::string_view locale) {
  auto org = check_invitation(actor, token, locale);
  if (!org) return org;
  auto& d = *impl_;
  d.db.transaction([&](core::db::Tx& tx) {
    tx.execute("UPDATE organisation_invitations SET used_at = ? WHERE token_hash = ?", d.now(),
               crypto::sha256_hex(token));
    // Accepting again (or as admin) never lowers a role already held.
    if (!member_role(tx, org->id, actor)) {
      tx.execute(
          "INSERT INTO organisation_members (organisation_id, account_id, role, joined_at) "
          "VALUES (?, ?, ?, ?)",
          org->id, std::string(actor), org->role, d.now());
    }
    d.audit.append(tx, {.actor = "account:" + std::string(actor),
                        .action = "organisation.joined",
                        .object_type = "organisation",
                        .object_id = org->id});
  });
  return organisation(actor, org->id);
}

core::Status Organisations::remove_from_organisation(std::string_view actor, std::string_view id,
                                                     std::string_view member,
                                                     std::string_view locale) {
  auto& d = *impl_;
  return d.db.transaction([&](core::db::Tx& tx) -> core::Status {
    tx.lock_exclusive("organisation:" + std::string(id));
    auto own = member_role(tx, id, actor);
    if (!own) return fail(Error::not_found("no such organisation"));
    if (actor != member && *own != "admin")
      return fail(Error::forbidden("only admins remove others"));
    auto theirs = member_role(tx, id, member);
    if (!theirs) return fail(Error::not_found("no such member"));
    auto admins = tx.query_one(
        "SELECT COUNT(*) FROM organisation_members WHERE organisation_id = ? AND role = 'admin'",
        std::string(id));
    if (*theirs == "admin" && admins->integer(0) <= 1) {
      return fail(Error::invalid("member", d.text(locale, "errors.last_admin")));
    }
    tx.execute("DELETE FROM organisation_members WHERE organisation_id = ? AND account_id = ?",
               std::string(id), std::string(member));
    d.audit.append(tx, {.actor = "account:" + std::string(actor),
                        .action = "organisation.member_removed",
                        .object_type = "organisation",
                        .object_id = std::string(id)});
    return {};
  });
}

}  // namespace mvsp::identity
