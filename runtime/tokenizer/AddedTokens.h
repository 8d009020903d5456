// The added_tokens of tokenizer.json (special or not). They are cut out of the raw text before
// pre-tokenization, as the Rust `tokenizers` crate does: first the tokens with
// "normalized": false, then, inside the remaining text, those with "normalized": true; at each
// position the leftmost match wins, the longest one among those starting there. single_word,
// lstrip and rstrip are honoured.
#pragma once
#include <array>
#include <cstdint>
#include <nlohmann/json_fwd.hpp>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

namespace bitnetc {

struct AddedToken {
  std::string content;
  int32_t id = -1;
  bool special = false;
  bool singleWord = false;
  bool lstrip = false;
  bool rstrip = false;
  bool normalized = false;
};

// A piece of the input text: either an added token or plain text to pre-tokenize.
struct TextSegment {
  size_t start, end;  // byte range in the input
  int tokenIndex;     // index into AddedTokens::tokens(), or -1 for plain text
};

class AddedTokens {
 public:
  // `config` is the added_tokens JSON array (or null).
  static AddedTokens fromJson(const nlohmann::json& config, const std::string& where);

  std::vector<TextSegment> split(std::string_view text) const;

  const std::vector<AddedToken>& tokens() const { return tokens_; }
  const AddedToken* byId(int32_t id) const;
  const AddedToken* byContent(std::string_view content) const;

 private:
  // Tokens of one matching pass, bucketed by first byte, longest first.
  struct Matcher {
    std::array<std::vector<int>, 256> byFirstByte;
  };
  void splitPass(std::string_view text, size_t base, const Matcher& matcher,
                 std::vector<TextSegment>& out) const;

  std::vector<AddedToken> tokens_;
  std::unordered_map<int32_t, int> indexById_;  // decoding looks every id up here
  Matcher nonNormalized_, normalized_;
};

}  // namespace bitnetc
