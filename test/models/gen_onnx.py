#!/usr/bin/python3
"""Writes a BitNet checkpoint folder as ONNX, exported by torch.onnx from a PyTorch forward pass.

    gen_onnx.py CHECKPOINT_DIR OUT.onnx [--form fakequant|online|integer|nbits]
        [--weights ternary|scaled] [--act-scale div|reciprocal] [--opset 13..17]
        [--mask trilu|compare] [--batch N | --dynamic-batch] [--static-seq N] [--block-size N]
        [--nbits-scale auto|block|after] [--nbits-layout 2d|1d] [--mmi-zero-points]
        [--logits all|last] [--external-data auto|always|never] [--fault KIND]

The model is the Hugging Face BitNet forward over a whole sequence (BITNET.md sections 1 and 2):
`input_ids` int64 [batch, seq] -> `logits` f32 [batch, seq, vocab], `seq` a dynamic axis; rotary
cos/sin tables (max_position_embeddings rows, computed like the interpreter's rope) sliced by seq,
an additive causal mask (Trilu; opset 13: Range/Greater/Where), GQA by repeat_kv (unsqueeze/expand/reshape), sub-norms, relu2 (or silu for
1bitLLM checkpoints), tied or untied head; --logits last keeps only the last position's logits
([batch, 1, vocab], HF's logits_to_keep = 1: what a prefill needs). The weights are the checkpoint's: its ternary values and
weight_scale with its scale rule (linear_class autobitlinear: W = T * ws, else W = T / ws; 1bitLLM
latent weights: ternarized by absmean, W = T / inv), so the safetensors path of the same folder is
the reference. The BitLinear forms (BITNET.md section 4):

  fakequant  act chain Abs, ReduceMax(-1), Clip(1e-5), Div(127, .), Mul, Round, Clip(-128, 127),
             Div; then MatMul on a float initializer: --weights ternary (default) holds T and a
             Mul(ws) / Div(ws) follows; --weights scaled holds T*ws (or T/ws) and nothing follows.
  online     the same act chain; the weight is a latent float initializer quantized in the graph:
             Abs, ReduceMean, Clip(1e-5), 1/., Mul, Round, Clip(-1, 1), Div (HF WeightQuant), then
             MatMul. Exported without constant folding so the chain stays. 1bitLLM checkpoints
             use their latent weights; packed ones get latent = T * ws * numel / nnz (mean |W| = ws,
             so the chain gives back T and, up to the f32 rounding of the mean, ws).
  integer    q = Cast<int8>(Clip(Round(x * s))), MatMulInteger(q, int8 T [K, N]) -> int32,
             Cast<float>, then (acc * ws) / s (or acc / (ws * s)).
  nbits      the fakequant act chain, then com.microsoft MatMulNBits bits=2: codes T + 1 packed
             low-first along K (4 a byte) in blocks of --block-size, zero point 1 (packed the same
             way), scales = ws per block (--nbits-scale block) or 1 with a Mul/Div by ws after
             (after; auto = block for W = T * ws, after for the division rule).

--fault KIND writes a model with one deliberate error (the checks' sharpness tests, and graphs
that must not fuse): FAULTS lists the kinds.
--act-scale reciprocal writes the activation scale as Hugging Face's code literally exports it
(`127 / t` is traced as Reciprocal then Mul by 127), not the Div of BITNET.md.
Weights are inline unless the model exceeds 2 GiB (or --external-data always): then all
initializers go to one OUT.onnx.data file beside OUT.onnx. Output is deterministic.
Uses Debian's /usr/bin/python3 with torch 1.13, onnx 1.12 and numpy.
"""
import argparse
import json
import math
import os
import shutil
import sys
import tempfile
import warnings

import numpy as np

sys.dont_write_bytecode = True  # keep the source tree clean when tests run us
HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "e2e"))
import bitnet_ref  # noqa: E402  (safetensors reader, 2-bit unpacking, absmean ternarization)

import onnx  # noqa: E402
import torch  # noqa: E402
import torch.nn.functional as F  # noqa: E402

