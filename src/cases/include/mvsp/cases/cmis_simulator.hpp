#pragma once
// SIMULATOR of a CMIS 1.1 repository (the browser binding of a DMS) for development, tests
// and the demo, never for production: a small HTTP server on loopback that keeps folders
// and documents in memory and answers the calls the e-file adapter makes (repository info,
// an object by path, a folder's children, createFolder, createDocument). Every request
// needs its Basic credentials. A page at "/" shows what it holds, labelled as a simulator.

#include <memory>
#include <mvsp/web/ports.hpp>
#include <optional>
#include <string>
#include <vector>

namespace mvsp::cases {

struct CmisSimulatorOptions {
  std::string host = "127.0.0.1";
  int port = 0;  // 0: any free port
  std::string repository_id = "simulator";
  std::string user = "mvsp";
  std::string password = "simulator";
  int page_size = 100;  // the most children in one answer, whatever a client asks for
};

// What the simulator holds at one path.
struct CmisSimulatorObject {
  std::string id;
  std::string path;       // "/Eingang/MV-35CA3-4HFYVHOK"
  std::string name;       // the last segment of the path
  std::string base_type;  // "cmis:folder" or "cmis:document"
  std::string content_type;
  std::string content;  // a document's bytes
};

class CmisSimulator {
 public:
  // unavailable: every request gets 503; read_only: every change gets 403, as for a user
  // who may read the folder but not write to it.
  enum class Mode { normal, unavailable, read_only };

  CmisSimulator(CmisSimulatorOptions options, const web::Ports& ports);
  ~CmisSimulator();
  CmisSimulator(const CmisSimulator&) = delete;
  CmisSimulator& operator=(const CmisSimulator&) = delete;
  void start();
  void stop();
  int port() const;
  std::string base_url() const;        // "http://127.0.0.1:<port>"
  std::string repository_url() const;  // the browser binding URL of its one repository

  void set_mode(Mode mode);
  // Creates the folder and any missing parents, as a DMS administrator would before the
  // first hand-over.
  void add_folder(const std::string& path);
  // Everything it holds but the root, by path.
  std::vector<CmisSimulatorObject> objects() const;
  std::optional<CmisSimulatorObject> object(const std::string& path) const;
  // Successful createFolder and createDocument calls, and requests of any kind.
  std::size_t folders_created() const;
  std::size_t documents_created() const;
  std::size_t requests() const;

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace mvsp::cases
