#include "runtime/tokenizer/PreTokenizer.h"

#include "compiler/support/Error.h"
#include "runtime/tokenizer/ByteLevel.h"

#include <nlohmann/json.hpp>
#include <algorithm>
#include <optional>

namespace bitnetc {

using json = nlohmann::json;

namespace {
// The regex of the ByteLevel pre-tokenizer when use_regex is true (GPT-2's).
constexpr const char* kGpt2Pattern =
    R"('s|'t|'re|'ve|'m|'ll|'d| ?\p{L}+| ?\p{N}+| ?[^\s\p{L}\p{N}]+|\s+(?!\S)|\s+)";

const Regex& gpt2Regex() {
  static const Regex regex = Regex::fromOniguruma(kGpt2Pattern, "ByteLevel pre_tokenizer");
  return regex;
}

bool requireBool(const json& j, const char* key, const std::string& where) {
  auto it = j.find(key);
  if (it == j.end() || !it->is_boolean()) fail(where, ": missing boolean field '", key, "'");
  return it->get<bool>();
}

std::string typeOf(const json& j, const std::string& where) {
  if (!j.is_object()) fail(where, ": expected an object");
  auto it = j.find("type");
  if (it == j.end() || !it->is_string()) fail(where, ": missing \"type\"");
  return it->get<std::string>();
}

SplitBehavior parseBehavior(const json& j, const std::string& where) {
  if (!j.is_string()) fail(where, ": \"behavior\" must be a string");
  std::string name = j.get<std::string>();
  if (name == "Removed") return SplitBehavior::Removed;
  if (name == "Isolated") return SplitBehavior::Isolated;
  if (name == "MergedWithPrevious") return SplitBehavior::MergedWithPrevious;
  if (name == "MergedWithNext") return SplitBehavior::MergedWithNext;
  if (name == "Contiguous") return SplitBehavior::Contiguous;
  fail(where, ": unknown split behavior '", name, "'");
}
}  // namespace

struct PreTokenizer::Step {
  enum class Kind { ByteLevel, Split } kind = Kind::ByteLevel;
  bool addPrefixSpace = false;
  bool useRegex = false;
  std::optional<Regex> regex;  // Split only
  SplitBehavior behavior = SplitBehavior::Isolated;
};

std::vector<std::pair<size_t, size_t>> splitByRegex(std::string_view text, const Regex& regex,
                                                    SplitBehavior behavior) {
  // Step 1 (Rust's Pattern::find_matches): the text as alternating gaps and matches.
  struct Part {
    size_t start, end;
    bool isMatch;
  };
  std::vector<Part> parts;
  size_t previous = 0;
  for (auto [start, end] : regex.findAll(text)) {
    if (previous != start) parts.push_back({previous, start, false});
    parts.push_back({start, end, true});
    previous = end;
  }
  if (previous != text.size()) parts.push_back({previous, text.size(), false});

  // Step 2: merge or drop the matches as the behavior says (Rust's NormalizedString::split).
  std::vector<std::pair<size_t, size_t>> pieces;
  bool previousMatch = false;
  switch (behavior) {
    case SplitBehavior::Isolated:
      for (const Part& p : parts) pieces.emplace_back(p.start, p.end);
      break;
    case SplitBehavior::Removed:
      for (const Part& p : parts)
        if (!p.isMatch) pieces.emplace_back(p.start, p.end);
      break;
    case SplitBehavior::Contiguous:
      for (const Part& p : parts) {
        if (p.isMatch == previousMatch && !pieces.empty()) pieces.back().second = p.end;
        else pieces.emplace_back(p.start, p.end);
        previousMatch = p.isMatch;
      }
      break;
    case SplitBehavior::MergedWithPrevious:
      for (const Part& p : parts) {
        if (p.isMatch && !previousMatch && !pieces.empty()) pieces.back().second = p.end;
        else pieces.emplace_back(p.start, p.end);
        previousMatch = p.isMatch;
      }
      break;
    case SplitBehavior::MergedWithNext:
      // Walks backwards: a match joins the piece that follows it.
      for (size_t i = parts.size(); i-- > 0;) {
        const Part& p = parts[i];
        if (p.isMatch && !previousMatch && !pieces.empty()) pieces.back().first = p.start;
        else pieces.emplace_back(p.start, p.end);
        previousMatch = p.isMatch;
      }
      std::reverse(pieces.begin(), pieces.end());
      break;
  }
  std::erase_if(pieces, [](const auto& p) { return p.first == p.second; });
  return pieces;
}

void PreTokenizer::addSteps(const json& config, const std::string& where) {
  std::string type = typeOf(config, where);
  if (type == "Sequence") {
    auto it = config.find("pretokenizers");
    if (it == config.end() || !it->is_array()) fail(where, ": Sequence without \"pretokenizers\" array");
    for (size_t i = 0; i < it->size(); ++i)
      addSteps((*it)[i], where + ".pretokenizers[" + std::to_string(i) + "]");
    return;
  }
  if (type == "ByteLevel") {
    Step step;
    step.kind = Step::Kind::ByteLevel;
    step.addPrefixSpace = requireBool(config, "add_prefix_space", where);
    auto useRegex = config.find("use_regex");  // defaults to true, as in Rust
    if (useRegex != config.end() && !useRegex->is_boolean())
      fail(where, ": \"use_regex\" must be a boolean");
    step.useRegex = useRegex == config.end() || useRegex->get<bool>();
    steps_.push_back(std::move(step));
    return;
  }
  if (type == "Split") {
    Step step;
    step.kind = Step::Kind::Split;
    auto pattern = config.find("pattern");
    if (pattern == config.end() || !pattern->is_object())
      fail(where, ": Split without \"pattern\" object");
    if (auto re = pattern->find("Regex"); re != pattern->end() && re->is_string())
      step.regex = Regex::fromOniguruma(re->get<std::string>(), where + ".pattern.Regex");
    else if (auto s = pattern->find("String"); s != pattern->end() && s->is_string())
      step.regex = Regex::fromLiteral(s->get<std::string>(), where + ".pattern.String");
    else
      fail(where, ": Split pattern must be {\"Regex\": ...} or {\"String\": ...}");
    auto behavior = config.find("behavior");
    if (behavior == config.end()) fail(where, ": Split without \"behavior\"");
    step.behavior = parseBehavior(*behavior, where);
    auto invert = config.find("invert");
    if (invert != config.end() && !(invert->is_boolean() && !invert->get<bool>()))
      fail(where, ": Split with \"invert\": true is not supported");
    steps_.push_back(std::move(step));
    return;
  }
  fail(where, ": pre_tokenizer type '", type,
       "' is not supported (supported: ByteLevel, Split, Sequence)");
}

PreTokenizer PreTokenizer::fromJson(const json& config, const std::string& where) {
  PreTokenizer p;
  if (!config.is_null()) p.addSteps(config, where);
  return p;
}

void PreTokenizer::run(std::string_view text, std::vector<std::string>& out) const {
  std::vector<std::string> pieces;
  if (!text.empty()) pieces.emplace_back(text);
  std::vector<std::string> next;
  for (const Step& step : steps_) {
    next.clear();
    for (std::string& piece : pieces) {
      if (step.kind == Step::Kind::Split) {
        for (auto [start, end] : splitByRegex(piece, *step.regex, step.behavior))
          next.emplace_back(piece.substr(start, end - start));
        continue;
      }
      // ByteLevel: optional prefix space, optional GPT-2 split, then bytes -> characters.
      if (step.addPrefixSpace && piece.front() != ' ') piece.insert(0, 1, ' ');
      if (!step.useRegex) {
        std::string mapped;
        bytelevel::encode(piece, mapped);
        next.push_back(std::move(mapped));
        continue;
      }
      for (auto [start, end] : splitByRegex(piece, gpt2Regex(), SplitBehavior::Isolated)) {
        std::string mapped;
        bytelevel::encode(std::string_view(piece).substr(start, end - start), mapped);
        next.push_back(std::move(mapped));
      }
    }
    pieces.swap(next);
  }
  for (std::string& piece : pieces) out.push_back(std::move(piece));
}

PreTokenizer::PreTokenizer(PreTokenizer&&) noexcept = default;
PreTokenizer& PreTokenizer::operator=(PreTokenizer&&) noexcept = default;
PreTokenizer::~PreTokenizer() = default;

}  // namespace bitnetc
