#!/usr/bin/env python3
"""Quantization-aware training of the bundled tiny BitNet b1.58 (BITNET.md sections 1-2).

Decoder: pre-norm, RMSNorm in fp32, q/k/v/o and gate/up/down BitLinears without biases,
attn_sub_norm before o_proj, ffn_sub_norm before down_proj, relu2 MLP, GQA, HF rotate_half
RoPE, tied embeddings. BitLinear fake-quantizes activations (per-token absmax int8,
round-half-even) and weights (absmean ternary) with straight-through gradients, so the
latent fp32 weights train while the forward pass sees exactly the inference arithmetic.

Every training sequence is [BOS] + (ctx - 1) consecutive corpus tokens starting anywhere,
which is also the shape of the held-out perplexity protocol in reference_eval.py.
Checkpoints go to <workdir>/ckpt_last.pt and <workdir>/ckpt_best.pt (best held-out loss).
--resume PATH continues from a checkpoint (model, and optimizer state if the checkpoint has
it) with a fresh warmup + cosine schedule over the new --steps; step numbers stay global.
"""
import argparse
import json
import math
import os
import time

import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F

from bpe import Tokenizer

HERE = os.path.dirname(os.path.abspath(__file__))


def act_quant(x):
    """Per-token absmax int8 fake quantization with a straight-through gradient."""
    s = 127.0 / x.abs().amax(dim=-1, keepdim=True).clamp(min=1e-5)
    q = torch.round(x * s).clamp(-128, 127) / s
    return x + (q - x).detach()


def weight_quant(w):
    """Absmean ternary fake quantization: W ~ T * mean|W|, straight-through gradient."""
    scale = w.abs().mean().clamp(min=1e-5)
    q = torch.round(w / scale).clamp(-1, 1) * scale
    return w + (q - w).detach()


class BitLinear(nn.Linear):
    def __init__(self, fan_in, fan_out):
        super().__init__(fan_in, fan_out, bias=False)

    def forward(self, x_quantized):
        # The caller quantizes activations once, so q/k/v and gate/up share one quantization.
        return F.linear(x_quantized, weight_quant(self.weight))


class RMSNorm(nn.Module):
    def __init__(self, dim, eps):
        super().__init__()
        self.weight = nn.Parameter(torch.ones(dim))
        self.eps = eps

    def forward(self, x):
        x = x.float()
        return self.weight * (x * torch.rsqrt(x.pow(2).mean(-1, keepdim=True) + self.eps))


def rotate_half(x):
    half = x.shape[-1] // 2
    return torch.cat((-x[..., half:], x[..., :half]), dim=-1)


def rope_tables(seq, head_dim, theta):
    inv_freq = 1.0 / (theta ** (torch.arange(0, head_dim, 2, dtype=torch.float32) / head_dim))
    freqs = torch.outer(torch.arange(seq, dtype=torch.float32), inv_freq)
    emb = torch.cat((freqs, freqs), dim=-1)
    return emb.cos(), emb.sin()


class Layer(nn.Module):
    def __init__(self, c):
        super().__init__()
        h, ff, eps = c["hidden_size"], c["intermediate_size"], c["rms_norm_eps"]
        self.heads, self.kv_heads = c["num_attention_heads"], c["num_key_value_heads"]
        self.head_dim = h // self.heads
        self.input_layernorm = RMSNorm(h, eps)
        self.post_attention_layernorm = RMSNorm(h, eps)
        self.attn_sub_norm = RMSNorm(h, eps)
        self.ffn_sub_norm = RMSNorm(ff, eps)
        self.q_proj = BitLinear(h, h)
        self.k_proj = BitLinear(h, self.kv_heads * self.head_dim)
        self.v_proj = BitLinear(h, self.kv_heads * self.head_dim)
        self.o_proj = BitLinear(h, h)
        self.gate_proj = BitLinear(h, ff)
        self.up_proj = BitLinear(h, ff)
        self.down_proj = BitLinear(ff, h)

    def forward(self, x, cos, sin, mask):
        B, S, _ = x.shape
        a = act_quant(self.input_layernorm(x))
        q = self.q_proj(a).view(B, S, self.heads, self.head_dim).transpose(1, 2)
        k = self.k_proj(a).view(B, S, self.kv_heads, self.head_dim).transpose(1, 2)
        v = self.v_proj(a).view(B, S, self.kv_heads, self.head_dim).transpose(1, 2)
        q = q * cos + rotate_half(q) * sin
        k = k * cos + rotate_half(k) * sin
        rep = self.heads // self.kv_heads
        k = k.repeat_interleave(rep, dim=1)
        v = v.repeat_interleave(rep, dim=1)
        att = (q @ k.transpose(-1, -2)) * self.head_dim ** -0.5 + mask
        o = (att.softmax(-1) @ v).transpose(1, 2).reshape(B, S, -1)
        x = x + self.o_proj(act_quant(self.attn_sub_norm(o)))
        m = act_quant(self.post_attention_layernorm(x))
        g = F.relu(self.gate_proj(m)).pow(2) * self.up_proj(m)
        return x + self.down_proj(act_quant(self.ffn_sub_norm(g)))


