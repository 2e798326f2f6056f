#pragma once
// The whole application in-process behind its own web::Site (the same pipeline the HTTP
// server calls), so that parsers buried in handlers are fuzzed through the routes that
// really call them.

#include <memory>
#include <mvsp/web/http.hpp>
#include <string>
#include <string_view>

#include "fuzz_support.hpp"

namespace mvsp::app {
class App;
}

namespace mvsp::fuzz {

// The application with every component, on SQLite in a temporary directory, with machine
// clients and their access tokens made at start. Inputs may name them by placeholders
// (expand()): @CLIENT_ID@ and @CLIENT_SECRET@ (a confidential code-flow client with
// redirect URI https://rp.example/callback), @PUBLIC_CLIENT_ID@ (public, PKCE),
// @JWT_CLIENT_ID@ (private_key_jwt), @MACHINE_CLIENT_ID@ and @MACHINE_CLIENT_SECRET@
// (client_credentials; @MACHINE_BASIC@ their HTTP Basic credentials), @NOTICES_TOKEN@ and
// @CATALOG_TOKEN@ (bearer tokens with scopes notices:write and catalog:admin), @ID_TOKEN@ (an ID
// token of ours for the signed-in account, issued to @CLIENT_ID@), @ACCOUNT_ID@ (that account).
class AppHarness {
 public:
  AppHarness();
  ~AppHarness();
  AppHarness(const AppHarness&) = delete;
  AppHarness& operator=(const AppHarness&) = delete;

  app::App& app();
  // Through web::Site::handle, as the server would; checks that no request ends in a 500
  // (an exception escaped a handler: bad input must be answered with 4xx, docs/adr/0001).
  web::Response handle(web::Request req);
  std::string expand(std::string_view input) const;
  // A new session of a signed-in (verified) account: its cookie value; end it afterwards.
  std::string sign_in();
  void end_session(const std::string& token);
  // A request from a client on loopback.
  static web::Request request(web::Method method, std::string path, std::string query = {});

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

// The one harness of this fuzz process, made on first use and kept until it ends (a
// target's inputs all run against it).
AppHarness& harness();

}  // namespace mvsp::fuzz
