#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <mvsp/core/blobs.hpp>
#include <mvsp/core/crypto.hpp>
#include <sstream>

#include "support.hpp"

namespace mvsp::core {
namespace {
namespace fs = std::filesystem;
using namespace std::chrono_literals;

class Blobs : public ::testing::Test {
 protected:
  std::string read(const BlobStore& store, const std::string& id, Status* status = nullptr) {
    std::ostringstream out;
    auto st = store.read(id, out);
    if (status) *status = st;
    return out.str();
  }
  fs::path file_of(const std::string& id) {
    return dir_.path() / "blobs" / id.substr(0, 2) / id.substr(2, 2) / id;
  }
  test::TempDir dir_;
  std::string key_ = std::string(32, 'k');
  BlobStore store_{dir_.path() / "blobs", key_};
};

TEST_F(Blobs, StoresEncryptedAndReadsBack) {
  auto ref = store_.put(std::string_view("Bescheid über die Hundesteuer"));
  EXPECT_EQ(ref.size, 30);  // "ü" is two bytes
  EXPECT_EQ(read(store_, ref.id), "Bescheid über die Hundesteuer");
  std::ifstream raw(file_of(ref.id), std::ios::binary);
  std::string on_disk((std::istreambuf_iterator<char>(raw)), {});
  EXPECT_EQ(on_disk.find("Hundesteuer"), std::string::npos) << "stored in clear";
}

TEST_F(Blobs, StreamsContentAcrossChunkBoundaries) {
  for (std::size_t size : {std::size_t{0}, std::size_t{65536}, std::size_t{65537},
                           std::size_t{3 * 65536}, std::size_t{1'000'000}}) {
    std::string content = crypto::random_bytes(size);
    auto w = store_.writer();
    for (std::size_t off = 0; off < size; off += 10'000) {
      w.write(std::string_view(content).substr(off, 10'000));
    }
    auto ref = w.commit();
    EXPECT_EQ(ref.size, static_cast<std::int64_t>(size));
    EXPECT_EQ(read(store_, ref.id), content) << size;
  }
}

TEST_F(Blobs, SameContentSameIdAndOnlyTheKeyHolderCanTell) {
  auto a = store_.put(std::string_view("same"));
  auto b = store_.put(std::string_view("same"));
  EXPECT_EQ(a.id, b.id);
  EXPECT_NE(a.id, crypto::sha256_hex("same"));
  BlobStore other(dir_.path() / "other", std::string(32, 'x'));
  EXPECT_NE(other.put(std::string_view("same")).id, a.id);
}

TEST_F(Blobs, TamperedTruncatedOrForeignFilesAreRefused) {
  auto ref = store_.put(std::string_view(crypto::random_bytes(100'000)));
  auto path = file_of(ref.id);
  {
    // Flip one bit: writing a fixed byte would change nothing when the byte was that already.
    std::fstream f(path, std::ios::in | std::ios::out | std::ios::binary);
    f.seekg(5000);
    char c = static_cast<char>(f.get());
    f.seekp(5000);
    f.put(static_cast<char>(c ^ 0x01));
  }
  Status st;
  read(store_, ref.id, &st);
  ASSERT_FALSE(st);
  EXPECT_EQ(st.error().code, ErrorCode::unavailable);

  auto ref2 = store_.put(std::string_view(crypto::random_bytes(100'000)));
  fs::resize_file(file_of(ref2.id), 70'000);
  read(store_, ref2.id, &st);
  EXPECT_FALSE(st);

  auto ref3 = store_.put(std::string_view("hello"));
  BlobStore wrong_key(dir_.path() / "blobs", std::string(32, 'w'));
  read(wrong_key, ref3.id, &st);
  EXPECT_FALSE(st);
}

// The fourth review: two files swapped on disk both decrypted (one key for the store) and
// each came back as the other document.
TEST_F(Blobs, AFileUnderAnotherIdIsRefusedBeforeAByteIsReleased) {
  auto small = store_.put(std::string_view("Bescheid A"));
  auto large = store_.put(std::string_view(crypto::random_bytes(200'000)));
  fs::rename(file_of(small.id), dir_.path() / "swap");
  fs::rename(file_of(large.id), file_of(small.id));
  fs::rename(dir_.path() / "swap", file_of(large.id));
  Status st;
  auto got = read(store_, small.id, &st);
  ASSERT_FALSE(st);
  EXPECT_EQ(st.error().code, ErrorCode::unavailable);
  EXPECT_TRUE(got.empty()) << "nothing of the other document is handed out";
  EXPECT_EQ(read(store_, large.id, &st), "");
  EXPECT_FALSE(st);
}

TEST_F(Blobs, AnAbandonedWriterLeavesNothing) {
  {
    auto w = store_.writer();
    w.write("half a document");
  }
  EXPECT_TRUE(fs::is_empty(dir_.path() / "blobs" / "tmp"));
}

TEST_F(Blobs, UnknownOrMalformedIdsAreNotFound) {
  Status st;
  read(store_, std::string(64, 'a'), &st);
  ASSERT_FALSE(st);
  EXPECT_EQ(st.error().code, ErrorCode::not_found);
  read(store_, "../../etc/passwd", &st);
  EXPECT_EQ(st.error().code, ErrorCode::not_found);
}

TEST_F(Blobs, RemoveDeletesTheFile) {
  auto ref = store_.put(std::string_view("gone soon"));
  store_.remove(ref.id);
  EXPECT_FALSE(store_.exists(ref.id));
}

TEST_F(Blobs, ReadAllChecksTheWholeContentInOnePass) {
  auto doc = std::string(crypto::random_bytes(150'000));
  auto ref = store_.put(std::string_view(doc));
  auto got = store_.read_all(ref.id);
  ASSERT_TRUE(got);
  EXPECT_EQ(*got, doc);
  auto other = store_.put(std::string_view("Bescheid B"));
  fs::rename(file_of(other.id), file_of(ref.id));  // another document under this id
  auto swapped = store_.read_all(ref.id);
  ASSERT_FALSE(swapped);
  EXPECT_EQ(swapped.error().code, ErrorCode::unavailable);
  EXPECT_EQ(store_.read_all(other.id).error().code, ErrorCode::not_found);
}

// What a sweep may take: blobs and unfinished writes from before the cutoff, by the time
// they were first written (storing the same content again does not renew it).
TEST_F(Blobs, ASweepSeesOnlyWhatWasWrittenBeforeItsCutoff) {
  auto now = std::chrono::floor<std::chrono::milliseconds>(std::chrono::system_clock::now());
  auto old = store_.put(std::string_view("old"));
  auto fresh = store_.put(std::string_view("fresh"));
  fs::last_write_time(file_of(old.id), fs::file_time_type::clock::from_sys(now - 2h));
  store_.put(std::string_view("old"));  // the same content again
  {
    std::ofstream(dir_.path() / "blobs" / "tmp" / "crashed") << "half";
    std::ofstream(dir_.path() / "blobs" / "tmp" / "writing") << "half";
  }
  fs::last_write_time(dir_.path() / "blobs" / "tmp" / "crashed",
                      fs::file_time_type::clock::from_sys(now - 2h));
  EXPECT_EQ(store_.written_before(now - 1h), std::vector<std::string>{old.id});
  EXPECT_EQ(store_.remove_unfinished_before(now - 1h), 1);
  EXPECT_FALSE(fs::exists(dir_.path() / "blobs" / "tmp" / "crashed"));
  EXPECT_TRUE(fs::exists(dir_.path() / "blobs" / "tmp" / "writing"));
  EXPECT_TRUE(store_.exists(fresh.id));
}

TEST(BlobKey, MustBe32Bytes) {
  test::TempDir dir;
  EXPECT_THROW(BlobStore(dir.path(), "short"), Failure);
}

}  // namespace
}  // namespace mvsp::core
