// The catalog's use cases. Every change runs in one transaction with its audit entry;
// editors' rights are checked here, not in the pages or the API.
#include <fmt/format.h>

#include <algorithm>
#include <atomic>
#include <mutex>
#include <mvsp/catalog/catalog.hpp>
#include <mvsp/core/audit.hpp>
#include <mvsp/core/db.hpp>
#include <mvsp/core/ids.hpp>
#include <mvsp/core/log.hpp>
#include <mvsp/core/text.hpp>
#include <set>

#include "json.hpp"

namespace mvsp::catalog {
using core::Error;
using core::fail;

namespace {

// Place names as they are matched: lower case, "-" and "/" as spaces.
std::string fold(std::string_view s) {
  auto out = core::fold_case(s);
  std::replace(out.begin(), out.end(), '-', ' ');
  std::replace(out.begin(), out.end(), '/', ' ');
  return out;
}

std::vector<std::vector<std::string>> read_csv(std::string_view text) {
  std::vector<std::vector<std::string>> rows;
  std::vector<std::string> row;
  std::string field;
  bool quoted = false;
  for (std::size_t i = 0; i < text.size(); ++i) {
    char c = text[i];
    if (quoted) {
      if (c == '"' && i + 1 < text.size() && text[i + 1] == '"') {
        field += '"';
        ++i;
      } else if (c == '"') {
        quoted = false;
      } else {
        field += c;
      }
    } else if (c == '"') {
      quoted = true;
    } else if (c == ',') {
      row.push_back(std::move(field));
      field.clear();
    } else if (c == '\n') {
      row.push_back(std::move(field));
      field.clear();
      rows.push_back(std::move(row));
      row.clear();
    } else if (c != '\r') {
      field += c;
    }
  }
  if (!field.empty() || !row.empty()) {
    row.push_back(std::move(field));
    rows.push_back(std::move(row));
  }
  return rows;
}

std::string_view resource(std::string_view path) {
  for (const auto& r : embedded_resources()) {
    if (r.path == path) return r.content;
  }
  throw core::Failure(fmt::format("catalog resource {} is missing", path));
}

Region read_region(const core::db::Row& r) {
  Region g{r.text(0), r.text(1), r.text(2), r.text(3), {}};
  g.short_name = g.name.substr(0, g.name.find(','));
  return g;
}

constexpr std::string_view kRegionColumns = "region_key, name, kind, parent";

}  // namespace

std::string_view demo_catalog_json() {
  return resource("data/demo-catalog.json");
}

std::string Region::display_name() const {
  auto comma = name.find(", ");
  if (comma == std::string::npos) return name;
  return name.substr(comma + 2) + " " + name.substr(0, comma);
}

const std::vector<std::string>& text_modules() {
  static const std::vector<std::string> kModules = {
      "description",    "prerequisites", "documents", "fees",       "deadlines",
      "processingTime", "legalBasis",    "forms",     "furtherInfo"};
  return kModules;
}

std::string* module_of(Texts& t, std::string_view m) {
  if (m == "description") return &t.description;
  if (m == "prerequisites") return &t.prerequisites;
  if (m == "documents") return &t.documents;
  if (m == "fees") return &t.fees;
  if (m == "deadlines") return &t.deadlines;
  if (m == "processingTime") return &t.processing_time;
  if (m == "legalBasis") return &t.legal_basis;
  if (m == "forms") return &t.forms;
  if (m == "furtherInfo") return &t.further_info;
  return nullptr;
}

struct Catalog::Impl {
  core::db::Database& db;
  const core::Clock& clock;
  core::IdGenerator& ids;
  core::AuditLog& audit;
  std::mutex listeners_mutex;
  std::vector<std::function<void()>> listeners;
  std::function<bool(std::string_view, int)> form_published;

  Impl(core::db::Database& db, const core::Clock& clock, core::IdGenerator& ids,
       core::AuditLog& audit)
      : db(db), clock(clock), ids(ids), audit(audit) {}

  std::int64_t now() const { return core::to_millis(clock.now()); }

  // Rows whose stored JSON no longer reads (a hand edit, a bug in an older version): left
  // out of every answer, but logged and counted (mvsp_catalog_undecodable_rows_total).
  std::atomic<std::int64_t> undecodable{0};

  template <typename T, typename F>
  std::optional<T> decode(std::string_view table, const std::string& key, const std::string& data,
                          F read) {
    Error error{core::ErrorCode::invalid_input, "", {}, {}};
    std::optional<T> out;
    if (auto o = json::parse(data)) {
      out = read(*o, std::string("stored"), error);
    } else {
      error.and_field("stored", "is not a JSON object");
    }
    if (!error.fields.empty()) {
      ++undecodable;
      core::log::error("catalog.row_undecodable", {{"table", std::string(table)},
                                                   {"key", key},
                                                   {"field", error.fields.front().field},
                                                   {"rule", error.fields.front().message}});
      return std::nullopt;
    }
    return out;
  }

