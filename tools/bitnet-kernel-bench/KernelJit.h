// The kernels exactly as a compiled model gets them: the embedded kernel and runtime bitcode of
// bitnetc, retargeted to a CPU, O3, in ORC LLJIT; the bench calls the bitlinear variants and the
// runtime's thread pool through their C ABI (runtime/abi/bitnet_abi.h).
#pragma once
#include <memory>
#include <string>

#include "runtime/abi/bitnet_abi.h"
#include "targets/TargetInfo.h"

namespace bitnetc::bench {

using KernelFn = int64_t (*)(const bitnet_call*, const bitnet_kernel_args*);

class KernelJit {
 public:
  // Throws bitnetc::Error. The target must run on this host.
  explicit KernelJit(const target::TargetInfo& target);
  ~KernelJit();
  // bitnetk_bitlinear_<name>, or nullptr when this architecture's bitcode has no such variant.
  KernelFn bitlinear(const std::string& name) const;
  // The runtime's pool (n_threads - 1 workers plus the caller); free with freePool.
  bitnet_pool* createPool(int64_t threads) const;
  void freePool(bitnet_pool* pool) const;

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace bitnetc::bench
