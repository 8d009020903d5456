// The IR verifier: everything a pass, the interpreter or a backend may rely on. Errors name the
// function, the op and the value, e.g.
//   verifier: @forward: %q = bitlinear: operand 2 @l0.q is ternary<32 x 16> but ...
#pragma once
#include <functional>
#include <string>

#include "compiler/ir/IR.h"

namespace bitnetc {

// Returns a prefix for messages about an op (the parser gives "FILE:LINE:COL: "), or "".
using OpLocator = std::function<std::string(const Op&)>;

// Throws Error on the first problem:
//  - dynamic dims: declared (bound >= 1), every ?name used in a type is declared with that bound;
//  - weights: static type, byte size matching type (and layout), ternary ones 2-D with a known
//    layout, non-ternary ones without layout or scale;
//  - functions: SSA (operands are inputs, states, earlier results of the same function or module
//    weights), states static, outputs defined, every op checked by OpDefs (checkOp).
void verify(const Module& module, const OpLocator& locate = nullptr);

}  // namespace bitnetc
