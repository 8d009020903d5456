// Encoding and decoding with the hand-made fixtures; expected ids worked out by hand from
// test/unit/Inputs/tokenizer/make_fixtures.py (byte tokens in GPT-2 order: printable ASCII c is
// c - 33, 'Ġ' (space) 220, 'Ċ' (\n) 198, 'č' (\r) 201, 'ĉ' (\t) 197; merge k creates 256 + k).
#include "runtime/tokenizer/ByteLevel.h"
#include "tokenizer_test_util.h"

#include <gtest/gtest.h>
#include <thread>

using bitnetc::Tokenizer;
using bitnetc::test::loadFixtureJson;
using bitnetc::test::tokenizerFixture;
using bitnetc::test::tokenizerFrom;
using Ids = std::vector<int32_t>;

namespace {
int32_t byteId(uint8_t b) { return bitnetc::bytelevel::byteOrderIndex(b); }
}  // namespace

TEST(TokenizerByteLevel, GptOrderOfByteTokens) {
  EXPECT_EQ(byteId('!'), 0);
  EXPECT_EQ(byteId('a'), 64);
  EXPECT_EQ(byteId(' '), 220);
  EXPECT_EQ(byteId('\n'), 198);
  EXPECT_EQ(bitnetc::bytelevel::utf8ForByte(' '), "Ġ");
  EXPECT_EQ(bitnetc::bytelevel::utf8ForByte('\n'), "Ċ");
  EXPECT_EQ(bitnetc::bytelevel::decodeToken("ĠworldĊ").value(), " world\n");
  EXPECT_FALSE(bitnetc::bytelevel::decodeToken("a b").has_value());  // ' ' itself is not mapped
}

// GPT-2 merges: 0 Ġt, 1 he, 2 Ġthe, 3 in, 4 Ġa, 5 er, 6 ll, 7 or, 8 Ġw, 9 Ġwor, 10 ld, 11 Ġworld,
// 12 ĠĠ, 13 12, 14 's, 15 He, 16 Hell, 17 Hello; <|endoftext|> is 274.
TEST(TokenizerGpt2Style, HandComputedIds) {
  Tokenizer t = Tokenizer::fromFile(tokenizerFixture("gpt2-style.json"));
  // "Hello": ll(6) first, then He(15), Hell(16), Hello(17). " world": or, Ġw, Ġwor, ld, Ġworld.
  EXPECT_EQ(t.encode("Hello world"), (Ids{273, 267}));
  EXPECT_EQ(t.encode("the"), (Ids{83, 257}));  // no "t he" merge without the space
  EXPECT_EQ(t.encode(" the"), (Ids{258}));
  EXPECT_EQ(t.encode("it's"), (Ids{72, 83, 270}));
  EXPECT_EQ(t.encode("IT'S"), (Ids{40, 51, 6, 50}));  // GPT-2's contractions are lower case only
  EXPECT_EQ(t.encode("12345"), (Ids{269, 18, 19, 20}));  // one \p{N}+ piece
  EXPECT_EQ(t.encode("a   b"), (Ids{64, 268, 220, 65}));  // \s+(?!\S) leaves one space to " b"
  EXPECT_EQ(t.encode("x\n"), (Ids{87, 198}));
  EXPECT_EQ(t.encode("\t"), (Ids{197}));
  EXPECT_EQ(t.encode("a<|endoftext|>b"), (Ids{64, 274, 65}));
  EXPECT_EQ(t.encode(""), Ids{});
  EXPECT_EQ(t.vocabSize(), 275);
  EXPECT_EQ(t.tokenId("Ġworld"), 267);
  EXPECT_EQ(t.tokenId("<|endoftext|>"), 274);
  EXPECT_EQ(t.tokenId("nope"), -1);
}

TEST(TokenizerGpt2Style, AddPrefixSpace) {
  nlohmann::json j = loadFixtureJson("gpt2-style.json");
  j["pre_tokenizer"]["add_prefix_space"] = true;
  Tokenizer t = tokenizerFrom(j);
  EXPECT_EQ(t.encode("the"), (Ids{258}));
  EXPECT_EQ(t.encode(" the"), (Ids{258}));  // already starts with a space
  // Every text segment between added tokens gets its own prefix space, as in Rust.
  EXPECT_EQ(t.encode("the<|endoftext|>the"), (Ids{258, 274, 258}));
}

TEST(TokenizerGpt2Style, ByteLevelWithoutRegexKeepsWholeSegment) {
  nlohmann::json j = loadFixtureJson("gpt2-style.json");
  j["pre_tokenizer"]["use_regex"] = false;
  Tokenizer t = tokenizerFrom(j);
  // One pre-token "ĠtheĠthe": Ġt, he, Ġt, he, then Ġthe twice.
  EXPECT_EQ(t.encode(" the the"), (Ids{258, 258}));
}

