#include <fmt/format.h>
#include <unistd.h>

#include <condition_variable>
#include <mutex>
#include <mvsp/catalog/catalog.hpp>
#include <mvsp/core/log.hpp>
#include <mvsp/finder/component.hpp>
#include <mvsp/finder/finder.hpp>
#include <mvsp/finder/pages.hpp>
#include <mvsp/web/component.hpp>
#include <thread>

namespace mvsp::finder {
namespace {

class Component final : public web::Component {
 public:
  ~Component() override { stop(); }
  std::string_view name() const override { return "finder"; }
  std::vector<std::string_view> needs() const override { return {"catalog"}; }
  std::span<const core::Resource> resources() const override { return embedded_resources(); }

  void build(web::Platform& p) override {
    catalog_ = &p.services.need<catalog::Catalog>();
    // Each instance keeps its own search index in a directory of its own.
    finder_ =
        std::make_unique<Finder>(*catalog_, p.data_dir / "index" / fmt::format("{}", ::getpid()));
    p.services.offer(*finder_);
    catalog_->on_change([this] {
      std::lock_guard lock(mutex_);
      dirty_ = true;
      wake_.notify_all();
    });
  }

  void routes(web::Platform& p) override {
    if (!p.runs(name())) return;
    register_api(p.router, *finder_, *catalog_);
    register_pages(p.router, p.pages, *catalog_, *finder_);
  }

  // The index keeper: woken by a change made here; every 30 seconds it looks for changes
  // made by other instances.
  void start() override {
    finder_->refresh();
    stopping_ = false;
    keeper_ = std::thread([this] {
      std::unique_lock lock(mutex_);
      while (!stopping_) {
        wake_.wait_for(lock, std::chrono::seconds(30), [&] { return stopping_ || dirty_; });
        if (stopping_) break;
        dirty_ = false;
        lock.unlock();
        try {
          finder_->refresh();
        } catch (const std::exception& e) {
          core::log::error("finder.refresh_failed", {{"error", e.what()}});
        }
        lock.lock();
      }
    });
  }

  void stop() override {
    {
      std::lock_guard lock(mutex_);
      stopping_ = true;
    }
    wake_.notify_all();
    if (keeper_.joinable()) keeper_.join();
  }

 private:
  catalog::Catalog* catalog_ = nullptr;
  std::unique_ptr<Finder> finder_;
  std::thread keeper_;
  std::mutex mutex_;
  std::condition_variable wake_;
  bool dirty_ = false;
  bool stopping_ = false;
};

}  // namespace

std::unique_ptr<web::Component> make_component() {
  return std::make_unique<Component>();
}

}  // namespace mvsp::finder
