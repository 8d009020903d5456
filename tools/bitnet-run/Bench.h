// --bench: prefill and decode speed of one model on one backend, llama-bench style.
//   prefill: --bench-prefill N ids in one eval from an empty cache (logits of the last only);
//   decode:  --bench-decode M evals of one id each from an empty cache (logits of each);
// each --bench-repeat R times after one untimed warm-up, reporting the median. Decode also gives
// the weights' bandwidth: bitnet_model_info.weight_bytes (every weight is read once per token)
// times tokens/s. Then a STREAM-like read of a 1 GiB buffer (5 passes, median) at 1 thread and at
// the model's thread count gives the read bandwidth of this run, the decode roofline (bandwidth /
// weight bytes per token) and the fraction of it decode reached. A table on stdout, or one JSON
// object with --json.
#pragma once
#include "tools/bitnet-run/LanguageModel.h"
#include "tools/bitnet-run/Options.h"

namespace bitnetc::run {

// loadSeconds: the time to load (interp: import; so: dlopen + open; jit: import + compile).
void bench(LanguageModel& model, const RunOptions& options, double loadSeconds);

}  // namespace bitnetc::run
