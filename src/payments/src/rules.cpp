// The rules of payments that need no database: the state table, Kassenzeichen with their
// check digits, fees, and the checks of an authority's bank account.
#include <fmt/format.h>

#include <algorithm>
#include <array>
#include <charconv>
#include <mvsp/core/text.hpp>
#include <mvsp/payments/payments.hpp>

namespace mvsp::payments {

using core::Error;
using core::fail;
using core::Result;

namespace {

// The one table of states: internal name, public status (GOV.UK Pay's), finished.
const std::vector<StateInfo> kStates = {
    {State::created, "created", "created", false},
    {State::started, "started", "started", false},
    {State::submitted, "submitted", "submitted", false},
    {State::invoiced, "invoiced", "submitted", false},
    {State::paid, "paid", "success", true},
    {State::declined, "declined", "failed", true},
    {State::provider_error, "provider_error", "failed", true},
    {State::cancelled_by_payer, "cancelled_by_payer", "cancelled", true},
    {State::cancelled_by_service, "cancelled_by_service", "cancelled", true},
    {State::expired, "expired", "expired", true},
};

bool is_digit(char c) {
  return c >= '0' && c <= '9';
}

}  // namespace

const std::vector<StateInfo>& states() {
  return kStates;
}

const StateInfo& info(State state) {
  return kStates[static_cast<std::size_t>(state)];
}

std::optional<State> parse_state(std::string_view name) {
  for (const auto& s : kStates) {
    if (s.name == name) return s.state;
  }
  return std::nullopt;
}

bool may_move(State from, State to) {
  if (info(from).finished || from == to) return false;
  switch (from) {
    case State::created:
      // The payer goes to the provider or chooses the invoice; nobody pays before that.
      return to == State::started || to == State::invoiced || to == State::cancelled_by_service ||
             to == State::expired;
    case State::started:
    case State::submitted:
      // The payer may come back (submitted) or the provider may tell first (any outcome);
      // a payer who comes back cannot go "back" to started.
      return to != State::created && to != State::invoiced &&
             !(from == State::submitted && to == State::started);
    case State::invoiced:
      // A transfer arrives (paid) or the invoice is withdrawn; invoices do not expire.
      return to == State::paid || to == State::cancelled_by_service;
    default:
      return false;
  }
}

std::string_view refund_status_name(RefundStatus status) {
  switch (status) {
    case RefundStatus::success:
      return "success";
    case RefundStatus::failed:
      return "failed";
    default:
      return "submitted";
  }
}

// ---- Kassenzeichen ------------------------------------------------------------------

namespace {

struct Piece {
  enum Kind { literal, year4, year2, number, check } kind;
  std::string text;  // literal
  int width = 0;     // number
};

Result<std::vector<Piece>> parse_pattern(std::string_view pattern) {
  std::vector<Piece> out;
  int numbers = 0;
  int checks = 0;
  int years = 0;
  auto bad = [](std::string message) {
    return fail(Error::invalid("kassenzeichen.pattern", std::move(message)));
  };
  for (std::size_t i = 0; i < pattern.size();) {
    char c = pattern[i];
    if (c == '{') {
      auto end = pattern.find('}', i);
      if (end == std::string_view::npos) return bad("has a { without }");
      auto field = pattern.substr(i + 1, end - i - 1);
      if (field == "YYYY") {
        ++years;
        out.push_back({Piece::year4, {}, 0});
      } else if (field == "YY") {
        ++years;
        out.push_back({Piece::year2, {}, 0});
      } else if (field == "P") {
        if (checks++ > 0 || i + 3 != pattern.size()) {
          return bad("may have one {P} (the check digit), at the end");
        }
        out.push_back({Piece::check, {}, 0});
      } else if (field.starts_with("N:")) {
        int width = 0;
        auto digits = field.substr(2);
        auto [p, ec] = std::from_chars(digits.data(), digits.data() + digits.size(), width);
        if (ec != std::errc() || p != digits.data() + digits.size() || width < 1 || width > 12) {
          return bad("{N:k} needs k from 1 to 12");
        }
        ++numbers;
        out.push_back({Piece::number, {}, width});
      } else {
        return bad(fmt::format("knows {{YYYY}}, {{YY}}, {{N:k}} and {{P}}, not {{{}}}", field));
      }
      i = end + 1;
    } else if ((c >= 'A' && c <= 'Z') || is_digit(c) || c == '-') {
      out.push_back({Piece::literal, std::string(1, c), 0});
      ++i;
    } else {
      return bad("may hold only A-Z, 0-9, - and the fields {YYYY}, {YY}, {N:k}, {P}");
    }
  }
  if (numbers != 1) return bad("needs exactly one running number {N:k}");
  // The running number starts again each year: without the year, a new year's numbers
  // would repeat last year's.
  if (years == 0) return bad("needs the year, {YY} or {YYYY}");
  std::size_t length = 0;
  for (const auto& p : out) {
    length += p.kind == Piece::literal  ? 1
              : p.kind == Piece::year4  ? 4
              : p.kind == Piece::year2  ? 2
              : p.kind == Piece::number ? static_cast<std::size_t>(p.width)
                                        : 1;
  }
  // XBezahldienste carries the Kassenzeichen in `purpose` (27 characters at most).
  if (length > 27) return bad("makes Kassenzeichen longer than 27 characters");
  return out;
}

}  // namespace

core::Status check_rule(const KassenzeichenRule& rule) {
  Error error{core::ErrorCode::invalid_input, "The Kassenzeichen rule is not valid.", {}, {}};
  if (auto pieces = parse_pattern(rule.pattern); !pieces) error.fields = pieces.error().fields;
  if (rule.check != "luhn" && rule.check != "mod11") {
    error.and_field("kassenzeichen.check", "must be luhn or mod11");
  }
  if (!error.fields.empty()) return fail(error);
  return {};
}

char check_digit(std::string_view digits, std::string_view method) {
  int sum = 0;
  int position = 0;
  // Weights run from the rightmost digit.
  for (auto it = digits.rbegin(); it != digits.rend(); ++it) {
    if (!is_digit(*it)) continue;
    int d = *it - '0';
    if (method == "mod11") {
      sum += d * (2 + position % 6);  // weights 2, 3, 4, 5, 6, 7, 2, …
    } else {
      int w = position % 2 == 0 ? 2 : 1;  // Luhn: 2, 1, 2, … from the right
      int p = d * w;
      sum += p > 9 ? p - 9 : p;
    }
    ++position;
  }
  if (method == "mod11") {
    int r = (11 - sum % 11) % 11;
    return static_cast<char>('0' + (r == 10 ? 0 : r));  // 10 is written as 0
  }
  return static_cast<char>('0' + (10 - sum % 10) % 10);
}

core::Result<std::string> kassenzeichen(const KassenzeichenRule& rule, int year, std::int64_t n) {
  auto pieces = parse_pattern(rule.pattern);
  if (!pieces) return fail(pieces.error());
  std::string out;
  for (const auto& p : *pieces) {
    switch (p.kind) {
      case Piece::literal:
        out += p.text;
        break;
      case Piece::year4:
        out += fmt::format("{:04}", year % 10000);
        break;
      case Piece::year2:
        out += fmt::format("{:02}", year % 100);
        break;
      case Piece::number: {
        auto digits = fmt::format("{:0{}}", n, p.width);
        if (n < 0 || static_cast<int>(digits.size()) > p.width) {
          return fail(Error::invalid(
              "kassenzeichen.pattern",
              fmt::format("has room for {} running numbers a year, and they are used up",
                          p.width)));
        }
        out += digits;
        break;
      }
      case Piece::check:
        out += check_digit(out, rule.check);
        break;
    }
  }
  return out;
}

bool valid_kassenzeichen(const KassenzeichenRule& rule, std::string_view value) {
  if (value.empty() || !rule.pattern.ends_with("{P}")) return !value.empty();
  auto body = value.substr(0, value.size() - 1);
  return check_digit(body, rule.check) == value.back();
}

// ---- fees ---------------------------------------------------------------------------

std::string format_euro(std::int64_t cents) {
  auto whole = std::to_string(std::abs(cents) / 100);
  std::string grouped;
  for (std::size_t i = 0; i < whole.size(); ++i) {
    if (i > 0 && (whole.size() - i) % 3 == 0) grouped += '.';
    grouped += whole[i];
  }
  return fmt::format("{}{},{:02} €", cents < 0 ? "-" : "", grouped, std::abs(cents) % 100);
}

core::Result<std::int64_t> compute_fee(const FeeRule& rule,
                                       const std::map<std::string, std::string>& answers) {
  if (rule.per_unit_cents == 0 || rule.unit_field.empty()) return rule.fixed_cents;
  auto it = answers.find(rule.unit_field);
  std::string_view text = it == answers.end() ? std::string_view() : core::trim(it->second);
  int units = 0;
  auto [p, ec] = std::from_chars(text.data(), text.data() + text.size(), units);
  if (text.empty() || ec != std::errc() || p != text.data() + text.size() || units < 0 ||
      units > rule.max_units) {
    return fail(Error::invalid(
        rule.unit_field,
        fmt::format("must be a whole number from 0 to {} (the fee counts it)", rule.max_units)));
  }
  return rule.fixed_cents + rule.per_unit_cents * units;
}

std::string describe_fee(const FeeRule& rule, std::int64_t units) {
  if (rule.per_unit_cents == 0 || rule.unit_field.empty()) {
    return fmt::format(R"({{"fixedCents":{}}})", rule.fixed_cents);
  }
  // unit_field is a form path: letters, digits, _ . [ ] only (checked by forms).
  return fmt::format(R"({{"fixedCents":{},"perUnitCents":{},"unitField":"{}","units":{}}})",
                     rule.fixed_cents, rule.per_unit_cents, rule.unit_field, units);
}

// ---- accounts -----------------------------------------------------------------------

std::string normalise_iban(std::string_view iban) {
  std::string out;
  for (char c : iban) {
    if (c == ' ') continue;
    out += (c >= 'a' && c <= 'z') ? static_cast<char>(c - 'a' + 'A') : c;
  }
  return out;
}

namespace {

bool iban_valid(const std::string& iban) {
  if (iban.size() < 15 || iban.size() > 34) return false;
  if (!(iban[0] >= 'A' && iban[0] <= 'Z' && iban[1] >= 'A' && iban[1] <= 'Z' && is_digit(iban[2]) &&
        is_digit(iban[3]))) {
    return false;
  }
  if (iban.starts_with("DE") && iban.size() != 22) return false;
  int remainder = 0;
  auto rotated = iban.substr(4) + iban.substr(0, 4);
  for (char c : rotated) {
    if (is_digit(c)) {
      remainder = (remainder * 10 + (c - '0')) % 97;
    } else if (c >= 'A' && c <= 'Z') {
      int v = c - 'A' + 10;
      remainder = (remainder * 100 + v) % 97;
    } else {
      return false;
    }
  }
  return remainder == 1;
}

bool bic_valid(std::string_view bic) {
  if (bic.size() != 8 && bic.size() != 11) return false;
  for (std::size_t i = 0; i < bic.size(); ++i) {
    char c = bic[i];
    bool letter = c >= 'A' && c <= 'Z';
    if (i < 6 ? !letter : !(letter || is_digit(c))) return false;
  }
  return true;
}

bool plain_text(std::string_view s, std::size_t max) {
  return !s.empty() && s.size() <= max && core::is_single_line(s) && core::valid_utf8(s);
}

}  // namespace

core::Status check_account(const Account& a) {
  Error error{core::ErrorCode::invalid_input, "The payment account is not valid.", {}, {}};
  if (!plain_text(a.payee, 70)) {
    error.and_field("payee", "is required: one line of at most 70 characters");
  }
  if (!iban_valid(normalise_iban(a.iban))) {
    error.and_field("iban", "must be an IBAN with correct check digits (DE: 22 characters)");
  }
  if (!a.bic.empty() && !bic_valid(a.bic)) {
    error.and_field("bic", "must be a BIC of 8 or 11 characters (or empty)");
  }
  if (!plain_text(a.budget_position, 64)) {
    error.and_field("budgetPosition", "is required: one line of at most 64 characters");
  }
  if (!plain_text(a.booking_account, 64)) {
    error.and_field("bookingAccount", "is required: one line of at most 64 characters");
  }
  if (auto rule = check_rule(a.kassenzeichen); !rule) {
    for (const auto& f : rule.error().fields) error.and_field(f.field, f.message);
  }
  auto id_ok = [](std::string_view s) {
    return !s.empty() && s.size() <= 36 && std::all_of(s.begin(), s.end(), [](char c) {
      return is_digit(c) || (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || c == '_' ||
             c == '-';
    });
  };
  if (!a.provider.empty() && !id_ok(a.endpoint_id)) {
    error.and_field("endpointId", "is required with a provider: 1 to 36 of A-Z a-z 0-9 _ -");
  }
  if (a.provider.empty() && !a.invoice) {
    error.and_field("invoice", "an authority without a provider must take payment by invoice");
  }
  if (a.invoice_days < 1 || a.invoice_days > 90) {
    error.and_field("invoiceDays", "must be from 1 to 90");
  }
  if (!error.fields.empty()) return fail(error);
  return {};
}

}  // namespace mvsp::payments
