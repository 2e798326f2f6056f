#include "camt.hpp"
// The statement is read in one pass over libxml2's tree: every element the result needs is
// checked where it is read, and the first problem ends the reading with its path in the
// document ("Stmt[1]/Ntry[2]/Amt"), so a person can find it in the bank's file.

#include <fmt/format.h>
#include <libxml/parser.h>
#include <libxml/tree.h>

#include <algorithm>
#include <chrono>
#include <limits>
#include <memory>
#include <mutex>

namespace mvsp::payments::camt {

namespace {

constexpr std::size_t kMaxDocumentSize = 20 * 1024 * 1024;
constexpr std::string_view kNamespacePrefix = "urn:iso:std:iso:20022:tech:xsd:camt.053.001.";
// The versions German banks deliver under the DFÜ-Abkommen (Anlage 3).
constexpr int kFirstVersion = 2;
constexpr int kLastVersion = 8;
constexpr std::size_t kMaxQuoted = 40;   // bytes of a value repeated in a message
constexpr std::size_t kMaxReason = 200;  // bytes of libxml2's reason for not reading it
constexpr int kParseOptions =
    XML_PARSE_NONET | XML_PARSE_NOERROR | XML_PARSE_NOWARNING | XML_PARSE_NOBLANKS;

using core::Error;
using core::fail;

// ---- libxml2 ----

struct DocFree {
  void operator()(xmlDoc* d) const { xmlFreeDoc(d); }
};
using Doc = std::unique_ptr<xmlDoc, DocFree>;
struct ParserFree {
  void operator()(xmlParserCtxt* c) const { xmlFreeParserCtxt(c); }
};

std::string_view view(const xmlChar* s) {
  return s ? std::string_view(reinterpret_cast<const char*>(s)) : std::string_view();
}

bool is_xml_space(char c) {
  return c == ' ' || c == '\t' || c == '\n' || c == '\r';
}

std::string_view trim(std::string_view s) {
  while (!s.empty() && is_xml_space(s.front())) s.remove_prefix(1);
  while (!s.empty() && is_xml_space(s.back())) s.remove_suffix(1);
  return s;
}

// The element's text without the white space around it.
std::string text_of(const xmlNode* n) {
  if (!n) return {};
  xmlChar* content = xmlNodeGetContent(n);
  std::string out(trim(view(content)));
  xmlFree(content);
  return out;
}

// `s` cut to at most `max` bytes for a message, before a UTF-8 continuation byte so the
// message stays valid UTF-8.
std::string shortened(std::string_view s, std::size_t max) {
  if (s.size() <= max) return std::string(s);
  std::size_t end = max;
  while (end > 0 && (static_cast<unsigned char>(s[end]) & 0xC0) == 0x80) --end;
  return fmt::format("{}…", s.substr(0, end));
}

std::string quoted(std::string_view s) {
  return fmt::format("\"{}\"", shortened(s, kMaxQuoted));
}

// Called by libxml2 when the document type declaration starts, before its declarations are
// read: stopping here means no entity is ever declared, let alone expanded, whatever the
// document's encoding (a text search for "<!DOCTYPE" would miss UTF-16).
void refuse_doctype(void* ctx, const xmlChar*, const xmlChar*, const xmlChar*) {
  auto* ctxt = static_cast<xmlParserCtxt*>(ctx);
  *static_cast<bool*>(ctxt->_private) = true;
  xmlStopParser(ctxt);
}

// Errors stay in the context (xmlCtxtGetLastError) instead of going to stderr or to a
// structured handler that some other part of the process may have set globally.
#if LIBXML_VERSION >= 21200
void keep_error(void*, const xmlError*) {}
#else
void keep_error(void*, xmlError*) {}
#endif

core::Result<Doc> parse(std::string_view xml) {
  static std::once_flag once;
  std::call_once(once, [] { xmlInitParser(); });
  std::unique_ptr<xmlParserCtxt, ParserFree> ctxt(xmlNewParserCtxt());
  if (!ctxt) throw core::Failure("libxml2 has no parser context (out of memory)");
  bool doctype = false;
  ctxt->_private = &doctype;
  ctxt->sax->internalSubset = refuse_doctype;
  ctxt->sax->serror = keep_error;
  Doc doc(xmlCtxtReadMemory(ctxt.get(), xml.data(), static_cast<int>(xml.size()), nullptr, nullptr,
                            kParseOptions));
  if (doctype || (doc && (doc->intSubset || doc->extSubset))) {
    return fail(Error::invalid(
        "statement",
        "the document has a document type declaration (DOCTYPE); bank statements have none, "
        "so it is refused without reading it"));
  }
  if (!doc) {
    const xmlError* e = xmlCtxtGetLastError(ctxt.get());
    // libxml2's messages repeat names from the document, which may be long.
    std::string why = e && e->message ? shortened(trim(e->message), kMaxReason) : "unknown error";
    return fail(
        Error::invalid("statement", fmt::format("the document is not well-formed XML (line {}: {})",
                                                e ? std::max(e->line, 1) : 1, why)));
  }
  if (!xmlDocGetRootElement(doc.get()))
    return fail(Error::invalid("statement", "the document has no root element"));
  return doc;
}

// ---- the statement's elements ----

// Elements of the document's camt.053 namespace by local name; elements of other
// namespaces (SplmtryData's envelopes) are not part of the statement.
class Names {
 public:
  explicit Names(const xmlChar* ns) : ns_(ns) {}

