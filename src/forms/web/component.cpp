#include <mvsp/forms/component.hpp>
#include <mvsp/web/component.hpp>

namespace mvsp::forms {
namespace {

class Component final : public web::Component {
 public:
  std::string_view name() const override { return "forms"; }
  std::vector<std::string_view> needs() const override { return {"catalog"}; }
  std::span<const core::Resource> resources() const override { return embedded_resources(); }
  void build(web::Platform&) override {}
};

}  // namespace

std::unique_ptr<web::Component> make_component() {
  return std::make_unique<Component>();
}

}  // namespace mvsp::forms
