#include "compiler/ir/OpDefs.h"

#include <algorithm>
#include <set>

#include "compiler/support/Error.h"

namespace bitnetc {

bool sameDim(const Dim& a, const Dim& b) {
  if (a.isDynamic() || b.isDynamic()) return a.isDynamic() && b.isDynamic() && a.name == b.name;
  return a.size == b.size;
}

bool sameType(const TensorType& a, const TensorType& b) {
  if (a.dtype != b.dtype || a.rank() != b.rank()) return false;
  for (size_t i = 0; i < a.rank(); ++i)
    if (!sameDim(a.dims[i], b.dims[i])) return false;
  return true;
}

std::string_view attrKindName(AttrKind k) {
  static constexpr std::string_view names[] = {"int", "float", "string", "bool", "int list",
                                               "float list"};
  return names[static_cast<int>(k)];
}

namespace {

using Types = std::vector<TensorType>;

std::string dimStr(const Dim& d) { return d.isDynamic() ? "?" + d.name : std::to_string(d.size); }

const TensorType& typeOf(const Op& op, unsigned i) { return op.operands[i]->type; }

// "operand 1 @w" for messages.
std::string operandName(const Op& op, unsigned i) {
  return "operand " + std::to_string(i) + " " + op.operands[i]->ref();
}

[[noreturn]] void badOperand(const Op& op, unsigned i, std::string_view expected) {
  fail(operandName(op, i), " is ", typeOf(op, i).str(), ", expected ", expected);
}

bool isIn(DType t, std::initializer_list<DType> allowed) {
  return std::find(allowed.begin(), allowed.end(), t) != allowed.end();
}

std::string dtypeList(std::initializer_list<DType> allowed) {
  std::string s;
  for (DType t : allowed) s += (s.empty() ? "" : "/") + std::string(dtypeName(t));
  return s;
}

void requireDType(const Op& op, unsigned i, std::initializer_list<DType> allowed) {
  if (!isIn(typeOf(op, i).dtype, allowed)) badOperand(op, i, "element type " + dtypeList(allowed));
}

void requireRank(const Op& op, unsigned i, size_t rank) {
  if (typeOf(op, i).rank() != rank) badOperand(op, i, "rank " + std::to_string(rank));
}

void requireMinRank(const Op& op, unsigned i, size_t rank) {
  if (typeOf(op, i).rank() < rank) badOperand(op, i, "rank >= " + std::to_string(rank));
}

void requireScalarI64(const Op& op, unsigned i) {
  if (!sameType(typeOf(op, i), TensorType(DType::I64, {}))) badOperand(op, i, "tensor<i64>");
}

constexpr auto kFloats = {DType::F32, DType::BF16, DType::F16};
constexpr auto kIntegers = {DType::I8, DType::I16, DType::I32, DType::I64,
                            DType::U8, DType::U16, DType::U32, DType::U64};
// Element types of arithmetic: the stored floats (math in f32), f64 (math in f64), integers.
constexpr auto kArithmetic = {DType::F32, DType::BF16, DType::F16, DType::F64, DType::I8, DType::I16,
                              DType::I32, DType::I64, DType::U8, DType::U16, DType::U32, DType::U64};
constexpr auto kSignedOrFloat = {DType::F32, DType::BF16, DType::F16, DType::F64,
                                 DType::I8,  DType::I16,  DType::I32, DType::I64};

void requireNumeric(const Op& op, unsigned i) {
  if (!isNumeric(typeOf(op, i).dtype)) badOperand(op, i, "a non-ternary tensor");
}

// The numpy broadcast of two dim lists (aligned from the right; equal, or one of them static 1).
std::vector<Dim> broadcastDims(const Op& op, unsigned ia, unsigned ib, const std::vector<Dim>& a,
                               const std::vector<Dim>& b) {
  const size_t rank = std::max(a.size(), b.size());
  std::vector<Dim> dims(rank);
  for (size_t i = 0; i < rank; ++i) {  // i counts from the end
    const Dim da = i < a.size() ? a[a.size() - 1 - i] : Dim::fixed(1);
    const Dim db = i < b.size() ? b[b.size() - 1 - i] : Dim::fixed(1);
    Dim d;
    if (sameDim(da, db)) d = da;
    else if (!da.isDynamic() && da.size == 1) d = db;
    else if (!db.isDynamic() && db.size == 1) d = da;
    else
      fail(operandName(op, ia), " (", typeOf(op, ia).str(), ") and ", operandName(op, ib), " (",
           typeOf(op, ib).str(), ") do not broadcast: ", dimStr(da), " vs ", dimStr(db));
    dims[rank - 1 - i] = d;
  }
  return dims;
}

int64_t positiveInt(const Op& op, std::string_view attr) {
  const int64_t v = op.attrs.getInt(attr);
  if (v <= 0) fail("attribute '", attr, "' is ", v, ", expected > 0");
  return v;
}

// Normalizes an axis attribute value against a rank (negative counts from the end).
size_t normalizeAxis(int64_t axis, size_t rank, std::string_view attr) {
  const int64_t r = int64_t(rank);
  if (axis < -r || axis >= r)
    fail("attribute '", attr, "' = ", axis, " is out of range for rank ", rank);
  return size_t(axis < 0 ? axis + r : axis);
}

// ---- type rules ----

Types sameAsOperand0(const Op& op) { return {typeOf(op, 0)}; }

Types unaryF32(const Op& op) {
  requireDType(op, 0, {DType::F32});
  return sameAsOperand0(op);
}

// neg, abs, relu: floats and integers (abs and relu of an unsigned value are the value).
Types unaryFloatOrInt(const Op& op) {
  requireDType(op, 0, kArithmetic);
  return sameAsOperand0(op);
}

void requireSameDType(const Op& op, unsigned i, unsigned like) {
  if (typeOf(op, i).dtype != typeOf(op, like).dtype)
    badOperand(op, i, "element type " + std::string(dtypeName(typeOf(op, like).dtype)) +
                          " like operand " + std::to_string(like));
}

// add sub mul div max min: a and b of one arithmetic dtype.
Types arithmetic(const Op& op) {
  requireDType(op, 0, kArithmetic);
  requireSameDType(op, 1, 0);
  return {TensorType(typeOf(op, 0).dtype, broadcastDims(op, 0, 1, typeOf(op, 0).dims, typeOf(op, 1).dims))};
}

// pow: the exponent may have another arithmetic dtype (ONNX Pow); the result has the base's.
Types power(const Op& op) {
  requireDType(op, 0, kArithmetic);
  requireDType(op, 1, kArithmetic);
  return {TensorType(typeOf(op, 0).dtype, broadcastDims(op, 0, 1, typeOf(op, 0).dims, typeOf(op, 1).dims))};
}

// equal less greater: a and b of one dtype (bool too) -> bool.
Types compare(const Op& op) {
  requireNumeric(op, 0);
  requireSameDType(op, 1, 0);
  return {TensorType(DType::Bool, broadcastDims(op, 0, 1, typeOf(op, 0).dims, typeOf(op, 1).dims))};
}

Types where(const Op& op) {
  requireDType(op, 0, {DType::Bool});
  requireNumeric(op, 1);
  requireSameDType(op, 2, 1);
  const std::vector<Dim> ab = broadcastDims(op, 1, 2, typeOf(op, 1).dims, typeOf(op, 2).dims);
  return {TensorType(typeOf(op, 1).dtype, broadcastDims(op, 0, 1, typeOf(op, 0).dims, ab))};
}

Types embedding(const Op& op) {
  requireDType(op, 0, {DType::I32});
  requireRank(op, 0, 1);
  requireDType(op, 1, kFloats);
  requireRank(op, 1, 2);
  return {TensorType(DType::F32, {typeOf(op, 0).dims[0], typeOf(op, 1).dims[1]})};
}

Types rmsNorm(const Op& op) {
  requireDType(op, 0, {DType::F32});
  requireMinRank(op, 0, 1);
  requireDType(op, 1, kFloats);
  requireRank(op, 1, 1);
  const Dim& n = typeOf(op, 0).dims.back();
  if (!sameDim(typeOf(op, 1).dims[0], n))
    fail(operandName(op, 1), " is ", typeOf(op, 1).str(), " but ", operandName(op, 0),
         " has last dim ", dimStr(n));
  return sameAsOperand0(op);
}

Types actQuant(const Op& op) {
  requireDType(op, 0, {DType::F32});
  requireMinRank(op, 0, 1);
  const TensorType& x = typeOf(op, 0);
  std::vector<Dim> rows(x.dims.begin(), x.dims.end() - 1);
  return {TensorType(DType::I8, x.dims), TensorType(DType::F32, rows)};
}

// rms_norm then act_quant of its result (fuse-norm-quant): rms_norm's operand checks, act_quant's results.
Types rmsNormQuant(const Op& op) {
  const TensorType x = rmsNorm(op).at(0);
  std::vector<Dim> rows(x.dims.begin(), x.dims.end() - 1);
  return {TensorType(DType::I8, x.dims), TensorType(DType::F32, rows)};
}

Types bitlinear(const Op& op) {
  requireDType(op, 0, {DType::I8});
  requireMinRank(op, 0, 1);
  const TensorType& q = typeOf(op, 0);
  std::vector<Dim> rows(q.dims.begin(), q.dims.end() - 1);
  const TensorType s(DType::F32, rows);
  if (!sameType(typeOf(op, 1), s))
    fail(operandName(op, 1), " is ", typeOf(op, 1).str(), " but the activation ",
         op.operands[0]->ref(), " is ", q.str(), ", expected ", s.str());
  const TensorType& w = typeOf(op, 2);
  if (w.dtype != DType::Ternary || w.rank() != 2) badOperand(op, 2, "a ternary<N x K> weight");
  const Dim& k = q.dims.back();
  if (!sameDim(w.dims[1], k))
    fail(operandName(op, 2), " is ", w.str(), " but the activation ", op.operands[0]->ref(),
         " has ", dimStr(k), " columns, expected ternary<N x ", dimStr(k), ">");
  rows.push_back(w.dims[0]);
  const TensorType y(DType::F32, rows);
  if (op.operands.size() == 4 && !sameType(typeOf(op, 3), y))  // the residual (fuse-residual)
    fail(operandName(op, 3), " is ", typeOf(op, 3).str(), " but the residual added to the result must be ", y.str());
  return {y};
}

Types rope(const Op& op) {
  requireDType(op, 0, {DType::F32});
  requireRank(op, 0, 2);
  requireScalarI64(op, 1);
  const int64_t heads = positiveInt(op, "heads"), headDim = positiveInt(op, "head_dim");
  if (headDim % 2) fail("attribute 'head_dim' is ", headDim, ", expected an even number");
  const Dim& hd = typeOf(op, 0).dims[1];
  if (!sameDim(hd, Dim::fixed(heads * headDim)))
    fail(operandName(op, 0), " is ", typeOf(op, 0).str(), " but heads * head_dim = ", heads,
         " * ", headDim, " = ", heads * headDim);
  return sameAsOperand0(op);
}

Types attention(const Op& op) {
  const int64_t heads = positiveInt(op, "heads"), kvHeads = positiveInt(op, "kv_heads");
  const int64_t headDim = positiveInt(op, "head_dim");
  if (heads % kvHeads) fail("heads = ", heads, " is not a multiple of kv_heads = ", kvHeads);
  for (unsigned i = 0; i < 5; ++i) requireDType(op, i, {DType::F32});
  const Dim s = typeOf(op, 0).dims.empty() ? Dim::fixed(0) : typeOf(op, 0).dims[0];
  const TensorType q(DType::F32, {s, Dim::fixed(heads * headDim)});
  const TensorType kv(DType::F32, {s, Dim::fixed(kvHeads * headDim)});
  if (!sameType(typeOf(op, 0), q)) badOperand(op, 0, "[S, heads * head_dim] = " + q.str());
  if (!sameType(typeOf(op, 1), kv)) badOperand(op, 1, "[S, kv_heads * head_dim] = " + kv.str());
  if (!sameType(typeOf(op, 2), kv)) badOperand(op, 2, "[S, kv_heads * head_dim] = " + kv.str());
  const TensorType& cache = typeOf(op, 3);
  if (cache.rank() != 3 || !cache.isStatic() || !sameDim(cache.dims[1], Dim::fixed(kvHeads)) ||
      !sameDim(cache.dims[2], Dim::fixed(headDim)))
    badOperand(op, 3, "a static cache [C, kv_heads, head_dim] = tensor<C x " +
                          std::to_string(kvHeads) + " x " + std::to_string(headDim) + " x f32>");
  if (!sameType(typeOf(op, 4), cache)) badOperand(op, 4, cache.str() + " like the k cache");
  requireScalarI64(op, 5);
  return {q};
}

Types clip(const Op& op) {
  requireDType(op, 0, {DType::F32});
  return sameAsOperand0(op);
}

Types cast(const Op& op) {
  if (typeOf(op, 0).dtype == DType::Ternary) badOperand(op, 0, "a non-ternary tensor");
  const std::string& to = op.attrs.getString("to");
  auto t = dtypeFromName(to);
  if (!t || *t == DType::Ternary) fail("attribute 'to' = \"", to, "\" is not a tensor element type");
  return {TensorType(*t, typeOf(op, 0).dims)};
}

// Like ONNX: no (or empty) axes reduce every axis; keepdims defaults to true.
Types reduce(const Op& op) {
  const TensorType& x = typeOf(op, 0);
  if (op.opcode == "reduce_mean") requireDType(op, 0, {DType::F32});
  else requireDType(op, 0, {DType::F32, DType::I8, DType::I16, DType::I32, DType::I64, DType::U8,
                            DType::U16, DType::U32, DType::U64});
  std::set<size_t> reduced;
  const std::vector<int64_t> axes = op.attrs.has("axes") ? op.attrs.getInts("axes") : std::vector<int64_t>{};
  for (int64_t a : axes)
    if (!reduced.insert(normalizeAxis(a, x.rank(), "axes")).second)
      fail("attribute 'axes' names the axis ", a, " twice");
  if (axes.empty())
    for (size_t i = 0; i < x.rank(); ++i) reduced.insert(i);
  const bool keep = op.attrs.getBool("keepdims", true);
  std::vector<Dim> dims;
  for (size_t i = 0; i < x.rank(); ++i) {
    if (!reduced.count(i)) dims.push_back(x.dims[i]);
    else if (keep) dims.push_back(Dim::fixed(1));
  }
  return {TensorType(x.dtype, dims)};
}

Types softmax(const Op& op) {
  requireDType(op, 0, {DType::F32});
  normalizeAxis(op.attrs.getInt("axis"), typeOf(op, 0).rank(), "axis");
  return sameAsOperand0(op);
}

Types matmul(const Op& op) {
  requireDType(op, 0, {DType::F32});
  requireMinRank(op, 0, 1);
  // A ternary b is a weight whose values are T with its scale rule applied (docs/IR.md).
  requireDType(op, 1, {DType::F32, DType::BF16, DType::F16, DType::Ternary, DType::I8});
  const TensorType& a = typeOf(op, 0);
  const TensorType& b = typeOf(op, 1);
  const bool transposeB = op.attrs.getBool("transpose_b", false);
  if (b.rank() < 2) badOperand(op, 1, "rank >= 2");
  const Dim& bk = transposeB ? b.dims[b.rank() - 1] : b.dims[b.rank() - 2];
  const Dim& bn = transposeB ? b.dims[b.rank() - 2] : b.dims[b.rank() - 1];
  if (!sameDim(a.dims.back(), bk))
    fail(operandName(op, 1), " is ", b.str(), " but ", operandName(op, 0), " is ", a.str(),
         ": the contracted dims ", dimStr(a.dims.back()), " and ", dimStr(bk), " differ",
         transposeB ? " (transpose_b = true)" : "");
  if (b.rank() > 2) {  // batched: b has a's leading dims
    if (a.rank() != b.rank()) badOperand(op, 1, "rank " + std::to_string(a.rank()) + " like operand 0");
    for (size_t i = 0; i + 2 < b.rank(); ++i)
      if (!sameDim(a.dims[i], b.dims[i]))
        fail(operandName(op, 1), " is ", b.str(), " but ", operandName(op, 0), " is ", a.str(),
             ": leading dim ", i, " differs");
  }
  if (op.attrs.getBool("last_row", false)) {  // a [M, K] -> [1, N]: a's last row only
    if (a.rank() != 2) badOperand(op, 0, "rank 2 (last_row)");
    if (b.rank() != 2) badOperand(op, 1, "rank 2 (last_row)");
    return {TensorType(DType::F32, {Dim::fixed(1), bn})};
  }
  std::vector<Dim> dims = a.dims;
  dims.back() = bn;
  return {TensorType(DType::F32, dims)};
}

Types transpose(const Op& op) {
  const TensorType& x = typeOf(op, 0);
  const auto& perm = op.attrs.getInts("perm");
  if (perm.size() != x.rank())
    fail("attribute 'perm' has ", perm.size(), " entries but ", operandName(op, 0), " has rank ",
         x.rank());
  std::vector<bool> seen(x.rank(), false);
  std::vector<Dim> dims;
  for (int64_t p : perm) {
    if (p < 0 || p >= int64_t(x.rank()) || seen[size_t(p)])
      fail("attribute 'perm' is not a permutation of 0..", x.rank() - 1);
    seen[size_t(p)] = true;
    dims.push_back(x.dims[size_t(p)]);
  }
  return {TensorType(x.dtype, dims)};
}

Types reshape(const Op& op) {
  const TensorType& x = typeOf(op, 0);
  const auto& shape = op.attrs.getInts("shape");
  std::vector<Dim> dims(shape.size());
  int inferAt = -1;
  for (size_t i = 0; i < shape.size(); ++i) {
    if (shape[i] == -1) {
      if (inferAt >= 0) fail("attribute 'shape' has more than one -1");
      inferAt = int(i);
    } else if (shape[i] == 0) {
      if (i >= x.rank()) fail("attribute 'shape' copies dim ", i, " (0) but the input has rank ", x.rank());
      dims[i] = x.dims[i];
    } else if (shape[i] > 0) {
      dims[i] = Dim::fixed(shape[i]);
    } else {
      fail("attribute 'shape' has the invalid size ", shape[i]);
    }
  }
  // Element counts compare as (static product, multiset of dynamic dim names).
  auto count = [](const std::vector<Dim>& ds, int skip) {
    std::pair<int64_t, std::multiset<std::string>> c{1, {}};
    for (size_t i = 0; i < ds.size(); ++i) {
      if (int(i) == skip) continue;
      if (ds[i].isDynamic()) c.second.insert(ds[i].name);
      else c.first *= ds[i].size;
    }
    return c;
  };
  auto in = count(x.dims, -1);
  auto out = count(dims, inferAt);
  const std::string mismatch = "cannot reshape " + x.str() + " to the shape attribute";
  if (inferAt < 0) {
    if (in != out) fail(mismatch, ": the element counts differ");
  } else {
    for (const std::string& n : out.second) {
      auto it = in.second.find(n);
      if (it == in.second.end()) fail(mismatch, ": ?", n, " is not an input dim");
      in.second.erase(it);
    }
    if (in.second.size() > 1) fail(mismatch, ": -1 would cover several dynamic dims");
    if (out.first == 0 || in.first % out.first) fail(mismatch, ": the element counts differ");
    const int64_t rest = in.first / out.first;
    if (in.second.empty()) {
      dims[size_t(inferAt)] = Dim::fixed(rest);
    } else {
      if (rest != 1) fail(mismatch, ": -1 would be a multiple of a dynamic dim");
      const std::string name = *in.second.begin();
      for (const Dim& d : x.dims)
        if (d.isDynamic() && d.name == name) dims[size_t(inferAt)] = d;
    }
  }
  return {TensorType(x.dtype, dims)};
}

Types concat(const Op& op) {
  const TensorType& first = typeOf(op, 0);
  const size_t axis = normalizeAxis(op.attrs.getInt("axis"), first.rank(), "axis");
  std::vector<Dim> dims = first.dims;
  for (unsigned i = 1; i < op.operands.size(); ++i) {
    const TensorType& t = typeOf(op, i);
    if (t.dtype != first.dtype || t.rank() != first.rank())
      badOperand(op, i, "the element type and rank of operand 0 (" + first.str() + ")");
    for (size_t d = 0; d < t.rank(); ++d) {
      if (d == axis) continue;
      if (!sameDim(t.dims[d], first.dims[d]))
        fail(operandName(op, i), " is ", t.str(), " but operand 0 is ", first.str(), ": dim ", d,
             " differs");
    }
    if (dims[axis].isDynamic() || t.dims[axis].isDynamic())
      fail("concat along the dynamic dim of ", operandName(op, i), " (", t.str(), ") is not supported");
    dims[axis].size += t.dims[axis].size;
  }
  return {TensorType(first.dtype, dims)};
}

Types gather(const Op& op) {
  const TensorType& data = typeOf(op, 0);
  requireDType(op, 1, {DType::I32, DType::I64});
  if (data.dtype == DType::Ternary) badOperand(op, 0, "a non-ternary tensor");
  const size_t axis = normalizeAxis(op.attrs.getInt("axis"), data.rank(), "axis");
  std::vector<Dim> dims(data.dims.begin(), data.dims.begin() + long(axis));
  for (const Dim& d : typeOf(op, 1).dims) dims.push_back(d);
  for (size_t i = axis + 1; i < data.rank(); ++i) dims.push_back(data.dims[i]);
  return {TensorType(data.dtype, dims)};
}

// ---- ops whose result shape is the declared type (dynamic dims resolved at run time) ----

const TensorType& declared(const Op& op) { return op.results[0]->type; }

[[noreturn]] void badResult(const Op& op, std::string_view why) {
  fail("result 0 %", op.results[0]->name, " is declared ", declared(op).str(), " but ", why);
}

Types expand(const Op& op) {
  requireNumeric(op, 0);
  const TensorType& x = typeOf(op, 0);
  const TensorType& y = declared(op);
  if (y.dtype != x.dtype) badResult(op, "operand 0 is " + x.str() + " (the element types differ)");
  if (y.rank() < x.rank()) badResult(op, "operand 0 " + x.str() + " has a higher rank");
  for (size_t i = 0; i < x.rank(); ++i) {
    const Dim& xd = x.dims[x.rank() - 1 - i];
    const Dim& yd = y.dims[y.rank() - 1 - i];
    if (!sameDim(xd, yd) && !(!xd.isDynamic() && xd.size == 1))
      badResult(op, "operand 0 " + x.str() + " does not broadcast to it: " + dimStr(xd) + " vs " +
                        dimStr(yd));
  }
  return {y};
}

Types range(const Op& op) {
  requireDType(op, 0, {DType::F32, DType::F64, DType::I16, DType::I32, DType::I64});
  requireRank(op, 0, 0);
  requireSameDType(op, 1, 0);
  requireRank(op, 1, 0);
  const TensorType& y = declared(op);
  if (y.dtype != typeOf(op, 0).dtype || y.rank() != 1)
    badResult(op, "range yields a 1-D tensor of the dtype of start (" + std::string(dtypeName(typeOf(op, 0).dtype)) + ")");
  return {y};
}

// The ONNX normalization of a slice start against the input dim: negative + dim, then clamped
// to [0, dim] (step > 0) or [0, dim - 1] (step < 0).
int64_t sliceStart(int64_t start, int64_t step, int64_t dim) {
  if (start < 0) start += dim;
  return step > 0 ? std::clamp<int64_t>(start, 0, dim) : std::clamp<int64_t>(start, 0, dim - 1);
}

Types slice(const Op& op) {
  requireNumeric(op, 0);
  const TensorType& x = typeOf(op, 0);
  const TensorType& y = declared(op);
  const auto& starts = op.attrs.getInts("starts");
  const auto& axes = op.attrs.getInts("axes");
  const auto& steps = op.attrs.getInts("steps");
  if (starts.size() != axes.size() || steps.size() != axes.size())
    fail("attributes 'starts', 'axes' and 'steps' have ", starts.size(), ", ", axes.size(), " and ",
         steps.size(), " entries, expected the same count");
  if (y.dtype != x.dtype || y.rank() != x.rank())
    badResult(op, "a slice of operand 0 " + x.str() + " has its element type and rank");
  std::vector<bool> listed(x.rank(), false);
  for (size_t i = 0; i < axes.size(); ++i) {
    const size_t a = normalizeAxis(axes[i], x.rank(), "axes");
    if (listed[a]) fail("attribute 'axes' names the axis ", axes[i], " twice");
    listed[a] = true;
    if (steps[i] == 0) fail("attribute 'steps' has a 0 (axis ", axes[i], ")");
    const Dim &xd = x.dims[a], &yd = y.dims[a];
    if (xd.isDynamic() || yd.isDynamic() || yd.size == 0) continue;  // checked at run time
    const int64_t first = sliceStart(starts[i], steps[i], xd.size);
    const int64_t last = first + (yd.size - 1) * steps[i];
    if (xd.size == 0 || last < 0 || last >= xd.size)
      badResult(op, "axis " + std::to_string(a) + " reads index " + std::to_string(last) +
                        " of operand 0 " + x.str() + " (start " + std::to_string(first) + ", step " +
                        std::to_string(steps[i]) + ")");
  }
  for (size_t a = 0; a < x.rank(); ++a)
    if (!listed[a] && !sameDim(x.dims[a], y.dims[a]))
      badResult(op, "axis " + std::to_string(a) + " is not sliced and operand 0 has " + dimStr(x.dims[a]));
  return {y};
}

Types trilu(const Op& op) {
  requireNumeric(op, 0);
  requireMinRank(op, 0, 2);
  return sameAsOperand0(op);
}

Types layerNorm(const Op& op) {
  requireDType(op, 0, {DType::F32});
  requireMinRank(op, 0, 1);
  const TensorType& x = typeOf(op, 0);
  const size_t axis = normalizeAxis(op.attrs.getInt("axis"), x.rank(), "axis");
  const std::vector<Dim> normalized(x.dims.begin() + long(axis), x.dims.end());
  for (unsigned i : {1u, 2u}) {
    requireDType(op, i, kFloats);
    const TensorType& t = typeOf(op, i);
    bool same = t.rank() == normalized.size();
    for (size_t d = 0; same && d < t.rank(); ++d) same = sameDim(t.dims[d], normalized[d]);
    if (!same) badOperand(op, i, "the normalized dims " + TensorType(t.dtype, normalized).str() +
                                     " of operand 0 (axis " + std::to_string(axis) + ")");
  }
  return sameAsOperand0(op);
}

Types shape(const Op& op) {
  requireNumeric(op, 0);
  return {TensorType(DType::I64, {Dim::fixed(int64_t(typeOf(op, 0).rank()))})};
}

// A MatMulInteger zero point: one element (per tensor), or one per row of a ([M]) / column of
// b ([N]).
void requireZeroPoint(const Op& op, unsigned i, unsigned of, const Dim& perRow) {
  requireSameDType(op, i, of);
  const TensorType& z = typeOf(op, i);
  const bool one = z.rank() == 0 || (z.rank() == 1 && sameDim(z.dims[0], Dim::fixed(1)));
  if (!one && !(z.rank() == 1 && sameDim(z.dims[0], perRow)))
    badOperand(op, i, "a scalar, tensor<1 x ...> or tensor<" + dimStr(perRow) + " x " +
                          std::string(dtypeName(z.dtype)) + ">");
}

Types matmulInteger(const Op& op) {
  requireDType(op, 0, {DType::I8, DType::U8});
  requireMinRank(op, 0, 1);
  requireDType(op, 1, {DType::I8, DType::U8});
  requireMinRank(op, 1, 2);
  const TensorType& a = typeOf(op, 0);
  const TensorType& b = typeOf(op, 1);
  const Dim& k = b.dims[b.rank() - 2];
  if (!sameDim(a.dims.back(), k))
    fail(operandName(op, 1), " is ", b.str(), " but ", operandName(op, 0), " is ", a.str(),
         ": the contracted dims ", dimStr(a.dims.back()), " and ", dimStr(k), " differ");
  if (b.rank() > 2) {
    if (a.rank() != b.rank()) badOperand(op, 1, "rank 2 or rank " + std::to_string(a.rank()) + " like operand 0");
    for (size_t i = 0; i + 2 < b.rank(); ++i)
      if (!sameDim(a.dims[i], b.dims[i]))
        fail(operandName(op, 1), " is ", b.str(), " but ", operandName(op, 0), " is ", a.str(),
             ": leading dim ", i, " differs");
  }
  requireZeroPoint(op, 2, 0, a.rank() >= 2 ? a.dims[a.rank() - 2] : Dim::fixed(1));
  requireZeroPoint(op, 3, 1, b.dims.back());
  std::vector<Dim> dims = a.dims;
  dims.back() = b.dims.back();
  return {TensorType(DType::I32, dims)};
}

Types matmulNBits(const Op& op) {
  const int64_t K = positiveInt(op, "K"), N = positiveInt(op, "N");
  const int64_t bits = positiveInt(op, "bits"), block = positiveInt(op, "block_size");
  if (bits != 2 && bits != 4 && bits != 8) fail("attribute 'bits' is ", bits, ", expected 2, 4 or 8");
  if (block * bits % 8) fail("attribute 'block_size' = ", block, " does not fill whole bytes at ", bits, " bits");
  const int64_t blocks = (K + block - 1) / block, blob = block * bits / 8;
  const int64_t zpBytes = (blocks * bits + 7) / 8;
  requireDType(op, 0, {DType::F32});
  requireMinRank(op, 0, 1);
  const TensorType& a = typeOf(op, 0);
  if (!sameDim(a.dims.back(), Dim::fixed(K)))
    fail(operandName(op, 0), " is ", a.str(), " but K = ", K);
  const TensorType b = TensorType::of(DType::U8, {N, blocks, blob});
  if (!sameType(typeOf(op, 1), b)) badOperand(op, 1, b.str() + " ([N, ceil(K / block_size), block_size * bits / 8])");
  auto requireCount = [&](unsigned i, DType t, int64_t count, const std::string& what) {
    const TensorType& v = typeOf(op, i);
    if (v.dtype != t || !v.isStatic() || v.numElementsUpperBound() != count)
      badOperand(op, i, std::string(dtypeName(t)) + " with " + std::to_string(count) + " elements (" + what + ")");
  };
  requireCount(2, DType::F32, N * blocks, "N * ceil(K / block_size) scales");
  requireCount(3, DType::U8, N * zpBytes, "per row of N, ceil(K / block_size) zero points of 'bits' bits");
  std::vector<Dim> dims = a.dims;
  dims.back() = Dim::fixed(N);
  return {TensorType(DType::F32, dims)};
}

std::vector<OpDef> makeOpDefs() {
  using K = AttrKind;
  const std::vector<AttrDef> none;
  std::vector<OpDef> defs = {
      // BitNet ops
      {"embedding", 2, 1, none, {}, embedding},
      {"rms_norm", 2, 1, {{"eps", K::Float, true}}, {}, rmsNorm},
      {"act_quant", 1, 2, none, {}, actQuant},
      {"rms_norm_quant", 2, 2, {{"eps", K::Float, true}}, {}, rmsNormQuant},
      {"bitlinear", 3, 1, {{"kernel", K::String, false}}, {}, bitlinear, 4},
      {"rope", 2, 1,
       {{"heads", K::Int, true}, {"head_dim", K::Int, true}, {"theta", K::Float, true}}, {}, rope},
      {"attention", 6, 1,
       {{"heads", K::Int, true}, {"kv_heads", K::Int, true}, {"head_dim", K::Int, true},
        {"scale", K::Float, true}},
       {3, 4}, attention},
      {"relu2", 1, 1, none, {}, unaryF32},
      {"silu", 1, 1, none, {}, unaryF32},
      // Generic ops
      {"clip", 1, 1, {{"min", K::Float, true}, {"max", K::Float, true}}, {}, clip},
      {"cast", 1, 1, {{"to", K::String, true}}, {}, cast},
      {"softmax", 1, 1, {{"axis", K::Int, true}}, {}, softmax},
      {"matmul", 2, 1, {{"transpose_b", K::Bool, false}, {"last_row", K::Bool, false}, {"f32_sum", K::Bool, false}}, {}, matmul},
      {"transpose", 1, 1, {{"perm", K::Ints, true}}, {}, transpose},
      {"reshape", 1, 1, {{"shape", K::Ints, true}}, {}, reshape},
      {"concat", -1, 1, {{"axis", K::Int, true}}, {}, concat},
      {"gather", 2, 1, {{"axis", K::Int, true}}, {}, gather},
      // For ONNX graphs (issue 4)
      {"where", 3, 1, none, {}, where},
      {"expand", 1, 1, none, {}, expand},
      {"range", 2, 1, none, {}, range},
      {"slice", 1, 1, {{"starts", K::Ints, true}, {"axes", K::Ints, true}, {"steps", K::Ints, true}}, {}, slice},
      {"trilu", 1, 1, {{"upper", K::Bool, true}, {"k", K::Int, false}}, {}, trilu},
      {"layer_norm", 3, 1, {{"axis", K::Int, true}, {"eps", K::Float, true}}, {}, layerNorm},
      {"shape", 1, 1, none, {}, shape},
      {"matmul_integer", 4, 1, none, {}, matmulInteger},
      {"matmul_nbits", 4, 1,
       {{"K", K::Int, true}, {"N", K::Int, true}, {"bits", K::Int, true}, {"block_size", K::Int, true}},
       {}, matmulNBits},
  };
  for (std::string_view op : {"add", "sub", "mul", "max", "min", "div"})
    defs.push_back({op, 2, 1, none, {}, arithmetic});
  defs.push_back({"pow", 2, 1, none, {}, power});
  for (std::string_view op : {"equal", "less", "greater"}) defs.push_back({op, 2, 1, none, {}, compare});
  for (std::string_view op : {"neg", "abs", "relu"}) defs.push_back({op, 1, 1, none, {}, unaryFloatOrInt});
  for (std::string_view op : {"sqrt", "exp", "sigmoid", "reciprocal", "round"})
    defs.push_back({op, 1, 1, none, {}, unaryF32});
  for (std::string_view op : {"reduce_max", "reduce_mean", "reduce_sum"})
    defs.push_back({op, 1, 1, {{"axes", K::Ints, false}, {"keepdims", K::Bool, false}}, {}, reduce});
  return defs;
}

bool attrMatches(const Attribute& a, AttrKind kind) {
  switch (kind) {
    case AttrKind::Int: return std::holds_alternative<int64_t>(a);
    case AttrKind::Float:  // an integral float may be written as an int
      return std::holds_alternative<double>(a) || std::holds_alternative<int64_t>(a);
    case AttrKind::String: return std::holds_alternative<std::string>(a);
    case AttrKind::Bool: return std::holds_alternative<bool>(a);
    case AttrKind::Ints: return std::holds_alternative<std::vector<int64_t>>(a);
    case AttrKind::Floats:  // "[]" parses as an (empty) int list
      return std::holds_alternative<std::vector<double>>(a) ||
             (std::holds_alternative<std::vector<int64_t>>(a) &&
              std::get<std::vector<int64_t>>(a).empty());
  }
  return false;
}

}  // namespace

const std::vector<OpDef>& allOpDefs() {
  static const std::vector<OpDef> defs = makeOpDefs();
  return defs;
}

const OpDef* findOpDef(std::string_view opcode) {
  for (const OpDef& d : allOpDefs())
    if (d.opcode == opcode) return &d;
  return nullptr;
}

const OpDef& getOpDef(std::string_view opcode) {
  if (const OpDef* d = findOpDef(opcode)) return *d;
  fail("unknown opcode '", opcode, "'");
}

void checkOp(const Op& op) {
  const OpDef& def = getOpDef(op.opcode);
  const size_t n = op.operands.size();
  if (def.numOperands < 0 ? n == 0
                           : n < size_t(def.numOperands) || n > size_t(std::max(def.numOperands, def.maxOperands)))
    fail("has ", n, " operands, expected ",
         def.numOperands < 0               ? "at least 1"
         : def.maxOperands > def.numOperands ? std::to_string(def.numOperands) + " to " + std::to_string(def.maxOperands)
                                             : std::to_string(def.numOperands));
  if (op.results.size() != size_t(def.numResults))
    fail("has ", op.results.size(), " results, expected ", def.numResults);
  for (const auto& [name, value] : op.attrs.entries()) {
    auto it = std::find_if(def.attrs.begin(), def.attrs.end(),
                           [&](const AttrDef& a) { return a.name == name; });
    if (it == def.attrs.end()) fail("unknown attribute '", name, "'");
    if (!attrMatches(value, it->kind))
      fail("attribute '", name, "' is a ", attributeTypeName(value), ", expected ",
           attrKindName(it->kind));
  }
  for (const AttrDef& a : def.attrs)
    if (a.required && !op.attrs.has(a.name))
      fail("missing attribute '", a.name, "' (", attrKindName(a.kind), ")");
  // Ternary values are weights in a packed layout: only bitlinear reads them.
  for (unsigned i = 0; i < n; ++i)
    if (op.operands[i]->type.dtype == DType::Ternary && !(op.opcode == "bitlinear" && i == 2) &&
        !(op.opcode == "matmul" && i == 1))
      fail(operandName(op, i), " is ", typeOf(op, i).str(),
           ": only bitlinear (operand 2) and matmul (operand 1) read ternary weights");
  for (unsigned i : def.stateOperands)
    if (op.operands[i]->kind != Value::Kind::State)
      fail(operandName(op, i), " must be a function state (it is written)");
  const Types expected = def.inferResults(op);
  for (size_t i = 0; i < expected.size(); ++i)
    if (!sameType(op.results[i]->type, expected[i]))
      fail("result ", i, " %", op.results[i]->name, " is declared ", op.results[i]->type.str(),
           " but the op yields ", expected[i].str());
}

}  // namespace bitnetc
