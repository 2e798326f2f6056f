#pragma once
// The component lifecycle. Every component (identity, catalog, finder, mailbox, delivery,
// …) is one class derived from Component in its own folder; the composition root
// (src/app) lists them once, in dependency order, and drives each through the same steps:
//
//   resources()  its migrations (sql/), templates and messages, embedded in the binary
//   configure()  reads and checks its own section of the configuration file, before
//                anything starts (`mvsp config check` runs it too)
//   build()      makes its objects from the platform's shared parts and offers to the
//                other components what they use (Services)
//   routes()     its pages and APIs, when this instance runs it (`server.components`)
//   jobs()       the handlers of its background job kinds, and its periodic work (a
//                retention sweep, reminders) as scheduled jobs (JobRunner::every, every
//                `sweep_every`), run once a period across all instances
//   subscriptions()  the events of other components it acts on, each with its job kind;
//                subscribed on every instance, built or not, so that an event published
//                where the component does not run still queues its job for an instance
//                that does
//   start(), stop()  its own threads, if it has any
//   demo()       its demo data for `mvsp demo`, idempotent
//
// A component is built when this instance runs it or when a component that runs needs it
// (needs()); a CLI command builds only the components it uses.

#include <chrono>
#include <filesystem>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <mvsp/core/error.hpp>
#include <mvsp/core/resources.hpp>
#include <span>
#include <string>
#include <string_view>
#include <typeindex>
#include <typeinfo>
#include <vector>

namespace mvsp::core {
class AuditLog;
class BlobStore;
class Config;
class JobQueue;
class JobRunner;
class Mailer;
class VirusScanner;
namespace db {
class Database;
}
}  // namespace mvsp::core

namespace mvsp::web {

class Catalog;
class Metrics;
class Pages;
class Router;
class SessionStore;
struct Ports;

// What the components offer one another, by type: a component offers its main object
// (identity::Identity, catalog::Catalog) or a narrow interface another component declared
// (mailbox::Owners); the composition root offers the bridges between components.
class Services {
 public:
  // `service` lives at least as long as the App (a component owns it). core::Failure when
  // something offers a T already (two components must not answer for the same type).
  template <class T>
  void offer(T& service) {
    add(typeid(T), Entry{.object = &service, .make = {}, .owned = {}});
  }
  // Made on first need(), after the components it reads from are built.
  template <class T>
  void offer_lazy(std::function<std::shared_ptr<T>()> make) {
    add(typeid(T),
        Entry{.object = nullptr,
              .make = [make = std::move(make)]() -> std::shared_ptr<void> { return make(); },
              .owned = {}});
  }
  // The offered T, or nullptr; a lazy one is made here (its maker may throw).
  template <class T>
  T* find() {
    return static_cast<T*>(get(typeid(T)));
  }
  // The offered T; core::Failure naming the type when no component offers it (a component
  // used something it does not list in needs()).
  template <class T>
  T& need() {
    if (auto* found = find<T>()) return *found;
    throw core::Failure(std::string("no component offers ") + typeid(T).name());
  }

 private:
  struct Entry {
    void* object = nullptr;
    std::function<std::shared_ptr<void>()> make;
    std::shared_ptr<void> owned;
  };
  void add(std::type_index type, Entry entry);
  void* get(std::type_index type);
  std::mutex mutex_;  // components use it while they are built; tests and commands later
  std::map<std::type_index, Entry> entries_;
};

// The platform's shared parts, made by the composition root, handed to every step.
struct Platform {
  const Ports& ports;  // clock, ids, outgoing HTTP
  core::db::Database& db;
  core::JobQueue& jobs;
  core::JobRunner& runner;
  core::AuditLog& audit;
  core::BlobStore& blobs;
  core::Mailer& mailer;
  Router& router;
  const Pages& pages;
  SessionStore& sessions;
  const Catalog& texts;  // the message catalog, for texts outside pages (mails, notices)
  Metrics& metrics;
  Services& services;
  std::string public_url;
  std::string master_key;  // raw 32 bytes; components derive their own keys from it
  std::filesystem::path data_dir;
  bool https = false;  // public_url is https: secure cookies
  // Whether this instance runs `component` (routes, jobs), and whether any component it
  // runs takes machine clients' bearer tokens (the token endpoint must be there).
  std::function<bool(std::string_view component)> runs;
  bool machine_clients = false;
  // How often periodic work runs (`jobs.sweep_minutes`).
  std::chrono::milliseconds sweep_every{std::chrono::minutes(10)};
  // Scans every upload before it is stored (clamd, `[clamav]`); the App always sets it. An
  // upload it cannot scan (unavailable) is refused, never stored unscanned.
  core::VirusScanner* scanner = nullptr;
};

// What `mvsp demo` loaded, and names one component's demo data gives the next one (the
// demo tenant's id for the catalog's demo authorities).
struct Demo {
  // Sample Vorhaben and Vorgänge in every state of the process (mvsp demo; the tests that
  // load the demo data go without them).
  bool vorgaenge = false;
  std::vector<std::string> loaded;
  std::map<std::string, std::string, std::less<>> names;
};

class Component {
 public:
  virtual ~Component() = default;
  // Its name in `server.components`, its migrations and its messages.
  virtual std::string_view name() const = 0;
  // The components whose services it needs (built before it, even where they do not run).
  virtual std::vector<std::string_view> needs() const { return {}; }
  virtual std::span<const core::Resource> resources() const = 0;
  // Reads its sections; every problem is recorded in `config` naming the key.
  virtual void configure(core::Config& config) { (void)config; }
  // Whether its API takes machine clients' bearer tokens.
  virtual bool takes_machine_clients() const { return false; }
  virtual void build(Platform& platform) = 0;
  virtual void routes(Platform& platform) { (void)platform; }
  virtual void jobs(Platform& platform) { (void)platform; }
  struct Subscription {
    std::string event;
    std::string job_kind;
  };
  virtual std::vector<Subscription> subscriptions() const { return {}; }
  virtual void start() {}
  virtual void stop() {}
  virtual void demo(Platform& platform, Demo& demo) {
    (void)platform;
    (void)demo;
  }
};

}  // namespace mvsp::web
