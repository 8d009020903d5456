#include "tools/bitnet-run/Bench.h"

#include <sys/resource.h>

#include <algorithm>
#include <cstdio>
#include <nlohmann/json.hpp>

#include "compiler/support/Error.h"

namespace bitnetc::run {

namespace {

struct Runs {
  int64_t tokens = 0;
  std::vector<double> seconds;
  double median() const {
    std::vector<double> s = seconds;
    std::sort(s.begin(), s.end());
    const size_t n = s.size();
    return n % 2 ? s[n / 2] : (s[n / 2 - 1] + s[n / 2]) / 2;
  }
  double tokensPerSecond() const { return double(tokens) / median(); }
};

// Spread-out ids below the vocabulary (the speed does not depend on which ids they are).
std::vector<int32_t> benchIds(int64_t n, int64_t vocab) {
  std::vector<int32_t> ids(static_cast<size_t>(n));
  for (int64_t i = 0; i < n; ++i) ids[size_t(i)] = int32_t((1 + i * 7919) % vocab);
  return ids;
}

double prefillOnce(LanguageModel& model, const std::vector<int32_t>& ids) {
  model.reset();
  const auto start = std::chrono::steady_clock::now();
  model.eval(ids, Logits::Last);
  return secondsSince(start);
}

double decodeOnce(LanguageModel& model, const std::vector<int32_t>& ids) {
  model.reset();
  const auto start = std::chrono::steady_clock::now();
  for (int32_t id : ids) model.eval({id}, Logits::Last);
  return secondsSince(start);
}

int64_t peakRssBytes() {
  rusage ru{};
  getrusage(RUSAGE_SELF, &ru);
  return int64_t(ru.ru_maxrss) * 1024;  // Linux reports KiB
}

nlohmann::ordered_json runsJson(const Runs& r) {
  return {{"tokens", r.tokens},
          {"seconds", r.seconds},
          {"median_seconds", r.median()},
          {"tokens_per_second", r.tokensPerSecond()}};
}

}  // namespace

void bench(LanguageModel& model, const RunOptions& options, double loadSeconds) {
  const ModelFacts& f = model.facts();
  for (auto [n, flag] : {std::pair{options.benchPrefill, "--bench-prefill"}, std::pair{options.benchDecode, "--bench-decode"}})
    if (n > f.maxContext)
      fail(flag, " ", n, " exceeds the model's context of ", f.maxContext, " (use a smaller ", flag, ")");

  const std::vector<int32_t> prefillIds = benchIds(options.benchPrefill, f.vocab);
  const std::vector<int32_t> decodeIds = benchIds(options.benchDecode, f.vocab);
  // Warm-up: pages of the weights and caches touched, thread pool started, code faulted in.
  prefillOnce(model, std::vector<int32_t>(prefillIds.begin(), prefillIds.begin() + std::min<int64_t>(8, options.benchPrefill)));
  decodeOnce(model, {decodeIds[0]});

  Runs prefill{options.benchPrefill, {}}, decode{options.benchDecode, {}};
  for (int64_t r = 0; r < options.benchRepeat; ++r) {
    prefill.seconds.push_back(prefillOnce(model, prefillIds));
    decode.seconds.push_back(decodeOnce(model, decodeIds));
    if (options.verbose)
      std::fprintf(stderr, "run %lld: prefill %.4f s, decode %.4f s\n", (long long)(r + 1), prefill.seconds.back(),
                   decode.seconds.back());
  }
  model.reset();
  const double weightGBs = double(f.weightBytes) * decode.tokensPerSecond() / 1e9;
  const int64_t rss = peakRssBytes();

  if (options.json) {
    nlohmann::ordered_json j = {{"model", options.model},
                        {"backend", f.backend},
                        {"description", f.description},
                        {"threads", f.threads},
                        {"context", f.maxContext},
                        {"vocab", f.vocab},
                        {"weight_bytes", f.weightBytes},
                        {"load_seconds", loadSeconds},
                        {"repeats", options.benchRepeat},
                        {"prefill", runsJson(prefill)},
                        {"decode", runsJson(decode)},
                        {"decode_weight_gb_per_second", weightGBs},
                        {"peak_rss_bytes", rss}};
    std::printf("%s\n", j.dump().c_str());
    return;
  }
  std::printf("model     %s\n", options.model.c_str());
  std::printf("backend   %s (%s)\n", f.backend.c_str(), f.description.c_str());
  std::printf("threads   %lld\n", (long long)f.threads);
  std::printf("weights   %.3f MB, read once per decode token\n", double(f.weightBytes) / 1e6);
  std::printf("load      %.4f s\n", loadSeconds);
  std::printf("runs      %lld of each, median reported\n\n", (long long)options.benchRepeat);
  std::printf("| %-14s | %12s | %12s | %12s |\n", "test", "tokens/s", "median s", "weights GB/s");
  std::printf("|----------------|--------------|--------------|--------------|\n");
  const std::string pp = "prefill " + std::to_string(prefill.tokens), tg = "decode " + std::to_string(decode.tokens);
  std::printf("| %-14s | %12.2f | %12.6f | %12s |\n", pp.c_str(), prefill.tokensPerSecond(), prefill.median(), "");
  std::printf("| %-14s | %12.2f | %12.6f | %12.3f |\n", tg.c_str(), decode.tokensPerSecond(), decode.median(), weightGBs);
  std::printf("\npeak RSS  %.1f MiB\n", double(rss) / (1024.0 * 1024.0));
}

}  // namespace bitnetc::run
