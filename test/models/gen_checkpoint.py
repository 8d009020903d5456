#!/usr/bin/python3
"""Writes a random but deterministic BitNet checkpoint folder for tests.

    gen_checkpoint.py OUT_DIR [--preset tiny|small|2b4t] [--format bitnet|1bitllm] [--hidden N]
        [--layers N] [--heads N] [--kv-heads N] [--head-dim D] [--ffn N] [--vocab N] [--max-pos N]
        [--tied | --untied] [--linear-class autobitlinear|bitlinear|none] [--seed S] [--shards N]
        [--float-dtype bf16|f16|f32] [--tokenizer PATH] [--broken KIND]

Formats (/work/shared/BITNET.md sections 1 and 3):
  bitnet   microsoft/bitnet-b1.58-2B-4T: config with every key of the real one; U8 [ceil(out/4), in]
           blocked 2-bit ternary weights + BF16 weight_scale [1]; BF16 embeddings and norms.
  1bitllm  1bitLLM/bitnet_b1_58-*: BitnetForCausalLM, model_type llama, silu, F16 latent weights
           [out, in] (ternarized by the importer), sub-norms inner_attn_ln / ffn_layernorm.

Every tensor has its own random stream seeded by (seed, crc32 of its name), so the values do not
depend on sharding or on --broken. Tensors are streamed to disk one by one in chunks after a
precomputed header, so the 2b4t preset (1.2 GB) needs little memory.

--broken KIND writes a checkpoint with exactly one defect (see BROKEN_KINDS).
Only Debian's /usr/bin/python3 and numpy are needed.
"""
import argparse
import json
import os
import shutil
import struct
import sys
import zlib

import numpy as np

PRESETS = {
    "tiny": dict(hidden=64, layers=2, heads=4, kv_heads=2, ffn=96, vocab=256, max_pos=128),
    "small": dict(hidden=1024, layers=12, heads=16, kv_heads=16, ffn=2816, vocab=32000, max_pos=2048),
    "2b4t": dict(hidden=2560, layers=30, heads=20, kv_heads=5, ffn=6912, vocab=128256, max_pos=4096),
}

BROKEN_KINDS = {
    "truncated": "the (last) file is cut in the middle of its last tensor",
    "header-past-end": "the u64 header length points past the end of the file",
    "bad-json": "the JSON header is not valid JSON",
    "offsets-outside": "model.layers.0.input_layernorm.weight's data_offsets lie past the data section",
    "overlapping": "post_attention_layernorm of layer 0 has the same data_offsets as input_layernorm",
    "wrong-dtype": "layer 0 q_proj.weight is declared I8 instead of U8 (latent: I8 instead of float)",
    "wrong-shape": "layer 0 gate_proj.weight has its two dims swapped",
    "missing-tensor": "the last layer's mlp.down_proj.weight is absent",
    "code3": "one byte of layer 0 k_proj.weight holds the invalid code 3",
    "unknown-arch": "config.json names LlamaForCausalLM",
    "missing-config-key": "config.json lacks intermediate_size",
    "bad-scale": "layer 0 q_proj.weight_scale is 0",
    "missing-shard": "the last shard file is deleted (implies --shards 2 at least)",
}

CHUNK_ELEMENTS = 1 << 22  # values generated per step when streaming a tensor

# All bytes whose four 2-bit codes are in {0, 1, 2}: drawing uniformly from them gives ternary
# weights with exactly 1/3 zeros and never the invalid code 3.
VALID_PACKED_BYTES = np.array(
    [a | (b << 2) | (c << 4) | (d << 6) for a in range(3) for b in range(3) for c in range(3) for d in range(3)],
    dtype=np.uint8)


def rng_for(seed, name):
    return np.random.default_rng([seed, zlib.crc32(name.encode())])


def to_bf16_bits(f32):
    """float32 -> bf16 bit patterns, round to nearest even (no NaNs are generated)."""
    u = f32.astype(np.float32).view(np.uint32)
    u = u + np.uint32(0x7FFF) + ((u >> np.uint32(16)) & np.uint32(1))
    return (u >> np.uint32(16)).astype(np.uint16)


def encode_floats(values, dtype):
    if dtype == "BF16":
        return to_bf16_bits(values).astype("<u2").tobytes()
    if dtype == "F16":
        return values.astype("<f2").tobytes()
    if dtype == "F32":
        return values.astype("<f4").tobytes()
    raise ValueError(dtype)


DTYPE_SIZE = {"BF16": 2, "F16": 2, "F32": 4, "U8": 1, "I8": 1}


