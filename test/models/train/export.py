#!/usr/bin/env python3
"""Export a train.py checkpoint to the packed BitNet b1.58 2B-4T "offline" format.

Writes <out>/config.json, model.safetensors, tokenizer.json (BITNET.md section 3):
embeddings and norms BF16; each projection U8 [out/4, in] with the blocked packing
P[r, c] = sum_i (T[i*R + r, c] + 1) << 2i, R = out/4, and a BF16 [1] weight_scale with
W = T * weight_scale (linear_class "autobitlinear"). T is computed exactly as in training
(fp32 absmean scale); only the stored scale is rounded to BF16, so the exported model is
what reference_eval.py evaluates.
"""
import argparse
import json
import os
import shutil

import numpy as np
import torch

import safetensors_io as st

HERE = os.path.dirname(os.path.abspath(__file__))
PROJECTIONS = [("self_attn", "q_proj"), ("self_attn", "k_proj"), ("self_attn", "v_proj"),
               ("self_attn", "o_proj"), ("mlp", "gate_proj"), ("mlp", "up_proj"),
               ("mlp", "down_proj")]
NORMS = [("input_layernorm", "input_layernorm"),
         ("post_attention_layernorm", "post_attention_layernorm"),
         ("attn_sub_norm", "self_attn.attn_sub_norm"), ("ffn_sub_norm", "mlp.ffn_sub_norm")]


def ternarize(w):
    """Same arithmetic as train.weight_quant, in torch fp32."""
    scale = w.abs().mean().clamp(min=1e-5)
    t = torch.round(w / scale).clamp(-1, 1)
    return t.to(torch.int8).numpy(), np.float32(scale.item())


def pack(t):
    out, cols = t.shape
    assert out % 4 == 0, f"output dim {out} not a multiple of 4"
    r = out // 4
    code = (t.astype(np.int16) + 1).astype(np.uint8)
    packed = np.zeros((r, cols), dtype=np.uint8)
    for i in range(4):
        packed |= code[i * r:(i + 1) * r] << (2 * i)
    return packed


def main():
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--ckpt", default="/tmp/bitnet-tiny-work/ckpt_last.pt",
                    help="the final checkpoint (held-out loss is logged, never used to pick)")
    ap.add_argument("--tokenizer", default="/tmp/bitnet-tiny-work/tokenizer.json")
    ap.add_argument("--out", default=os.path.join(HERE, "..", "bitnet-tiny-trained"))
    args = ap.parse_args()

    ck = torch.load(args.ckpt, map_location="cpu")
    c, sd = ck["config"], ck["model"]
    print(f"checkpoint step {ck['step']}, held-out loss {ck['heldout_loss']:.4f} (training model)")

    def bf16(name, tensor):
        return (name, "BF16", st.f32_to_bf16_bits(tensor.float().numpy()))

    tensors = [bf16("model.embed_tokens.weight", sd["embed_tokens.weight"]),
               bf16("model.norm.weight", sd["norm.weight"])]
    for n in range(c["num_hidden_layers"]):
        src, dst = f"layers.{n}.", f"model.layers.{n}."
        for ours, theirs in NORMS:
            tensors.append(bf16(f"{dst}{theirs}.weight", sd[f"{src}{ours}.weight"]))
        for group, proj in PROJECTIONS:
            t, scale = ternarize(sd[f"{src}{proj}.weight"].float())
            tensors.append((f"{dst}{group}.{proj}.weight", "U8", pack(t)))
            tensors.append((f"{dst}{group}.{proj}.weight_scale", "BF16",
                            st.f32_to_bf16_bits(np.array([scale], dtype=np.float32))))

    config = {
        "architectures": ["BitNetForCausalLM"],
        "model_type": "bitnet",
        "attention_bias": False,
        "attention_dropout": 0.0,
        "bos_token_id": c["bos_token_id"],
        "eos_token_id": c["eos_token_id"],
        "hidden_act": "relu2",
        "hidden_size": c["hidden_size"],
        "initializer_range": 0.02,
        "intermediate_size": c["intermediate_size"],
        "max_position_embeddings": c["max_position_embeddings"],
        "num_attention_heads": c["num_attention_heads"],
        "num_hidden_layers": c["num_hidden_layers"],
        "num_key_value_heads": c["num_key_value_heads"],
        "rms_norm_eps": c["rms_norm_eps"],
        "rope_theta": c["rope_theta"],
        "tie_word_embeddings": True,
        "torch_dtype": "bfloat16",
        "use_cache": True,
        "vocab_size": c["vocab_size"],
        "quantization_config": {"quant_method": "bitnet", "linear_class": "autobitlinear",
                                "quantization_mode": "offline"},
    }
    os.makedirs(args.out, exist_ok=True)
    st.write(os.path.join(args.out, "model.safetensors"), tensors, {"format": "pt"})
    with open(os.path.join(args.out, "config.json"), "w") as f:
        json.dump(config, f, indent=2)
        f.write("\n")
    shutil.copyfile(args.tokenizer, os.path.join(args.out, "tokenizer.json"))
    for name in ("config.json", "model.safetensors", "tokenizer.json"):
        print(f"{name}: {os.path.getsize(os.path.join(args.out, name))} bytes")


if __name__ == "__main__":
    main()
