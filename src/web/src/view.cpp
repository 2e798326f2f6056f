#include <mvsp/web/view.hpp>

namespace mvsp::web {

View View::of(std::string text) {
  View v;
  v.node_ = std::move(text);
  return v;
}

View::Object& View::object() {
  if (!std::holds_alternative<Object>(node_)) node_ = Object{};
  return std::get<Object>(node_);
}

View& View::set(const std::string& key, std::string value) {
  object()[key].node_ = std::move(value);
  return *this;
}

View& View::set(const std::string& key, bool value) {
  object()[key].node_ = value;
  return *this;
}

View& View::set(const std::string& key, View value) {
  object()[key] = std::move(value);
  return *this;
}

View& View::set_list(const std::string& key, std::vector<View> items) {
  object()[key].node_ = std::move(items);
  return *this;
}

View& View::add(const std::string& key, View item) {
  auto& slot = object()[key].node_;
  if (!std::holds_alternative<List>(slot)) slot = List{};
  std::get<List>(slot).push_back(std::move(item));
  return *this;
}

}  // namespace mvsp::web
