// Atomic file writes for reports. A report file is either absent, the old
// version or the complete new version, never a prefix: the contents go to a
// temporary file next to the target ("<path>.tmp.<pid>.<n>", same directory
// so the rename stays on one file system), are fsynced, the file gets its
// mode, and a rename() puts it in place; the directory is fsynced afterwards
// so the rename itself survives a power cut. On any error the temporary file
// is removed and the target is left untouched.
#pragma once

#include <sys/types.h>

#include <string>

#include "absl/status/status.h"
#include "absl/status/statusor.h"

namespace reports {

// Writes `contents` to `path` atomically with permission bits `mode` (set
// exactly, independent of the umask: 0755 for scripts). The directory of
// `path` must exist. Safe to call from several threads at once.
absl::Status WriteFileAtomically(const std::string& path, const std::string& contents,
                                 mode_t mode = 0644);

// Reads a whole file. kNotFound when it does not exist.
absl::StatusOr<std::string> ReadFile(const std::string& path);

}  // namespace reports