// Llama 3 merges: 0 ĠĠ, 1 Ġt, 2 he, 3 Ġthe, 4 in, 5 er, 6 12, 7 123, 8 's, 9 Ġa, 10 ll, 11 ĊĊ,
// 12 Ġh, 13 Ġhe, 14 lo; "Ġhello" 271 has no merge path; specials 272..275.
TEST(TokenizerLlama3Style, HandComputedIds) {
  Tokenizer t = Tokenizer::fromFile(tokenizerFixture("llama3-style.json"));
  EXPECT_EQ(t.encode(" hello"), (Ids{271}));  // ignore_merges: the pre-token is in the vocab
  EXPECT_EQ(t.encode("it's"), (Ids{72, 83, 264}));
  EXPECT_EQ(t.encode("IT'S"), (Ids{40, 51, 6, 50}));  // (?i:'s) splits "'S" off; no such merge
  EXPECT_EQ(t.encode("12345"), (Ids{263, 19, 20}));  // \p{N}{1,3}: "123" "45"
  EXPECT_EQ(t.encode("a\n\nb"), (Ids{64, 267, 65}));
  EXPECT_EQ(t.encode("x\r\ny"), (Ids{87, 201, 198, 88}));
  EXPECT_EQ(t.encode("<|begin_of_text|>Hi"), (Ids{272, 39, 72}));
  EXPECT_EQ(t.encode("  the"), (Ids{220, 259}));
  EXPECT_EQ(t.vocabSize(), 276);
}

TEST(TokenizerLlama3Style, MergesWithoutIgnoreMerges) {
  nlohmann::json j = loadFixtureJson("llama3-style.json");
  j["model"]["ignore_merges"] = false;
  Tokenizer t = tokenizerFrom(j);
  // Ġ h e l l o: he(2) first, so neither Ġh(12) nor later Ġhe (a merge of Ġh + e) applies;
  // then ll(10); lo(14) no longer has an 'l' to its left.
  EXPECT_EQ(t.encode(" hello"), (Ids{220, 258, 266, 78}));
}

TEST(TokenizerBpe, LeftmostPairWinsAmongEqualRanks) {
  nlohmann::json j = loadFixtureJson("gpt2-style.json");
  j["model"]["merges"] = nlohmann::json::array({"a a"});
  j["model"]["vocab"]["aa"] = 275;
  Tokenizer t = tokenizerFrom(j);
  EXPECT_EQ(t.encode("aaa"), (Ids{275, 64}));
  EXPECT_EQ(t.encode("aaaa"), (Ids{275, 275}));
  EXPECT_EQ(t.encode("aaaaa"), (Ids{275, 275, 64}));
}

TEST(TokenizerBpe, UnkTokenForCharactersOutsideTheVocab) {
  nlohmann::json j = loadFixtureJson("gpt2-style.json");
  j["model"]["vocab"].erase("Ã");  // byte 0xC3, the lead byte of "é" (C3 A9)
  j["model"]["unk_token"] = "?";
  EXPECT_EQ(tokenizerFrom(j).encode("é"), (Ids{30, byteId(0xA9)}));  // '?' is 63 - 33
  j["model"]["vocab"].erase("©");  // byte 0xA9
  EXPECT_EQ(tokenizerFrom(j).encode("é"), (Ids{30, 30}));
  j["model"]["fuse_unk"] = true;
  EXPECT_EQ(tokenizerFrom(j).encode("é"), (Ids{30}));
}

TEST(TokenizerDecode, TextAddedTokensAndPartialCharacters) {
  Tokenizer t = Tokenizer::fromFile(tokenizerFixture("gpt2-style.json"));
  EXPECT_EQ(t.decode({273, 267}), "Hello world");
  EXPECT_EQ(t.decode({273, 274, 267}), "Hello<|endoftext|> world");
  EXPECT_EQ(t.decode({273, 274, 267}, /*skipSpecial=*/true), "Hello world");
  EXPECT_EQ(t.decode({}), "");
  // "é" is C3 A9: alone, each byte is an invalid sequence and becomes U+FFFD.
  EXPECT_EQ(t.decode({byteId(0xC3), byteId(0xA9)}), "é");
  EXPECT_EQ(t.decode({byteId(0xC3)}), "\uFFFD");
  EXPECT_EQ(t.decode({byteId(0xC3), 64}), "\uFFFDa");
  // "€" is E2 82 AC: a truncated prefix is one U+FFFD (maximal subpart), as in Rust.
  EXPECT_EQ(t.decode({byteId(0xE2), byteId(0x82), 64}), "\uFFFDa");
  EXPECT_EQ(t.tokenText(byteId(0xC3)), "\xC3");
  EXPECT_EQ(t.tokenText(267), " world");
  EXPECT_EQ(t.tokenString(267), "Ġworld");
  EXPECT_EQ(t.tokenText(274), "<|endoftext|>");
  EXPECT_TRUE(t.isSpecial(274));
  EXPECT_FALSE(t.isSpecial(273));
}

TEST(TokenizerDecode, NullDecoderJoinsTokensWithSpaces) {
  nlohmann::json j = loadFixtureJson("gpt2-style.json");
  j["decoder"] = nullptr;
  EXPECT_EQ(tokenizerFrom(j).decode({273, 267}), "Hello Ġworld");
}

TEST(TokenizerDecode, SequenceOfOneByteLevelDecoder) {
  nlohmann::json j = loadFixtureJson("gpt2-style.json");
  j["decoder"] = {{"type", "Sequence"}, {"decoders", nlohmann::json::array({j["decoder"]})}};
  EXPECT_EQ(tokenizerFrom(j).decode({273, 267}), "Hello world");
}

TEST(TokenizerThreads, ConcurrentEncodesAgree) {
  Tokenizer t = Tokenizer::fromFile(tokenizerFixture("llama3-style.json"));
  std::string text;
  for (int i = 0; i < 200; ++i) text += "word" + std::to_string(i) + " the hello, it's\n";
  Ids expected = t.encode(text);
  std::vector<Ids> results(4);
  std::vector<std::thread> threads;
  for (auto& r : results) threads.emplace_back([&] { r = t.encode(text); });
  for (auto& th : threads) th.join();
  for (const auto& r : results) EXPECT_EQ(r, expected);
}
