#include <mvsp/forms/forms.hpp>
// The forms store's use cases; each change runs in one transaction with its audit entry.

#include <fmt/format.h>

#include <atomic>
#include <map>
#include <mutex>
#include <mvsp/catalog/catalog.hpp>
#include <mvsp/core/audit.hpp>
#include <mvsp/core/db.hpp>
#include <mvsp/core/log.hpp>
#include <mvsp/forms/component.hpp>
#include <mvsp/forms/xdatenfelder.hpp>

namespace mvsp::forms {

std::vector<std::string> demo_forms() {
  std::vector<std::string> out;
  for (const auto& r : embedded_resources()) {
    if (r.path.starts_with("data/demo-form-") && r.path.ends_with(".json"))
      out.emplace_back(r.content);
    if (r.path.starts_with("data/demo-xdatenfelder-") && r.path.ends_with(".xml")) {
      auto imported = import_xdatenfelder(r.content, [](std::string_view) { return std::nullopt; });
      if (!imported) throw core::Failure(fmt::format("demo form {} does not import", r.path));
      out.push_back(to_json(imported->form));
    }
  }
  return out;
}

namespace {
constexpr std::string_view kColumns =
    "form_key, version, owner, state, definition, changed_at, changed_by, published_at";
}

struct Forms::Impl {
  core::db::Database& db;
  const core::Clock& clock;
  core::AuditLog& audit;
  catalog::Catalog& catalog;
  std::atomic<std::int64_t> undecodable{0};
  // Published versions never change: each is read and checked once per instance (a form of
  // some hundred questions took a millisecond to check, on every page a citizen opened).
  std::mutex cache_mutex;
  std::map<std::pair<std::string, int>, std::shared_ptr<const FormVersion>> published_cache;

  std::optional<FormVersion> decode(const core::db::Row& row) {
    auto form = parse_form(row.text(4));
    if (!form) {
      ++undecodable;
      core::log::error("forms.row_undecodable",
                       {{"form", row.text(0)}, {"version", std::to_string(row.integer(1))}});
      return std::nullopt;
    }
    FormVersion v;
    v.key = row.text(0);
    v.version = static_cast<int>(row.integer(1));
    v.owner = row.text(2);
    v.state = row.text(3);
    v.form = std::move(*form);
    v.changed_at = core::from_millis(row.integer(5));
    v.changed_by = row.text(6);
    if (auto p = row.optional_integer(7)) v.published_at = core::from_millis(*p);
    return v;
  }

  std::optional<FormVersion> one(core::db::Connection& c, std::string_view sql_tail,
                                 std::string_view key, std::optional<int> version = std::nullopt) {
    auto sql =
        fmt::format("SELECT {} FROM forms_versions WHERE form_key = ? {}", kColumns, sql_tail);
    auto row = version ? c.query_one(sql, key, *version) : c.query_one(sql, key);
    return row ? decode(*row) : std::nullopt;
  }

  bool may_edit(const catalog::Editor& e, std::string_view owner) {
    if (e.state_wide) return true;
    if (owner.empty()) return false;
    auto a = catalog.authority(owner);
    return a && catalog::may_edit(e, *a);
  }

  // The owner of a form that exists (any version), or nullopt.
  static std::optional<std::string> owner_of(core::db::Connection& c, std::string_view key) {
    auto row = c.query_one(
        "SELECT owner FROM forms_versions WHERE form_key = ? ORDER BY version LIMIT 1", key);
    if (!row) return std::nullopt;
    return row->text(0);
  }

