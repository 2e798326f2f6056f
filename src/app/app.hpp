#pragma once
// The composition root: the only place that knows every component. Opens the database,
// applies migrations, builds the components and wires their routes and jobs.

#include <memory>
#include <mvsp/web/component.hpp>
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

namespace mvsp::app {

// The real ports of this process: the system clock, random ids, HTTP over the network.
const web::Ports& system_ports();

// Every component, in dependency order: the one list (app.cpp). Adding a component is its
// folder and one line there.
// The process keeps up to 4 MiB of freed memory per malloc arena, and blocks up to 32 MiB
// come from the heap (glibc's dynamic limit, fixed). Otherwise glibc hands memory back after
// each large request or document (madvise, munmap), and every return stops all cores to
// flush their TLBs: measured, 15 % of a delivery's time on two cores (bench/delivery.sh).
// Called once by main() (and the benchmarks), before any thread starts.
void tune_allocator();

std::vector<std::unique_ptr<web::Component>> all_components();
std::vector<std::string> component_names();

// The platform's and every component's migrations, in dependency order.
std::vector<core::Migration> all_migrations();

class App {
 public:
  // Opens the database, applies pending migrations and builds the components this
  // instance runs (settings.components; nullopt: all) with the ones they need. Throws
  // core::Failure when the database cannot be opened, a migration fails or a component's
  // configuration is not valid. Tests pass their own ports (a manual clock, sequential
  // ids, a fake transport); everything in the app uses them.
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
  // The message catalog of every component (texts outside pages: mails, PDFs, commands).
  const web::Catalog& texts() const;
  // What the built components offer one another: identity::Identity, catalog::Catalog,
  // finder::Finder, mailbox::Mailbox, delivery::Delivery, …
  web::Services& services();
  template <class T>
  T& get();
  // Each built component's demo data, loaded idempotently (`mvsp demo`); returns what ran.
  // `vorgaenge`: also sample Vorhaben and Vorgänge in every state (what `mvsp demo` loads).
  std::vector<std::string> load_demo_data(bool vorgaenge = false);

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

template <class T>
T& App::get() {
  return services().template need<T>();
}

}  // namespace mvsp::app
