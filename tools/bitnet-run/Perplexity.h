// --perplexity FILE: the whole file tokenized once (no BOS/EOS), the first --max-tokens ids cut
// into consecutive windows of --ctx ids (the last may be shorter); each window w is a fresh
// evaluation (empty cache) of [BOS] + w[0 .. len-2] predicting w[0 .. len-1].
// perplexity = exp(total NLL / targets), NLL from log-softmax of the f32 logits in fp64.
#pragma once
#include "tools/bitnet-run/LanguageModel.h"
#include "tools/bitnet-run/Options.h"

namespace bitnetc::run {

// Negative log-likelihood of `target` under one row of logits, in fp64.
double tokenNll(const float* logits, int64_t vocab, int32_t target);

void perplexity(LanguageModel& model, const RunOptions& options);

}  // namespace bitnetc::run