class BitNet(nn.Module):
    def __init__(self, c):
        super().__init__()
        self.c = c
        self.embed_tokens = nn.Embedding(c["vocab_size"], c["hidden_size"])
        self.layers = nn.ModuleList(Layer(c) for _ in range(c["num_hidden_layers"]))
        self.norm = RMSNorm(c["hidden_size"], c["rms_norm_eps"])
        for p in self.modules():
            if isinstance(p, (nn.Linear, nn.Embedding)):
                nn.init.normal_(p.weight, std=0.02)

    def forward(self, ids):
        S = ids.shape[1]
        cos, sin = rope_tables(S, self.c["hidden_size"] // self.c["num_attention_heads"],
                               self.c["rope_theta"])
        mask = torch.full((S, S), float("-inf")).triu(1)
        x = self.embed_tokens(ids)
        for layer in self.layers:
            x = layer(x, cos, sin, mask)
        return self.norm(x) @ self.embed_tokens.weight.t()  # tied, full-precision head


def heldout_loss(model, data, ctx, bos):
    """Mean NLL with the reference_eval protocol ([BOS] + window), on the training model."""
    model.eval()
    total, n = 0.0, 0
    with torch.no_grad():
        for start in range(0, len(data), ctx):
            w = torch.tensor(data[start:start + ctx], dtype=torch.long)
            inp = torch.cat([torch.tensor([bos]), w[:-1]])[None]
            logits = model(inp)[0]
            total += F.cross_entropy(logits, w, reduction="sum").item()
            n += len(w)
    model.train()
    return total / n


