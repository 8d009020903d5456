// In-memory compilation with ORC LLJIT: the same LLVM module as the library (generated code +
// runtime + kernels), optimized with the O3 pipeline for the host, weights in an in-memory blob.
// The model is then used through the same bitnet_api table as a dlopen()ed library.
#pragma once
#include <memory>

#include "compiler/ir/IR.h"
#include "runtime/abi/bitnet_abi.h"
#include "runtime/include/bitnet.h"
#include "targets/Backend.h"

namespace bitnetc::target {

class JitModel {
 public:
  // options.target must be runnable on the host. Throws bitnetc::Error.
  static std::unique_ptr<JitModel> compile(Module& module, const BackendOptions& options);
  virtual ~JitModel() = default;
  virtual const bitnet_api* api() const = 0;
  // The model descriptor (runtime/abi/bitnet_abi.h): tests call entry functions through it with
  // their own bitnet_call, e.g. to check kernels on arbitrary one-op graphs.
  virtual const bitnet_model_desc* descriptor() const = 0;
  virtual const uint8_t* weights() const = 0;  // the in-memory weight blob
};

}  // namespace bitnetc::target
