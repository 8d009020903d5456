// bitnet-run's command line: one struct, one parser. Errors throw bitnetc::Error.
#pragma once
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "frontends/ModelInput.h"

namespace bitnetc::run {

struct RunOptions {
  std::string model;  // checkpoint folder, .bir file, or a library compiled by bitnetc (.so)
  // Generation.
  std::optional<std::string> prompt;
  int64_t numTokens = 32;
  double temperature = 0.0;  // 0 = greedy
  int64_t topK = 0;          // 0 = no top-k cut
  double topP = 1.0;         // 1 = no nucleus cut
  std::optional<uint64_t> seed;
  // Perplexity.
  std::optional<std::string> perplexityFile;
  int64_t ctx = 128;
  std::optional<int64_t> maxTokens;
  // Logits and value dumps.
  std::optional<std::vector<int32_t>> tokens;
  std::optional<std::string> logitsOut;
  bool allLogits = false;
  int64_t chunk = 0;  // 0 = all tokens in one call
  std::optional<std::string> dumpDir;
  // Benchmark.
  bool bench = false;
  int64_t benchPrefill = 128;
  int64_t benchDecode = 64;
  int64_t benchRepeat = 3;
  bool json = false;
  // Generic graphs (an ONNX model or any IR @main without state): graph mode is on for a .onnx
  // model and whenever one of these is given.
  bool graph = false;
  std::vector<std::string> inputs;    // --input [NAME=]FILE (.npy or .pb), in order
  std::vector<std::string> inputPb;   // --input-pb DIR (its input_*.pb) or FILE.pb, in order
  std::optional<std::string> outputDir;
  bool signature = false;
  std::optional<std::string> expectDir;  // --expect DIR: NAME.npy or output_*.pb
  bool comparePb = false;                // the output_*.pb beside the --input-pb files
  double rtol = 1e-3, atol = 1e-7;       // ONNX backend-test defaults
  bool benchRepeatGiven = false;
  ModelInputOptions input;  // importing a .onnx: --dim, --max-seq, --const-input
  bool inputGiven = false;
  // Model loading and execution.
  std::string backend;     // interp, so, jit; resolved by parseOptions (a .so gets so, else interp)
  int64_t maxContext = 0;  // 0 = the model's
  int64_t threads = 1;     // so/jit sessions: 0 = one per online CPU
  bool threadsGiven = false;
  std::string fault;       // --inject-fault (hidden): InterpreterOptions::fault by name
  // --backend so.
  std::string name;         // the library's symbol prefix; empty = the one *_bitnet_api symbol
  std::string weightsPath;  // a --weights=external library's .weights file; empty = beside it
  // --backend jit (as bitnetc takes them).
  std::string cpu;    // -mcpu; empty = native
  std::string attrs;  // -mattr
  int optLevel = 3;   // -O0..-O3
  bool optLevelGiven = false;
  std::string kernel;  // --kernel: force one bitlinear kernel
  bool verbose = false;
  bool help = false;
};

// Parses argv; throws Error on an unknown option, a missing or malformed value, or a bad
// combination (e.g. --dump-values with --chunk, or with a backend other than interp).
RunOptions parseOptions(int argc, char** argv);
const char* usageText();

}  // namespace bitnetc::run
