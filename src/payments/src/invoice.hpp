#pragma once
// The invoice for paying later: a PDF/UA document with the Kassenzeichen, the payee's
// bank account, the amount, the due date and an EPC QR code ("GiroCode", EPC069-12) that
// banking apps read to fill in the transfer.

#include <cstdint>
#include <mvsp/core/error.hpp>
#include <string>
#include <vector>

namespace mvsp::payments::invoice {

// A SEPA credit transfer as the EPC QR code carries it.
struct Transfer {
  std::string bic;                // optional in version 002 within the EEA
  std::string payee;              // at most 70 characters
  std::string iban;               // spaces and small letters are taken out of the payload
  std::int64_t amount_cents = 0;  // 1 to 99,999,999,999 cents (EUR 999999999.99)
  std::string remittance;         // unstructured remittance, at most 140 characters: the
                                  // Kassenzeichen and the purpose
};

// The QR code's payload (EPC069-12 version 002, UTF-8, SCT); invalid_input naming the
// field when a value does not fit the standard.
core::Result<std::string> epc_payload(const Transfer& transfer);

// The QR code of a payload at error correction level M (EPC069-12 prescribes it): dark
// modules true, rows top to bottom, without the quiet zone. Throws core::Failure when the
// payload needs a symbol larger than version 13 (epc_payload keeps it within 331 bytes).
std::vector<std::vector<bool>> qr_code(const std::string& payload);

struct Document {
  std::string authority;  // issuing authority, its address lines after it
  std::vector<std::string> authority_address;
  std::string payer;  // name and address lines of the payer
  std::vector<std::string> payer_address;
  std::string kassenzeichen;
  std::string issued_on;  // DD.MM.YYYY
  std::string due_on;     // DD.MM.YYYY
  std::string purpose;
  std::string reference;  // the Vorhaben or service reference, may be empty
  Transfer transfer;
};

// The PDF bytes (tagged, /Lang de-DE, the QR code as a figure with a text alternative
// that spells out the transfer). An empty remittance becomes the Kassenzeichen and the
// purpose; a given one must contain the Kassenzeichen (the cash office matches by it).
// invalid_input names the field (transfer.iban, kassenzeichen, due_on, …). Throws
// core::Failure when the PDF cannot be made.
core::Result<std::string> render(const Document& document);

}  // namespace mvsp::payments::invoice
