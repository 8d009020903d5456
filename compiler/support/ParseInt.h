// Command-line numbers: the whole text must be the number (no trailing junk), and the error
// names the flag.
#pragma once
#include <cstdint>
#include <exception>
#include <string>

#include "compiler/support/Error.h"

namespace bitnetc {

// A positive integer given for `flag`; throws "FLAG expects a positive integer, got 'TEXT'".
inline int64_t parsePositiveInt(const std::string& flag, const std::string& text) {
  size_t used = 0;
  int64_t v = -1;
  try {
    v = std::stoll(text, &used);
  } catch (const std::exception&) {
    used = 0;
  }
  if (used != text.size() || v <= 0) fail(flag, " expects a positive integer, got '", text, "'");
  return v;
}

}  // namespace bitnetc
