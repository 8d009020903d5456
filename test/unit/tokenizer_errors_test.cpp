// Every unsupported feature or defect of a tokenizer.json gives an Error naming it (one test
// each), and so do invalid UTF-8 input and unknown ids.
#include "compiler/support/Error.h"
#include "tokenizer_test_util.h"

#include <functional>
#include <gtest/gtest.h>

using bitnetc::Tokenizer;
using bitnetc::test::loadFixtureJson;
using bitnetc::test::tokenizerFixture;
using bitnetc::test::tokenizerFrom;
using json = nlohmann::json;

namespace {
// Loads the fixture after `edit` and expects an Error whose message contains `expected`.
void expectLoadError(const char* fixture, const std::function<void(json&)>& edit,
                     const std::string& expected) {
  json j = loadFixtureJson(fixture);
  edit(j);
  try {
    tokenizerFrom(j);
    ADD_FAILURE() << "no error; expected one containing: " << expected;
  } catch (const bitnetc::Error& e) {
    EXPECT_NE(std::string(e.what()).find(expected), std::string::npos) << e.what();
  }
}

std::string encodeError(const std::string& text) {
  Tokenizer t = Tokenizer::fromFile(tokenizerFixture("gpt2-style.json"));
  try {
    t.encode(text);
  } catch (const bitnetc::Error& e) {
    return e.what();
  }
  return "no error";
}
}  // namespace

TEST(TokenizerErrors, ByteFallback) {
  expectLoadError("gpt2-style.json", [](json& j) { j["model"]["byte_fallback"] = true; },
                  "BPE option 'byte_fallback' is not supported");
}
TEST(TokenizerErrors, ContinuingSubwordPrefix) {
  expectLoadError("gpt2-style.json", [](json& j) { j["model"]["continuing_subword_prefix"] = "##"; },
                  "BPE option 'continuing_subword_prefix' is not supported");
}
TEST(TokenizerErrors, EndOfWordSuffix) {
  expectLoadError("gpt2-style.json", [](json& j) { j["model"]["end_of_word_suffix"] = "</w>"; },
                  "BPE option 'end_of_word_suffix' is not supported");
}
TEST(TokenizerErrors, Dropout) {
  expectLoadError("gpt2-style.json", [](json& j) { j["model"]["dropout"] = 0.1; },
                  "BPE option 'dropout' is not supported");
}
TEST(TokenizerErrors, OtherModelType) {
  expectLoadError("gpt2-style.json", [](json& j) { j["model"]["type"] = "WordPiece"; },
                  "model type 'WordPiece' is not supported");
}
TEST(TokenizerErrors, Normalizer) {
  expectLoadError("gpt2-style.json", [](json& j) { j["normalizer"] = {{"type", "NFC"}}; },
                  "normalizer 'NFC' is not supported");
}
TEST(TokenizerErrors, OtherPreTokenizer) {
  expectLoadError("llama3-style.json",
                  [](json& j) { j["pre_tokenizer"]["pretokenizers"][1] = {{"type", "Whitespace"}}; },
                  "pre_tokenizer.pretokenizers[1]: pre_tokenizer type 'Whitespace' is not supported");
}
TEST(TokenizerErrors, SplitInvert) {
  expectLoadError("llama3-style.json",
                  [](json& j) { j["pre_tokenizer"]["pretokenizers"][0]["invert"] = true; },
                  "Split with \"invert\": true is not supported");
}
TEST(TokenizerErrors, SplitUnknownBehavior) {
  expectLoadError("llama3-style.json",
                  [](json& j) { j["pre_tokenizer"]["pretokenizers"][0]["behavior"] = "Sideways"; },
                  "unknown split behavior 'Sideways'");
}
TEST(TokenizerErrors, UnsupportedRegexConstruct) {
  expectLoadError("llama3-style.json",
                  [](json& j) { j["pre_tokenizer"]["pretokenizers"][0]["pattern"]["Regex"] = "[a[b]]"; },
                  "regex construct nested character class at offset 2");
}
TEST(TokenizerErrors, RegexSyntaxError) {
  expectLoadError("llama3-style.json",
                  [](json& j) { j["pre_tokenizer"]["pretokenizers"][0]["pattern"]["Regex"] = "(a"; },
                  "cannot compile regex '(a'");
}
TEST(TokenizerErrors, ByteLevelWithoutAddPrefixSpace) {
  expectLoadError("gpt2-style.json", [](json& j) { j["pre_tokenizer"].erase("add_prefix_space"); },
                  "missing boolean field 'add_prefix_space'");
}
TEST(TokenizerErrors, OtherDecoder) {
  expectLoadError("gpt2-style.json", [](json& j) { j["decoder"] = {{"type", "WordPiece"}}; },
                  "decoder 'WordPiece' is not supported");
}
TEST(TokenizerErrors, DecoderSequenceOfTwo) {
  expectLoadError("gpt2-style.json",
                  [](json& j) { j["decoder"] = {{"type", "Sequence"}, {"decoders", {j["decoder"], j["decoder"]}}}; },
                  "decoder Sequence is supported only as [ByteLevel]");
}
TEST(TokenizerErrors, Truncation) {
  expectLoadError("gpt2-style.json", [](json& j) { j["truncation"] = {{"max_length", 8}}; },
                  "\"truncation\" is not supported");
}
TEST(TokenizerErrors, MergeOfUnknownToken) {
  expectLoadError("gpt2-style.json", [](json& j) { j["model"]["merges"].push_back("x yz"); },
                  "merges[18] uses 'yz', which is not in the vocab");
}
TEST(TokenizerErrors, MalformedMerge) {
  expectLoadError("llama3-style.json", [](json& j) { j["model"]["merges"].push_back(json::array({"a"})); },
                  "merges[15] is neither");
}
TEST(TokenizerErrors, MergeWithTwoSpaces) {
  expectLoadError("gpt2-style.json", [](json& j) { j["model"]["merges"][3] = "i n x"; },
                  "merges[3] 'i n x' is not two tokens separated by one space");
}
TEST(TokenizerErrors, MergeOfWrongKind) {
  expectLoadError("gpt2-style.json", [](json& j) { j["model"]["merges"][2] = 7; },
                  "merges[2] is neither");
}
TEST(TokenizerErrors, VocabIdNotAnInteger) {
  expectLoadError("gpt2-style.json", [](json& j) { j["model"]["vocab"]["he"] = "257"; },
                  "vocab entry 'he' has a string as id");
  expectLoadError("gpt2-style.json", [](json& j) { j["model"]["vocab"]["he"] = -3; },
                  "vocab entry 'he' has id -3, not a non-negative 32-bit integer");
}
TEST(TokenizerErrors, VocabNotAnObject) {
  expectLoadError("gpt2-style.json", [](json& j) { j["model"]["vocab"] = json::array(); },
                  "missing \"vocab\" object");
}
TEST(TokenizerErrors, AddedTokenIdDisagreesWithVocab) {
  expectLoadError("gpt2-style.json", [](json& j) { j["added_tokens"][0]["content"] = "Hello"; },
                  "added token 'Hello' has id 274 but the vocab gives it id 273");
}
TEST(TokenizerErrors, NotJson) {
  EXPECT_THROW(Tokenizer::fromJson("{\"model\": ", "broken.json"), bitnetc::Error);
  try {
    Tokenizer::fromJson("[1]", "broken.json");
  } catch (const bitnetc::Error& e) {
    EXPECT_STREQ(e.what(), "broken.json: top level is not a JSON object");
  }
}
TEST(TokenizerErrors, MissingFile) {
  try {
    Tokenizer::fromFile("/nonexistent/tokenizer.json");
    ADD_FAILURE();
  } catch (const bitnetc::Error& e) {
    EXPECT_STREQ(e.what(), "/nonexistent/tokenizer.json: cannot open tokenizer file");
  }
}
TEST(TokenizerErrors, CharacterOutsideVocabWithoutUnk) {
  json j = loadFixtureJson("gpt2-style.json");
  j["model"]["vocab"].erase("Ã");
  Tokenizer t = tokenizerFrom(j);
  EXPECT_THROW(t.encode("é"), bitnetc::Error);
  EXPECT_EQ(t.encode("e").size(), 1u);
}

