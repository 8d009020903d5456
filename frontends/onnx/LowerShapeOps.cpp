// Shape and data-movement ONNX ops: Constant, Shape, Gather, Unsqueeze, Squeeze, Concat, Slice,
// Split, Reshape, Expand, Range, ConstantOfShape, Transpose, Trilu. On tensors known at import
// they compute the result; otherwise they become IR ops, with the result type derived from the
// known shape operand (expand, range, slice take it as their declared type).
#include <algorithm>
#include <climits>
#include <cmath>
#include <numeric>

#include "compiler/ir/OpDefs.h"
#include "compiler/support/Error.h"
#include "frontends/onnx/Importer.h"

namespace bitnetc::onnxfe {

namespace {

constexpr size_t kMaxKnownElements = 4096;

int64_t normAxis(int64_t axis, size_t rank, std::string_view what) {
  const int64_t r = int64_t(rank);
  if (axis < -r || axis >= r) fail(what, " ", axis, " is out of range for rank ", rank);
  return axis < 0 ? axis + r : axis;
}

size_t product(const std::vector<int64_t>& s) {
  size_t n = 1;
  for (int64_t d : s) n *= size_t(d);
  return n;
}

std::vector<size_t> strides(const std::vector<int64_t>& s) {
  std::vector<size_t> st(s.size(), 1);
  for (size_t i = s.size(); i-- > 1;) st[i - 1] = st[i] * size_t(s[i]);
  return st;
}

// Coordinates of a row-major index.
std::vector<int64_t> coords(size_t index, const std::vector<int64_t>& shape) {
  std::vector<int64_t> c(shape.size());
  for (size_t i = shape.size(); i-- > 0;) {
    c[i] = int64_t(index % size_t(shape[i]));
    index /= size_t(shape[i]);
  }
  return c;
}


// ---- Constant ----

void constant(Importer& im) {
  const onnx::AttributeProto* a = nullptr;
  for (std::string_view n : {"value", "value_float", "value_floats", "value_int", "value_ints"})
    if (const auto* x = im.attr(n)) {
      if (a) fail("more than one value attribute");
      a = x;
    }
  if (!a) fail("no value attribute (value, value_float(s) or value_int(s))");
  onnx::TensorProto t;
  if (a->name() == "value") t = a->t();
  else if (a->name() == "value_float") {
    t.set_data_type(onnx::TensorProto::FLOAT);
    t.add_float_data(a->f());
  } else if (a->name() == "value_floats") {
    t.set_data_type(onnx::TensorProto::FLOAT);
    t.add_dims(a->floats_size());
    for (float f : a->floats()) t.add_float_data(f);
  } else if (a->name() == "value_int") {
    t.set_data_type(onnx::TensorProto::INT64);
    t.add_int64_data(a->i());
  } else {
    t.set_data_type(onnx::TensorProto::INT64);
    t.add_dims(a->ints_size());
    for (int64_t v : a->ints()) t.add_int64_data(v);
  }
  if (t.has_data_location() && t.data_location() == onnx::TensorProto::EXTERNAL)
    fail("a Constant with external data is not supported");
  im.defineTensor(0, t);
}

// ---- Shape ----

void shape(Importer& im) {
  const TensorType& t = im.typeOf(0);
  const int64_t r = int64_t(t.rank());
  auto clampAxis = [&](int64_t a) { return std::clamp(a < 0 ? a + r : a, int64_t(0), r); };
  const int64_t start = clampAxis(im.attrInt("start", 0)), end = clampAxis(im.attrInt("end", r));
  SymTensor s;
  s.dtype = DType::I64;
  for (int64_t i = start; i < end; ++i) s.elems.push_back(SymElem::ofDim(t.dims[size_t(i)]));
  s.shape = {int64_t(s.elems.size())};
  im.defineKnown(0, std::move(s));
}

// Size: the element count, known at import (a size, a dim, or an expression of dims).
void size(Importer& im) {
  SymElem n = SymElem::of(1);
  for (const Dim& d : im.typeOf(0).dims) n = symBinary("Mul", n, SymElem::ofDim(d));
  SymTensor s;
  s.dtype = DType::I64;
  s.elems.push_back(n);
  im.defineKnown(0, std::move(s));
}

// ---- Gather ----

void gather(Importer& im) {
  const TensorType& dt = im.typeOf(0);
  const int64_t axis = normAxis(im.attrInt("axis", 0), dt.rank(), "axis");
  const SymTensor* data = im.known(0);
  const SymTensor* idx = im.known(1);
  if (data && idx && idx->allConst()) {
    const int64_t n = data->shape[size_t(axis)];
    std::vector<int64_t> outShape(data->shape.begin(), data->shape.begin() + axis);
    outShape.insert(outShape.end(), idx->shape.begin(), idx->shape.end());
    outShape.insert(outShape.end(), data->shape.begin() + axis + 1, data->shape.end());
    SymTensor r;
    r.dtype = data->dtype;
    r.shape = outShape;
    const auto st = strides(data->shape);
    const size_t total = product(outShape), ir = idx->shape.size();
    for (size_t o = 0; o < total; ++o) {
      const auto c = coords(o, outShape);
      int64_t k = idx->elems[0].value;
      if (ir) {
        size_t flat = 0;
        for (size_t j = 0; j < ir; ++j) flat = flat * size_t(idx->shape[j]) + size_t(c[size_t(axis) + j]);
        k = idx->elems[flat].value;
      }
      if (k < -n || k >= n) fail("index ", k, " is out of range for a dim of ", n);
      if (k < 0) k += n;
      size_t src = 0;
      for (size_t d = 0; d < data->shape.size(); ++d) {
        const int64_t cd = int64_t(d) < axis ? c[d] : int64_t(d) == axis ? k : c[d + ir - 1];
        src += size_t(cd) * st[d];
      }
      r.elems.push_back(data->elems[src]);
    }
    im.defineKnown(0, std::move(r));
    return;
  }
  Value* indices = nullptr;
  if (idx && idx->allConst() && !dt.dims[size_t(axis)].isDynamic()) {  // negative indices normalized
    const int64_t n = dt.dims[size_t(axis)].size;
    std::vector<int64_t> v = idx->consts();
    bool negative = false;
    for (int64_t& k : v) {
      if (k < -n || k >= n) fail("index ", k, " is out of range for dim ", axis, " of size ", n);
      if (k < 0) {
        k += n;
        negative = true;
      }
    }
    if (negative) indices = im.constantInts(idx->dtype, idx->shape, v, im.node().input(1));
  }
  if (!indices) indices = im.ir(1);
  AttributeList a;
  a.set("axis", axis);
  im.define(0, im.emit("gather", {im.ir(0), indices}, std::move(a), im.outName(0)));
}

// ---- Unsqueeze / Squeeze / Reshape / Transpose ----

std::vector<int64_t> axesInput(Importer& im, size_t input, std::string_view attrName) {
  if (im.has(input)) return im.constInts(input, "axes");
  return im.attrInts(attrName);
}

void defineReshaped(Importer& im, const std::vector<Dim>& dims) {
  if (const SymTensor* k = im.known(0)) {
    SymTensor r = *k;
    r.shape.clear();
    for (const Dim& d : dims) r.shape.push_back(d.size);
    im.defineKnown(0, std::move(r));
    return;
  }
  im.define(0, im.reshapeTo(im.ir(0), dims, im.outName(0)));
}

void unsqueeze(Importer& im) {
  const TensorType& t = im.typeOf(0);
  std::vector<int64_t> axes = axesInput(im, 1, "axes");
  const size_t rank = t.rank() + axes.size();
  std::vector<bool> isNew(rank, false);
  for (int64_t a : axes) {
    const int64_t n = normAxis(a, rank, "axis");
    if (isNew[size_t(n)]) fail("axis ", a, " is given twice");
    isNew[size_t(n)] = true;
  }
  std::vector<Dim> dims;
  size_t j = 0;
  for (size_t i = 0; i < rank; ++i) dims.push_back(isNew[i] ? Dim::fixed(1) : t.dims[j++]);
  defineReshaped(im, dims);
}

void squeeze(Importer& im) {
  const TensorType& t = im.typeOf(0);
  std::vector<int64_t> axes = axesInput(im, 1, "axes");
  std::vector<bool> drop(t.rank(), false);
  if (axes.empty()) {
    for (size_t i = 0; i < t.rank(); ++i) drop[i] = !t.dims[i].isDynamic() && t.dims[i].size == 1;
  } else {
    for (int64_t a : axes) {
      const int64_t n = normAxis(a, t.rank(), "axis");
      if (t.dims[size_t(n)].isDynamic() || t.dims[size_t(n)].size != 1)
        fail("axis ", a, " of ", t.str(), " is not of size 1");
      drop[size_t(n)] = true;
    }
  }
  std::vector<Dim> dims;
  for (size_t i = 0; i < t.rank(); ++i)
    if (!drop[i]) dims.push_back(t.dims[i]);
  defineReshaped(im, dims);
}

void reshape(Importer& im) {
  const TensorType& t = im.typeOf(0);
  const SymTensor* shapeK = im.known(1);
  if (!shapeK) fail("the shape (input 1) must be known at import (a constant or computed from shapes)");
  const bool allowZero = im.attrInt("allowzero", 0) != 0;
  std::vector<Dim> dims(shapeK->size());
  int infer = -1;
  for (size_t i = 0; i < shapeK->size(); ++i) {
    const SymElem& e = shapeK->elems[i];
    if (e.isConst() && e.value == -1) {
      if (infer >= 0) fail("the shape ", shapeK->str(), " has more than one -1");
      infer = int(i);
    } else if (e.isConst() && e.value == 0 && allowZero) {
      fail("allowzero = 1 with a 0 in the shape (a zero-size dim) is not supported");
    } else if (e.isConst() && e.value == 0) {
      if (i >= t.rank()) fail("the shape ", shapeK->str(), " copies dim ", i, " of a rank-", t.rank(), " input");
      dims[i] = t.dims[i];
    } else {
      dims[i] = im.dimOf(e, "shape element " + std::to_string(i));
    }
  }
  if (infer >= 0) {  // what is left of the input's (static product, dynamic dims)
    int64_t in = 1, out = 1;
    std::multiset<std::string> names;
    for (const Dim& d : t.dims) d.isDynamic() ? void(names.insert(d.name)) : void(in *= d.size);
    for (size_t i = 0; i < dims.size(); ++i) {
      if (int(i) == infer) continue;
      if (dims[i].isDynamic()) {
        auto it = names.find(dims[i].name);
        if (it == names.end()) fail("cannot reshape ", t.str(), " to ", shapeK->str(), ": -1 is not a whole dim");
        names.erase(it);
      } else out *= dims[i].size;
    }
    if (out == 0 || in % out) fail("cannot reshape ", t.str(), " to ", shapeK->str(), ": the sizes do not divide");
    const int64_t rest = in / out;
    if (names.empty()) dims[size_t(infer)] = Dim::fixed(rest);
    else if (names.size() == 1 && rest == 1) {
      for (const Dim& d : t.dims)
        if (d.isDynamic() && d.name == *names.begin()) dims[size_t(infer)] = d;
    } else
      fail("cannot reshape ", t.str(), " to ", shapeK->str(), ": -1 would be ", rest, " * ",
           names.size(), " dynamic dim(s), which the IR cannot name");
  }
  if (const SymTensor* k = im.known(0)) {
    for (const Dim& d : dims)
      if (d.isDynamic()) fail("a known tensor cannot take a dynamic shape");
    (void)k;
  }
  defineReshaped(im, dims);
}

void transpose(Importer& im) {
  const TensorType& t = im.typeOf(0);
  std::vector<int64_t> perm = im.attrInts("perm");
  if (!im.attr("perm"))
    for (size_t i = t.rank(); i-- > 0;) perm.push_back(int64_t(i));
  if (const SymTensor* k = im.known(0)) {
    if (perm.size() != k->shape.size()) fail("perm has ", perm.size(), " entries for rank ", k->shape.size());
    SymTensor r;
    r.dtype = k->dtype;
    for (int64_t p : perm) r.shape.push_back(k->shape.at(size_t(p)));
    const auto st = strides(k->shape);
    for (size_t o = 0; o < product(r.shape); ++o) {
      const auto c = coords(o, r.shape);
      size_t src = 0;
      for (size_t d = 0; d < perm.size(); ++d) src += size_t(c[d]) * st[size_t(perm[d])];
      r.elems.push_back(k->elems[src]);
    }
    im.defineKnown(0, std::move(r));
    return;
  }
  AttributeList a;
  a.set("perm", perm);
  im.define(0, im.emit("transpose", {im.ir(0)}, std::move(a), im.outName(0)));
}

// ---- Concat ----

void concat(Importer& im) {
  const int64_t axisAttr = im.attrInt("axis", INT64_MIN);
  if (axisAttr == INT64_MIN) fail("attribute 'axis' is required");
  if (im.allInputsKnown()) {
    const SymTensor& first = *im.known(0);
    const int64_t axis = normAxis(axisAttr, first.shape.size(), "axis");
    SymTensor r;
    r.dtype = first.dtype;
    r.shape = first.shape;
    r.shape[size_t(axis)] = 0;
    for (size_t i = 0; i < im.numInputs(); ++i) r.shape[size_t(axis)] += im.known(i)->shape.at(size_t(axis));
    const size_t outer = product(std::vector<int64_t>(first.shape.begin(), first.shape.begin() + axis));
    for (size_t o = 0; o < outer; ++o)
      for (size_t i = 0; i < im.numInputs(); ++i) {
        const SymTensor& k = *im.known(i);
        const size_t inner = product(std::vector<int64_t>(k.shape.begin() + axis, k.shape.end()));
        for (size_t j = 0; j < inner; ++j) r.elems.push_back(k.elems[o * inner + j]);
      }
    im.defineKnown(0, std::move(r));
    return;
  }
  std::vector<Value*> parts;
  for (size_t i = 0; i < im.numInputs(); ++i) {
    Value* v = im.ir(i);
    // Empty pieces (a zero-size axis) add nothing.
    const int64_t ax = normAxis(axisAttr, v->type.rank(), "axis");
    if (!v->type.dims[size_t(ax)].isDynamic() && v->type.dims[size_t(ax)].size == 0 && im.numInputs() > 1) continue;
    parts.push_back(v);
  }
  if (parts.size() == 1) {
    im.define(0, parts[0]);
    return;
  }
  AttributeList a;
  a.set("axis", axisAttr);
  im.define(0, im.emit("concat", parts, std::move(a), im.outName(0)));
}

// ---- Slice / Split ----

// The length of a slice of a dim, symbolically. Returns the result dim or throws naming the
// expression the IR cannot declare.
Dim sliceLength(const Dim& in, const SymElem& start, const SymElem& end, int64_t step, int64_t axis) {
  auto fromOnnx = [&](int64_t dim, int64_t s, int64_t e) {  // ONNX's clamping, static
    if (s < 0) s += dim;
    if (e < 0) e += dim;
    if (step > 0) {
      s = std::clamp(s, int64_t(0), dim);
      e = std::clamp(e, int64_t(0), dim);
      return e > s ? (e - s + step - 1) / step : 0;
    }
    s = std::clamp(s, int64_t(-1), dim - 1);
    e = std::clamp(e, int64_t(-1), dim - 1);
    return s > e ? (s - e + (-step) - 1) / (-step) : 0;
  };
  if (!start.isConst())
    fail("the start ", start.str(), " on axis ", axis, " depends on dynamic dims; the IR's slice needs a constant start");
  const int64_t s = start.value;
  if (!in.isDynamic() && end.isConst()) return Dim::fixed(fromOnnx(in.size, s, end.value));
  const bool endIsDim = end.isDim() && (!in.isDynamic() || end.dim.name == in.name);
  const bool endIsAll = end.isConst() && end.value >= (in.isDynamic() ? in.max : in.size);
  if (step == 1) {
    if (in.isDynamic() && end.isConst() && !endIsAll) {
      // Bounded by a constant inside a dynamic dim: the length is static (a run-time error if
      // the dim is shorter).
      if (s >= 0 && end.value >= 0) return Dim::fixed(std::max<int64_t>(end.value - s, 0));
      if (s < 0 && end.value < 0) return Dim::fixed(std::max<int64_t>(end.value - s, 0));
    }
    if (in.isDynamic() && endIsAll && s < 0) return Dim::fixed(-s);
    if (s == 0 && (endIsAll || endIsDim)) return endIsDim ? end.dim : in;
  }
  fail("slicing axis ", axis, " (", in.isDynamic() ? "?" + in.name : std::to_string(in.size), ") from ", s,
       " to ", end.str(), " step ", step, " has a length the IR cannot declare (an expression of dynamic dims)");
}

void slice(Importer& im) {
  const TensorType& t = im.typeOf(0);
  const SymTensor* startsK = im.known(1);
  const SymTensor* endsK = im.known(2);
  if (!startsK || !endsK) fail("starts and ends must be known at import (constants or computed from shapes)");
  const size_t n = startsK->size();
  if (endsK->size() != n) fail("starts and ends differ in length");
  std::vector<int64_t> axes(n), steps(n, 1);
  if (im.has(3)) axes = im.constInts(3, "axes");
  else std::iota(axes.begin(), axes.end(), 0);
  if (im.has(4)) steps = im.constInts(4, "steps");
  if (axes.size() != n || steps.size() != n) fail("starts, ends, axes and steps differ in length");
  for (auto& a : axes) a = normAxis(a, t.rank(), "axis");
  for (int64_t s : steps)
    if (s == 0) fail("a step is 0");
  std::vector<Dim> dims = t.dims;
  for (size_t i = 0; i < n; ++i) {
    const Dim& in = t.dims[size_t(axes[i])];
    const Dim d = sliceLength(in, startsK->elems[i], endsK->elems[i], steps[i], axes[i]);
    if (d.isDynamic() && !in.isDynamic() && d.max > in.size)
      im.note("'" + im.node().output(0) + "' takes ?" + d.name + " rows of a dim of " + std::to_string(in.size) +
              " but ?" + d.name + " is bounded by " + std::to_string(d.max) + ": past " + std::to_string(in.size) +
              " the slice fails at run time (--dim " + d.name + "=" + std::to_string(in.size) + " bounds it)");
    dims[size_t(axes[i])] = d;
  }
  if (const SymTensor* k = im.known(0)) {  // slice of known elements
    SymTensor r;
    r.dtype = k->dtype;
    for (const Dim& d : dims) r.shape.push_back(d.size);
    std::vector<int64_t> start(t.rank(), 0), step(t.rank(), 1);
    for (size_t i = 0; i < n; ++i) {
      const int64_t dim = k->shape[size_t(axes[i])];
      int64_t s = startsK->elems[i].value;
      if (s < 0) s += dim;
      s = steps[i] > 0 ? std::clamp(s, int64_t(0), dim) : std::clamp(s, int64_t(-1), dim - 1);
      start[size_t(axes[i])] = s;
      step[size_t(axes[i])] = steps[i];
    }
    const auto st = strides(k->shape);
    for (size_t o = 0; o < product(r.shape); ++o) {
      const auto c = coords(o, r.shape);
      size_t src = 0;
      for (size_t d = 0; d < c.size(); ++d) src += size_t(start[d] + c[d] * step[d]) * st[d];
      r.elems.push_back(k->elems[src]);
    }
    im.defineKnown(0, std::move(r));
    return;
  }
  std::vector<int64_t> starts;
  for (const SymElem& e : startsK->elems) starts.push_back(e.value);
  if (dims == t.dims) {  // the whole tensor
    im.define(0, im.ir(0));
    return;
  }
  AttributeList a;
  a.set("starts", starts);
  a.set("axes", axes);
  a.set("steps", steps);
  im.define(0, im.emitTyped("slice", {im.ir(0)}, std::move(a), TensorType(t.dtype, dims), im.outName(0)));
}

void split(Importer& im) {
  const TensorType& t = im.typeOf(0);
  const int64_t axis = normAxis(im.attrInt("axis", 0), t.rank(), "axis");
  const Dim& d = t.dims[size_t(axis)];
  const size_t outs = im.numOutputs();
  std::vector<int64_t> sizes;
  if (im.has(1)) sizes = im.constInts(1, "split");
  else if (im.attr("split")) sizes = im.attrInts("split");
  else {
    if (d.isDynamic()) fail("splitting the dynamic dim ?", d.name, " into equal parts is not supported");
    const int64_t chunk = (d.size + int64_t(outs) - 1) / int64_t(outs);
    for (size_t i = 0; i < outs; ++i) sizes.push_back(std::min(chunk, d.size - chunk * int64_t(i)));
  }
  if (sizes.size() != outs) fail("split has ", sizes.size(), " sizes for ", outs, " outputs");
  if (d.isDynamic()) fail("splitting the dynamic dim ?", d.name, " is not supported");
  if (std::accumulate(sizes.begin(), sizes.end(), int64_t(0)) != d.size)
    fail("the split sizes do not add up to dim ", axis, " (", d.size, ")");
  int64_t offset = 0;
  Value* x = im.ir(0);
  for (size_t i = 0; i < outs; ++i) {
    std::vector<Dim> dims = t.dims;
    dims[size_t(axis)] = Dim::fixed(sizes[i]);
    if (im.hasOutput(i)) {
      AttributeList a;
      a.set("starts", std::vector<int64_t>{offset});
      a.set("axes", std::vector<int64_t>{axis});
      a.set("steps", std::vector<int64_t>{1});
      im.define(i, im.emitTyped("slice", {x}, std::move(a), TensorType(t.dtype, dims), im.outName(i)));
    }
    offset += sizes[i];
  }
}

// ---- Expand / ConstantOfShape / Range ----

void expand(Importer& im) {
  const TensorType& t = im.typeOf(0);
  const SymTensor* shapeK = im.known(1);
  if (!shapeK) fail("the shape (input 1) must be known at import (a constant or computed from shapes)");
  const size_t rank = std::max(t.rank(), shapeK->size());
  std::vector<Dim> dims(rank);
  for (size_t i = 0; i < rank; ++i) {  // i counts from the end
    const Dim x = i < t.rank() ? t.dims[t.rank() - 1 - i] : Dim::fixed(1);
    const bool hasS = i < shapeK->size();
    const SymElem s = hasS ? shapeK->elems[shapeK->size() - 1 - i] : SymElem::of(1);
    Dim out;
    if (s.isConst() && s.value == 1) out = x;
    else {
      const Dim sd = im.dimOf(s, "shape element");
      if (!x.isDynamic() && x.size == 1) out = sd;
      else if (sameDim(x, sd)) out = x;
      else fail("cannot expand ", t.str(), " to ", shapeK->str(), ": dim ", rank - 1 - i, " differs");
    }
    dims[rank - 1 - i] = out;
  }
  if (const SymTensor* k = im.known(0); k && std::all_of(dims.begin(), dims.end(), [](const Dim& d) { return !d.isDynamic(); })) {
    SymTensor r;
    r.dtype = k->dtype;
    for (const Dim& d : dims) r.shape.push_back(d.size);
    if (product(r.shape) <= kMaxKnownElements) {
      for (size_t o = 0; o < product(r.shape); ++o) r.elems.push_back(k->elems[broadcastIndex(k->shape, r.shape, o)]);
      im.defineKnown(0, std::move(r));
      return;
    }
  }
  const TensorType out(t.dtype, dims);
  Value* x = im.ir(0);
  if (sameType(x->type, out)) {
    im.define(0, x);
    return;
  }
  im.define(0, im.emitTyped("expand", {x}, {}, out, im.outName(0)));
}

void constantOfShape(Importer& im) {
  const SymTensor* shapeK = im.known(0);
  if (!shapeK) fail("the shape (input 0) must be known at import (a constant or computed from shapes)");
  DType dt = DType::F32;
  double value = 0;
  int64_t ivalue = 0;
  if (const auto* a = im.attr("value")) {
    if (a->type() != onnx::AttributeProto::TENSOR) fail("attribute 'value' must be a tensor");
    dt = irDType(a->t().data_type(), "attribute 'value'");
    ExternalFiles none("");
    if (isIntegerLike(dt)) {
      auto v = tensorInts(a->t(), none);
      if (v.size() != 1) fail("attribute 'value' must have one element");
      ivalue = v[0];
      value = double(ivalue);
    } else {
      auto v = tensorFloats(a->t(), none);
      if (v.size() != 1) fail("attribute 'value' must have one element");
      value = v[0];
    }
  }
  std::vector<Dim> dims;
  for (size_t i = 0; i < shapeK->size(); ++i) dims.push_back(im.dimOf(shapeK->elems[i], "shape element " + std::to_string(i)));
  if (shapeK->allConst()) {
    const std::vector<int64_t> shape = shapeK->consts();
    if (isIntegerLike(dt) && product(shape) <= kMaxKnownElements) {
      im.defineKnown(0, SymTensor::constant(dt, shape, std::vector<int64_t>(product(shape), ivalue)));
      return;
    }
    Value* w = isIntegerLike(dt) ? im.constantInts(dt, shape, std::vector<int64_t>(product(shape), ivalue), im.outName(0))
                                 : im.constant(dt, shape, std::vector<double>(product(shape), value), im.outName(0));
    im.define(0, w);
    return;
  }
  Value* scalar = isIntegerLike(dt) ? im.constantInts(dt, {}, {ivalue}, im.outName(0) + ".value")
                                    : im.constant(dt, {}, {value}, im.outName(0) + ".value");
  im.define(0, im.emitTyped("expand", {scalar}, {}, TensorType(dt, dims), im.outName(0)));
}

void range(Importer& im) {
  const DType dt = im.typeOf(0).dtype;
  if (im.allInputsKnown()) {
    const SymTensor &s = *im.known(0), &l = *im.known(1), &d = *im.known(2);
    if (s.allConst() && l.allConst() && d.allConst()) {
      const int64_t start = s.elems.at(0).value, limit = l.elems.at(0).value, delta = d.elems.at(0).value;
      if (delta == 0) fail("delta is 0");
      const int64_t count = std::max<int64_t>(0, (limit - start + delta + (delta > 0 ? -1 : 1)) / delta);
      std::vector<int64_t> v;
      for (int64_t i = 0; i < count; ++i) v.push_back(start + i * delta);
      im.defineKnown(0, SymTensor::constant(dt, {count}, v));
      return;
    }
  }
  auto start = im.constFloats(0), delta = im.constFloats(2);
  if (!start || !delta) fail("start and delta must be constants known at import");
  const SymTensor* lim = im.known(1);
  auto limF = im.constFloats(1);
  Dim len;
  if (limF) {
    const double n = std::ceil((limF->at(0) - start->at(0)) / delta->at(0));
    len = Dim::fixed(std::max<int64_t>(0, int64_t(n)));
    if (!isIntegerLike(dt)) {  // a float range with constant bounds is a constant
      std::vector<double> v;
      for (int64_t i = 0; i < len.size; ++i) v.push_back(start->at(0) + double(i) * delta->at(0));
      im.define(0, im.constant(dt, {len.size}, v, im.outName(0)));
      return;
    }
  } else if (lim && lim->elems.at(0).isDim() && start->at(0) == 0 && delta->at(0) == 1) {
    len = lim->elems[0].dim;
  } else {
    fail("the length of Range(", start->at(0), ", ", lim ? lim->str() : std::string("a run-time value"), ", ",
         delta->at(0), ") is not a size or a dynamic dim the IR can declare");
  }
  Value* s = isIntegerLike(dt) ? im.constantInts(dt, {}, {int64_t(start->at(0))}, im.outName(0) + ".start")
                               : im.constant(dt, {}, {start->at(0)}, im.outName(0) + ".start");
  Value* d = isIntegerLike(dt) ? im.constantInts(dt, {}, {int64_t(delta->at(0))}, im.outName(0) + ".delta")
                               : im.constant(dt, {}, {delta->at(0)}, im.outName(0) + ".delta");
  im.define(0, im.emitTyped("range", {s, d}, {}, TensorType(dt, {len}), im.outName(0)));
}

void trilu(Importer& im) {
  int64_t k = 0;
  if (im.has(1)) {
    auto v = im.constInts(1, "k");
    if (v.size() != 1) fail("k must be a scalar");
    k = v[0];
  }
  AttributeList a;
  a.set("upper", im.attrInt("upper", 1) != 0);
  a.set("k", k);
  im.define(0, im.emit("trilu", {im.ir(0)}, std::move(a), im.outName(0)));
}

}  // namespace

void addShapeLowerings(std::vector<Lowering>& out) {
  out.push_back({"", "Constant", {"value", "value_float", "value_floats", "value_int", "value_ints"}, constant});
  out.push_back({"", "Shape", {"start", "end"}, shape});
  out.push_back({"", "Size", {}, size});
  out.push_back({"", "Gather", {"axis"}, gather});
  out.push_back({"", "Unsqueeze", {"axes"}, unsqueeze});  // axes: before opset 13
  out.push_back({"", "Squeeze", {"axes"}, squeeze});
  out.push_back({"", "Reshape", {"allowzero"}, reshape});
  out.push_back({"", "Transpose", {"perm"}, transpose});
  out.push_back({"", "Concat", {"axis"}, concat});
  out.push_back({"", "Slice", {}, slice});
  out.push_back({"", "Split", {"axis", "split"}, split});
  out.push_back({"", "Expand", {}, expand});
  out.push_back({"", "ConstantOfShape", {"value"}, constantOfShape});
  out.push_back({"", "Range", {}, range});
  out.push_back({"", "Trilu", {"upper"}, trilu});
}

}  // namespace bitnetc::onnxfe
