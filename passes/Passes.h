// The target-neutral passes, one per file. Tools call registerAllPasses() once before building
// a PassManager (explicit, so no pass is lost to static-library dead-stripping).
#pragma once
#include <memory>

#include "compiler/pass/Pass.h"

namespace bitnetc {

void registerAllPasses();

std::unique_ptr<Pass> createDeadCodeEliminationPass();            // "dce"
std::unique_ptr<Pass> createCommonSubexpressionEliminationPass();  // "cse"
std::unique_ptr<Pass> createCanonicalizePass();                    // "canonicalize"
std::unique_ptr<Pass> createConstantFoldPass();                    // "constant-fold"
std::unique_ptr<Pass> createFuseBitLinearPass();                   // "fuse-bitlinear"
std::unique_ptr<Pass> createFuseNormQuantPass();                   // "fuse-norm-quant"
std::unique_ptr<Pass> createFuseResidualPass();                    // "fuse-residual"

}  // namespace bitnetc
