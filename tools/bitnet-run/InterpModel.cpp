#include "tools/bitnet-run/InterpModel.h"

#include <cstring>
#include <iostream>
#include <optional>

#include "compiler/ir/WeightTraffic.h"
#include "compiler/pass/Pipeline.h"
#include "compiler/support/Error.h"
#include "runtime/tokenizer/Tokenizer.h"
#include "tools/bitnet-run/ModuleLoader.h"

namespace bitnetc::run {

namespace {

class InterpModel : public LanguageModel {
 public:
  InterpModel(LoadedModule lm, const LoadOptions& options) : lm_(std::move(lm)) {
    const Module& m = *lm_.module;
    InterpreterOptions io;
    io.fault = options.fault.empty() ? Fault::None : faultFromName(options.fault);
    io.observer = options.observer;
    interp_ = std::make_unique<Interpreter>(m, *lm_.forward, io);

    facts_.backend = "interp";
    facts_.description = "reference interpreter";
    facts_.vocab = lm_.vocab;
    facts_.maxContext = lm_.maxContext;
    if (m.attrs.has("bos_token_id")) facts_.bos = int32_t(m.attrs.getInt("bos_token_id"));
    if (m.attrs.has("eos_token_id")) facts_.eosIds.push_back(m.attrs.getInt("eos_token_id"));
    if (m.attrs.has("eos_token_ids"))
      for (int64_t id : m.attrs.getInts("eos_token_ids")) facts_.eosIds.push_back(id);
    for (const auto& w : m.weights()) facts_.weightBytes += int64_t(w->byteSize);
    facts_.decodeWeightBytes = weightBytesPerToken(*lm_.forward);
    facts_.stateBytesPerToken = stateBytesPerToken(*lm_.forward);
    facts_.threads = 1;
    if (m.attrs.has("tokenizer")) tokenizerPath_ = m.attrs.getString("tokenizer");
  }

  int64_t nPast() const override { return nPast_; }
  void reset() override {
    interp_->resetState();
    nPast_ = 0;
  }
  bool hasTokenizer() const override { return !tokenizerPath_.empty(); }
  std::vector<int32_t> tokenize(const std::string& text) override { return tokenizer().encode(text); }
  std::string detokenize(const std::vector<int32_t>& ids) override {
    std::string text;
    for (int32_t id : ids) {
      try {
        text += tokenizer().tokenText(id);
      } catch (const Error&) {  // the only error: an id the tokenizer does not have
      }
    }
    return text;
  }

 protected:
  void evalChecked(const std::vector<int32_t>& ids, Logits mode, float* out) override {
    const int64_t n = int64_t(ids.size());
    auto results = interp_->run({HostTensor::fromI32({n}, ids), HostTensor::scalarI64(nPast_)});
    nPast_ += n;
    const HostTensor& logits = results.at(0);
    if (logits.dtype != DType::F32) fail("@forward returned ", dtypeName(logits.dtype), " logits, expected f32");
    const float* all = logits.as<float>();
    const size_t V = size_t(facts_.vocab);
    if (mode == Logits::All) std::memcpy(out, all, size_t(n) * V * sizeof(float));
    else if (mode == Logits::Last) std::memcpy(out, all + size_t(n - 1) * V, V * sizeof(float));
  }

 private:
  const Tokenizer& tokenizer() {
    if (tokenizerPath_.empty()) fail("the model has no tokenizer (no tokenizer.json)");
    if (!tokenizer_) tokenizer_.emplace(Tokenizer::fromFile(tokenizerPath_));
    return *tokenizer_;
  }

  LoadedModule lm_;
  std::unique_ptr<Interpreter> interp_;
  int64_t nPast_ = 0;
  std::string tokenizerPath_;
  std::optional<Tokenizer> tokenizer_;
};

}  // namespace

std::unique_ptr<LanguageModel> loadInterpModel(const std::string& path, const LoadOptions& options) {
  LoadedModule lm = loadModule(path, options.maxContext, options.verbose);
  if (options.verbose) {
    const Module& m = *lm.module;
    std::cerr << "model: " << path << " (vocab " << lm.vocab << ", context " << lm.maxContext << ", "
              << lm.forward->ops().size() << " ops, " << m.weights().size() << " weights";
    if (m.attrs.has("scale_rule")) std::cerr << ", scale rule " << m.attrs.getString("scale_rule");
    std::cerr << ", passes " << defaultPipeline() << ", backend interp)\n";
  }
  return std::make_unique<InterpModel>(std::move(lm), options);
}

}  // namespace bitnetc::run
