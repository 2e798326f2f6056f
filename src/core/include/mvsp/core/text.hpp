#pragma once
// Text helpers every component needs for matching what people type.

#include <string>
#include <string_view>

namespace mvsp::core {

// Lower case for comparing names: ASCII and the German capitals Ä, Ö, Ü (UTF-8);
// everything else stays as it is.
std::string fold_case(std::string_view s);

}  // namespace mvsp::core