def main():
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--workdir", default="/tmp/bitnet-tiny-work")
    ap.add_argument("--heldout", default=os.path.join(HERE, "..", "data", "heldout.txt"))
    ap.add_argument("--hidden", type=int, default=256)
    ap.add_argument("--layers", type=int, default=4)
    ap.add_argument("--heads", type=int, default=4)
    ap.add_argument("--kv-heads", type=int, default=2)
    ap.add_argument("--ffn", type=int, default=640)
    ap.add_argument("--ctx", type=int, default=256)
    ap.add_argument("--batch", type=int, default=8)
    ap.add_argument("--steps", type=int, default=3000)
    ap.add_argument("--time-budget", type=float, default=0,
                    help="seconds; if set, --steps is re-fixed after 20 steps from the measured "
                         "speed (printed and stored, so a rerun with --steps N repeats the schedule)")
    ap.add_argument("--lr", type=float, default=3e-3)
    ap.add_argument("--min-lr-frac", type=float, default=0.05)
    ap.add_argument("--warmup", type=int, default=100)
    ap.add_argument("--weight-decay", type=float, default=0.05)
    ap.add_argument("--eval-every", type=int, default=100)
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--resume", default="", help="checkpoint to continue from (see docstring)")
    args = ap.parse_args()

    torch.manual_seed(args.seed)
    torch.set_num_threads(args.threads)
    rng = np.random.default_rng(args.seed)

    tok = Tokenizer(os.path.join(args.workdir, "tokenizer.json"))
    with open(os.path.join(args.workdir, "train.txt"), encoding="utf-8") as f:
        train_ids = np.array(tok.encode(f.read()), dtype=np.int64)
    with open(args.heldout, encoding="utf-8") as f:
        heldout_ids = tok.encode(f.read())
    vocab = len(tok.id_to_token)
    config = {
        "hidden_size": args.hidden, "intermediate_size": args.ffn,
        "num_hidden_layers": args.layers, "num_attention_heads": args.heads,
        "num_key_value_heads": args.kv_heads, "vocab_size": vocab, "rms_norm_eps": 1e-5,
        "rope_theta": 10000.0, "max_position_embeddings": args.ctx,
        "bos_token_id": tok.bos_id, "eos_token_id": tok.eos_id,
    }
    print(f"train tokens {len(train_ids)}, heldout tokens {len(heldout_ids)}, config {json.dumps(config)}")

    model = BitNet(config)
    nparams = sum(p.numel() for p in model.parameters())
    print(f"parameters: {nparams}")
    decay = [p for n, p in model.named_parameters() if p.dim() == 2]
    no_decay = [p for n, p in model.named_parameters() if p.dim() < 2]
    opt = torch.optim.AdamW([{"params": decay, "weight_decay": args.weight_decay},
                             {"params": no_decay, "weight_decay": 0.0}],
                            lr=args.lr, betas=(0.9, 0.95))
    start_step = 0
    if args.resume:
        ck = torch.load(args.resume)
        if ck["config"] != config:
            raise SystemExit(f"error: {args.resume}: config {ck['config']} differs from {config}")
        model.load_state_dict(ck["model"])
        if "optimizer" in ck:
            opt.load_state_dict(ck["optimizer"])
        start_step = ck["step"]
        # A different seed than the first run, so the resumed run sees other batches.
        rng = np.random.default_rng(args.seed + start_step)
        print(f"resumed {args.resume} at step {start_step} (heldout loss {ck['heldout_loss']:.4f}, "
              f"optimizer state {'restored' if 'optimizer' in ck else 'absent: fresh'})", flush=True)

    def lr_at(step):
        if step < args.warmup:
            return args.lr * (step + 1) / args.warmup
        t = (step - args.warmup) / max(1, args.steps - args.warmup)
        return args.lr * (args.min_lr_frac + (1 - args.min_lr_frac) * 0.5 * (1 + math.cos(math.pi * t)))

    def save(path, step, val):
        torch.save({"config": config, "model": model.state_dict(), "optimizer": opt.state_dict(),
                    "step": step, "heldout_loss": val, "args": vars(args)}, path)

    best, t0, smooth = float("inf"), time.time(), None
    seq = args.ctx - 1
    step = 0
    while step < args.steps:
        if args.time_budget and step == 20:
            per_step = (time.time() - t0) / 20
            args.steps = max(args.warmup + 50, int(args.time_budget / per_step))
            print(f"{per_step:.2f}s/step: total steps fixed at {args.steps}", flush=True)
        starts = rng.integers(0, len(train_ids) - seq, size=args.batch)
        chunk = torch.from_numpy(np.stack([train_ids[s:s + seq] for s in starts]))
        inp = torch.cat([torch.full((args.batch, 1), tok.bos_id), chunk[:, :-1]], dim=1)
        for g in opt.param_groups:
            g["lr"] = lr_at(step)
        logits = model(inp)
        loss = F.cross_entropy(logits.reshape(-1, vocab), chunk.reshape(-1))
        opt.zero_grad(set_to_none=True)
        loss.backward()
        torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
        opt.step()
        smooth = loss.item() if smooth is None else 0.95 * smooth + 0.05 * loss.item()
        if step % 25 == 0:
            print(f"step {start_step + step} loss {loss.item():.4f} smooth {smooth:.4f} lr {lr_at(step):.2e} "
                  f"elapsed {time.time() - t0:.0f}s", flush=True)
        if (step + 1) % args.eval_every == 0 or step + 1 == args.steps:
            val = heldout_loss(model, heldout_ids, 128, tok.bos_id)
            save(os.path.join(args.workdir, "ckpt_last.pt"), start_step + step + 1, val)
            if val < best:
                best = val
                save(os.path.join(args.workdir, "ckpt_best.pt"), start_step + step + 1, val)
            print(f"eval step {start_step + step + 1} heldout loss {val:.4f} ppl {math.exp(val):.2f} "
                  f"(best {math.exp(best):.2f}) train smooth {smooth:.4f}", flush=True)
        step += 1
    print(f"done in {time.time() - t0:.0f}s")


if __name__ == "__main__":
    main()
