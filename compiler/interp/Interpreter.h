// The reference interpreter: executes any IR function with plain, obviously-correct loops,
// exactly per docs/IR.md and BITNET.md. State values (the KV cache) persist across run() calls.
// It is the oracle for every pass and backend.
#pragma once
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "compiler/ir/IR.h"

namespace bitnetc {

// A dense host tensor: dtype, concrete shape, row-major bytes.
struct HostTensor {
  DType dtype = DType::F32;
  std::vector<int64_t> shape;
  std::vector<uint8_t> bytes;

  static HostTensor zeros(DType t, std::vector<int64_t> shape);
  static HostTensor fromF32(std::vector<int64_t> shape, const std::vector<float>& v);
  static HostTensor fromI32(std::vector<int64_t> shape, const std::vector<int32_t>& v);
  static HostTensor scalarI64(int64_t v);
  int64_t numElements() const;
  template <typename T> T* as() { return reinterpret_cast<T*>(bytes.data()); }
  template <typename T> const T* as() const { return reinterpret_cast<const T*>(bytes.data()); }
};

// Deliberately wrong variants, used only by tests to prove that the numeric tests are sharp
// (each must make them fail). Never set in normal use.
enum class Fault : uint8_t {
  None,
  SkipActQuant,        // bitlinear sees unquantized activations (q = round(x) clipped, s = 1)
  PerTensorActQuant,   // one absmax over the whole tensor instead of per token
  InterleavedPacking,  // hf_blocked_2bit decoded as interleaved: T[4r + i, c]
  DivideScale,         // mul scale rule applied as a division
  GqaModulo,           // query head h uses kv head h % kv_heads instead of h / (heads/kv_heads)
  InterleavedRope,     // rotate pairs (2i, 2i+1) instead of (i, i + D/2)
  CacheAtZero,         // attention writes new k/v at cache rows t instead of pos + t (decode breaks)
};
Fault faultFromName(const std::string& name);  // throws on an unknown name

struct InterpreterOptions {
  Fault fault = Fault::None;
  // Called after every op with its results, and for bitlinear also with the i32 accumulators
  // [..., N] (as an extra HostTensor of dtype i32); for debugging dumps and exactness tests.
  using Observer = std::function<void(const Op&, const std::vector<const HostTensor*>& results,
                                      const HostTensor* bitlinearAccumulators)>;
  Observer observer;
  // Decoded weights (unpacked ternary matrices, one byte per weight; bf16/f16 matmul operands
  // widened to f32) are cached up to this many bytes; beyond it, larger models decode row by
  // row on every call instead. The results are the same either way.
  size_t weightCacheBytes = size_t(512) << 20;
};

class Interpreter {
 public:
  Interpreter(const Module& module, const Function& function, InterpreterOptions options = {});
  // Runs the function once; inputs in the function's input order. Dynamic dims are bound from
  // the inputs (error if a bound is exceeded). Returns the outputs in order.
  std::vector<HostTensor> run(const std::vector<HostTensor>& inputs);
  // Zeroes every state value (an empty KV cache).
  void resetState();

 private:
  struct Impl;
  std::shared_ptr<Impl> impl_;
};

}  // namespace bitnetc