F32 = np.float32
TWO_GIB = 2 ** 31
FAULTS = {
    "divide-scale": "W = T / ws where the checkpoint says T * ws (and the reverse)",
    "per-tensor-act-quant": "the activation absmax is taken over the whole tensor, not per row",
    "skip-act-quant": "no activation quantization: a float MatMul of x on the ternary weights",
    "interleaved-rope": "rope rotates the pairs (2i, 2i+1) instead of HF's (i, i + D/2)",
    "gqa-modulo": "query head h reads kv head h % kv_heads instead of h // (heads / kv_heads)",
}
PROJECTIONS = bitnet_ref.PROJECTIONS


# ---------------------------------------------------------------------------------------------
# The checkpoint, as plain numpy: ternary matrices with their scale and rule.

class Checkpoint:
    def __init__(self, folder):
        with open(os.path.join(folder, "config.json")) as f:
            cfg = json.load(f)
        self.cfg = cfg
        self.hidden = cfg["hidden_size"]
        self.ffn = cfg["intermediate_size"]
        self.layers = cfg["num_hidden_layers"]
        self.heads = cfg["num_attention_heads"]
        self.kv_heads = cfg.get("num_key_value_heads", self.heads)
        self.head_dim = cfg.get("head_dim") or self.hidden // self.heads
        self.vocab = cfg["vocab_size"]
        self.eps = float(cfg.get("rms_norm_eps", 1e-6))
        self.theta = float(cfg.get("rope_theta", 10000.0))
        self.max_pos = int(cfg.get("max_position_embeddings", 2048))
        self.act = cfg.get("hidden_act", "relu2")
        if self.act not in ("relu2", "silu"):
            sys.exit(f"gen_onnx.py: {folder}: hidden_act {self.act} is not supported")
        linear_class = (cfg.get("quantization_config") or {}).get("linear_class")
        packed_rule = "mul" if linear_class == "autobitlinear" else "div"
        tensors = bitnet_ref.read_checkpoint_tensors(folder)

        def floats(name):
            dtype, arr = tensors[name]
            if dtype not in ("BF16", "F16", "F32"):
                sys.exit(f"gen_onnx.py: {name}: expected a float tensor, got {dtype}")
            return np.ascontiguousarray(arr, dtype=F32)

        self.embed = floats("model.embed_tokens.weight")
        self.final_norm = floats("model.norm.weight")
        self.tied = bool(cfg.get("tie_word_embeddings", True)) or "lm_head.weight" not in tensors
        self.lm_head = None if self.tied else floats("lm_head.weight")
        out_features = {"self_attn.q_proj": self.heads * self.head_dim,
                        "self_attn.k_proj": self.kv_heads * self.head_dim,
                        "self_attn.v_proj": self.kv_heads * self.head_dim,
                        "self_attn.o_proj": self.hidden,
                        "mlp.gate_proj": self.ffn, "mlp.up_proj": self.ffn, "mlp.down_proj": self.hidden}
        self.rules = set()
        self.blocks = []
        for layer in range(self.layers):
            p = f"model.layers.{layer}."
            blk = {"in_norm": floats(p + "input_layernorm.weight"),
                   "post_norm": floats(p + "post_attention_layernorm.weight")}
            for key, names in (("attn_sub", ("self_attn.attn_sub_norm.weight", "self_attn.inner_attn_ln.weight")),
                               ("ffn_sub", ("mlp.ffn_sub_norm.weight", "mlp.ffn_layernorm.weight"))):
                found = [n for n in names if p + n in tensors]
                if len(found) != 1:
                    sys.exit(f"gen_onnx.py: layer {layer}: sub-norm {key}: found {found}")
                blk[key] = floats(p + found[0])
            for proj in PROJECTIONS:
                name = p + proj
                dtype, arr = tensors.pop(name + ".weight")
                if dtype == "U8":
                    t = bitnet_ref.unpack_blocked_2bit(arr, out_features[proj])
                    scale = floats(name + ".weight_scale").reshape(-1)
                    lin = {"t": t, "rule": packed_rule, "scale": F32(scale[0]), "latent": None}
                else:  # 1bitLLM latent weights: T = round(W * inv), W_eff = T / inv
                    latent = np.ascontiguousarray(arr, dtype=F32)
                    t, inv = bitnet_ref.ternarize_absmean(latent)
                    lin = {"t": t, "rule": "div", "scale": F32(inv), "latent": latent}
                self.rules.add(lin["rule"] if lin["latent"] is None else "absmean-latent")
                blk[proj] = lin
            self.blocks.append(blk)


