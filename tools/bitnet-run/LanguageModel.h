// A language model behind one execution backend, as every bitnet-run mode sees it: eval() of ids
// appended to a KV cache, reset of the cache, the model's facts and its tokenizer.
// Backends: InterpModel (the reference interpreter) and ApiModel (a bitnet_api table, from a
// dlopen()ed library or the JIT). loadModel() picks one from the options.
#pragma once
#include <chrono>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "compiler/interp/Interpreter.h"

namespace bitnetc::run {

enum class Logits { All, Last, None };  // as bitnet_logits_mode

struct ModelFacts {
  std::string backend;      // "interp", "so", "jit"
  std::string description;  // e.g. "interpreter" or the library's target string
  int64_t vocab = 0;
  int64_t maxContext = 0;   // of this session (the KV cache's length)
  std::optional<int32_t> bos;
  std::vector<int64_t> eosIds;  // every id generation stops at
  int64_t weightBytes = 0;      // bytes of weights
  int64_t decodeWeightBytes = 0;  // of those, read per decode token (compiler/ir/WeightTraffic.h)
  int64_t stateBytesPerToken = 0; // KV cache bytes per cached token (a token at position p reads p x)
  int64_t threads = 1;
};

class LanguageModel {
 public:
  virtual ~LanguageModel() = default;

  // Evaluates ids at positions nPast().. and appends them to the KV cache. Returns [n, vocab]
  // logits (All), the last row's [vocab] (Last) or nothing (None). Out-of-range ids and a full
  // context are errors with the same message on every backend.
  std::vector<float> eval(const std::vector<int32_t>& ids, Logits mode);
  virtual int64_t nPast() const = 0;
  virtual void reset() = 0;  // empties the KV cache

  // The tokenizer: the checkpoint's tokenizer.json (interp) or the library's embedded one.
  virtual bool hasTokenizer() const = 0;
  virtual std::vector<int32_t> tokenize(const std::string& text) = 0;  // no BOS added
  // The text of ids, special tokens included; ids the tokenizer lacks (padded vocabularies)
  // give nothing, as in Hugging Face's decode. The interpreter returns the tokens' raw bytes,
  // a library valid UTF-8 (an incomplete character at the end shows as U+FFFD).
  virtual std::string detokenize(const std::vector<int32_t>& ids) = 0;

  const ModelFacts& facts() const { return facts_; }
  int64_t vocabSize() const { return facts_.vocab; }
  int64_t maxContext() const { return facts_.maxContext; }
  std::optional<int32_t> bos() const { return facts_.bos; }
  bool isEos(int32_t id) const;

 protected:
  // ids are in range and fit the context; `out` has room for what `mode` asks.
  virtual void evalChecked(const std::vector<int32_t>& ids, Logits mode, float* out) = 0;
  ModelFacts facts_;
};

struct LoadOptions {
  std::string backend = "interp";  // interp, so, jit
  int64_t maxContext = 0;          // 0 = the model's
  int64_t threads = 1;             // so/jit: 0 = one per online CPU
  std::string fault;               // interp: InterpreterOptions::fault by name; empty = none
  InterpreterOptions::Observer observer;  // interp: --dump-values
  std::string name;                // so: symbol prefix; empty = discover
  std::string weightsPath;         // so: external weights file
  std::string cpu, attrs, kernel;  // jit
  int optLevel = 3;                // jit
  bool verbose = false;
};

std::unique_ptr<LanguageModel> loadModel(const std::string& path, const LoadOptions& options);

// Seconds since `start`.
inline double secondsSince(std::chrono::steady_clock::time_point start) {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
}

}  // namespace bitnetc::run
