#pragma once
// What the XBezahldienste adapter and the payment simulator both need to agree on: the
// identifier rule, amounts as JSON numbers, timestamps, and the signature of the mvsp
// extension's pushes (shared/reference/interop/xbezahldienste/FACTS.md, docs/payments.md).

#include <cstdint>
#include <mvsp/core/clock.hpp>
#include <optional>
#include <string>
#include <string_view>
#include <utility>

namespace mvsp::payments::xbez {

// The spec's identifier rule `^[\w\d-]+$` (ASCII letters, digits, '_' and '-'), 1 to `max`
// characters. Every id that goes into a URL passes it first, so none can add a path
// segment, a query or an encoded slash.
bool is_protocol_id(std::string_view s, std::size_t max);

constexpr std::size_t kMaxId = 36;             // originatorId, endPointId, requestId, item id
constexpr std::size_t kMaxTransactionId = 44;  // transactionId
constexpr std::int64_t kMaxAmountCents = 99'999'900;  // 999999 euros

// Cents as the JSON number text with two decimals ("30.00"): written from integers, so no
// binary fraction ever shows. Only for 0 <= cents.
std::string format_amount(std::int64_t cents);
// A JSON number (as parsed) in cents; nothing when it is negative, not finite or has more
// than two decimals.
std::optional<std::int64_t> amount_cents(double value);

// The code point of UTF-8 text at `pos` and its length in bytes; a broken sequence is one
// byte long and has the code point U+FFFFFFFF. For the spec's patterns, which count and
// allow code points (description: U+00C0 to U+017F).
std::pair<char32_t, std::size_t> code_point_at(std::string_view s, std::size_t pos);
// The length of `s` in code points (broken bytes count one each).
std::size_t code_points(std::string_view s);

// An RFC 3339 date-time ("2026-11-24T06:13:24.123Z", an offset "+01:00" or none = UTC).
std::optional<core::TimePoint> parse_timestamp(std::string_view text);

// The push headers of the mvsp extension and the value of the signature header:
// "v1=" + lower-case hex of HMAC-SHA256(secret, timestamp + "." + body).
constexpr const char* kTimestampHeader = "x-payment-timestamp";
constexpr const char* kSignatureHeader = "x-payment-signature";
std::string notification_signature(std::string_view secret, std::string_view timestamp,
                                   std::string_view body);

}  // namespace mvsp::payments::xbez
