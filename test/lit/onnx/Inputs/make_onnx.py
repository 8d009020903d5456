"""Small ONNX graphs for the frontend's lit tests: make_onnx.py CASE OUT.onnx [--opset N].

Each case is a function building a ModelProto with onnx.helper; the lit test names the case and
checks what bitnet-opt makes of it. Weights are deterministic (no randomness)."""
import argparse
import os
import sys

import numpy as np
import onnx
from onnx import TensorProto, helper, numpy_helper

CASES = {}


def case(fn):
    CASES[fn.__name__] = fn
    return fn


def model(nodes, inputs, outputs, inits=(), opset=17, extra_opsets=(), name="g"):
    g = helper.make_graph(nodes, name, inputs, outputs, initializer=list(inits))
    ops = [helper.make_opsetid("", opset)] + [helper.make_opsetid(d, v) for d, v in extra_opsets]
    m = helper.make_model(g, opset_imports=ops, producer_name="make_onnx.py")
    m.ir_version = 8
    return m


def f32(name, shape):
    return helper.make_tensor_value_info(name, TensorProto.FLOAT, shape)


def init(name, array):
    return numpy_helper.from_array(np.asarray(array), name)


@case
def elementwise(a):
    """Every elementwise op on a [2, 3] input, a broadcast [3] initializer and a scalar."""
    w = init("w", np.arange(3, dtype=np.float32) + 1)
    two = init("two", np.array(2.0, dtype=np.float32))
    n = helper.make_node
    nodes = [n("Add", ["x", "w"], ["add"]), n("Sub", ["add", "w"], ["sub"]), n("Mul", ["sub", "two"], ["mul"]),
             n("Div", ["mul", "w"], ["div"]), n("Pow", ["div", "two"], ["pow"]), n("Sqrt", ["pow"], ["sqrt"]),
             n("Reciprocal", ["sqrt"], ["rec"]), n("Abs", ["rec"], ["abs"]), n("Neg", ["abs"], ["neg"]),
             n("Max", ["neg", "x", "w"], ["max"]), n("Min", ["max", "x"], ["min"]), n("Relu", ["min"], ["relu"]),
             n("Sigmoid", ["relu"], ["sig"]), n("Round", ["sig"], ["round"]), n("Exp", ["round"], ["exp"]),
             n("Identity", ["exp"], ["y"])]
    return model(nodes, [f32("x", [2, 3])], [f32("y", [2, 3])], [w, two])


@case
def clip(a):
    """Clip with constant bounds -> clip attrs; one bound missing -> +-inf; a run-time bound -> max/min."""
    lo = init("lo", np.array(-128.0, dtype=np.float32))
    hi = init("hi", np.array(127.0, dtype=np.float32))
    n = helper.make_node
    nodes = [n("Clip", ["x", "lo", "hi"], ["c1"]), n("Clip", ["c1", "", "hi"], ["c2"]),
             n("Clip", ["c2", "b"], ["y"])]
    return model(nodes, [f32("x", [4]), f32("b", [])], [f32("y", [4])], [lo, hi])


@case
def gemm(a):
    """Gemm with transA, transB, alpha, beta and C."""
    b = init("B", np.arange(12, dtype=np.float32).reshape(4, 3))
    c = init("C", np.ones(4, dtype=np.float32))
    node = helper.make_node("Gemm", ["A", "B", "C"], ["Y"], transA=1, transB=1, alpha=0.5, beta=2.0, name="fc")
    return model([node], [f32("A", [3, 2])], [f32("Y", [2, 4])], [b, c])


@case
def matmul_batched(a):
    """MatMul of [b, s, 4] by a [4, 5] weight, and by a [1, 5, 6] weight (leading 1 dropped)."""
    w = init("w", np.arange(20, dtype=np.float32).reshape(4, 5))
    w3 = init("w3", np.arange(30, dtype=np.float32).reshape(1, 5, 6))
    n = helper.make_node
    nodes = [n("MatMul", ["x", "w"], ["h"]), n("MatMul", ["h", "w3"], ["y"])]
    return model(nodes, [f32("x", ["batch", "seq", 4])], [f32("y", ["batch", "seq", 6])], [w, w3])


