// A bound on the nesting depth of JSON text, checked before parsing. nlohmann parses any depth,
// but its dump() (used in our error messages) recurses: a file nested a million levels deep
// overflowed the stack. No real config, header or tokenizer nests more than a few levels.
#pragma once
#include <string>
#include <string_view>

#include "compiler/support/Error.h"

namespace bitnetc {

inline constexpr int kMaxJsonNesting = 256;

// Throws Error naming `where` if brackets (outside strings) nest deeper than kMaxJsonNesting.
inline void checkJsonNesting(std::string_view text, const std::string& where) {
  int depth = 0;
  bool inString = false, escaped = false;
  for (char c : text) {
    if (inString) {
      if (escaped) escaped = false;
      else if (c == '\\') escaped = true;
      else if (c == '"') inString = false;
    } else if (c == '"') {
      inString = true;
    } else if (c == '[' || c == '{') {
      if (++depth > kMaxJsonNesting) fail(where, ": JSON nested deeper than ", kMaxJsonNesting, " levels");
    } else if (c == ']' || c == '}') {
      --depth;
    }
  }
}

}  // namespace bitnetc