  void record(core::db::Connection& tx, const catalog::Editor& e, std::string action,
              const std::string& key, int version) {
    audit.append(tx, {.actor = e.actor,
                      .action = std::move(action),
                      .object_type = "form",
                      .object_id = key,
                      .detail = fmt::format(R"({{"version":{}}})", version)});
  }
};

Forms::Forms(core::db::Database& db, const core::Clock& clock, core::AuditLog& audit,
             catalog::Catalog& catalog)
    : impl_(std::make_shared<Impl>(db, clock, audit, catalog)) {}

bool Forms::may_edit(const catalog::Editor& editor, std::string_view owner) {
  return impl_->may_edit(editor, owner);
}

std::int64_t Forms::undecodable_rows() const {
  return impl_->undecodable.load();
}

core::Result<FormVersion> Forms::save_draft(const catalog::Editor& editor, std::string_view owner,
                                            std::string_view json) {
  auto form = parse_form(json);
  if (!form) return core::fail(std::move(form.error()));
  auto& impl = *impl_;
  if (!owner.empty() && !impl.catalog.authority(owner))
    return core::fail(core::Error::invalid("owner", "Diese Behörde gibt es nicht."));
  return impl.db.transaction([&](core::db::Tx& tx) -> core::Result<FormVersion> {
    tx.lock_exclusive("forms:" + form->key);
    auto existing_owner = Impl::owner_of(tx, form->key);
    std::string the_owner = existing_owner ? *existing_owner : std::string(owner);
    if (!impl.may_edit(editor, the_owner))
      return core::fail(core::Error::forbidden("Sie dürfen dieses Formular nicht ändern."));
    auto latest = tx.query_one(
        "SELECT MAX(version) FROM forms_versions WHERE form_key = ? AND state = 'published'",
        form->key);
    int version = static_cast<int>((latest && !latest->is_null(0) ? latest->integer(0) : 0) + 1);
    auto now = core::to_millis(impl.clock.now());
    auto definition = to_json(*form);
    tx.execute("DELETE FROM forms_versions WHERE form_key = ? AND state = 'draft'", form->key);
    tx.execute(
        "INSERT INTO forms_versions (form_key, version, owner, state, title, definition, "
        "changed_at, "
        "changed_by) VALUES (?, ?, ?, 'draft', ?, ?, ?, ?)",
        form->key, version, the_owner, form->title, definition, now, editor.actor);
    impl.record(tx, editor, "form.draft_saved", form->key, version);
    FormVersion v;
    v.key = form->key;
    v.version = version;
    v.owner = the_owner;
    v.state = "draft";
    v.form = std::move(*form);
    v.changed_at = core::from_millis(now);
    v.changed_by = editor.actor;
    return v;
  });
}

core::Result<FormVersion> Forms::publish(const catalog::Editor& editor, std::string_view key) {
  auto& impl = *impl_;
  return impl.db.transaction([&](core::db::Tx& tx) -> core::Result<FormVersion> {
    tx.lock_exclusive(fmt::format("forms:{}", key));
    auto owner = Impl::owner_of(tx, key);
    if (owner && !impl.may_edit(editor, *owner))
      return core::fail(
          core::Error::forbidden("Sie dürfen dieses Formular nicht veröffentlichen."));
    auto draft = impl.one(tx, "AND state = 'draft'", key);
    if (!draft)
      return core::fail(core::Error::not_found("Zu diesem Formular gibt es keinen Entwurf."));
    auto now = core::to_millis(impl.clock.now());
    tx.execute(
        "UPDATE forms_versions SET state = 'published', published_at = ?, changed_by = ? "
        "WHERE form_key = ? AND version = ? AND state = 'draft'",
        now, editor.actor, key, draft->version);
    impl.record(tx, editor, "form.published", draft->key, draft->version);
    draft->state = "published";
    draft->published_at = core::from_millis(now);
    draft->changed_by = editor.actor;
    return *draft;
  });
}

core::Status Forms::discard_draft(const catalog::Editor& editor, std::string_view key) {
  auto& impl = *impl_;
  return impl.db.transaction([&](core::db::Tx& tx) -> core::Status {
    auto owner = Impl::owner_of(tx, key);
    if (owner && !impl.may_edit(editor, *owner))
      return core::fail(core::Error::forbidden("Sie dürfen dieses Formular nicht ändern."));
    auto draft = impl.one(tx, "AND state = 'draft'", key);
    if (!draft)
      return core::fail(core::Error::not_found("Zu diesem Formular gibt es keinen Entwurf."));
    tx.execute("DELETE FROM forms_versions WHERE form_key = ? AND state = 'draft'", key);
    impl.record(tx, editor, "form.draft_discarded", draft->key, draft->version);
    return {};
  });
}

std::optional<FormVersion> Forms::published(std::string_view key, int version) {
  auto& impl = *impl_;
  auto c = impl.db.acquire();
  if (version <= 0) {
    auto latest = c->query_one(
        "SELECT MAX(version) FROM forms_versions WHERE form_key = ? AND state = 'published'", key);
    if (!latest || latest->is_null(0)) return std::nullopt;
    version = static_cast<int>(latest->integer(0));
  }
  std::pair<std::string, int> slot{std::string(key), version};
  {
    std::lock_guard lock(impl.cache_mutex);
    if (auto it = impl.published_cache.find(slot); it != impl.published_cache.end())
      return *it->second;
  }
  auto v = impl.one(*c, "AND version = ? AND state = 'published'", key, version);
  if (!v) return std::nullopt;
  std::lock_guard lock(impl.cache_mutex);
  impl.published_cache.emplace(std::move(slot), std::make_shared<const FormVersion>(*v));
  return v;
}

std::optional<FormVersion> Forms::draft(std::string_view key) {
  auto c = impl_->db.acquire();
  return impl_->one(*c, "AND state = 'draft'", key);
}

std::vector<FormEntry> Forms::list() {
  std::vector<FormEntry> out;
  auto rows = impl_->db.query(
      "SELECT form_key, version, owner, state, title, changed_at FROM forms_versions "
      "ORDER BY form_key, version");
  for (const auto& row : rows) {
    if (out.empty() || out.back().key != row.text(0)) {
      out.push_back({row.text(0), row.text(4), row.text(2), 0, 0, {}});
    }
    auto& e = out.back();
    auto version = static_cast<int>(row.integer(1));
    if (row.text(3) == "published") {
      e.published = version;
    } else {
      e.draft = version;
    }
    e.title = row.text(4);
    e.changed_at = core::from_millis(row.integer(5));
  }
  return out;
}

std::vector<FormVersion> Forms::history(std::string_view key) {
  std::vector<FormVersion> out;
  auto rows = impl_->db.query(
      fmt::format("SELECT {} FROM forms_versions WHERE form_key = ? ORDER BY version DESC",
                  kColumns),
      key);
  for (const auto& row : rows) {
    if (auto v = impl_->decode(row)) out.push_back(std::move(*v));
  }
  return out;
}

namespace {

std::string describe(const Question& q) {
  return q.label.empty() ? q.id : q.label;
}

void compare_questions(const std::vector<Question>& before, const std::vector<Question>& after,
                       const std::string& where, std::vector<std::string>& out) {
  for (const auto& q : after) {
    auto old =
        std::find_if(before.begin(), before.end(), [&](const Question& b) { return b.id == q.id; });
    if (old == before.end()) {
      out.push_back(fmt::format("Frage „{}“ {} hinzugefügt", describe(q), where));
      continue;
    }
    std::vector<std::string> what;
    if (old->type != q.type) what.emplace_back("Typ");
    if (old->label != q.label) what.emplace_back("Frage");
    if (old->hint != q.hint || old->text != q.text) what.emplace_back("Hinweis");
    if (old->required != q.required || old->min != q.min || old->max != q.max ||
        old->min_length != q.min_length || old->max_length != q.max_length ||
        old->pattern != q.pattern)
      what.emplace_back("Prüfung");
    bool options_changed = old->options.size() != q.options.size();
    for (std::size_t i = 0; !options_changed && i < q.options.size(); ++i)
      options_changed = old->options[i].value != q.options[i].value ||
                        old->options[i].label != q.options[i].label;
    if (options_changed) what.emplace_back("Auswahl");
    if (old->show_if != q.show_if || old->value != q.value) what.emplace_back("Bedingung");
    if (old->xml_name != q.xml_name) what.emplace_back("XML-Name");
    if (!what.empty()) {
      std::string list;
      for (const auto& w : what) list += (list.empty() ? "" : ", ") + w;
      out.push_back(fmt::format("Frage „{}“ {} geändert: {}", describe(q), where, list));
    }
    if (q.type == QuestionType::group)
      compare_questions(old->questions, q.questions, fmt::format("in der Gruppe „{}“", describe(q)),
                        out);
  }
  for (const auto& q : before) {
    if (std::none_of(after.begin(), after.end(), [&](const Question& a) { return a.id == q.id; }))
      out.push_back(fmt::format("Frage „{}“ {} entfernt", describe(q), where));
  }
}

}  // namespace

std::vector<std::string> differences(const Form& before, const Form& after) {
  std::vector<std::string> out;
  if (before.title != after.title) out.push_back(fmt::format("Titel geändert: „{}“", after.title));
  for (const auto& p : after.pages) {
    const auto* old = before.page(p.id);
    if (!old) {
      out.push_back(fmt::format("Seite „{}“ hinzugefügt", p.title));
      continue;
    }
    if (old->title != p.title)
      out.push_back(fmt::format("Seite „{}“ umbenannt in „{}“", old->title, p.title));
    if (old->show_if != p.show_if)
      out.push_back(fmt::format("Bedingung der Seite „{}“ geändert", p.title));
    bool routes_changed = old->routes.size() != p.routes.size();
    for (std::size_t i = 0; !routes_changed && i < p.routes.size(); ++i)
      routes_changed =
          old->routes[i].when != p.routes[i].when || old->routes[i].go_to != p.routes[i].go_to;
    if (routes_changed)
      out.push_back(fmt::format("Weiterleitungen der Seite „{}“ geändert", p.title));
    compare_questions(old->questions, p.questions, fmt::format("auf Seite „{}“", p.title), out);
  }
  for (const auto& p : before.pages) {
    if (!after.page(p.id)) out.push_back(fmt::format("Seite „{}“ entfernt", p.title));
  }
  if (before.pages.size() == after.pages.size()) {
    for (std::size_t i = 0; i < after.pages.size(); ++i) {
      if (before.pages[i].id != after.pages[i].id) {
        out.emplace_back("Reihenfolge der Seiten geändert");
        break;
      }
    }
  }
  bool rules_changed = before.rules.size() != after.rules.size();
  for (std::size_t i = 0; !rules_changed && i < after.rules.size(); ++i)
    rules_changed = before.rules[i].check != after.rules[i].check ||
                    before.rules[i].message != after.rules[i].message;
  if (rules_changed) out.emplace_back("Prüfregeln geändert");
  return out;
}

}  // namespace mvsp::forms