def rope_tables(ck):
    """cos/sin [max_pos, head_dim] (HF's cat(freqs, freqs) layout), computed as the interpreter's
    rope kernel does: inv = 1 / powf(theta, 2i/D) in f32, angle = pos * inv in f32, cos/sin of
    the angle in f64 rounded to f32; so the ONNX rope can be bit-identical to the IR's."""
    d = ck.head_dim
    half = d // 2
    exponent = (np.arange(half, dtype=F32) * F32(2)) / F32(d)
    inv = F32(1) / np.power(F32(ck.theta), exponent)
    angle = np.arange(ck.max_pos, dtype=F32)[:, None] * inv[None, :]
    cos = np.cos(angle.astype(np.float64)).astype(F32)
    sin = np.sin(angle.astype(np.float64)).astype(F32)
    return np.concatenate([cos, cos], axis=1), np.concatenate([sin, sin], axis=1)


# ---------------------------------------------------------------------------------------------
# Custom ops exported through symbolic functions (their forward computes the same values in float,
# exactly: integer sums below 2^24).

class MatMulIntegerFn(torch.autograd.Function):
    @staticmethod
    def forward(ctx, q, w, q_zero, w_zero):
        return torch.matmul(q.to(torch.float32), w.to(torch.float32)).to(torch.int32)

    @staticmethod
    def symbolic(g, q, w, q_zero, w_zero):
        if q_zero is None:
            return g.op("MatMulInteger", q, w)
        return g.op("MatMulInteger", q, w, q_zero, w_zero)


class MatMulNBitsFn(torch.autograd.Function):
    @staticmethod
    def forward(ctx, a, b, scales, zero_points, k, n, bits, block_size):
        # Dequantize like the op (2-bit codes low-first, first zero point of each row's bytes:
        # every block has zero point 1 and one scale here) and multiply.
        codes = torch.stack([(b >> (2 * i)) & 3 for i in range(4)], dim=-1).reshape(n, -1)[:, :k]
        zp = (zero_points.reshape(n, -1)[:, :1] & 3).to(torch.float32)
        w = (codes.to(torch.float32) - zp) * scales.reshape(n, -1)[:, :1]
        return torch.matmul(a, w.t())

    @staticmethod
    def symbolic(g, a, b, scales, zero_points, k, n, bits, block_size):
        out = g.op("com.microsoft::MatMulNBits", a, b, scales, zero_points,
                   K_i=k, N_i=n, bits_i=bits, block_size_i=block_size)
        sizes = a.type().varyingSizes()
        if sizes is not None:
            out.setType(a.type().with_sizes(sizes[:-1] + [n]))
        return out


