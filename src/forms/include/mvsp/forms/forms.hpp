#pragma once
// The forms store: form definitions with versions. A form belongs to the state (owner "")
// or to an authority; the state's editors change the state's forms, an authority's
// editors their own. A published version never changes: a change is a draft of the next
// version, which can be previewed and then published.

#include <memory>
#include <mvsp/core/clock.hpp>
#include <mvsp/core/error.hpp>
#include <mvsp/forms/form.hpp>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace mvsp::core {
class AuditLog;
namespace db {
class Database;
}
}  // namespace mvsp::core

namespace mvsp::catalog {
class Catalog;
struct Editor;
}  // namespace mvsp::catalog

namespace mvsp::forms {

// The demo forms as their JSON definitions: data/demo-form-*.json, and the forms that the
// XDatenfelder files data/demo-xdatenfelder-*.xml import to.
std::vector<std::string> demo_forms();

struct FormVersion {
  std::string key;
  int version = 0;
  std::string owner;  // authority id; "" for the state
  std::string state;  // draft, published
  Form form;          // checked
  core::TimePoint changed_at;
  std::string changed_by;
  std::optional<core::TimePoint> published_at;
};

// A form in the editor's list.
struct FormEntry {
  std::string key;
  std::string title;
  std::string owner;
  int published = 0;  // the latest published version; 0 when none
  int draft = 0;      // the draft's version; 0 when none
  core::TimePoint changed_at;
};

class Forms {
 public:
  Forms(core::db::Database& db, const core::Clock& clock, core::AuditLog& audit,
        catalog::Catalog& catalog);

  // Saves `json` (mvsp-form/1) as the draft of its key: the next version after the latest
  // published one, replacing the draft there is. A new key belongs to `owner`; an existing
  // form keeps its owner. invalid_input names each problem; forbidden when the editor may
  // not change the form.
  core::Result<FormVersion> save_draft(const catalog::Editor& editor, std::string_view owner,
                                       std::string_view json);
  // Publishes the draft of `key`; not_found when there is none.
  core::Result<FormVersion> publish(const catalog::Editor& editor, std::string_view key);
  // Throws the draft away.
  core::Status discard_draft(const catalog::Editor& editor, std::string_view key);

  // A published version; version 0 is the latest.
  std::optional<FormVersion> published(std::string_view key, int version = 0);
  std::optional<FormVersion> draft(std::string_view key);
  std::vector<FormEntry> list();
  // Every version of a form, newest first.
  std::vector<FormVersion> history(std::string_view key);

  // May the editor change forms of this owner?
  bool may_edit(const catalog::Editor& editor, std::string_view owner);
  // Stored definitions left out because they no longer read (each logged once).
  std::int64_t undecodable_rows() const;

 private:
  struct Impl;
  std::shared_ptr<Impl> impl_;
};

// What changed from version `before` to `after`, one line per change in German ("Frage
// „Rasse“ auf Seite „Hunde“ hinzugefügt").
std::vector<std::string> differences(const Form& before, const Form& after);

}  // namespace mvsp::forms
