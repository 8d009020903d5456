#include "passes/Passes.h"

#include "compiler/pass/PassRegistry.h"

namespace bitnetc {

void registerAllPasses() {
  registerPass(createDeadCodeEliminationPass);
  registerPass(createCommonSubexpressionEliminationPass);
  registerPass(createCanonicalizePass);
  registerPass(createConstantFoldPass);
  registerPass(createFuseBitLinearPass);
  registerPass(createFuseNormQuantPass);
  registerPass(createFuseResidualPass);
}

}  // namespace bitnetc
