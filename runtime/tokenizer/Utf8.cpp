#include "runtime/tokenizer/Utf8.h"

#include "compiler/support/Error.h"

#include <cstdio>

namespace bitnetc::utf8 {

namespace {
// Allowed range of the second byte for each lead byte (Unicode Table 3-7), which excludes
// overlongs, surrogates and code points above U+10FFFF.
bool secondByteOk(unsigned char lead, unsigned char b) {
  switch (lead) {
    case 0xE0: return b >= 0xA0 && b <= 0xBF;
    case 0xED: return b >= 0x80 && b <= 0x9F;
    case 0xF0: return b >= 0x90 && b <= 0xBF;
    case 0xF4: return b >= 0x80 && b <= 0x8F;
    default: return b >= 0x80 && b <= 0xBF;
  }
}
bool isContinuation(unsigned char b) { return (b & 0xC0) == 0x80; }

size_t expectedLength(unsigned char lead) {
  if (lead < 0x80) return 1;
  if (lead >= 0xC2 && lead <= 0xDF) return 2;
  if (lead >= 0xE0 && lead <= 0xEF) return 3;
  if (lead >= 0xF0 && lead <= 0xF4) return 4;
  return 0;
}

// Number of bytes of a (possibly truncated) sequence that are a valid prefix: the "maximal
// subpart" that is replaced by one U+FFFD in lossy decoding. At least 1.
size_t maximalSubpart(std::string_view text, size_t pos) {
  auto lead = static_cast<unsigned char>(text[pos]);
  size_t need = expectedLength(lead);
  if (need == 0) return 1;
  size_t n = 1;
  if (pos + 1 < text.size() && secondByteOk(lead, static_cast<unsigned char>(text[pos + 1]))) {
    n = 2;
    while (n < need && pos + n < text.size() && isContinuation(static_cast<unsigned char>(text[pos + n])))
      ++n;
  }
  return n;
}
}  // namespace

size_t validSequenceLength(std::string_view text, size_t pos) {
  auto lead = static_cast<unsigned char>(text[pos]);
  size_t need = expectedLength(lead);
  if (need <= 1) return need;
  if (pos + need > text.size()) return 0;
  if (!secondByteOk(lead, static_cast<unsigned char>(text[pos + 1]))) return 0;
  for (size_t i = 2; i < need; ++i)
    if (!isContinuation(static_cast<unsigned char>(text[pos + i]))) return 0;
  return need;
}

void validate(std::string_view text, const char* what) {
  size_t pos = 0;
  while (pos < text.size()) {
    if (static_cast<unsigned char>(text[pos]) < 0x80) {  // fast path for ASCII
      ++pos;
      continue;
    }
    size_t n = validSequenceLength(text, pos);
    if (n == 0) {
      char hex[8];
      std::snprintf(hex, sizeof hex, "0x%02X", static_cast<unsigned char>(text[pos]));
      fail("invalid UTF-8 in ", what, " at byte offset ", pos, " (byte ", hex, ")");
    }
    pos += n;
  }
}

char32_t decodeAt(std::string_view text, size_t pos) {
  auto b = [&](size_t i) { return static_cast<char32_t>(static_cast<unsigned char>(text[pos + i])); };
  switch (charLength(static_cast<unsigned char>(text[pos]))) {
    case 1: return b(0);
    case 2: return ((b(0) & 0x1F) << 6) | (b(1) & 0x3F);
    case 3: return ((b(0) & 0x0F) << 12) | ((b(1) & 0x3F) << 6) | (b(2) & 0x3F);
    default: return ((b(0) & 0x07) << 18) | ((b(1) & 0x3F) << 12) | ((b(2) & 0x3F) << 6) | (b(3) & 0x3F);
  }
}

void append(std::string& out, char32_t c) {
  if (c < 0x80) {
    out += static_cast<char>(c);
  } else if (c < 0x800) {
    out += static_cast<char>(0xC0 | (c >> 6));
    out += static_cast<char>(0x80 | (c & 0x3F));
  } else if (c < 0x10000) {
    out += static_cast<char>(0xE0 | (c >> 12));
    out += static_cast<char>(0x80 | ((c >> 6) & 0x3F));
    out += static_cast<char>(0x80 | (c & 0x3F));
  } else {
    out += static_cast<char>(0xF0 | (c >> 18));
    out += static_cast<char>(0x80 | ((c >> 12) & 0x3F));
    out += static_cast<char>(0x80 | ((c >> 6) & 0x3F));
    out += static_cast<char>(0x80 | (c & 0x3F));
  }
}

std::string decodeLossy(std::string_view bytes) {
  std::string out;
  out.reserve(bytes.size());
  size_t pos = 0;
  while (pos < bytes.size()) {
    size_t n = validSequenceLength(bytes, pos);
    if (n > 0) {
      out.append(bytes.substr(pos, n));
      pos += n;
    } else {
      out += "\xEF\xBF\xBD";  // U+FFFD
      pos += maximalSubpart(bytes, pos);
    }
  }
  return out;
}

}  // namespace bitnetc::utf8
