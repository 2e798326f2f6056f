// The invoice: the GiroCode's payload to the letter of EPC069-12, every refusal naming its
// field, and the PDF read back as a bank customer and an auditor would: the printed page
// scanned (poppler rasterises, zbar decodes) gives exactly the payload, the text carries
// the Kassenzeichen, the IBAN and the amount, and the file is tagged.
#include "invoice.hpp"

#include <gtest/gtest.h>

#include <array>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <memory>
#include <string>

#include "support.hpp"

namespace mvsp::payments::invoice {
namespace {

using test::output_of;

Transfer dog_tax() {
  return {.bic = "",
          .payee = "Landeshauptstadt Schwerin",
          .iban = "DE89370400440532013000",
          .amount_cents = 3000,
          .remittance = "2600000017 Hundesteuer 2027"};
}

std::string repeated(std::string_view s, int n) {
  std::string out;
  for (int i = 0; i < n; ++i) out += s;
  return out;
}

TEST(EpcPayload, AKnownTransferGivesTheExactPayload) {
  auto payload = epc_payload(dog_tax());
  ASSERT_TRUE(payload) << payload.error().message;
  EXPECT_EQ(*payload,
            "BCD\n002\n1\nSCT\n\nLandeshauptstadt Schwerin\nDE89370400440532013000\nEUR30.00\n\n\n"
            "2600000017 Hundesteuer 2027");
}

TEST(EpcPayload, NothingFollowsTheLastElementGiven) {
  auto t = dog_tax();
  t.remittance.clear();
  t.bic = "cobadeffxxx";
  t.iban = "de89 3704 0044 0532 0130 00";
  t.amount_cents = 123'456;
  auto payload = epc_payload(t);
  ASSERT_TRUE(payload) << payload.error().message;
  EXPECT_EQ(*payload,
            "BCD\n002\n1\nSCT\nCOBADEFFXXX\nLandeshauptstadt Schwerin\nDE89370400440532013000\n"
            "EUR1234.56");
}

TEST(EpcPayload, TheLimitsThemselvesAreAllowed) {
  auto t = dog_tax();
  t.amount_cents = 1;
  EXPECT_NE(epc_payload(t)->find("\nEUR0.01\n"), std::string::npos);
  t.amount_cents = 99'999'999'999;
  EXPECT_NE(epc_payload(t)->find("\nEUR999999999.99\n"), std::string::npos);
  t.remittance = repeated("x", 140);
  EXPECT_TRUE(epc_payload(t));
  t.payee = repeated("ä", 70);  // characters, not bytes
  t.remittance = repeated("x", 100);
  EXPECT_TRUE(epc_payload(t));
  t.iban = "NO9386011117947";  // the shortest IBAN, 15 characters
  EXPECT_TRUE(epc_payload(t));
}

// The largest payload: 70 two-byte characters of name and a remittance that fills the
// 331 bytes.
Transfer largest() {
  auto t = dog_tax();
  t.amount_cents = 99'999'999'999;
  t.payee = repeated("ä", 70);
  t.remittance = repeated("x", 134);
  return t;
}

TEST(EpcPayload, AtMost331Bytes) {
  auto t = largest();
  auto payload = epc_payload(t);
  ASSERT_TRUE(payload) << payload.error().message;
  EXPECT_EQ(payload->size(), 331U);
  t.remittance += "x";
  EXPECT_FALSE(epc_payload(t));
}

// The format information beside the top left finder pattern (ISO/IEC 18004, 7.9): its two
// most significant bits, masked with 10, are the error correction level; M is 00. The
// bits are at row 8, columns 0 and 1.
TEST(QrCode, LevelMAndAtMostVersion13) {
  for (const auto& t : {dog_tax(), largest()}) {
    auto modules = qr_code(*epc_payload(t));
    auto width = modules.size();
    ASSERT_GE(width, 21U);
    EXPECT_EQ((width - 17) % 4, 0U);
    EXPECT_LE((width - 17) / 4, 13U);
    int level = (modules[8][0] ? 0b10 : 0) | (modules[8][1] ? 0b01 : 0);
    EXPECT_EQ(level ^ 0b10, 0b00) << "M is 00, L 01, H 10, Q 11";
  }
  EXPECT_EQ(qr_code(*epc_payload(largest())).size(), 17U + 4 * 13);
}

struct Refusal {
  const char* name;
  void (*change)(Transfer&);
  const char* field;
};

TEST(EpcPayload, EveryRefusalNamesItsField) {
  const Refusal refusals[] = {
      {"wrong check digits", [](Transfer& t) { t.iban = "DE88370400440532013000"; },
       "transfer.iban"},
      {"a mistyped digit", [](Transfer& t) { t.iban = "DE89370400440532013001"; }, "transfer.iban"},
      {"too short", [](Transfer& t) { t.iban = "DE8937040044"; }, "transfer.iban"},
      {"no country", [](Transfer& t) { t.iban = "1289370400440532013000"; }, "transfer.iban"},
      {"punctuation", [](Transfer& t) { t.iban = "DE89-3704-0044-0532-0130-00"; }, "transfer.iban"},
      {"payee of 71 characters", [](Transfer& t) { t.payee = repeated("a", 71); },
       "transfer.payee"},
      {"no payee", [](Transfer& t) { t.payee = " "; }, "transfer.payee"},
      {"line feed in the payee", [](Transfer& t) { t.payee = "Stadt\nSchwerin"; },
       "transfer.payee"},
      {"carriage return in the payee", [](Transfer& t) { t.payee = "Stadt\rSchwerin"; },
       "transfer.payee"},
      {"next line (U+0085) in the payee", [](Transfer& t) { t.payee = "Stadt\xC2\x85Schwerin"; },
       "transfer.payee"},
      {"line separator (U+2028) in the payee",
       [](Transfer& t) { t.payee = "Stadt\xE2\x80\xA8Schwerin"; }, "transfer.payee"},
      {"payee not UTF-8", [](Transfer& t) { t.payee = "M\xFCller"; }, "transfer.payee"},
      {"amount 0", [](Transfer& t) { t.amount_cents = 0; }, "transfer.amount"},
      {"negative amount", [](Transfer& t) { t.amount_cents = -3000; }, "transfer.amount"},
      {"amount too large", [](Transfer& t) { t.amount_cents = 100'000'000'000; },
       "transfer.amount"},
      {"remittance of 141 characters", [](Transfer& t) { t.remittance = repeated("x", 141); },
       "transfer.remittance"},
      {"tab in the remittance", [](Transfer& t) { t.remittance = "2600000017\tHundesteuer"; },
       "transfer.remittance"},
      {"more than 331 bytes",
       [](Transfer& t) {
         t.payee = repeated("ü", 70);
         t.remittance = repeated("ü", 140);
       },
       "transfer.remittance"},
      {"BIC of 7 characters", [](Transfer& t) { t.bic = "COBADEF"; }, "transfer.bic"},
      {"BIC with a digit in the bank code", [](Transfer& t) { t.bic = "C0BADEFF"; },
       "transfer.bic"},
  };
  for (const auto& r : refusals) {
    auto t = dog_tax();
    r.change(t);
    auto payload = epc_payload(t);
    ASSERT_FALSE(payload) << r.name;
    EXPECT_EQ(payload.error().code, core::ErrorCode::invalid_input) << r.name;
    ASSERT_EQ(payload.error().fields.size(), 1U) << r.name;
    EXPECT_EQ(payload.error().fields[0].field, r.field) << r.name;
    EXPECT_FALSE(payload.error().message.empty()) << r.name;
  }
}

Document dog_tax_invoice() {
  return {.authority = "Stadt Grevesmühlen – Der Bürgermeister",
          .authority_address = {"Rathausplatz 1", "23936 Grevesmühlen"},
          .payer = "Jürgen Müller-Lüdenscheidt",
          .payer_address = {"Schloßstraße 7", "19053 Schwerin"},
          .kassenzeichen = "2600000017",
          .issued_on = "03.12.2026",
          .due_on = "17.12.2026",
          .purpose = "Hundesteuer 2027",
          .reference = "MV-35CA3-4HFYVHOK",
          .transfer = {.bic = "COBADEFFXXX",
                       .payee = "Stadt Grevesmühlen – Stadtkasse",
                       .iban = "DE89370400440532013000",
                       .amount_cents = 3000,
                       .remittance = ""}};
}

class InvoicePdf : public ::testing::Test {
 protected:
  std::string write(const std::string& pdf) {
    auto path = (dir_.path() / "invoice.pdf").string();
    std::ofstream(path, std::ios::binary) << pdf;
    return path;
  }
  test::TempDir dir_;
};

TEST_F(InvoicePdf, TheScannedGiroCodeIsThePayloadAndTheTextNamesTheTransfer) {
  auto document = dog_tax_invoice();
  auto pdf = render(document);
  ASSERT_TRUE(pdf) << pdf.error().message;
  auto path = write(*pdf);

  // the remittance the invoice made: the Kassenzeichen and the purpose
  auto transfer = document.transfer;
  transfer.remittance = "2600000017 Hundesteuer 2027";
  auto payload = epc_payload(transfer);
  ASSERT_TRUE(payload);

  auto png = (dir_.path() / "page").string();
  ASSERT_EQ(std::system(("pdftoppm -r 200 -png -f 1 -l 1 " + path + " " + png).c_str()), 0);
  auto scanned = output_of("zbarimg --raw -q " + png + "-1.png");
  ASSERT_TRUE(scanned.ends_with('\n')) << scanned;
  scanned.pop_back();
  EXPECT_EQ(scanned, *payload);

  auto text = output_of("pdftotext " + path + " -");
  for (const char* expected :
       {"Rechnung", "Kassenzeichen: 2600000017", "DE89 3704 0044 0532 0130 00", "30,00 €",
        "COBADEFFXXX", "Jürgen Müller-Lüdenscheidt", "Schloßstraße 7", "17.12.2026", "03.12.2026",
        "2600000017 Hundesteuer 2027", "Stadt Grevesmühlen – Stadtkasse",
        "Mit der Banking-App scannen (GiroCode)", "Rathausplatz 1", "MV-35CA3-4HFYVHOK"}) {
    EXPECT_NE(text.find(expected), std::string::npos) << expected << "\n" << text;
  }

  auto info = output_of("pdfinfo " + path);
  EXPECT_NE(info.find("Tagged:          yes"), std::string::npos) << info;
  EXPECT_NE(info.find("Title:           Rechnung"), std::string::npos) << info;
  EXPECT_NE(info.find("Pages:           1\n"), std::string::npos) << info;

  // the figure's text alternative spells the transfer out (qpdf's JSON decodes the string)
  auto json = output_of("qpdf --json=2 --json-key=qpdf " + path);
  EXPECT_NE(json.find("\"/Alt\": \"u:GiroCode für die Überweisung: Zahlungsempfänger "
                      "Stadt Grevesmühlen – Stadtkasse, IBAN DE89 3704 0044 0532 0130 00, Betrag "
                      "30,00 €, Kassenzeichen 2600000017"),
            std::string::npos)
      << json.substr(0, 4000);
}

TEST_F(InvoicePdf, LargeAmountsAreWrittenTheGermanWay) {
  auto document = dog_tax_invoice();
  document.transfer.amount_cents = 123'456'789;
  auto pdf = render(document);
  ASSERT_TRUE(pdf) << pdf.error().message;
  auto text = output_of("pdftotext " + write(*pdf) + " -");
  EXPECT_NE(text.find("1.234.567,89 €"), std::string::npos) << text;
}

TEST(InvoiceRender, RefusesWhatTheInvoiceCannotCarry) {
  struct Case {
    const char* name;
    void (*change)(Document&);
    const char* field;
  };
  const Case cases[] = {
      {"bad IBAN", [](Document& d) { d.transfer.iban = "DE88370400440532013000"; },
       "transfer.iban"},
      {"no Kassenzeichen", [](Document& d) { d.kassenzeichen = ""; }, "kassenzeichen"},
      {"remittance without the Kassenzeichen",
       [](Document& d) { d.transfer.remittance = "Hundesteuer 2027"; }, "transfer.remittance"},
      {"line break in the payer's address",
       [](Document& d) { d.payer_address[0] = "Schloßstraße 7\nHinterhaus"; }, "payer_address[0]"},
      {"due date not DD.MM.YYYY", [](Document& d) { d.due_on = "2026-12-17"; }, "due_on"},
      {"remittance too long with the purpose", [](Document& d) { d.purpose = repeated("x", 140); },
       "transfer.remittance"},
  };
  for (const auto& c : cases) {
    auto d = dog_tax_invoice();
    c.change(d);
    auto pdf = render(d);
    ASSERT_FALSE(pdf) << c.name;
    ASSERT_EQ(pdf.error().fields.size(), 1U) << c.name;
    EXPECT_EQ(pdf.error().fields[0].field, c.field) << c.name;
  }
}

}  // namespace
}  // namespace mvsp::payments::invoice
