#pragma once
// The composition root: the only place that knows every component. Opens the database,
// applies migrations, builds the components and wires their routes and jobs.

#include <memory>
#include <mvsp/web/ports.hpp>
#include <string>
#include <vector>

#include "settings.hpp"

namespace mvsp::core {
class Clock;
class IdGenerator;
class JobQueue;
class JobRunner;
class AuditLog;
class BlobStore;
struct Migration;
namespace db {
class Database;
}
}  // namespace mvsp::core

namespace mvsp::web {
class Router;
}
namespace mvsp::identity {
struct Identity;
class Provider;
}  // namespace mvsp::identity

namespace mvsp::catalog {
class Catalog;
}  // namespace mvsp::catalog
namespace mvsp::finder {
class Finder;
}  // namespace mvsp::finder
namespace mvsp::mailbox {
class Mailbox;
}
namespace mvsp::delivery {
class Delivery;
}

namespace mvsp::app {

// The real ports of this process: the system clock, random ids, HTTP over the network.
const web::Ports& system_ports();

// Every component's migrations, in dependency order.
std::vector<core::Migration> all_migrations();

class App {
 public:
  // Opens the database and applies pending migrations. Throws core::Failure when the
  // database cannot be opened or a migration fails. Tests pass their own ports (a manual
  // clock, sequential ids, a fake transport); everything in the app uses them.
  explicit App(Settings settings, const web::Ports& ports = system_ports());
  ~App();

  // Adds routes before start() (tests add their own).
  web::Router& router();
  // Starts the HTTP server and the job workers; port() is known afterwards.
  void start();
  int port() const;
  // Stops taking requests, finishes running ones and running jobs.
  void stop();

  const Settings& settings() const;
  core::db::Database& database();
  core::JobQueue& jobs();
  core::JobRunner& job_runner();
  core::AuditLog& audit();
  core::BlobStore& blobs();
  const core::Clock& clock() const;
  identity::Identity& identity();
  identity::Provider& oidc();
  catalog::Catalog& catalog();
  finder::Finder& finder();
  mailbox::Mailbox& mailbox();
  delivery::Delivery& delivery();
  // The periodic clean-ups: notices not retrieved in time, documents past their keeping.
  void run_sweeps();
  // Rebuilds the search index if the catalog changed since it was built.
  void refresh_index();

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

// Each component's demo data, loaded idempotently by `mvsp demo`; returns what ran.
std::vector<std::string> load_demo_data(App& app);

}  // namespace mvsp::app
