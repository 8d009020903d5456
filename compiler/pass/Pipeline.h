// The compiler's pipeline in one place: which passes run, in which order, by default.
#pragma once
#include <string_view>

namespace bitnetc {

// A --passes= list, e.g. "cse,dce".
std::string_view defaultPipeline();

}  // namespace bitnetc
