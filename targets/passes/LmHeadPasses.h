// The LM-head passes of the backend (one per file), run by runTargetPasses before select-kernels:
//   last-row-logits  adds @forward_last (the logits of the last row only) for prefills that
//                    want no other row (LastRowLogits.cpp; the runtime picks it in eval.c).
//   quantize-lm-head (--lm-head=int8) the logits matmul on per-row int8 weights times f32 row
//                    scales (QuantizeLmHead.cpp).
#pragma once
#include <memory>

#include "compiler/pass/Pass.h"

namespace bitnetc::target {

std::unique_ptr<Pass> createLastRowLogitsPass();
std::unique_ptr<Pass> createQuantizeLmHeadPass();

}  // namespace bitnetc::target
