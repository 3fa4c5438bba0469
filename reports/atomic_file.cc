// Atomic file writes: temporary file in the target's directory, write loop,
// fsync, fchmod, rename, directory fsync. Errors are returned as statuses
// naming the path and the failing system call; the temporary file is
// unlinked on every error path.
#include "reports/atomic_file.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <cstring>

#include "absl/strings/str_cat.h"

namespace reports {
namespace {

// Distinguishes temporary files of concurrent writers inside one process.
std::atomic<uint64_t> g_temp_counter{0};

absl::Status ErrnoStatus(const std::string& what, const std::string& path, int error) {
  std::string message = absl::StrCat(what, " ", path, ": ", std::strerror(error));
  if (error == ENOENT) return absl::NotFoundError(message);
  if (error == EACCES || error == EPERM) return absl::PermissionDeniedError(message);
  return absl::InternalError(message);
}

std::string DirectoryOf(const std::string& path) {
  const size_t slash = path.rfind('/');
  if (slash == std::string::npos) return ".";
  if (slash == 0) return "/";
  return path.substr(0, slash);
}

absl::Status WriteAll(int fd, const std::string& contents, const std::string& temp_path) {
  size_t written = 0;
  while (written < contents.size()) {
    const ssize_t n = ::write(fd, contents.data() + written, contents.size() - written);
    if (n < 0) {
      if (errno == EINTR) continue;
      return ErrnoStatus("write", temp_path, errno);
    }
    written += static_cast<size_t>(n);
  }
  return absl::OkStatus();
}

// Everything between open and close of the temporary file.
absl::Status FillTemporary(int fd, const std::string& contents, mode_t mode,
                           const std::string& temp_path) {
  if (absl::Status status = WriteAll(fd, contents, temp_path); !status.ok()) return status;
  if (::fchmod(fd, mode) != 0) return ErrnoStatus("fchmod", temp_path, errno);
  if (::fsync(fd) != 0) return ErrnoStatus("fsync", temp_path, errno);
  return absl::OkStatus();
}

// Makes a completed rename durable. Some file systems refuse fsync on a
// directory (EINVAL); the rename has happened then, so that is not an error.
absl::Status SyncDirectory(const std::string& directory) {
  const int fd = ::open(directory.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (fd < 0) return ErrnoStatus("open", directory, errno);
  const int result = ::fsync(fd);
  const int error = errno;
  ::close(fd);
  if (result != 0 && error != EINVAL && error != EROFS) return ErrnoStatus("fsync", directory, error);
  return absl::OkStatus();
}

}  // namespace

absl::Status WriteFileAtomically(const std::string& path, const std::string& contents,
                                 mode_t mode) {
  if (path.empty() || path.back() == '/') {
    return absl::InvalidArgumentError(absl::StrCat("not a file path: '", path, "'"));
  }
  const std::string temp_path =
      absl::StrCat(path, ".tmp.", ::getpid(), ".", g_temp_counter.fetch_add(1));
  const int fd = ::open(temp_path.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
  if (fd < 0) return ErrnoStatus("open", temp_path, errno);
  absl::Status status = FillTemporary(fd, contents, mode, temp_path);
  if (::close(fd) != 0 && status.ok()) status = ErrnoStatus("close", temp_path, errno);
  if (status.ok() && ::rename(temp_path.c_str(), path.c_str()) != 0) {
    status = ErrnoStatus("rename to " + path + ":", temp_path, errno);
  }
  if (!status.ok()) {
    ::unlink(temp_path.c_str());
    return status;
  }
  return SyncDirectory(DirectoryOf(path));
}

absl::StatusOr<std::string> ReadFile(const std::string& path) {
  const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) return ErrnoStatus("open", path, errno);
  std::string contents;
  char buffer[1 << 16];
  while (true) {
    const ssize_t n = ::read(fd, buffer, sizeof buffer);
    if (n == 0) break;
    if (n < 0) {
      if (errno == EINTR) continue;
      const int error = errno;
      ::close(fd);
      return ErrnoStatus("read", path, error);
    }
    contents.append(buffer, static_cast<size_t>(n));
  }
  ::close(fd);
  return contents;
}

}  // namespace reports
