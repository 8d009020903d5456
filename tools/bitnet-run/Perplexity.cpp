#include "tools/bitnet-run/Perplexity.h"

#include <cmath>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <sstream>

#include "compiler/support/Error.h"

namespace bitnetc::run {

double tokenNll(const float* logits, int64_t vocab, int32_t target) {
  double mx = logits[0];
  for (int64_t i = 1; i < vocab; ++i) mx = std::max(mx, double(logits[i]));
  double sum = 0;
  for (int64_t i = 0; i < vocab; ++i) sum += std::exp(double(logits[i]) - mx);
  return -(double(logits[target]) - mx - std::log(sum));
}

void perplexity(LanguageModel& model, const RunOptions& options) {
  if (!model.hasTokenizer())
    fail(options.model, ": the model has no tokenizer (no tokenizer.json); --perplexity needs one");
  if (!model.bos()) fail(options.model, ": the model has no bos_token_id; --perplexity needs one");
  if (options.ctx > model.maxContext())
    fail("--ctx ", options.ctx, " exceeds the model's context of ", model.maxContext(), " (see --max-context)");
  // An ifstream opens a directory and reads nothing from it: say so instead of "no tokens".
  if (std::filesystem::is_directory(*options.perplexityFile))
    fail(*options.perplexityFile, ": is a directory, not a text file");
  std::ifstream in(*options.perplexityFile, std::ios::binary);
  if (!in) fail(*options.perplexityFile, ": cannot open");
  std::stringstream text;
  text << in.rdbuf();
  std::vector<int32_t> ids = model.tokenize(text.str());
  if (options.maxTokens && int64_t(ids.size()) > *options.maxTokens) ids.resize(size_t(*options.maxTokens));
  if (ids.empty()) fail(*options.perplexityFile, ": no tokens to evaluate");

  const int64_t V = model.vocabSize(), n = int64_t(ids.size());
  // A window's last target is never fed to the model, so eval() does not check it.
  for (int32_t id : ids)
    if (id < 0 || id >= V)
      fail(*options.perplexityFile, ": the tokenizer gives token id ", id,
           ", outside the model's vocabulary (size ", V, ")");
  const int64_t windows = (n + options.ctx - 1) / options.ctx;
  double nll = 0;
  int64_t targets = 0;
  auto start = std::chrono::steady_clock::now();
  for (int64_t w = 0; w < windows; ++w) {
    const int64_t begin = w * options.ctx, len = std::min(options.ctx, n - begin);
    std::vector<int32_t> input{*model.bos()};
    input.insert(input.end(), ids.begin() + begin, ids.begin() + begin + len - 1);
    model.reset();
    const std::vector<float> logits = model.eval(input, Logits::All);
    double windowNll = 0;
    for (int64_t t = 0; t < len; ++t) windowNll += tokenNll(logits.data() + t * V, V, ids[size_t(begin + t)]);
    nll += windowNll;
    targets += len;
    std::fprintf(stderr, "window %lld/%lld: %lld tokens, running perplexity %.4f\n", (long long)(w + 1),
                 (long long)windows, (long long)len, std::exp(nll / double(targets)));
  }
  const double seconds = secondsSince(start);
  std::fprintf(stderr, "evaluated %lld tokens in %.3f s: %.2f tokens/s\n", (long long)targets, seconds,
               double(targets) / seconds);
  std::printf("tokens: %lld\n", (long long)targets);
  std::printf("perplexity: %.8g\n", std::exp(nll / double(targets)));
}

}  // namespace bitnetc::run