@case
def dynamic_dims(a):
    """dim_params with characters the IR does not allow; a static dim."""
    node = helper.make_node("Relu", ["x"], ["y"])
    return model([node], [f32("x", ["batch size", "seq", 8])], [f32("y", ["batch size", "seq", 8])])


@case
def unnamed_dim(a):
    x = f32("x", [2, 8])
    x.type.tensor_type.shape.dim[0].Clear()
    return model([helper.make_node("Relu", ["x"], ["y"])], [x], [f32("y", [2, 8])])


@case
def shape_reshape(a):
    """The torch.onnx pattern: Shape -> Gather -> Unsqueeze -> Concat -> Reshape on dynamic dims
    ([b, s, 32] -> [b, s, 4, 8]), then back with a -1 ([b, s, -1]); Unsqueeze/Squeeze of a tensor
    with two dynamic dims."""
    n = helper.make_node
    c = lambda name, v: n("Constant", [], [name], value=numpy_helper.from_array(np.array(v, dtype=np.int64)))
    nodes = [n("Shape", ["x"], ["shape"]), c("i0", 0), c("i1", 1), c("ax0", [0]),
             n("Gather", ["shape", "i0"], ["b"], axis=0), n("Gather", ["shape", "i1"], ["s"], axis=0),
             n("Unsqueeze", ["b", "ax0"], ["b1"]), n("Unsqueeze", ["s", "ax0"], ["s1"]), c("heads", [4, 8]),
             n("Concat", ["b1", "s1", "heads"], ["newshape"], axis=0), n("Reshape", ["x", "newshape"], ["split"]),
             c("back", [0, 0, -1]), n("Reshape", ["split", "back"], ["merged"]),
             c("ax2", [2]), n("Unsqueeze", ["merged", "ax2"], ["u"]), n("Squeeze", ["u", "ax2"], ["y"])]
    return model(nodes, [f32("x", ["batch", "seq", 32])], [f32("y", ["batch", "seq", 32])])


@case
def unsqueeze_front(a):
    """[s, s] -> [1, 1, s, s]: two dynamic dims move (a causal mask's [None, None])."""
    n = helper.make_node
    ax = init("ax", np.array([0, 1], dtype=np.int64))
    return model([n("Unsqueeze", ["x", "ax"], ["y"])], [f32("x", ["seq", "seq"])], [f32("y", [1, 1, "seq", "seq"])], [ax])


@case
def softmax_reduce(a):
    """Softmax (opset 13: one axis), ReduceMax/ReduceMean with axes attributes, ReduceSum with an
    axes input."""
    n = helper.make_node
    ax = init("axes", np.array([-1], dtype=np.int64))
    nodes = [n("Softmax", ["x"], ["sm"], axis=-1), n("ReduceMax", ["sm"], ["mx"], axes=[-1], keepdims=1),
             n("ReduceMean", ["x"], ["mean"], axes=[1], keepdims=0), n("ReduceSum", ["x", "axes"], ["y"], keepdims=1)]
    return model(nodes, [f32("x", [2, 5])], [f32("mx", [2, 1]), f32("mean", [2]), f32("y", [2, 1])], [ax])


@case
def softmax_opset11(a):
    """Softmax before opset 13 normalizes the flattened dims from axis (default 1)."""
    return model([helper.make_node("Softmax", ["x"], ["y"])], [f32("x", [2, 3, 4])], [f32("y", [2, 3, 4])], opset=11)


