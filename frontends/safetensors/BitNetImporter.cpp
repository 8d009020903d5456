// importCheckpoint: a BitNet checkpoint folder -> the @forward graph of docs/IR.md, one decoder
// layer at a time exactly as BITNET.md section 1 spells it. Every tensor is checked against the
// config (dtype and shape) before it becomes a weight; weights keep their checkpoint names.
#include <algorithm>
#include <cmath>
#include <filesystem>
#include <fstream>
#include <set>
#include <sstream>

#include <nlohmann/json.hpp>

#include "compiler/support/Error.h"
#include "compiler/support/JsonNesting.h"
#include "frontends/safetensors/HFConfig.h"
#include "frontends/safetensors/Import.h"
#include "frontends/safetensors/SafetensorsFile.h"
#include "frontends/safetensors/TernaryWeights.h"

namespace bitnetc {

namespace {

bool isFloatDType(const SafetensorsTensor& t) {
  return t.dtypeName == "BF16" || t.dtypeName == "F16" || t.dtypeName == "F32";
}

// Looks tensors up, checks them against the config and adds them to the module as weights.
class WeightLoader {
 public:
  WeightLoader(const CheckpointTensors& tensors, const HFConfig& config, Module& module,
               std::vector<std::string>& notes)
      : tensors_(tensors), config_(config), module_(module), notes_(notes) {}

  const SafetensorsTensor& require(const std::string& name) {
    const SafetensorsTensor* t = tensors_.find(name);
    if (!t) fail(tensors_.source(), ": missing tensor \"", name, "\"");
    used_.insert(name);
    return *t;
  }

  // A float tensor (embedding, norm, lm_head) of exactly this shape, mapped from the file.
  Value* floatWeight(const std::string& name, std::vector<int64_t> shape) {
    if (Value* v = module_.weightValue(name)) return v;
    const SafetensorsTensor& t = require(name);
    if (!isFloatDType(t))
      fail(t.file->path(), ": tensor \"", name, "\" has dtype ", t.dtypeName, ", expected BF16, F16 or F32");
    if (t.shape != shape)
      fail(t.file->path(), ": tensor \"", name, "\" has shape ", t.shapeStr(), ", expected ", shapeString(shape));
    std::vector<Dim> dims;
    for (int64_t d : shape) dims.push_back(Dim::fixed(d));
    return module_.addWeight(fileWeight(t, TensorType(*t.dtype, std::move(dims))));
  }

  // A ternary projection [out, in] named PREFIX.weight: packed U8 (+ PREFIX.weight_scale) or
  // float latent weights to ternarize.
  Value* ternaryWeight(const std::string& prefix, int64_t out, int64_t in) {
    const std::string name = prefix + ".weight";
    const SafetensorsTensor& t = require(name);
    if (t.dtypeName == "U8") {
      const std::vector<int64_t> expected{(out + 3) / 4, in};
      if (t.shape != expected)
        fail(t.file->path(), ": tensor \"", name, "\" has shape ", t.shapeStr(), ", expected ", shapeString(expected),
             " (U8 packed ternary of a [", out, ", ", in, "] matrix)");
      const float scale = readWeightScale(require(prefix + ".weight_scale"));
      checkPackedTernary(t, out, in);
      Weight w = fileWeight(t, TensorType::of(DType::Ternary, {out, in}));
      w.layout = std::string(kLayoutHFBlocked);
      w.scaleRule = config_.scaleRule;
      w.scale = scale;
      ++packedCount_;
      return module_.addWeight(std::move(w));
    }
    if (isFloatDType(t)) {
      const std::vector<int64_t> expected{out, in};
      if (t.shape != expected)
        fail(t.file->path(), ": tensor \"", name, "\" has shape ", t.shapeStr(), ", expected ", shapeString(expected),
             " (", t.dtypeName, " latent weights, ternarized at import)");
      if (tensors_.find(prefix + ".weight_scale")) used_.insert(prefix + ".weight_scale");
      ++latentCount_;
      return module_.addWeight(ternarizeLatent(t, out, in));
    }
    fail(t.file->path(), ": tensor \"", name, "\" has dtype ", t.dtypeName,
         ", expected U8 (packed ternary) or BF16, F16, F32 (latent weights)");
  }

