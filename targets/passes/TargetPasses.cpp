#include "targets/passes/TargetPasses.h"

#include "compiler/pass/PassRegistry.h"
#include "targets/passes/LmHeadPasses.h"

namespace bitnetc::target {

void registerTargetPasses(const TargetInfo& target, const TargetPassOptions& options) {
  registerPass([target, options] { return createSelectKernelsPass(target, options); });
  registerPass(createPackWeightsPass);
  registerPass(createLastRowLogitsPass);
  registerPass(createQuantizeLmHeadPass);
}

}  // namespace bitnetc::target
