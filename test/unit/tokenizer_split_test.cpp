// Split pre-tokenizer behaviours (the examples of Rust's SplitDelimiterBehavior docs) and the
// Oniguruma -> PCRE2 regex translation.
#include "runtime/tokenizer/PreTokenizer.h"
#include "runtime/tokenizer/Regex.h"
#include "compiler/support/Error.h"

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

using bitnetc::PreTokenizer;
using bitnetc::Regex;
using bitnetc::SplitBehavior;
using Pieces = std::vector<std::string>;

namespace {
Pieces split(std::string_view text, const Regex& regex, SplitBehavior behavior) {
  Pieces out;
  for (auto [start, end] : bitnetc::splitByRegex(text, regex, behavior))
    out.emplace_back(text.substr(start, end - start));
  return out;
}
Pieces preTokenize(const nlohmann::json& config, std::string_view text) {
  Pieces out;
  PreTokenizer::fromJson(config, "test").run(text, out);
  return out;
}
}  // namespace

TEST(TokenizerSplit, Behaviors) {
  Regex dash = Regex::fromLiteral("-", "test");
  const char* text = "the-final--countdown";
  EXPECT_EQ(split(text, dash, SplitBehavior::Removed), (Pieces{"the", "final", "countdown"}));
  EXPECT_EQ(split(text, dash, SplitBehavior::Isolated), (Pieces{"the", "-", "final", "-", "-", "countdown"}));
  EXPECT_EQ(split(text, dash, SplitBehavior::MergedWithPrevious), (Pieces{"the-", "final-", "-", "countdown"}));
  EXPECT_EQ(split(text, dash, SplitBehavior::MergedWithNext), (Pieces{"the", "-final", "-", "-countdown"}));
  EXPECT_EQ(split(text, dash, SplitBehavior::Contiguous), (Pieces{"the", "-", "final", "--", "countdown"}));
}

TEST(TokenizerSplit, StringPatternIsLiteral) {
  EXPECT_EQ(split("a.b\\Ec", Regex::fromLiteral(".", "t"), SplitBehavior::Removed), (Pieces{"a", "b\\Ec"}));
  EXPECT_EQ(split("a.b\\Ec", Regex::fromLiteral("\\E", "t"), SplitBehavior::Removed), (Pieces{"a.b", "c"}));
}

TEST(TokenizerSplit, EmptyMatchesSplitLikeOniguruma) {
  // x* matches empty between characters: each character becomes its own piece.
  EXPECT_EQ(split("ab", Regex::fromOniguruma("x*", "t"), SplitBehavior::Isolated), (Pieces{"a", "b"}));
}

TEST(TokenizerSplit, SequenceAndJsonForms) {
  nlohmann::json split = {{"type", "Split"}, {"pattern", {{"String", " "}}}, {"behavior", "MergedWithNext"}, {"invert", false}};
  EXPECT_EQ(preTokenize(split, "a b  c"), (Pieces{"a", " b", " ", " c"}));
  nlohmann::json byteLevel = {{"type", "ByteLevel"}, {"add_prefix_space", true}, {"trim_offsets", true}, {"use_regex", false}};
  nlohmann::json seq = {{"type", "Sequence"}, {"pretokenizers", {split, byteLevel}}};
  // ByteLevel's prefix space is added to every piece that lacks one, as in Rust.
  EXPECT_EQ(preTokenize(seq, "a b"), (Pieces{"Ġa", "Ġb"}));
  EXPECT_EQ(preTokenize(nullptr, "a b"), (Pieces{"a b"}));
  EXPECT_EQ(preTokenize(nullptr, ""), Pieces{});
}

TEST(TokenizerRegex, OnigurumaClassesAndSyntax) {
  auto matches = [](const char* pattern, std::string_view text) {
    Pieces out;
    for (auto [s, e] : Regex::fromOniguruma(pattern, "t").findAll(text)) out.emplace_back(text.substr(s, e - s));
    return out;
  };
  // \s is Unicode White_Space, which includes U+0085 (PCRE2's own \s does not).
  EXPECT_EQ(matches("\\s+", "a\u0085\u3000b"), (Pieces{"\u0085\u3000"}));
  EXPECT_EQ(matches("[^\\s\\p{L}]+", "a\u0085!b"), (Pieces{"!"}));
  EXPECT_EQ(matches("\\S+", "\u0085x"), (Pieces{"x"}));
  EXPECT_EQ(matches("(?i:'s|'ll)", "'S 'Ll 's"), (Pieces{"'S", "'Ll", "'s"}));
  EXPECT_EQ(matches("\\p{N}{1,3}", "12345\u0663"), (Pieces{"123", "45\u0663"}));
  EXPECT_EQ(matches("\\s+(?!\\S)", "a   b"), (Pieces{"  "}));
  EXPECT_EQ(matches("\\w+", "e\u0301t\u00e9_1 x"), (Pieces{"e\u0301t\u00e9_1", "x"}));
  EXPECT_EQ(matches("\\h+", "0xBEEFz"), (Pieces{"0", "BEEF"}));
  EXPECT_EQ(matches("\\u0041", "BAB"), (Pieces{"A"}));
  EXPECT_EQ(matches("^a", "a\na"), (Pieces{"a", "a"}));  // ^ is a line anchor in Ruby syntax
  EXPECT_EQ(matches("\\p{L}+", "𝔘𝔫 日本"), (Pieces{"𝔘𝔫", "日本"}));
}

TEST(TokenizerRegex, TranslationRejectsWhatPcreCannotSay) {
  EXPECT_THROW(bitnetc::translateOniguruma("[a-z&&[^aeiou]]", "t"), bitnetc::Error);
  EXPECT_THROW(bitnetc::translateOniguruma("[\\H]", "t"), bitnetc::Error);
  EXPECT_THROW(bitnetc::translateOniguruma("[abc", "t"), bitnetc::Error);
  EXPECT_EQ(bitnetc::translateOniguruma("[[:alpha:]]", "t"), "[[:alpha:]]");
  EXPECT_EQ(bitnetc::translateOniguruma("[]a]", "t"), "[]a]");
}
