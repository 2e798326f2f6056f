// The import-folder adapter of the e-file hand-over: the ZIP lands in a directory a DMS
// watches. A watcher may pick a file up the moment its name appears, so the name appears
// only when every byte is on disk: written under a hidden name, flushed, then renamed.
#include <fcntl.h>
#include <fmt/format.h>
#include <stdio.h>
#include <sys/stat.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <cstring>
#include <expected>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <mvsp/cases/efile_targets.hpp>
#include <optional>

namespace mvsp::cases {
namespace {

std::string why(int err) {
  return std::strerror(err);
}

// Why `dir` cannot take files from this process (for the person, and the detail for the
// log), or nothing when it can.
struct Unusable {
  std::string message;
  std::string detail;
};
std::optional<Unusable> unusable_directory(const std::string& dir) {
  struct stat st {};
  if (::stat(dir.c_str(), &st) != 0) {
    int err = errno;
    return Unusable{err == ENOENT ? fmt::format("Der Importordner {} existiert nicht.", dir)
                                  : fmt::format("Der Importordner {} ist nicht lesbar.", dir),
                    fmt::format("stat {}: {}", dir, why(err))};
  }
  if (!S_ISDIR(st.st_mode)) {
    return Unusable{fmt::format("Der Importordner {} ist kein Verzeichnis.", dir),
                    fmt::format("{} is not a directory", dir)};
  }
  if (::access(dir.c_str(), W_OK | X_OK) != 0) {
    return Unusable{fmt::format("In den Importordner {} darf die Plattform nicht schreiben.", dir),
                    fmt::format("access {}: {}", dir, why(errno))};
  }
  return std::nullopt;
}

bool same_content(const std::filesystem::path& path, const std::string& content) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return false;
  std::string existing{std::istreambuf_iterator<char>(in), {}};
  return existing == content;
}

class ImportFolderTarget final : public EfileTarget {
 public:
  explicit ImportFolderTarget(ImportFolderOptions options) : options_(std::move(options)) {}

  std::string name() const override { return "import-folder:" + options_.directory; }

  core::Status deliver(const EfileContainer& container) override {
    if (!plain_name(container.zip_name)) {
      return core::fail(
          core::Error::invalid("zip_name", "Der Name des Containers taugt nicht als Dateiname."));
    }
    // A share that is not mounted right now may be back later: worth a retry.
    if (auto reason = unusable_directory(options_.directory)) {
      return core::fail(core::Error::unavailable(reason->message, reason->detail));
    }
    std::filesystem::path dir(options_.directory);
    auto final_path = dir / container.zip_name;
    std::error_code ec;
    if (std::filesystem::exists(final_path, ec)) return already_there(final_path, container);

    auto temp = write_temporary(dir, container);
    if (!temp) return core::fail(std::move(temp.error()));
    auto placed = place(*temp, final_path);
    if (!placed) {
      ::unlink(temp->c_str());
      if (placed.error() == EEXIST) return already_there(final_path, container);
      return core::fail(
          core::Error::unavailable("Der Container konnte nicht in den Importordner gelegt werden.",
                                   fmt::format("rename {} to {}: {}", temp->string(),
                                               final_path.string(), why(placed.error()))));
    }
    // The rename is durable only once the directory itself is flushed.
    if (int d = ::open(options_.directory.c_str(), O_RDONLY | O_DIRECTORY); d >= 0) {
      ::fsync(d);
      ::close(d);
    }
    return {};
  }

 private:
  static bool plain_name(const std::string& name) {
    return !name.empty() && name.find('/') == std::string::npos && name != "." && name != ".." &&
           !name.starts_with('.');
  }

  static core::Status already_there(const std::filesystem::path& path,
                                    const EfileContainer& container) {
    if (same_content(path, container.zip)) return {};
    return core::fail(core::Error::conflict(fmt::format(
        "Im Importordner liegt schon eine andere Datei namens {}; sie wird nicht überschrieben.",
        container.zip_name)));
  }

  // The content under a hidden name beside the final one (the same file system, so the
  // rename is atomic), flushed to disk, with mode 0640 whatever the umask.
  core::Result<std::filesystem::path> write_temporary(const std::filesystem::path& dir,
                                                      const EfileContainer& container) {
    static std::atomic<unsigned> counter{0};
    for (int attempt = 0; attempt < 100; ++attempt) {
      auto temp = dir / fmt::format(".{}.{}.{}.part", container.zip_name, ::getpid(), counter++);
      int fd = ::open(temp.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0640);
      if (fd < 0 && errno == EEXIST) continue;
      if (fd < 0) {
        return core::fail(
            core::Error::unavailable("Der Importordner der E-Akte nimmt keine Datei an.",
                                     fmt::format("create {}: {}", temp.string(), why(errno))));
      }
      auto failed = [&](const char* step) {
        int err = errno;
        ::close(fd);
        ::unlink(temp.c_str());
        return core::fail(core::Error::unavailable(
            "Der Container konnte nicht in den Importordner geschrieben werden.",
            fmt::format("{} {}: {}", step, temp.string(), why(err))));
      };
      if (::fchmod(fd, 0640) != 0) return failed("chmod");
      const char* p = container.zip.data();
      std::size_t left = container.zip.size();
      while (left > 0) {
        auto n = ::write(fd, p, left);
        if (n < 0 && errno == EINTR) continue;
        if (n <= 0) return failed("write");
        p += n;
        left -= static_cast<std::size_t>(n);
      }
      if (::fsync(fd) != 0) return failed("fsync");
      if (::close(fd) != 0) {
        int err = errno;
        ::unlink(temp.c_str());
        return core::fail(core::Error::unavailable(
            "Der Container konnte nicht in den Importordner geschrieben werden.",
            fmt::format("close {}: {}", temp.string(), why(err))));
      }
      return temp;
    }
    return core::fail(core::Error::unavailable("Der Importordner der E-Akte nimmt keine Datei an.",
                                               "no free temporary name"));
  }

  // Moves `from` to `to` unless `to` exists; the errno on failure (EEXIST when it does).
  // renameat2 with RENAME_NOREPLACE does that in one step; file systems without it (some
  // network shares) get link + unlink, which fails on an existing name just as well.
  static std::expected<void, int> place(const std::filesystem::path& from,
                                        const std::filesystem::path& to) {
    if (::renameat2(AT_FDCWD, from.c_str(), AT_FDCWD, to.c_str(), RENAME_NOREPLACE) == 0) return {};
    if (errno != EINVAL && errno != ENOSYS && errno != ENOTSUP) return std::unexpected(errno);
    if (::link(from.c_str(), to.c_str()) != 0) return std::unexpected(errno);
    ::unlink(from.c_str());
    return {};
  }

  ImportFolderOptions options_;
};

}  // namespace

core::Result<std::unique_ptr<EfileTarget>> make_import_folder_target(ImportFolderOptions options) {
  if (options.directory.empty()) {
    return core::fail(core::Error::invalid("directory", "Der Importordner fehlt."));
  }
  if (auto reason = unusable_directory(options.directory)) {
    auto e = core::Error::invalid("directory", reason->message);
    e.detail = reason->detail;
    return core::fail(std::move(e));
  }
  return std::make_unique<ImportFolderTarget>(std::move(options));
}

}  // namespace mvsp::cases
