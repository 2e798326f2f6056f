#pragma once
// The data a template sees: a tree of text, flags, lists and objects. Every text is
// HTML-escaped by the template unless the template says otherwise (see templates.hpp). An
// empty text is false in a section: {{#error}}…{{/error}} stays out when error is "".

#include <map>
#include <memory>
#include <string>
#include <variant>
#include <vector>

namespace mvsp::web {

class View {
 public:
  // A plain text item, for lists of strings ({{#items}}{{.}}{{/items}}).
  static View of(std::string text);

  View& set(const std::string& key, std::string value);
  View& set(const std::string& key, const char* value) { return set(key, std::string(value)); }
  View& set(const std::string& key, bool value);
  View& set(const std::string& key, View value);
  View& set_list(const std::string& key, std::vector<View> items);
  // Appends to a list, creating it on first use.
  View& add(const std::string& key, View item);

  using List = std::vector<View>;
  using Object = std::map<std::string, View>;
  using Node = std::variant<std::monostate, std::string, bool, Object, List>;
  const Node& node() const { return node_; }

 private:
  Object& object();
  Node node_;
};

}  // namespace mvsp::web
