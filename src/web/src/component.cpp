#include <mvsp/web/component.hpp>

namespace mvsp::web {

void* Services::get(std::type_index type) {
  auto it = entries_.find(type);
  if (it == entries_.end()) return nullptr;
  auto& e = it->second;
  if (!e.object && e.make) {
    e.owned = e.make();
    e.object = e.owned.get();
  }
  return e.object;
}

}  // namespace mvsp::web
