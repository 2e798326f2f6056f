#include <mvsp/core/crypto.hpp>
#include <mvsp/web/metrics.hpp>
#include <mvsp/web/pages.hpp>
#include <mvsp/web/router.hpp>
#include <mvsp/web/shell.hpp>
#include <mvsp/web/templates.hpp>

namespace mvsp::web {

std::string language_cookie(std::string_view code) {
  return "mvsp_lang=" + std::string(code) + "; Path=/; Max-Age=31536000; SameSite=Lax";
}

void register_shell(Router& router, const Pages& pages, const Metrics& metrics,
                    ShellOptions options) {
  auto shared = std::make_shared<ShellOptions>(std::move(options));

  router.get("/", [&pages, shared](Request& req) {
    View model;
    model.set("title_key", "start.title");
    model.set("search", shared->search);
    return pages.render(req, "web/start", std::move(model));
  });

  auto legal = [&pages, shared](std::string page, std::string title_key) {
    return [&pages, shared, page, title_key](Request& req) {
      View model;
      model.set("title_key", title_key);
      const auto& op = shared->site_operator;
      if (!op.name.empty()) {
        View o;
        o.set("name", op.name);
        o.set("address", op.address);
        o.set("email", op.email);
        o.set("phone", op.phone);
        model.set("operator", std::move(o));
      }
      return pages.render(req, page, std::move(model));
    };
  };
  router.get("/impressum", legal("web/impressum", "legal.imprint_title"));
  router.get("/datenschutz", legal("web/privacy", "legal.privacy_title"));
  router.get("/barrierefreiheit", legal("web/accessibility", "legal.accessibility_title"));

  router.get("/sprache/{code}", [&pages](Request& req) {
    auto code = req.param("code");
    auto res = Response::redirect(local_path_or(req.query_param("next"), "/"));
    if (pages.catalog().supports(code)) {
      res.headers.emplace_back("Set-Cookie", language_cookie(code));
    }
    return res;
  });

  router.get("/healthz", [](Request&) { return Response::text("ok\n"); });
  router.get("/readyz", [shared](Request&) {
    bool ready = shared->ready && shared->ready();
    return Response::json(ready ? R"({"status":"ready"})" : R"({"status":"not ready"})",
                          ready ? 200 : 503);
  });
  router.get("/metrics", [&metrics, shared](Request& req) {
    // Only with the token: behind a reverse proxy on the same machine every visitor comes
    // from loopback, so the address proves nothing.
    auto auth = req.header("authorization").value_or("");
    if (shared->metrics_token.empty() ||
        !core::crypto::equal_constant_time(auth, "Bearer " + shared->metrics_token)) {
      return Response::text("forbidden\n", 403);
    }
    auto res = Response::text(metrics.render());
    res.set_header("Content-Type", "text/plain; version=0.0.4; charset=utf-8");
    return res;
  });
}

}  // namespace mvsp::web
