"""An independent numpy reference of BitNet b1.58 inference (/work/shared/BITNET.md, docs/IR.md).

It shares no code with the C++ importer/interpreter: its own safetensors reader, its own unpacking of
the blocked 2-bit layout, its own forward pass. Activations are float32 with numpy's own (float32,
BLAS/pairwise) summation, while the interpreter sums in float64: the two agree to ~1e-6 relative
before rounding to int8, which is exactly what the e2e tests measure and bound.

Used as a library by the e2e checks; `python3 bitnet_ref.py MODEL_DIR 1,2,3` prints the last-row
argmax and logits summary (handy when debugging).
"""
import json
import math
import os
import struct
import sys

import numpy as np

F32 = np.float32

# ---------------------------------------------------------------------------------------------
# safetensors: u64 LE header length, JSON header {name: {dtype, shape, data_offsets}}, raw LE data.

_PLAIN_DTYPES = {"F16": "<f2", "F32": "<f4", "F64": "<f8", "U8": "u1", "I8": "i1",
                 "I16": "<i2", "I32": "<i4", "I64": "<i8"}


def _decode(dtype, raw, shape, where):
    count = int(np.prod(shape, dtype=np.int64))
    if dtype == "BF16":
        # bf16 is the top half of an f32: widen the bits, then reinterpret.
        if len(raw) != 2 * count:
            raise ValueError(f"{where}: {len(raw)} bytes for BF16 {shape}")
        bits = np.frombuffer(raw, dtype="<u2").astype(np.uint32) << np.uint32(16)
        return bits.view(np.float32).reshape(shape)
    if dtype not in _PLAIN_DTYPES:
        raise ValueError(f"{where}: unsupported dtype {dtype}")
    dt = np.dtype(_PLAIN_DTYPES[dtype])
    if len(raw) != dt.itemsize * count:
        raise ValueError(f"{where}: {len(raw)} bytes for {dtype} {shape}")
    return np.frombuffer(raw, dtype=dt).reshape(shape).astype(dt.newbyteorder("="))


def read_safetensors(path):
    """Returns {name: (dtype string, numpy array)}; BF16 comes back as float32 (exact)."""
    with open(path, "rb") as f:
        data = f.read()
    (header_len,) = struct.unpack("<Q", data[:8])
    header = json.loads(data[8:8 + header_len].decode("utf-8"))
    base = 8 + header_len
    tensors = {}
    for name, info in header.items():
        if name == "__metadata__":
            continue
        begin, end = info["data_offsets"]
        tensors[name] = (info["dtype"],
                         _decode(info["dtype"], data[base + begin:base + end], list(info["shape"]),
                                 f"{path}: {name}"))
    return tensors


def read_checkpoint_tensors(folder):
    """All tensors of a checkpoint folder: one model.safetensors, or shards listed in
    model.safetensors.index.json (weight_map: tensor name -> shard file)."""
    index = os.path.join(folder, "model.safetensors.index.json")
    if os.path.exists(index):
        with open(index) as f:
            weight_map = json.load(f)["weight_map"]
        tensors = {}
        for shard in sorted(set(weight_map.values())):
            for name, t in read_safetensors(os.path.join(folder, shard)).items():
                if weight_map.get(name) != shard:
                    raise ValueError(f"{shard}: tensor {name} not mapped to this shard")
                tensors[name] = t
        missing = set(weight_map) - set(tensors)
        if missing:
            raise ValueError(f"{index}: tensors not found in shards: {sorted(missing)[:5]}")
        return tensors
    return read_safetensors(os.path.join(folder, "model.safetensors"))


# ---------------------------------------------------------------------------------------------
# Ternary weights.

