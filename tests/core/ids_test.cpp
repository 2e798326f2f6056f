#include <gtest/gtest.h>

#include <mvsp/core/crypto.hpp>
#include <mvsp/core/ids.hpp>
#include <regex>
#include <set>

namespace mvsp::core {
namespace {

TEST(PublicId, HasTheReadableShape) {
  crypto::init();
  RandomIdGenerator ids;
  auto id = ids.public_id("MV");
  EXPECT_TRUE(std::regex_match(id, std::regex("MV-[0-9A-HJKMNP-TV-Z]{5}-[0-9A-HJKMNP-TV-Z]{8}")))
      << id;
  EXPECT_EQ(parse_public_id("MV", id), id);
}

TEST(PublicId, ReadsWhatPeopleTypeAndRefusesTypos) {
  auto id = make_public_id("MV", "35CA34HFYVH0");
  // lower case, spaces, and the letter O typed for the digit 0
  EXPECT_EQ(parse_public_id("MV", "mv 35ca3 4hfyvho" + id.substr(id.size() - 1)), id);
  auto with_o = id;
  with_o[4] = 'O';  // "3" -> "O" is a different symbol: the check must catch it
  EXPECT_FALSE(parse_public_id("MV", with_o));
  EXPECT_FALSE(parse_public_id("MV", "MV-35CA3-4HFYV"));
  EXPECT_FALSE(parse_public_id("XX", id));
}

TEST(PublicId, CheckSymbolCatchesEverySingleSubstitution) {
  auto id = make_public_id("MV", "ABCDE0123456");
  constexpr std::string_view kAlphabet = "0123456789ABCDEFGHJKMNPQRSTVWXYZ";
  for (std::size_t pos = 3; pos < id.size(); ++pos) {
    if (id[pos] == '-') continue;
    for (char c : kAlphabet) {
      if (c == id[pos]) continue;
      auto typo = id;
      typo[pos] = c;
      EXPECT_FALSE(parse_public_id("MV", typo)) << typo;
    }
  }
}

TEST(PublicId, CheckSymbolCatchesAdjacentSwaps) {
  auto id = make_public_id("MV", "7K3QX9P2MZ4T");
  std::string payload = "7K3QX9P2MZ4T";
  int caught = 0, swaps = 0;
  for (std::size_t i = 0; i + 1 < payload.size(); ++i) {
    if (payload[i] == payload[i + 1]) continue;
    auto swapped = payload;
    std::swap(swapped[i], swapped[i + 1]);
    ++swaps;
    auto typo = make_public_id("MV", swapped).substr(0, 16) + id.substr(16);
    if (!parse_public_id("MV", typo)) ++caught;
  }
  EXPECT_EQ(caught, swaps);
}

TEST(InternalKey, IsRandomAndOpaque) {
  crypto::init();
  RandomIdGenerator ids;
  std::set<std::string> seen;
  for (int i = 0; i < 1000; ++i) {
    auto k = ids.key();
    ASSERT_EQ(k.size(), 26u);
    ASSERT_TRUE(seen.insert(k).second);
  }
}

}  // namespace
}  // namespace mvsp::core