  void changed() {
    std::vector<std::function<void()>> copy;
    {
      std::lock_guard lock(listeners_mutex);
      copy = listeners;
    }
    for (auto& l : copy) l();
  }

  void audit_change(core::db::Connection& tx, const Editor& e, std::string action, std::string type,
                    std::string id) {
    audit.append(tx, {.actor = e.actor,
                      .action = std::move(action),
                      .object_type = std::move(type),
                      .object_id = std::move(id)});
  }

  // The regions, loaded once from the reference data compiled into the binary.
  void ensure_regions() {
    if (db.query_one("SELECT 1 FROM catalog_regions WHERE region_key = ?",
                     std::string(kStateKey))) {
      return;
    }
    db.transaction([&](core::db::Tx& tx) {
      auto insert = [&](const std::string& key, const std::string& name, const char* kind,
                        const std::string& parent) {
        auto short_name = name.substr(0, name.find(','));
        tx.execute(
            "INSERT INTO catalog_regions (region_key, name, kind, parent, search_name) "
            "VALUES (?, ?, ?, ?, ?) ON CONFLICT DO NOTHING",
            key, name, std::string(kind), parent, " " + fold(short_name));
      };
      insert(std::string(kStateKey), "Mecklenburg-Vorpommern", "state", "");
      auto districts = read_csv(resource("data/mv-districts.csv"));
      for (std::size_t i = 1; i < districts.size(); ++i) {
        if (districts[i].size() == 3) {
          insert(districts[i][0], districts[i][1], "district", std::string(kStateKey));
        }
      }
      auto municipalities = read_csv(resource("data/mv-municipalities.csv"));
      for (std::size_t i = 1; i < municipalities.size(); ++i) {
        const auto& m = municipalities[i];
        if (m.size() == 4) insert(m[0], m[1], "municipality", m[2]);
      }
    });
  }

  std::optional<Authority> authority(core::db::Connection& c, const std::string& id) {
    auto row = c.query_one("SELECT data FROM catalog_authorities WHERE id = ?", id);
    if (!row) return std::nullopt;
    return decode<Authority>("catalog_authorities", id, row->text(0), json::authority_from);
  }

  std::optional<OnlineService> online_service(core::db::Connection& c, const std::string& id) {
    auto row = c.query_one(
        "SELECT id, leika_key, name, owner, state, version, data FROM catalog_online_services "
        "WHERE id = ?",
        id);
    if (!row) return std::nullopt;
    OnlineService s{row->text(0), row->text(1),
                    row->text(2), row->text(3),
                    row->text(4), static_cast<int>(row->integer(5)),
                    {},           {}};
    auto config =
        decode<OnlineServiceConfig>("catalog_online_services", id, row->text(6), json::config_from);
    if (!config) return std::nullopt;
    s.config = std::move(*config);
    for (const auto& a :
         c.query("SELECT authority_id FROM catalog_adoptions WHERE online_service_id = ? "
                 "ORDER BY authority_id",
                 id)) {
      s.adopted_by.push_back(a.text(0));
    }
    return s;
  }

  // May the editor change what belongs to this authority (an unknown one: only state-wide)?
  bool may_edit(core::db::Connection& c, const Editor& e, const std::string& authority_id) {
    if (e.state_wide) return true;
    auto a = authority(c, authority_id);
    return a && catalog::may_edit(e, *a);
  }

  bool may_edit_online_service(core::db::Connection& c, const Editor& e, const OnlineService& s) {
    return s.owner.empty() ? e.state_wide : may_edit(c, e, s.owner);
  }

  core::Status check_service(const Service& s) {
    Error e{core::ErrorCode::invalid_input, "The service is not valid.", {}, {}};
    json::service_from(json::to_json(s), "service", e);
    if (!e.fields.empty()) return fail(std::move(e));
    return {};
  }

  void write_service(core::db::Connection& tx, const Service& s) {
    tx.execute(
        "INSERT INTO catalog_services (leika_key, name, data, updated_at) VALUES (?, ?, ?, ?) "
        "ON CONFLICT (leika_key) DO UPDATE SET name = excluded.name, data = excluded.data, "
        "updated_at = excluded.updated_at",
        s.leika_key, s.name, json::stringify(json::to_json(s)), now());
  }

