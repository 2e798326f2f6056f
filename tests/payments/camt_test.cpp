// Reading CAMT.053 bank statements: the booked entries of the sample statements (.02 and
// .08) with every field, batch bookings, amounts exactly in cents; refusals that name
// where the document is wrong; documents with a DOCTYPE refused before any entity exists;
// nothing printed by libxml2.
#include "camt.hpp"

#include <fmt/format.h>
#include <gtest/gtest.h>

#include <fstream>

#include "support.hpp"

namespace mvsp::payments::camt {
namespace {

std::string sample(const std::string& name) {
  auto path = test::source_dir() + "/tests/payments/data/" + name;
  std::ifstream in(path, std::ios::binary);
  EXPECT_TRUE(in) << path;
  return {std::istreambuf_iterator<char>(in), {}};
}

// One line per transaction, so a difference shows which field it is in.
std::string describe(const Transaction& t) {
  return fmt::format("{} {} {} booked {} value {} | bank {} | e2e {} | debtor {} | rmt {} | ref {}",
                     t.credit ? "CRDT" : "DBIT", t.amount_cents, t.currency, t.booking_date,
                     t.value_date, t.bank_reference, t.end_to_end_id, t.debtor_name, t.remittance,
                     t.creditor_reference);
}

std::vector<std::string> describe(const Statement& s) {
  std::vector<std::string> out;
  for (const auto& t : s.transactions) out.push_back(describe(t));
  return out;
}

// ---- documents built in the test ----

std::string status(int version, std::string_view code) {
  return version >= 8 ? fmt::format("<Sts><Cd>{}</Cd></Sts>", code)
                      : fmt::format("<Sts>{}</Sts>", code);
}

struct EntrySpec {
  std::string amount = R"(<Amt Ccy="EUR">30.00</Amt>)";
  std::string indicator = "<CdtDbtInd>CRDT</CdtDbtInd>";
  std::string status = "BOOK";
  std::string booking = "<BookgDt><Dt>2026-12-01</Dt></BookgDt>";
  std::string details;  // NtryDtls, if any
};

std::string entry(int version, const EntrySpec& e) {
  return fmt::format(
      "<Ntry>{}{}{}{}<ValDt><Dt>2026-12-01</Dt></ValDt><AcctSvcrRef>REF</AcctSvcrRef>{}</Ntry>\n",
      e.amount, e.indicator, e.status.empty() ? "" : status(version, e.status), e.booking,
      e.details);
}

std::string entry(int version) {
  return entry(version, EntrySpec{});
}

std::string document(int version, const std::string& entries,
                     const std::string& prolog = R"(<?xml version="1.0" encoding="UTF-8"?>)") {
  return fmt::format(
      "{}\n<Document xmlns=\"urn:iso:std:iso:20022:tech:xsd:camt.053.001.{:02}\">\n"
      "<BkToCstmrStmt><GrpHdr><MsgId>M</MsgId></GrpHdr>\n"
      "<Stmt><Id>S1</Id><Acct><Id><IBAN>DE12500105170648489890</IBAN></Id></Acct>\n{}"
      "</Stmt></BkToCstmrStmt></Document>\n",
      prolog, version, entries);
}

std::string field_of(const core::Error& e) {
  return e.fields.empty() ? "" : e.fields.front().field;
}

// The refusal of `xml`: its field and message ("" and "accepted" when it was read).
using Refusal = std::pair<std::string, std::string>;
Refusal refusal(std::string_view xml) {
  auto read = read_camt053(xml);
  if (read) return {"", "accepted"};
  EXPECT_EQ(read.error().code, core::ErrorCode::invalid_input);
  return {field_of(read.error()), read.error().message};
}

// ---- the samples ----

TEST(CamtRead, V02SampleGivesTheBookedEntriesWithTheirDetails) {
  auto read = read_camt053(sample("camt053-v02-sample.xml"));
  ASSERT_TRUE(read) << read.error().message;
  ASSERT_EQ(read->size(), 1u);
  const auto& s = read->front();
  EXPECT_EQ(s.id, "2026-12-01-0001");
  EXPECT_EQ(s.iban, "DE12500105170648489890");
  // The pending 99.99 is left out; the batch of 75.50 gives its two transactions.
  EXPECT_EQ(describe(s),
            (std::vector<std::string>{
                "CRDT 3000 EUR booked 2026-12-01 value 2026-12-01 | bank 2026120100001 | e2e "
                "E2E-HUNDESTEUER-4711 | debtor Erika Mustermann | rmt Kassenzeichen "
                "5.1234.567890.1 Hundesteuer 2027 | ref ",
                "DBIT 1 EUR booked 2026-12-01 value 2026-11-30 | bank 2026120100002 | e2e  | "
                "debtor  | rmt  | ref ",
                "CRDT 123456789 EUR booked 2026-12-01 value 2026-12-01 | bank 2026120100003 | e2e "
                "NOTPROVIDED | debtor Musterbau GmbH | rmt  | ref RF18539007547034",
                "CRDT 4500 EUR booked 2026-12-01 value 2026-12-01 | bank 2026120100004 | e2e "
                "SAMMLER-1 | debtor Max Mustermann | rmt Kassenzeichen 5.1111.222222.3 | ref ",
                "CRDT 3050 EUR booked 2026-12-01 value 2026-12-01 | bank 2026120100004 | e2e "
                "SAMMLER-2 | debtor Maria Musterfrau | rmt Kassenzeichen 5.3333.444444.5 | ref ",
            }));
}

TEST(CamtRead, V08BatchGivesOneTransactionPerTxDtls) {
  auto read = read_camt053(sample("camt053-v08-batch.xml"));
  ASSERT_TRUE(read) << read.error().message;
  ASSERT_EQ(read->size(), 2u);
  const auto& a = (*read)[0];
  EXPECT_EQ(a.id, "STMT-2026-12-02-A");
  EXPECT_EQ(a.iban, "DE12500105170648489890");
  // The single TxDtls of the direct debit says 119.00; the entry booked 120.00, which counts.
  EXPECT_EQ(describe(a),
            (std::vector<std::string>{
                "CRDT 3000 EUR booked 2026-12-02 value 2026-12-02 | bank BATCH-20261202-17 | e2e "
                "E2E-0001 | debtor Erika Mustermann | rmt Kassenzeichen 5.1234.567890.1 "
                "Bewohnerparkausweis | ref ",
                "CRDT 6550 EUR booked 2026-12-02 value 2026-12-02 | bank BATCH-20261202-17 | e2e "
                "E2E-0002 | debtor Jörg Müller-Lüdenscheidt | rmt  | ref 5.7777.888888.9",
                "CRDT 1 EUR booked 2026-12-02 value 2026-12-02 | bank BATCH-20261202-17 | e2e "
                "NOTPROVIDED | debtor  | rmt Test-Überweisung | ref ",
                "DBIT 12000 EUR booked 2026-12-02 value 2026-12-02 | bank DD-20261202-3 | e2e "
                "LASTSCHRIFT-99 | debtor  | rmt Abschlag Dezember | ref ",
            }));
  const auto& b = (*read)[1];
  EXPECT_EQ(b.id, "STMT-2026-12-02-B");
  EXPECT_EQ(b.iban, "DE75512108001245126199");
  EXPECT_EQ(describe(b), (std::vector<std::string>{
                             "CRDT 3050 EUR booked 2026-12-02 value 2026-12-04 | bank B-1 | e2e  "
                             "| debtor  | rmt  | ref ",
                         }));
}

// ---- entries ----

TEST(CamtRead, EveryVersionFrom02To08IsRead) {
  for (int v = 2; v <= 8; ++v) {
    auto read = read_camt053(document(v, entry(v)));
    ASSERT_TRUE(read) << "version " << v << ": " << read.error().message;
    ASSERT_EQ(read->size(), 1u) << v;
    ASSERT_EQ(read->front().transactions.size(), 1u) << v;
    EXPECT_EQ(read->front().transactions.front().amount_cents, 3000) << v;
  }
}

TEST(CamtRead, OnlyBookedEntriesAreReturned) {
  for (int v : {2, 8}) {
    auto entries = entry(v, {.status = "PDNG"}) + entry(v, {.status = "INFO"}) +
                   entry(v, {.amount = R"(<Amt Ccy="EUR">7.00</Amt>)"}) +
                   entry(v, {.status = "FUTR"});
    auto read = read_camt053(document(v, entries));
    ASSERT_TRUE(read) << read.error().message;
    ASSERT_EQ(read->front().transactions.size(), 1u) << v;
    EXPECT_EQ(read->front().transactions.front().amount_cents, 700) << v;
  }
  // Both spellings of the status are understood in every version.
  auto mixed = document(5,
                        "<Ntry><Amt Ccy=\"EUR\">1</Amt><CdtDbtInd>CRDT</CdtDbtInd>"
                        "<Sts><Cd>PDNG</Cd></Sts><BookgDt><Dt>2026-12-01</Dt></BookgDt></Ntry>");
  auto read = read_camt053(mixed);
  ASSERT_TRUE(read) << read.error().message;
  EXPECT_TRUE(read->front().transactions.empty());
}

TEST(CamtRead, AnEntryWithoutStatusIsRefused) {
  EXPECT_EQ(refusal(document(2, entry(2, {.status = ""}))),
            Refusal("Stmt[1]/Ntry[1]/Sts", "Stmt[1]/Ntry[1]/Sts is missing"));
}

TEST(CamtRead, DebitAndCreditAreTold) {
  auto read =
      read_camt053(document(8, entry(8, {.indicator = "<CdtDbtInd>DBIT</CdtDbtInd>"}) + entry(8)));
  ASSERT_TRUE(read) << read.error().message;
  ASSERT_EQ(read->front().transactions.size(), 2u);
  EXPECT_FALSE(read->front().transactions[0].credit);
  EXPECT_TRUE(read->front().transactions[1].credit);
  for (std::string bad : {"<CdtDbtInd>CRED</CdtDbtInd>", "<CdtDbtInd></CdtDbtInd>", ""}) {
    auto [field, message] = refusal(document(8, entry(8) + entry(8, {.indicator = bad})));
    EXPECT_EQ(field, "Stmt[1]/Ntry[2]/CdtDbtInd") << bad;
    EXPECT_NE(message.find("must be CRDT or DBIT"), std::string::npos) << message;
  }
}

TEST(CamtRead, DatesAreTheDatePartOfDtOrDtTm) {
  auto read = read_camt053(
      document(8, entry(8, {.booking = "<BookgDt><DtTm>2026-12-31T23:59:59Z</DtTm></BookgDt>"})));
  ASSERT_TRUE(read) << read.error().message;
  EXPECT_EQ(read->front().transactions.front().booking_date, "2026-12-31");
  EXPECT_EQ(read->front().transactions.front().value_date, "2026-12-01");
  for (std::string bad :
       {"<BookgDt><Dt>2026-02-30</Dt></BookgDt>", "<BookgDt><Dt>1.12.2026</Dt></BookgDt>",
        "<BookgDt><DtTm>2026-12-01 10:00</DtTm></BookgDt>", "<BookgDt/>", ""}) {
    auto [field, message] = refusal(document(8, entry(8, {.booking = bad})));
    EXPECT_EQ(field, "Stmt[1]/Ntry[1]/BookgDt") << bad;
    EXPECT_NE(message.find("must hold a date"), std::string::npos) << message;
  }
}

TEST(CamtRead, RemittanceLinesAreJoinedByOneSpace) {
  auto details =
      "<NtryDtls><TxDtls><RmtInf><Ustrd>Kassenzeichen</Ustrd><Ustrd>\n  5.1234.567890.1 "
      "</Ustrd><Ustrd/><Ustrd>Gebühr  Parken</Ustrd></RmtInf></TxDtls></NtryDtls>";
  auto read = read_camt053(document(2, entry(2, {.details = details})));
  ASSERT_TRUE(read) << read.error().message;
  EXPECT_EQ(read->front().transactions.front().remittance,
            "Kassenzeichen 5.1234.567890.1 Gebühr  Parken");
}

TEST(CamtRead, StructuredReferenceAndDebtorOfEitherVersion) {
  auto details = [](std::string_view debtor) {
    return fmt::format(
        "<NtryDtls><TxDtls><RltdPties><Dbtr>{}</Dbtr></RltdPties><RmtInf><Strd><CdtrRefInf>"
        "<Ref>RF18539007547034</Ref></CdtrRefInf></Strd></RmtInf></TxDtls></NtryDtls>",
        debtor);
  };
  for (auto [v, debtor] : {std::pair{2, "<Nm>Erika Mustermann</Nm>"},
                           std::pair{8, "<Pty><Nm>Erika Mustermann</Nm></Pty>"}}) {
    auto read = read_camt053(document(v, entry(v, {.details = details(debtor)})));
    ASSERT_TRUE(read) << read.error().message;
    const auto& t = read->front().transactions.front();
    EXPECT_EQ(t.creditor_reference, "RF18539007547034") << v;
    EXPECT_EQ(t.debtor_name, "Erika Mustermann") << v;
  }
}

TEST(CamtRead, OneTxDtlsWithoutAmountTakesTheEntrysAmount) {
  auto read = read_camt053(
      document(8, entry(8, {.amount = R"(<Amt Ccy="EUR">42.10</Amt>)",
                            .details = "<NtryDtls><TxDtls><Refs><EndToEndId>X</EndToEndId></Refs>"
                                       "</TxDtls></NtryDtls>"})));
  ASSERT_TRUE(read) << read.error().message;
  ASSERT_EQ(read->front().transactions.size(), 1u);
  EXPECT_EQ(read->front().transactions.front().amount_cents, 4210);
  EXPECT_EQ(read->front().transactions.front().end_to_end_id, "X");
}

TEST(CamtRead, BatchBookingsSplitOverSeveralNtryDtls) {
  auto details =
      "<NtryDtls><TxDtls><Amt Ccy=\"EUR\">10</Amt></TxDtls></NtryDtls>"
      "<NtryDtls><TxDtls><Amt Ccy=\"EUR\">20</Amt><CdtDbtInd>DBIT</CdtDbtInd></TxDtls></NtryDtls>";
  auto read = read_camt053(document(8, entry(8, {.details = details})));
  ASSERT_TRUE(read) << read.error().message;
  ASSERT_EQ(read->front().transactions.size(), 2u);
  EXPECT_EQ(read->front().transactions[0].amount_cents, 1000);
  EXPECT_TRUE(read->front().transactions[0].credit);
  EXPECT_EQ(read->front().transactions[1].amount_cents, 2000);
  EXPECT_FALSE(read->front().transactions[1].credit);
}

TEST(CamtRead, ABatchTransactionWithoutOwnAmountIsRefused) {
  auto details =
      "<NtryDtls><Btch><NbOfTxs>2</NbOfTxs></Btch>"
      "<TxDtls><AmtDtls><TxAmt><Amt Ccy=\"EUR\">10</Amt></TxAmt></AmtDtls></TxDtls>"
      "<TxDtls><AmtDtls><InstdAmt><Amt Ccy=\"EUR\">20</Amt></InstdAmt></AmtDtls></TxDtls>"
      "</NtryDtls>";
  auto [field, message] = refusal(document(2, entry(2) + entry(2, {.details = details})));
  EXPECT_EQ(field, "Stmt[1]/Ntry[2]/NtryDtls[1]/TxDtls[2]/Amt");
  EXPECT_NE(message.find("own amount"), std::string::npos) << message;
}

TEST(CamtRead, ElementsOfOtherNamespacesAreNotTheStatements) {
  auto foreign =
      "<x:Ntry xmlns:x=\"urn:example:other\"><x:Amt Ccy=\"EUR\">5</x:Amt>"
      "<x:CdtDbtInd>CRDT</x:CdtDbtInd><x:Sts>BOOK</x:Sts></x:Ntry>";
  auto read = read_camt053(document(2, entry(2) + foreign));
  ASSERT_TRUE(read) << read.error().message;
  EXPECT_EQ(read->front().transactions.size(), 1u);
}

TEST(CamtRead, AStatementNeedsItsId) {
  auto xml = document(2, entry(2));
  const std::string id = "<Id>S1</Id>";
  auto without_id = xml.replace(xml.find(id), id.size(), "");
  EXPECT_EQ(refusal(without_id).first, "Stmt[1]/Id");
  std::string no_statement(
      "<Document xmlns=\"urn:iso:std:iso:20022:tech:xsd:camt.053.001.02\"><BkToCstmrStmt>"
      "<GrpHdr><MsgId>M</MsgId></GrpHdr></BkToCstmrStmt></Document>");
  EXPECT_EQ(refusal(no_statement).first, "Stmt");
}

// ---- amounts ----

TEST(CamtAmounts, DecimalsAreReadExactlyInCents) {
  const std::vector<std::pair<std::string, std::int64_t>> cases = {
      {"30", 3000},
      {"30.5", 3050},
      {"30.50", 3050},
      {"0.01", 1},
      {"0", 0},
      {"1234567.89", 123456789},
      {"007.10", 710},
      {"\n  12.34  \n", 1234},
      // 0.1 + 0.2 in floating point is not 0.3; here there is no floating point at all.
      {"0.29", 29},
      {"92233720368547758.07", 9'223'372'036'854'775'807},
  };
  for (const auto& [text, cents] : cases) {
    auto read =
        read_camt053(document(8, entry(8, {.amount = "<Amt Ccy=\"EUR\">" + text + "</Amt>"})));
    ASSERT_TRUE(read) << text << ": " << read.error().message;
    EXPECT_EQ(read->front().transactions.front().amount_cents, cents) << text;
  }
}

TEST(CamtAmounts, AnythingElseIsRefusedNamingTheElement) {
  for (std::string text :
       {"30.505", "-5", "+5", "1e3", "", " ", "30.", ".5", "3,50", "0x10", "30.5.0", "1 000", "NaN",
        "92233720368547758.08", "99999999999999999999999", "\xd9\xa1\xd9\xa2"}) {
    auto [field, message] = refusal(document(
        2, entry(2) + entry(2) + entry(2, {.amount = "<Amt Ccy=\"EUR\">" + text + "</Amt>"})));
    EXPECT_EQ(field, "Stmt[1]/Ntry[3]/Amt") << text;
    EXPECT_NE(message.find("Stmt[1]/Ntry[3]/Amt must be a decimal amount with at most two "
                           "decimal places"),
              std::string::npos)
        << text << ": " << message;
  }
}

TEST(CamtAmounts, AMissingAmountIsRefused) {
  EXPECT_EQ(refusal(document(2, entry(2, {.amount = ""}))),
            Refusal("Stmt[1]/Ntry[1]/Amt", "Stmt[1]/Ntry[1]/Amt is missing"));
}

TEST(CamtAmounts, TheCurrencyIsNamed) {
  for (std::string amount :
       {"<Amt>30.00</Amt>", "<Amt Ccy=\"eur\">30.00</Amt>", "<Amt Ccy=\"EURO\">30.00</Amt>"}) {
    auto [field, message] = refusal(document(2, entry(2, {.amount = amount})));
    EXPECT_EQ(field, "Stmt[1]/Ntry[1]/Amt") << amount;
    EXPECT_NE(message.find("currency"), std::string::npos) << message;
  }
  auto read = read_camt053(document(2, entry(2, {.amount = R"(<Amt Ccy="CHF">1</Amt>)"})));
  ASSERT_TRUE(read) << read.error().message;
  EXPECT_EQ(read->front().transactions.front().currency, "CHF");
}

TEST(CamtAmounts, ABadAmountOfABatchTransactionNamesIt) {
  auto details =
      "<NtryDtls><TxDtls><Amt Ccy=\"EUR\">10</Amt></TxDtls>"
      "<TxDtls><AmtDtls><TxAmt><Amt Ccy=\"EUR\">1.234</Amt></TxAmt></AmtDtls></TxDtls>"
      "</NtryDtls>";
  auto [field, message] = refusal(document(2, entry(2, {.details = details})));
  EXPECT_EQ(field, "Stmt[1]/Ntry[1]/NtryDtls[1]/TxDtls[2]/AmtDtls/TxAmt/Amt");
  EXPECT_NE(message.find("at most two decimal places"), std::string::npos) << message;
}

// ---- documents that are not statements ----

TEST(CamtRefused, NotXml) {
  using namespace std::string_view_literals;
  for (auto text : {"not xml"sv, "<Document"sv, "\x00\x01\x02"sv, "{\"Document\": 1}"sv,
                    "<Document></Dokument>"sv}) {
    auto [field, message] = refusal(text);
    EXPECT_EQ(field, "statement") << text;
    EXPECT_NE(message.find("not well-formed XML"), std::string::npos) << message;
  }
  EXPECT_EQ(refusal(""), Refusal("statement", "the document is empty"));
}

TEST(CamtRefused, OtherRootsAndNamespaces) {
  auto with_namespace = [](std::string_view ns) {
    const std::string v02 = "urn:iso:std:iso:20022:tech:xsd:camt.053.001.02";
    auto xml = document(2, entry(2));
    return xml.replace(xml.find(v02), v02.size(), ns);
  };
  for (std::string ns : {"urn:iso:std:iso:20022:tech:xsd:camt.052.001.02",
                         "urn:iso:std:iso:20022:tech:xsd:camt.054.001.08",
                         "urn:iso:std:iso:20022:tech:xsd:pain.001.001.03", "urn:example"}) {
    auto [field, message] = refusal(with_namespace(ns));
    EXPECT_EQ(field, "statement") << ns;
    EXPECT_NE(message.find("not a CAMT.053 bank statement"), std::string::npos) << message;
  }
  for (std::string ns : {"urn:iso:std:iso:20022:tech:xsd:camt.053.001.01",
                         "urn:iso:std:iso:20022:tech:xsd:camt.053.001.09",
                         "urn:iso:std:iso:20022:tech:xsd:camt.053.001.2",
                         "urn:iso:std:iso:20022:tech:xsd:camt.053.001.02x"}) {
    auto [field, message] = refusal(with_namespace(ns));
    EXPECT_EQ(field, "statement") << ns;
    EXPECT_NE(message.find("is not supported"), std::string::npos) << message;
  }
  auto no_namespace = refusal("<Document><BkToCstmrStmt/></Document>");
  EXPECT_EQ(no_namespace.first, "statement");
  EXPECT_NE(no_namespace.second.find("not a CAMT.053"), std::string::npos);
  auto other_root =
      refusal("<BkToCstmrStmt xmlns=\"urn:iso:std:iso:20022:tech:xsd:camt.053.001.02\"/>");
  EXPECT_NE(other_root.second.find("not a CAMT.053"), std::string::npos);
  auto no_report = refusal(
      "<Document xmlns=\"urn:iso:std:iso:20022:tech:xsd:camt.053.001.02\">"
      "<BkToCstmrNtfctn/></Document>");
  EXPECT_EQ(no_report.first, "BkToCstmrStmt");
}

bool refused_for_doctype(std::string_view xml) {
  auto read = read_camt053(xml);
  return !read && field_of(read.error()) == "statement" &&
         read.error().message.find("DOCTYPE") != std::string::npos;
}

TEST(CamtRefused, ADoctypeIsRefusedAndItsEntitiesNeverExpanded) {
  auto xml = document(2,
                      entry(2, {.details = "<NtryDtls><TxDtls><RmtInf><Ustrd>&secret;</Ustrd>"
                                           "</RmtInf></TxDtls></NtryDtls>"}),
                      "<?xml version=\"1.0\"?>\n<!DOCTYPE Document [\n"
                      "  <!ENTITY secret \"GEHEIM-4711\">\n]>");
  auto read = read_camt053(xml);
  ASSERT_FALSE(read);
  EXPECT_TRUE(refused_for_doctype(xml)) << read.error().message;
  EXPECT_EQ(read.error().message.find("GEHEIM"), std::string::npos);
  // A bare DOCTYPE, an external DTD and an external entity are refused alike.
  EXPECT_TRUE(refused_for_doctype(document(2, entry(2), "<!DOCTYPE Document>")));
  EXPECT_TRUE(refused_for_doctype(
      document(2, entry(2), "<!DOCTYPE Document SYSTEM \"http://127.0.0.1:9/camt.dtd\">")));
  EXPECT_TRUE(refused_for_doctype(document(
      2,
      entry(2, {.details = "<NtryDtls><TxDtls><RmtInf><Ustrd>&xxe;</Ustrd></RmtInf></TxDtls>"
                           "</NtryDtls>"}),
      "<!DOCTYPE Document [<!ENTITY xxe SYSTEM \"file:///etc/passwd\">]>")));
}

TEST(CamtRefused, BillionLaughs) {
  std::string prolog = "<?xml version=\"1.0\"?>\n<!DOCTYPE Document [\n<!ENTITY lol0 \"lol\">\n";
  for (int i = 1; i <= 10; ++i) {
    prolog += fmt::format("<!ENTITY lol{} \"", i);
    for (int j = 0; j < 10; ++j) prolog += fmt::format("&lol{};", i - 1);
    prolog += "\">\n";
  }
  prolog += "]>";
  auto xml = document(2,
                      entry(2, {.details = "<NtryDtls><TxDtls><RmtInf><Ustrd>&lol10;</Ustrd>"
                                           "</RmtInf></TxDtls></NtryDtls>"}),
                      prolog);
  EXPECT_TRUE(refused_for_doctype(xml));
}

// A text search for "<!DOCTYPE" would not see it in UTF-16; the parser does.
TEST(CamtRefused, ADoctypeInUtf16IsRefusedToo) {
  auto utf16 = [](std::string_view ascii) {
    std::string out = "\xFF\xFE";
    for (char c : ascii) {
      out += c;
      out += '\0';
    }
    return out;
  };
  auto plain = utf16(document(2, entry(2), "<?xml version=\"1.0\" encoding=\"UTF-16\"?>"));
  auto read = read_camt053(plain);
  ASSERT_TRUE(read) << read.error().message;
  EXPECT_EQ(read->front().transactions.size(), 1u);
  EXPECT_TRUE(refused_for_doctype(utf16(
      document(2, entry(2), "<?xml version=\"1.0\" encoding=\"UTF-16\"?><!DOCTYPE Document []>"))));
}

TEST(CamtRefused, InputAbove20MiB) {
  constexpr std::size_t kLimit = 20 * 1024 * 1024;
  // Comments of 4 to 8 KiB after the root: libxml2 (without XML_PARSE_HUGE, which we do not
  // set) refuses single comments above 10 MB, and long runs of white space at the end.
  auto padded = [](std::size_t size) {
    auto comment = [](std::size_t length) { return "<!--" + std::string(length - 7, 'x') + "-->"; };
    auto xml = document(2, entry(2));
    while (size - xml.size() >= 8192) xml += comment(4096);
    return xml + comment(size - xml.size());
  };
  auto at_limit = padded(kLimit);
  ASSERT_EQ(at_limit.size(), kLimit);
  auto read = read_camt053(at_limit);
  ASSERT_TRUE(read) << read.error().message;
  EXPECT_EQ(refusal(padded(kLimit + 1)),
            Refusal("statement", "the document is larger than 20 MiB"));
}

TEST(CamtRead, ManyEntries) {
  std::string entries;
  for (int i = 1; i <= 10'000; ++i) {
    entries +=
        entry(8, {.amount = fmt::format("<Amt Ccy=\"EUR\">{}.{:02}</Amt>", i / 100, i % 100)});
  }
  auto read = read_camt053(document(8, entries));
  ASSERT_TRUE(read) << read.error().message;
  ASSERT_EQ(read->front().transactions.size(), 10'000u);
  std::int64_t sum = 0;
  for (const auto& t : read->front().transactions) sum += t.amount_cents;
  EXPECT_EQ(sum, std::int64_t{10'000} * 10'001 / 2);
}

TEST(CamtRefused, LibxmlPrintsNothing) {
  testing::internal::CaptureStderr();
  (void)read_camt053("<Document><Unclosed></Document>");  // only stderr matters here
  (void)read_camt053(document(2, entry(2), "<!DOCTYPE Document [<!ENTITY a \"&b;\">]>"));
  (void)read_camt053(
      "<Document xmlns=\"urn:iso:std:iso:20022:tech:xsd:camt.053.001.02\">&undefined;</Document>");
  EXPECT_EQ(testing::internal::GetCapturedStderr(), "");
}

}  // namespace
}  // namespace mvsp::payments::camt
