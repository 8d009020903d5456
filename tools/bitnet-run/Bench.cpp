#include "tools/bitnet-run/Bench.h"

#include <sys/resource.h>

#include <algorithm>
#include <atomic>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <memory>
#include <nlohmann/json.hpp>
#include <thread>

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

// ---- STREAM-like read bandwidth, measured in the same run as the model ----
// A 1 GiB buffer (far past any cache) summed as 64-bit words; the widest loads the host has
// (target_clones), eight independent sums so the adds never limit the loads. The passes run
// right after each decode run: these VMs' bandwidth drifts by 20% within minutes (neighbours),
// so a read measured once at the end compared decode with another machine.
constexpr int64_t kBandwidthBytes = int64_t(1) << 30;
constexpr int kBandwidthPassesPerRun = 2;

__attribute__((target_clones("avx512f", "avx2", "default"))) uint64_t sumWords(const uint64_t* p, int64_t n) {
  uint64_t s[8] = {};
  for (int64_t i = 0; i + 8 <= n; i += 8)
    for (int j = 0; j < 8; ++j) s[j] += p[i + j];
  return ((s[0] + s[1]) + (s[2] + s[3])) + ((s[4] + s[5]) + (s[6] + s[7]));
}

struct Bandwidth {
  int64_t threads = 1;
  std::vector<double> gbPerSecond;  // one per pass
  double median() const {
    std::vector<double> s = gbPerSecond;
    std::sort(s.begin(), s.end());
    const size_t n = s.size();
    return n % 2 ? s[n / 2] : (s[n / 2 - 1] + s[n / 2]) / 2;
  }
};

// kBandwidthPassesPerRun more passes over the buffer, each split into b.threads contiguous
// slices read by one thread each (the caller reads the first); a pass's time runs from its start
// to the last slice done.
void readBandwidth(const uint64_t* buf, int64_t words, Bandwidth& b) {
  const int64_t threads = b.threads;
  std::atomic<uint64_t> sink{0};
  for (int pass = 0; pass < kBandwidthPassesPerRun; ++pass) {
    const int64_t per = (words / threads) & ~int64_t(7);
    const auto start = std::chrono::steady_clock::now();
    std::vector<std::thread> workers;
    for (int64_t t = 1; t < threads; ++t)
      workers.emplace_back([&, t] { sink += sumWords(buf + t * per, per); });
    sink += sumWords(buf, per);
    for (std::thread& w : workers) w.join();
    const double seconds = secondsSince(start);
    b.gbPerSecond.push_back(double(per * threads) * 8.0 / seconds / 1e9);
  }
  if (sink.load() == 0x5eed) std::fprintf(stderr, " ");  // keeps the sums alive
}

// The read buffer (every page faulted in) and the passes so far with 1 thread and with the
// bench's threads (when more than one).
class BandwidthProbe {
 public:
  explicit BandwidthProbe(int64_t threads) : buf_(static_cast<uint64_t*>(std::aligned_alloc(64, size_t(kBandwidthBytes))), &std::free) {
    if (!buf_) fail("--bench: cannot allocate ", kBandwidthBytes, " bytes for the bandwidth measurement");
    for (int64_t i = 0; i < kWords; ++i) buf_.get()[i] = uint64_t(i);
    results_.push_back(Bandwidth{1, {}});
    if (threads > 1) results_.push_back(Bandwidth{threads, {}});
  }
  void measure() {
    for (Bandwidth& b : results_) readBandwidth(buf_.get(), kWords, b);
  }
  const std::vector<Bandwidth>& results() const { return results_; }

 private:
  static constexpr int64_t kWords = kBandwidthBytes / 8;
  std::unique_ptr<uint64_t, decltype(&std::free)> buf_;
  std::vector<Bandwidth> results_;
};

