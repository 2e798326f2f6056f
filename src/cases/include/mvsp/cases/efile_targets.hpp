#pragma once
// The DMS adapters behind cases::EfileTarget (efile.hpp): an import folder that a DMS
// watches (d.3 and others pick ZIPs up from a share), and a CMIS 1.1 repository
// reached over its browser binding. docs/cases.md, "E-file hand-over", says how to set
// them up.

#include <memory>
#include <mvsp/cases/efile.hpp>
#include <mvsp/core/error.hpp>
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

}  // namespace mvsp::cases
