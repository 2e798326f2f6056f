#pragma once
// Identity (MV-Nutzerkonto) in parts, each with its own header: accounts (registration,
// profile, reset, deletion), logins (throttling, device cookies), the second factor, staff
// and tenants, organisations. identity::Identity makes the parts over one shared state;
// src/app hands each consumer only the part it uses.

#include <chrono>
#include <memory>
#include <mvsp/core/clock.hpp>
#include <mvsp/core/error.hpp>
#include <mvsp/core/resources.hpp>
#include <mvsp/identity/accounts.hpp>
#include <mvsp/identity/logins.hpp>
#include <mvsp/identity/organisations.hpp>
#include <mvsp/identity/retention.hpp>
#include <mvsp/identity/second_factor.hpp>
#include <mvsp/identity/staff.hpp>
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

// The parts, made over one shared state. A consumer takes the part it uses.
struct Identity {
  Identity(core::db::Database& db, const core::Clock& clock, core::IdGenerator& ids,
           core::JobQueue& jobs, core::AuditLog& audit, const web::Catalog& catalog,
           IdentityOptions options);

  Accounts accounts;
  Logins logins;
  SecondFactor second_factor;
  Staff staff;
  Organisations organisations;
  Retention retention;

 private:
  explicit Identity(const std::shared_ptr<internal::Internals>& internals);
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