class Tensor:
    """One tensor to write: header fields plus a function that streams its bytes."""

    def __init__(self, name, dtype, shape, chunks):
        self.name, self.dtype, self.shape = name, dtype, list(shape)
        self.chunks = chunks  # callable(rng) -> iterator of bytes
        self.nbytes = int(np.prod(self.shape, dtype=np.int64)) * DTYPE_SIZE[dtype]
        self.patch = None     # optional callable(first_chunk_bytes) -> bytes (--broken code3)


def float_tensor(name, dtype, shape, kind, scale=1.0):
    """kind normal: N(0, scale); norm: U(1 - 0.2, 1 + 0.2); uniform12: U(1, 2)."""
    count = int(np.prod(shape, dtype=np.int64))

    def chunks(rng):
        for start in range(0, count, CHUNK_ELEMENTS):
            n = min(CHUNK_ELEMENTS, count - start)
            if kind == "normal":
                v = rng.standard_normal(n, dtype=np.float32) * np.float32(scale)
            elif kind == "norm":
                v = rng.uniform(0.8, 1.2, n).astype(np.float32)
            else:
                v = rng.uniform(1.0, 2.0, n).astype(np.float32)
            yield encode_floats(v, dtype)
    return Tensor(name, dtype, shape, chunks)


def packed_tensor(name, out, inp):
    """U8 [ceil(out/4), in], blocked along the output dim; padding slots (rows >= out) hold code 1."""
    rows = (out + 3) // 4

    def chunks(rng):
        step = max(1, CHUNK_ELEMENTS // inp)
        for r0 in range(0, rows, step):
            r1 = min(rows, r0 + step)
            block = VALID_PACKED_BYTES[rng.integers(0, len(VALID_PACKED_BYTES), (r1 - r0) * inp, dtype=np.uint8)]
            block = block.reshape(r1 - r0, inp)
            for slot in range(4):
                first_pad = out - slot * rows  # packed rows r >= first_pad are padding in this slot
                lo = max(first_pad, r0)
                if lo < r1:
                    mask = np.uint8(3 << (2 * slot))
                    block[lo - r0:] = (block[lo - r0:] & ~mask) | np.uint8(1 << (2 * slot))
            yield block.tobytes()
    return Tensor(name, "U8", [rows, inp], chunks)


def model_tensors(a):
    """The checkpoint's tensors in file order."""
    d = a.head_dim
    q_out, kv_out = a.heads * d, a.kv_heads * d
    latent = a.format == "1bitllm"
    fdt = a.float_dtype
    ts = [float_tensor("model.embed_tokens.weight", fdt, [a.vocab, a.hidden], "normal")]
    attn_sub = "self_attn.inner_attn_ln" if latent else "self_attn.attn_sub_norm"
    ffn_sub = "mlp.ffn_layernorm" if latent else "mlp.ffn_sub_norm"

    def proj(p, out, inp):
        if latent:
            return [float_tensor(p + ".weight", fdt, [out, inp], "normal", 0.05)]
        return [packed_tensor(p + ".weight", out, inp),
                float_tensor(p + ".weight_scale", "BF16", [1], "uniform12")]

    for layer in range(a.layers):
        p = f"model.layers.{layer}."
        ts.append(float_tensor(p + "input_layernorm.weight", fdt, [a.hidden], "norm"))
        ts += proj(p + "self_attn.q_proj", q_out, a.hidden)
        ts += proj(p + "self_attn.k_proj", kv_out, a.hidden)
        ts += proj(p + "self_attn.v_proj", kv_out, a.hidden)
        ts.append(float_tensor(p + attn_sub + ".weight", fdt, [q_out], "norm"))
        ts += proj(p + "self_attn.o_proj", a.hidden, q_out)
        ts.append(float_tensor(p + "post_attention_layernorm.weight", fdt, [a.hidden], "norm"))
        ts += proj(p + "mlp.gate_proj", a.ffn, a.hidden)
        ts += proj(p + "mlp.up_proj", a.ffn, a.hidden)
        ts.append(float_tensor(p + ffn_sub + ".weight", fdt, [a.ffn], "norm"))
        ts += proj(p + "mlp.down_proj", a.hidden, a.ffn)
    ts.append(float_tensor("model.norm.weight", fdt, [a.hidden], "norm"))
    if not a.tied:
        ts.append(float_tensor("lm_head.weight", fdt, [a.vocab, a.hidden], "normal"))
    return ts


def config_json(a):
    if a.format == "1bitllm":
        cfg = {
            "architectures": ["BitnetForCausalLM"], "model_type": "llama", "hidden_act": "silu",
            "bos_token_id": 1, "eos_token_id": 2, "rope_theta": 10000.0, "torch_dtype": "float16",
            "input_bits": 8, "weight_bits": 1, "pad_token_id": 32000, "pretraining_tp": 1, "rope_scaling": None,
        }
    else:
        cfg = {
            "architectures": ["BitNetForCausalLM"], "model_type": "bitnet", "hidden_act": "relu2",
            "bos_token_id": 128000, "eos_token_id": 128001, "rope_theta": 500000.0, "torch_dtype": "bfloat16",
            "auto_map": {"AutoConfig": "configuration_bitnet.BitNetConfig",
                         "AutoModelForCausalLM": "modeling_bitnet.BitNetForCausalLM"},
        }
        if a.linear_class != "none":
            cfg["quantization_config"] = {"linear_class": a.linear_class, "quant_method": "bitnet",
                                          "quantization_mode": "offline"}
    cfg.update({
        "attention_bias": False, "attention_dropout": 0.0, "initializer_range": 0.02,
        "hidden_size": a.hidden, "intermediate_size": a.ffn, "max_position_embeddings": a.max_pos,
        "num_attention_heads": a.heads, "num_hidden_layers": a.layers, "num_key_value_heads": a.kv_heads,
        "rms_norm_eps": 1e-05, "tie_word_embeddings": a.tied, "use_cache": True, "vocab_size": a.vocab,
        "transformers_version": "4.52.0",
    })
    if a.head_dim_given:
        cfg["head_dim"] = a.head_dim
    if max(cfg["bos_token_id"], cfg["eos_token_id"]) >= a.vocab:  # small vocabularies: ids 1 and 2
        cfg["bos_token_id"], cfg["eos_token_id"] = 1, 2
    if a.broken == "unknown-arch":
        cfg["architectures"] = ["LlamaForCausalLM"]
    if a.broken == "missing-config-key":
        del cfg["intermediate_size"]
    return cfg


def apply_tensor_defects(a, ts):
    """Defects in the tensor list (their data stays well-formed safetensors)."""
    by_name = {t.name: t for t in ts}
    kind = a.broken
    if kind == "wrong-dtype":
        t = by_name["model.layers.0.self_attn.q_proj.weight"]
        t.dtype = "I8"
        if t.nbytes != int(np.prod(t.shape)):  # latent F16: keep the byte count consistent
            t.shape = [t.shape[0], t.shape[1] * 2]
    elif kind == "wrong-shape":
        t = by_name["model.layers.0.mlp.gate_proj.weight"]
        r, c = t.shape
        t.shape = [c, r] if r != c else [r * c]
    elif kind == "missing-tensor":
        ts = [t for t in ts if t.name != f"model.layers.{a.layers - 1}.mlp.down_proj.weight"]
    elif kind == "bad-scale":
        t = by_name.get("model.layers.0.self_attn.q_proj.weight_scale")
        if t is None:
            sys.exit("gen_checkpoint.py: --broken bad-scale needs the bitnet format")
        t.chunks = lambda rng: iter([encode_floats(np.zeros(1, np.float32), "BF16")])
    elif kind == "code3":
        t = by_name["model.layers.0.self_attn.k_proj.weight"]
        if t.dtype != "U8":
            sys.exit("gen_checkpoint.py: --broken code3 needs the bitnet format")
        # Row 0 is never padding; slot 0 of packed [0, 0] is row 0 of the matrix.
        t.patch = lambda first: bytes([first[0] | 3]) + first[1:]
    return ts


def layout(ts):
    """Header dict (with data_offsets) and the data section size."""
    header = {"__metadata__": {"format": "pt"}}
    offset = 0
    for t in ts:
        header[t.name] = {"dtype": t.dtype, "shape": t.shape, "data_offsets": [offset, offset + t.nbytes]}
        offset += t.nbytes
    return header, offset


def encode_header(header):
    text = json.dumps(header, separators=(",", ":")).encode()
    return text + b" " * (-len(text) % 8)  # the data section starts 8-byte aligned


def write_safetensors(path, ts, seed, defect):
    header, data_size = layout(ts)
    if defect == "offsets-outside":
        e = header["model.layers.0.input_layernorm.weight"]
        size = e["data_offsets"][1] - e["data_offsets"][0]
        e["data_offsets"] = [data_size, data_size + size]
    elif defect == "overlapping":
        header["model.layers.0.post_attention_layernorm.weight"]["data_offsets"] = \
            list(header["model.layers.0.input_layernorm.weight"]["data_offsets"])
    hbytes = encode_header(header)
    if defect == "bad-json":
        hbytes = hbytes.replace(b":", b" ", 1)
    with open(path, "wb") as f:
        f.write(struct.pack("<Q", len(hbytes)))
        f.write(hbytes)
        for t in ts:
            written = 0
            for i, chunk in enumerate(t.chunks(rng_for(seed, t.name))):
                if i == 0 and t.patch:
                    chunk = t.patch(chunk)
                f.write(chunk)
                written += len(chunk)
            assert written == t.nbytes, (t.name, written, t.nbytes)
    if defect == "header-past-end":
        file_size = os.path.getsize(path)
        with open(path, "r+b") as f:
            f.write(struct.pack("<Q", file_size))
    elif defect == "truncated":
        cut = max(1, ts[-1].nbytes // 2)
        os.truncate(path, os.path.getsize(path) - cut)


def parse_args(argv):
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("out_dir")
    p.add_argument("--preset", choices=sorted(PRESETS), default="tiny")
    p.add_argument("--format", choices=["bitnet", "1bitllm"], default="bitnet")
    for flag in ("hidden", "layers", "heads", "kv-heads", "head-dim", "ffn", "vocab", "max-pos", "shards"):
        p.add_argument("--" + flag, type=int)
    tie = p.add_mutually_exclusive_group()
    tie.add_argument("--tied", dest="tied", action="store_true", default=None)
    tie.add_argument("--untied", dest="tied", action="store_false")
    p.add_argument("--linear-class", choices=["autobitlinear", "bitlinear", "none"])
    p.add_argument("--float-dtype", choices=["BF16", "F16", "F32"], type=str.upper,
                   help="embeddings, norms, lm_head (and 1bitllm latent weights); default BF16 (bitnet), F16 (1bitllm)")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--tokenizer", help="a tokenizer.json to copy into the folder")
    p.add_argument("--broken", choices=sorted(BROKEN_KINDS))
    a = p.parse_args(argv)
    for key, value in PRESETS[a.preset].items():
        if getattr(a, key) is None:
            setattr(a, key, value)
    if a.tied is None:
        a.tied = a.format == "bitnet"
    if a.float_dtype is None:
        a.float_dtype = "BF16" if a.format == "bitnet" else "F16"
    if a.linear_class is None:
        a.linear_class = "autobitlinear" if a.format == "bitnet" else "none"
    a.head_dim_given = a.head_dim is not None
    if a.head_dim is None:
        if a.hidden % a.heads:
            p.error(f"--hidden {a.hidden} is not a multiple of --heads {a.heads}: give --head-dim")
        a.head_dim = a.hidden // a.heads
    if a.heads % a.kv_heads:
        p.error("--heads must be a multiple of --kv-heads")
    if a.shards is None:
        a.shards = 2 if a.broken == "missing-shard" else 1
    if a.broken == "missing-shard" and a.shards < 2:
        p.error("--broken missing-shard needs --shards 2 or more")
    return a


def main(argv):
    a = parse_args(argv)
    os.makedirs(a.out_dir, exist_ok=True)
    with open(os.path.join(a.out_dir, "config.json"), "w") as f:
        json.dump(config_json(a), f, indent=2, sort_keys=True)
        f.write("\n")
    if a.tokenizer:
        shutil.copyfile(a.tokenizer, os.path.join(a.out_dir, "tokenizer.json"))

    ts = apply_tensor_defects(a, model_tensors(a))
    file_defects = {"truncated", "header-past-end", "bad-json", "offsets-outside", "overlapping"}
    defect = a.broken if a.broken in file_defects else None
    if a.shards == 1:
        write_safetensors(os.path.join(a.out_dir, "model.safetensors"), ts, a.seed, defect)
        return
    if a.shards > len(ts):
        sys.exit(f"gen_checkpoint.py: --shards {a.shards} exceeds the {len(ts)} tensors")
    groups = [list(g) for g in np.array_split(np.arange(len(ts)), a.shards)]
    weight_map, total = {}, 0
    for i, group in enumerate(groups):
        shard = f"model-{i + 1:05d}-of-{a.shards:05d}.safetensors"
        part = [ts[j] for j in group]
        # A file-level defect goes into the shard holding the tensor it concerns (truncation: the last).
        names = {t.name for t in part}
        target = {"offsets-outside": "model.layers.0.input_layernorm.weight",
                  "overlapping": "model.layers.0.post_attention_layernorm.weight"}.get(defect)
        here = defect if (target in names if target else
                          (i == len(groups) - 1 if defect == "truncated" else i == 0)) else None
        if defect == "overlapping" and here and "model.layers.0.input_layernorm.weight" not in names:
            sys.exit("gen_checkpoint.py: --broken overlapping needs both layer-0 norms in one shard")
        write_safetensors(os.path.join(a.out_dir, shard), part, a.seed, here)
        for t in part:
            weight_map[t.name] = shard
            total += t.nbytes
    with open(os.path.join(a.out_dir, "model.safetensors.index.json"), "w") as f:
        json.dump({"metadata": {"total_size": total}, "weight_map": weight_map}, f, indent=2)
        f.write("\n")
    if a.broken == "missing-shard":
        os.remove(os.path.join(a.out_dir, f"model-{a.shards:05d}-of-{a.shards:05d}.safetensors"))


if __name__ == "__main__":
    main(sys.argv[1:])
