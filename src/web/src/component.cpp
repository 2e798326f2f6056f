#include <mvsp/web/component.hpp>

namespace mvsp::web {

void Services::add(std::type_index type, Entry entry) {
  std::lock_guard lock(mutex_);
  if (!entries_.emplace(type, std::move(entry)).second) {
    throw core::Failure(std::string("two components offer ") + type.name());
  }
}

void* Services::get(std::type_index type) {
  std::function<std::shared_ptr<void>()> make;
  {
    std::lock_guard lock(mutex_);
    auto it = entries_.find(type);
    if (it == entries_.end()) return nullptr;
    if (it->second.object || !it->second.make) return it->second.object;
    make = it->second.make;
  }
  // Made outside the lock: a maker needs other services.
  auto made = make();
  std::lock_guard lock(mutex_);
  auto& e = entries_.at(type);
  if (!e.object) {
    e.owned = std::move(made);
    e.object = e.owned.get();
  }
  return e.object;
}

}  // namespace mvsp::web
