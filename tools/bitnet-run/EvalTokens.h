// --tokens IDS: evaluate exactly these ids (no BOS) in one call or --chunk N at a time through the
// KV cache; write the last (or with --all-logits every) position's logits as raw little-endian
// float32 to --logits-out. --dump-values DIR: every op result of the single call as .npy.
#pragma once
#include "tools/bitnet-run/LanguageModel.h"
#include "tools/bitnet-run/Options.h"

namespace bitnetc::run {

// The observer that writes DIR/<value>.npy (and DIR/<bitlinear result>.acc.npy).
InterpreterOptions::Observer makeDumpObserver(const std::string& dir);

void evalTokens(LanguageModel& model, const RunOptions& options);

}  // namespace bitnetc::run