nlohmann::ordered_json bandwidthJson(const Bandwidth& b) {
  return {{"threads", b.threads}, {"gb_per_second", b.gbPerSecond}, {"median_gb_per_second", b.median()}};
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
  int64_t rss = 0;
  std::unique_ptr<BandwidthProbe> probe;
  for (int64_t r = 0; r < options.benchRepeat; ++r) {
    prefill.seconds.push_back(prefillOnce(model, prefillIds));
    decode.seconds.push_back(decodeOnce(model, decodeIds));
    if (!probe) {  // the model's peak is reached in the first run; the buffer comes after it
      rss = peakRssBytes();
      probe = std::make_unique<BandwidthProbe>(f.threads);
    }
    probe->measure();
    if (options.verbose)
      std::fprintf(stderr, "run %lld: prefill %.4f s, decode %.4f s, read %.2f GB/s\n", (long long)(r + 1),
                   prefill.seconds.back(), decode.seconds.back(), probe->results().back().gbPerSecond.back());
  }
  model.reset();
  const std::vector<Bandwidth>& bw = probe->results();
  const double bandwidth = bw.back().median();  // at the bench's thread count
  // Every weight @forward reads, once per decode token; an embedding-only table one row
  // (libraries from before the figure existed report 0: then all of the weights).
  const int64_t bytesPerToken = f.decodeWeightBytes > 0 ? f.decodeWeightBytes : f.weightBytes;
  const double weightGBs = double(bytesPerToken) * decode.tokensPerSecond() / 1e9;
  const double rooflineTokens = bandwidth * 1e9 / double(bytesPerToken);
  const double fraction = weightGBs / bandwidth;
  // The KV cache a decode token reads besides: the token at position p attends to p + 1 rows,
  // so the test's mean is (M + 1) / 2 rows (it starts from an empty cache).
  const double stateBytes = double(f.stateBytesPerToken) * double(options.benchDecode + 1) / 2.0;
  const double totalBytes = double(bytesPerToken) + stateBytes;
  const double rooflineWithState = bandwidth * 1e9 / totalBytes;
  const double fractionWithState = totalBytes * decode.tokensPerSecond() / 1e9 / bandwidth;

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
                        {"decode_weight_bytes_per_token", bytesPerToken},
                        {"decode_weight_gb_per_second", weightGBs},
                        {"read_bandwidth_bytes", kBandwidthBytes},
                        {"read_bandwidth", nlohmann::ordered_json::array()},
                        {"decode_roofline_tokens_per_second", rooflineTokens},
                        {"decode_roofline_fraction", fraction},
                        {"decode_state_bytes_per_token", stateBytes},
                        {"decode_roofline_with_state_tokens_per_second", rooflineWithState},
                        {"decode_roofline_with_state_fraction", fractionWithState},
                        {"peak_rss_bytes", rss}};
    for (const Bandwidth& b : bw) j["read_bandwidth"].push_back(bandwidthJson(b));
    std::printf("%s\n", j.dump().c_str());
    return;
  }
  std::printf("model     %s\n", options.model.c_str());
  std::printf("backend   %s (%s)\n", f.backend.c_str(), f.description.c_str());
  std::printf("threads   %lld\n", (long long)f.threads);
  std::printf("weights   %.3f MB, of which %.3f MB read per decode token\n", double(f.weightBytes) / 1e6,
              double(bytesPerToken) / 1e6);
  std::printf("load      %.4f s\n", loadSeconds);
  std::printf("runs      %lld of each, median reported\n\n", (long long)options.benchRepeat);
  std::printf("| %-14s | %12s | %12s | %12s |\n", "test", "tokens/s", "median s", "weights GB/s");
  std::printf("|----------------|--------------|--------------|--------------|\n");
  const std::string pp = "prefill " + std::to_string(prefill.tokens), tg = "decode " + std::to_string(decode.tokens);
  std::printf("| %-14s | %12.2f | %12.6f | %12s |\n", pp.c_str(), prefill.tokensPerSecond(), prefill.median(), "");
  std::printf("| %-14s | %12.2f | %12.6f | %12.3f |\n", tg.c_str(), decode.tokensPerSecond(), decode.median(), weightGBs);
  std::printf("\nread bandwidth (%d passes over %.0f MiB after each decode run, median):", kBandwidthPassesPerRun,
              double(kBandwidthBytes) / (1024.0 * 1024.0));
  for (const Bandwidth& b : bw) std::printf(" %.2f GB/s at %lld thread%s;", b.median(), (long long)b.threads, b.threads > 1 ? "s" : "");
  std::printf("\nweights per decode token %.3f MB: roofline %.2f tokens/s at %.2f GB/s; decode reaches %.1f%%\n",
              double(bytesPerToken) / 1e6, rooflineTokens, bandwidth, 100.0 * fraction);
  std::printf("with the KV cache it reads (%.3f MB a token, mean of this test): roofline %.2f tokens/s; decode reaches %.1f%%\n",
              stateBytes / 1e6, rooflineWithState, 100.0 * fractionWithState);
  std::printf("\npeak RSS  %.1f MiB\n", double(rss) / (1024.0 * 1024.0));
}

}  // namespace bitnetc::run
