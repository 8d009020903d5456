#include "runtime/tokenizer/ByteLevel.h"

#include "runtime/tokenizer/Utf8.h"

#include <array>

namespace bitnetc::bytelevel {

namespace {
bool isPrintableLatin1(int b) {
  return (b >= '!' && b <= '~') || (b >= 0xA1 && b <= 0xAC) || (b >= 0xAE && b <= 0xFF);
}

struct Tables {
  std::array<char32_t, 256> charOf{};
  std::array<std::string, 256> utf8Of;
  std::array<int, 256> orderIndex{};
  Tables() {
    int next = 0;
    for (int b = 0; b < 256; ++b)
      if (!isPrintableLatin1(b)) charOf[b] = 256 + next++;
      else charOf[b] = static_cast<char32_t>(b);
    for (int b = 0; b < 256; ++b) utf8::append(utf8Of[b], charOf[b]);
    int index = 0;
    for (int b = 0; b < 256; ++b)
      if (isPrintableLatin1(b)) orderIndex[b] = index++;
    for (int b = 0; b < 256; ++b)
      if (!isPrintableLatin1(b)) orderIndex[b] = index++;
  }
};

const Tables& tables() {
  static const Tables t;
  return t;
}

// Inverse map: code point -> byte, for code points below 0x144 (the largest mapped one).
int byteForChar(char32_t c) {
  if (c < 256) return isPrintableLatin1(static_cast<int>(c)) ? static_cast<int>(c) : -1;
  if (c >= 256 + 68) return -1;
  int n = static_cast<int>(c) - 256;
  for (int b = 0; b < 256; ++b)
    if (!isPrintableLatin1(b) && n-- == 0) return b;
  return -1;
}

struct Inverse {
  std::array<int, 256 + 68> byteOf{};
  Inverse() {
    for (char32_t c = 0; c < byteOf.size(); ++c) byteOf[c] = byteForChar(c);
  }
};
const Inverse& inverse() {
  static const Inverse t;
  return t;
}
}  // namespace

char32_t charForByte(uint8_t b) { return tables().charOf[b]; }
const std::string& utf8ForByte(uint8_t b) { return tables().utf8Of[b]; }
int byteOrderIndex(uint8_t b) { return tables().orderIndex[b]; }

void encode(std::string_view text, std::string& out) {
  const auto& t = tables();
  for (char c : text) out += t.utf8Of[static_cast<uint8_t>(c)];
}

std::optional<std::string> decodeToken(std::string_view token) {
  const auto& inv = inverse();
  std::string bytes;
  bytes.reserve(token.size());
  size_t pos = 0;
  while (pos < token.size()) {
    size_t n = utf8::validSequenceLength(token, pos);
    if (n == 0) return std::nullopt;
    char32_t c = utf8::decodeAt(token, pos);
    if (c >= inv.byteOf.size() || inv.byteOf[c] < 0) return std::nullopt;
    bytes += static_cast<char>(inv.byteOf[c]);
    pos += n;
  }
  return bytes;
}

}  // namespace bitnetc::bytelevel
