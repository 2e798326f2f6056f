#pragma once
// The catalog (Infodienste.MV): regions of Mecklenburg-Vorpommern, authorities (zuständige
// Stellen), services (Leistungen) with their FIM text modules, local specialisations,
// responsibilities, and online services with versions and adoptions.

#include <functional>
#include <memory>
#include <mvsp/core/clock.hpp>
#include <mvsp/core/error.hpp>
#include <mvsp/core/resources.hpp>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace mvsp::core {
class IdGenerator;
class AuditLog;
namespace db {
class Database;
}
}  // namespace mvsp::core

namespace mvsp::catalog {

std::span<const core::Resource> embedded_resources();
// The demo catalog (data/demo-catalog.json): services, authorities, responsibilities and
// online services for `mvsp demo`; "{tenant:schwerin}", "{tenant:wismar}" and "{tenant:mbd}"
// stand for the demo tenants' ids.
std::string_view demo_catalog_json();

// "13" (the state), a 5-digit district key, or an 8-digit AGS.
struct Region {
  std::string key;
  std::string name;                  // official: "Wismar, Hansestadt"
  std::string kind;                  // state, district, municipality
  std::string parent;                // "" for the state
  std::string short_name;            // "Wismar"
  std::string display_name() const;  // "Hansestadt Wismar"
};
inline constexpr std::string_view kStateKey = "13";

struct Authority {
  std::string id;
  std::string tenant_id;  // the identity tenant whose staff edit it
  std::string region;     // the area it serves: a region key
  std::string name;
  std::string street;
  std::string postcode;
  std::string city;
  std::string postal_address;  // when letters go elsewhere (Postfach)
  std::string phone;
  std::string email;
  std::string website;
  std::string opening_hours;
  std::string accessibility;
};

// The FIM text modules of a service, in the order a service page shows them.
struct Texts {
  std::string description;
  std::string prerequisites;
  std::string documents;
  std::string fees;
  std::string deadlines;
  std::string processing_time;
  std::string legal_basis;
  std::string forms;
  std::string further_info;
};
// Module names as the API and specialisations use them.
const std::vector<std::string>& text_modules();
std::string* module_of(Texts& texts, std::string_view module);

struct Service {
  std::string leika_key;  // 14 digits
  std::string name;
  std::vector<std::string> synonyms;
  Texts texts;
  std::vector<std::string> topics;           // topic keys
  std::vector<std::string> life_situations;  // life situation keys
  std::string level;                         // municipality, district or state
};

// An authority's local text for a service: replaces or adds to modules for its area.
struct Specialisation {
  std::string leika_key;
  std::string authority_id;
  std::string module;
  std::string text;
  bool replace = false;  // false: shown after the state text
};

struct Responsibility {
  std::string leika_key;
  std::string region;  // municipality, district or state key
  std::string authority_id;
};

struct Category {
  std::string kind;  // topic, life_situation
  std::string key;
  std::string name;
};

struct DocumentRule {
  std::string name;
  std::vector<std::string> types;  // media types, "application/pdf"
  std::int64_t max_bytes = 10 * 1024 * 1024;
  bool required = true;
  bool multiple = false;  // several files may answer it (at most kMaxFilesPerDocument)
};
inline constexpr int kMaxFilesPerDocument = 10;

// What an online service asks and how (Antragsstrecke).
struct OnlineServiceConfig {
  std::vector<std::string> steps;
  std::vector<DocumentRule> documents;
  std::int64_t fee_cents = 0;  // fixed part of the fee
  // The part per unit counted in a form answer (per dog, per copy): that answer's path
  // ("hunde" counts a group's items). Both 0/"" when the fee is fixed.
  std::int64_t fee_per_unit_cents = 0;
  std::string fee_unit_field;
  std::string min_level = "low";  // identity trust level
  // Applying without an account, with an e-mail address confirmed by a link (basic and
  // low services only: a guest has no trust level).
  bool guest_access = false;
  int draft_days = 30;    // an unsubmitted application is deleted this long after its last change
  int reminder_days = 7;  // the reminder goes out this long before
  int retention_days = 365;
  bool written_form = false;
  std::vector<std::string> languages = {"de"};
  std::string confirmation_text;
  std::string external_url;  // for services run elsewhere; empty: on this platform
  // The form it asks (forms component): a published version of a form; "" for none.
  std::string form;
  int form_version = 0;
};

// The configuration as JSON (the catalog's own form), and back: what an application keeps
// of the online service as it was when it started. invalid_input names what does not read.
std::string config_to_json(const OnlineServiceConfig& config);
core::Result<OnlineServiceConfig> config_from_json(std::string_view json);

struct OnlineService {
  std::string id;
  std::string leika_key;
  std::string name;
  std::string owner;  // authority id; "" for the state (EfA)
  std::string state;  // draft, test, production
  int version = 1;
  OnlineServiceConfig config;
  std::vector<std::string> adopted_by;  // authority ids
};

// "A new version exists" for an authority that adopted an online service.
struct AdoptionNotice {
  std::string id;
  std::string authority_id;
  std::string online_service_id;
  int version = 0;
  core::TimePoint created_at;
  bool read = false;
};

// The responsible authority for a service at a place, and the online service it offers.
struct Route {
  Service service;
  Region place;
  Region responsibility_region;  // where the responsibility is recorded
  Authority authority;
  std::optional<OnlineService> online_service;
};

// Who changes the catalog: a state editor (any), an authority editor (own authorities).
struct Editor {
  std::string actor;                    // "account:<id>" or "client:<id>" for the audit log
  bool state_wide = false;              // editor of the state's catalog (or operator)
  std::vector<std::string> tenant_ids;  // tenants the person is editor of
};

// May the editor change what belongs to this authority? A state-wide editor everything,
// others what belongs to the authorities of their tenants.
bool may_edit(const Editor& editor, const Authority& authority);

// The editor a member of staff is by their roles (tenant, role): the role `editor` edits
// the authorities of its tenant; an editor of a tenant that runs a state-level authority
// (region kStateKey), and an operator, edit the state's catalog. nullopt: not an editor.
std::optional<Editor> staff_editor(std::string_view account_id,
                                   const std::vector<std::pair<std::string, std::string>>& roles,
                                   const std::vector<Authority>& authorities);
// The editor a machine client is by its scopes: catalog:admin the state's editorial office,
// catalog:write the authorities of its tenant. nullopt: neither scope.
std::optional<Editor> client_editor(std::string_view client_id, std::string_view tenant_id,
                                    const std::vector<std::string>& scopes);

class Catalog {
 public:
  Catalog(core::db::Database& db, const core::Clock& clock, core::IdGenerator& ids,
          core::AuditLog& audit);

