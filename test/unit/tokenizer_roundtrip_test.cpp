// decode(encode(s)) == s for seeded random valid UTF-8: ASCII, whitespace runs, tabs, CRLF,
// combining marks, CJK, emoji and other 4-byte characters, digits.
#include "runtime/tokenizer/Utf8.h"
#include "tokenizer_test_util.h"

#include <gtest/gtest.h>
#include <random>

using bitnetc::Tokenizer;
using bitnetc::test::tokenizerFixture;

namespace {
std::string randomText(std::mt19937& rng) {
  static const std::vector<std::pair<char32_t, char32_t>> ranges = {
      {0x20, 0x7E}, {0x61, 0x7A}, {0x30, 0x39}, {0xA0, 0xFF}, {0x300, 0x36F}, {0x391, 0x3C9},
      {0x410, 0x44F}, {0x621, 0x64A}, {0x905, 0x939}, {0x3041, 0x3096}, {0x4E00, 0x9FA5},
      {0xAC00, 0xD7A3}, {0x2000, 0x206F}, {0x1F300, 0x1F64F}, {0x20000, 0x2A6D6}, {0x10000, 0x1FFFF},
      {0xE000, 0xF8FF}, {0xFFF0, 0xFFFD}, {0x80, 0x9F}};
  static const std::vector<std::string> fragments = {" ", "  ", "\t", "\n", "\r\n", "\r", " \n ",
                                                     "'s", "'LL", "123456", "\u00a0", "\u200d"};
  std::string text;
  int parts = std::uniform_int_distribution<int>(0, 20)(rng);
  for (int i = 0; i < parts; ++i) {
    if (rng() % 3 == 0) {
      text += fragments[rng() % fragments.size()];
      continue;
    }
    auto [lo, hi] = ranges[rng() % ranges.size()];
    int run = 1 + static_cast<int>(rng() % 5);
    for (int j = 0; j < run; ++j)
      bitnetc::utf8::append(text, lo + static_cast<char32_t>(rng() % (hi - lo + 1)));
  }
  return text;
}
}  // namespace

TEST(TokenizerRoundTrip, RandomUtf8) {
  for (const char* fixture : {"gpt2-style.json", "llama3-style.json"}) {
    Tokenizer t = Tokenizer::fromFile(tokenizerFixture(fixture));
    std::mt19937 rng(1234);
    for (int i = 0; i < 3000; ++i) {
      std::string text = randomText(rng);
      ASSERT_NO_THROW(bitnetc::utf8::validate(text, "generated text"));
      ASSERT_EQ(t.decode(t.encode(text)), text) << fixture << " case " << i;
    }
  }
}

TEST(TokenizerRoundTrip, TokenTextConcatenatesToTheText) {
  // Streaming: the bytes of successive tokens add up to the text, even when a token holds
  // only part of a character.
  Tokenizer t = Tokenizer::fromFile(tokenizerFixture("llama3-style.json"));
  std::string text = "naïve 日本 😀\r\n\tx";
  std::string streamed;
  for (int32_t id : t.encode(text)) streamed += t.tokenText(id);
  EXPECT_EQ(streamed, text);
}

TEST(TokenizerUtf8, LossyDecodingReplacesMaximalSubparts) {
  using bitnetc::utf8::decodeLossy;
  EXPECT_EQ(decodeLossy("a\xF0\x9F\x98"), "a\uFFFD");        // truncated 4-byte: one U+FFFD
  EXPECT_EQ(decodeLossy("\xC0\xAF"), "\uFFFD\uFFFD");         // overlong: two
  EXPECT_EQ(decodeLossy("\xED\xA0\x80"), "\uFFFD\uFFFD\uFFFD");  // surrogate: three
  EXPECT_EQ(decodeLossy("\xE2\x82\xAC"), "€");
}
