#include "runtime/tokenizer/AddedTokens.h"

#include "compiler/support/Error.h"
#include "runtime/tokenizer/Regex.h"
#include "runtime/tokenizer/Utf8.h"

#include <algorithm>
#include <nlohmann/json.hpp>

namespace bitnetc {

using json = nlohmann::json;

namespace {
// Unicode White_Space (what Rust's regex \s matches).
bool isWhiteSpace(char32_t c) {
  return (c >= 0x09 && c <= 0x0D) || c == 0x20 || c == 0x85 || c == 0xA0 || c == 0x1680 ||
         (c >= 0x2000 && c <= 0x200A) || c == 0x2028 || c == 0x2029 || c == 0x202F ||
         c == 0x205F || c == 0x3000;
}

// Rust regex's Unicode \w (used by single_word): Alphabetic, marks, decimal digits,
// connector punctuation and joiners.
bool isWordChar(std::string_view oneChar) {
  static const Regex word = Regex::fromOniguruma(
      "\\A[\\p{Alphabetic}\\p{M}\\p{Nd}\\p{Pc}\\p{Join_Control}]", "single_word");
  return !word.findAll(oneChar).empty();
}

size_t previousCharStart(std::string_view text, size_t end) {
  size_t pos = end - 1;
  while (pos > 0 && (static_cast<unsigned char>(text[pos]) & 0xC0) == 0x80) --pos;
  return pos;
}

bool endsWithWord(std::string_view text) {
  if (text.empty()) return false;
  return isWordChar(text.substr(previousCharStart(text, text.size())));
}
bool startsWithWord(std::string_view text) {
  return !text.empty() && isWordChar(text.substr(0, utf8::charLength(static_cast<unsigned char>(text[0]))));
}

// Start of the run of White_Space that ends `text`.
size_t spaceRunStartAtEnd(std::string_view text) {
  size_t end = text.size();
  while (end > 0) {
    size_t start = previousCharStart(text, end);
    if (!isWhiteSpace(utf8::decodeAt(text, start))) break;
    end = start;
  }
  return end;
}
// Length of the run of White_Space that starts `text`.
size_t spaceRunLengthAtStart(std::string_view text) {
  size_t pos = 0;
  while (pos < text.size() && isWhiteSpace(utf8::decodeAt(text, pos)))
    pos += utf8::charLength(static_cast<unsigned char>(text[pos]));
  return pos;
}

bool optionalBool(const json& j, const char* key, bool fallback, const std::string& where) {
  auto it = j.find(key);
  if (it == j.end() || it->is_null()) return fallback;
  if (!it->is_boolean()) fail(where, ": \"", key, "\" must be a boolean");
  return it->get<bool>();
}
}  // namespace

AddedTokens AddedTokens::fromJson(const json& config, const std::string& where) {
  AddedTokens added;
  if (config.is_null()) return added;
  if (!config.is_array()) fail(where, ": expected an array");
  for (size_t i = 0; i < config.size(); ++i) {
    const json& j = config[i];
    std::string at = where + "[" + std::to_string(i) + "]";
    if (!j.is_object()) fail(at, ": expected an object");
    AddedToken t;
    auto content = j.find("content");
    if (content == j.end() || !content->is_string() || content->get<std::string>().empty())
      fail(at, ": missing or empty \"content\"");
    t.content = content->get<std::string>();
    utf8::validate(t.content, (at + ".content").c_str());
    auto id = j.find("id");
    if (id == j.end() || !id->is_number_integer() || id->get<int64_t>() < 0 || id->get<int64_t>() > INT32_MAX)
      fail(at, ": missing or invalid \"id\"");
    t.id = id->get<int32_t>();
    t.special = optionalBool(j, "special", false, at);
    t.singleWord = optionalBool(j, "single_word", false, at);
    t.lstrip = optionalBool(j, "lstrip", false, at);
    t.rstrip = optionalBool(j, "rstrip", false, at);
    t.normalized = optionalBool(j, "normalized", !t.special, at);
    added.tokens_.push_back(std::move(t));
  }
  for (int i = 0; i < static_cast<int>(added.tokens_.size()); ++i) {
    const AddedToken& t = added.tokens_[i];
    added.indexById_.emplace(t.id, i);  // with duplicate ids, the first token wins
    Matcher& m = t.normalized ? added.normalized_ : added.nonNormalized_;
    m.byFirstByte[static_cast<unsigned char>(t.content[0])].push_back(i);
  }
  for (Matcher* m : {&added.nonNormalized_, &added.normalized_})
    for (auto& bucket : m->byFirstByte)
      std::stable_sort(bucket.begin(), bucket.end(), [&](int a, int b) {
        return added.tokens_[a].content.size() > added.tokens_[b].content.size();
      });
  return added;
}

const AddedToken* AddedTokens::byId(int32_t id) const {
  auto it = indexById_.find(id);
  return it == indexById_.end() ? nullptr : &tokens_[it->second];
}

const AddedToken* AddedTokens::byContent(std::string_view content) const {
  for (const AddedToken& t : tokens_)
    if (t.content == content) return &t;
  return nullptr;
}

// Rust's AddedVocabulary::find_matches over one piece of text (`base` is its input offset).
void AddedTokens::splitPass(std::string_view text, size_t base, const Matcher& matcher,
                            std::vector<TextSegment>& out) const {
  size_t plainStart = 0;  // start of the text not yet emitted
  size_t pos = 0;
  while (pos < text.size()) {
    int found = -1;
    for (int index : matcher.byFirstByte[static_cast<unsigned char>(text[pos])])
      if (text.substr(pos).starts_with(tokens_[index].content)) {
        found = index;  // buckets are sorted longest first
        break;
      }
    if (found < 0) {
      ++pos;
      continue;
    }
    const AddedToken& t = tokens_[found];
    size_t start = pos, stop = pos + t.content.size();
    pos = stop;  // the match iterator moves past this match whatever happens to it
    if (start < plainStart) continue;  // swallowed by the previous token's rstrip
    if (t.singleWord && (endsWithWord(text.substr(0, start)) || startsWithWord(text.substr(stop))))
      continue;
    if (t.lstrip) start = std::max(spaceRunStartAtEnd(text.substr(0, start)), plainStart);
    if (t.rstrip) stop += spaceRunLengthAtStart(text.substr(stop));
    if (plainStart < start) out.push_back({base + plainStart, base + start, -1});
    out.push_back({base + start, base + stop, found});
    plainStart = stop;
  }
  if (plainStart < text.size()) out.push_back({base + plainStart, base + text.size(), -1});
}

std::vector<TextSegment> AddedTokens::split(std::string_view text) const {
  std::vector<TextSegment> first, result;
  splitPass(text, 0, nonNormalized_, first);
  for (const TextSegment& s : first) {
    if (s.tokenIndex >= 0) result.push_back(s);
    else splitPass(text.substr(s.start, s.end - s.start), s.start, normalized_, result);
  }
  return result;
}

}  // namespace bitnetc
