#pragma once
// The finder's pages: /suche, /leistungen/{leikaKey}, /behoerden/{id}, /themen.

namespace mvsp::web {
class Router;
class Pages;
}  // namespace mvsp::web
namespace mvsp::catalog {
class Catalog;
}

namespace mvsp::finder {

class Finder;

void register_pages(web::Router& router, const web::Pages& pages, catalog::Catalog& catalog,
                    Finder& finder);

}  // namespace mvsp::finder
