// Matrix products: MatMul (numpy batching), Gemm, MatMulInteger and com.microsoft MatMulNBits.
#include <algorithm>

#include "compiler/ir/OpDefs.h"
#include "compiler/support/Error.h"
#include "frontends/onnx/Importer.h"

namespace bitnetc::onnxfe {

namespace {

// Broadcast of two leading-dim lists (numpy rules, dims symbolic).
std::vector<Dim> broadcastLead(const std::vector<Dim>& a, const std::vector<Dim>& b) {
  const size_t rank = std::max(a.size(), b.size());
  std::vector<Dim> out(rank);
  for (size_t i = 0; i < rank; ++i) {
    const Dim da = i < a.size() ? a[a.size() - 1 - i] : Dim::fixed(1);
    const Dim db = i < b.size() ? b[b.size() - 1 - i] : Dim::fixed(1);
    if (sameDim(da, db) || (!db.isDynamic() && db.size == 1)) out[rank - 1 - i] = da;
    else if (!da.isDynamic() && da.size == 1) out[rank - 1 - i] = db;
    else fail("the batch dims of the two operands do not broadcast");
  }
  return out;
}

Value* withLead(Importer& im, Value* x, const std::vector<Dim>& lead, const char* what) {
  std::vector<Dim> dims = lead;
  dims.insert(dims.end(), x->type.dims.end() - 2, x->type.dims.end());
  const TensorType t(x->type.dtype, dims);
  if (sameType(x->type, t)) return x;
  return im.emitTyped("expand", {x}, {}, t, im.tmpName(what));
}

void matmul(Importer& im) {
  Value* a = im.ir(0);
  Value* b = im.ir(1);
  if (a->type.dtype != DType::F32)
    fail("MatMul on ", dtypeName(a->type.dtype), " is not supported (float32; MatMulInteger for int8/uint8)");
  if (b->type.rank() == 1) {  // [K] -> [K, 1], then drop the 1
    Value* b2 = im.reshapeTo(b, {b->type.dims[0], Dim::fixed(1)}, im.tmpName("b"));
    Value* r = im.emit("matmul", {a, b2}, {}, im.tmpName("mm"));
    std::vector<Dim> dims(r->type.dims.begin(), r->type.dims.end() - 1);
    im.define(0, im.reshapeTo(r, dims, im.outName(0)));
    return;
  }
  if (b->type.rank() > 2) {
    std::vector<Dim> bl(b->type.dims.begin(), b->type.dims.end() - 2);
    if (std::all_of(bl.begin(), bl.end(), [](const Dim& d) { return !d.isDynamic() && d.size == 1; }) &&
        a->type.rank() >= b->type.rank()) {
      b = im.reshapeTo(b, {b->type.dims[b->type.rank() - 2], b->type.dims.back()}, im.tmpName("b"));
    } else {
      if (a->type.rank() < 2) fail("a rank-1 A with a batched B is not supported");
      std::vector<Dim> al(a->type.dims.begin(), a->type.dims.end() - 2);
      const std::vector<Dim> lead = broadcastLead(al, bl);
      a = withLead(im, a, lead, "a");
      b = withLead(im, b, lead, "b");
    }
  }
  im.define(0, im.emit("matmul", {a, b}, {}, im.outName(0)));
}

void gemm(Importer& im) {
  Value* a = im.ir(0);
  Value* b = im.ir(1);
  if (a->type.rank() != 2 || b->type.rank() != 2) fail("A and B must be matrices");
  const double alpha = im.attrFloat("alpha", 1.0), beta = im.attrFloat("beta", 1.0);
  const bool hasC = im.has(2) && beta != 0;
  if (im.attrInt("transA", 0)) {
    AttributeList p;
    p.set("perm", std::vector<int64_t>{1, 0});
    a = im.emit("transpose", {a}, std::move(p), im.tmpName("at"));
  }
  AttributeList m;
  if (im.attrInt("transB", 0)) m.set("transpose_b", true);
  const bool last = alpha == 1.0 && !hasC;
  Value* y = im.emit("matmul", {a, b}, std::move(m), last ? im.outName(0) : im.tmpName("mm"));
  if (alpha != 1.0)
    y = im.emit("mul", {y, im.constant(DType::F32, {}, {alpha}, im.outName(0) + ".alpha")}, {},
                hasC ? im.tmpName("scaled") : im.outName(0));
  if (hasC) {
    Value* c = im.ir(2);
    if (beta != 1.0) c = im.emit("mul", {c, im.constant(DType::F32, {}, {beta}, im.outName(0) + ".beta")}, {}, im.tmpName("c"));
    y = im.emit("add", {y, c}, {}, im.outName(0));
  }
  im.define(0, y);
}

Value* zeroPoint(Importer& im, size_t i, DType like) {
  if (im.has(i)) return im.ir(i);
  return im.constantInts(like, {}, {0}, im.outName(0) + (i == 2 ? ".a_zero_point" : ".b_zero_point"));
}

void matmulInteger(Importer& im) {
  Value* a = im.ir(0);
  Value* b = im.ir(1);
  Value* az = zeroPoint(im, 2, a->type.dtype);
  Value* bz = zeroPoint(im, 3, b->type.dtype);
  im.define(0, im.emit("matmul_integer", {a, b, az, bz}, {}, im.outName(0)));
}

void matmulNBits(Importer& im) {
  const int64_t k = im.attrInt("K", -1), n = im.attrInt("N", -1);
  const int64_t bits = im.attrInt("bits", 4), block = im.attrInt("block_size", -1);
  if (k <= 0 || n <= 0 || block <= 0) fail("attributes K, N and block_size are required");
  if (bits != 2) fail("bits = ", bits, " is not supported (only bits = 2, the ternary form)");
  if (im.has(4)) fail("g_idx (input 4) is not supported");
  Value* a = im.ir(0);
  Value* b = im.ir(1);
  Value* scales = im.ir(2);
  Value* zp = nullptr;
  if (im.has(3)) {
    zp = im.ir(3);
    if (zp->type.dtype != DType::U8) fail("zero_points of type ", dtypeName(zp->type.dtype), " are not supported (uint8)");
  } else {  // the default zero point 2^(bits-1) = 2 in every 2-bit code: 0b10101010
    const int64_t blocks = (k + block - 1) / block;
    const int64_t bytes = n * ((blocks * bits + 7) / 8);
    zp = im.constantInts(DType::U8, {bytes}, std::vector<int64_t>(size_t(bytes), 0xAA), im.outName(0) + ".zero_points");
  }
  AttributeList attrs;
  attrs.set("K", k);
  attrs.set("N", n);
  attrs.set("bits", bits);
  attrs.set("block_size", block);
  const bool bias = im.has(5);
  Value* y = im.emit("matmul_nbits", {a, b, scales, zp}, std::move(attrs), bias ? im.tmpName("mm") : im.outName(0));
  if (bias) y = im.emit("add", {y, im.ir(5)}, {}, im.outName(0));
  im.define(0, y);
}

}  // namespace

void addLinearLowerings(std::vector<Lowering>& out) {
  out.push_back({"", "MatMul", {}, matmul});
  out.push_back({"", "Gemm", {"alpha", "beta", "transA", "transB"}, gemm});
  out.push_back({"", "MatMulInteger", {}, matmulInteger});
  out.push_back({"com.microsoft", "MatMulNBits", {"K", "N", "bits", "block_size", "accuracy_level"}, matmulNBits});
}

}  // namespace bitnetc::onnxfe