def unpack_blocked_2bit(packed, out_features):
    """BITNET.md section 3: P[r, c] holds code[i*R + r, c] in bits 2i..2i+1, R = ceil(out/4),
    code = T + 1. Rows i*R + r >= out are padding and ignored."""
    rows = packed.shape[0]
    if rows != (out_features + 3) // 4:
        raise ValueError(f"packed rows {rows} != ceil({out_features}/4)")
    codes = np.concatenate([(packed >> np.uint8(2 * i)) & np.uint8(3) for i in range(4)], axis=0)
    codes = codes[:out_features]
    if (codes == 3).any():
        raise ValueError("code 3 in a packed ternary weight")
    return codes.astype(np.int8) - np.int8(1)


def ternarize_absmean(latent):
    """1bitLLM on-the-fly rule: inv = 1 / max(mean|W|, 1e-5); T = clamp(roundeven(W * inv), -1, 1),
    all in f32 (the mean is taken exactly in f64, then rounded once). Returns (T, inv)."""
    w = latent.astype(F32)
    mean = F32(np.mean(np.abs(w).astype(np.float64)))
    inv = F32(1) / np.maximum(mean, F32(1e-5))
    t = np.clip(np.rint(w * inv), -1, 1).astype(np.int8)
    return t, inv


class TernaryLinear:
    """T [out, in] in {-1, 0, 1} and the rule that turns the integer accumulator into y."""

    def __init__(self, name, t, rule, scale):
        self.name, self.t, self.rule, self.scale = name, t, rule, F32(scale)
        # float64 copy for the accumulator product: every partial sum is an integer below 2^53,
        # so a float64 matmul is exact in any summation order (and BLAS-fast, unlike int matmul).
        self.t64 = t.astype(np.float64)

    def accumulate(self, q):
        """Exact integer q[..., in] . T[n, :] for every n, as int64."""
        acc = q.astype(np.float64) @ self.t64.T
        return acc.astype(np.int64)

    def rescale(self, acc, s):
        a = acc.astype(F32)
        s = s[..., None]
        if self.rule == "mul":        # W = T * ws  (autobitlinear)
            return (a * self.scale) / s
        if self.rule == "div":        # W = T / ws  (bitlinear, and 1bitLLM with ws = 1/mean)
            return a / (self.scale * s)
        raise ValueError(self.rule)


def act_quant(x):
    """Per row: s = 127 / max(absmax, 1e-5); q = clamp(roundeven(x * s), -128, 127), f32 math."""
    amax = np.max(np.abs(x), axis=-1)
    s = F32(127) / np.maximum(amax, F32(1e-5))
    q = np.clip(np.rint(x * s[..., None]), -128, 127).astype(np.int8)
    return q, s.astype(F32)


# ---------------------------------------------------------------------------------------------
# Other ops, float32.

def rms_norm(x, w, eps):
    ms = np.mean(x * x, axis=-1, keepdims=True, dtype=F32)
    return w * (x * (F32(1) / np.sqrt(ms + F32(eps))))


def rope(x, heads, head_dim, theta, pos0=0):
    """rotate_half layout: pairs (i, i + D/2); inv_freq = 1 / theta^(2i/D) in f32."""
    seq = x.shape[0]
    half = head_dim // 2
    exponent = np.arange(0, head_dim, 2, dtype=F32) / F32(head_dim)
    inv = F32(1) / np.power(F32(theta), exponent)
    angle = (np.arange(seq, dtype=F32) + F32(pos0))[:, None] * inv[None, :]
    cos, sin = np.cos(angle)[:, None, :], np.sin(angle)[:, None, :]
    xr = x.reshape(seq, heads, head_dim)
    x1, x2 = xr[..., :half], xr[..., half:]
    y = np.concatenate([x1 * cos - x2 * sin, x2 * cos + x1 * sin], axis=-1)
    return y.reshape(seq, heads * head_dim).astype(F32)


