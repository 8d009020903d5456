#!/usr/bin/env python3
"""Independent numpy evaluation of an EXPORTED BitNet b1.58 folder (BITNET.md arithmetic).

It reads config.json + model.safetensors itself (no training code), unpacks the ternary
weights and runs the network with the inference arithmetic the C++ interpreter must match:
  BitLinear: s = 127 / max(max_k |x_k|, 1e-5) per token (fp32);
             q = clamp(round_half_even(x * s), -128, 127);
             acc = sum_k q_k * T[n, k]  (exact: integers, computed in float64 far below 2^53);
             y = acc * weight_scale / s  (fp32, left to right).
  fp32 everywhere else: RMSNorm w * x / sqrt(mean(x^2) + eps), rotate_half RoPE, GQA causal
  softmax attention, relu(gate)^2 * up, logits = RMSNorm_final(h) @ embed^T (bf16 -> fp32).
The whole sequence is recomputed for each generated token (no KV cache): slow but plain.

Tokenization uses bpe.py (our Python encoder of the same tokenizer.json, checked id-for-id
against the npm @huggingface/tokenizers implementation by verify_tokenizer.mjs).

Perplexity protocol: tokenize the whole file once without BOS/EOS, keep the first M ids,
cut them into consecutive non-overlapping windows of ctx ids (a shorter last window is kept);
each window w is one fresh evaluation of [BOS] + w[:-1] predicting w;
perplexity = exp(total NLL / number of targets).
"""
import argparse
import json
import math
import os
import sys

import numpy as np

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
import safetensors_io as st  # noqa: E402
from bpe import Tokenizer  # noqa: E402

F32 = np.float32


