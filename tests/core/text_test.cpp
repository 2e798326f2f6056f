#include <gtest/gtest.h>

#include <mvsp/core/text.hpp>

namespace mvsp::core {
namespace {

TEST(Text, FoldsCaseIncludingGermanCapitals) {
  EXPECT_EQ(fold_case("Ückeritz"), "ückeritz");
  EXPECT_EQ(fold_case("ÄRGER ÖL"), "ärger öl");
  EXPECT_EQ(fold_case("Straße"), "straße");
  EXPECT_EQ(fold_case("Bad Doberan-Süd"), "bad doberan-süd");
  EXPECT_EQ(fold_case(""), "");
}

}  // namespace
}  // namespace mvsp::core
