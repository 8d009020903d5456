// Helpers for the interpreter unit tests: small hand-built graphs and random data.
#pragma once
#include <cstring>
#include <memory>
#include <random>
#include <vector>

#include "compiler/interp/Interpreter.h"
#include "compiler/ir/IR.h"
#include "compiler/support/Error.h"

namespace bitnetc::testutil {

inline TensorType f32(std::initializer_list<int64_t> shape) { return TensorType::of(DType::F32, shape); }

// A module with one function @forward.
struct Graph {
  std::unique_ptr<Module> module = std::make_unique<Module>();
  Function* f = module->addFunction("forward");

  Value* weightF32(const std::string& name, std::vector<int64_t> shape, const std::vector<float>& v) {
    std::vector<uint8_t> bytes(v.size() * 4);
    std::memcpy(bytes.data(), v.data(), bytes.size());
    std::vector<Dim> dims;
    for (int64_t d : shape) dims.push_back(Dim::fixed(d));
    return module->addWeight(makeOwnedWeight(name, TensorType(DType::F32, dims), std::move(bytes)));
  }
  Value* ternary(const std::string& name, int64_t out, int64_t in, const std::vector<int8_t>& v,
                 std::string_view layout = kLayoutHFBlocked, ScaleRule rule = ScaleRule::Mul, float scale = 1.5f) {
    return module->addWeight(makeTernaryWeight(name, out, in, v, layout, rule, scale));
  }
};

inline std::vector<float> randomFloats(size_t n, uint32_t seed, float lo = -1.0f, float hi = 1.0f) {
  std::mt19937 rng(seed);
  std::uniform_real_distribution<float> dist(lo, hi);
  std::vector<float> v(n);
  for (float& x : v) x = dist(rng);
  return v;
}

inline std::vector<int8_t> randomTernary(size_t n, uint32_t seed) {
  std::mt19937 rng(seed);
  std::uniform_int_distribution<int> dist(-1, 1);
  std::vector<int8_t> v(n);
  for (int8_t& x : v) x = int8_t(dist(rng));
  return v;
}

inline std::vector<float> floats(const HostTensor& t) {
  return std::vector<float>(t.as<float>(), t.as<float>() + t.numElements());
}

}  // namespace bitnetc::testutil
