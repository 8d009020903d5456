#include "tools/bitnet-run/Generate.h"

#include <cstdio>
#include <iostream>
#include <random>

#include "compiler/support/Error.h"
#include "runtime/tokenizer/Tokenizer.h"
#include "tools/bitnet-run/Sampler.h"

namespace bitnetc::run {

namespace {

// Streams token bytes, holding back an incomplete UTF-8 sequence at the end until it completes.
class Utf8Stream {
 public:
  void write(const std::string& bytes) {
    pending_ += bytes;
    const size_t n = completePrefix();
    std::fwrite(pending_.data(), 1, n, stdout);
    std::fflush(stdout);
    pending_.erase(0, n);
  }
  void flush() {
    std::fwrite(pending_.data(), 1, pending_.size(), stdout);
    pending_.clear();
    std::fflush(stdout);
  }

 private:
  // Length of pending_ without a trailing, still incomplete multi-byte sequence.
  size_t completePrefix() const {
    const size_t n = pending_.size();
    for (size_t back = 1; back <= 4 && back <= n; ++back) {
      const unsigned char c = static_cast<unsigned char>(pending_[n - back]);
      if ((c & 0xC0) == 0x80) continue;  // continuation byte: look further back
      const size_t need = c >= 0xF0 ? 4 : c >= 0xE0 ? 3 : c >= 0xC0 ? 2 : 1;
      return need > back ? n - back : n;
    }
    return n;
  }
  std::string pending_;
};

}  // namespace

void generate(LanguageModel& model, const RunOptions& options) {
  if (model.tokenizerPath().empty())
    fail(options.model, ": the model has no tokenizer (no tokenizer.json); use --tokens instead of -p");
  const Tokenizer tokenizer = Tokenizer::fromFile(model.tokenizerPath());
  std::vector<int32_t> prompt;
  if (model.bos()) prompt.push_back(*model.bos());
  for (int32_t id : tokenizer.encode(*options.prompt)) prompt.push_back(id);
  if (prompt.empty()) fail("the prompt is empty and the model has no bos_token_id");
  // Compared without adding: -n may be as large as INT64_MAX.
  const int64_t room = model.maxContext() - int64_t(prompt.size());
  if (room < 0 || std::max<int64_t>(options.numTokens - 1, 0) > room)
    fail("the prompt (", prompt.size(), " tokens) and ", options.numTokens, " new tokens exceed the model's context of ",
         model.maxContext(), " (use a smaller -n or --max-context)");

  SamplerOptions so{options.temperature, options.topK, options.topP, 0};
  so.seed = options.seed ? *options.seed : std::random_device{}();
  if (options.verbose && options.temperature > 0) std::cerr << "seed: " << so.seed << "\n";
  Sampler sampler(so);
  const int64_t V = model.vocabSize();

  std::fwrite(options.prompt->data(), 1, options.prompt->size(), stdout);
  std::fflush(stdout);
  Utf8Stream out;

  auto start = std::chrono::steady_clock::now();
  std::vector<float> logits = model.forward(prompt, 0);
  const double prefillSeconds = secondsSince(start);
  int64_t pos = int64_t(prompt.size());
  int64_t generated = 0, decodeCalls = 0;
  double decodeSeconds = 0;
  const float* last = logits.data() + (int64_t(prompt.size()) - 1) * V;
  while (generated < options.numTokens) {
    const int32_t next = sampler.next(last, V);
    ++generated;
    if (model.isEos(next)) break;
    // Models often pad their vocabulary past the tokenizer's: such ids decode to nothing, as in
    // Hugging Face's decode, instead of ending the run.
    std::string text;
    try {
      text = tokenizer.tokenText(next);
    } catch (const Error&) {  // the only error: an id the tokenizer does not have
    }
    out.write(text);
    if (generated == options.numTokens) break;
    start = std::chrono::steady_clock::now();
    logits = model.forward({next}, pos++);
    decodeSeconds += secondsSince(start);
    ++decodeCalls;
    last = logits.data();
  }
  out.flush();
  std::printf("\n");
  std::fflush(stdout);
  std::fprintf(stderr, "prompt tokens: %zu, generated tokens: %lld\n", prompt.size(), (long long)generated);
  std::fprintf(stderr, "prefill: %.2f tokens/s (%.3f s), decode: %.2f tokens/s (%lld tokens, %.3f s)\n",
               double(prompt.size()) / prefillSeconds, prefillSeconds,
               decodeCalls ? double(decodeCalls) / decodeSeconds : 0.0, (long long)decodeCalls, decodeSeconds);
}

}  // namespace bitnetc::run
