// Hugging Face tokenizer.json, byte-level BPE (GPT-2 / Llama 3 / BitNet 2B-4T style).
// Supports: model BPE with vocab, merges ("a b" strings or ["a", "b"] pairs), ignore_merges,
// added/special tokens; pre-tokenizers ByteLevel (with or without its GPT-2 regex) and Split
// (regex, via PCRE2) inside a Sequence; the ByteLevel decoder. Any other feature gives an error
// naming it, never a silent wrong tokenization. docs/TOKENIZER.md has the details.
//
// The post_processor section is ignored: encode() never adds BOS/EOS; the caller adds BOS from
// the model config (bos_token_id).
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
  // Adds no BOS/EOS (the caller does, from the model config). Throws Error naming the byte
  // offset if `text` is not valid UTF-8.
  std::vector<int32_t> encode(std::string_view text) const;
  // Decodes ids to UTF-8 text (special tokens are included as their content unless skipSpecial).
  // Added tokens appear as their content; byte sequences that are not valid UTF-8 become U+FFFD
  // (as Rust's from_utf8_lossy). Throws Error on an id that is neither in the vocab nor added.
  std::string decode(const std::vector<int32_t>& ids, bool skipSpecial = false) const;
  // The bytes of one token (for streaming output: a byte-level token may hold part of a UTF-8
  // character, so concatenate the bytes of successive tokens); throws on an unknown id.
  std::string tokenText(int32_t id) const;
  // The token as written in tokenizer.json (e.g. "ĠWorld"); throws on an unknown id.
  std::string tokenString(int32_t id) const;
  // True if id is an added token marked "special".
  bool isSpecial(int32_t id) const;
  int32_t vocabSize() const;  // largest id + 1, added tokens included
  // Id of a token string (vocab or added), or -1.
  int32_t tokenId(std::string_view token) const;

 private:
  Tokenizer();
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace bitnetc
