#include "runtime/tokenizer/TokenizerJson.h"

#include "compiler/support/Error.h"
#include "compiler/support/JsonNesting.h"

namespace bitnetc {

using json = nlohmann::json;

namespace {

// SAX handler: forwards every event to nlohmann's tree builder, except the contents of
// model.vocab (an object) and model.merges (an array), which it collects itself; the tree gets
// null in their place.
class Loader : public nlohmann::json_sax<json> {
 public:
  Loader(json& root, BpeTables& tables) : dom_(root, true), tables_(tables) {}

  bool null() override { return capture_ ? entry("null") : dom_.null(); }
  bool boolean(bool v) override { return capture_ ? entry("a boolean") : dom_.boolean(v); }
  bool number_integer(number_integer_t v) override {
    return capture_ == Capture::Vocab ? vocabId(v) : capture_ ? entry("a number") : dom_.number_integer(v);
  }
  bool number_unsigned(number_unsigned_t v) override {
    if (capture_ == Capture::Vocab) return vocabId(v > INT64_MAX ? -1 : static_cast<int64_t>(v));
    return capture_ ? entry("a number") : dom_.number_unsigned(v);
  }
  bool number_float(number_float_t v, const string_t& s) override {
    return capture_ ? entry("a number") : dom_.number_float(v, s);
  }
  bool string(string_t& v) override {
    if (capture_ != Capture::Merges) return capture_ ? entry("a string") : dom_.string(v);
    if (pairDepth_ == 1) {
      pair_.push_back(std::move(v));
      return true;
    }
    std::string left, right;
    if (!splitMergeString(v, left, right))
      error("merges[" + std::to_string(tables_.merges.size()) + "] '" + v +
            "' is not two tokens separated by one space");
    tables_.merges.emplace_back(std::move(left), std::move(right));
    return true;
  }
  bool binary(binary_t& v) override { return capture_ ? entry("binary") : dom_.binary(v); }

  bool start_object(std::size_t n) override {
    if (capture_) return entry("an object");
    if (atModelField("vocab") && !tables_.haveVocab) {
      capture_ = Capture::Vocab;
      tables_.haveVocab = true;
      return true;
    }
    keys_.emplace_back();
    return dom_.start_object(n);
  }
  bool key(string_t& k) override {
    if (capture_ == Capture::Vocab) {
      pendingKey_ = std::move(k);
      return true;
    }
    if (capture_) return entry("an object");
    keys_.back() = k;
    return dom_.key(k);
  }
  bool end_object() override {
    if (capture_ == Capture::Vocab) {
      capture_ = Capture::None;
      return dom_.null();
    }
    if (capture_) return true;  // already reported by start_object
    keys_.pop_back();
    return dom_.end_object();
  }
  bool start_array(std::size_t n) override {
    if (capture_ == Capture::Merges && pairDepth_ == 0) {
      pairDepth_ = 1;
      pair_.clear();
      return true;
    }
    if (capture_) return entry("an array");
    if (atModelField("merges") && !tables_.haveMerges) {
      capture_ = Capture::Merges;
      tables_.haveMerges = true;
      return true;
    }
    keys_.emplace_back();
    return dom_.start_array(n);
  }
  bool end_array() override {
    if (capture_ == Capture::Merges) {
      if (pairDepth_ == 1) {
        pairDepth_ = 0;
        if (pair_.size() != 2)
          error("merges[" + std::to_string(tables_.merges.size()) + "] is neither \"a b\" nor [\"a\", \"b\"]");
        pair_.resize(2);
        tables_.merges.emplace_back(std::move(pair_[0]), std::move(pair_[1]));
        return true;
      }
      capture_ = Capture::None;
      return dom_.null();
    }
    if (capture_) return true;
    keys_.pop_back();
    return dom_.end_array();
  }
  bool parse_error(std::size_t position, const std::string& token,
                   const nlohmann::detail::exception& e) override {
    return dom_.parse_error(position, token, e);
  }

 private:
  enum Capture { None = 0, Vocab, Merges };

  // True when the value about to start is root["model"][field].
  bool atModelField(const char* field) const {
    return keys_.size() == 2 && keys_[0] == "model" && keys_[1] == field;
  }
  bool vocabId(int64_t id) {
    tables_.vocab.emplace_back(std::move(pendingKey_), id);
    return true;
  }
  // A value of the wrong kind inside vocab or merges.
  bool entry(const char* what) {
    if (capture_ == Capture::Vocab)
      error("vocab entry '" + pendingKey_ + "' has " + what + " as id, not a non-negative 32-bit integer");
    else
      error("merges[" + std::to_string(tables_.merges.size()) + "] is neither \"a b\" nor [\"a\", \"b\"]: it holds " + what);
    return false;  // stop parsing: the message is reported by the caller
  }
  void error(const std::string& message) {
    if (tables_.error.empty()) tables_.error = message;
  }

  nlohmann::detail::json_sax_dom_parser<json> dom_;
  BpeTables& tables_;
  std::vector<std::string> keys_;  // the current key of each open container (arrays: "")
  Capture capture_ = Capture::None;
  int pairDepth_ = 0;
  std::vector<std::string> pair_;
  std::string pendingKey_;
};

}  // namespace

json parseTokenizerJson(std::string_view text, const std::string& name, BpeTables& tables) {
  checkJsonNesting(text, name);
  json root;
  Loader loader(root, tables);
  bool complete = false;
  try {
    complete = json::sax_parse(text.begin(), text.end(), &loader);
  } catch (const json::exception& e) {
    fail(name, ": not valid JSON: ", e.what());
  }
  if (!tables.error.empty()) fail(name, ": model: ", tables.error);
  if (!complete) fail(name, ": not valid JSON");
  return root;
}

}  // namespace bitnetc