  bool is(const xmlNode* n, std::string_view name) const {
    return n && n->type == XML_ELEMENT_NODE && n->ns && xmlStrEqual(n->ns->href, ns_) &&
           view(n->name) == name;
  }
  std::vector<const xmlNode*> all(const xmlNode* parent, std::string_view name) const {
    std::vector<const xmlNode*> out;
    for (const xmlNode* c = parent ? parent->children : nullptr; c; c = c->next) {
      if (is(c, name)) out.push_back(c);
    }
    return out;
  }
  const xmlNode* first(const xmlNode* parent, std::string_view name) const {
    for (const xmlNode* c = parent ? parent->children : nullptr; c; c = c->next) {
      if (is(c, name)) return c;
    }
    return nullptr;
  }
  // The first element at the end of a path of local names.
  const xmlNode* at(const xmlNode* n, std::initializer_list<std::string_view> path) const {
    for (auto name : path) n = first(n, name);
    return n;
  }

 private:
  const xmlChar* ns_;
};

std::string indexed(std::string_view name, std::size_t i) {
  return fmt::format("{}[{}]", name, i + 1);
}

// An amount in cents, exactly: digits, and at most two after a point. ISO 20022 allows
// five fractional digits, but the euro has two and banks send two; a third digit would
// mean a value this reader cannot carry without rounding.
core::Result<std::int64_t> cents_of(std::string_view text, const std::string& field) {
  auto refuse = [&] {
    return fail(Error::invalid(
        field, fmt::format("{} must be a decimal amount with at most two decimal places, not {}",
                           field, quoted(text))));
  };
  auto point = text.find('.');
  auto whole = text.substr(0, point);
  auto fraction = point == std::string_view::npos ? std::string_view() : text.substr(point + 1);
  if (whole.empty()) return refuse();
  if (point != std::string_view::npos && (fraction.empty() || fraction.size() > 2)) return refuse();
  constexpr auto kMax = std::numeric_limits<std::int64_t>::max();
  std::int64_t value = 0;
  auto add_digit = [&](char c) {
    if (c < '0' || c > '9') return false;
    if (value > (kMax - (c - '0')) / 10) return false;
    value = value * 10 + (c - '0');
    return true;
  };
  for (char c : whole) {
    if (!add_digit(c)) return refuse();
  }
  for (std::size_t i = 0; i < 2; ++i) {
    if (!add_digit(i < fraction.size() ? fraction[i] : '0')) return refuse();
  }
  return value;
}

struct Money {
  std::int64_t cents = 0;
  std::string currency;
};

core::Result<Money> money_of(const xmlNode* amt, const std::string& field) {
  if (!amt) return fail(Error::invalid(field, fmt::format("{} is missing", field)));
  auto cents = cents_of(text_of(amt), field);
  if (!cents) return fail(std::move(cents.error()));
  xmlChar* ccy = xmlGetNoNsProp(amt, reinterpret_cast<const xmlChar*>("Ccy"));
  std::string currency(view(ccy));
  xmlFree(ccy);
  bool letters = currency.size() == 3;
  for (char c : currency) letters = letters && c >= 'A' && c <= 'Z';
  if (!letters) {
    return fail(Error::invalid(
        field, fmt::format("{} must name its currency (attribute Ccy, like \"EUR\"), not {}", field,
                           quoted(currency))));
  }
  return Money{*cents, std::move(currency)};
}

core::Result<bool> credit_of(const xmlNode* indicator, const std::string& field) {
  auto code = text_of(indicator);
  if (code == "CRDT") return true;
  if (code == "DBIT") return false;
  return fail(Error::invalid(field, fmt::format("{} must be CRDT or DBIT, not {}", field,
                                                indicator ? quoted(code) : "missing")));
}

bool is_date(std::string_view s) {
  if (s.size() != 10 || s[4] != '-' || s[7] != '-') return false;
  auto number = [&](std::size_t from, std::size_t length) {
    int n = 0;
    for (std::size_t i = from; i < from + length; ++i) {
      if (s[i] < '0' || s[i] > '9') return -1;
      n = n * 10 + (s[i] - '0');
    }
    return n;
  };
  int y = number(0, 4);
  int m = number(5, 2);
  int d = number(8, 2);
  if (y < 0 || m < 0 || d < 0) return false;
  return std::chrono::year_month_day(std::chrono::year(y),
                                     std::chrono::month(static_cast<unsigned>(m)),
                                     std::chrono::day(static_cast<unsigned>(d)))
      .ok();
}

// The date of a DateAndDateTimeChoice (BookgDt, ValDt): Dt, or the date part of DtTm.
core::Result<std::string> date_of(const Names& names, const xmlNode* choice,
                                  const std::string& field) {
  std::string date;
  if (auto dt = names.first(choice, "Dt")) {
    date = text_of(dt);
  } else if (auto dt_tm = names.first(choice, "DtTm")) {
    date = text_of(dt_tm);
    if (date.size() > 10 && date[10] == 'T') date.resize(10);
  }
  if (!is_date(date)) {
    return fail(Error::invalid(
        field,
        fmt::format("{} must hold a date (Dt YYYY-MM-DD or DtTm), not {}", field, quoted(date))));
  }
  return date;
}

// Sts is plain text up to version .07 (EntryStatus2Code) and a choice with Cd from .08 on.
std::string status_of(const Names& names, const xmlNode* sts) {
  if (auto cd = names.first(sts, "Cd")) return text_of(cd);
  if (auto prtry = names.first(sts, "Prtry")) return text_of(prtry);
  return text_of(sts);
}

// The entry's transaction `t` with what a TxDtls adds: remittance information, references
// and the debtor (an entry without TxDtls carries none of them).
Transaction with_details(const Names& names, const xmlNode* tx, Transaction t) {
  std::string remittance;
  const xmlNode* rmt = names.first(tx, "RmtInf");
  for (const xmlNode* line : names.all(rmt, "Ustrd")) {
    auto text = text_of(line);
    if (text.empty()) continue;
    if (!remittance.empty()) remittance += ' ';
    remittance += text;
  }
  t.remittance = std::move(remittance);
  for (const xmlNode* strd : names.all(rmt, "Strd")) {
    if (auto ref = names.at(strd, {"CdtrRefInf", "Ref"})) {
      t.creditor_reference = text_of(ref);
      break;
    }
  }
  t.end_to_end_id = text_of(names.at(tx, {"Refs", "EndToEndId"}));
  const xmlNode* debtor = names.at(tx, {"RltdPties", "Dbtr"});
  // From .08 on the debtor is a choice of party (Pty) or agent.
  const xmlNode* name = names.first(debtor, "Nm");
  if (!name) name = names.at(debtor, {"Pty", "Nm"});
  t.debtor_name = text_of(name);
  return t;
}

// The booked transactions of one Ntry (none for an entry that is not booked).
core::Result<std::vector<Transaction>> read_entry(const Names& names, const xmlNode* ntry,
                                                  const std::string& path) {
  const xmlNode* sts = names.first(ntry, "Sts");
  if (!sts) return fail(Error::invalid(path + "/Sts", fmt::format("{}/Sts is missing", path)));
  // Pending (PDNG) and information (INFO) entries may still change or vanish: only what the
  // bank has booked is money on the account.
  if (status_of(names, sts) != "BOOK") return std::vector<Transaction>{};

  auto amount = money_of(names.first(ntry, "Amt"), path + "/Amt");
  if (!amount) return fail(std::move(amount.error()));
  auto credit = credit_of(names.first(ntry, "CdtDbtInd"), path + "/CdtDbtInd");
  if (!credit) return fail(std::move(credit.error()));
  auto booking = date_of(names, names.first(ntry, "BookgDt"), path + "/BookgDt");
  if (!booking) return fail(std::move(booking.error()));
  std::string value_date;
  if (const xmlNode* val = names.first(ntry, "ValDt")) {
    auto date = date_of(names, val, path + "/ValDt");
    if (!date) return fail(std::move(date.error()));
    value_date = std::move(*date);
  }

  Transaction entry;
  entry.amount_cents = amount->cents;
  entry.credit = *credit;
  entry.currency = amount->currency;
  entry.booking_date = std::move(*booking);
  entry.value_date = std::move(value_date);
  entry.bank_reference = text_of(names.first(ntry, "AcctSvcrRef"));

  struct Details {
    const xmlNode* node;
    std::string path;
  };
  std::vector<Details> details;
  auto ntry_dtls = names.all(ntry, "NtryDtls");
  for (std::size_t i = 0; i < ntry_dtls.size(); ++i) {
    auto txs = names.all(ntry_dtls[i], "TxDtls");
    for (std::size_t j = 0; j < txs.size(); ++j) {
      details.push_back(
          {txs[j], fmt::format("{}/{}/{}", path, indexed("NtryDtls", i), indexed("TxDtls", j))});
    }
  }
  if (details.empty()) return std::vector<Transaction>{std::move(entry)};
  // One transaction: what the entry booked is its amount, whatever the details say about
  // instructed amounts or charges.
  if (details.size() == 1) {
    return std::vector<Transaction>{with_details(names, details.front().node, std::move(entry))};
  }
  // A batch booking: each transaction carries its own amount (TxDtls/Amt from .03 on,
  // AmtDtls/TxAmt/Amt in every version) and may carry its own direction.
  std::vector<Transaction> out;
  out.reserve(details.size());
  for (const auto& [tx, tx_path] : details) {
    Transaction t = entry;
    const xmlNode* own = names.first(tx, "Amt");
    std::string amount_path = tx_path + "/Amt";
    if (!own) {
      own = names.at(tx, {"AmtDtls", "TxAmt", "Amt"});
      if (own) amount_path = tx_path + "/AmtDtls/TxAmt/Amt";
    }
    if (!own) {
      return fail(Error::invalid(
          amount_path, fmt::format("{} is missing: each transaction of a batch booking needs its "
                                   "own amount (Amt or AmtDtls/TxAmt/Amt)",
                                   amount_path)));
    }
    auto tx_amount = money_of(own, amount_path);
    if (!tx_amount) return fail(std::move(tx_amount.error()));
    t.amount_cents = tx_amount->cents;
    t.currency = std::move(tx_amount->currency);
    if (const xmlNode* indicator = names.first(tx, "CdtDbtInd")) {
      auto tx_credit = credit_of(indicator, tx_path + "/CdtDbtInd");
      if (!tx_credit) return fail(std::move(tx_credit.error()));
      t.credit = *tx_credit;
    }
    out.push_back(with_details(names, tx, std::move(t)));
  }
  return out;
}

core::Result<Statement> read_statement(const Names& names, const xmlNode* stmt,
                                       const std::string& path) {
  Statement s;
  s.id = text_of(names.first(stmt, "Id"));
  if (s.id.empty())
    return fail(Error::invalid(path + "/Id", fmt::format("{}/Id is missing", path)));
  // An account without IBAN (Acct/Id/Othr) is read with an empty one: no account of ours
  // matches it, which is the caller's decision to report.
  s.iban = text_of(names.at(stmt, {"Acct", "Id", "IBAN"}));
  auto entries = names.all(stmt, "Ntry");
  for (std::size_t i = 0; i < entries.size(); ++i) {
    auto booked = read_entry(names, entries[i], fmt::format("{}/{}", path, indexed("Ntry", i)));
    if (!booked) return fail(std::move(booked.error()));
    for (auto& t : *booked) s.transactions.push_back(std::move(t));
  }
  return s;
}

// The namespace's version ("08" of "…camt.053.001.08"), or 0 when it is not one.
int version_of(std::string_view ns) {
  if (!ns.starts_with(kNamespacePrefix)) return 0;
  auto v = ns.substr(kNamespacePrefix.size());
  if (v.size() != 2 || v[0] < '0' || v[0] > '9' || v[1] < '0' || v[1] > '9') return 0;
  return (v[0] - '0') * 10 + (v[1] - '0');
}

}  // namespace

core::Result<std::vector<Statement>> read_camt053(std::string_view xml) {
  if (xml.empty()) return fail(Error::invalid("statement", "the document is empty"));
  if (xml.size() > kMaxDocumentSize) {
    return fail(Error::invalid("statement", fmt::format("the document is larger than {} MiB",
                                                        kMaxDocumentSize / 1024 / 1024)));
  }
  auto doc = parse(xml);
  if (!doc) return fail(std::move(doc.error()));
  const xmlNode* root = xmlDocGetRootElement(doc->get());
  std::string_view ns = root->ns ? view(root->ns->href) : std::string_view();
  if (view(root->name) != "Document" || !ns.starts_with(kNamespacePrefix)) {
    return fail(Error::invalid(
        "statement",
        fmt::format("the document is not a CAMT.053 bank statement (root element {} in "
                    "namespace {}; expected Document in {}…)",
                    quoted(view(root->name)), quoted(ns), kNamespacePrefix)));
  }
  int version = version_of(ns);
  if (version < kFirstVersion || version > kLastVersion) {
    return fail(Error::invalid(
        "statement",
        fmt::format("the CAMT.053 version {} is not supported (versions "
                    "001.{:02} to 001.{:02} are)",
                    quoted(ns.substr(kNamespacePrefix.size() - 4)), kFirstVersion, kLastVersion)));
  }
  Names names(root->ns->href);
  const xmlNode* report = names.first(root, "BkToCstmrStmt");
  if (!report) return fail(Error::invalid("BkToCstmrStmt", "the document has no BkToCstmrStmt"));
  auto stmts = names.all(report, "Stmt");
  if (stmts.empty())
    return fail(Error::invalid("Stmt", "the document's BkToCstmrStmt has no Stmt"));
  std::vector<Statement> out;
  out.reserve(stmts.size());
  for (std::size_t i = 0; i < stmts.size(); ++i) {
    auto s = read_statement(names, stmts[i], indexed("Stmt", i));
    if (!s) return fail(std::move(s.error()));
    out.push_back(std::move(*s));
  }
  return out;
}

}  // namespace mvsp::payments::camt
