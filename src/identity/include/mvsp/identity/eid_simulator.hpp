#pragma once
// `mvsp simulate eid`: a SIMULATOR of a BundID-style SAML identity provider for development
// and tests. It identifies nobody: whoever uses it picks a test person and an
// identification method, and it answers with a signed SAML response (level 4 for the
// eID). The real adapter (Federation with protocol "saml") is what it is tested against.

#include <filesystem>
#include <memory>
#include <mvsp/web/ports.hpp>
#include <string>

namespace mvsp::identity {

struct EidSimulatorOptions {
  std::string host = "127.0.0.1";
  int port = 8090;                // 0: any free port
  std::filesystem::path key_dir;  // its key pair: eid-simulator.key and .crt
};

class EidSimulator {
 public:
  EidSimulator(EidSimulatorOptions options, const web::Ports& ports);
  ~EidSimulator();
  void start();
  void stop();
  int port() const;
  std::string base_url() const;
  std::string entity_id() const;  // base_url + "/saml/metadata"
  std::string sso_url() const;    // base_url + "/saml/sso"
  std::filesystem::path certificate_path() const;

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace mvsp::identity
