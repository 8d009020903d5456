"""Checks the numpy reference itself against hand-computed values and naive loops, so that the
e2e comparisons rest on a reference that is shown correct on its own (not only "agrees with C++")."""
import json
import os
import struct
import sys
import tempfile

import numpy as np

sys.dont_write_bytecode = True  # keep the source tree clean when lit runs us
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import bitnet_ref as R  # noqa: E402

failures = []


def check(name, ok):
    print(f"{name}: {'ok' if ok else 'FAIL'}")
    if not ok:
        failures.append(name)


# safetensors reader: a file written by hand, byte by byte.
with tempfile.TemporaryDirectory() as d:
    bf16 = struct.pack("<4H", 0x3F80, 0xC000, 0x3FC0, 0x7F80)          # 1, -2, 1.5, inf
    f16 = struct.pack("<2H", 0x3C00, 0xB800)                            # 1, -0.5
    f32 = struct.pack("<f", 0.25)
    u8 = bytes([134, 6, 8])
    header = {"a": {"dtype": "BF16", "shape": [2, 2], "data_offsets": [0, 8]},
              "b": {"dtype": "F16", "shape": [2], "data_offsets": [8, 12]},
              "c": {"dtype": "F32", "shape": [1], "data_offsets": [12, 16]},
              "d": {"dtype": "U8", "shape": [3, 1], "data_offsets": [16, 19]},
              "__metadata__": {"format": "pt"}}
    hj = json.dumps(header).encode()
    path = os.path.join(d, "t.safetensors")
    with open(path, "wb") as f:
        f.write(struct.pack("<Q", len(hj)) + hj + bf16 + f16 + f32 + u8)
    t = R.read_safetensors(path)
    check("bf16 decode", t["a"][0] == "BF16" and t["a"][1].tolist() == [[1.0, -2.0], [1.5, np.inf]])
    check("f16 decode", t["b"][1].tolist() == [1.0, -0.5])
    check("f32 decode", t["c"][1].tolist() == [0.25])
    check("u8 decode", t["d"][1].tolist() == [[134], [6], [8]])

# Blocked 2-bit unpacking, BITNET.md section 3, computed by hand.
# out = 4 (R = 1): rows [1, 0, -1, 1] -> codes [2, 1, 0, 2] -> 2 | 1<<2 | 0<<4 | 2<<6 = 134.
check("unpack out=4", R.unpack_blocked_2bit(np.array([[134]], np.uint8), 4)[:, 0].tolist() == [1, 0, -1, 1])
# out = 5 (R = 2): P[0] holds rows 0, 2, 4 (+ padding), P[1] rows 1, 3 (+ padding).
# T = [1, -1, 0, 1, -1] -> codes [2, 0, 1, 2, 0]: P[0] = 2 | 1<<2 | 0<<4 = 6, P[1] = 0 | 2<<2 = 8.
check("unpack out=5", R.unpack_blocked_2bit(np.array([[6], [8]], np.uint8), 5)[:, 0].tolist() == [1, -1, 0, 1, -1])
try:
    R.unpack_blocked_2bit(np.array([[3]], np.uint8), 4)
    check("unpack rejects code 3", False)
except ValueError:
    check("unpack rejects code 3", True)

# Activation quantization: absmax 127 gives s = 1; ties round to even; all-zero rows use 1e-5.
q, s = R.act_quant(np.array([[127, 2.5, -2.5, 3.5, -0.5, 0.4999]], np.float32))
check("act_quant ties to even", q.tolist() == [[127, 2, -2, 4, 0, 0]] and s.tolist() == [1.0])
q, s = R.act_quant(np.array([[-254, 1, 1.0079]], np.float32))              # s = 0.5: -127, 0.5 -> 0, 0.50395 -> 1
check("act_quant negative absmax", q.tolist() == [[-127, 0, 1]] and s.tolist() == [0.5])
q, s = R.act_quant(np.zeros((1, 3), np.float32))
check("act_quant zero row", q.tolist() == [[0, 0, 0]] and s[0] == np.float32(127) / np.float32(1e-5))

