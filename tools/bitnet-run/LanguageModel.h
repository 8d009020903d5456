// A loaded language model behind one execution backend: import (checkpoint folder) or parse
// (.bir), the default pass pipeline, then forward(ids, pos) -> logits through the KV cache.
#pragma once
#include <chrono>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "compiler/interp/Interpreter.h"
#include "compiler/ir/IR.h"

namespace bitnetc::run {

struct LoadOptions {
  std::string backend = "interp";
  int64_t maxContext = 0;
  std::string fault;  // InterpreterOptions::fault by name; empty = none
  InterpreterOptions::Observer observer;
  bool verbose = false;
};

class LanguageModel {
 public:
  static std::unique_ptr<LanguageModel> load(const std::string& path, const LoadOptions& options);

  // Runs ids at positions pos.. (the cache must hold pos tokens); returns logits [ids, vocab].
  std::vector<float> forward(const std::vector<int32_t>& ids, int64_t pos);
  void reset();  // empties the KV cache

  int64_t vocabSize() const { return vocab_; }
  int64_t maxContext() const { return maxContext_; }
  std::optional<int32_t> bos() const { return bos_; }
  std::optional<int32_t> eos() const { return eos_; }
  // True for every id generation stops at: eos_token_id and the module's eos_token_ids list.
  bool isEos(int32_t id) const;
  const std::string& tokenizerPath() const { return tokenizer_; }  // empty when none
  const Module& module() const { return *module_; }

 private:
  LanguageModel() = default;
  std::unique_ptr<Module> module_;
  const Function* forward_ = nullptr;
  std::unique_ptr<Interpreter> interp_;
  int64_t vocab_ = 0, maxContext_ = 0;
  std::optional<int32_t> bos_, eos_;
  std::vector<int64_t> eosIds_;
  std::string tokenizer_;
};

// Seconds since `start`.
inline double secondsSince(std::chrono::steady_clock::time_point start) {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
}

}  // namespace bitnetc::run
