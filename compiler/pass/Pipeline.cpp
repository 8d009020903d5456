#include "compiler/pass/Pipeline.h"

namespace bitnetc {

std::string_view defaultPipeline() {
  // canonicalize and constant-fold first: they put ONNX-imported BitLinear chains in the one
  // form fuse-bitlinear matches (online weight chains folded into float weights). cse then
  // merges duplicate act_quants (q/k/v, gate/up share one), leaving the copies dead for dce;
  // after it, fuse-norm-quant folds each rms_norm into the one act_quant that reads it and
  // fuse-residual each residual add into the bitlinear whose result it adds.
  // On checkpoint modules the first three change nothing.
  return "canonicalize,constant-fold,fuse-bitlinear,cse,fuse-norm-quant,fuse-residual,dce";
}

}  // namespace bitnetc
