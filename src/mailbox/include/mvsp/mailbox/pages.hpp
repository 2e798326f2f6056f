#pragma once
// The mailbox pages: /postfach (inbox), /postfach/{id} (a message, after step-up when it
// needs a higher trust level) and /postfach/{id}/anhang/{n} (a document as download).

#include <chrono>

namespace mvsp::core {
class Clock;
}
namespace mvsp::web {
class Router;
class Pages;
}  // namespace mvsp::web
namespace mvsp::identity {
class Accounts;
class Organisations;
}  // namespace mvsp::identity

namespace mvsp::mailbox {

class Mailbox;

struct PageOptions {
  const core::Clock* clock = nullptr;
  std::chrono::minutes step_up_lifetime{30};
  bool has_upstream = false;  // an eID provider reaches `high`
};

void register_pages(web::Router& router, const web::Pages& pages, Mailbox& mailbox,
                    identity::Organisations& organisations, identity::Accounts& accounts,
                    PageOptions options);

}  // namespace mvsp::mailbox
