// Picks the next token from a row of logits: greedy (temperature 0), or sampling with
// temperature, top-k and top-p (nucleus) from a seeded std::mt19937_64 (deterministic per seed).
#pragma once
#include <cstdint>
#include <random>

namespace bitnetc::run {

struct SamplerOptions {
  double temperature = 0.0;
  int64_t topK = 0;    // 0: no cut
  double topP = 1.0;   // 1: no cut
  uint64_t seed = 0;
};

class Sampler {
 public:
  explicit Sampler(SamplerOptions o) : options_(o), rng_(o.seed) {}
  int32_t next(const float* logits, int64_t vocab);

 private:
  SamplerOptions options_;
  std::mt19937_64 rng_;
};

}  // namespace bitnetc::run
