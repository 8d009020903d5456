// The pre_tokenizer section of tokenizer.json: ByteLevel, Split and Sequence of them, applied
// exactly as the Rust `tokenizers` crate does (each step runs on every piece the previous step
// produced; empty pieces are dropped).
#pragma once
#include "runtime/tokenizer/Regex.h"

#include <nlohmann/json_fwd.hpp>
#include <string>
#include <string_view>
#include <vector>

namespace bitnetc {

// What Split does with the matches of its pattern (Rust's SplitDelimiterBehavior).
enum class SplitBehavior { Removed, Isolated, MergedWithPrevious, MergedWithNext, Contiguous };

// Splits `text` at the matches of `regex` as Rust's NormalizedString::split does; returns
// [start, end) byte ranges of the non-empty pieces that remain.
std::vector<std::pair<size_t, size_t>> splitByRegex(std::string_view text, const Regex& regex,
                                                    SplitBehavior behavior);

class PreTokenizer {
 public:
  // `config` is the pre_tokenizer JSON value (null: no pre-tokenization). Throws Error naming
  // `where` and any unsupported type or option.
  static PreTokenizer fromJson(const nlohmann::json& config, const std::string& where);

  // Appends the pieces of `text` (the text between added tokens) to `pieces`.
  void run(std::string_view text, std::vector<std::string>& pieces) const;

  PreTokenizer(PreTokenizer&&) noexcept;
  PreTokenizer& operator=(PreTokenizer&&) noexcept;
  ~PreTokenizer();

 private:
  PreTokenizer() = default;
  struct Step;
  void addSteps(const nlohmann::json& config, const std::string& where);
  std::vector<Step> steps_;
};

}  // namespace bitnetc
