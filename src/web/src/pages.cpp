#include <fmt/format.h>

#include <algorithm>
#include <mvsp/web/errors.hpp>
#include <mvsp/web/pages.hpp>
#include <mvsp/web/sessions.hpp>
#include <mvsp/web/templates.hpp>

namespace mvsp::web {
namespace {

constexpr std::string_view kLocales[] = {"de", "en"};

}  // namespace

Response to_login(const Request& req) {
  return Response::redirect("/anmelden?next=" + url_encode(req.path));
}

void flash(Request& req, std::string text) {
  auto& session = req.ensure_session();
  session.data["flash"] = std::move(text);
  session.dirty = true;
}

Pages::Pages(const Templates& templates, const Catalog& catalog)
    : templates_(templates), catalog_(catalog) {}

Response Pages::render(Request& req, std::string_view page, View model, int status) const {
  const auto& root = model.node();
  bool has_title = false;
  std::string title_key;
  if (const auto* obj = std::get_if<View::Object>(&root)) {
    has_title = obj->contains("title");
    if (auto it = obj->find("title_key"); it != obj->end()) {
      if (const auto* s = std::get_if<std::string>(&it->second.node())) title_key = *s;
    }
  }
  if (!has_title && !title_key.empty()) model.set("title", catalog_.text(req.locale, title_key));
  model.set("lang", req.locale);
  model.set("path", req.path);
  if (req.session) {
    model.set("csrf_token", req.session->csrf_token);
    if (!req.session->account_id.empty()) model.set("signed_in", true);
    if (auto it = req.session->data.find("acting_for_name"); it != req.session->data.end()) {
      model.set("acting_for", it->second);
    }
    // A message left for the next page (after a redirect) is shown once.
    if (auto it = req.session->data.find("flash"); it != req.session->data.end()) {
      model.set("flash", it->second);
      req.session->data.erase(it);
      req.session->dirty = true;
    }
  }
  for (auto code : kLocales) {
    View link;
    link.set("code", std::string(code));
    link.set("label", catalog_.text(code, "shell.language_name"));
    link.set("href", fmt::format("/sprache/{}?next={}", code, url_encode(req.path)));
    link.set("current", code == req.locale);
    model.add("languages", std::move(link));
  }
  auto res =
      Response::html(templates_.render("web/layout", model, page, &catalog_, req.locale), status);
  res.set_header("Content-Language", req.locale);
  return res;
}

Response Pages::error(Request& req, int status) const {
  int known = status;
  if (known != 400 && known != 403 && known != 404 && known != 405 && known != 409 &&
      known != 413 && known != 415 && known != 429 && known != 503) {
    known = 500;
  }
  View model;
  model.set("status", std::to_string(status));
  model.set("title", catalog_.text(req.locale, fmt::format("error.{}.title", known)));
  model.set("message", catalog_.text(req.locale, fmt::format("error.{}.text", known)));
  model.set("correlation_id", req.correlation_id);
  return render(req, "web/error", std::move(model), status);
}

Response Pages::error(Request& req, const core::Error& error) const {
  auto res = this->error(req, http_status(error.code));
  if (error.code == core::ErrorCode::rate_limited) {
    res.set_header("Retry-After",
                   std::to_string(std::max<std::int64_t>(1, error.retry_after.count())));
  }
  return res;
}

}  // namespace mvsp::web
