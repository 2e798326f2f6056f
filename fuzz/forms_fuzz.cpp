// The forms component's parsers of outside input: the first byte picks a form definition
// (JSON from editors, parse_form), an expression of form logic (Expression::parse and
// evaluate), or an XDatenfelder file (import_xdatenfelder, XML). Besides crashes, leaks and
// undefined behaviour: an accepted form survives its own JSON; an imported form is one
// parse_form accepts; an expression's value has the type it was checked to have.
#include <mvsp/forms/form.hpp>
#include <mvsp/forms/xdatenfelder.hpp>

#include "expression.hpp"
#include "fuzz_support.hpp"

namespace {

using mvsp::fuzz::check;
namespace expr = mvsp::forms::expr;

void definition(std::string_view json) {
  auto form = mvsp::forms::parse_form(json);
  if (!form) {
    check(!form.error().fields.empty() || !form.error().message.empty(), "a refusal says why");
    return;
  }
  auto again = mvsp::forms::parse_form(mvsp::forms::to_json(*form));
  check(again.has_value(), "an accepted form reads back from its own JSON");
  check(mvsp::forms::to_json(*again) == mvsp::forms::to_json(*form), "and writes the same JSON");
}

void expression(std::string_view text) {
  auto names = [](std::string_view n) -> std::optional<expr::Symbol> {
    if (n == "zahl") return expr::Symbol{expr::Type::number, {}};
    if (n == "text") return expr::Symbol{expr::Type::text, {}};
    if (n == "ja") return expr::Symbol{expr::Type::boolean, {}};
    if (n == "datum") return expr::Symbol{expr::Type::date, {}};
    if (n == "liste") return expr::Symbol{expr::Type::list, {}};
    if (n == "hunde")
      return expr::Symbol{expr::Type::group, [](std::string_view m) -> std::optional<expr::Symbol> {
                            if (m == "steuer") return expr::Symbol{expr::Type::number, {}};
                            return std::nullopt;
                          }};
    return std::nullopt;
  };
  auto parsed = expr::Expression::parse(text, names);
  auto* e = std::get_if<expr::Expression>(&parsed);
  if (!e) return;
  expr::Scope s;
  s.today = 20'000;
  s.value = [](std::string_view n) {
    if (n == "zahl") return expr::Value::of_number(3);
    if (n == "text") return expr::Value::of_text("Bello");
    if (n == "ja") return expr::Value::of(true);
    if (n == "datum") return expr::Value::of_date(10'000);
    if (n == "liste") return expr::Value::of_list({"a", "b"});
    return expr::Value{};
  };
  s.items = [](std::string_view) {
    expr::Scope item;
    item.value = [](std::string_view) { return expr::Value::of_number(120); };
    return std::vector<expr::Scope>{item, item};
  };
  auto v = e->evaluate(s);
  using K = expr::Value::Kind;
  if (v.kind == K::none) return;
  auto kind_of = [](expr::Type t) {
    switch (t) {
      case expr::Type::boolean:
        return K::boolean;
      case expr::Type::number:
        return K::number;
      case expr::Type::text:
        return K::text;
      case expr::Type::date:
        return K::date;
      case expr::Type::list:
        return K::list;
      default:
        return K::none;
    }
  };
  auto want = kind_of(e->type());
  check(want == K::none || v.kind == want, "a value has the type the check gave the expression");
}

void xdatenfelder(std::string_view xml) {
  auto imported =
      mvsp::forms::import_xdatenfelder(xml, [](std::string_view) { return std::nullopt; });
  if (!imported) return;
  auto form = mvsp::forms::parse_form(mvsp::forms::to_json(imported->form));
  check(form.has_value(), "an imported form is one the store accepts",
        form                          ? ""
        : form.error().fields.empty() ? form.error().message
                                      : form.error().fields.front().message);
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const unsigned char* data, std::size_t size) {
  if (size == 0) return 0;
  auto input = mvsp::fuzz::text(data + 1, size - 1);
  switch (data[0] % 3) {
    case 0:
      definition(input);
      break;
    case 1:
      expression(input);
      break;
    default:
      xdatenfelder(input);
      break;
  }
  return 0;
}
