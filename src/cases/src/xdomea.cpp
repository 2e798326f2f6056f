// The xdomea 3.0.0 message and its ZIP container for the e-file hand-over.
//
// Which message: xdomea's group "Fachverfahrensdaten austauschen" (06xx) is the one for a
// Fachverfahren talking to a DMS, and in it FVDaten.SGOAblegen.0605 hands "new records
// created in a Fachverfahren to the DMS for filing" (its schema documentation) — a finished
// Vorgang with its documents. The neighbours do not fit: SGOErstellen.0604 creates a record
// for further work in the DMS (and may open it on a clerk's screen), Abgabe.Abgabe.0401 moves
// responsibility between authorities, Geschaeftsgang.0201 sends documents round for
// co-signing, Information.0101 is for information only.
//
// The container follows the specification's naming rule (xdomea 3.0.0, section on file
// names): the ZIP and the message are "<ProzessID>_<Nachrichtentyp>.zip|.xml", each primary
// document "<UUID>.<ext>". The message is the index of the container: every file in the ZIP
// is named in it (Primaerdokument/Dateiname, with the applicant's own name beside it in
// DateinameOriginal). There is no second, human-readable index, because the specification
// names no further files in a container and importers compare the files with the message.
#include <fmt/format.h>
#include <libxml/tree.h>

#include <algorithm>
#include <array>
#include <cctype>
#include <ctime>
#include <mutex>
#include <mvsp/cases/efile.hpp>
#include <mvsp/core/crypto.hpp>
#include <mvsp/core/text.hpp>
#include <optional>
#include <set>

#include "zip.hpp"

namespace mvsp::cases {
namespace {

constexpr const char* kNamespace = "urn:xoev-de:xdomea:schema:3.0.0";
// The specification asks for the schema of the message group in the root's schemaLocation.
constexpr const char* kSchemaLocation =
    "urn:xoev-de:xdomea:schema:3.0.0 xdomea-Nachrichten-FachverfahrensdatenAustauschen.xsd";
constexpr const char* kXsi = "http://www.w3.org/2001/XMLSchema-instance";
constexpr const char* kMessageCode = "0605";
constexpr const char* kMessageName = "FVDaten.SGOAblegen";
// The code list versions the 3.0.0 schema fixes (Nachrichtentyp 2.0, Medium 1.0, Datentyp
// 1.1) or leaves to the sender (Dateiformat: the version published with 3.0.0 is 1.0).
constexpr const char* kDateiformatVersion = "1.0";
constexpr const char* kMediumElectronic = "001";
constexpr const char* kMediumHybrid = "002";

const xmlChar* x(const char* s) {
  return reinterpret_cast<const xmlChar*>(s);
}

// Text as XML 1.0 can carry it. A stray byte the platform accepted earlier must not stop a
// hand-over, and libxml2 would write it as a character reference that no parser reads
// back: broken UTF-8 becomes U+FFFD, control characters other than tab and line breaks a
// space, and the non-characters U+FFFE and U+FFFF U+FFFD.
std::string xml_text(std::string_view s) {
  auto text = core::repair_utf8(s);
  std::string out;
  out.reserve(text.size());
  for (std::size_t i = 0; i < text.size(); ++i) {
    auto c = static_cast<unsigned char>(text[i]);
    if (c < 0x20 && c != '\t' && c != '\n' && c != '\r') {
      out += ' ';
    } else if (c == 0xEF && i + 2 < text.size() &&
               static_cast<unsigned char>(text[i + 1]) == 0xBF &&
               (static_cast<unsigned char>(text[i + 2]) == 0xBE ||
                static_cast<unsigned char>(text[i + 2]) == 0xBF)) {
      out += "\xEF\xBF\xBD";
      i += 2;
    } else {
      out += static_cast<char>(c);
    }
  }
  return out;
}

// libxml2 is initialised once, before threads share it (its own advice).
xmlDocPtr new_document() {
  static std::once_flag once;
  std::call_once(once, [] { xmlInitParser(); });
  return xmlNewDoc(x("1.0"));
}

// A document tree in the xdomea namespace with the prefix "xdomea", which the
// specification makes mandatory.
class XmlWriter {
 public:
  explicit XmlWriter(const char* root_name) : doc_(new_document()) {
    if (!doc_) throw core::Failure("libxml2 cannot allocate a document");
    root_ = xmlNewDocNode(doc_, nullptr, x(root_name), nullptr);
    xmlDocSetRootElement(doc_, root_);
    ns_ = xmlNewNs(root_, x(kNamespace), x("xdomea"));
    xmlSetNs(root_, ns_);
    auto* xsi = xmlNewNs(root_, x(kXsi), x("xsi"));
    xmlNewNsProp(root_, xsi, x("schemaLocation"), x(kSchemaLocation));
  }
  ~XmlWriter() { xmlFreeDoc(doc_); }
  XmlWriter(const XmlWriter&) = delete;
  XmlWriter& operator=(const XmlWriter&) = delete;

