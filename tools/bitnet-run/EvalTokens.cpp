#include "tools/bitnet-run/EvalTokens.h"

#include <cstdio>
#include <filesystem>
#include <fstream>

#include "compiler/support/Error.h"
#include "tools/bitnet-run/Npy.h"

namespace bitnetc::run {

namespace {

std::string fileNameFor(const std::string& valueName) {
  std::string s = valueName;
  for (char& c : s)
    if (c == '/' || c == '\\') c = '_';
  return s;
}

}  // namespace

InterpreterOptions::Observer makeDumpObserver(const std::string& dir) {
  std::error_code ec;
  std::filesystem::create_directories(dir, ec);
  if (ec || !std::filesystem::is_directory(dir)) fail(dir, ": cannot create the directory");
  return [dir](const Op& op, const std::vector<const HostTensor*>& results, const HostTensor* acc) {
    for (size_t i = 0; i < results.size(); ++i)
      writeNpy(dir + "/" + fileNameFor(op.results[i]->name) + ".npy", *results[i]);
    if (acc) writeNpy(dir + "/" + fileNameFor(op.results[0]->name) + ".acc.npy", *acc);
  };
}

void evalTokens(LanguageModel& model, const RunOptions& options) {
  const std::vector<int32_t>& ids = *options.tokens;
  const int64_t V = model.vocabSize(), n = int64_t(ids.size());
  const int64_t chunk = options.chunk ? options.chunk : n;
  std::vector<float> all;
  std::vector<float> last;
  auto start = std::chrono::steady_clock::now();
  for (int64_t pos = 0; pos < n; pos += chunk) {
    const int64_t len = std::min(chunk, n - pos);
    const std::vector<int32_t> part(ids.begin() + pos, ids.begin() + pos + len);
    if (options.allLogits) {
      std::vector<float> logits = model.eval(part, Logits::All);
      all.insert(all.end(), logits.begin(), logits.end());
      last.assign(logits.end() - V, logits.end());
    } else {
      last = model.eval(part, Logits::Last);
    }
  }
  const double seconds = secondsSince(start);
  if (options.verbose)
    std::fprintf(stderr, "evaluated %lld tokens in %.3f s: %.2f tokens/s\n", (long long)n, seconds, double(n) / seconds);
  const std::vector<float>& out = options.allLogits ? all : last;
  if (options.logitsOut) {
    std::ofstream f(*options.logitsOut, std::ios::binary);
    if (!f) fail(*options.logitsOut, ": cannot create");
    f.write(reinterpret_cast<const char*>(out.data()), std::streamsize(out.size() * sizeof(float)));
    if (!f) fail(*options.logitsOut, ": write failed");
  } else {
    // No file: print the argmax and the top logits of the last position.
    int64_t best = 0;
    for (int64_t i = 1; i < V; ++i)
      if (last[size_t(i)] > last[size_t(best)]) best = i;
    std::printf("tokens: %lld, vocab: %lld, argmax: %lld (logit %.6g)\n", (long long)n, (long long)V,
                (long long)best, double(last[size_t(best)]));
  }
}

}  // namespace bitnetc::run