def causal_attention(q, k, v, heads, kv_heads, head_dim):
    seq = q.shape[0]
    group = heads // kv_heads
    qh = q.reshape(seq, heads, head_dim)
    kh = k.reshape(seq, kv_heads, head_dim)
    vh = v.reshape(seq, kv_heads, head_dim)
    scale = F32(1.0 / math.sqrt(head_dim))
    future = np.triu(np.ones((seq, seq), dtype=bool), 1)
    out = np.empty((seq, heads, head_dim), dtype=F32)
    for h in range(heads):
        g = h // group          # query heads [g*group, (g+1)*group) share kv head g
        scores = (qh[:, h, :] @ kh[:, g, :].T) * scale
        scores[future] = -np.inf
        scores = scores - scores.max(axis=1, keepdims=True)
        p = np.exp(scores)
        p = p / p.sum(axis=1, keepdims=True)
        out[:, h, :] = p @ vh[:, g, :]
    return out.reshape(seq, heads * head_dim)


def relu2(x):
    r = np.maximum(x, F32(0))
    return r * r


def silu(x):
    return x / (F32(1) + np.exp(-x))


# ---------------------------------------------------------------------------------------------
# The model.

PROJECTIONS = ("self_attn.q_proj", "self_attn.k_proj", "self_attn.v_proj", "self_attn.o_proj",
               "mlp.gate_proj", "mlp.up_proj", "mlp.down_proj")


