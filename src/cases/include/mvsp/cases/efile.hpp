#pragma once
// The hand-over of a finished Vorgang to the authority's e-file (DMS, "E-Akte"): the
// xdomea 3.0.0 message with the Vorgang's documents in one ZIP container (docs/cases.md,
// "E-file hand-over"), and the port through which a container reaches a DMS. The adapters
// (an import folder, CMIS) are in efile_targets.hpp.

#include <mvsp/core/clock.hpp>
#include <mvsp/core/error.hpp>
#include <string>
#include <string_view>
#include <vector>

namespace mvsp::cases {

// One document of the Vorgang as it goes into the e-file.
struct EfileDocument {
  // Stable across hand-overs of the same Vorgang: a UUID is taken as it is; any other id
  // becomes efile_uuid(case_id + "/document/" + id).
  std::string id;
  std::string title;     // what the document is, for the file: "Antrag", "Meldebescheinigung"
  std::string filename;  // as the applicant or the clerk named it
  std::string media_type;
  std::string content;
  core::TimePoint created_at;
  std::string kind;  // "Antrag", "Anlage", "Nachricht", "Bescheid", "Zustellnachweis"
};

// A finished Vorgang, described plainly.
struct EfileRecord {
  std::string
      case_id;  // internal key; a UUID is taken as it is, else efile_uuid("vorgang/" + case_id)
  std::string reference;     // the citizen's reference number, "MV-35CA3-4HFYVHOK"
  std::string aktenzeichen;  // the authority's file number, when it has given one
  std::string title;         // the online service's name
  std::string authority_id, authority_name;
  std::string applicant_name;
  // paper: the application came on paper and a clerk entered it (then the postal address)
  std::string source = "online";
  std::string applicant_address;         // lines joined by "\n"
  core::TimePoint opened_at, closed_at;  // closed_at at the epoch: not closed
  std::string state;                     // decided, withdrawn, …
  std::vector<EfileDocument> documents;
  std::string sender_system = "mvsp";
  // Where the DMS is to file it (xdomea "Ablageort": for an import folder its name, for a
  // DMS reached over http(s) the URL); empty leaves it to the DMS.
  std::string filing_location;
};

// The xdomea container: the message and the ZIP that carries it with the documents.
struct EfileContainer {
  std::string process_id;    // UUID of the message (xdomea ProzessID), lower case
  std::string message_type;  // "FVDaten.SGOAblegen.0605"
  std::string reference;     // the Vorgang's reference number: targets file by it
  std::string xml;           // the message, also inside the ZIP
  std::string zip_name;      // "<ProzessID>_FVDaten.SGOAblegen.0605.zip"
  std::string zip;
};

// The xdomea message a Fachverfahren files new records in a DMS with.
inline constexpr std::string_view kEfileMessageType = "FVDaten.SGOAblegen.0605";

// A UUID derived from `name`: the same name gives the same UUID on every machine and every
// run (RFC 9562 version 8, from SHA-256). For ids that must stay the same across
// hand-overs (a document, a Vorgang, a retried hand-over's ProzessID).
std::string efile_uuid(std::string_view name);
// Whether `s` is a UUID in the 8-4-4-4-12 hex form xdomea asks for.
bool is_uuid(std::string_view s);

// The xdomea 3.0.0 message FVDaten.SGOAblegen.0605 for `record` and its ZIP container.
// The same record, process id and `now` give the same bytes, so a retried hand-over sends
// the same container. invalid_input names the field: a process id that is not a UUID, an
// empty case_id, reference, title or authority_name, a reference that cannot name a folder
// (a slash, a line break), a document without id or file name,
// two documents with the same id.
core::Result<EfileContainer> make_efile_container(const EfileRecord& record,
                                                  std::string_view process_id, core::TimePoint now);

// Where containers go: a DMS behind one small port.
class EfileTarget {
 public:
  virtual ~EfileTarget() = default;
  // Hands the container over; doing it again with the same container changes nothing.
  // `unavailable` when trying again later can help (network, the DMS down or busy);
  // any other error needs a person (credentials, rights, a missing folder, a different
  // container of the same name).
  virtual core::Status deliver(const EfileContainer& container) = 0;
  // For logs and the audit: "import-folder:/srv/dms/eingang", "cmis:https://…".
  virtual std::string name() const = 0;
};

}  // namespace mvsp::cases
