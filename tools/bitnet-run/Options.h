// bitnet-run's command line: one struct, one parser. Errors throw bitnetc::Error.
#pragma once
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

namespace bitnetc::run {

struct RunOptions {
  std::string model;  // checkpoint folder or .bir file
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
  // Model loading and execution.
  std::string backend = "interp";
  int64_t maxContext = 0;  // 0 = the checkpoint's
  std::string fault;       // --inject-fault (hidden): InterpreterOptions::fault by name
  bool verbose = false;
  bool help = false;
};

// Parses argv; throws Error on an unknown option, a missing or malformed value, or a bad
// combination (e.g. --dump-values with --chunk).
RunOptions parseOptions(int argc, char** argv);
const char* usageText();

}  // namespace bitnetc::run