  // Notes about what was done, once all weights are loaded.
  void finish() {
    if (packedCount_)
      notes_.push_back(std::to_string(packedCount_) + " packed ternary weights mapped from the file, scale rule " +
                       std::string(scaleRuleName(config_.scaleRule)) + " (quantization_config.linear_class " +
                       (config_.linearClass.empty() ? "absent" : "\"" + config_.linearClass + "\"") + ")");
    if (latentCount_)
      notes_.push_back(std::to_string(latentCount_) +
                       " latent float weights ternarized at import (absmean per tensor, scale rule mul)");
    std::vector<std::string> unused;
    for (const std::string& n : tensors_.names())
      if (!used_.count(n) && n.find("rotary_emb.inv_freq") == std::string::npos) unused.push_back(n);
    if (!unused.empty())
      notes_.push_back(std::to_string(unused.size()) + " checkpoint tensors are not used by the model, e.g. \"" +
                       unused.front() + "\"");
  }

  ScaleRule usedScaleRule() const { return packedCount_ ? config_.scaleRule : ScaleRule::Mul; }

 private:
  const CheckpointTensors& tensors_;
  const HFConfig& config_;
  Module& module_;
  std::vector<std::string>& notes_;
  std::set<std::string> used_;
  int packedCount_ = 0, latentCount_ = 0;
};

// Builds @forward one op at a time with readable value names.
class GraphBuilder {
 public:
  GraphBuilder(const HFConfig& c, Module& m, WeightLoader& w, int64_t maxContext)
      : c_(c), m_(m), w_(w), seq_(Dim::dynamic("seq", maxContext)), maxContext_(maxContext) {
    f_ = m_.addFunction("forward");
  }

  void build() {
    const int64_t H = c_.hiddenSize;
    Value* tokens = f_->addInput("tokens", TensorType(DType::I32, {seq_}));
    pos_ = f_->addInput("pos", TensorType(DType::I64, {}));
    Value* embed = w_.floatWeight("model.embed_tokens.weight", {c_.vocabSize, H});
    Value* h = f_->add("embedding", {tokens, embed}, "h0", act(H));
    for (int64_t l = 0; l < c_.numLayers; ++l) {
      Value* k = f_->addState("l" + std::to_string(l) + ".k_cache", cacheType());
      Value* v = f_->addState("l" + std::to_string(l) + ".v_cache", cacheType());
      h = layer(l, h, k, v);
    }
    Value* normed = rmsNorm(h, "model.norm.weight", H, "final_norm");
    Value* head = lmHead();
    AttributeList mm;
    mm.set("transpose_b", true);
    mm.set("f32_sum", true);  // full precision in f32, the order a memory-bound GEMV runs (docs/IR.md)
    Value* logits = f_->add("matmul", {normed, head}, "logits", act(c_.vocabSize), std::move(mm));
    f_->setOutputs({logits});
  }

 private:
  TensorType act(int64_t n, DType t = DType::F32) const { return TensorType(t, {seq_, Dim::fixed(n)}); }
  TensorType cacheType() const {
    return TensorType::of(DType::F32, {maxContext_, c_.numKVHeads, c_.headDim});
  }

  Value* rmsNorm(Value* x, const std::string& weight, int64_t n, const std::string& name) {
    AttributeList a;
    a.set("eps", c_.rmsNormEps);
    return f_->add("rms_norm", {x, w_.floatWeight(weight, {n})}, name, act(n), std::move(a));
  }

  // One act_quant; returns {q8, scale}.
  std::pair<Value*, Value*> actQuant(Value* x, int64_t k, const std::string& name) {
    Op* op = f_->addOp("act_quant", {x},
                       {{name + "_q8", act(k, DType::I8)}, {name + "_qs", TensorType(DType::F32, {seq_})}});
    return {op->result(0), op->result(1)};
  }

  Value* bitlinear(std::pair<Value*, Value*> q, const std::string& weight, int64_t out, int64_t in,
                   const std::string& name) {
    Value* w = w_.ternaryWeight(weight, out, in);
    return f_->add("bitlinear", {q.first, q.second, w}, name, act(out));
  }

