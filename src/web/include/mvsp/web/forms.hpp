#pragma once
// Accessible forms in KERN-UX markup: each field with label, hint and error, and an error
// summary that links to the fields, filled from a core::Error's field errors.

#include <mvsp/core/error.hpp>
#include <mvsp/web/view.hpp>
#include <string>
#include <utility>
#include <vector>

namespace mvsp::web {

struct Field {
  std::string name;
  std::string label;
  std::string value;
  std::string type = "text";
  std::string autocomplete;  // e.g. "email", "new-password", "given-name"
  std::string hint;
  bool required = false;
  std::string inputmode;   // e.g. "numeric"
  bool multiline = false;  // a textarea (one entry per line)
};

// The view of a form: {"fields": […], "has_errors", "errors": […], "error_title"}.
// Field errors are matched to fields by name; the template renders each field with the
// partial "web/field" and the summary with "web/error_summary".
View form_view(const std::vector<Field>& fields, const core::Error* error,
               const std::string& error_title);

// A group of radio buttons or checkboxes (`kind`: "radio", "checkbox") for the partial
// "web/choices": `options` are (value, label) pairs; the error for field `id` is shown.
View choices_view(const std::string& id, const std::string& legend, const std::string& name,
                  const std::string& kind,
                  const std::vector<std::pair<std::string, std::string>>& options,
                  const std::vector<std::string>& checked, const core::Error* error);

}  // namespace mvsp::web
