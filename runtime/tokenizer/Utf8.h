// UTF-8 helpers for the tokenizer: strict validation of input text, code point iteration, and
// the lossy decoding that Rust's String::from_utf8_lossy (and WHATWG TextDecoder) perform.
#pragma once
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

namespace bitnetc::utf8 {

// Length of the valid UTF-8 sequence starting at text[pos], or 0 if it is not valid there
// (truncated, overlong, surrogate, above U+10FFFF, stray continuation byte).
size_t validSequenceLength(std::string_view text, size_t pos);

// Throws Error "invalid UTF-8 in <what> at byte offset N (byte 0xXX)" on the first bad byte.
void validate(std::string_view text, const char* what);

// Length in bytes of the (already validated) character starting with byte `lead`.
inline size_t charLength(unsigned char lead) {
  return lead < 0x80 ? 1 : lead < 0xE0 ? 2 : lead < 0xF0 ? 3 : 4;
}

// Decodes the (already validated) character at text[pos].
char32_t decodeAt(std::string_view text, size_t pos);

void append(std::string& out, char32_t codePoint);

// Replaces each maximal invalid subsequence by U+FFFD, as Rust's from_utf8_lossy does.
std::string decodeLossy(std::string_view bytes);

}  // namespace bitnetc::utf8
