#include "runtime/tokenizer/BpeModel.h"

#include "compiler/support/Error.h"
#include "runtime/tokenizer/Utf8.h"

#include <nlohmann/json.hpp>
#include <queue>

namespace bitnetc {

using json = nlohmann::json;

namespace {
constexpr size_t kCacheCapacity = 100000;  // entries; past this, new words are not cached
constexpr size_t kMaxCachedLength = 256;   // bytes

uint64_t pairKey(int32_t a, int32_t b) {
  return (static_cast<uint64_t>(static_cast<uint32_t>(a)) << 32) | static_cast<uint32_t>(b);
}

// Options that change BPE's output and that this implementation does not have: they must be
// absent, null or off, else an error names them.
void rejectUnsupported(const json& model, const std::string& where) {
  auto isOff = [&](const char* key) {
    auto it = model.find(key);
    if (it == model.end() || it->is_null()) return true;
    if (it->is_boolean()) return !it->get<bool>();
    if (it->is_string()) return it->get<std::string>().empty();
    return false;
  };
  for (const char* key : {"byte_fallback", "continuing_subword_prefix", "end_of_word_suffix"})
    if (!isOff(key)) fail(where, ": BPE option '", key, "' is not supported (must be null/false)");
  if (auto it = model.find("dropout"); it != model.end() && !it->is_null())
    fail(where, ": BPE option 'dropout' is not supported (must be null)");
}
}  // namespace

bool splitMergeString(std::string_view merge, std::string& left, std::string& right) {
  size_t space = merge.find(' ');
  if (space == std::string_view::npos || merge.find(' ', space + 1) != std::string_view::npos)
    return false;
  left.assign(merge.substr(0, space));
  right.assign(merge.substr(space + 1));
  return true;
}

namespace {
// Reads vocab and merges from the JSON tree (when the streaming loader did not).
void readTables(const json& model, const std::string& where, BpeTables& tables) {
  if (!tables.haveVocab) {
    auto vocab = model.find("vocab");
    if (vocab == model.end() || !vocab->is_object()) fail(where, ": missing \"vocab\" object");
    tables.vocab.reserve(vocab->size());
    for (auto it = vocab->begin(); it != vocab->end(); ++it) {
      if (!it.value().is_number_integer() || it.value().get<int64_t>() < 0)
        fail(where, ": vocab entry '", it.key(), "' has id ", it.value().dump(),
             ", not a non-negative 32-bit integer");
      tables.vocab.emplace_back(it.key(), it.value().get<int64_t>());
    }
    tables.haveVocab = true;
  }
  if (!tables.haveMerges) {
    auto merges = model.find("merges");
    if (merges == model.end() || !merges->is_array()) fail(where, ": missing \"merges\" array");
    tables.merges.reserve(merges->size());
    for (size_t rank = 0; rank < merges->size(); ++rank) {
      const json& entry = (*merges)[rank];
      std::string left, right;
      if (entry.is_string()) {
        if (!splitMergeString(entry.get_ref<const std::string&>(), left, right))
          fail(where, ": merges[", rank, "] '", entry.get_ref<const std::string&>(),
               "' is not two tokens separated by one space");
      } else if (entry.is_array() && entry.size() == 2 && entry[0].is_string() && entry[1].is_string()) {
        left = entry[0].get<std::string>();
        right = entry[1].get<std::string>();
      } else {
        fail(where, ": merges[", rank, "] is neither \"a b\" nor [\"a\", \"b\"]: ", entry.dump());
      }
      tables.merges.emplace_back(std::move(left), std::move(right));
    }
    tables.haveMerges = true;
  }
}
}  // namespace

BpeModel BpeModel::fromJson(const json& model, const std::string& where, BpeTables* streamed) {
  if (!model.is_object()) fail(where, ": expected an object");
  auto type = model.find("type");
  if (type != model.end() && !(type->is_string() && type->get<std::string>() == "BPE"))
    fail(where, ": model type '", type->is_string() ? type->get<std::string>() : type->dump(),
         "' is not supported (only BPE)");
  rejectUnsupported(model, where);
  BpeTables local;
  BpeTables& tables = streamed ? *streamed : local;
  if (!tables.error.empty()) fail(where, ": ", tables.error);
  readTables(model, where, tables);

  BpeModel m;
  m.where_ = where;
  int32_t maxId = -1;
  m.vocab_.reserve(tables.vocab.size());
  for (auto& [token, id] : tables.vocab) {
    if (id < 0 || id > INT32_MAX)
      fail(where, ": vocab entry '", token, "' has id ", id, ", not a non-negative 32-bit integer");
    maxId = std::max(maxId, static_cast<int32_t>(id));
    m.vocab_.insert_or_assign(std::move(token), static_cast<int32_t>(id));
  }
  m.idToToken_.assign(static_cast<size_t>(maxId + 1), nullptr);
  for (const auto& [token, id] : m.vocab_) m.idToToken_[id] = &token;  // map keys never move

  m.merges_.reserve(tables.merges.size());
  std::string joined;  // reused buffer for left + right
  for (size_t rank = 0; rank < tables.merges.size(); ++rank) {
    const auto& [left, right] = tables.merges[rank];
    auto find = [&](std::string_view token) {
      auto it = m.vocab_.find(token);
      if (it == m.vocab_.end()) fail(where, ": merges[", rank, "] uses '", token, "', which is not in the vocab");
      return it->second;
    };
    joined.assign(left).append(right);
    int32_t a = find(left), b = find(right), merged = find(joined);
    m.merges_[pairKey(a, b)] = Merge{static_cast<int32_t>(rank), merged};  // a later duplicate wins, as in Rust
  }
  tables = BpeTables{};  // free the strings now

  if (auto it = model.find("ignore_merges"); it != model.end() && !it->is_null()) {
    if (!it->is_boolean()) fail(where, ": \"ignore_merges\" must be a boolean");
    m.ignoreMerges_ = it->get<bool>();
  }
  if (auto it = model.find("fuse_unk"); it != model.end() && it->is_boolean()) m.fuseUnk_ = it->get<bool>();
  if (auto it = model.find("unk_token"); it != model.end() && !it->is_null()) {
    if (!it->is_string()) fail(where, ": \"unk_token\" must be a string or null");
    auto id = m.vocab_.find(it->get<std::string>());
    if (id == m.vocab_.end()) fail(where, ": unk_token '", it->get<std::string>(), "' is not in the vocab");
    m.unkId_ = id->second;
  }
  return m;
}

int32_t BpeModel::tokenId(std::string_view token) const {
  auto it = vocab_.find(token);
  return it == vocab_.end() ? -1 : it->second;
}

const std::string* BpeModel::tokenString(int32_t id) const {
  if (id < 0 || static_cast<size_t>(id) >= idToToken_.size()) return nullptr;
  return idToToken_[id];
}

std::vector<int32_t> BpeModel::mergeWord(std::string_view piece) const {
  // One symbol per character (unknown characters become unk, fused if fuse_unk), linked as a list.
  struct Symbol {
    int32_t id;
    int prev, next;
    bool removed;
  };
  std::vector<Symbol> symbols;
  symbols.reserve(piece.size());
  auto push = [&](int32_t id) {
    int index = static_cast<int>(symbols.size());
    symbols.push_back({id, index - 1, index + 1, false});
  };
  bool pendingUnk = false;
  for (size_t pos = 0; pos < piece.size();) {
    size_t n = utf8::charLength(static_cast<unsigned char>(piece[pos]));
    auto it = vocab_.find(piece.substr(pos, n));
    if (it != vocab_.end()) {
      if (pendingUnk) push(unkId_);
      pendingUnk = false;
      push(it->second);
    } else if (unkId_ >= 0) {
      if (pendingUnk && !fuseUnk_) push(unkId_);
      pendingUnk = true;
    } else {
      // Rust drops such a character silently; a missing base character is a defective vocab.
      fail(where_, ": character '", piece.substr(pos, n),
           "' is not in the vocab and there is no unk_token");
    }
    pos += n;
  }
  if (pendingUnk) push(unkId_);
  if (!symbols.empty()) symbols.back().next = -1;

  struct Candidate {
    int32_t rank;
    int pos;
    int32_t newId;
    bool operator>(const Candidate& o) const { return rank != o.rank ? rank > o.rank : pos > o.pos; }
  };
  std::priority_queue<Candidate, std::vector<Candidate>, std::greater<>> queue;
  auto consider = [&](int left) {
    int right = symbols[left].next;
    if (right < 0) return;
    auto it = merges_.find(pairKey(symbols[left].id, symbols[right].id));
    if (it != merges_.end()) queue.push({it->second.rank, left, it->second.newId});
  };
  for (int i = 0; i + 1 < static_cast<int>(symbols.size()); ++i) consider(i);

  while (!queue.empty()) {
    Candidate top = queue.top();
    queue.pop();
    Symbol& left = symbols[top.pos];
    if (left.removed || left.next < 0) continue;
    Symbol& right = symbols[left.next];
    // Skip entries made stale by an earlier merge on either side.
    auto it = merges_.find(pairKey(left.id, right.id));
    if (it == merges_.end() || it->second.newId != top.newId) continue;
    left.id = top.newId;
    right.removed = true;
    left.next = right.next;
    if (right.next >= 0) symbols[right.next].prev = top.pos;
    if (left.prev >= 0) consider(left.prev);
    consider(top.pos);
  }

  std::vector<int32_t> ids;
  for (const Symbol& s : symbols)
    if (!s.removed) ids.push_back(s.id);
  return ids;
}

void BpeModel::tokenize(std::string_view piece, std::vector<int32_t>& ids) const {
  if (piece.empty()) return;
  if (ignoreMerges_) {
    if (int32_t id = tokenId(piece); id >= 0) {
      ids.push_back(id);
      return;
    }
  }
  bool cacheable = piece.size() < kMaxCachedLength;
  if (cacheable) {
    std::lock_guard<std::mutex> lock(*cacheLock_);
    if (auto it = cache_.find(piece); it != cache_.end()) {
      ids.insert(ids.end(), it->second.begin(), it->second.end());
      return;
    }
  }
  std::vector<int32_t> word = mergeWord(piece);
  ids.insert(ids.end(), word.begin(), word.end());
  if (cacheable) {
    std::lock_guard<std::mutex> lock(*cacheLock_);
    if (cache_.size() < kCacheCapacity) cache_.emplace(std::string(piece), std::move(word));
  }
}

BpeModel::BpeModel(BpeModel&&) noexcept = default;
BpeModel::~BpeModel() = default;

}  // namespace bitnetc
