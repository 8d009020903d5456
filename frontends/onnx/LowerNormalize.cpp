// Reductions and normalizations: ReduceMax/ReduceMean/ReduceSum (axes as attribute or as
// input, by opset), Softmax (opset 13: one axis), LayerNormalization.
#include "compiler/support/Error.h"
#include "frontends/onnx/Importer.h"

namespace bitnetc::onnxfe {

namespace {

void reduce(Importer& im) {
  const std::string& op = im.node().op_type();
  std::vector<int64_t> axes;
  if (im.has(1)) axes = im.constInts(1, "axes");  // ReduceSum since 13 (all reductions since 18)
  else axes = im.attrInts("axes");
  const bool keep = im.attrInt("keepdims", 1) != 0;
  Value* x = im.ir(0);
  if (axes.empty() && im.attrInt("noop_with_empty_axes", 0)) {
    im.define(0, x);
    return;
  }
  AttributeList a;
  if (!axes.empty()) a.set("axes", axes);
  a.set("keepdims", keep);
  const std::string opcode = op == "ReduceMax" ? "reduce_max" : op == "ReduceMean" ? "reduce_mean" : "reduce_sum";
  im.define(0, im.emit(opcode, {x}, std::move(a), im.outName(0)));
}

void softmax(Importer& im) {
  Value* x = im.ir(0);
  const int64_t rank = int64_t(x->type.rank());
  if (im.opset() >= 13) {  // one axis
    AttributeList a;
    a.set("axis", im.attrInt("axis", -1));
    im.define(0, im.emit("softmax", {x}, std::move(a), im.outName(0)));
    return;
  }
  // Before opset 13: softmax over the flattened dims axis..rank-1 (default axis 1).
  int64_t axis = im.attrInt("axis", 1);
  if (axis < -rank || axis >= rank) fail("axis ", axis, " is out of range for rank ", rank);
  if (axis < 0) axis += rank;
  AttributeList a;
  a.set("axis", int64_t(-1));
  if (axis == rank - 1) {
    im.define(0, im.emit("softmax", {x}, std::move(a), im.outName(0)));
    return;
  }
  std::vector<Dim> flat(x->type.dims.begin(), x->type.dims.begin() + axis);
  int64_t inner = 1;
  for (int64_t i = axis; i < rank; ++i) {
    const Dim& d = x->type.dims[size_t(i)];
    if (d.isDynamic()) fail("softmax over the flattened dims from axis ", axis, " needs them static");
    inner *= d.size;
  }
  flat.push_back(Dim::fixed(inner));
  Value* r = im.reshapeTo(x, flat, im.tmpName("flat"));
  Value* s = im.emit("softmax", {r}, std::move(a), im.tmpName("softmax"));
  im.define(0, im.reshapeTo(s, x->type.dims, im.outName(0)));
}

void layerNorm(Importer& im) {
  if (im.attrInt("stash_type", 1) != 1) fail("stash_type other than 1 (float) is not supported");
  Value* x = im.ir(0);
  Value* scale = im.ir(1);
  Value* bias = nullptr;
  if (im.has(2)) bias = im.ir(2);
  else {
    std::vector<int64_t> shape;
    for (const Dim& d : scale->type.dims) {
      if (d.isDynamic()) fail("a dynamic scale without bias is not supported");
      shape.push_back(d.size);
    }
    size_t n = 1;
    for (int64_t d : shape) n *= size_t(d);
    bias = im.constant(scale->type.dtype, shape, std::vector<double>(n, 0.0), im.outName(0) + ".bias");
  }
  const int64_t axis = im.attrInt("axis", -1);
  const double eps = im.attrFloat("epsilon", 1e-5);
  AttributeList a;
  a.set("axis", axis);
  a.set("eps", eps);
  im.define(0, im.emit("layer_norm", {x, scale, bias}, std::move(a), im.outName(0)));
  if (!im.hasOutput(1) && !im.hasOutput(2)) return;
  // The optional Mean and InvStdDev outputs (training leftovers), from plain reductions over
  // axis..rank-1 with the reduced dims kept as 1.
  const int64_t rank = int64_t(x->type.rank());
  if (axis < -rank || axis >= rank) fail("axis ", axis, " is out of range for rank ", rank);
  std::vector<int64_t> axes;
  for (int64_t i = axis < 0 ? axis + rank : axis; i < rank; ++i) axes.push_back(i);
  auto reduceMean = [&](Value* v, std::string name) {
    AttributeList r;
    r.set("axes", axes);
    r.set("keepdims", true);
    return im.emit("reduce_mean", {v}, std::move(r), std::move(name));
  };
  Value* mean = reduceMean(x, im.hasOutput(1) ? im.outName(1) : im.tmpName("mean"));
  if (im.hasOutput(1)) im.define(1, mean);
  if (!im.hasOutput(2)) return;
  Value* d = im.emit("sub", {x, mean}, {}, im.tmpName("centered"));
  Value* var = reduceMean(im.emit("mul", {d, d}, {}, im.tmpName("sq")), im.tmpName("var"));
  Value* e = im.constant(DType::F32, {}, {eps}, im.outName(2) + ".eps");
  Value* sd = im.emit("sqrt", {im.emit("add", {var, e}, {}, im.tmpName("var_eps"))}, {}, im.tmpName("std"));
  im.define(2, im.emit("reciprocal", {sd}, {}, im.outName(2)));
}

}  // namespace

void addNormalizeLowerings(std::vector<Lowering>& out) {
  out.push_back({"", "ReduceMax", {"axes", "keepdims"}, reduce});
  out.push_back({"", "ReduceMean", {"axes", "keepdims"}, reduce});
  out.push_back({"", "ReduceSum", {"axes", "keepdims", "noop_with_empty_axes"}, reduce});  // axes: before 13
  out.push_back({"", "Softmax", {"axis"}, softmax});
  out.push_back({"", "LayerNormalization", {"axis", "epsilon", "stash_type"}, layerNorm});
}

}  // namespace bitnetc::onnxfe
