// The "model" section of tokenizer.json for type BPE: vocab, ranked merges, ignore_merges,
// unk_token/fuse_unk. Merging follows the Rust `tokenizers` crate (Word::merge_all): the pair of
// lowest rank is merged first, the leftmost one among equal ranks.
#pragma once
#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <nlohmann/json_fwd.hpp>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

namespace bitnetc {

// Hash that lets unordered_map<std::string, ...> be searched with a string_view.
struct StringHash {
  using is_transparent = void;
  size_t operator()(std::string_view s) const { return std::hash<std::string_view>{}(s); }
};
template <typename V>
using StringMap = std::unordered_map<std::string, V, StringHash, std::equal_to<>>;

// The model's vocab and merges as read from the file, before validation. The streaming loader
// (TokenizerJson.h) fills them without building a JSON tree for them, which for a Llama 3
// vocabulary is most of the loading time.
struct BpeTables {
  bool haveVocab = false, haveMerges = false;
  std::vector<std::pair<std::string, int64_t>> vocab;
  std::vector<std::pair<std::string, std::string>> merges;
  std::string error;  // the first malformed entry, if any
};

// Splits a merge written as "a b" (exactly one space, as Rust requires); false if malformed.
bool splitMergeString(std::string_view merge, std::string& left, std::string& right);

class BpeModel {
 public:
  // Throws Error naming `where` and the unsupported option or the bad vocab/merge entry.
  // `tables`, when given and filled, replaces the model's "vocab" / "merges" fields.
  static BpeModel fromJson(const nlohmann::json& model, const std::string& where,
                           BpeTables* tables = nullptr);

  // Appends the ids of one pre-token (already in the vocab's character form).
  void tokenize(std::string_view piece, std::vector<int32_t>& ids) const;

  int32_t tokenId(std::string_view token) const;     // -1 if absent
  const std::string* tokenString(int32_t id) const;  // nullptr if absent
  int32_t maxId() const { return static_cast<int32_t>(idToToken_.size()) - 1; }

  BpeModel(BpeModel&&) noexcept;
  ~BpeModel();

 private:
  BpeModel() = default;
  std::vector<int32_t> mergeWord(std::string_view piece) const;

  struct Merge {
    int32_t rank;
    int32_t newId;
  };
  StringMap<int32_t> vocab_;
  std::vector<const std::string*> idToToken_;  // keys of vocab_; nullptr for unused ids
  std::unordered_map<uint64_t, Merge> merges_;  // key: (left id << 32) | right id
  bool ignoreMerges_ = false;
  int32_t unkId_ = -1;
  bool fuseUnk_ = false;
  std::string where_;

  // Pre-token -> ids. Encoding is const and may run on several threads: the cache has a lock.
  mutable std::unique_ptr<std::mutex> cacheLock_ = std::make_unique<std::mutex>();
  mutable StringMap<std::vector<int32_t>> cache_;
};

}  // namespace bitnetc