TEST(TokenizerErrors, InvalidUtf8NamesTheByteOffset) {
  EXPECT_EQ(encodeError("ab\xC3("), "invalid UTF-8 in text to encode at byte offset 2 (byte 0xC3)");
  EXPECT_EQ(encodeError("\xC0\xAF"), "invalid UTF-8 in text to encode at byte offset 0 (byte 0xC0)");  // overlong
  EXPECT_EQ(encodeError("x\xED\xA0\x80"), "invalid UTF-8 in text to encode at byte offset 1 (byte 0xED)");  // surrogate
  EXPECT_EQ(encodeError("abc\xE2\x82"), "invalid UTF-8 in text to encode at byte offset 3 (byte 0xE2)");  // truncated
  EXPECT_EQ(encodeError("\xF4\x90\x80\x80"), "invalid UTF-8 in text to encode at byte offset 0 (byte 0xF4)");  // > U+10FFFF
  EXPECT_EQ(encodeError("ok \x80"), "invalid UTF-8 in text to encode at byte offset 3 (byte 0x80)");  // stray continuation
  EXPECT_EQ(encodeError("\xF0\x9F\x98\x80 fine"), "no error");
}

TEST(TokenizerErrors, UnknownIdInDecode) {
  Tokenizer t = Tokenizer::fromFile(tokenizerFixture("gpt2-style.json"));
  try {
    t.decode({273, 9999});
    ADD_FAILURE();
  } catch (const bitnetc::Error& e) {
    EXPECT_NE(std::string(e.what()).find("unknown token id 9999 (vocab size 275)"), std::string::npos) << e.what();
  }
  EXPECT_THROW(t.tokenText(-1), bitnetc::Error);
}
