#pragma once
// Shared by the tests that sign in through the eID simulator: the simulator (one per test
// binary), a platform that trusts it, and the hidden fields of a page read as a browser
// would send them.
#include <Poco/Net/ServerSocket.h>
#include <fmt/format.h>

#include <cstring>
#include <filesystem>
#include <fstream>
#include <mvsp/identity/eid_simulator.hpp>
#include <regex>
#include <sstream>
#include <string>

#include "account_pages.hpp"

namespace mvsp::identity {

inline std::string read_file(const std::filesystem::path& p) {
  std::ifstream in(p);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

// The value of a hidden field, as a browser would send it.
inline std::string field(const std::string& html, const std::string& name) {
  std::smatch m;
  std::regex re("name=\"" + name + "\" value=\"([^\"]*)\"");
  if (!std::regex_search(html, m, re)) return {};
  auto v = m[1].str();
  for (auto [from, to] : {std::pair{"&amp;", "&"},
                          {"&quot;", "\""},
                          {"&#39;", "'"},
                          {"&lt;", "<"},
                          {"&gt;", ">"},
                          {"&#x2F;", "/"},
                          {"&#x3D;", "="}}) {
    for (auto pos = v.find(from); pos != std::string::npos; pos = v.find(from, pos)) {
      v.replace(pos, std::strlen(from), to);
      pos += std::strlen(to);
    }
  }
  return v;
}

inline int free_port() {
  Poco::Net::ServerSocket s(Poco::Net::SocketAddress("127.0.0.1", 0));
  return s.address().port();
}

inline EidSimulator& simulator() {
  static test::TempDir dir;
  static EidSimulator sim({.host = "127.0.0.1", .port = 0, .key_dir = dir.path()},
                          app::system_ports());
  static bool started = (sim.start(), true);
  (void)started;
  return sim;
}

// The platform with the simulator as its upstream "bundid".
class EidPages : public AccountPages {
 protected:
  void configure(app::Settings& s) override {
    AccountPages::configure(s);
    // A real public URL with the port, so that the simulator finds our metadata and
    // encrypts the assertions for us, as BundID does.
    int port = free_port();
    s.listen = fmt::format("127.0.0.1:{}", port);
    s.public_url = fmt::format("http://127.0.0.1:{}", port);
    auto& sim = simulator();
    s.config_text += fmt::format(
        "[identity.upstream.bundid]\nprotocol = \"saml\"\nlabel = \"BundID\"\n"
        "sso_url = \"{}\"\nidp_entity_id = \"{}\"\nidp_certificate = \"{}\"\n",
        sim.sso_url(), sim.entity_id(), sim.certificate_path().string());
  }
};

}  // namespace mvsp::identity
