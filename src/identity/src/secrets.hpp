#pragma once
// Private to identity: password hashing, TOTP (RFC 6238) and sealing of stored secrets.

#include <cstdint>
#include <mvsp/core/crypto.hpp>
#include <optional>
#include <string>
#include <string_view>

namespace mvsp::identity::secrets {

// argon2id at OWASP's recommended cost (19 MiB, 2 passes, 1 lane).
std::string hash_password(std::string_view password);
bool verify_password(std::string_view hash, std::string_view password);
// Spends the time of a verification without an account, so timing tells nothing.
void burn_password_time(std::string_view password);

std::string base32_encode(std::string_view bytes);  // RFC 4648, no padding
std::optional<std::string> base32_decode(std::string_view text);

// The 6-digit code of `secret` for time step `step` (30-second steps since the epoch).
std::string totp_code(std::string_view secret, std::int64_t step);
// The step within ±1 of `now_step` whose code is `code`, if any.
std::optional<std::int64_t> totp_match(std::string_view secret, std::string_view code,
                                       std::int64_t now_step);

using core::crypto::open;
using core::crypto::seal;

}  // namespace mvsp::identity::secrets