  // Regions (loaded at first start from the embedded reference data).
  std::optional<Region> region(std::string_view key);
  std::vector<Region> municipalities();
  // Municipalities whose name starts with `text` (case-insensitive) or whose AGS does.
  std::vector<Region> find_places(std::string_view text, std::size_t limit);
  std::string district_of(std::string_view key);  // district key of a municipality

  // Reading.
  std::optional<Service> service(std::string_view leika_key);
  std::vector<Service> services();
  std::optional<Authority> authority(std::string_view id);
  std::vector<Authority> authorities();
  std::vector<Category> categories();
  std::vector<Responsibility> responsibilities(std::string_view leika_key);
  std::vector<Responsibility> responsibilities_of(std::string_view authority_id);
  std::vector<Specialisation> specialisations(std::string_view leika_key);
  // The service's texts as shown for `authority_id`'s area (specialisations applied).
  Texts texts_for(const Service& service, std::string_view authority_id);
  std::optional<OnlineService> online_service(std::string_view id);
  std::vector<OnlineService> online_services();
  std::vector<AdoptionNotice> notices(std::string_view authority_id);

  // Responsibility for a service at a municipality: the most specific of municipality,
  // district and state. not_found when there is none.
  core::Result<Route> route(std::string_view leika_key, std::string_view ags);

  // Changes, each checked against the editor's rights and audited.
  core::Status put_service(const Editor& editor, const Service& service);
  core::Status put_authority(const Editor& editor, const Authority& authority);
  core::Status put_responsibility(const Editor& editor, const Responsibility& r);
  core::Status put_specialisation(const Editor& editor, const Specialisation& s);
  core::Result<OnlineService> put_online_service(const Editor& editor, const OnlineService& s);
  // draft → test → production; a change of a production service creates a new version
  // and a notice for every adopting authority.
  core::Result<OnlineService> publish(const Editor& editor, std::string_view id,
                                      std::string_view state);
  core::Status adopt(const Editor& editor, std::string_view online_service_id,
                     std::string_view authority_id);

  // The whole catalog as JSON, and back (an import replaces what has the same keys).
  std::string export_json();
  core::Status import_json(const Editor& editor, std::string_view json);

  // Called after every change made through this instance (the finder keeps its index
  // current with it); revision() changes with every change of a service, made anywhere.
  void on_change(std::function<void()> listener);
  std::string revision();
  // May the editor change this online service? The state's own (no owner) only a
  // state-wide editor; an authority's as may_edit says.
  bool may_edit(const Editor& editor, const OnlineService& service);
  // Whether a form version exists that an online service may point to, asked when an
  // editor saves one; without it set (a command that builds the catalog alone), and in a
  // whole-catalog import (whose forms may be published after it), a pointer is taken as
  // it is: the application journey refuses to start on a form version that is not there.
  void check_forms_with(std::function<bool(std::string_view key, int version)> published);
  // Stored rows left out of answers since start because they no longer decode (each is
  // logged as catalog.row_undecodable).
  std::int64_t undecodable_rows() const;

 private:
  struct Impl;
  std::shared_ptr<Impl> impl_;
};

}  // namespace mvsp::catalog
