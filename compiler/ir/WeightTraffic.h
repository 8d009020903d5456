// Weight bytes a function reads when it runs on one token: the roofline of a memory-bound decode
// (bitnet-run --bench). Every weight an op reads counts whole, except a table that only
// `embedding` ops read: one row per token. So a tied bf16 LM head counts its table once, and
// `--lm-head=int8` counts its i8 table and scales but only a row of the bf16 table the
// embedding keeps.
#pragma once
#include <cstdint>

#include "compiler/ir/IR.h"

namespace bitnetc {

int64_t weightBytesPerToken(const Function& function);

// Bytes of the function's states (the KV cache) per cached token: every state's row past the
// leading (context) dim. A decode token at position p reads about p times this.
int64_t stateBytesPerToken(const Function& function);

}  // namespace bitnetc