class BitNetModel:
    def __init__(self, folder):
        with open(os.path.join(folder, "config.json")) as f:
            cfg = json.load(f)
        self.config = cfg
        self.hidden = cfg["hidden_size"]
        self.ffn = cfg["intermediate_size"]
        self.layers = cfg["num_hidden_layers"]
        self.heads = cfg["num_attention_heads"]
        self.kv_heads = cfg.get("num_key_value_heads", self.heads)
        self.head_dim = cfg.get("head_dim") or self.hidden // self.heads
        self.vocab = cfg["vocab_size"]
        self.eps = cfg.get("rms_norm_eps", 1e-6)
        self.theta = cfg.get("rope_theta", 10000.0)
        self.act = cfg.get("hidden_act", "relu2")
        if self.act not in ("relu2", "silu"):
            raise ValueError(f"hidden_act {self.act}")
        if self.heads % self.kv_heads:
            raise ValueError("heads not a multiple of kv heads")
        linear_class = (cfg.get("quantization_config") or {}).get("linear_class")
        self.packed_rule = "mul" if linear_class == "autobitlinear" else "div"
        tensors = read_checkpoint_tensors(folder)
        self.tensor_names = set(tensors)

        def floats(name):
            dtype, arr = tensors[name]
            if dtype not in ("BF16", "F16", "F32"):
                raise ValueError(f"{name}: expected a float tensor, got {dtype}")
            return arr.astype(F32)

        self.embed = floats("model.embed_tokens.weight")
        self.final_norm = floats("model.norm.weight")
        tied = cfg.get("tie_word_embeddings", True)
        self.lm_head = self.embed if tied or "lm_head.weight" not in tensors else floats("lm_head.weight")
        if not tied and "lm_head.weight" not in tensors:
            raise ValueError("untied config but no lm_head.weight")
        out_features = {"self_attn.q_proj": self.heads * self.head_dim,
                        "self_attn.k_proj": self.kv_heads * self.head_dim,
                        "self_attn.v_proj": self.kv_heads * self.head_dim,
                        "self_attn.o_proj": self.hidden,
                        "mlp.gate_proj": self.ffn, "mlp.up_proj": self.ffn,
                        "mlp.down_proj": self.hidden}
        self.uses_latent = False
        self.blocks = []
        for layer in range(self.layers):
            p = f"model.layers.{layer}."
            blk = {"in_norm": floats(p + "input_layernorm.weight"),
                   "post_norm": floats(p + "post_attention_layernorm.weight")}
            # 2B-4T names the sub-norms attn_sub_norm / ffn_sub_norm, 1bitLLM inner_attn_ln / ffn_layernorm.
            for key, names in (("attn_sub", ("self_attn.attn_sub_norm.weight", "self_attn.inner_attn_ln.weight")),
                               ("ffn_sub", ("mlp.ffn_sub_norm.weight", "mlp.ffn_layernorm.weight"))):
                found = [n for n in names if p + n in tensors]
                if len(found) != 1:
                    raise ValueError(f"layer {layer}: sub-norm {key}: found {found}")
                blk[key] = floats(p + found[0])
            for proj in PROJECTIONS:
                name = p + proj
                dtype, arr = tensors[name + ".weight"]
                n_out = out_features[proj]
                if dtype == "U8":
                    t = unpack_blocked_2bit(arr, n_out)
                    scale = floats(name + ".weight_scale").reshape(-1)
                    if scale.shape != (1,):
                        raise ValueError(f"{name}.weight_scale: shape {scale.shape}")
                    lin = TernaryLinear(name, t, self.packed_rule, scale[0])
                else:
                    t, inv = ternarize_absmean(arr)
                    lin = TernaryLinear(name, t, "div", inv)
                    self.uses_latent = True
                if lin.t.shape[0] != n_out:
                    raise ValueError(f"{name}: {lin.t.shape[0]} rows, expected {n_out}")
                blk[proj] = lin
            self.blocks.append(blk)

    def linear_group(self, layer, projs, x, force_q, record):
        """Projections sharing one activation quantization. force_q[name] replaces our int8 q by an
        external one (the interpreter's) to isolate the integer product from rounding flips."""
        q, s = act_quant(x)
        outs = []
        for proj in projs:
            lin = self.blocks[layer][proj]
            qi = q
            if force_q is not None and lin.name in force_q:
                qi = force_q[lin.name]
                if qi.shape != q.shape:
                    raise ValueError(f"{lin.name}: forced q shape {qi.shape} != {q.shape}")
            acc = lin.accumulate(qi)
            if record is not None:
                record[lin.name] = {"x": x, "q": q, "s": s, "acc": acc}
            outs.append(lin.rescale(acc, s))
        return outs

    def forward(self, ids, force_q=None, record=None):
        """Logits [len(ids), vocab] of a fresh sequence (positions 0..n-1)."""
        ids = np.asarray(ids, dtype=np.int64)
        if ids.min() < 0 or ids.max() >= self.embed.shape[0]:
            raise ValueError("token id out of range")
        h = self.embed[ids]
        act = relu2 if self.act == "relu2" else silu
        for layer, blk in enumerate(self.blocks):
            a = rms_norm(h, blk["in_norm"], self.eps)
            q, k, v = self.linear_group(layer, PROJECTIONS[:3], a, force_q, record)
            q = rope(q, self.heads, self.head_dim, self.theta)
            k = rope(k, self.kv_heads, self.head_dim, self.theta)
            o = causal_attention(q, k, v, self.heads, self.kv_heads, self.head_dim)
            o = rms_norm(o, blk["attn_sub"], self.eps)
            (o,) = self.linear_group(layer, PROJECTIONS[3:4], o, force_q, record)
            h = h + o
            m = rms_norm(h, blk["post_norm"], self.eps)
            gate, up = self.linear_group(layer, PROJECTIONS[4:6], m, force_q, record)
            g = rms_norm(act(gate) * up, blk["ffn_sub"], self.eps)
            (d,) = self.linear_group(layer, PROJECTIONS[6:7], g, force_q, record)
            h = h + d
        hn = rms_norm(h, self.final_norm, self.eps)
        return (hn @ self.lm_head.T).astype(F32)


def mean_nll(logits, targets):
    """Mean negative log-likelihood (nats) of targets[t] under logits[t], in float64."""
    z = logits.astype(np.float64)
    z = z - z.max(axis=1, keepdims=True)
    logp = z - np.log(np.exp(z).sum(axis=1, keepdims=True))
    return -logp[np.arange(len(targets)), targets].mean()


if __name__ == "__main__":
    model = BitNetModel(sys.argv[1])
    toks = [int(t) for t in sys.argv[2].split(",")]
    logits = model.forward(toks)
    print("argmax", int(logits[-1].argmax()), "max", float(logits[-1].max()),
          "rule", model.packed_rule, "latent", model.uses_latent)
