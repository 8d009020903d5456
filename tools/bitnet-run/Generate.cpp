#include "tools/bitnet-run/Generate.h"

#include <cstdio>
#include <iostream>
#include <random>

#include "compiler/support/Error.h"
#include "tools/bitnet-run/Sampler.h"

namespace bitnetc::run {

namespace {

// Streams the text of generated ids. The pending ids are decoded together and written once their
// text ends on a complete character: a byte-level token may hold part of a UTF-8 character (the
// interpreter's raw bytes then end in an incomplete sequence, a library's text in U+FFFD). After
// 4 ids (the longest UTF-8 character) the text is written as it is.
class TextStream {
 public:
  explicit TextStream(LanguageModel& model) : model_(model) {}
  void push(int32_t id) {
    pending_.push_back(id);
    const std::string text = model_.detokenize(pending_);
    if (pending_.size() < 4 && endsIncomplete(text)) return;
    write(text);
  }
  void flush() {
    if (!pending_.empty()) write(model_.detokenize(pending_));
  }

 private:
  void write(const std::string& text) {
    std::fwrite(text.data(), 1, text.size(), stdout);
    std::fflush(stdout);
    pending_.clear();
  }
  static bool endsIncomplete(const std::string& s) {
    const size_t n = s.size();
    if (n >= 3 && s.compare(n - 3, 3, "\xEF\xBF\xBD") == 0) return true;  // U+FFFD
    for (size_t back = 1; back <= 4 && back <= n; ++back) {
      const unsigned char c = static_cast<unsigned char>(s[n - back]);
      if ((c & 0xC0) == 0x80) continue;  // continuation byte: look further back
      const size_t need = c >= 0xF0 ? 4 : c >= 0xE0 ? 3 : c >= 0xC0 ? 2 : 1;
      return need > back;
    }
    return false;
  }
  LanguageModel& model_;
  std::vector<int32_t> pending_;
};

}  // namespace

void generate(LanguageModel& model, const RunOptions& options) {
  if (!model.hasTokenizer())
    fail(options.model, ": the model has no tokenizer (no tokenizer.json); use --tokens instead of -p");
  std::vector<int32_t> prompt;
  if (model.bos()) prompt.push_back(*model.bos());
  for (int32_t id : model.tokenize(*options.prompt)) prompt.push_back(id);
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
  TextStream out(model);

  auto start = std::chrono::steady_clock::now();
  std::vector<float> logits = model.eval(prompt, Logits::Last);
  const double prefillSeconds = secondsSince(start);
  int64_t generated = 0, decodeCalls = 0;
  double decodeSeconds = 0;
  while (generated < options.numTokens) {
    const int32_t next = sampler.next(logits.data(), V);
    ++generated;
    if (model.isEos(next)) break;
    out.push(next);
    if (generated == options.numTokens) break;
    start = std::chrono::steady_clock::now();
    logits = model.eval({next}, Logits::Last);
    decodeSeconds += secondsSince(start);
    ++decodeCalls;
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
