// Recognizes BitNet's per-token activation quantization when it is written out as float ops
// (a fake-quant ONNX export), by its math, not by names:
//   s  = 127 / max(reduce_max(abs(x), axes = [-1], keepdims), 1e-5)    (or 127 * reciprocal(.))
//   q  = clip(round(x * s), -128, 127)
//   xq = q / s                                                       (or q * reciprocal(s))
// The integer form stops at q (or casts round(x * s) or q to i8). Every matcher returns
// nullopt and sets `why` to the first mismatch, naming the value, when the math differs.
#pragma once
#include <optional>
#include <string>

#include "compiler/ir/IR.h"

namespace bitnetc {

struct QuantMatch {
  Value* x = nullptr;      // the f32 activation act_quant reads
  Value* scale = nullptr;  // the chain's s (127 / max(absmax, 1e-5)), [..., 1]
  // False when s was computed as 127 * (1 / c): it may differ from act_quant's 127 / c by an
  // ulp, so a q exactly at a rounding boundary may move by one step.
  bool exactScale = true;
};

// s = 127 / max(reduce_max(abs(x)), 1e-5) over the last axis.
std::optional<QuantMatch> matchQuantScale(Value* s, std::string& why);
// q = clip(round(x * s), -128, 127) with s as above.
std::optional<QuantMatch> matchQuantized(Value* q, std::string& why);
// xq = q / s (the same s) or q * reciprocal(s): the dequantized activation a matmul reads; also
// x + (xq - x), the straight-through form of training code (equal to xq, see the .cpp).
std::optional<QuantMatch> matchFakeQuant(Value* xq, std::string& why);
// An i8 value equal to act_quant's q: cast to i8 of q or of round(x * s) (cast truncates toward
// zero and saturates: after round the saturation is the clamp; x * s cast directly is not q).
std::optional<QuantMatch> matchQuantizedI8(Value* q8, std::string& why);

}  // namespace bitnetc
