#pragma once
// The cases component's routes (private): the clerk's pages.

#include <functional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace mvsp::web {
class Router;
class Pages;
}  // namespace mvsp::web

namespace mvsp::core {
class Clock;
}  // namespace mvsp::core

namespace mvsp::forms {
class Forms;
}  // namespace mvsp::forms

namespace mvsp::cases {

class Cases;
class Casework;
struct Colleague;

// The roles of a member of staff, (tenant id, role); identity answers it (src/app).
using RolesOf =
    std::function<std::vector<std::pair<std::string, std::string>>(const std::string& account)>;

struct PageOptions {
  RolesOf roles_of;
  // The catalog's authorities of the given tenants: (authority id, name), by name.
  std::function<std::vector<std::pair<std::string, std::string>>(
      const std::vector<std::string>& tenant_ids)>
      authorities_of;
  std::function<std::vector<Colleague>(std::string_view tenant_id)> colleagues;
  // The online services the tenant's authorities adopted: (id, name), by name.
  std::function<std::vector<std::pair<std::string, std::string>>(std::string_view tenant_id)>
      online_services_of;
  // the forms a paper application is entered in, and the clock that says "today"
  forms::Forms* forms = nullptr;
  const core::Clock* clock = nullptr;
};

// /verwaltung/vorgaenge: the arrivals of the person's tenants; /verwaltung/vorgaenge/{id}:
// one Vorgang with the downloads of its answers and documents.
void register_staff_pages(web::Router& router, const web::Pages& pages, Cases& cases,
                          Casework& work, const PageOptions& options);
// /verwaltung/beteiligungen: the requests for statements to the person's authorities, each
// with its answer form; /beteiligung?zugang=…: the same for an outside body, by its link.
void register_participation_pages(web::Router& router, const web::Pages& pages, Cases& cases,
                                  Casework& work, const PageOptions& options);
// /verwaltung/papierantrag: a clerk enters an application that came by post.
void register_paper_pages(web::Router& router, const web::Pages& pages, Cases& cases,
                          Casework& work, const PageOptions& options);
// /verwaltung/fallmanagement: the authority's administration sets up its case management
// (groups, settings per online service, closing days, notice templates, the seal).
void register_admin_pages(web::Router& router, const web::Pages& pages, Cases& cases,
                          Casework& work, const PageOptions& options);

}  // namespace mvsp::cases