@case
def constant_and_transpose(a):
    """A Constant node becomes a weight; Transpose; Concat; Gather with a negative index."""
    n = helper.make_node
    nodes = [n("Constant", [], ["k"], value=numpy_helper.from_array(np.full((3, 2), 0.5, dtype=np.float32))),
             n("Transpose", ["x"], ["xt"], perm=[1, 0]), n("Concat", ["xt", "k"], ["cat"], axis=1),
             n("Constant", [], ["idx"], value=numpy_helper.from_array(np.array([-1, 0], dtype=np.int64))),
             n("Gather", ["cat", "idx"], ["y"], axis=1)]
    return model(nodes, [f32("x", [2, 3])], [f32("y", [3, 2])])


@case
def names(a):
    """ONNX names with characters the IR does not allow, a clash after sanitizing, an output that
    is a graph input."""
    n = helper.make_node
    nodes = [n("Relu", ["in:0"], ["/layer/out:0"]), n("Neg", ["/layer/out:0"], ["_layer_out_0"])]
    return model(nodes, [f32("in:0", [4])], [f32("/layer/out:0", [4]), f32("_layer_out_0", [4]), f32("in:0", [4])])


@case
def external(a):
    """Two initializers as external data in weights.bin beside the model (one at an offset)."""
    w1 = np.arange(6, dtype=np.float32).reshape(2, 3)
    w2 = np.arange(4, dtype=np.float32) * 0.25
    out_dir = os.path.dirname(os.path.abspath(a.out))
    blob = w1.tobytes() + w2.tobytes()
    if a.variant == "short":
        blob = blob[:-4]
    if a.variant != "missing":
        with open(os.path.join(out_dir, "weights.bin"), "wb") as f:
            f.write(blob)
    t1, t2 = init("w1", w1), init("w2", w2)
    for t, off, length in ((t1, 0, 24), (t2, 24, 16 if a.variant != "badlength" else 12)):
        t.ClearField("raw_data")
        t.data_location = TensorProto.EXTERNAL
        for k, v in (("location", "weights.bin"), ("offset", str(off)), ("length", str(length))):
            e = t.external_data.add()
            e.key, e.value = k, v
    n = helper.make_node
    nodes = [n("MatMul", ["x", "w1"], ["h"]), n("Add", ["h", "w3"], ["y"])]
    # w3 (inline, typed float_data) next to the external ones.
    w3 = helper.make_tensor("w3", TensorProto.FLOAT, [3], [0.5, 1.5, 2.5])
    nodes.append(n("Mul", ["w2", "w2"], ["sq"]))
    return model(nodes, [f32("x", ["seq", 2])], [f32("y", ["seq", 3]), f32("sq", [4])], [t1, t2, w3])


@case
def unsupported_op(a):
    return model([helper.make_node("LpNormalization", ["x"], ["y"], name="norm_7")], [f32("x", [2, 3])], [f32("y", [2, 3])])


@case
def unsupported_attr(a):
    return model([helper.make_node("Gemm", ["x", "x"], ["y"], name="fc1", transB=1, foo=3)],
                 [f32("x", [2, 2])], [f32("y", [2, 2])])


@case
def unsupported_dtype(a):
    x = helper.make_tensor_value_info("x", TensorProto.STRING, [2])
    return model([helper.make_node("Identity", ["x"], ["y"])], [x], [helper.make_tensor_value_info("y", TensorProto.STRING, [2])])


@case
def missing_initializer(a):
    return model([helper.make_node("MatMul", ["x", "weight"], ["y"], name="proj")], [f32("x", [2, 3])], [f32("y", [2, 4])])


@case
def old_opset(a):
    return model([helper.make_node("Relu", ["x"], ["y"])], [f32("x", [2])], [f32("y", [2])], opset=8)


@case
def expression_dim(a):
    """Reshape to [s + 1]: the IR cannot name that dim."""
    n = helper.make_node
    one = init("one", np.array([1], dtype=np.int64))
    nodes = [n("Shape", ["x"], ["shape"]), n("Add", ["shape", "one"], ["plus"]), n("Reshape", ["x", "plus"], ["y"], name="grow")]
    return model(nodes, [f32("x", ["seq"])], [f32("y", ["seq"])], [one])


