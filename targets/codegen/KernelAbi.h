// What a kernel receives for an op besides tensors, as plain values (bitnet_abi.h): the kernel
// symbol, the attributes encoded into ints/floats in OpDef order, the enum codes of dtypes,
// ternary layouts and scale rules, and the op's description for error messages.
#pragma once
#include <cstdint>
#include <string>
#include <vector>

#include "compiler/ir/IR.h"

namespace bitnetc::target {

// "bitnetk_<opcode>", or "bitnetk_bitlinear_<kernel>" for a bitlinear with a `kernel` attribute.
std::string kernelSymbol(const Op& op);

struct KernelAttrs {
  std::vector<int64_t> ints;
  std::vector<double> floats;
};
// Attributes in the op's definition order (compiler/ir/OpDefs.cpp): int and bool -> one int;
// float -> one float; int list -> count then values in ints; float list -> count in ints, values
// in floats; `cast.to` -> its bitnet_dtype in ints; other strings are not passed. An absent
// optional attribute is passed as its default: reduce `keepdims` 1, otherwise 0 / false / empty.
KernelAttrs encodeKernelAttrs(const Op& op);

int64_t abiDType(DType t);            // bitnet_dtype
int64_t abiLayout(const Weight& w);   // bitnet_layout (BITNET_LAYOUT_NONE for non-ternary)
int64_t abiScaleRule(ScaleRule r);    // bitnet_scale_rule

// "%q = bitlinear(%x8, %s, @l0.q)".
std::string describeForKernel(const Op& op);

}  // namespace bitnetc::target
