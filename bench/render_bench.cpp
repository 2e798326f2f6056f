// Pages rendered per second: web::Pages::render (layout, page partial, message catalog)
// with every component's templates and texts as App loads them, on one thread. Three
// pages: the error page (small), the login form (a form with fields and links) and a
// service page of the finder without data (its largest template).
// Usage: mvsp_bench_render [seconds per page]
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <mvsp/catalog/catalog.hpp>
#include <mvsp/delivery/delivery.hpp>
#include <mvsp/finder/finder.hpp>
#include <mvsp/identity/identity.hpp>
#include <mvsp/mailbox/mailbox.hpp>
#include <mvsp/web/pages.hpp>
#include <mvsp/web/resources.hpp>
#include <mvsp/web/templates.hpp>

namespace web = mvsp::web;

int main(int argc, char** argv) {
  double seconds = argc > 1 ? std::atof(argv[1]) : 3.0;
  web::Templates templates;
  web::Catalog texts;
  const std::pair<const char*, std::span<const mvsp::core::Resource>> components[] = {
      {"web", web::embedded_resources()},
      {"identity", mvsp::identity::embedded_resources()},
      {"catalog", mvsp::catalog::embedded_resources()},
      {"finder", mvsp::finder::embedded_resources()},
      {"mailbox", mvsp::mailbox::embedded_resources()},
      {"delivery", mvsp::delivery::embedded_resources()}};
  for (const auto& [name, resources] : components) {
    templates.add(name, resources);
    texts.add(resources);
  }
  web::Pages pages(templates, texts);

  web::View field;
  field.set("name", "email");
  field.set("label", "E-Mail-Adresse");
  field.set("type", "email");
  web::View form;
  form.add("fields", field);
  form.add("fields", web::View(field).set("name", "password").set("type", "password"));
  web::View login;
  login.set("title", "Anmelden");
  login.set("heading", "Anmelden");
  login.set("action", "/anmelden");
  login.set("submit", "Anmelden");
  login.set("form", form);
  login.add("links", web::View().set("href", "/konto/registrieren").set("label", "Registrieren"));
  login.set("has_links", true);

  std::size_t total = 0;
  for (const auto& [page, model] :
       {std::pair<const char*, web::View>{"web/error", web::View().set("title", "Fehler")},
        {"identity/form", login},
        {"finder/service", web::View().set("title", "Start")}}) {
    long done = 0;
    auto start = std::chrono::steady_clock::now();
    auto until = start + std::chrono::duration<double>(seconds);
    std::size_t bytes = 0;
    while (std::chrono::steady_clock::now() < until) {
      web::Request req;
      req.path = "/bench";
      auto res = pages.render(req, page, model);
      bytes = res.body.size();
      ++done;
    }
    double elapsed =
        std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
    total += bytes;
    std::printf("page=%s bytes=%zu renders=%ld per_second=%.0f us_per_render=%.1f\n", page, bytes,
                done, done / elapsed, elapsed / done * 1e6);
  }
  return total > 0 ? 0 : 1;
}