@case
def matmul_nbits(a):
    """com.microsoft MatMulNBits with bits = 4: a clear error (only bits = 2)."""
    b = init("B", np.zeros((8, 1, 16), dtype=np.uint8))
    s = init("scales", np.ones(8, dtype=np.float32))
    node = helper.make_node("MatMulNBits", ["x", "B", "scales"], ["y"], domain="com.microsoft", name="q4",
                            K=32, N=8, bits=a.bits, block_size=32)
    return model([node], [f32("x", [2, 32])], [f32("y", [2, 8])], [b, s], extra_opsets=[("com.microsoft", 1)])


@case
def rotary_slice(a):
    """x[..., :h] / x[..., h:] with h from Shape / 2 (the rotate_half pattern), and a cos table
    [16, 8] sliced to the dynamic sequence length."""
    n = helper.make_node
    c = lambda name, v: n("Constant", [], [name], value=numpy_helper.from_array(np.array(v, dtype=np.int64)))
    table = init("cos", np.arange(128, dtype=np.float32).reshape(16, 8))
    nodes = [n("Shape", ["x"], ["shape"]), c("last", 1), n("Gather", ["shape", "last"], ["d"], axis=0),
             c("two", 2), n("Div", ["d", "two"], ["half"]), c("ax0", [0]), n("Unsqueeze", ["half", "ax0"], ["h1"]),
             c("zero", [0]), c("axm1", [-1]), c("big", [9223372036854775807]),
             n("Slice", ["x", "zero", "h1", "axm1"], ["lo"]), n("Slice", ["x", "h1", "big", "axm1"], ["hi"]),
             n("Neg", ["hi"], ["neghi"]), n("Concat", ["neghi", "lo"], ["rot"], axis=-1),
             c("i0", 0), n("Gather", ["shape", "i0"], ["s"], axis=0), n("Unsqueeze", ["s", "ax0"], ["s1"]),
             n("Slice", ["cos", "zero", "s1", "zero"], ["c"]), n("Mul", ["rot", "c"], ["y"]),
             c("m1", [-1]), n("Slice", ["x", "m1", "big", "zero"], ["last_row"])]
    return model(nodes, [f32("x", ["seq", 8])], [f32("y", ["seq", 8]), f32("last_row", [1, 8])], [table])


@case
def gqa_expand(a):
    """repeat_kv: [1, 2, s, 4] -> Unsqueeze(2) -> Expand to [1, 2, 3, s, 4] (shape from Shape,
    Concat, and torch's Where(Equal(shape, -1)) guard) -> Reshape [1, 6, s, 4]."""
    n = helper.make_node
    c = lambda name, v: n("Constant", [], [name], value=numpy_helper.from_array(np.array(v, dtype=np.int64)))
    nodes = [c("ax2", [2]), n("Unsqueeze", ["x", "ax2"], ["u"]), n("Shape", ["x"], ["shape"]), c("i2", 2),
             n("Gather", ["shape", "i2"], ["s"], axis=0), c("ax0", [0]), n("Unsqueeze", ["s", "ax0"], ["s1"]),
             c("pre", [1, 2, 3]), c("post", [4]), n("Concat", ["pre", "s1", "post"], ["target"], axis=0),
             c("minus1", [-1]), n("Equal", ["target", "minus1"], ["is_m1"]),
             n("Shape", ["target"], ["tshape"]), n("ConstantOfShape", ["tshape"], ["ones"], value=numpy_helper.from_array(np.array([1], dtype=np.int64))),
             n("Where", ["is_m1", "ones", "target"], ["guarded"]),
             n("Expand", ["u", "guarded"], ["e"]), c("merged", [1, 6, -1, 4]), n("Reshape", ["e", "merged"], ["y"])]
    return model(nodes, [f32("x", [1, 2, "seq", 4])], [f32("y", [1, 6, "seq", 4])])


