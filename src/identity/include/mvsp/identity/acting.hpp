#pragma once
// Acting for an organisation (Organisationskonto). The choice lives in the session; this is
// the one place that turns it into the organisation a request acts for, and it checks the
// membership on every request, so a member who was removed (or left) stops acting for the
// organisation at once, whatever their session says.

#include <mvsp/core/error.hpp>
#include <mvsp/identity/organisations.hpp>
#include <optional>
#include <string_view>

namespace mvsp::web {
struct Session;
}

namespace mvsp::identity {

// The organisation the session's person acts for, while they are still its member; nothing
// when they act for themselves. A choice whose membership has ended is forgotten.
std::optional<Organisation> acting_for(Organisations& organisations, web::Session& session);

// From now on the session acts for the organisation; not_found unless the person is a member.
core::Result<Organisation> act_for(Organisations& organisations, web::Session& session,
                                   std::string_view organisation_id);

// From now on the session's person acts for themselves.
void act_privately(web::Session& session);

}  // namespace mvsp::identity