  void write_authority(core::db::Connection& tx, const Authority& a) {
    tx.execute(
        "INSERT INTO catalog_authorities (id, tenant_id, region, name, data, updated_at) "
        "VALUES (?, ?, ?, ?, ?, ?) ON CONFLICT (id) DO UPDATE SET tenant_id = "
        "excluded.tenant_id, region = excluded.region, name = excluded.name, data = "
        "excluded.data, updated_at = excluded.updated_at",
        a.id, a.tenant_id, a.region, a.name, json::stringify(json::to_json(a)), now());
  }

  void write_responsibility(core::db::Connection& tx, const Responsibility& r) {
    tx.execute(
        "INSERT INTO catalog_responsibilities (leika_key, region, authority_id) VALUES (?, ?, ?) "
        "ON CONFLICT (leika_key, region) DO UPDATE SET authority_id = excluded.authority_id",
        r.leika_key, r.region, r.authority_id);
  }

  void write_specialisation(core::db::Connection& tx, const Specialisation& s) {
    tx.execute(
        "INSERT INTO catalog_specialisations (leika_key, authority_id, module, text, "
        "replace_text, updated_at) VALUES (?, ?, ?, ?, ?, ?) ON CONFLICT (leika_key, "
        "authority_id, module) DO UPDATE SET text = excluded.text, replace_text = "
        "excluded.replace_text, updated_at = excluded.updated_at",
        s.leika_key, s.authority_id, s.module, s.text, s.replace ? 1 : 0, now());
  }

  void write_online_service(core::db::Connection& tx, const OnlineService& s) {
    tx.execute(
        "INSERT INTO catalog_online_services (id, leika_key, name, owner, state, version, data, "
        "updated_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT (id) DO UPDATE SET leika_key = "
        "excluded.leika_key, name = excluded.name, owner = excluded.owner, state = "
        "excluded.state, version = excluded.version, data = excluded.data, updated_at = "
        "excluded.updated_at",
        s.id, s.leika_key, s.name, s.owner, s.state, s.version,
        json::stringify(json::to_json(s.config)), now());
    if (s.state == "production") {
      tx.execute(
          "INSERT INTO catalog_online_service_versions (id, version, data, published_at) "
          "VALUES (?, ?, ?, ?) ON CONFLICT (id, version) DO NOTHING",
          s.id, s.version, json::stringify(json::to_json(s)), now());
    }
  }