  Value* rope(Value* x, int64_t heads, const std::string& name) {
    AttributeList a;
    a.set("heads", heads);
    a.set("head_dim", c_.headDim);
    a.set("theta", c_.ropeTheta);
    return f_->add("rope", {x, pos_}, name, act(heads * c_.headDim), std::move(a));
  }

  Value* layer(int64_t l, Value* h, Value* kCache, Value* vCache) {
    const int64_t H = c_.hiddenSize, F = c_.intermediateSize, D = c_.headDim;
    const int64_t qDim = c_.numHeads * D, kvDim = c_.numKVHeads * D;
    const bool oneBit = c_.family == CheckpointFamily::OneBitLLM;
    const std::string p = "model.layers." + std::to_string(l) + ".";
    const std::string n = "l" + std::to_string(l) + ".";

    // Attention block: q, k, v share one activation quantization.
    Value* a = rmsNorm(h, p + "input_layernorm.weight", H, n + "attn_norm");
    auto aq = actQuant(a, H, n + "attn_in");
    Value* q = bitlinear(aq, p + "self_attn.q_proj", qDim, H, n + "q");
    Value* k = bitlinear(aq, p + "self_attn.k_proj", kvDim, H, n + "k");
    Value* v = bitlinear(aq, p + "self_attn.v_proj", kvDim, H, n + "v");
    Value* qr = rope(q, c_.numHeads, n + "q_rope");
    Value* kr = rope(k, c_.numKVHeads, n + "k_rope");
    AttributeList at;
    at.set("heads", c_.numHeads);
    at.set("kv_heads", c_.numKVHeads);
    at.set("head_dim", D);
    at.set("scale", 1.0 / std::sqrt(double(D)));
    Value* o = f_->add("attention", {qr, kr, v, kCache, vCache, pos_}, n + "attn", act(qDim), std::move(at));
    Value* os = rmsNorm(o, p + (oneBit ? "self_attn.inner_attn_ln.weight" : "self_attn.attn_sub_norm.weight"),
                        qDim, n + "attn_sub_norm");
    Value* attnOut = bitlinear(actQuant(os, qDim, n + "o_in"), p + "self_attn.o_proj", H, qDim, n + "attn_out");
    Value* h1 = f_->add("add", {h, attnOut}, n + "h_attn", act(H));

    // Feed-forward block: gate and up share one activation quantization.
    Value* m = rmsNorm(h1, p + "post_attention_layernorm.weight", H, n + "ffn_norm");
    auto mq = actQuant(m, H, n + "ffn_in");
    Value* gate = bitlinear(mq, p + "mlp.gate_proj", F, H, n + "gate");
    Value* up = bitlinear(mq, p + "mlp.up_proj", F, H, n + "up");
    Value* g = f_->add(c_.hiddenAct, {gate}, n + "gate_act", act(F));
    Value* gu = f_->add("mul", {g, up}, n + "gate_up", act(F));
    Value* gs = rmsNorm(gu, p + (oneBit ? "mlp.ffn_layernorm.weight" : "mlp.ffn_sub_norm.weight"), F,
                        n + "ffn_sub_norm");
    Value* down = bitlinear(actQuant(gs, F, n + "down_in"), p + "mlp.down_proj", H, F, n + "ffn_out");
    return f_->add("add", {h1, down}, n + "out", act(H));
  }

  // The LM head: the embedding table when tied (2B-4T), else lm_head.weight.
  Value* lmHead() {
    return w_.floatWeight(c_.tieWordEmbeddings ? "model.embed_tokens.weight" : "lm_head.weight",
                          {c_.vocabSize, c_.hiddenSize});
  }

