// -p TEXT -n N: prefill the prompt, then decode one token at a time through the KV cache,
// streaming the text to stdout; a summary with tokens/s goes to stderr.
#pragma once
#include "tools/bitnet-run/LanguageModel.h"
#include "tools/bitnet-run/Options.h"

namespace bitnetc::run {

void generate(LanguageModel& model, const RunOptions& options);

}  // namespace bitnetc::run
