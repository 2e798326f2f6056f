#pragma once
// The payments component's routes (private): the API for external online services, the
// payer's pages, the provider's notification endpoint and the staff pages.

#include <cstdint>
#include <functional>
#include <map>
#include <mvsp/core/clock.hpp>
#include <optional>
#include <string>
#include <tuple>
#include <utility>
#include <vector>

namespace mvsp::web {
class Router;
class Pages;
class MachineClients;
}  // namespace mvsp::web

namespace mvsp::payments {

class Payments;

// /api/v1/payments: create (Idempotency-Key), read, list by reference, cancel.
void register_api(web::Router& router, Payments& payments, web::MachineClients& clients,
                  std::string public_url);

// The roles of a member of staff, (tenant id, role); identity answers it (src/app).
using RolesOf =
    std::function<std::vector<std::pair<std::string, std::string>>(const std::string& account)>;

struct PageOptions {
  std::string public_url;
  const core::Clock* clock = nullptr;
  RolesOf roles_of;
  // Where each provider's payment page lives (its origin), by provider name: the payment
  // step's form leads there by a redirect, which the page's CSP form-action must allow.
  std::map<std::string, std::string> provider_origins;
  // The catalog's authorities of the given tenants: (authority id, name, tenant id).
  std::function<std::vector<std::tuple<std::string, std::string, std::string>>(
      const std::vector<std::string>& tenant_ids)>
      authorities_of;
  std::vector<std::string> provider_names;  // the configured providers
};

// /zahlung/{id}…: the payer's step; /zahlung/benachrichtigung/{provider}: pushes.
void register_pages(web::Router& router, const web::Pages& pages, Payments& payments,
                    const PageOptions& options);
// /verwaltung/zahlungen…: find, journal, refund, mark paid, statements, export, account.
void register_staff_pages(web::Router& router, const web::Pages& pages, Payments& payments,
                          const PageOptions& options);

}  // namespace mvsp::payments
