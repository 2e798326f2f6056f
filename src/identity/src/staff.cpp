#include <mvsp/identity/staff.hpp>

#include "internals.hpp"

namespace mvsp::identity {
using namespace internal;  // identity's own helpers (internals.hpp)

core::Result<Tenant> Staff::create_tenant(std::string_view name, std::string_view actor) {
  std::string n(name);
  if (n.empty() || n.size() > kMaxText) {
    return fail(Error::invalid("name", "A tenant needs a name of 1 to 200 characters."));
  }
  return impl_->db.transaction([&](core::db::Tx& tx) -> core::Result<Tenant> {
    Tenant t{impl_->ids.key(), n};
    if (tx.execute("INSERT INTO tenants (id, name, created_at) VALUES (?, ?, ?) "
                   "ON CONFLICT (name) DO NOTHING",
                   t.id, t.name, impl_->now()) == 0) {
      return fail(Error::conflict(fmt::format("A tenant named \"{}\" exists already.", n)));
    }
    impl_->audit.append(tx, {.actor = std::string(actor),
                             .action = "tenant.created",
                             .object_type = "tenant",
                             .object_id = t.id});
    return t;
  });
}

namespace {

bool is_staff_role(const std::string& role) {
  return std::find(staff_roles().begin(), staff_roles().end(), role) != staff_roles().end();
}

}  // namespace

bool Staff::is_operator(std::string_view account_id) {
  return impl_->db
      .query_one("SELECT 1 FROM account_roles WHERE account_id = ? AND role = 'operator'",
                 std::string(account_id))
      .has_value();
}

std::vector<std::pair<std::string, std::string>> Staff::roles_of(std::string_view account_id) {
  std::vector<std::pair<std::string, std::string>> out;
  for (const auto& r : impl_->db.query("SELECT tenant_id, role FROM account_roles WHERE account_id "
                                       "= ? ORDER BY tenant_id, role",
                                       std::string(account_id))) {
    out.emplace_back(r.text(0), r.text(1));
  }
  return out;
}

std::vector<std::string> Staff::tenant_contacts(std::string_view tenant_id) {
  std::vector<std::string> out;
  for (const auto& r :
       impl_->db.query("SELECT a.email FROM account_roles r JOIN accounts a ON a.id = r.account_id "
                       "WHERE r.tenant_id = ? AND r.role = 'authority_admin' ORDER BY a.email",
                       std::string(tenant_id))) {
    out.push_back(r.text(0));
  }
  return out;
}

std::optional<Tenant> Staff::tenant(std::string_view id) {
  auto r = impl_->db.query_one("SELECT id, name FROM tenants WHERE id = ?", std::string(id));
  if (!r) return std::nullopt;
  return Tenant{r->text(0), r->text(1)};
}

std::vector<Tenant> Staff::tenants() {
  std::vector<Tenant> out;
  for (const auto& r : impl_->db.query("SELECT id, name FROM tenants ORDER BY name")) {
    out.push_back({r.text(0), r.text(1)});
  }
  return out;
}

std::vector<Tenant> Staff::administered_tenants(std::string_view actor) {
  std::vector<Tenant> out;
  for (const auto& r : impl_->db.query(
           "SELECT t.id, t.name FROM tenants t JOIN account_roles r ON r.tenant_id = t.id "
           "WHERE r.account_id = ? AND r.role = 'authority_admin' ORDER BY t.name",
           std::string(actor))) {
    out.push_back({r.text(0), r.text(1)});
  }
  return out;
}

namespace {

core::Status check_admin(core::db::Connection& c, std::string_view actor, std::string_view tenant) {
  if (!c.query_one("SELECT 1 FROM account_roles WHERE account_id = ? AND tenant_id = ? AND "
                   "role = 'authority_admin'",
                   std::string(actor), std::string(tenant))) {
    return fail(Error::forbidden("only the authority's admins manage its staff"));
  }
  return {};
}

std::optional<StaffMember> read_member(core::db::Connection& c, std::string_view tenant,
                                       std::string_view member) {
  auto roles =
      c.query("SELECT role FROM account_roles WHERE tenant_id = ? AND account_id = ? ORDER BY role",
              std::string(tenant), std::string(member));
  if (roles.empty()) return std::nullopt;
  auto a = c.query_one("SELECT id, email, given_name, family_name FROM accounts WHERE id = ?",
                       std::string(member));
  if (!a) return std::nullopt;
  StaffMember m{a->text(0), a->text(1), a->text(2) + " " + a->text(3), {}};
  for (const auto& r : roles) m.roles.push_back(r.text(0));
  return m;
}

}  // namespace

core::Result<std::vector<StaffMember>> Staff::list_staff(std::string_view actor,
                                                         std::string_view tenant_id) {
  if (auto ok = check_admin(*impl_->db.acquire(), actor, tenant_id); !ok) return fail(ok.error());
  return members(tenant_id);
}

std::vector<StaffMember> Staff::members(std::string_view tenant_id) {
  auto conn = impl_->db.acquire();
  std::vector<StaffMember> out;
  for (const auto& r : conn->query(
           "SELECT DISTINCT a.id, a.family_name, a.given_name FROM accounts a JOIN account_roles r "
           "ON r.account_id = a.id WHERE r.tenant_id = ? ORDER BY a.family_name, a.given_name, "
           "a.id",
           std::string(tenant_id))) {
    out.push_back(*read_member(*conn, tenant_id, r.text(0)));
  }
  return out;
}

core::Result<StaffMember> Staff::staff_member(std::string_view actor, std::string_view tenant_id,
                                              std::string_view member_id) {
  auto conn = impl_->db.acquire();
  if (auto ok = check_admin(*conn, actor, tenant_id); !ok) return fail(ok.error());
  auto m = read_member(*conn, tenant_id, member_id);
  if (!m) return fail(Error::not_found("no such member of this authority's staff"));
  return *m;
}

core::Status Staff::invite_staff(std::string_view actor, std::string_view tenant_id,
                                 const NewStaff& input) {
  auto& d = *impl_;
  const auto& loc = input.locale;
  auto email = normalize_email(input.email);
  Error invalid{core::ErrorCode::invalid_input, d.text(loc, "errors.summary"), {}, {}};
  if (!valid_email(email)) invalid.and_field("email", d.text(loc, "errors.email"));
  if (input.given_name.empty() || input.given_name.size() > kMaxText) {
    invalid.and_field("given_name", d.text(loc, "errors.given_name"));
  }
  if (input.family_name.empty() || input.family_name.size() > kMaxText) {
    invalid.and_field("family_name", d.text(loc, "errors.family_name"));
  }
  if (!is_staff_role(input.role) || input.role == "operator") {
    invalid.and_field("role", d.text(loc, "errors.role"));
  }
  if (auto ok = check_admin(*d.db.acquire(), actor, tenant_id); !ok) return ok;
  if (!invalid.fields.empty()) return fail(std::move(invalid));
  // Before the mail: no admin session turns invitations into a flood.
  if (auto w =
          d.reserve({d.request_key("invite", input.source_address), d.target_key("invite", email)});
      w > 0) {
    return fail(too_many(w));
  }
  return d.db.transaction([&](core::db::Tx& tx) -> core::Status {
    if (auto ok = check_admin(tx, actor, tenant_id); !ok) return ok;
    auto tenant = tx.query_one("SELECT name FROM tenants WHERE id = ?", std::string(tenant_id));
    tx.execute("DELETE FROM staff_invitations WHERE expires_at < ?", d.now());
    // One invitation per address and authority: the newest counts.
    tx.execute("DELETE FROM staff_invitations WHERE tenant_id = ? AND email = ?",
               std::string(tenant_id), email);
    auto id = d.ids.key();
    auto token = crypto::random_token(32);
    auto lifetime =
        std::chrono::duration_cast<std::chrono::milliseconds>(d.options.invitation_lifetime);
    tx.execute(
        "INSERT INTO staff_invitations (id, token_hash, tenant_id, email, given_name, "
        "family_name, role, locale, invited_by, created_at, expires_at) "
        "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
        id, crypto::sha256_hex(token), std::string(tenant_id), email, input.given_name,
        input.family_name, input.role, loc, std::string(actor), d.now(),
        d.now() + lifetime.count());
    // The same mail for every address: whether it has an account shows only to its owner,
    // on the page the link opens.
    auto link = fmt::format("{}/verwaltung/einladung?token={}", d.options.public_url, token);
    auto role = d.text(loc, "roles." + input.role);
    auto body =
        core::fill_placeholders(d.text(loc, "mail.invite_body"),
                                {{"tenant", tenant->text(0)}, {"role", role}, {"link", link}});
    core::queue_mail(d.jobs, tx, {email, d.text(loc, "mail.invite_subject"), body});
    d.audit.append(
        tx, {.actor = "account:" + std::string(actor),
             .action = "staff.invited",
             .object_type = "staff_invitation",
             .object_id = id,
             .detail = fmt::format(R"({{"tenant":"{}","role":"{}"}})", tenant_id, input.role)});
    return {};
  });
}

namespace {

// An invitation counts only while the admin who sent it is still an admin of the
// authority: one about to be removed cannot leave a way back in behind.
constexpr std::string_view kInviterStillAdmin =
    "EXISTS (SELECT 1 FROM account_roles r WHERE r.account_id = i.invited_by AND "
    "r.tenant_id = i.tenant_id AND r.role = 'authority_admin')";

}  // namespace

core::Result<std::vector<StaffInvitation>> Staff::staff_invitations(std::string_view actor,
                                                                    std::string_view tenant_id) {
  auto& d = *impl_;
  auto conn = d.db.acquire();
  if (auto ok = check_admin(*conn, actor, tenant_id); !ok) return fail(ok.error());
  std::vector<StaffInvitation> out;
  for (const auto& r :
       conn->query("SELECT i.id, i.email, i.given_name, i.family_name, i.role, i.expires_at "
                   "FROM staff_invitations i WHERE i.tenant_id = ? AND i.expires_at >= ? AND " +
                       std::string(kInviterStillAdmin) + " ORDER BY i.created_at, i.id",
                   std::string(tenant_id), d.now())) {
    out.push_back({r.text(0), r.text(1), r.text(2) + " " + r.text(3), r.text(4),
                   core::from_millis(r.integer(5))});
  }
  return out;
}

core::Status Staff::withdraw_staff_invitation(std::string_view actor, std::string_view tenant_id,
                                              std::string_view invitation_id) {
  auto& d = *impl_;
  return d.db.transaction([&](core::db::Tx& tx) -> core::Status {
    if (auto ok = check_admin(tx, actor, tenant_id); !ok) return ok;
    if (tx.execute("DELETE FROM staff_invitations WHERE id = ? AND tenant_id = ?",
                   std::string(invitation_id), std::string(tenant_id)) != 1) {
      return fail(Error::not_found("no such invitation of this authority"));
    }
    d.audit.append(tx, {.actor = "account:" + std::string(actor),
                        .action = "staff.invitation_withdrawn",
                        .object_type = "staff_invitation",
                        .object_id = std::string(invitation_id)});
    return {};
  });
}

namespace {

struct PendingStaffInvitation {
  std::string id;
  std::string tenant_id;
  std::string tenant_name;
  std::string email;
  std::string given_name;
  std::string family_name;
  std::string role;
};

std::optional<PendingStaffInvitation> pending_invitation(core::db::Connection& c,
                                                         const std::string& token_hash,
                                                         std::int64_t now) {
  auto r = c.query_one(
      "SELECT i.id, i.tenant_id, t.name, i.email, i.given_name, i.family_name, i.role "
      "FROM staff_invitations i JOIN tenants t ON t.id = i.tenant_id "
      "WHERE i.token_hash = ? AND i.expires_at >= ? AND " +
          std::string(kInviterStillAdmin),
      token_hash, now);
  if (!r) return std::nullopt;
  return PendingStaffInvitation{r->text(0), r->text(1), r->text(2), r->text(3),
                                r->text(4), r->text(5), r->text(6)};
}

}  // namespace

core::Result<StaffInvitationCheck> Staff::check_staff_invitation(std::string_view token,
                                                                 std::string_view actor,
                                                                 std::string_view locale) {
  auto& d = *impl_;
  auto conn = d.db.acquire();
  auto pending = pending_invitation(*conn, crypto::sha256_hex(token), d.now());
  if (!pending) return fail(Error::not_found(d.text(locale, "staff_invitation.invalid")));
  StaffInvitationCheck out{StaffInvitationCheck::Next::set_password, pending->tenant_name,
                           pending->role, pending->email};
  // An unconfirmed citizen registration of the address (anyone can make one) does not
  // block the invitation; accepting it proves the mailbox and replaces that registration.
  if (auto account = d.by_email(*conn, pending->email);
      account && (account->kind == "staff" || account->email_verified)) {
    if (account->kind != "staff") {
      out.next = StaffInvitationCheck::Next::citizen_address;
    } else {
      out.next = account->id == actor ? StaffInvitationCheck::Next::accept
                                      : StaffInvitationCheck::Next::sign_in;
    }
  }
  return out;
}

core::Result<StaffJoined> Staff::accept_staff_invitation(const StaffInvitationAcceptance& input) {
  auto& d = *impl_;
  const auto& loc = input.locale;
  auto check = check_staff_invitation(input.token, input.actor, loc);
  if (!check) return fail(check.error());
  using Next = StaffInvitationCheck::Next;
  if (check->next == Next::citizen_address) {
    return fail(Error::forbidden(d.text(loc, "staff_invitation.citizen_address")));
  }
  if (check->next == Next::sign_in) {
    return fail(Error::forbidden(d.text(loc, "staff_invitation.other_account")));
  }
  std::string hash;
  if (check->next == Next::set_password) {
    if (auto ok = d.check_new_password(input.password, input.password_repeat, loc, check->email);
        !ok) {
      return fail(ok.error());
    }
    hash = secrets::hash_password(input.password);
  }
  auto token_hash = crypto::sha256_hex(input.token);
  return d.db.transaction([&](core::db::Tx& tx) -> core::Result<StaffJoined> {
    auto pending = pending_invitation(tx, token_hash, d.now());
    // Accepted by a parallel request in the meantime: the delete decides.
    if (!pending || tx.execute("DELETE FROM staff_invitations WHERE id = ?", pending->id) != 1) {
      return fail(Error::not_found(d.text(loc, "staff_invitation.invalid")));
    }
    auto account = d.by_email(tx, pending->email);
    std::string replaced;
    if (check->next == Next::set_password) {
      if (account && account->kind == "citizen" && !account->email_verified) {
        d.erase_account(tx, account->id, "account.unconfirmed_replaced");
        replaced = account->id;
        account.reset();
      }
      // An account made for this address in the meantime takes the other way.
      if (account ||
          !d.insert_account(tx, d.ids.key(), "staff", pending->email, true, hash, std::string(loc),
                            pending->given_name, pending->family_name)) {
        return fail(Error::conflict(d.text(loc, "staff_invitation.changed")));
      }
      account = d.by_email(tx, pending->email);
    } else if (!account || account->id != input.actor || account->kind != "staff") {
      return fail(Error::forbidden(d.text(loc, "staff_invitation.other_account")));
    }
    tx.execute(
        "INSERT INTO account_roles (account_id, tenant_id, role) VALUES (?, ?, ?) "
        "ON CONFLICT (account_id, tenant_id, role) DO NOTHING",
        account->id, pending->tenant_id, pending->role);
    d.audit_event(tx, "account:" + account->id, "staff.joined", account->id,
                  fmt::format(R"({{"tenant":"{}","role":"{}","invitation":"{}"}})",
                              pending->tenant_id, pending->role, pending->id));
    return StaffJoined{*account, replaced};
  });
}

core::Status Staff::set_staff_roles(std::string_view actor, std::string_view tenant_id,
                                    std::string_view member_id,
                                    const std::vector<std::string>& roles,
                                    std::string_view locale) {
  auto& d = *impl_;
  return d.db.transaction([&](core::db::Tx& tx) -> core::Status {
    if (auto ok = check_admin(tx, actor, tenant_id); !ok) return ok;
    if (!read_member(tx, tenant_id, member_id)) {
      return fail(Error::not_found("no such member of this authority's staff"));
    }
    if (roles.empty()) return fail(Error::invalid("roles", d.text(locale, "errors.no_role")));
    for (const auto& r : roles) {
      if (!is_staff_role(r) || r == "operator") {
        return fail(Error::invalid("roles", d.text(locale, "errors.role")));
      }
    }
    bool keeps_admin = std::find(roles.begin(), roles.end(), "authority_admin") != roles.end();
    if (actor == member_id && !keeps_admin) {
      return fail(Error::invalid("roles", d.text(locale, "errors.own_admin")));
    }
    tx.execute("DELETE FROM account_roles WHERE account_id = ? AND tenant_id = ?",
               std::string(member_id), std::string(tenant_id));
    for (const auto& r : roles) {
      tx.execute(
          "INSERT INTO account_roles (account_id, tenant_id, role) VALUES (?, ?, ?) "
          "ON CONFLICT (account_id, tenant_id, role) DO NOTHING",
          std::string(member_id), std::string(tenant_id), r);
    }
    std::string list;
    for (const auto& r : roles) list += (list.empty() ? "\"" : ",\"") + r + "\"";
    d.audit_event(tx, "account:" + std::string(actor), "staff.roles_changed",
                  std::string(member_id),
                  fmt::format(R"({{"tenant":"{}","roles":[{}]}})", tenant_id, list));
    return {};
  });
}

core::Status Staff::remove_staff(std::string_view actor, std::string_view tenant_id,
                                 std::string_view member_id, std::string_view locale) {
  auto& d = *impl_;
  return d.db.transaction([&](core::db::Tx& tx) -> core::Status {
    if (auto ok = check_admin(tx, actor, tenant_id); !ok) return ok;
    if (!read_member(tx, tenant_id, member_id)) {
      return fail(Error::not_found("no such member of this authority's staff"));
    }
    if (actor == member_id)
      return fail(Error::invalid("member", d.text(locale, "errors.own_admin")));
    tx.execute("DELETE FROM account_roles WHERE account_id = ? AND tenant_id = ?",
               std::string(member_id), std::string(tenant_id));
    d.audit_event(tx, "account:" + std::string(actor), "staff.removed", std::string(member_id),
                  fmt::format(R"({{"tenant":"{}"}})", tenant_id));
    return {};
  });
}

}  // namespace mvsp::identity
