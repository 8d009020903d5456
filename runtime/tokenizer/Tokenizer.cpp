#include "runtime/tokenizer/Tokenizer.h"

#include "compiler/support/Error.h"
#include "runtime/tokenizer/AddedTokens.h"
#include "runtime/tokenizer/BpeModel.h"
#include "runtime/tokenizer/ByteLevel.h"
#include "runtime/tokenizer/PreTokenizer.h"
#include "runtime/tokenizer/TokenizerJson.h"
#include "runtime/tokenizer/Utf8.h"

#include <fstream>
#include <nlohmann/json.hpp>
#include <sstream>

namespace bitnetc {

using json = nlohmann::json;

namespace {
enum class DecoderKind { None, ByteLevel };

std::string typeName(const json& j) {
  auto it = j.find("type");
  return it != j.end() && it->is_string() ? it->get<std::string>() : j.dump();
}

// Normalizers change the text before added-token matching and pre-tokenization: only none.
void checkNormalizer(const json& j, const std::string& where) {
  if (j.is_null()) return;
  if (j.is_object() && typeName(j) == "Sequence") {
    auto list = j.find("normalizers");
    if (list != j.end() && list->is_array() && list->empty()) return;  // does nothing
  }
  fail(where, ": normalizer '", typeName(j), "' is not supported (only null)");
}

// ByteLevel, or a Sequence holding exactly one ByteLevel; null joins tokens with spaces as Rust.
DecoderKind parseDecoder(const json& j, const std::string& where) {
  if (j.is_null()) return DecoderKind::None;
  std::string type = j.is_object() ? typeName(j) : j.dump();
  if (type == "ByteLevel") return DecoderKind::ByteLevel;
  if (type == "Sequence") {
    auto list = j.find("decoders");
    if (list != j.end() && list->is_array() && list->size() == 1 && (*list)[0].is_object() &&
        typeName((*list)[0]) == "ByteLevel")
      return DecoderKind::ByteLevel;
    fail(where, ": decoder Sequence is supported only as [ByteLevel], got ", j.dump());
  }
  fail(where, ": decoder '", type, "' is not supported (only ByteLevel)");
}
}  // namespace

struct Tokenizer::Impl {
  std::string name;
  AddedTokens added;
  PreTokenizer preTokenizer;
  BpeModel model;
  DecoderKind decoder;
  int32_t vocabSize = 0;
};

Tokenizer::Tokenizer() = default;
Tokenizer::~Tokenizer() = default;
Tokenizer::Tokenizer(Tokenizer&&) noexcept = default;
Tokenizer& Tokenizer::operator=(Tokenizer&&) noexcept = default;

Tokenizer Tokenizer::fromFile(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) fail(path, ": cannot open tokenizer file");
  std::ostringstream text;
  text << in.rdbuf();
  if (in.bad()) fail(path, ": cannot read tokenizer file");
  return fromJson(text.str(), path);
}

Tokenizer Tokenizer::fromJson(std::string_view text, const std::string& name) {
  BpeTables tables;
  json root = parseTokenizerJson(text, name, tables);
  if (!root.is_object()) fail(name, ": top level is not a JSON object");
  auto field = [&](const char* key) -> const json& {
    static const json null;
    auto it = root.find(key);
    return it == root.end() ? null : *it;
  };
  for (const char* key : {"truncation", "padding"})
    if (!field(key).is_null()) fail(name, ": \"", key, "\" is not supported (must be null)");
  checkNormalizer(field("normalizer"), name + ": normalizer");
  if (field("model").is_null()) fail(name, ": missing \"model\"");

  Tokenizer t;
  t.impl_ = std::unique_ptr<Impl>(new Impl{
      name, AddedTokens::fromJson(field("added_tokens"), name + ": added_tokens"),
      PreTokenizer::fromJson(field("pre_tokenizer"), name + ": pre_tokenizer"),
      BpeModel::fromJson(field("model"), name + ": model", &tables),
      parseDecoder(field("decoder"), name + ": decoder")});
  Impl& impl = *t.impl_;
  int32_t maxId = impl.model.maxId();
  for (const AddedToken& a : impl.added.tokens()) {
    int32_t inVocab = impl.model.tokenId(a.content);
    if (inVocab >= 0 && inVocab != a.id)
      fail(name, ": added token '", a.content, "' has id ", a.id, " but the vocab gives it id ", inVocab);
    const std::string* other = impl.model.tokenString(a.id);
    if (other && *other != a.content)
      fail(name, ": added token '", a.content, "' has id ", a.id, ", which the vocab gives to '", *other, "'");
    maxId = std::max(maxId, a.id);
  }
  impl.vocabSize = maxId + 1;
  return t;
}

std::vector<int32_t> Tokenizer::encode(std::string_view text) const {
  utf8::validate(text, "text to encode");
  std::vector<int32_t> ids;
  std::vector<std::string> pieces;
  for (const TextSegment& segment : impl_->added.split(text)) {
    if (segment.tokenIndex >= 0) {
      ids.push_back(impl_->added.tokens()[segment.tokenIndex].id);
      continue;
    }
    pieces.clear();
    impl_->preTokenizer.run(text.substr(segment.start, segment.end - segment.start), pieces);
    for (const std::string& piece : pieces) impl_->model.tokenize(piece, ids);
  }
  return ids;
}

std::string Tokenizer::tokenString(int32_t id) const {
  if (const AddedToken* a = impl_->added.byId(id)) return a->content;
  if (const std::string* s = impl_->model.tokenString(id)) return *s;
  fail(impl_->name, ": unknown token id ", id, " (vocab size ", impl_->vocabSize, ")");
}

bool Tokenizer::isSpecial(int32_t id) const {
  const AddedToken* a = impl_->added.byId(id);
  return a && a->special;
}

std::string Tokenizer::tokenText(int32_t id) const {
  std::string token = tokenString(id);
  if (impl_->decoder != DecoderKind::ByteLevel || impl_->added.byId(id)) return token;
  // The Rust ByteLevel decoder keeps a token with a character outside the map as it is.
  return bytelevel::decodeToken(token).value_or(token);
}

std::string Tokenizer::decode(const std::vector<int32_t>& ids, bool skipSpecial) const {
  if (impl_->decoder == DecoderKind::None) {  // Rust joins the token strings with spaces
    std::string out;
    bool first = true;
    for (int32_t id : ids) {
      if (skipSpecial && isSpecial(id)) continue;
      if (!first) out += ' ';
      out += tokenString(id);
      first = false;
    }
    return out;
  }
  std::string bytes;
  for (int32_t id : ids) {
    if (skipSpecial && isSpecial(id)) continue;
    bytes += tokenText(id);
  }
  return utf8::decodeLossy(bytes);
}

int32_t Tokenizer::vocabSize() const { return impl_->vocabSize; }

int32_t Tokenizer::tokenId(std::string_view token) const {
  if (const AddedToken* a = impl_->added.byContent(token)) return a->id;
  return impl_->model.tokenId(token);
}

}  // namespace bitnetc
