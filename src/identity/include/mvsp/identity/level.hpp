#pragma once
// Levels of assurance of a person's identity (eIDAS: basic, low, substantial, high), the
// vocabulary that mailbox and delivery share with identity.
#include <optional>
#include <string_view>

namespace mvsp::identity {

// Level of assurance, in ascending order.
enum class TrustLevel { basic, low, substantial, high };
std::string_view level_name(TrustLevel level);
std::optional<TrustLevel> parse_level(std::string_view name);

}  // namespace mvsp::identity