def pack_nbits(t, block_size, layout):
    """T [N, K] in {-1,0,1} -> (B u8 [N, k_blocks, block_size/4], zero points u8 packed). Codes
    T + 1, 4 per byte, low bits first along K; K padded to whole blocks with code 1 (value 0)."""
    n, k = t.shape
    k_blocks = (k + block_size - 1) // block_size
    codes = np.ones((n, k_blocks * block_size), dtype=np.uint8)
    codes[:, :k] = (t + 1).astype(np.uint8)
    c = codes.reshape(n, k_blocks, block_size // 4, 4)
    b = (c[..., 0] | (c[..., 1] << 2) | (c[..., 2] << 4) | (c[..., 3] << 6)).astype(np.uint8)
    zp_bytes = (k_blocks * 2 + 7) // 8
    zp_codes = np.ones((n, zp_bytes * 4), dtype=np.uint8)  # unused slots hold 1 too
    z = zp_codes.reshape(n, zp_bytes, 4)
    zp = (z[..., 0] | (z[..., 1] << 2) | (z[..., 2] << 4) | (z[..., 3] << 6)).astype(np.uint8)
    if layout == "1d":
        zp = zp.reshape(-1)
    return np.ascontiguousarray(b), np.ascontiguousarray(zp), k_blocks


# ---------------------------------------------------------------------------------------------
# The PyTorch model.

def buffer(module, name, array):
    module.register_buffer(name, torch.from_numpy(np.ascontiguousarray(array)), persistent=True)


class BitLinear(torch.nn.Module):
    def __init__(self, lin, opts):
        super().__init__()
        self.form, self.opts, self.rule = opts.form, opts, lin["rule"]
        if opts.fault == "divide-scale":
            self.rule = {"mul": "div", "div": "mul"}[self.rule]  # wrong on purpose
        t = lin["t"]
        n, k = t.shape
        ws = F32(lin["scale"])
        buffer(self, "weight_scale", np.array([ws], dtype=F32))
        if self.form == "fakequant":
            if opts.weights == "scaled":
                dense = t.astype(F32) * ws if self.rule == "mul" else t.astype(F32) / ws
                buffer(self, "weight", dense.astype(F32))
            else:
                buffer(self, "weight", t.astype(F32))
        elif self.form == "online":
            latent = lin["latent"]
            if latent is None:
                # mean |W| = c * nnz / numel = ws, so round(W / mean|W|) clipped to [-1, 1] is T.
                nnz = int(np.count_nonzero(t))
                target = float(ws) if self.rule == "mul" else 1.0 / float(ws)
                c = F32(target * t.size / nnz) if nnz else F32(1)
                latent = t.astype(F32) * c
            buffer(self, "weight", latent.astype(F32))
        elif self.form == "integer":
            buffer(self, "weight", np.ascontiguousarray(t.T.astype(np.int8)))  # [K, N]
            if opts.mmi_zero_points:
                buffer(self, "q_zero", np.array(0, dtype=np.int8))
                buffer(self, "w_zero", np.array(0, dtype=np.int8))
        elif self.form == "nbits":
            b, zp, k_blocks = pack_nbits(t, opts.block_size, opts.nbits_layout)
            self.scale_in_op = opts.nbits_scale == "block" or (opts.nbits_scale == "auto" and self.rule == "mul")
            block_scale = (ws if self.rule == "mul" else F32(1) / ws) if self.scale_in_op else F32(1)
            scales = np.full((n, k_blocks), block_scale, dtype=F32)
            buffer(self, "weight_packed", b)
            buffer(self, "weight_block_scales", scales.reshape(-1) if opts.nbits_layout == "1d" else scales)
            buffer(self, "weight_zero_points", zp)
            self.k, self.n = k, n
        else:
            raise ValueError(self.form)

    def act_scale(self, x):
        # HF ActQuant: 127 / max(max_k |x_k|, 1e-5) per row.
        if self.opts.fault == "per-tensor-act-quant":  # wrong on purpose
            amax = x.abs().max().clamp(min=1e-5)
        else:
            amax = x.abs().max(dim=-1, keepdim=True).values.clamp(min=1e-5)
        if self.opts.act_scale == "reciprocal":
            return 127 / amax  # traced as Reciprocal, Mul(127): what HF's code exports
        return torch.tensor(127.0) / amax

    def fake_quant(self, x):
        if self.opts.fault == "skip-act-quant":
            return x  # wrong on purpose
        s = self.act_scale(x)
        return (x * s).round().clamp(-128, 127) / s

    def rescale(self, y):
        return y * self.weight_scale if self.rule == "mul" else y / self.weight_scale

    def forward(self, x):
        if self.form == "fakequant":
            y = F.linear(self.fake_quant(x), self.weight)
            return y if self.opts.weights == "scaled" else self.rescale(y)
        if self.form == "online":
            w = self.weight
            s = 1.0 / w.abs().mean().clamp(min=1e-5)  # HF WeightQuant
            wq = (w * s).round().clamp(-1, 1) / s
            return F.linear(self.fake_quant(x), wq)
        if self.form == "integer":
            s = self.act_scale(x)
            q = (x * s).round().clamp(-128, 127).to(torch.int8)
            zq = getattr(self, "q_zero", None)
            acc = MatMulIntegerFn.apply(q, self.weight, zq, getattr(self, "w_zero", None))
            a = acc.to(torch.float32)
            if self.rule == "mul":
                return (a * self.weight_scale) / s
            return a / (self.weight_scale * s)
        # nbits
        y = MatMulNBitsFn.apply(self.fake_quant(x), self.weight_packed, self.weight_block_scales,
                                self.weight_zero_points, self.k, self.n, 2, self.opts.block_size)
        return y if self.scale_in_op else self.rescale(y)


class RMSNorm(torch.nn.Module):
    def __init__(self, weight, eps):
        super().__init__()
        self.weight = torch.nn.Parameter(torch.from_numpy(weight.copy()), requires_grad=False)
        self.eps = eps

    def forward(self, x):  # LlamaRMSNorm
        variance = x.pow(2).mean(-1, keepdim=True)
        return self.weight * (x * torch.rsqrt(variance + self.eps))


def rotate_half(x):
    half = x.shape[-1] // 2
    return torch.cat((-x[..., half:], x[..., :half]), dim=-1)


def rotate_pairs(x):
    """The interleaved (GPT-J) layout: pairs (2i, 2i+1); used only by --fault interleaved-rope."""
    even, odd = x[..., 0::2], x[..., 1::2]
    return torch.stack((-odd, even), dim=-1).reshape(x.shape)


def repeat_kv(x, n_rep, fault=None):
    if n_rep == 1:
        return x
    if fault == "gqa-modulo":
        return x.repeat(1, n_rep, 1, 1)  # wrong on purpose: head h reads kv head h % kv_heads
    b, kvh, s, d = x.shape
    return x[:, :, None, :, :].expand(b, kvh, n_rep, s, d).reshape(b, kvh * n_rep, s, d)


class Layer(torch.nn.Module):
    def __init__(self, ck, blk, opts):
        super().__init__()
        self.ck = ck
        self.input_layernorm = RMSNorm(blk["in_norm"], ck.eps)
        self.post_attention_layernorm = RMSNorm(blk["post_norm"], ck.eps)
        self.attn_sub_norm = RMSNorm(blk["attn_sub"], ck.eps)
        self.ffn_sub_norm = RMSNorm(blk["ffn_sub"], ck.eps)
        for proj in PROJECTIONS:
            setattr(self, proj.split(".")[1], BitLinear(blk[proj], opts))
        self.scaling = ck.head_dim ** -0.5
        self.fault = opts.fault

    @staticmethod
    def pairwise(table):
        index = torch.arange(table.shape[-1]) // 2  # angle i at columns 2i and 2i+1
        return table[..., index]

    def forward(self, h, cos, sin, mask):
        ck = self.ck
        b, s = h.shape[0], h.shape[1]
        a = self.input_layernorm(h)
        q = self.q_proj(a).view(b, s, ck.heads, ck.head_dim).transpose(1, 2)
        k = self.k_proj(a).view(b, s, ck.kv_heads, ck.head_dim).transpose(1, 2)
        v = self.v_proj(a).view(b, s, ck.kv_heads, ck.head_dim).transpose(1, 2)
        if self.fault == "interleaved-rope":  # wrong on purpose; cos/sin then repeat each angle
            cos, sin = self.pairwise(cos), self.pairwise(sin)
            q = q * cos + rotate_pairs(q) * sin
            k = k * cos + rotate_pairs(k) * sin
        else:
            q = q * cos + rotate_half(q) * sin
            k = k * cos + rotate_half(k) * sin
        k = repeat_kv(k, ck.heads // ck.kv_heads, self.fault)
        v = repeat_kv(v, ck.heads // ck.kv_heads, self.fault)
        scores = torch.matmul(q, k.transpose(2, 3)) * self.scaling + mask
        p = torch.softmax(scores, dim=-1)
        o = torch.matmul(p, v).transpose(1, 2).reshape(b, s, ck.heads * ck.head_dim)
        h = h + self.o_proj(self.attn_sub_norm(o))
        m = self.post_attention_layernorm(h)
        g = self.gate_proj(m)
        g = torch.relu(g) ** 2 if ck.act == "relu2" else F.silu(g)
        h = h + self.down_proj(self.ffn_sub_norm(g * self.up_proj(m)))
        return h


class BitNetForCausalLM(torch.nn.Module):
    def __init__(self, ck, opts):
        super().__init__()
        self.ck, self.opts = ck, opts
        self.embed_tokens = torch.nn.Embedding.from_pretrained(torch.from_numpy(ck.embed), freeze=True)
        self.layers = torch.nn.ModuleList(Layer(ck, blk, opts) for blk in ck.blocks)
        self.norm = RMSNorm(ck.final_norm, ck.eps)
        if not ck.tied:
            self.lm_head = torch.nn.Parameter(torch.from_numpy(ck.lm_head), requires_grad=False)
        cos, sin = rope_tables(ck)
        buffer(self, "rope_cos", cos)
        buffer(self, "rope_sin", sin)

    def causal_mask(self, s):
        lowest = torch.finfo(torch.float32).min
        if self.opts.mask == "trilu":
            return torch.full((s, s), lowest).triu(1)  # ConstantOfShape, Trilu
        i = torch.arange(s)
        return torch.where(i[None, :] > i[:, None], torch.tensor(lowest), torch.tensor(0.0))

    def forward(self, input_ids):
        s = input_ids.shape[1]
        h = self.embed_tokens(input_ids)
        cos, sin = self.rope_cos[:s], self.rope_sin[:s]
        mask = self.causal_mask(s)
        for layer in self.layers:
            h = layer(h, cos, sin, mask)
        if self.opts.logits == "last":  # HF's logits_to_keep = 1: only the next token's logits
            h = h[:, -1:, :]
        h = self.norm(h)
        head = self.embed_tokens.weight if self.ck.tied else self.lm_head
        return F.linear(h, head)


# ---------------------------------------------------------------------------------------------
# Export.

def export(ck, opts, out):
    model = BitNetForCausalLM(ck, opts).eval()
    batch = 1 if opts.dynamic_batch else opts.batch
    example = torch.zeros((batch, opts.static_seq or min(3, ck.max_pos)), dtype=torch.int64)
    axes = {} if opts.static_seq else {1: "seq"}
    if opts.dynamic_batch:
        axes = {0: "batch", 1: "seq"}
    out_axes = {k: v for k, v in axes.items() if k == 0 or opts.logits == "all"}
    tmp = tempfile.mkdtemp(prefix="gen_onnx-")
    try:
        path = os.path.join(tmp, "model.onnx")
        with warnings.catch_warnings(), torch.no_grad():
            warnings.simplefilter("ignore")  # tracer warnings about shape arithmetic
            torch.onnx.export(model, (example,), path, opset_version=opts.opset,
                              input_names=["input_ids"], output_names=["logits"],
                              dynamic_axes={"input_ids": axes, "logits": out_axes},
                              do_constant_folding=opts.form != "online",
                              custom_opsets={"com.microsoft": 1} if opts.form == "nbits" else None)
        del model
        proto = onnx.load(path, load_external_data=True)  # big exports come as one file per tensor
    finally:
        shutil.rmtree(tmp)
    if opts.logits == "last":  # torch's shape inference leaves the sliced axis unnamed-dynamic
        dim = proto.graph.output[0].type.tensor_type.shape.dim[1]
        dim.Clear()
        dim.dim_value = 1
    proto.producer_name = "bitnetc test/models/gen_onnx.py (torch.onnx " + torch.__version__ + ")"
    meta = {"bitnet.form": opts.form, "bitnet.scale_rules": ",".join(sorted(ck.rules))}
    if opts.fault:
        meta["bitnet.fault"] = opts.fault
    del proto.metadata_props[:]
    for key, value in meta.items():
        proto.metadata_props.add(key=key, value=value)
    size = sum(len(t.raw_data) for t in proto.graph.initializer)
    external = opts.external_data == "always" or (opts.external_data == "auto" and size > TWO_GIB - (64 << 20))
    data_name = os.path.basename(out) + ".data"
    data_path = os.path.join(os.path.dirname(os.path.abspath(out)), data_name)
    if os.path.exists(data_path):
        os.remove(data_path)  # onnx appends to an existing data file
    if external:
        onnx.save_model(proto, out, save_as_external_data=True, all_tensors_to_one_file=True,
                        location=data_name, size_threshold=1024)
    else:
        onnx.save_model(proto, out)
    return size, external


def parse_args(argv):
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("checkpoint")
    p.add_argument("out")
    p.add_argument("--form", choices=["fakequant", "online", "integer", "nbits"], default="fakequant")
    p.add_argument("--weights", choices=["ternary", "scaled"], default="ternary",
                   help="fakequant: MatMul on T then Mul/Div by ws (ternary), or on T*ws (scaled)")
    p.add_argument("--act-scale", choices=["div", "reciprocal"], default="div")
    p.add_argument("--opset", type=int, default=17)
    p.add_argument("--mask", choices=["trilu", "compare"])
    p.add_argument("--batch", type=int, default=1)
    p.add_argument("--static-seq", type=int, metavar="N",
                   help="export for exactly N tokens (no dynamic axis: torch folds the shape arithmetic)")
    p.add_argument("--dynamic-batch", action="store_true")
    p.add_argument("--block-size", type=int, default=128, help="nbits: weights per block along K")
    p.add_argument("--nbits-scale", choices=["auto", "block", "after"], default="auto")
    p.add_argument("--nbits-layout", choices=["2d", "1d"], default="2d",
                   help="nbits: scales [N, k_blocks] and zero points [N, bytes] (2d) or flattened (1d)")
    p.add_argument("--mmi-zero-points", action="store_true", help="integer: explicit int8 zero points 0")
    p.add_argument("--logits", choices=["all", "last"], default="all",
                   help="logits of every position [batch, seq, vocab] or of the last one [batch, 1, vocab]")
    p.add_argument("--external-data", choices=["auto", "always", "never"], default="auto")
    p.add_argument("--fault", choices=sorted(FAULTS), help="one deliberate error (see FAULTS)")
    a = p.parse_args(argv)
    if not 13 <= a.opset <= 17:
        p.error("--opset must be 13..17 (torch 1.13 exports up to 17)")
    if a.mask is None:
        a.mask = "trilu" if a.opset >= 14 else "compare"
    if a.mask == "trilu" and a.opset < 14:
        p.error("--mask trilu needs --opset 14 or later (Trilu)")
    if a.static_seq is not None and not 1 <= a.static_seq:
        p.error("--static-seq must be >= 1")
    if a.block_size < 16 or a.block_size & (a.block_size - 1):
        p.error("--block-size must be a power of two >= 16")
    if a.fault == "divide-scale" and a.form == "online":
        p.error("--fault divide-scale has no online form (the weight chain derives its own scale)")
    if a.fault == "skip-act-quant" and a.form == "integer":
        p.error("--fault skip-act-quant has no integer form")
    if a.weights == "scaled" and a.form != "fakequant":
        p.error("--weights scaled applies to --form fakequant")
    return a


def main(argv):
    opts = parse_args(argv)
    ck = Checkpoint(opts.checkpoint)
    if ck.head_dim % 2:
        sys.exit("gen_onnx.py: head_dim must be even (rotate_half)")
    torch.set_num_threads(1)
    size, external = export(ck, opts, opts.out)
    print(f"gen_onnx.py: {opts.out}: form {opts.form}, opset {opts.opset}, scale rule "
          f"{','.join(sorted(ck.rules))}, {size / 2**20:.1f} MiB of initializers"
          + (", external data " + os.path.basename(opts.out) + ".data" if external else ", inline")
          + (f"; FAULT {opts.fault}" if opts.fault else ""))


if __name__ == "__main__":
    main(sys.argv[1:])
