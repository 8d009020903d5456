// Hugging Face tokenizer.json, byte-level BPE (GPT-2 / Llama 3 / BitNet 2B-4T style).
// Supports: model BPE with vocab, merges ("a b" strings or ["a", "b"] pairs), ignore_merges,
// added/special tokens; pre-tokenizers ByteLevel (with or without its GPT-2 regex) and Split
// (regex, via PCRE2) inside a Sequence; the ByteLevel decoder. Any other feature gives an error
// naming it, never a silent wrong tokenization.
#pragma once
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

namespace bitnetc {

class Tokenizer {
 public:
  // Throws Error naming the file and the unsupported feature or defect.
  static Tokenizer fromFile(const std::string& path);
  static Tokenizer fromJson(std::string_view json, const std::string& nameForErrors = "tokenizer.json");
  ~Tokenizer();
  Tokenizer(Tokenizer&&) noexcept;
  Tokenizer& operator=(Tokenizer&&) noexcept;

  // Encodes text to ids: added/special tokens matched first, then pre-tokenization and BPE.
  // Adds no BOS/EOS (the caller does, from the model config).
  std::vector<int32_t> encode(std::string_view text) const;
  // Decodes ids to UTF-8 text (special tokens are included as their content unless skipSpecial).
  std::string decode(const std::vector<int32_t>& ids, bool skipSpecial = false) const;
  // The text of one token (for streaming output); throws on an unknown id.
  std::string tokenText(int32_t id) const;
  int32_t vocabSize() const;  // largest id + 1, added tokens included
  // Id of a token string (vocab or added), or -1.
  int32_t tokenId(std::string_view token) const;

 private:
  Tokenizer();
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace bitnetc
