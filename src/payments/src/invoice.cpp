#include "invoice.hpp"
// The GiroCode's payload by the rules of EPC069-12 and the invoice drawn by forms' PDF
// writer, the GiroCode as its figure.

#include <fmt/format.h>
#include <qrencode.h>

#include <memory>
#include <mvsp/core/text.hpp>
#include <mvsp/forms/pdf.hpp>
#include <mvsp/payments/payments.hpp>
#include <string_view>

namespace mvsp::payments::invoice {

namespace {

using core::Error;
using core::fail;

constexpr std::int64_t kMaxCents = 99'999'999'999;  // EUR 999999999.99 (EPC069-12)
constexpr std::size_t kMaxPayee = 70;               // characters
constexpr std::size_t kMaxRemittance = 140;         // characters
// The most a version 13 QR code holds in byte mode at level M; EPC069-12 allows no larger
// symbol.
constexpr std::size_t kMaxPayload = 331;
constexpr int kMaxVersion = 13;

// The invoice is one fixed German document type, like the Bescheid it goes with; its texts
// are constants here rather than catalog messages that an operator could translate.
constexpr const char* kTitle = "Rechnung";
constexpr const char* kCaption = "Mit der Banking-App scannen (GiroCode)";

// Code points of well-formed UTF-8 (continuation bytes are not counted).
std::size_t characters(std::string_view s) {
  std::size_t n = 0;
  for (unsigned char c : s) {
    if ((c & 0xC0) != 0x80) ++n;
  }
  return n;
}

// Text for one element of the payload: well-formed UTF-8, and nothing that ends a line or
// controls a terminal, because a line feed would shift every element after it (C0, DEL,
// C1 such as NEL, and the Unicode line and paragraph separators).
bool plain_text(std::string_view s) {
  if (!core::valid_utf8(s)) return false;
  for (std::size_t i = 0; i < s.size(); ++i) {
    auto c = static_cast<unsigned char>(s[i]);
    if (c < 0x20 || c == 0x7F) return false;
    auto next = i + 1 < s.size() ? static_cast<unsigned char>(s[i + 1]) : 0;
    if (c == 0xC2 && next >= 0x80 && next <= 0x9F) return false;
    if (c == 0xE2 && next == 0x80 && i + 2 < s.size() &&
        (static_cast<unsigned char>(s[i + 2]) == 0xA8 ||
         static_cast<unsigned char>(s[i + 2]) == 0xA9))
      return false;
  }
  return true;
}

bool is_upper(char c) {
  return c >= 'A' && c <= 'Z';
}
bool is_digit(char c) {
  return c >= '0' && c <= '9';
}
char upper(char c) {
  return c >= 'a' && c <= 'z' ? static_cast<char>(c - 'a' + 'A') : c;
}

// ISO 13616: the first four characters moved to the end, letters as 10 to 35, the number
// mod 97 is 1. Computed digit by digit, as the number has up to 68 digits.
bool iban_checks(std::string_view iban) {
  std::string rearranged = std::string(iban.substr(4)) + std::string(iban.substr(0, 4));
  int rest = 0;
  for (char c : rearranged) {
    if (is_digit(c)) {
      rest = (rest * 10 + (c - '0')) % 97;
    } else {
      rest = (rest * 100 + (c - 'A' + 10)) % 97;
    }
  }
  return rest == 1;
}

// The IBAN without spaces, in capitals, when it is one.
core::Result<std::string> normalized_iban(std::string_view raw) {
  std::string iban;
  for (char c : raw) {
    if (c != ' ') iban += upper(c);
  }
  if (iban.size() < 15 || iban.size() > 34)
    return fail(Error::invalid("transfer.iban", "must have 15 to 34 characters"));
  for (char c : iban) {
    if (!is_upper(c) && !is_digit(c))
      return fail(Error::invalid("transfer.iban", "must consist of letters and digits"));
  }
  if (!is_upper(iban[0]) || !is_upper(iban[1]) || !is_digit(iban[2]) || !is_digit(iban[3]))
    return fail(
        Error::invalid("transfer.iban", "must start with the country code and two check digits"));
  if (!iban_checks(iban))
    return fail(Error::invalid("transfer.iban", "has wrong check digits (ISO 13616)"));
  return iban;
}

// A BIC (ISO 9362) of 8 or 11 characters: bank, country, location, optional branch.
core::Result<std::string> normalized_bic(std::string_view raw) {
  std::string bic;
  for (char c : raw) bic += upper(c);
  bool ok = bic.size() == 8 || bic.size() == 11;
  for (std::size_t i = 0; ok && i < bic.size(); ++i) {
    ok = i < 6 ? is_upper(bic[i]) : is_upper(bic[i]) || is_digit(bic[i]);
  }
  if (!ok)
    return fail(
        Error::invalid("transfer.bic", "must be empty or a BIC of 8 or 11 letters and digits"));
  return bic;
}

// "DE89370400440532013000" → "DE89 3704 0044 0532 0130 00", as printed on paper.
std::string grouped(std::string_view iban) {
  std::string out;
  for (std::size_t i = 0; i < iban.size(); ++i) {
    if (i > 0 && i % 4 == 0) out += ' ';
    out += iban[i];
  }
  return out;
}

core::Status single_line(std::string_view field, std::string_view value, bool required) {
  if (required && core::trim(value).empty())
    return fail(Error::invalid(std::string(field), "is required"));
  if (!plain_text(value))
    return fail(Error::invalid(std::string(field),
                               "must be UTF-8 text without line breaks or control characters"));
  return {};
}

bool is_date(std::string_view s) {
  return s.size() == 10 && is_digit(s[0]) && is_digit(s[1]) && s[2] == '.' && is_digit(s[3]) &&
         is_digit(s[4]) && s[5] == '.' && is_digit(s[6]) && is_digit(s[7]) && is_digit(s[8]) &&
         is_digit(s[9]);
}

// Every text of the document goes onto the page; none may break it.
core::Status check(const Document& d) {
  struct Text {
    std::string field;
    const std::string& value;
    bool required;
  };
  std::vector<Text> texts{{"authority", d.authority, true},
                          {"payer", d.payer, true},
                          {"kassenzeichen", d.kassenzeichen, true},
                          {"purpose", d.purpose, false},
                          {"reference", d.reference, false}};
  for (std::size_t i = 0; i < d.authority_address.size(); ++i)
    texts.push_back({fmt::format("authority_address[{}]", i), d.authority_address[i], false});
  for (std::size_t i = 0; i < d.payer_address.size(); ++i)
    texts.push_back({fmt::format("payer_address[{}]", i), d.payer_address[i], false});
  for (const auto& t : texts) {
    if (auto ok = single_line(t.field, t.value, t.required); !ok) return ok;
  }
  if (!is_date(d.issued_on)) return fail(Error::invalid("issued_on", "must be DD.MM.YYYY"));
  if (!is_date(d.due_on)) return fail(Error::invalid("due_on", "must be DD.MM.YYYY"));
  return {};
}

std::string joined(const std::vector<std::string>& lines) {
  std::string out;
  for (const auto& l : lines) {
    if (l.empty()) continue;
    if (!out.empty()) out += '\n';
    out += l;
  }
  return out;
}

struct QrFree {
  void operator()(QRcode* code) const { QRcode_free(code); }
};

}  // namespace

std::vector<std::vector<bool>> qr_code(const std::string& payload) {
  std::unique_ptr<QRcode, QrFree> code(
      QRcode_encodeData(static_cast<int>(payload.size()),
                        reinterpret_cast<const unsigned char*>(payload.data()), 0, QR_ECLEVEL_M));
  if (!code) throw core::Failure("invoice: libqrencode cannot encode the GiroCode");
  if (code->version > kMaxVersion)
    throw core::Failure(fmt::format("invoice: the GiroCode needs QR version {}", code->version));
  auto width = static_cast<std::size_t>(code->width);
  std::vector<std::vector<bool>> modules(width, std::vector<bool>(width));
  for (std::size_t r = 0; r < width; ++r) {
    for (std::size_t c = 0; c < width; ++c) modules[r][c] = (code->data[r * width + c] & 1) != 0;
  }
  return modules;
}

core::Result<std::string> epc_payload(const Transfer& transfer) {
  std::string bic;  // may be empty in version 002
  if (!transfer.bic.empty()) {
    auto checked = normalized_bic(transfer.bic);
    if (!checked) return fail(checked.error());
    bic = *checked;
  }
  auto iban = normalized_iban(transfer.iban);
  if (!iban) return fail(iban.error());
  if (auto ok = single_line("transfer.payee", transfer.payee, true); !ok) return fail(ok.error());
  if (characters(transfer.payee) > kMaxPayee)
    return fail(Error::invalid("transfer.payee", "must have at most 70 characters"));
  if (transfer.amount_cents < 1 || transfer.amount_cents > kMaxCents)
    return fail(Error::invalid("transfer.amount", "must be from EUR 0.01 to EUR 999999999.99"));
  if (auto ok = single_line("transfer.remittance", transfer.remittance, false); !ok)
    return fail(ok.error());
  if (characters(transfer.remittance) > kMaxRemittance)
    return fail(Error::invalid("transfer.remittance", "must have at most 140 characters"));

  // Service tag, version 002, UTF-8, SEPA credit transfer, BIC, name, IBAN, amount, purpose
  // code and structured reference (both empty), the unstructured remittance; the
  // beneficiary-to-originator information is not used. "The last populated element cannot
  // be followed by any character or element separator" (EPC069-12, 3.4): trailing empty
  // elements are left out with their separators.
  std::vector<std::string> elements{
      "BCD",
      "002",
      "1",
      "SCT",
      bic,
      transfer.payee,
      *iban,
      fmt::format("EUR{}.{:02}", transfer.amount_cents / 100, transfer.amount_cents % 100),
      "",
      "",
      transfer.remittance};
  while (elements.back().empty()) elements.pop_back();
  std::string payload;
  for (const auto& e : elements) {
    if (!payload.empty()) payload += '\n';
    payload += e;
  }
  if (payload.size() > kMaxPayload)
    return fail(Error::invalid("transfer.remittance",
                               "makes the GiroCode longer than its 331 bytes; shorten it"));
  return payload;
}

core::Result<std::string> render(const Document& document) {
  if (auto ok = check(document); !ok) return fail(ok.error());
  // The cash office matches a transfer to its invoice by the Kassenzeichen in the
  // remittance; a transfer without it is booked by hand.
  auto transfer = document.transfer;
  if (transfer.remittance.empty()) {
    transfer.remittance = document.kassenzeichen;
    if (!core::trim(document.purpose).empty())
      transfer.remittance += " " + std::string(core::trim(document.purpose));
  } else if (transfer.remittance.find(document.kassenzeichen) == std::string::npos) {
    return fail(Error::invalid("transfer.remittance", "must contain the Kassenzeichen"));
  }
  auto payload = epc_payload(transfer);
  if (!payload) return fail(payload.error());

  auto iban = grouped(*normalized_iban(transfer.iban));
  auto amount = format_euro(transfer.amount_cents);

  forms::PdfDocument pdf;
  pdf.title = kTitle;
  pdf.language = "de-DE";
  pdf.facts.push_back(document.authority);
  for (const auto& line : document.authority_address) {
    if (!line.empty()) pdf.facts.push_back(line);
  }
  pdf.facts.push_back("Rechnungsdatum: " + document.issued_on);
  pdf.facts.push_back("Kassenzeichen: " + document.kassenzeichen);
  if (!document.reference.empty()) pdf.facts.push_back("Vorgang: " + document.reference);
  pdf.facts.push_back("Bitte zahlen Sie bis zum " + document.due_on + ".");

  auto row = [](std::string label, std::string value) {
    return forms::SummaryRow{"", std::move(label), std::move(value), "", "", false};
  };
  forms::SummarySection payer{"payer", "Zahlungspflichtige Person", {}};
  payer.rows.push_back(row("Name", document.payer));
  if (auto address = joined(document.payer_address); !address.empty())
    payer.rows.push_back(row("Anschrift", address));

  forms::SummarySection payment{"payment", "Zahlung", {}};
  payment.rows.push_back(row("Betrag", amount));
  if (!document.purpose.empty()) payment.rows.push_back(row("Zweck", document.purpose));
  payment.rows.push_back(row("Verwendungszweck", transfer.remittance));
  payment.rows.push_back(row("Fällig am", document.due_on));
  payment.rows.push_back(row("Hinweis",
                             "Bitte geben Sie bei der Überweisung den Verwendungszweck mit dem "
                             "Kassenzeichen an, damit wir Ihre Zahlung zuordnen können."));

  forms::SummarySection payee{"payee", "Zahlungsempfänger", {}};
  payee.rows.push_back(row("Name", transfer.payee));
  payee.rows.push_back(row("IBAN", iban));
  if (!transfer.bic.empty()) payee.rows.push_back(row("BIC", *normalized_bic(transfer.bic)));

  pdf.sections = {std::move(payer), std::move(payment), std::move(payee)};
  pdf.figure = forms::PdfFigure{
      qr_code(*payload),
      fmt::format("GiroCode für die Überweisung: Zahlungsempfänger {}, IBAN {}, Betrag {}, "
                  "Kassenzeichen {}, Verwendungszweck {}",
                  transfer.payee, iban, amount, document.kassenzeichen, transfer.remittance),
      kCaption};
  return forms::render_pdf(pdf);
}

}  // namespace mvsp::payments::invoice
