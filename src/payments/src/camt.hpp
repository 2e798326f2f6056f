#pragma once
// Bank statements in ISO 20022 CAMT.053 (BkToCstmrStmt, versions .001.02 to .001.08, as
// German banks deliver them per the DFÜ-Abkommen): the entries of each statement, with the
// remittance information that names a Kassenzeichen. Read with libxml2 without DTDs,
// entities or network access.

#include <cstdint>
#include <mvsp/core/error.hpp>
#include <string>
#include <string_view>
#include <vector>

namespace mvsp::payments::camt {

// One transaction of an entry (an entry of a batch booking carries several).
struct Transaction {
  std::int64_t amount_cents = 0;   // always positive; `credit` says the direction
  bool credit = true;              // CRDT: money came in
  std::string currency;            // "EUR"
  std::string booking_date;        // YYYY-MM-DD (BookgDt)
  std::string value_date;          // YYYY-MM-DD (ValDt)
  std::string remittance;          // the Ustrd lines, joined by one space
  std::string creditor_reference;  // CdtrRefInf/Ref (structured, RF… or the Kassenzeichen)
  std::string end_to_end_id;       // "NOTPROVIDED" kept as sent
  std::string debtor_name;
  std::string bank_reference;  // AcctSvcrRef of the entry
};

struct Statement {
  std::string id;                         // Stmt/Id
  std::string iban;                       // Acct/Id/IBAN
  std::vector<Transaction> transactions;  // booked entries only (Sts BOOK)
};

// The statements of a CAMT.053 document; invalid_input with a message naming what is
// wrong (not XML, not camt.053, an amount that is not a decimal with at most two places).
core::Result<std::vector<Statement>> read_camt053(std::string_view xml);

}  // namespace mvsp::payments::camt