@case
def causal_mask(a):
    """The two causal mask exports: ConstantOfShape([s, s], -inf) -> Trilu(upper, k = 1), and
    Range(0, s) compared with Greater -> Where(-inf, 0)."""
    n = helper.make_node
    c = lambda name, v, dt=np.int64: n("Constant", [], [name], value=numpy_helper.from_array(np.array(v, dtype=dt)))
    nodes = [n("Shape", ["x"], ["shape"]), c("i0", 0), n("Gather", ["shape", "i0"], ["s"], axis=0),
             c("ax0", [0]), n("Unsqueeze", ["s", "ax0"], ["s1"]), n("Concat", ["s1", "s1"], ["ss"], axis=0),
             n("ConstantOfShape", ["ss"], ["full"], value=numpy_helper.from_array(np.array([-np.inf], dtype=np.float32))),
             c("one", 1), n("Trilu", ["full", "one"], ["mask1"], upper=1),
             c("start", 0), c("delta", 1), n("Range", ["start", "s", "delta"], ["pos"]),
             c("ax1", [1]), n("Unsqueeze", ["pos", "ax1"], ["col"]), n("Greater", ["pos", "col"], ["future"]),
             c("ninf", -np.inf, np.float32), c("fzero", 0.0, np.float32), n("Where", ["future", "ninf", "fzero"], ["mask2"])]
    return model(nodes, [f32("x", ["seq", 4])], [f32("mask1", ["seq", "seq"]), f32("mask2", ["seq", "seq"])])


@case
def layer_norm_split(a):
    """LayerNormalization (no bias), Split into two unequal parts (split input), Split into equal
    parts (no split input)."""
    n = helper.make_node
    sc = init("scale", np.full(6, 2.0, dtype=np.float32))
    sp = init("split", np.array([2, 4], dtype=np.int64))
    nodes = [n("LayerNormalization", ["x", "scale"], ["ln"], axis=-1, epsilon=1e-5),
             n("Split", ["ln", "split"], ["a", "b"], axis=1), n("Split", ["b"], ["b0", "b1"], axis=1)]
    return model(nodes, [f32("x", ["seq", 6])], [f32("a", ["seq", 2]), f32("b0", ["seq", 2]), f32("b1", ["seq", 2])], [sc, sp])


@case
def integer_forms(a):
    """MatMulInteger (int8 activations x int8 ternary weight, zero points absent), and
    com.microsoft MatMulNBits bits = 2 without zero points (the default 2 per code)."""
    n = helper.make_node
    w8 = init("w8", (np.arange(12).reshape(4, 3) % 3 - 1).astype(np.int8))
    b = init("B", np.full((3, 1, 8), 0x66, dtype=np.uint8))
    s = init("scales", np.ones(3, dtype=np.float32))
    nodes = [n("MatMulInteger", ["q", "w8"], ["acc"]),
             n("MatMulNBits", ["x", "B", "scales"], ["y"], domain="com.microsoft", K=32, N=3, bits=2, block_size=32)]
    q = helper.make_tensor_value_info("q", TensorProto.INT8, ["seq", 4])
    acc = helper.make_tensor_value_info("acc", TensorProto.INT32, ["seq", 3])
    return model(nodes, [q, f32("x", ["seq", 32])], [acc, f32("y", ["seq", 3])], [w8, b, s],
                 extra_opsets=[("com.microsoft", 1)])


def main():
    p = argparse.ArgumentParser()
    p.add_argument("case", choices=sorted(CASES))
    p.add_argument("out")
    p.add_argument("--variant", default="")
    p.add_argument("--bits", type=int, default=2)
    a = p.parse_args()
    m = CASES[a.case](a)
    with open(a.out, "wb") as f:
        f.write(m.SerializeToString())


if __name__ == "__main__":
    main()