  xmlNodePtr root() const { return root_; }

  xmlNodePtr element(xmlNodePtr parent, const char* name) {
    return xmlNewChild(parent, ns_, x(name), nullptr);
  }
  // xmlNewTextChild escapes the content; xmlNewChild would read entities in it.
  xmlNodePtr text(xmlNodePtr parent, const char* name, std::string_view value) {
    auto clean = xml_text(value);
    return xmlNewTextChild(parent, ns_, x(name), x(clean.c_str()));
  }
  void text_if(xmlNodePtr parent, const char* name, std::string_view value) {
    if (!value.empty()) text(parent, name, value);
  }
  // A code of an xdomea code list: <code> and <name> are unqualified (form="unqualified"
  // in xoev-code), so they are made without a namespace rather than inheriting xdomea's.
  void code(xmlNodePtr parent, const char* name, const char* list_uri, const char* list_version,
            std::string_view value, std::string_view value_name = {}) {
    auto* node = element(parent, name);
    if (list_uri) xmlNewProp(node, x("listURI"), x(list_uri));
    if (list_version) xmlNewProp(node, x("listVersionID"), x(list_version));
    unqualified(node, "code", value);
    if (!value_name.empty()) unqualified(node, "name", value_name);
  }

  std::string dump() const {
    xmlChar* mem = nullptr;
    int size = 0;
    xmlDocDumpFormatMemoryEnc(doc_, &mem, &size, "UTF-8", 1);
    if (!mem) throw core::Failure("libxml2 cannot write the xdomea message");
    std::string out(reinterpret_cast<const char*>(mem), static_cast<std::size_t>(size));
    xmlFree(mem);
    return out;
  }

 private:
  void unqualified(xmlNodePtr parent, const char* name, std::string_view value) {
    auto* child = xmlNewDocNode(doc_, nullptr, x(name), nullptr);
    xmlAddChild(parent, child);
    auto clean = xml_text(value);
    xmlNodeAddContentLen(child, x(clean.c_str()), static_cast<int>(clean.size()));
  }

