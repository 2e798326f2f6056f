// The citizen's front door: search, results, the choice of a place, the service page for
// a place (responsible authority, texts, fees, the way to apply), authority pages and
// browsing by topic and life situation. Everything works without JavaScript; where it
// runs, /static/js/ort.js suggests places while typing.
#include <fmt/format.h>

#include <mvsp/catalog/catalog.hpp>
#include <mvsp/core/text.hpp>
#include <mvsp/finder/finder.hpp>
#include <mvsp/finder/pages.hpp>
#include <mvsp/web/pages.hpp>
#include <mvsp/web/router.hpp>
#include <mvsp/web/templates.hpp>
#include <regex>

namespace mvsp::finder {
namespace {

using web::Request;
using web::Response;
using web::View;

struct Ctx {
  const web::Pages& pages;
  catalog::Catalog& catalog;
  Finder& finder;

  std::string t(const Request& req, std::string_view key) const {
    return pages.catalog().text(req.locale, fmt::format("finder.{}", key));
  }
};

// What the person typed as place: a municipality, several to choose from, or nothing.
struct Place {
  std::optional<catalog::Region> chosen;
  std::vector<catalog::Region> choices;
  bool not_found = false;
};

Place resolve_place(catalog::Catalog& catalog, const std::string& text) {
  Place p;
  if (text.empty()) return p;
  // An AGS as typed, or as the suggestions write it: "Wismar (13074087)".
  static const std::regex kAgs(R"((?:^|\()(\d{8})\)?$)");
  std::smatch m;
  if (std::regex_search(text, m, kAgs)) {
    auto r = catalog.region(m[1].str());
    if (r && r->kind == "municipality") {
      p.chosen = r;
      return p;
    }
  }
  auto found = catalog.find_places(text, 25);
  std::vector<catalog::Region> exact;
  for (const auto& r : found) {
    if (core::fold_case(r.short_name) == core::fold_case(text)) {
      exact.push_back(r);
    }
  }
  if (exact.size() == 1) {
    p.chosen = exact[0];
  } else if (found.size() == 1) {
    p.chosen = found[0];
  } else if (!exact.empty()) {
    p.choices = exact;
  } else if (!found.empty()) {
    p.choices = found;
  } else {
    p.not_found = true;
  }
  return p;
}

std::string place_label(catalog::Catalog& catalog, const catalog::Region& r) {
  auto district = catalog.region(r.parent);
  if (!district || district->kind != "district" || r.key.starts_with("1300")) {
    return r.display_name();
  }
  return fmt::format("{} ({})", r.display_name(), district->name);
}

// How a chosen place stands in the form, so that sending it again finds it again.
std::string place_value(const catalog::Region& r) {
  return fmt::format("{} ({})", r.short_name, r.key);
}

std::string query_string(const std::vector<std::pair<std::string, std::string>>& params) {
  std::string q;
  for (const auto& [k, v] : params) {
    if (v.empty()) continue;
    q += (q.empty() ? "?" : "&") + k + "=" + web::url_encode(v);
  }
  return q;
}

// The search form shared by the search and the service pages.
View search_form(const std::string& q, const std::string& place_text,
                 const std::string& place_error) {
  View f;
  f.set("q", q);
  f.set("ort", place_text);
  if (!place_error.empty()) f.set("ort_error", place_error);
  return f;
}

std::vector<View> paragraphs(const std::string& text) {
  std::vector<View> out;
  std::size_t start = 0;
  while (start < text.size()) {
    auto end = text.find("\n\n", start);
    if (end == std::string::npos) end = text.size();
    auto p = text.substr(start, end - start);
    if (!p.empty()) out.push_back(View::of(p));
    start = end + 2;
  }
  return out;
}

View authority_view(const catalog::Authority& a) {
  View v;
  v.set("id", a.id);
  v.set("name", a.name);
  v.set("street", a.street);
  v.set("postcode", a.postcode);
  v.set("city", a.city);
  if (!a.postal_address.empty()) v.set("postal_address", a.postal_address);
  if (!a.phone.empty()) {
    std::string tel;
    for (char ch : a.phone) {
      if (std::isdigit(static_cast<unsigned char>(ch)) || ch == '+') tel += ch;
    }
    v.set("phone", a.phone);
    v.set("tel", tel);
  }
  if (!a.email.empty()) v.set("email", a.email);
  if (!a.website.empty()) v.set("website", a.website);
  if (!a.opening_hours.empty()) v.set("opening_hours", a.opening_hours);
  if (!a.accessibility.empty()) v.set("accessibility", a.accessibility);
  return v;
}

std::vector<View> place_choices(catalog::Catalog& catalog, const std::vector<catalog::Region>& rs,
                                const std::string& base,
                                std::vector<std::pair<std::string, std::string>> params) {
  std::vector<View> out;
  for (const auto& r : rs) {
    auto p = params;
    p.emplace_back("ort", r.key);
    View v;
    v.set("href", base + query_string(p));
    v.set("label", place_label(catalog, r));
    out.push_back(std::move(v));
  }
  return out;
}

Response search_page(const Ctx& c, Request& req) {
  auto q = req.query_param("q").value_or("");
  auto topic = req.query_param("thema").value_or("");
  auto life = req.query_param("lebenslage").value_or("");
  auto ort = req.query_param("ort").value_or("");
  if (q.size() > 200) q.resize(200);
  auto place = resolve_place(c.catalog, ort);
  View model;
  model.set("title", c.t(req, "search.title"));
  model.set("form", search_form(q, place.chosen ? place_value(*place.chosen) : ort,
                                place.not_found ? c.t(req, "search.place_not_found") : ""));
  if (place.chosen) {
    model.set("place", place_label(c.catalog, *place.chosen));
    model.set("ags", place.chosen->key);
  }
  if (!place.choices.empty()) {
    model.set("choose_place", true);
    model.set_list("place_choices",
                   place_choices(c.catalog, place.choices, "/suche",
                                 {{"q", q}, {"thema", topic}, {"lebenslage", life}}));
  }
  std::string filter_name;
  for (const auto& cat : c.catalog.categories()) {
    if ((cat.kind == "topic" && cat.key == topic) ||
        (cat.kind == "life_situation" && cat.key == life)) {
      filter_name = cat.name;
    }
  }
  if (!filter_name.empty()) model.set("filter", filter_name);
  bool searched = !q.empty() || !topic.empty() || !life.empty();
  if (searched) {
    auto result = c.finder.search({.text = q, .topic = topic, .life_situation = life, .limit = 50});
    if (!result.suggestion.empty()) model.set("suggestion", result.suggestion);
    model.set_list("results", {});
    for (const auto& h : result.hits) {
      View r;
      r.set("name", h.name);
      r.set("href", "/leistungen/" + h.leika_key +
                        query_string({{"ort", place.chosen ? place.chosen->key : ""}}));
      if (place.chosen) {
        if (auto route = c.catalog.route(h.leika_key, place.chosen->key)) {
          r.set("authority", route->authority.name);
          r.set("online", route->online_service.has_value());
        }
      }
      model.add("results", std::move(r));
    }
    model.set("count", std::to_string(result.hits.size()));
    model.set("found", c.t(req, result.hits.size() == 1 ? "search.found_one" : "search.found"));
    model.set("searched", true);
    if (result.hits.empty()) model.set("nothing", true);
  }
  return c.pages.render(req, "finder/search", std::move(model));
}

Response service_page(const Ctx& c, Request& req) {
  auto service = c.catalog.service(req.param("leikaKey"));
  if (!service) return c.pages.error(req, core::Error::not_found("no service with this LeiKa key"));
  auto ort = req.query_param("ort").value_or("");
  auto place = resolve_place(c.catalog, ort);
  View model;
  model.set("title", service->name);
  model.set("name", service->name);
  model.set("leika_key", service->leika_key);
  model.set("form", search_form("", place.chosen ? place_value(*place.chosen) : ort,
                                place.not_found ? c.t(req, "search.place_not_found") : ""));
  if (!place.choices.empty()) {
    model.set("choose_place", true);
    model.set_list("place_choices", place_choices(c.catalog, place.choices,
                                                  "/leistungen/" + service->leika_key, {}));
  }
  auto texts = service->texts;
  if (place.chosen) {
    model.set("place", place_label(c.catalog, *place.chosen));
    auto route = c.catalog.route(service->leika_key, place.chosen->key);
    if (route) {
      texts = c.catalog.texts_for(*service, route->authority.id);
      model.set("authority", authority_view(route->authority));
      if (route->online_service) {
        const auto& os = *route->online_service;
        View o;
        o.set("name", os.name);
        o.set("level", c.t(req, "levels." + os.config.min_level));
        o.set("guest", os.config.guest_access);
        if (os.config.fee_cents > 0) {
          o.set("fee",
                fmt::format("{},{:02} Euro", os.config.fee_cents / 100, os.config.fee_cents % 100));
        }
        if (!os.config.external_url.empty()) {
          o.set("href", os.config.external_url);
          o.set("external", true);
        } else {
          o.set("href", fmt::format("/antrag/{}?ort={}", os.id, place.chosen->key));
        }
        model.set("online_service", std::move(o));
      }
    } else {
      model.set("no_authority", true);
    }
  } else {
    model.set("ask_place", true);
  }
  model.set_list("sections", {});
  catalog::Texts t = texts;
  for (const auto& m : catalog::text_modules()) {
    const auto& text = *catalog::module_of(t, m);
    if (text.empty()) continue;
    View s;
    s.set("id", m);
    s.set("heading", c.t(req, "modules." + m));
    s.set_list("paragraphs", paragraphs(text));
    model.add("sections", std::move(s));
  }
  return c.pages.render(req, "finder/service", std::move(model));
}

Response authority_page(const Ctx& c, Request& req) {
  auto a = c.catalog.authority(req.param("id"));
  if (!a) return c.pages.error(req, core::Error::not_found("no such authority"));
  View model;
  model.set("title", a->name);
  model.set("authority", authority_view(*a));
  model.set_list("services", {});
  std::string last;
  for (const auto& r : c.catalog.responsibilities_of(a->id)) {
    if (r.leika_key == last) continue;
    last = r.leika_key;
    auto s = c.catalog.service(r.leika_key);
    if (!s) continue;
    View v;
    v.set("name", s->name);
    v.set("href", "/leistungen/" + s->leika_key);
    model.add("services", std::move(v));
  }
  return c.pages.render(req, "finder/authority", std::move(model));
}

Response topics_page(const Ctx& c, Request& req) {
  View model;
  model.set("title", c.t(req, "topics.title"));
  model.set_list("topics", {});
  model.set_list("life_situations", {});
  for (const auto& cat : c.catalog.categories()) {
    View v;
    v.set("name", cat.name);
    v.set("href", cat.kind == "topic" ? "/suche?thema=" + web::url_encode(cat.key)
                                      : "/suche?lebenslage=" + web::url_encode(cat.key));
    model.add(cat.kind == "topic" ? "topics" : "life_situations", std::move(v));
  }
  return c.pages.render(req, "finder/topics", std::move(model));
}

}  // namespace

void register_pages(web::Router& router, const web::Pages& pages, catalog::Catalog& catalog,
                    Finder& finder) {
  auto c = std::make_shared<Ctx>(Ctx{pages, catalog, finder});
  router.get("/suche", [c](Request& req) { return search_page(*c, req); });
  router.get("/leistungen/{leikaKey}", [c](Request& req) { return service_page(*c, req); });
  router.get("/behoerden/{id}", [c](Request& req) { return authority_page(*c, req); });
  router.get("/themen", [c](Request& req) { return topics_page(*c, req); });
}

}  // namespace mvsp::finder
