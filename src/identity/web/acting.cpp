#include <mvsp/core/log.hpp>
#include <mvsp/identity/acting.hpp>
#include <mvsp/web/sessions.hpp>

namespace mvsp::identity {
namespace {

constexpr const char* kActingFor = "acting_for";
// The name is kept as well: the page shell shows it on every page.
constexpr const char* kActingForName = "acting_for_name";

}  // namespace

std::optional<Organisation> acting_for(Organisations& organisations, web::Session& session) {
  auto it = session.data.find(kActingFor);
  if (it == session.data.end()) return std::nullopt;
  if (!session.account_id.empty() && !it->second.empty()) {
    if (auto org = organisations.organisation(session.account_id, it->second)) {
      if (session.data[kActingForName] != org->name) {
        session.data[kActingForName] = org->name;  // renamed in the meantime
        session.dirty = true;
      }
      return *org;
    }
  }
  core::log::info("organisation.acting_ended", {{"reason", "no longer a member"}});
  act_privately(session);
  return std::nullopt;
}

core::Result<Organisation> act_for(Organisations& organisations, web::Session& session,
                                   std::string_view organisation_id) {
  auto org = organisations.organisation(session.account_id, organisation_id);
  if (!org) return org;
  session.data[kActingFor] = org->id;
  session.data[kActingForName] = org->name;
  session.dirty = true;
  return org;
}

void act_privately(web::Session& session) {
  session.data.erase(kActingFor);
  session.data.erase(kActingForName);
  session.dirty = true;
}

}  // namespace mvsp::identity