  xmlDocPtr doc_;
  xmlNodePtr root_ = nullptr;
  xmlNsPtr ns_ = nullptr;
};

std::string lower(std::string_view s) {
  std::string out(s);
  for (auto& c : out) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return out;
}

// The Dateiformat code list (urn:xoev-de:xdomea:codeliste:dateiformat, version 1.0) by
// file extension; "100" is "Sonstiges".
std::string_view format_code(std::string_view ext) {
  static constexpr std::array<std::pair<std::string_view, std::string_view>, 27> kCodes{{
      {"bmp", "001"},  {"csv", "002"}, {"doc", "003"},  {"eml", "006"},  {"htm", "007"},
      {"html", "008"}, {"jpe", "009"}, {"jpeg", "010"}, {"jpg", "011"},  {"msg", "012"},
      {"odp", "013"},  {"ods", "014"}, {"odt", "015"},  {"pdf", "018"},  {"png", "019"},
      {"ppt", "020"},  {"ps", "021"},  {"rtf", "022"},  {"tif", "023"},  {"tiff", "024"},
      {"xls", "028"},  {"xml", "030"}, {"xsd", "031"},  {"docx", "035"}, {"xlsx", "036"},
      {"pptx", "037"}, {"txt", "045"},
  }};
  for (const auto& [e, code] : kCodes) {
    if (e == ext) return code;
  }
  return "100";
}

std::string_view extension_of_media_type(std::string_view media_type) {
  static constexpr std::array<std::pair<std::string_view, std::string_view>, 14> kTypes{{
      {"application/pdf", "pdf"},
      {"image/png", "png"},
      {"image/jpeg", "jpg"},
      {"image/tiff", "tif"},
      {"image/bmp", "bmp"},
      {"text/plain", "txt"},
      {"text/csv", "csv"},
      {"text/html", "html"},
      {"application/xml", "xml"},
      {"text/xml", "xml"},
      {"message/rfc822", "eml"},
      {"application/msword", "doc"},
      {"application/vnd.oasis.opendocument.text", "odt"},
      {"application/vnd.openxmlformats-officedocument.wordprocessingml.document", "docx"},
  }};
  auto type = lower(media_type.substr(0, media_type.find(';')));
  for (const auto& [t, ext] : kTypes) {
    if (t == type) return ext;
  }
  return "bin";
}

// The extension of the file in the container: the applicant's own when it is a plain one
// ("PDF" becomes "pdf"), else the media type's.
std::string extension_for(const EfileDocument& d) {
  auto dot = d.filename.rfind('.');
  if (dot != std::string::npos && dot + 1 < d.filename.size() && d.filename.size() - dot <= 11) {
    auto ext = lower(std::string_view(d.filename).substr(dot + 1));
    bool plain = std::all_of(ext.begin(), ext.end(), [](char c) {
      return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9');
    });
    if (plain) return ext;
  }
  return std::string(extension_of_media_type(d.media_type));
}

std::string uuid_or_derived(std::string_view id, std::string_view name) {
  return is_uuid(id) ? lower(id) : efile_uuid(name);
}

std::string day(core::TimePoint t) {
  return core::format_day(core::berlin_day(t));
}

bool is_set(core::TimePoint t) {
  return t.time_since_epoch().count() != 0;
}

// One named value in the Vorgang's application-specific metadata.
void field(XmlWriter& w, xmlNodePtr parent, const char* name, const char* description,
           const char* type_code, std::string_view value) {
  auto* f = w.element(parent, "Feld");
  w.text(f, "Name", name);
  w.text(f, "Beschreibung", description);
  w.code(f, "Datentyp", "urn:xoev-de:xdomea:codeliste:datentyp", "1.1", type_code);
  w.text(f, "Wert", value);
}

void contact(XmlWriter& w, xmlNodePtr parent, const char* name, const EfileRecord& r) {
  auto* k = w.element(parent, name);
  auto* institution = w.element(k, "Institution");
  w.text(institution, "Name", r.authority_name);
}

struct PlannedDocument {
  const EfileDocument* source;
  std::string uuid;
  std::string file_name;  // in the container
  std::string extension;
};

std::string message_xml(const EfileRecord& r, const std::string& process_id,
                        const std::vector<PlannedDocument>& docs, core::TimePoint now) {
  XmlWriter w(std::string(kEfileMessageType).c_str());
  auto* head = w.element(w.root(), "Kopf");
  w.text(head, "ProzessID", process_id);
  w.code(head, "Nachrichtentyp", "urn:xoev-de:xdomea:codeliste:nachrichtentyp", "2.0", kMessageCode,
         kMessageName);
  w.text(head, "Erstellungszeitpunkt", core::format_utc_seconds(now));
  // The Fachverfahren and the DMS belong to the same authority: it sends and receives.
  contact(w, head, "Absender", r);
  contact(w, head, "Empfaenger", r);
  auto* system = w.element(head, "SendendesSystem");
  w.text(system, "InstanzID", r.sender_system);
  w.text(system, "Produktname", "mvsp");
  w.text(head, "Hinweis",
         fmt::format("Übergabe des abgeschlossenen Vorgangs {} zur Ablage in der E-Akte",
                     r.reference));
  // No receipt is asked for: an import folder cannot send one, and the hand-over job knows
  // from the target whether the container arrived. The import receipt is fixed to 1.
  w.text(head, "Empfangsbestaetigung", "0");
  w.text(head, "Importbestaetigung", "1");
  w.text(head, "Erstellerkennung", r.sender_system);
  w.text(head, "Stapel", "0");

  auto* item = w.element(w.root(), "SchriftgutobjektZumAblegen");
  w.text(item, "FachverfahrenObjektID", r.reference);
  auto* object = w.element(item, "Schriftgutobjekt");
  auto* v = w.element(object, "Vorgang");
  auto* id = w.element(v, "Identifikation");
  w.text(id, "ID", uuid_or_derived(r.case_id, "vorgang/" + r.case_id));
  auto* meta = w.element(v, "AllgemeineMetadaten");
  w.text(meta, "Betreff", r.title);
  w.text_if(meta, "Kennzeichen", r.aktenzeichen);
  w.text(meta, "Federfuehrung", r.authority_name);
  // a paper application is kept as the paper and its scan: hybrid
  bool paper = r.source == "paper";
  std::string kind = paper ? "Papierantrag" : "Online-Antrag";
  w.text(meta, "Bemerkung",
         r.applicant_name.empty()
             ? fmt::format("{} {}", kind, r.reference)
             : fmt::format("{} {} von {}", kind, r.reference, r.applicant_name));
  w.code(meta, "Medium", "urn:xoev-de:xdomea:codeliste:medium", "1.0",
         paper ? kMediumHybrid : kMediumElectronic);
  w.text(v, "Typ", kind);
  if (is_set(r.closed_at)) {
    w.text(v, "ZdA", "1");
    w.text(v, "ZdADatum", day(r.closed_at));
  }
  if (is_set(r.opened_at) || is_set(r.closed_at)) {
    auto* period = w.element(v, "Laufzeit");
    if (is_set(r.opened_at)) w.text(period, "Beginn", day(r.opened_at));
    if (is_set(r.closed_at)) w.text(period, "Ende", day(r.closed_at));
  }
  for (std::size_t i = 0; i < docs.size(); ++i) {
    const auto& d = *docs[i].source;
    auto* doc = w.element(v, "Dokument");
    auto* did = w.element(doc, "Identifikation");
    w.text(did, "ID", docs[i].uuid);
    w.text(did, "NummerImUebergeordnetenContainer", std::to_string(i + 1));
    auto* dmeta = w.element(doc, "AllgemeineMetadaten");
    w.text(dmeta, "Betreff", d.title.empty() ? d.filename : d.title);
    w.code(dmeta, "Medium", "urn:xoev-de:xdomea:codeliste:medium", "1.0", kMediumElectronic);
    if (is_set(d.created_at)) w.text(doc, "DatumDesSchreibens", day(d.created_at));
    w.text_if(doc, "Typ", d.kind);
    auto* version = w.element(doc, "Version");
    w.text(version, "Nummer", "1");
    auto* format = w.element(version, "Format");
    auto code = format_code(docs[i].extension);
    w.code(format, "Name", "urn:xoev-de:xdomea:codeliste:dateiformat", kDateiformatVersion, code);
    if (code == "100")
      w.text(format, "SonstigerName", d.media_type.empty() ? docs[i].extension : d.media_type);
    // The format's own version (PDF 1.7, …) is not known here; the element is required.
    w.text(format, "Version", "");
    auto* primary = w.element(format, "Primaerdokument");
    w.text(primary, "Dateiname", docs[i].file_name);
    w.text(primary, "DateinameOriginal", d.filename);
    if (is_set(d.created_at))
      w.text(primary, "DatumUhrzeit", core::format_utc_seconds(d.created_at));
  }
  auto* extension = w.element(v, "AnwendungsspezifischeErweiterung");
  w.text(extension, "Kennung", "urn:mvsp:efile:vorgang");
  w.text(extension, "Name", "mvsp Vorgang");
  w.text(extension, "Beschreibung", "Angaben der Serviceplattform zum Antrag");
  w.text(extension, "Versionsnummer", "1");
  field(w, extension, "Vorgangsnummer", "Die Vorgangsnummer des Online-Antrags", "038",
        r.reference);
  if (!r.applicant_name.empty()) {
    field(w, extension, "Antragsteller", "Name der antragstellenden Person oder Organisation",
          "038", r.applicant_name);
  }
  if (!r.applicant_address.empty()) {
    std::string address;
    for (char ch : r.applicant_address)
      address += ch == '\n' ? std::string(", ") : std::string(1, ch);
    field(w, extension, "Anschrift", "Postanschrift der antragstellenden Person (Papierantrag)",
          "038", address);
  }
  if (!r.state.empty()) {
    field(w, extension, "Status", "Stand des Vorgangs bei der Übergabe", "038", r.state);
  }
  if (!r.authority_id.empty()) {
    field(w, extension, "Behoerde", "Kennung der zuständigen Stelle in der Serviceplattform", "038",
          r.authority_id);
  }
  if (is_set(r.opened_at)) {
    field(w, extension, "Eingang", "Eingang des Antrags", "006",
          core::format_utc_seconds(r.opened_at));
  }
  if (is_set(r.closed_at)) {
    field(w, extension, "Abschluss", "Abschluss des Vorgangs", "006",
          core::format_utc_seconds(r.closed_at));
  }
  w.text_if(item, "Ablageort", r.filing_location);
  return w.dump();
}

}  // namespace

std::string efile_uuid(std::string_view name) {
  auto hash = core::crypto::sha256(std::string("urn:mvsp:efile:") + std::string(name));
  // RFC 9562 version 8 (custom): the version in the high nibble of byte 6, the variant
  // (binary 10) in the top bits of byte 8.
  hash[6] = static_cast<char>((static_cast<unsigned char>(hash[6]) & 0x0F) | 0x80);
  hash[8] = static_cast<char>((static_cast<unsigned char>(hash[8]) & 0x3F) | 0x80);
  auto hex = core::crypto::to_hex(hash.substr(0, 16));
  return fmt::format("{}-{}-{}-{}-{}", hex.substr(0, 8), hex.substr(8, 4), hex.substr(12, 4),
                     hex.substr(16, 4), hex.substr(20, 12));
}

bool is_uuid(std::string_view s) {
  if (s.size() != 36) return false;
  for (std::size_t i = 0; i < s.size(); ++i) {
    if (i == 8 || i == 13 || i == 18 || i == 23) {
      if (s[i] != '-') return false;
    } else if (!std::isxdigit(static_cast<unsigned char>(s[i]))) {
      return false;
    }
  }
  return true;
}

core::Result<EfileContainer> make_efile_container(const EfileRecord& record,
                                                  std::string_view process_id,
                                                  core::TimePoint now) {
  std::optional<core::Error> error;
  auto refuse = [&error](std::string field, std::string message) {
    if (error) {
      error->and_field(std::move(field), std::move(message));
    } else {
      error = core::Error::invalid(std::move(field), std::move(message));
    }
  };
  if (!is_uuid(process_id)) refuse("process_id", "Die ProzessID muss eine UUID sein.");
  if (record.case_id.empty()) refuse("case_id", "Der Vorgang braucht seine Kennung.");
  if (record.reference.empty()) {
    refuse("reference", "Der Vorgang braucht seine Vorgangsnummer.");
  } else if (!core::is_plain_filename(record.reference)) {
    // Targets name a folder after it.
    refuse("reference", "Die Vorgangsnummer muss als Ordnername taugen.");
  }
  if (record.title.empty()) refuse("title", "Der Vorgang braucht einen Betreff.");
  if (record.authority_name.empty()) {
    refuse("authority_name", "Der Vorgang braucht die zuständige Stelle.");
  }
  if (record.sender_system.empty()) refuse("sender_system", "Das sendende System fehlt.");

  std::vector<PlannedDocument> docs;
  std::set<std::string> uuids;
  for (std::size_t i = 0; i < record.documents.size(); ++i) {
    const auto& d = record.documents[i];
    auto path = fmt::format("documents[{}]", i);
    if (d.id.empty()) refuse(path + ".id", "Das Dokument braucht eine Kennung.");
    if (d.filename.empty()) refuse(path + ".filename", "Das Dokument braucht einen Dateinamen.");
    auto uuid = uuid_or_derived(d.id, record.case_id + "/document/" + d.id);
    if (!d.id.empty() && !uuids.insert(uuid).second) {
      refuse(path + ".id", "Zwei Dokumente haben dieselbe Kennung.");
    }
    auto ext = extension_for(d);
    docs.push_back({&d, uuid, uuid + "." + ext, ext});
  }
  if (error) return core::fail(std::move(*error));

  EfileContainer c;
  c.process_id = lower(process_id);
  c.message_type = std::string(kEfileMessageType);
  c.reference = record.reference;
  c.xml = message_xml(record, c.process_id, docs, now);
  auto stem = c.process_id + "_" + c.message_type;
  c.zip_name = stem + ".zip";

  std::vector<ZipEntry> entries{{stem + ".xml", c.xml}};
  for (const auto& d : docs) entries.push_back({d.file_name, d.source->content});
  c.zip = zip_of(entries, now);
  return c;
}

}  // namespace mvsp::cases