 private:
  const HFConfig& c_;
  Module& m_;
  WeightLoader& w_;
  Dim seq_;
  int64_t maxContext_;
  Function* f_ = nullptr;
  Value* pos_ = nullptr;
};

// generation_config.json (optional; Llama 3 instruct models list <|eot_id|> there) adds the eos
// ids Hugging Face's generate() also stops at. It is advisory: a malformed one is noted, not fatal.
void addGenerationConfigEos(const std::filesystem::path& path, HFConfig& config, std::vector<std::string>& notes) {
  if (!std::filesystem::is_regular_file(path)) return;
  std::ifstream in(path, std::ios::binary);
  std::ostringstream text;
  text << in.rdbuf();
  nlohmann::json j;
  try {
    checkJsonNesting(text.str(), path.string());
    j = nlohmann::json::parse(text.str());
  } catch (const std::exception& e) {
    notes.push_back(path.string() + " ignored: " + e.what());
    return;
  }
  if (!j.is_object() || !j.contains("eos_token_id")) return;
  const nlohmann::json& v = j["eos_token_id"];
  std::vector<nlohmann::json> ids = v.is_array() ? std::vector<nlohmann::json>(v.begin(), v.end())
                                                 : std::vector<nlohmann::json>{v};
  for (const nlohmann::json& id : ids) {
    if (!id.is_number_integer() || id.get<int64_t>() < 0 || id.get<int64_t>() >= config.vocabSize) continue;
    const int64_t n = id.get<int64_t>();
    if (std::find(config.eosTokenIds.begin(), config.eosTokenIds.end(), n) != config.eosTokenIds.end()) continue;
    config.eosTokenIds.push_back(n);
    notes.push_back("generation_config.json adds eos id " + std::to_string(n));
  }
  if (config.eosTokenId < 0 && !config.eosTokenIds.empty()) config.eosTokenId = config.eosTokenIds.front();
}

}  // namespace

std::unique_ptr<Module> importCheckpoint(const std::string& folder, const ImportOptions& options) {
  namespace fs = std::filesystem;
  if (!fs::is_directory(folder)) fail(folder, ": not a checkpoint folder (no such directory)");
  const fs::path dir = fs::absolute(fs::path(folder)).lexically_normal();
  HFConfig config = HFConfig::load((dir / "config.json").string());
  std::vector<std::string> notes = config.notes;
  CheckpointTensors tensors = CheckpointTensors::open(dir.string());

  // Without tie_word_embeddings in the config, an lm_head.weight tensor means untied (the HF
  // config classes disagree on the default).
  if (!config.tieWordEmbeddingsGiven) {
    config.tieWordEmbeddingsGiven = true;
    config.tieWordEmbeddings = tensors.find("lm_head.weight") == nullptr;
    notes.push_back(std::string("tie_word_embeddings absent from config.json: ") +
                    (config.tieWordEmbeddings ? "tied (no lm_head.weight in the checkpoint)"
                                              : "untied (the checkpoint has lm_head.weight)"));
  } else if (config.tieWordEmbeddings && tensors.find("lm_head.weight")) {
    notes.push_back("tie_word_embeddings is true: lm_head.weight is ignored, logits use model.embed_tokens.weight");
  }

  if (options.maxContext < 0) fail("the maximum context must be positive, got ", options.maxContext);
  const int64_t maxContext = options.maxContext ? options.maxContext : config.maxPositionEmbeddings;
  if (maxContext > config.maxPositionEmbeddings)
    notes.push_back("max context " + std::to_string(maxContext) + " exceeds max_position_embeddings " +
                    std::to_string(config.maxPositionEmbeddings) + " the model was trained for");

  auto module = std::make_unique<Module>();
  module->declareDim("seq", maxContext);
  WeightLoader loader(tensors, config, *module, notes);
  GraphBuilder(config, *module, loader, maxContext).build();
  loader.finish();

  AttributeList& a = module->attrs;
  a.set("architecture", config.architecture);
  if (config.bosTokenId >= 0) a.set("bos_token_id", config.bosTokenId);
  addGenerationConfigEos(dir / "generation_config.json", config, notes);
  if (config.eosTokenId >= 0) a.set("eos_token_id", config.eosTokenId);
  if (config.eosTokenIds.size() > 1) a.set("eos_token_ids", config.eosTokenIds);
  a.set("vocab_size", config.vocabSize);
  a.set("max_context", maxContext);
  a.set("scale_rule", std::string(scaleRuleName(loader.usedScaleRule())));
  const fs::path tokenizer = dir / "tokenizer.json";
  if (fs::exists(tokenizer)) a.set("tokenizer", tokenizer.string());
  else notes.push_back("no tokenizer.json in the folder");

  if (options.notes) options.notes->insert(options.notes->end(), notes.begin(), notes.end());
  return module;
}

}  // namespace bitnetc
