// Matrix products for ONNX graphs: matmul_integer (ONNX MatMulInteger), matmul_nbits
// (com.microsoft MatMulNBits) and matmul on a ternary weight. The float ones dequantize b to f32
// and run the plain matmul kernel on it, so they sum exactly as every matmul does.
#include "compiler/interp/Kernels.h"

namespace bitnetc::interp {
namespace {

// Runs the plain matmul kernel on a and the f32 matrix b (not a weight), with `attrs`.
void floatMatmul(OpCall& call, const Kernel& plain, const TensorView& a, const HostTensor& b,
                 AttributeList attrs) {
  Op op;
  op.opcode = "matmul";
  op.operands = call.op.operands;
  op.results = call.op.results;
  op.attrs = std::move(attrs);
  TensorView bv;
  bv.dtype = DType::F32;
  bv.shape = b.shape;
  bv.data = b.bytes.data();
  bv.value = call.op.operands.size() > 1 ? call.op.operands[1] : nullptr;
  OpCall sub{op, {a, bv}, {nullptr, nullptr}, call.fault, nullptr, {}, {}, false};
  plain(sub);
  call.results = std::move(sub.results);
}

// A ternary weight [R, C] as values: T * ws (scale rule mul), T / ws (div) or T (none), each one
// f32 operation.
HostTensor ternaryValues(const TensorView& b) {
  const Weight& w = *b.weight;
  const int64_t rows = b.shape.at(0), cols = b.shape.at(1);
  HostTensor values = HostTensor::zeros(DType::F32, b.shape);
  std::vector<int8_t> row(static_cast<size_t>(cols));
  for (int64_t r = 0; r < rows; ++r) {
    decodeTernaryRow(w, r, Fault::None, row.data());
    for (int64_t c = 0; c < cols; ++c) {
      const float t = float(row[size_t(c)]);
      values.as<float>()[r * cols + c] = w.scaleRule == ScaleRule::Mul ? t * w.scale
                                       : w.scaleRule == ScaleRule::Div ? t / w.scale : t;
    }
  }
  return values;
}

// matmul: a ternary b goes through its values; any other b to the plain kernel.
Kernel matmulWithTernary(Kernel plain) {
  return [plain](OpCall& call) {
    if (call.operands.size() == 2 && call.operands[1].dtype == DType::Ternary) {
      const TensorView& b = call.in(1);
      if (!b.weight || b.shape.size() != 2) call.error("a ternary b must be a 2-D weight");
      floatMatmul(call, plain, call.in(0), ternaryValues(b), call.op.attrs);
      return;
    }
    plain(call);
  };
}

// Element j of row `row` packed at `bits` bits per element (low bits first) in `bytes` per row.
int64_t packedCode(const uint8_t* data, int64_t rowBytes, int64_t row, int64_t j, int64_t bits) {
  const int64_t bit = j * bits;
  return (data[row * rowBytes + bit / 8] >> (bit % 8)) & ((1 << bits) - 1);
}

// y = a @ W^T with W[n, k] = f32(code - zp) * scale (f32), code element k % block_size of block
// k / block_size of row n of b, zp and scale of (n, block).
Kernel matmulNBits(Kernel plain) {
  return [plain](OpCall& call) {
    call.expectOperands(4);
    call.expectDType(0, {DType::F32});
    call.expectDType(1, {DType::U8});
    call.expectDType(2, {DType::F32});
    call.expectDType(3, {DType::U8});
    const int64_t K = call.op.attrs.getInt("K"), N = call.op.attrs.getInt("N");
    const int64_t bits = call.op.attrs.getInt("bits"), block = call.op.attrs.getInt("block_size");
    const int64_t blocks = (K + block - 1) / block, blob = block * bits / 8, zpBytes = (blocks * bits + 7) / 8;
    const TensorView &b = call.in(1), &scales = call.in(2), &zp = call.in(3);
    if (b.numElements() != N * blocks * blob || scales.numElements() != N * blocks || zp.numElements() != N * zpBytes)
      call.error("b, scales or zero_points do not match K, N, bits and block_size");
    HostTensor w = HostTensor::zeros(DType::F32, {N, K});
    for (int64_t n = 0; n < N; ++n)
      for (int64_t k = 0; k < K; ++k) {
        const int64_t blk = k / block;
        const int64_t code = packedCode(b.data, blob, n * blocks + blk, k % block, bits);  // blob bytes per (n, block)
        const int64_t z = packedCode(zp.data, zpBytes, n, blk, bits);
        w.as<float>()[n * K + k] = float(code - z) * scales.as<float>()[n * blocks + blk];
      }
    AttributeList attrs;
    attrs.set("transpose_b", true);
    floatMatmul(call, plain, call.in(0), w, std::move(attrs));
  };
}

// out[..., m, n] = sum_k (a[..., m, k] - a_zp[m]) * (b[..., k, n] - b_zp[n]) exactly (i32
// wrapping); a zero point with one element applies to every row / column.
void matmulIntegerKernel(OpCall& call) {
  call.expectOperands(4);
  call.expectDType(0, {DType::I8, DType::U8});
  call.expectDType(1, {DType::I8, DType::U8});
  const TensorView &a = call.in(0), &b = call.in(1), &az = call.in(2), &bz = call.in(3);
  if (az.dtype != a.dtype || bz.dtype != b.dtype) call.error("each zero point must have its operand's dtype");
  if (call.resultDType() != DType::I32) call.error("the result must be i32");
  if (a.shape.empty() || b.shape.size() < 2) call.error("operands " + a.describe() + " and " + b.describe() + " have unsupported ranks");
  const size_t rb = b.shape.size();
  const int64_t K = a.shape.back(), N = b.shape.back();
  if (b.shape[rb - 2] != K) call.error("inner dims differ: " + a.describe() + " x " + b.describe());
  const int64_t M = a.shape.size() >= 2 ? a.shape[a.shape.size() - 2] : 1;
  int64_t batches = 1;
  if (rb > 2) {
    if (a.shape.size() != rb) call.error("batched matmul_integer needs equal ranks");
    for (size_t d = 0; d + 2 < rb; ++d)
      if (a.shape[d] != b.shape[d]) call.error("batch dims differ: " + a.describe() + " x " + b.describe());
    batches = product(b.shape, 0, rb - 2);
  }
  const int64_t rowsA = product(a.shape, 0, a.shape.size() - 1);  // every row of a
  if (az.numElements() != 1 && az.numElements() != M) call.error("a_zero_point " + az.describe() + " must have 1 or M elements");
  if (bz.numElements() != 1 && bz.numElements() != N) call.error("b_zero_point " + bz.describe() + " must have 1 or N elements");
  std::vector<int64_t> out = a.shape;
  out.back() = N;
  HostTensor r = HostTensor::zeros(DType::I32, out);
  for (int64_t row = 0; row < rowsA; ++row) {
    const int64_t batch = rb > 2 ? row / M : 0, m = row % M;
    const int64_t za = az.intAt(az.numElements() == 1 ? 0 : m);
    for (int64_t n = 0; n < N; ++n) {
      const int64_t zb = bz.intAt(bz.numElements() == 1 ? 0 : n);
      int64_t acc = 0;
      for (int64_t k = 0; k < K; ++k)
        acc += (a.intAt(row * K + k) - za) * (b.intAt((batch * K + k) * N + n) - zb);
      r.as<int32_t>()[row * N + n] = int32_t(uint32_t(uint64_t(acc)));
    }
  }
  (void)batches;
  call.results.push_back(std::move(r));
}

}  // namespace

void registerQuantizedLinearOps(KernelTable& table) {
  const Kernel plain = table.at("matmul");  // registered by registerLinearOps, before
  table["matmul"] = matmulWithTernary(plain);
  table["matmul_nbits"] = matmulNBits(plain);
  table["matmul_integer"] = matmulIntegerKernel;
}

}  // namespace bitnetc::interp