class Model:
    def __init__(self, folder):
        with open(os.path.join(folder, "config.json")) as f:
            self.c = c = json.load(f)
        assert c["model_type"] == "bitnet" and c["hidden_act"] == "relu2"
        qc = c.get("quantization_config", {})
        # BITNET.md: autobitlinear => W = T * weight_scale (the other convention divides).
        assert qc.get("linear_class") == "autobitlinear", "only the multiply rule is implemented"
        self.tensors = st.read(os.path.join(folder, "model.safetensors"))
        self.h = c["hidden_size"]
        self.heads, self.kv_heads = c["num_attention_heads"], c["num_key_value_heads"]
        self.head_dim = self.h // self.heads
        self.eps = F32(c["rms_norm_eps"])
        self.theta = c["rope_theta"]
        self.embed = self.bf16("model.embed_tokens.weight")
        self.norm = self.bf16("model.norm.weight")
        self.layers = []
        for n in range(c["num_hidden_layers"]):
            p = f"model.layers.{n}."
            L = {k: self.bf16(p + k + ".weight") for k in (
                "input_layernorm", "post_attention_layernorm",
                "self_attn.attn_sub_norm", "mlp.ffn_sub_norm")}
            for k in ("self_attn.q_proj", "self_attn.k_proj", "self_attn.v_proj",
                      "self_attn.o_proj", "mlp.gate_proj", "mlp.up_proj", "mlp.down_proj"):
                L[k] = (self.ternary(p + k + ".weight"), self.bf16(p + k + ".weight_scale")[0])
            self.layers.append(L)

    def bf16(self, name):
        dtype, arr = self.tensors[name]
        assert dtype == "BF16", f"{name}: expected BF16, got {dtype}"
        return st.bf16_bits_to_f32(arr)

    def ternary(self, name):
        """U8 [out/4, in] -> T [out, in] in {-1,0,1}: T[i*R + r, c] = ((P[r,c] >> 2i) & 3) - 1."""
        dtype, p = self.tensors[name]
        assert dtype == "U8", f"{name}: expected U8, got {dtype}"
        codes = [(p >> (2 * i)) & 3 for i in range(4)]
        assert all(np.all(cd != 3) for cd in codes), f"{name}: code 3 in packed weights"
        return np.concatenate(codes, axis=0).astype(np.float64) - 1.0

    def rmsnorm(self, x, w):
        ms = (x * x).mean(axis=-1, keepdims=True, dtype=F32)
        return w * (x * (F32(1) / np.sqrt(ms + self.eps)))

    @staticmethod
    def act_quant(x):
        s = F32(127) / np.maximum(np.abs(x).max(axis=-1, keepdims=True), F32(1e-5))
        q = np.clip(np.rint(x * s), -128, 127)  # np.rint rounds half to even
        return q, s

    @staticmethod
    def bitlinear(qs, weight):
        q, s = qs
        t, scale = weight
        acc = q.astype(np.float64) @ t.T  # exact integer sum
        return (acc.astype(F32) * scale) / s

    def rope(self, x, pos):
        d = self.head_dim
        inv = (F32(1) / (F32(self.theta) ** (np.arange(0, d, 2, dtype=F32) / F32(d)))).astype(F32)
        ang = np.outer(pos.astype(F32), inv).astype(F32)
        emb = np.concatenate([ang, ang], axis=-1)
        cos, sin = np.cos(emb), np.sin(emb)
        rot = np.concatenate([-x[..., d // 2:], x[..., :d // 2]], axis=-1)
        return x * cos + rot * sin

    def logits(self, ids):
        """Logits [len(ids), vocab] for one fresh sequence starting at position 0."""
        S = len(ids)
        pos = np.arange(S)
        x = self.embed[np.asarray(ids)].astype(F32)
        mask = np.triu(np.full((S, S), -np.inf, dtype=F32), 1)
        rep = self.heads // self.kv_heads
        for L in self.layers:
            a = self.act_quant(self.rmsnorm(x, L["input_layernorm"]))
            q = self.bitlinear(a, L["self_attn.q_proj"]).reshape(S, self.heads, self.head_dim)
            k = self.bitlinear(a, L["self_attn.k_proj"]).reshape(S, self.kv_heads, self.head_dim)
            v = self.bitlinear(a, L["self_attn.v_proj"]).reshape(S, self.kv_heads, self.head_dim)
            q = self.rope(q.transpose(1, 0, 2), pos)       # [heads, S, d]
            k = self.rope(k.transpose(1, 0, 2), pos)
            v = v.transpose(1, 0, 2)
            k, v = np.repeat(k, rep, axis=0), np.repeat(v, rep, axis=0)  # head j uses kv j // rep
            att = (q @ k.transpose(0, 2, 1)) * F32(self.head_dim ** -0.5) + mask
            att = np.exp(att - att.max(axis=-1, keepdims=True))
            att = att / att.sum(axis=-1, keepdims=True)
            o = (att @ v).transpose(1, 0, 2).reshape(S, self.h)
            o = self.act_quant(self.rmsnorm(o, L["self_attn.attn_sub_norm"]))
            x = x + self.bitlinear(o, L["self_attn.o_proj"])
            m = self.act_quant(self.rmsnorm(x, L["post_attention_layernorm"]))
            g = np.maximum(self.bitlinear(m, L["mlp.gate_proj"]), F32(0)) ** 2
            g = g * self.bitlinear(m, L["mlp.up_proj"])
            g = self.act_quant(self.rmsnorm(g, L["mlp.ffn_sub_norm"]))
            x = x + self.bitlinear(g, L["mlp.down_proj"])
        return self.rmsnorm(x, self.norm) @ self.embed.T


def log_softmax(z):
    z = z.astype(np.float64)
    z = z - z.max(axis=-1, keepdims=True)
    return z - np.log(np.exp(z).sum(axis=-1, keepdims=True))


def perplexity(model, tok, path, ctx, max_ids):
    with open(path, encoding="utf-8", newline="") as f:  # keep \r\n as is
        ids = tok.encode(f.read())
    if max_ids:
        ids = ids[:max_ids]
    nll, count = 0.0, 0
    for start in range(0, len(ids), ctx):
        w = ids[start:start + ctx]
        lp = log_softmax(model.logits([tok.bos_id] + w[:-1]))
        nll -= float(lp[np.arange(len(w)), w].sum())
        count += len(w)
    print(f"{path}: {len(ids)} ids, {math.ceil(len(ids) / ctx)} windows of <= {ctx}, "
          f"mean NLL {nll / count:.6f}")
    return math.exp(nll / count)


def generate(model, tok, prompt, n, temperature, seed):
    rng = np.random.default_rng(seed)
    ids = tok.encode(prompt, add_bos=True)
    out = []
    limit = model.c["max_position_embeddings"]
    for _ in range(n):
        if len(ids) >= limit:
            break
        z = model.logits(ids)[-1].astype(np.float64)
        if temperature > 0:
            p = np.exp((z - z.max()) / temperature)
            nxt = int(rng.choice(len(p), p=p / p.sum()))
        else:
            nxt = int(np.argmax(z))  # ties -> lowest id
        if nxt == tok.eos_id:
            break
        ids.append(nxt)
        out.append(nxt)
    return out


def main():
    ap = argparse.ArgumentParser(description=__doc__,
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--model", default=os.path.join(HERE, "..", "bitnet-tiny-trained"))
    ap.add_argument("--heldout", default=os.path.join(HERE, "..", "data", "heldout.txt"))
    ap.add_argument("--ctx", type=int, default=128)
    ap.add_argument("--max-ids", type=int, default=0, help="M: keep the first M ids (0 = all)")
    ap.add_argument("--prompt", default="The meaning of life is")
    ap.add_argument("--tokens", type=int, default=40, help="N generated tokens (0 = skip)")
    ap.add_argument("--temperature", type=float, default=0.0, help="0 = greedy")
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--no-ppl", action="store_true")
    args = ap.parse_args()

    model = Model(args.model)
    tok = Tokenizer(os.path.join(args.model, "tokenizer.json"))
    if args.tokens:
        out = generate(model, tok, args.prompt, args.tokens, args.temperature, args.seed)
        print(f"prompt ids: {tok.encode(args.prompt, add_bos=True)}")
        print(f"generated ids: {out}")
        print(f"text: {args.prompt}{tok.decode(out)}")
    if not args.no_ppl:
        print(f"perplexity: {perplexity(model, tok, args.heldout, args.ctx, args.max_ids):.4f}")


if __name__ == "__main__":
    main()
