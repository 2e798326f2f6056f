#pragma once
// Importing FIM data field definitions (XDatenfelder 2.0 and 3.0.0: a Stammdatenschema or
// a Datenfeldgruppe message) as a form to finish in the editor. The structure, the fields
// with their types, limits, help texts and value lists become pages and questions; what
// the form model cannot express (FIM rules, hidden and locked fields, static objects) is
// listed in the report, never dropped silently. docs/forms-xdatenfelder.md has the mapping.

#include <filesystem>
#include <functional>
#include <mvsp/core/error.hpp>
#include <mvsp/forms/form.hpp>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace mvsp::forms {

// What an import made of a file, and what it could not carry over.
struct ImportReport {
  std::string form;    // the new form's key
  int pages = 0;       // pages of the form
  int groups = 0;      // FIM Datenfeldgruppen below the root, each time one occurs
  int fields = 0;      // FIM Datenfelder, each time one occurs
  int rules = 0;       // FIM Regeln, each rule once
  int code_lists = 0;  // value lists that became options (inline or genericode), each once
  struct Unmapped {
    std::string what;    // "Regel R60000037 (MindestEineAngabe)", "Datenfeld F123 (Hinweis)"
    std::string reason;  // German, for the editor who finishes the form
  };
  std::vector<Unmapped> unmapped;
};

// {"form","pages","groups","fields","rules","codeLists","unmapped":[{"what","reason"}]}
std::string report_json(const ImportReport& report);

struct Imported {
  Form form;  // checked (check_form)
  ImportReport report;
};

// Finds a genericode code list by its URN (canonicalVersionUri, then canonicalIdentification)
// and returns the file's text; nullopt when there is none.
using CodeListSource = std::function<std::optional<std::string>(std::string_view urn)>;

// Reads an XDatenfelder file and maps it to a form. External entities, DTDs and the network
// are never used; a file with a DOCTYPE is refused. An invalid file is refused with
// ErrorCode::invalid_input: one field error per problem, its field "line N", its message a
// German reason. Code lists referenced by the file are asked of `code_list`; a select
// field whose list cannot be had becomes a text question and is reported.
core::Result<Imported> import_xdatenfelder(std::string_view xml, const CodeListSource& code_list);

// The genericode files in `folder` (*.xml, *.gc): a URN finds the file of that name, or the
// file whose CanonicalUri or CanonicalVersionUri it is. For the command line, which reads the
// code lists beside the XDatenfelder file; the folder is read on the first call.
CodeListSource code_lists_in(std::filesystem::path folder);

// The content of an XDatenfelder file: a regular file of at most 32 MiB, else nullopt (a
// device or a pipe is not read at all).
std::optional<std::string> read_xdatenfelder_file(const std::filesystem::path& path);

}  // namespace mvsp::forms
