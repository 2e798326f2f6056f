#pragma once
// Pages in the shell: renders a page template inside the layout, with the texts of the
// visitor's language, the language switch and, where a form needs it, the CSRF token.

#include <mvsp/core/error.hpp>
#include <mvsp/web/http.hpp>
#include <mvsp/web/view.hpp>
#include <string>
#include <string_view>

namespace mvsp::web {

class Templates;
class Catalog;

// The login page for a visitor who is not signed in, coming back to this page after it.
Response to_login(const Request& req);
// A message for the next page this session sees (after a redirect); render shows it once.
void flash(Request& req, std::string text);

class Pages {
 public:
  Pages(const Templates& templates, const Catalog& catalog);

  // `page` is a template name such as "web/start"; `model` may set "title" (the text
  // key of the page title is taken from "title_key" when "title" is absent).
  Response render(Request& req, std::string_view page, View model, int status = 200) const;
  // The HTML error page for a status (400, 403, 404, 405, 409, 413, 415, 429, 500, 503)
  // that the web layer decides itself, or a protocol fixes (OAuth's 400); a component
  // answers a refusal with the overload below.
  Response error(Request& req, int status) const;
  // The error page for a use case's refusal: the status web::http_status gives its code
  // (the one mapping, for pages as for problem+json), with Retry-After where it waits.
  Response error(Request& req, const core::Error& error) const;
  const Catalog& catalog() const { return catalog_; }

 private:
  const Templates& templates_;
  const Catalog& catalog_;
};

}  // namespace mvsp::web