  // Checks that references point at what exists.
  void check_refs(core::db::Connection& c, const std::string& path, const std::string& leika,
                  const std::string& region, const std::string& authority, Error& e) {
    if (!leika.empty() &&
        !c.query_one("SELECT 1 FROM catalog_services WHERE leika_key = ?", leika)) {
      e.and_field(path + ".leikaKey", "names no service in the catalog");
    }
    if (!region.empty() &&
        !c.query_one("SELECT 1 FROM catalog_regions WHERE region_key = ?", region)) {
      e.and_field(path + ".region", "names no region of Mecklenburg-Vorpommern");
    }
    if (!authority.empty() &&
        !c.query_one("SELECT 1 FROM catalog_authorities WHERE id = ?", authority)) {
      e.and_field(path + ".authorityId", "names no authority in the catalog");
    }
  }
};

Catalog::Catalog(core::db::Database& db, const core::Clock& clock, core::IdGenerator& ids,
                 core::AuditLog& audit)
    : impl_(std::make_shared<Impl>(db, clock, ids, audit)) {
  impl_->ensure_regions();
}

void Catalog::check_forms_with(std::function<bool(std::string_view key, int version)> published) {
  impl_->form_published = std::move(published);
}

void Catalog::on_change(std::function<void()> listener) {
  std::lock_guard lock(impl_->listeners_mutex);
  impl_->listeners.push_back(std::move(listener));
}

bool may_edit(const Editor& editor, const Authority& authority) {
  const auto& tenants = editor.tenant_ids;
  return editor.state_wide ||
         std::find(tenants.begin(), tenants.end(), authority.tenant_id) != tenants.end();
}

std::optional<Editor> staff_editor(std::string_view account_id,
                                   const std::vector<std::pair<std::string, std::string>>& roles,
                                   const std::vector<Authority>& authorities) {
  Editor e{.actor = "account:" + std::string(account_id)};
  bool editor = false;
  for (const auto& [tenant, role] : roles) {
    if (role == "editor") {
      e.tenant_ids.push_back(tenant);
      editor = true;
    } else if (role == "operator") {
      e.state_wide = editor = true;
    }
  }
  if (!editor) return std::nullopt;
  for (const auto& a : authorities) {
    if (a.region == kStateKey &&
        std::find(e.tenant_ids.begin(), e.tenant_ids.end(), a.tenant_id) != e.tenant_ids.end()) {
      e.state_wide = true;
    }
  }
  return e;
}

std::optional<Editor> client_editor(std::string_view client_id, std::string_view tenant_id,
                                    const std::vector<std::string>& scopes) {
  auto has = [&](std::string_view scope) {
    return std::find(scopes.begin(), scopes.end(), scope) != scopes.end();
  };
  if (!has("catalog:admin") && !has("catalog:write")) return std::nullopt;
  Editor e{.actor = "client:" + std::string(client_id), .state_wide = has("catalog:admin")};
  if (!tenant_id.empty()) e.tenant_ids.emplace_back(tenant_id);
  return e;
}

bool Catalog::may_edit(const Editor& editor, const OnlineService& service) {
  return impl_->may_edit_online_service(*impl_->db.acquire(), editor, service);
}

std::int64_t Catalog::undecodable_rows() const {
  return impl_->undecodable.load();
}

std::string Catalog::revision() {
  auto row = impl_->db.query_one("SELECT COUNT(*), MAX(updated_at) FROM catalog_services");
  return fmt::format("{}:{}", row->integer(0), row->is_null(1) ? 0 : row->integer(1));
}

std::optional<Region> Catalog::region(std::string_view key) {
  auto row = impl_->db.query_one(
      fmt::format("SELECT {} FROM catalog_regions WHERE region_key = ?", kRegionColumns),
      std::string(key));
  if (!row) return std::nullopt;
  return read_region(*row);
}

std::vector<Region> Catalog::municipalities() {
  std::vector<Region> out;
  for (const auto& r : impl_->db.query(fmt::format(
           "SELECT {} FROM catalog_regions WHERE kind = 'municipality' ORDER BY region_key",
           kRegionColumns))) {
    out.push_back(read_region(r));
  }
  return out;
}

std::vector<Region> Catalog::find_places(std::string_view text, std::size_t limit) {
  std::string q(text);
  q.erase(0, q.find_first_not_of(' '));
  while (!q.empty() && q.back() == ' ') q.pop_back();
  std::vector<Region> out;
  if (q.empty()) return out;
  bool digits = q.find_first_not_of("0123456789") == std::string::npos;
  // Names that start with the text first, then names with a word that does.
  std::string pattern;
  for (char c : fold(q)) {
    if (c == '%' || c == '_' || c == '\\') pattern += '\\';
    pattern += c;
  }
  auto rows = impl_->db.query(
      fmt::format("SELECT {} FROM catalog_regions WHERE kind = 'municipality' AND ({}) "
                  "ORDER BY CASE WHEN search_name LIKE ? ESCAPE '\\' THEN 0 ELSE 1 END, "
                  "search_name, region_key LIMIT ?",
                  kRegionColumns, digits ? "region_key LIKE ?" : "search_name LIKE ? ESCAPE '\\'"),
      digits ? q + "%" : "% " + pattern + "%", " " + pattern + "%",
      static_cast<std::int64_t>(limit));
  for (const auto& r : rows) out.push_back(read_region(r));
  return out;
}

std::string Catalog::district_of(std::string_view key) {
  return std::string(key.substr(0, std::min<std::size_t>(5, key.size())));
}

std::optional<Service> Catalog::service(std::string_view leika_key) {
  auto row = impl_->db.query_one("SELECT data FROM catalog_services WHERE leika_key = ?",
                                 std::string(leika_key));
  if (!row) return std::nullopt;
  return impl_->decode<Service>("catalog_services", std::string(leika_key), row->text(0),
                                json::service_from);
}

std::vector<Service> Catalog::services() {
  std::vector<Service> out;
  for (const auto& r :
       impl_->db.query("SELECT data, leika_key FROM catalog_services ORDER BY name")) {
    if (auto s =
            impl_->decode<Service>("catalog_services", r.text(1), r.text(0), json::service_from)) {
      out.push_back(std::move(*s));
    }
  }
  return out;
}

std::optional<Authority> Catalog::authority(std::string_view id) {
  auto conn = impl_->db.acquire();
  return impl_->authority(*conn, std::string(id));
}

std::vector<Authority> Catalog::authorities() {
  std::vector<Authority> out;
  for (const auto& r : impl_->db.query("SELECT data, id FROM catalog_authorities ORDER BY name")) {
    if (auto a = impl_->decode<Authority>("catalog_authorities", r.text(1), r.text(0),
                                          json::authority_from)) {
      out.push_back(std::move(*a));
    }
  }
  return out;
}

std::vector<Category> Catalog::categories() {
  std::vector<Category> out;
  for (const auto& r : impl_->db.query(
           "SELECT kind, category_key, name FROM catalog_categories ORDER BY kind, name")) {
    out.push_back({r.text(0), r.text(1), r.text(2)});
  }
  return out;
}

std::vector<Responsibility> Catalog::responsibilities(std::string_view leika_key) {
  std::vector<Responsibility> out;
  for (const auto& r :
       impl_->db.query("SELECT leika_key, region, authority_id FROM catalog_responsibilities "
                       "WHERE leika_key = ? ORDER BY region",
                       std::string(leika_key))) {
    out.push_back({r.text(0), r.text(1), r.text(2)});
  }
  return out;
}

std::vector<Responsibility> Catalog::responsibilities_of(std::string_view authority_id) {
  std::vector<Responsibility> out;
  for (const auto& r : impl_->db.query(
           "SELECT r.leika_key, r.region, r.authority_id FROM catalog_responsibilities r "
           "JOIN catalog_services s ON s.leika_key = r.leika_key WHERE r.authority_id = ? "
           "ORDER BY s.name, r.region",
           std::string(authority_id))) {
    out.push_back({r.text(0), r.text(1), r.text(2)});
  }
  return out;
}

std::vector<Specialisation> Catalog::specialisations(std::string_view leika_key) {
  std::vector<Specialisation> out;
  for (const auto& r :
       impl_->db.query("SELECT leika_key, authority_id, module, text, replace_text FROM "
                       "catalog_specialisations WHERE leika_key = ? ORDER BY authority_id, module",
                       std::string(leika_key))) {
    out.push_back({r.text(0), r.text(1), r.text(2), r.text(3), r.integer(4) != 0});
  }
  return out;
}

Texts Catalog::texts_for(const Service& service, std::string_view authority_id) {
  Texts t = service.texts;
  for (const auto& s : specialisations(service.leika_key)) {
    if (s.authority_id != authority_id) continue;
    if (auto* m = module_of(t, s.module)) {
      *m = s.replace || m->empty() ? s.text : *m + "\n\n" + s.text;
    }
  }
  return t;
}

std::optional<OnlineService> Catalog::online_service(std::string_view id) {
  auto conn = impl_->db.acquire();
  return impl_->online_service(*conn, std::string(id));
}

std::vector<OnlineService> Catalog::online_services() {
  auto conn = impl_->db.acquire();
  std::vector<OnlineService> out;
  for (const auto& r : conn->query("SELECT id FROM catalog_online_services ORDER BY name, id")) {
    if (auto s = impl_->online_service(*conn, r.text(0))) out.push_back(std::move(*s));
  }
  return out;
}

std::vector<AdoptionNotice> Catalog::notices(std::string_view authority_id) {
  std::vector<AdoptionNotice> out;
  for (const auto& r : impl_->db.query(
           "SELECT id, authority_id, online_service_id, version, created_at, read_at FROM "
           "catalog_notices WHERE authority_id = ? ORDER BY created_at DESC, id",
           std::string(authority_id))) {
    out.push_back({r.text(0), r.text(1), r.text(2), static_cast<int>(r.integer(3)),
                   core::from_millis(r.integer(4)), !r.is_null(5)});
  }
  return out;
}

core::Result<Route> Catalog::route(std::string_view leika_key, std::string_view ags) {
  auto place = region(ags);
  if (!place || place->kind != "municipality") {
    return fail(Error::invalid("ags", "must be the 8-digit AGS of a municipality in MV"));
  }
  auto svc = service(leika_key);
  if (!svc) return fail(Error::not_found("There is no service with this LeiKa key."));
  auto district = district_of(ags);
  std::optional<std::pair<std::string, std::string>> best;  // region, authority
  std::optional<Authority> authority;
  std::optional<OnlineService> online;
  {
    // One connection for the lookups, released before anything else asks for one: a
    // request never holds two connections of the pool.
    auto conn = impl_->db.acquire();
    int best_rank = 99;
    for (const auto& r : conn->query(
             "SELECT region, authority_id FROM catalog_responsibilities WHERE leika_key = ? "
             "AND region IN (?, ?, ?)",
             std::string(leika_key), std::string(ags), district, std::string(kStateKey))) {
      int rank = r.text(0) == ags ? 0 : r.text(0) == district ? 1 : 2;
      if (rank < best_rank) {
        best_rank = rank;
        best = {r.text(0), r.text(1)};
      }
    }
    if (!best) return fail(Error::not_found("No authority is responsible for this service here."));
    authority = impl_->authority(*conn, best->second);
    if (!authority) return fail(Error::not_found("The responsible authority is missing."));
    // The authority's own online service first, else one it adopted.
    auto os = conn->query_one(
        "SELECT id FROM catalog_online_services s WHERE leika_key = ? AND state = 'production' "
        "AND (owner = ? OR EXISTS (SELECT 1 FROM catalog_adoptions a WHERE "
        "a.online_service_id = s.id AND a.authority_id = ?)) ORDER BY CASE WHEN owner = ? "
        "THEN 0 ELSE 1 END, id",
        std::string(leika_key), authority->id, authority->id, authority->id);
    if (os) online = impl_->online_service(*conn, os->text(0));
  }
  Route route{std::move(*svc), *place, *region(best->first), std::move(*authority),
              std::move(online)};
  return route;
}

core::Status Catalog::put_service(const Editor& editor, const Service& service) {
  if (!editor.state_wide) {
    return fail(Error::forbidden("Only the state's editors change services."));
  }
  if (auto ok = impl_->check_service(service); !ok) return ok;
  impl_->db.transaction([&](core::db::Tx& tx) {
    impl_->write_service(tx, service);
    impl_->audit_change(tx, editor, "catalog.service_saved", "service", service.leika_key);
  });
  impl_->changed();
  return {};
}

core::Status Catalog::put_authority(const Editor& editor, const Authority& authority) {
  Error e{core::ErrorCode::invalid_input, "The authority is not valid.", {}, {}};
  json::authority_from(json::to_json(authority), "authority", e);
  json::check_contacts(authority, "authority", e);
  auto status = impl_->db.transaction([&](core::db::Tx& tx) -> core::Status {
    impl_->check_refs(tx, "authority", "", authority.region, "", e);
    if (!e.fields.empty()) return fail(std::move(e));
    auto existing = impl_->authority(tx, authority.id);
    // A new authority, or a move to another tenant, is the state's decision.
    bool own = existing && impl_->may_edit(tx, editor, authority.id) &&
               existing->tenant_id == authority.tenant_id;
    if (!editor.state_wide && !own) {
      return fail(Error::forbidden("You may change only your own authority's entry."));
    }
    impl_->write_authority(tx, authority);
    impl_->audit_change(tx, editor, "catalog.authority_saved", "authority", authority.id);
    return {};
  });
  if (status) impl_->changed();
  return status;
}

core::Status Catalog::put_responsibility(const Editor& editor, const Responsibility& r) {
  if (!editor.state_wide) {
    return fail(Error::forbidden("Only the state's editors assign responsibilities."));
  }
  Error e{core::ErrorCode::invalid_input, "The responsibility is not valid.", {}, {}};
  json::responsibility_from(json::to_json(r), "responsibility", e);
  auto status = impl_->db.transaction([&](core::db::Tx& tx) -> core::Status {
    impl_->check_refs(tx, "responsibility", r.leika_key, r.region, r.authority_id, e);
    if (!e.fields.empty()) return fail(std::move(e));
    impl_->write_responsibility(tx, r);
    impl_->audit_change(tx, editor, "catalog.responsibility_saved", "service", r.leika_key);
    return {};
  });
  if (status) impl_->changed();
  return status;
}

core::Status Catalog::put_specialisation(const Editor& editor, const Specialisation& s) {
  Error e{core::ErrorCode::invalid_input, "The specialisation is not valid.", {}, {}};
  json::specialisation_from(json::to_json(s), "specialisation", e);
  auto status = impl_->db.transaction([&](core::db::Tx& tx) -> core::Status {
    impl_->check_refs(tx, "specialisation", s.leika_key, "", s.authority_id, e);
    if (!e.fields.empty()) return fail(std::move(e));
    if (!impl_->may_edit(tx, editor, s.authority_id)) {
      return fail(Error::forbidden("You may change only your own authority's texts."));
    }
    impl_->write_specialisation(tx, s);
    impl_->audit_change(tx, editor, "catalog.specialisation_saved", "authority", s.authority_id);
    return {};
  });
  if (status) impl_->changed();
  return status;
}

core::Result<OnlineService> Catalog::put_online_service(const Editor& editor,
                                                        const OnlineService& input) {
  Error e{core::ErrorCode::invalid_input, "The online service is not valid.", {}, {}};
  auto s = json::online_service_from(json::to_json(input), "onlineService", e);
  auto result = impl_->db.transaction([&](core::db::Tx& tx) -> core::Result<OnlineService> {
    impl_->check_refs(tx, "onlineService", s.leika_key, "", "", e);
    if (!s.owner.empty()) impl_->check_refs(tx, "onlineService.owner", "", "", s.owner, e);
    if (!s.config.form.empty() && impl_->form_published &&
        !impl_->form_published(s.config.form, s.config.form_version))
      e.fields.push_back({"onlineService.config.formVersion", "no such published form version"});
    if (!e.fields.empty()) return fail(std::move(e));
    // The editor must be allowed the service as it was and as it will be.
    bool allowed = impl_->may_edit_online_service(tx, editor, s);
    std::optional<OnlineService> existing;
    if (!s.id.empty()) existing = impl_->online_service(tx, s.id);
    if (existing) allowed = allowed && impl_->may_edit_online_service(tx, editor, *existing);
    if (!allowed) return fail(Error::forbidden("You may change only your own online services."));
    if (!existing) {
      if (s.id.empty()) s.id = impl_->ids.key();
      s.state = "draft";
      s.version = 1;
    } else {
      s.state = existing->state;
      s.version = existing->version;
      if (existing->state == "production") {
        // A change after production is a new version; every adopter is told.
        s.version = existing->version + 1;
        for (const auto& authority : existing->adopted_by) {
          tx.execute(
              "INSERT INTO catalog_notices (id, authority_id, online_service_id, version, "
              "created_at) VALUES (?, ?, ?, ?, ?)",
              impl_->ids.key(), authority, s.id, s.version, impl_->now());
        }
      }
    }
    impl_->write_online_service(tx, s);
    impl_->audit_change(tx, editor, "catalog.online_service_saved", "online_service", s.id);
    return *impl_->online_service(tx, s.id);
  });
  if (result) impl_->changed();
  return result;
}

core::Result<OnlineService> Catalog::publish(const Editor& editor, std::string_view id,
                                             std::string_view state) {
  static const std::vector<std::string> kOrder = {"draft", "test", "production"};
  auto target = std::find(kOrder.begin(), kOrder.end(), state);
  if (target == kOrder.end()) {
    return fail(Error::invalid("state", "must be draft, test or production"));
  }
  auto result = impl_->db.transaction([&](core::db::Tx& tx) -> core::Result<OnlineService> {
    auto s = impl_->online_service(tx, std::string(id));
    if (!s) return fail(Error::not_found("There is no such online service."));
    bool allowed = impl_->may_edit_online_service(tx, editor, *s);
    if (!allowed) return fail(Error::forbidden("You may change only your own online services."));
    auto current = std::find(kOrder.begin(), kOrder.end(), s->state);
    if (target - current > 1) {
      return fail(Error::conflict("An online service goes draft → test → production."));
    }
    s->state = std::string(state);
    impl_->write_online_service(tx, *s);
    impl_->audit_change(tx, editor, "catalog.online_service_" + s->state, "online_service", s->id);
    return *s;
  });
  if (result) impl_->changed();
  return result;
}

core::Status Catalog::adopt(const Editor& editor, std::string_view online_service_id,
                            std::string_view authority_id) {
  auto status = impl_->db.transaction([&](core::db::Tx& tx) -> core::Status {
    auto s = impl_->online_service(tx, std::string(online_service_id));
    if (!s) return fail(Error::not_found("There is no such online service."));
    if (!impl_->authority(tx, std::string(authority_id))) {
      return fail(Error::invalid("authorityId", "names no authority in the catalog"));
    }
    if (!impl_->may_edit(tx, editor, std::string(authority_id))) {
      return fail(Error::forbidden("You may adopt online services for your own authority only."));
    }
    if (s->state != "production") {
      return fail(Error::conflict("Only an online service in production can be adopted."));
    }
    tx.execute(
        "INSERT INTO catalog_adoptions (online_service_id, authority_id, adopted_at) "
        "VALUES (?, ?, ?) ON CONFLICT DO NOTHING",
        s->id, std::string(authority_id), impl_->now());
    impl_->audit_change(tx, editor, "catalog.online_service_adopted", "authority",
                        std::string(authority_id));
    return {};
  });
  if (status) impl_->changed();
  return status;
}

std::string Catalog::export_json() {
  Poco::JSON::Object out;
  out.set("format", "mvsp-catalog/1");
  Poco::JSON::Array categories, authorities, services, responsibilities, specialisations, online;
  for (const auto& c : this->categories()) categories.add(json::to_json(c));
  for (const auto& a : this->authorities()) authorities.add(json::to_json(a));
  for (const auto& s : this->services()) {
    services.add(json::to_json(s));
    for (const auto& r : this->responsibilities(s.leika_key))
      responsibilities.add(json::to_json(r));
    for (const auto& sp : this->specialisations(s.leika_key)) {
      specialisations.add(json::to_json(sp));
    }
  }
  for (const auto& o : online_services()) online.add(json::to_json(o));
  out.set("categories", categories);
  out.set("authorities", authorities);
  out.set("services", services);
  out.set("responsibilities", responsibilities);
  out.set("specialisations", specialisations);
  out.set("onlineServices", online);
  return json::stringify(out);
}

core::Status Catalog::import_json(const Editor& editor, std::string_view text) {
  if (!editor.state_wide) {
    return fail(Error::forbidden("Only the state's editors import the catalog."));
  }
  auto root = json::parse(text);
  if (!root) return fail(Error::invalid("body", "must be a JSON object"));
  Error e{core::ErrorCode::invalid_input, "The catalog is not valid.", {}, {}};
  if (root->optValue<std::string>("format", "") != "mvsp-catalog/1") {
    e.and_field("format", "must be \"mvsp-catalog/1\"");
  }
  auto each = [&](const char* key, auto read) {
    using T = decltype(read(std::declval<const Poco::JSON::Object&>(), std::string(), e));
    std::vector<T> out;
    if (!root->has(key)) return out;
    auto arr = root->getArray(key);
    if (!arr) {
      e.and_field(key, "must be a list");
      return out;
    }
    for (std::size_t i = 0; i < arr->size(); ++i) {
      auto path = fmt::format("{}[{}]", key, i);
      auto o = arr->getObject(static_cast<unsigned>(i));
      if (!o) {
        e.and_field(path, "must be an object");
        continue;
      }
      out.push_back(read(*o, path, e));
    }
    return out;
  };
  auto categories = each("categories", json::category_from);
  auto authorities = each("authorities", json::authority_from);
  for (std::size_t i = 0; i < authorities.size(); ++i) {
    json::check_contacts(authorities[i], fmt::format("authorities[{}]", i), e);
  }
  auto services = each("services", json::service_from);
  auto responsibilities = each("responsibilities", json::responsibility_from);
  auto specialisations = each("specialisations", json::specialisation_from);
  auto online = each("onlineServices", json::online_service_from);
  if (!e.fields.empty()) return fail(std::move(e));

  auto status = impl_->db.transaction([&](core::db::Tx& tx) -> core::Status {
    for (const auto& c : categories) {
      tx.execute(
          "INSERT INTO catalog_categories (kind, category_key, name) VALUES (?, ?, ?) "
          "ON CONFLICT (kind, category_key) DO UPDATE SET name = excluded.name",
          c.kind, c.key, c.name);
    }
    for (std::size_t i = 0; i < authorities.size(); ++i) {
      impl_->check_refs(tx, fmt::format("authorities[{}]", i), "", authorities[i].region, "", e);
      impl_->write_authority(tx, authorities[i]);
    }
    for (const auto& s : services) impl_->write_service(tx, s);
    for (std::size_t i = 0; i < responsibilities.size(); ++i) {
      const auto& r = responsibilities[i];
      impl_->check_refs(tx, fmt::format("responsibilities[{}]", i), r.leika_key, r.region,
                        r.authority_id, e);
      impl_->write_responsibility(tx, r);
    }
    for (std::size_t i = 0; i < specialisations.size(); ++i) {
      const auto& s = specialisations[i];
      impl_->check_refs(tx, fmt::format("specialisations[{}]", i), s.leika_key, "", s.authority_id,
                        e);
      impl_->write_specialisation(tx, s);
    }
    for (std::size_t i = 0; i < online.size(); ++i) {
      auto s = online[i];
      auto path = fmt::format("onlineServices[{}]", i);
      if (s.id.empty()) e.and_field(path + ".id", "is required in an import");
      impl_->check_refs(tx, path, s.leika_key, "", "", e);
      if (!s.owner.empty()) impl_->check_refs(tx, path + ".owner", "", "", s.owner, e);
      if (!e.fields.empty()) continue;
      impl_->write_online_service(tx, s);
      tx.execute("DELETE FROM catalog_adoptions WHERE online_service_id = ?", s.id);
      for (std::size_t j = 0; j < s.adopted_by.size(); ++j) {
        impl_->check_refs(tx, fmt::format("{}.adoptedBy[{}]", path, j), "", "", s.adopted_by[j], e);
        tx.execute(
            "INSERT INTO catalog_adoptions (online_service_id, authority_id, adopted_at) "
            "VALUES (?, ?, ?) ON CONFLICT DO NOTHING",
            s.id, s.adopted_by[j], impl_->now());
      }
    }
    // Nothing half-written: any broken reference rolls the whole import back.
    if (!e.fields.empty()) return fail(std::move(e));
    impl_->audit.append(tx, {.actor = editor.actor,
                             .action = "catalog.imported",
                             .object_type = "catalog",
                             .object_id = "catalog",
                             .detail = fmt::format(R"({{"services":{},"authorities":{}}})",
                                                   services.size(), authorities.size())});
    return {};
  });
  if (status) impl_->changed();
  return status;
}

}  // namespace mvsp::catalog
