#include "zip.hpp"

#include <zip.h>

#include <chrono>
#include <ctime>
#include <mvsp/core/error.hpp>

namespace mvsp::cases {
namespace {

// libzip in memory. Its failures here are out of memory or a broken library: the
// archive cannot be made at all, which is "cannot finish", not an expected outcome.
class ZipWriter {
 public:
  ZipWriter() {
    zip_error_init(&error_);
    buffer_ = zip_source_buffer_create(nullptr, 0, 0, &error_);
    if (!buffer_) fail("cannot create a buffer");
    // The buffer outlives the archive: zip_close writes into it, and we read it afterwards.
    zip_source_keep(buffer_);
    archive_ = zip_open_from_source(buffer_, ZIP_CREATE | ZIP_TRUNCATE, &error_);
    if (!archive_) fail("cannot open an archive");
  }
  ~ZipWriter() {
    if (archive_) zip_discard(archive_);
    if (buffer_) zip_source_free(buffer_);
    zip_error_fini(&error_);
  }
  ZipWriter(const ZipWriter&) = delete;
  ZipWriter& operator=(const ZipWriter&) = delete;

  // `content` must live until finish().
  void add(const std::string& name, std::string_view content, std::time_t mtime) {
    auto* source = zip_source_buffer(archive_, content.data(), content.size(), 0);
    if (!source) fail_archive("cannot take the content of " + name);
    auto index = zip_file_add(archive_, name.c_str(), source, ZIP_FL_ENC_UTF_8);
    if (index < 0) {
      zip_source_free(source);
      fail_archive("cannot add " + name);
    }
    auto i = static_cast<zip_uint64_t>(index);
    // A fixed time and mode keep the bytes the same for the same input; 0644 so that an
    // unpacking DMS can read what it unpacked.
    if (zip_file_set_mtime(archive_, i, mtime, 0) < 0 ||
        zip_file_set_external_attributes(archive_, i, 0, ZIP_OPSYS_UNIX, 0100644u << 16) < 0) {
      fail_archive("cannot set the attributes of " + name);
    }
  }

  std::string finish() {
    if (zip_close(archive_) < 0) fail_archive("cannot write the archive");
    archive_ = nullptr;
    if (zip_source_open(buffer_) < 0) fail("cannot read the archive back");
    zip_source_seek(buffer_, 0, SEEK_END);
    auto size = zip_source_tell(buffer_);
    zip_source_seek(buffer_, 0, SEEK_SET);
    std::string out(size > 0 ? static_cast<std::size_t>(size) : 0, '\0');
    auto read = zip_source_read(buffer_, out.data(), out.size());
    zip_source_close(buffer_);
    if (read < 0 || static_cast<std::size_t>(read) != out.size())
      fail("cannot read the archive back");
    return out;
  }

 private:
  [[noreturn]] void fail(const std::string& what) {
    throw core::Failure("libzip " + what + ": " + zip_error_strerror(&error_));
  }
  [[noreturn]] void fail_archive(const std::string& what) {
    throw core::Failure("libzip " + what + ": " + zip_strerror(archive_));
  }

  zip_error_t error_{};
  zip_source_t* buffer_ = nullptr;
  zip_t* archive_ = nullptr;
};

}  // namespace

std::string zip_of(const std::vector<ZipEntry>& entries, core::TimePoint at) {
  ZipWriter zip;
  auto mtime = static_cast<std::time_t>(
      std::chrono::duration_cast<std::chrono::seconds>(at.time_since_epoch()).count());
  for (const auto& e : entries) zip.add(e.name, e.content, mtime);
  return zip.finish();
}

}  // namespace mvsp::cases
