#include "tools/bitnet-run/Sampler.h"

#include <algorithm>
#include <cmath>
#include <numeric>
#include <vector>

namespace bitnetc::run {

int32_t Sampler::next(const float* logits, int64_t vocab) {
  if (options_.temperature <= 0.0) {  // greedy; ties go to the lowest id
    return int32_t(std::max_element(logits, logits + vocab) - logits);
  }
  // Candidates sorted by logit (descending, ties by id), then the top-k cut.
  std::vector<int32_t> ids(static_cast<size_t>(vocab));
  std::iota(ids.begin(), ids.end(), 0);
  std::stable_sort(ids.begin(), ids.end(), [&](int32_t a, int32_t b) { return logits[a] > logits[b]; });
  if (options_.topK > 0 && options_.topK < vocab) ids.resize(size_t(options_.topK));
  // Softmax of logits / T in fp64 over the candidates.
  std::vector<double> p(ids.size());
  const double mx = logits[ids[0]];
  double sum = 0;
  for (size_t i = 0; i < ids.size(); ++i) sum += p[i] = std::exp((double(logits[ids[i]]) - mx) / options_.temperature);
  for (double& x : p) x /= sum;
  // Nucleus: the smallest prefix whose probability reaches top-p.
  if (options_.topP < 1.0) {
    double cum = 0;
    size_t keep = 0;
    while (keep < p.size()) {
      cum += p[keep++];
      if (cum >= options_.topP) break;
    }
    ids.resize(keep);
    p.resize(keep);
  }
  const double total = std::accumulate(p.begin(), p.end(), 0.0);
  double u = std::uniform_real_distribution<double>(0.0, total)(rng_);
  for (size_t i = 0; i < p.size(); ++i) {
    if (u < p[i]) return ids[i];
    u -= p[i];
  }
  return ids.back();
}

}  // namespace bitnetc::run
