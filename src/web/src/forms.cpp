#include <algorithm>
#include <mvsp/web/forms.hpp>

namespace mvsp::web {

View form_view(const std::vector<Field>& fields, const core::Error* error,
               const std::string& error_title) {
  View form;
  form.set_list("fields", {});
  form.set_list("errors", {});
  for (const auto& f : fields) {
    View v;
    auto id = "feld-" + f.name;
    v.set("id", id);
    v.set("name", f.name);
    v.set("label", f.label);
    v.set("value", f.type == "password" ? std::string() : f.value);
    v.set("type", f.type);
    v.set("required", f.required);
    v.set("multiline", f.multiline);
    if (!f.autocomplete.empty()) v.set("autocomplete", f.autocomplete);
    if (!f.inputmode.empty()) v.set("inputmode", f.inputmode);
    std::string described;
    if (!f.hint.empty()) {
      v.set("hint", f.hint);
      described = id + "-hint";
    }
    if (error) {
      for (const auto& fe : error->fields) {
        if (fe.field != f.name) continue;
        v.set("error", fe.message);
        described += (described.empty() ? "" : " ") + id + "-error";
        View summary;
        summary.set("id", id);
        summary.set("message", fe.message);
        form.add("errors", std::move(summary));
        break;
      }
    }
    if (!described.empty()) v.set("described", described);
    form.add("fields", std::move(v));
  }
  if (error) {
    // Errors of inputs rendered outside `fields` (radio and checkbox groups) are listed
    // too, linking to the group's id.
    for (const auto& fe : error->fields) {
      bool known = std::any_of(fields.begin(), fields.end(),
                               [&](const Field& f) { return f.name == fe.field; });
      if (known) continue;
      View summary;
      summary.set("id", "feld-" + fe.field);
      summary.set("message", fe.message);
      form.add("errors", std::move(summary));
    }
    form.set("has_errors", true);
    form.set("error_title", error_title);
    // An error that belongs to no field still needs to be shown.
    if (error->fields.empty()) {
      View summary;
      summary.set("message", error->message);
      form.add("errors", std::move(summary));
    }
  }
  return form;
}

View choices_view(const std::string& id, const std::string& legend, const std::string& name,
                  const std::string& kind,
                  const std::vector<std::pair<std::string, std::string>>& options,
                  const std::vector<std::string>& checked, const core::Error* error) {
  View v;
  v.set("id", "feld-" + id);
  v.set("legend", legend);
  v.set_list("options", {});
  for (const auto& [value, label] : options) {
    View o;
    o.set("option_id", "feld-" + id + "-" + value);
    o.set("name", name);
    o.set("kind", kind);
    o.set("value", value);
    o.set("label", label);
    o.set("checked", std::find(checked.begin(), checked.end(), value) != checked.end());
    v.add("options", std::move(o));
  }
  if (error) {
    for (const auto& f : error->fields) {
      if (f.field == id) v.set("error", f.message);
    }
  }
  return v;
}

}  // namespace mvsp::web