# Absmean ternarization: mean|W| = 1 -> inv = 1; 0.5 ties to 0, 1.5 to 2 -> clamped to 1.
tt, inv = R.ternarize_absmean(np.array([[0.5, -1.5, 2.0, -0.0]], np.float16))
check("absmean ternarize", tt.tolist() == [[0, -1, 1, 0]] and inv == 1.0)

# Bitlinear rescale rules: acc 10, ws 2, s 4: mul -> 10*2/4 = 5, div -> 10/(2*4) = 1.25.
lin = R.TernaryLinear("x", np.array([[1, -1, 0]], np.int8), "mul", 2.0)
acc = lin.accumulate(np.array([[7, -3, 100]], np.int8))
check("accumulate", acc.tolist() == [[10]])
check("rule mul", lin.rescale(acc, np.array([4], np.float32)).tolist() == [[5.0]])
lin.rule = "div"
check("rule div", lin.rescale(acc, np.array([4], np.float32)).tolist() == [[1.25]])

rng = np.random.default_rng(0)

# RoPE against the textbook per-element loop (float64): pairs (i, i + D/2), angle = pos / theta^(2i/D).
heads, D, S, theta = 3, 8, 5, 10000.0
x = rng.standard_normal((S, heads * D)).astype(np.float32)
y = R.rope(x, heads, D, theta, pos0=7)
want = np.zeros((S, heads * D))
for t in range(S):
    for h in range(heads):
        for i in range(D // 2):
            a = (7 + t) / theta ** (2 * i / D)
            x1, x2 = float(x[t, h * D + i]), float(x[t, h * D + i + D // 2])
            want[t, h * D + i] = x1 * np.cos(a) - x2 * np.sin(a)
            want[t, h * D + i + D // 2] = x2 * np.cos(a) + x1 * np.sin(a)
check("rope vs loop", np.abs(y - want).max() < 1e-5)
check("rope at pos 0 is identity on row 0", np.array_equal(R.rope(x, heads, D, theta)[0], x[0]))

# Attention against a naive loop with explicit GQA head mapping (query head h -> kv head h // 2).
heads, kvh, D, S = 4, 2, 6, 5
q = rng.standard_normal((S, heads * D)).astype(np.float32)
k = rng.standard_normal((S, kvh * D)).astype(np.float32)
v = rng.standard_normal((S, kvh * D)).astype(np.float32)
out = R.causal_attention(q, k, v, heads, kvh, D)
want = np.zeros((S, heads * D))
for t in range(S):
    for h in range(heads):
        g = [0, 0, 1, 1][h]
        sc = [float(q[t, h * D:(h + 1) * D] @ k[j, g * D:(g + 1) * D]) / np.sqrt(D) for j in range(t + 1)]
        p = np.exp(np.array(sc) - max(sc))
        p /= p.sum()
        want[t, h * D:(h + 1) * D] = sum(p[j] * v[j, g * D:(g + 1) * D].astype(np.float64) for j in range(t + 1))
check("attention vs loop (GQA)", np.abs(out - want).max() < 1e-5)

# RMSNorm against float64.
x = rng.standard_normal((3, 10)).astype(np.float32)
w = rng.standard_normal(10).astype(np.float32)
want = w * x / np.sqrt((x.astype(np.float64) ** 2).mean(axis=1, keepdims=True) + 1e-5)
check("rms_norm vs f64", np.abs(R.rms_norm(x, w, 1e-5) - want).max() < 1e-5)
check("relu2 / silu", R.relu2(np.array([-2, 3], np.float32)).tolist() == [0, 9]
      and abs(R.silu(np.array([1.0], np.float32))[0] - 1 / (1 + np.exp(-1))) < 1e-7)

if failures:
    print("FAILED:", ", ".join(failures))
    sys.exit(1)
print("reference self-test passed")
