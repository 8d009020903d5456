#include "tools/bitnet-run/LanguageModel.h"

#include <algorithm>
#include <filesystem>
#include <iostream>

#include "compiler/ir/Parser.h"
#include "compiler/ir/Verifier.h"
#include "compiler/pass/PassManager.h"
#include "compiler/pass/Pipeline.h"
#include "compiler/support/Error.h"
#include "frontends/safetensors/Import.h"
#include "passes/Passes.h"

namespace bitnetc::run {

namespace {

std::optional<int32_t> intAttr(const Module& m, std::string_view name) {
  if (!m.attrs.has(name)) return std::nullopt;
  return int32_t(m.attrs.getInt(name));
}

}  // namespace

std::unique_ptr<LanguageModel> LanguageModel::load(const std::string& path, const LoadOptions& options) {
  if (options.backend != "interp") fail("unknown backend '", options.backend, "' (available: interp)");
  Fault fault = options.fault.empty() ? Fault::None : faultFromName(options.fault);
  if (!std::filesystem::exists(path)) fail(path, ": no such file or directory");

  std::unique_ptr<LanguageModel> lm(new LanguageModel());
  if (std::filesystem::is_directory(path)) {
    ImportOptions io;
    io.maxContext = options.maxContext;
    std::vector<std::string> notes;
    io.notes = &notes;
    lm->module_ = importCheckpoint(path, io);
    verify(*lm->module_);
    if (options.verbose)
      for (const auto& n : notes) std::cerr << "import: " << n << "\n";
  } else {
    if (options.maxContext) fail("--max-context applies to checkpoint folders only (a .bir fixes its context)");
    const std::string ext = std::filesystem::path(path).extension().string();
    if (ext == ".safetensors" || ext == ".json")
      fail(path, ": a checkpoint is read from its folder (config.json + model.safetensors); give the folder");
    lm->module_ = parseFile(path);
  }
  registerAllPasses();
  PassManagerOptions pm;
  pm.pipeline = splitPipeline(defaultPipeline());
  PassManager(pm, std::cerr).run(*lm->module_);

  const Module& m = *lm->module_;
  lm->forward_ = m.function("forward");
  if (!lm->forward_) fail(path, ": the module has no @forward function");
  const Function& f = *lm->forward_;
  if (f.inputs().size() != 2 || f.outputs().size() != 1)
    fail(path, ": @forward must take (tokens, pos) and return the logits");
  const TensorType& logits = f.outputs()[0]->type;
  if (logits.rank() != 2 || logits.dims[1].isDynamic()) fail(path, ": @forward must return logits [?seq, vocab]");
  lm->vocab_ = logits.dims[1].size;
  const Dim& seq = f.inputs()[0]->type.dims.at(0);
  lm->maxContext_ = seq.upperBound();
  if (m.attrs.has("max_context")) lm->maxContext_ = std::min(lm->maxContext_, m.attrs.getInt("max_context"));
  lm->bos_ = intAttr(m, "bos_token_id");
  lm->eos_ = intAttr(m, "eos_token_id");
  if (m.attrs.has("eos_token_ids")) lm->eosIds_ = m.attrs.getInts("eos_token_ids");
  if (m.attrs.has("tokenizer")) lm->tokenizer_ = m.attrs.getString("tokenizer");

  InterpreterOptions io;
  io.fault = fault;
  io.observer = options.observer;
  lm->interp_ = std::make_unique<Interpreter>(m, f, io);
  if (options.verbose) {
    std::cerr << "model: " << path << " (vocab " << lm->vocab_ << ", context " << lm->maxContext_
              << ", " << f.ops().size() << " ops, " << m.weights().size() << " weights";
    if (m.attrs.has("scale_rule")) std::cerr << ", scale rule " << m.attrs.getString("scale_rule");
    std::cerr << ", passes " << defaultPipeline() << ", backend " << options.backend << ")\n";
  }
  return lm;
}

std::vector<float> LanguageModel::forward(const std::vector<int32_t>& ids, int64_t pos) {
  for (int32_t id : ids)
    if (id < 0 || id >= vocab_) fail("token id ", id, " is out of range (vocabulary size ", vocab_, ")");
  if (pos + int64_t(ids.size()) > maxContext_)
    fail("context overflow: ", pos + int64_t(ids.size()), " tokens exceed the model's context of ", maxContext_,
         " (see --max-context)");
  auto out = interp_->run({HostTensor::fromI32({int64_t(ids.size())}, ids), HostTensor::scalarI64(pos)});
  const HostTensor& logits = out.at(0);
  if (logits.dtype != DType::F32) fail("@forward returned ", dtypeName(logits.dtype), " logits, expected f32");
  return std::vector<float>(logits.as<float>(), logits.as<float>() + logits.numElements());
}

bool LanguageModel::isEos(int32_t id) const {
  return (eos_ && id == *eos_) || std::find(eosIds_.begin(), eosIds_.end(), int64_t(id)) != eosIds_.end();
}

void LanguageModel::reset() { interp_->resetState(); }

}  // namespace bitnetc::run
