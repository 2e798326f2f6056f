// CAMT.053 bank statements as banks send them (payments::camt::read_camt053, XML).
// Besides crashes, leaks and undefined behaviour: a refusal is invalid_input naming where;
// a document with a DOCTYPE is never read; what is accepted has amounts that are never
// negative, a currency code and a booking date; reading the same bytes twice gives the same.
#include <string>
#include <string_view>

#include "camt.hpp"
#include "fuzz_support.hpp"

namespace {

namespace camt = mvsp::payments::camt;
using mvsp::fuzz::check;

bool is_currency(const std::string& c) {
  if (c.size() != 3) return false;
  for (char ch : c) {
    if (ch < 'A' || ch > 'Z') return false;
  }
  return true;
}

bool is_date(const std::string& d) {
  return d.size() == 10 && d[4] == '-' && d[7] == '-';
}

// Whether the document's prolog is (an XML declaration and) a DOCTYPE; "<!DOCTYPE" elsewhere,
// in a comment or in text, is not one.
bool starts_with_doctype(std::string_view xml) {
  auto skip_space = [&] {
    while (!xml.empty() && (xml[0] == ' ' || xml[0] == '\t' || xml[0] == '\n' || xml[0] == '\r'))
      xml.remove_prefix(1);
  };
  if (xml.starts_with("<?xml")) {
    auto end = xml.find("?>");
    if (end == std::string_view::npos) return false;
    xml.remove_prefix(end + 2);
  }
  skip_space();
  return xml.starts_with("<!DOCTYPE");
}

// The whole result as text, to compare two reads.
std::string summary(const mvsp::core::Result<std::vector<camt::Statement>>& read) {
  if (!read) return "refused: " + read.error().message;
  std::string out;
  for (const auto& s : *read) {
    out += s.id + '|' + s.iban + '\n';
    for (const auto& t : s.transactions) {
      out += std::to_string(t.amount_cents) + (t.credit ? "C" : "D") + t.currency + '|' +
             t.booking_date + '|' + t.value_date + '|' + t.remittance + '|' + t.creditor_reference +
             '|' + t.end_to_end_id + '|' + t.debtor_name + '|' + t.bank_reference + '\n';
    }
  }
  return out;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const unsigned char* data, std::size_t size) {
  auto xml = mvsp::fuzz::text(data, size);
  auto read = camt::read_camt053(xml);
  if (!read) {
    const auto& e = read.error();
    check(e.code == mvsp::core::ErrorCode::invalid_input, "a refusal is invalid_input");
    check(!e.fields.empty() && !e.fields.front().field.empty(), "a refusal names where", e.message);
    check(!e.message.empty(), "a refusal says why");
  } else {
    check(!starts_with_doctype(xml), "a document with a DOCTYPE is refused");
    for (const auto& s : *read) {
      check(!s.id.empty(), "a statement has its Id");
      for (const auto& t : s.transactions) {
        check(t.amount_cents >= 0, "an amount is never negative", std::to_string(t.amount_cents));
        check(is_currency(t.currency), "an amount has a currency code",
              mvsp::fuzz::printable(t.currency));
        check(is_date(t.booking_date), "a booked transaction has its booking date",
              mvsp::fuzz::printable(t.booking_date));
        check(t.value_date.empty() || is_date(t.value_date), "a value date is a date",
              mvsp::fuzz::printable(t.value_date));
      }
    }
  }
  check(summary(camt::read_camt053(xml)) == summary(read), "reading again gives the same");
  return 0;
}
