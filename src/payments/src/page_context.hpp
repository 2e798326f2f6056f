#pragma once
// What the payer's and the staff's pages of payments share: the page renderer, the use
// cases, the options, and the texts of the payments message catalog.

#include <fmt/format.h>

#include <mvsp/web/http.hpp>
#include <mvsp/web/pages.hpp>
#include <mvsp/web/templates.hpp>
#include <string>
#include <string_view>

#include "routes.hpp"

namespace mvsp::payments {

struct PageContext {
  const web::Pages& pages;
  Payments& payments;
  PageOptions options;

  std::string t(const web::Request& req, std::string_view key) const {
    return pages.catalog().text(req.locale, fmt::format("payments.{}", key));
  }
};

}  // namespace mvsp::payments
