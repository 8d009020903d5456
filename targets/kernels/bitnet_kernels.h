/* The op kernels: one `bitnetk_<opcode>` per opcode of compiler/ir/OpDefs.cpp, with the
 * signature of bitnet_kernel_fn (runtime/abi/bitnet_abi.h), plus the bitlinear variants that
 * select-kernels names in the `kernel` attribute (bitnetk_bitlinear_<kernel>).
 * Semantics: docs/IR.md, bit-exact with the reference interpreter (compiler/interp/) for
 * integer results, act_quant and bitlinear; float sums may run in f32 where the interpreter
 * uses f64 (last-ulp differences). Compiled to bitcode per target triple and natively (tests). */
#ifndef BITNET_KERNELS_H
#define BITNET_KERNELS_H

#include "runtime/abi/bitnet_abi.h"

#ifdef __cplusplus
extern "C" {
#endif

/* X(opcode) for every opcode; codegen and tests can walk the list. */
#define BITNET_KERNEL_OPCODES(X)                                                              \
  X(embedding) X(rms_norm) X(act_quant) X(bitlinear) X(rope) X(attention) X(relu2) X(silu)    \
  X(clip) X(cast) X(softmax) X(matmul) X(transpose) X(reshape) X(concat) X(gather) X(add)     \
  X(sub) X(mul) X(max) X(min) X(div) X(pow) X(neg) X(abs) X(relu) X(sqrt) X(exp) X(sigmoid)   \
  X(reciprocal) X(round) X(reduce_max) X(reduce_mean) X(reduce_sum)

/* The bitlinear variants (select-kernels' table in targets/passes/KernelTable.cpp). */
#define BITNET_BITLINEAR_KERNELS(X) X(hf2) X(i8)

#define BITNET_DECLARE_KERNEL(op) \
  int64_t bitnetk_##op(const bitnet_call* call, const bitnet_kernel_args* args);
BITNET_KERNEL_OPCODES(BITNET_DECLARE_KERNEL)
#undef BITNET_DECLARE_KERNEL

#define BITNET_DECLARE_BITLINEAR(name) \
  int64_t bitnetk_bitlinear_##name(const bitnet_call* call, const bitnet_kernel_args* args);
BITNET_BITLINEAR_KERNELS(BITNET_DECLARE_BITLINEAR)
#undef BITNET_DECLARE_BITLINEAR

#ifdef __cplusplus
}
#endif

#endif /* BITNET_KERNELS_H */
