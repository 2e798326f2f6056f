#include <fmt/format.h>
#include <sodium.h>

#include <array>
#include <fstream>
#include <istream>
#include <mvsp/core/blobs.hpp>
#include <mvsp/core/crypto.hpp>
#include <mvsp/core/log.hpp>
#include <ostream>
#include <sstream>

namespace mvsp::core {
namespace fs = std::filesystem;
namespace {

constexpr std::size_t kChunk = 64 * 1024;
constexpr std::size_t kSealedChunk = kChunk + crypto_secretstream_xchacha20poly1305_ABYTES;

const unsigned char* u8(std::string_view s) {
  return reinterpret_cast<const unsigned char*>(s.data());
}

}  // namespace

struct BlobStore::Writer::State {
  fs::path root;
  fs::path temp;
  std::ofstream out;
  crypto_secretstream_xchacha20poly1305_state stream;
  crypto_generichash_state hash;
  std::string buffer;
  std::int64_t size = 0;
  bool done = false;

  void seal(unsigned char tag) {
    std::string sealed(buffer.size() + crypto_secretstream_xchacha20poly1305_ABYTES, '\0');
    crypto_secretstream_xchacha20poly1305_push(&stream,
                                               reinterpret_cast<unsigned char*>(sealed.data()),
                                               nullptr, u8(buffer), buffer.size(), nullptr, 0, tag);
    out.write(sealed.data(), static_cast<std::streamsize>(sealed.size()));
    if (!out) throw Failure(fmt::format("cannot write blob file {}", temp.string()));
    buffer.clear();
  }
};

BlobStore::BlobStore(fs::path root, std::string_view key) : root_(std::move(root)) {
  if (key.size() != crypto_kdf_KEYBYTES) throw Failure("the blob key must be 32 bytes");
  crypto::init();
  key_ = crypto::derive_key(key, "mvspblob", 1);
  id_key_ = crypto::derive_key(key, "mvspblob", 2);
  fs::create_directories(root_ / "tmp");
}

BlobStore::~BlobStore() = default;

BlobStore::Writer::Writer(std::unique_ptr<State> state) : state_(std::move(state)) {}
BlobStore::Writer::Writer(Writer&&) noexcept = default;
BlobStore::Writer::~Writer() {
  if (state_ && !state_->done) {
    state_->out.close();
    std::error_code ec;
    fs::remove(state_->temp, ec);
  }
}

BlobStore::Writer BlobStore::writer() {
  auto st = std::make_unique<Writer::State>();
  st->root = root_;
  st->temp = root_ / "tmp" / crypto::random_token(16);
  st->out.open(st->temp, std::ios::binary | std::ios::trunc);
  if (!st->out) throw Failure(fmt::format("cannot create blob file {}", st->temp.string()));
  std::array<unsigned char, crypto_secretstream_xchacha20poly1305_HEADERBYTES> header;
  crypto_secretstream_xchacha20poly1305_init_push(&st->stream, header.data(), u8(key_));
  st->out.write(reinterpret_cast<const char*>(header.data()), header.size());
  crypto_generichash_init(&st->hash, u8(id_key_), id_key_.size(), 32);
  return Writer(std::move(st));
}

void BlobStore::Writer::write(std::string_view chunk) {
  auto& st = *state_;
  if (st.done) throw Failure("blob writer already committed");
  crypto_generichash_update(&st.hash, u8(chunk), chunk.size());
  st.size += static_cast<std::int64_t>(chunk.size());
  while (!chunk.empty()) {
    // A full buffer is sealed only when more follows: the last chunk must carry TAG_FINAL.
    if (st.buffer.size() == kChunk) st.seal(0);
    auto take = std::min(kChunk - st.buffer.size(), chunk.size());
    st.buffer.append(chunk.substr(0, take));
    chunk.remove_prefix(take);
  }
}

BlobRef BlobStore::Writer::commit() {
  auto& st = *state_;
  st.seal(crypto_secretstream_xchacha20poly1305_TAG_FINAL);
  st.out.close();
  if (!st.out) throw Failure(fmt::format("cannot write blob file {}", st.temp.string()));
  std::array<unsigned char, 32> digest;
  crypto_generichash_final(&st.hash, digest.data(), digest.size());
  BlobRef ref{crypto::to_hex({reinterpret_cast<const char*>(digest.data()), digest.size()}),
              st.size};
  fs::path target = st.root / ref.id.substr(0, 2) / ref.id.substr(2, 2) / ref.id;
  fs::create_directories(target.parent_path());
  std::error_code ec;
  if (fs::exists(target)) {
    fs::remove(st.temp, ec);  // same content stored before
  } else {
    fs::rename(st.temp, target);
  }
  st.done = true;
  return ref;
}

BlobRef BlobStore::put(std::istream& in) {
  auto w = writer();
  std::string buf(kChunk, '\0');
  while (in) {
    in.read(buf.data(), static_cast<std::streamsize>(buf.size()));
    auto n = in.gcount();
    if (n > 0) w.write(std::string_view(buf.data(), static_cast<std::size_t>(n)));
  }
  return w.commit();
}

BlobRef BlobStore::put(std::string_view content) {
  auto w = writer();
  w.write(content);
  return w.commit();
}

fs::path BlobStore::path_of(std::string_view id) const {
  std::string s(id);
  return root_ / s.substr(0, 2) / s.substr(2, 2) / s;
}

bool BlobStore::exists(std::string_view id) const {
  if (id.size() != 64 || id.find_first_not_of("0123456789abcdef") != std::string_view::npos) {
    return false;
  }
  return fs::exists(path_of(id));
}

namespace {

// Decrypts a blob file chunk by chunk and checks that its content is the one `id` names
// (the keyed hash of the plaintext); writes the plaintext to `out` when there is one.
Status read_file(const fs::path& path, std::string_view id, std::string_view key,
                 std::string_view id_key, std::ostream* out) {
  std::ifstream in(path, std::ios::binary);
  std::array<unsigned char, crypto_secretstream_xchacha20poly1305_HEADERBYTES> header;
  in.read(reinterpret_cast<char*>(header.data()), header.size());
  crypto_secretstream_xchacha20poly1305_state st;
  if (in.gcount() != static_cast<std::streamsize>(header.size()) ||
      crypto_secretstream_xchacha20poly1305_init_pull(&st, header.data(), u8(key)) != 0) {
    return fail(Error::unavailable("document unreadable", "blob header invalid"));
  }
  crypto_generichash_state hash;
  crypto_generichash_init(&hash, u8(id_key), id_key.size(), 32);
  std::string sealed(kSealedChunk, '\0');
  std::string plain(kChunk, '\0');
  for (;;) {
    in.read(sealed.data(), static_cast<std::streamsize>(sealed.size()));
    auto n = static_cast<unsigned long long>(in.gcount());
    unsigned long long plain_len = 0;
    unsigned char tag = 0;
    if (n == 0 || crypto_secretstream_xchacha20poly1305_pull(
                      &st, reinterpret_cast<unsigned char*>(plain.data()), &plain_len, &tag,
                      u8(sealed), n, nullptr, 0) != 0) {
      return fail(Error::unavailable("document unreadable",
                                     fmt::format("blob {} failed authentication", id)));
    }
    crypto_generichash_update(&hash, u8(plain), plain_len);
    bool final = tag == crypto_secretstream_xchacha20poly1305_TAG_FINAL;
    if (final) {
      if (in.peek() != std::char_traits<char>::eof()) {
        return fail(Error::unavailable("document unreadable", "data after the final chunk"));
      }
      std::array<unsigned char, 32> digest;
      crypto_generichash_final(&hash, digest.data(), digest.size());
      if (crypto::to_hex({reinterpret_cast<const char*>(digest.data()), digest.size()}) != id) {
        return fail(Error::unavailable("document unreadable",
                                       fmt::format("blob {} holds another document", id)));
      }
    }
    if (out) {
      out->write(plain.data(), static_cast<std::streamsize>(plain_len));
      if (!*out) return fail(Error::unavailable("document unreadable", "the reader stopped"));
    }
    if (final) return {};
  }
}

}  // namespace

Status BlobStore::read(std::string_view id, std::ostream& out) const {
  if (!exists(id)) return fail(Error::not_found("document not found"));
  // Checked whole before a byte is released: a file moved under another id decrypts (one
  // key per store) but is refused, and nothing of the other document is handed out. The
  // second pass checks again, so a file changed in between is cut short, not completed.
  if (auto ok = read_file(path_of(id), id, key_, id_key_, nullptr); !ok) return ok;
  return read_file(path_of(id), id, key_, id_key_, &out);
}

Result<std::string> BlobStore::read_all(std::string_view id) const {
  if (!exists(id)) return fail(Error::not_found("document not found"));
  // Nothing leaves before the end of the one pass has checked the whole content.
  std::ostringstream content;
  if (auto ok = read_file(path_of(id), id, key_, id_key_, &content); !ok) return fail(ok.error());
  return std::move(content).str();
}

namespace {

bool last_written_before(const fs::directory_entry& e, fs::file_time_type cutoff) {
  std::error_code ec;
  auto at = e.last_write_time(ec);
  return !ec && at < cutoff;
}

}  // namespace

std::vector<std::string> BlobStore::written_before(TimePoint before) const {
  auto cutoff = fs::file_time_type::clock::from_sys(before);
  std::vector<std::string> ids;
  std::error_code ec;
  for (fs::recursive_directory_iterator it(root_, ec), end; !ec && it != end; it.increment(ec)) {
    if (it.depth() == 0 && it->path().filename() == "tmp") {
      it.disable_recursion_pending();
      continue;
    }
    auto name = it->path().filename().string();
    if (it.depth() == 2 && it->is_regular_file() && exists(name) &&
        last_written_before(*it, cutoff)) {
      ids.push_back(std::move(name));
    }
  }
  if (ec) log::warn("blobs.walk_failed", {{"root", root_.string()}, {"error", ec.message()}});
  return ids;
}

int BlobStore::remove_unfinished_before(TimePoint before) {
  auto cutoff = fs::file_time_type::clock::from_sys(before);
  int removed = 0;
  std::error_code ec;
  for (fs::directory_iterator it(root_ / "tmp", ec), end; !ec && it != end; it.increment(ec)) {
    std::error_code gone;
    if (it->is_regular_file() && last_written_before(*it, cutoff) && fs::remove(it->path(), gone)) {
      ++removed;
    }
  }
  return removed;
}

void BlobStore::remove(std::string_view id) {
  if (!exists(id)) return;
  std::error_code ec;
  fs::remove(path_of(id), ec);
}

}  // namespace mvsp::core
