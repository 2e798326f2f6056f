#pragma once
// The DMS adapters behind cases::EfileTarget (efile.hpp): an import folder that a DMS
// watches (d.3 and others pick ZIPs up from a share), and a CMIS 1.1 repository
// reached over its browser binding. docs/cases.md, "E-file hand-over", says how to set
// them up.

#include <memory>
#include <mvsp/cases/efile.hpp>
#include <mvsp/core/error.hpp>
#include <mvsp/web/client.hpp>
#include <string>

namespace mvsp::cases {

struct ImportFolderOptions {
  std::string directory;  // an existing directory this process may write to
};

// Writes each container into `directory` under its zip_name, atomically: first under a
// hidden temporary name in the same directory, flushed to disk, then renamed into place
// without replacing anything, so the DMS never sees half a file. The file gets mode 0640.
// A container whose file is there already with the same bytes counts as delivered (a
// retried job); one with other bytes under that name is a conflict and is not written.
// A directory that is missing or not writable at delivery time is `unavailable` (a share
// that is not mounted).
//
// Refuses (invalid_input, field "directory") a directory that does not exist, is not a
// directory or that this process may not write to.
core::Result<std::unique_ptr<EfileTarget>> make_import_folder_target(ImportFolderOptions options);

struct CmisOptions {
  // The browser binding URL of the repository, e.g.
  // "https://dms.example.org/cmis/browser/repo1" (the repository info answers there).
  std::string repository_url;
  // The folder under which each Vorgang gets its own folder named after its reference
  // number, e.g. "/Eingang/Online-Antraege". It must exist.
  std::string folder_path;
  std::string user;
  std::string password;
};

// Files each container in the CMIS repository: finds or creates the folder
// "<folder_path>/<container.reference>" and uploads the ZIP into it as a cmis:document named
// zip_name. If a document of that name is in the folder already (the hand-over ran twice),
// it succeeds without a second upload. Requests carry HTTP Basic credentials, sent by
// `fetch`. Errors: unauthenticated for 401, forbidden for 403, not_found for 404 (the
// repository or the target folder), conflict for an object of that name that is not a
// folder; unavailable (retry later) for a network error, a timeout, 429 and 5xx.
//
// Refuses (invalid_input) a repository URL that is not http(s), a folder path that does
// not start with "/", and a missing user.
core::Result<std::unique_ptr<EfileTarget>> make_cmis_target(CmisOptions options,
                                                            web::HttpFetch fetch);

}  // namespace mvsp::cases
