// Added tokens: matched in the raw text before pre-tokenization (non-normalized ones first),
// longest match at the leftmost position, with lstrip / rstrip / single_word.
// added-tokens.json: <|endoftext|> 274, "<|end" 275, [MASK] 276 (lstrip, rstrip), "word" 277,
// "New York" 278 (both non-special, normalized), <sep> 279 (rstrip).
#include "tokenizer_test_util.h"

#include <gtest/gtest.h>

using bitnetc::Tokenizer;
using bitnetc::test::loadFixtureJson;
using bitnetc::test::tokenizerFixture;
using bitnetc::test::tokenizerFrom;
using Ids = std::vector<int32_t>;

TEST(TokenizerAddedTokens, LongestMatchWins) {
  Tokenizer t = Tokenizer::fromFile(tokenizerFixture("added-tokens.json"));
  EXPECT_EQ(t.encode("<|endoftext|>"), (Ids{274}));
  EXPECT_EQ(t.encode("<|end of"), (Ids{275, 220, 78, 69}));
  EXPECT_EQ(t.encode("<|endoftext|><|end"), (Ids{274, 275}));
}

TEST(TokenizerAddedTokens, LstripAndRstripSwallowWhitespace) {
  Tokenizer t = Tokenizer::fromFile(tokenizerFixture("added-tokens.json"));
  EXPECT_EQ(t.encode("a [MASK] b"), (Ids{64, 276, 65}));
  EXPECT_EQ(t.encode("a \t[MASK]\n\nb"), (Ids{64, 276, 65}));
  EXPECT_EQ(t.encode("<sep>  x"), (Ids{279, 87}));
  EXPECT_EQ(t.encode("x <sep>"), (Ids{87, 220, 279}));  // no lstrip on <sep>
}

TEST(TokenizerAddedTokens, MatchInsideWordsUnlessSingleWord) {
  Tokenizer t = Tokenizer::fromFile(tokenizerFixture("added-tokens.json"));
  EXPECT_EQ(t.encode("swordfish"), (Ids{82, 277, 69, 72, 82, 71}));
  nlohmann::json j = loadFixtureJson("added-tokens.json");
  j["added_tokens"][3]["single_word"] = true;
  Tokenizer single = tokenizerFrom(j);
  EXPECT_EQ(single.encode("swordfish"), (Ids{82, 86, 263, 67, 69, 72, 82, 71}));  // "or" merges
  EXPECT_EQ(single.encode("a word here"), (Ids{64, 220, 277, 220, 257, 81, 68}));
  EXPECT_EQ(single.encode("word_"), (Ids{86, 263, 67, 62}));  // '_' is a word character
  EXPECT_EQ(single.encode("(word)"), (Ids{7, 277, 8}));
}

TEST(TokenizerAddedTokens, NonNormalizedTokensAreMatchedFirst) {
  nlohmann::json j = loadFixtureJson("gpt2-style.json");
  j["added_tokens"] = nlohmann::json::array(
      {{{"id", 275}, {"content", "ab"}, {"special", false}, {"normalized", true}},
       {{"id", 276}, {"content", "bc"}, {"special", true}, {"normalized", false}}});
  Tokenizer t = tokenizerFrom(j);
  EXPECT_EQ(t.encode("abc"), (Ids{64, 276}));  // "bc" wins although "ab" starts further left
  EXPECT_EQ(t.encode("abx"), (Ids{275, 87}));
}

TEST(TokenizerAddedTokens, NonSpecialTokensAreKeptBySkipSpecial) {
  Tokenizer t = Tokenizer::fromFile(tokenizerFixture("added-tokens.json"));
  EXPECT_EQ(t.decode({278, 274, 276}, /*skipSpecial=*/true), "New York");
  EXPECT_EQ(t.decode({278, 274, 276}), "New York<|endoftext|>[MASK]");
}
