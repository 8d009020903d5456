"""Prefill speed of the fused ONNX library against the safetensors library of the same weights
(issue 4: "prefill through the fused ONNX model runs as fast as through the safetensors model").

    onnx_prefill_bench.py --work DIR [--preset small | gen_checkpoint.py options via --gen "..."]
        [--forms fakequant,integer,nbits,online] [--prefill 128] [--repeat 5] [--threads 1]

Writes a synthetic checkpoint (default: the `small` preset, hidden 1024, 12 layers, ffn 2816,
vocab 32000), its ONNX forms with --logits last (only the last position's logits, as a prefill
computes), compiles each and the checkpoint with bitnetc, counts the fused bitlinear ops in the
ONNX libraries' IR, then times prefill of the same --prefill random ids:
  safetensors  bitnet-run LIB --bench --bench-prefill N --bench-decode 1 --json  (prefill median)
  onnx         bitnet-run LIB --input input_ids=ids.npy --bench                 (median of runs)
and prints a table of tokens/s and the ratio. Uses bitnetc / bitnet-run from PATH. Not a test:
timings on a shared machine are noisy (run it on an idle one; --repeat more for stabler medians).
"""
import argparse
import json
import os
import re
import shlex
import subprocess
import sys

import numpy as np

HERE = os.path.dirname(os.path.abspath(__file__))
MODELS = os.path.join(HERE, "..", "models")
PY = "/usr/bin/python3"


def run(cmd):
    print("$ " + " ".join(shlex.quote(c) for c in cmd), flush=True)
    proc = subprocess.run(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    if proc.returncode != 0:
        sys.exit(f"error: command failed ({proc.returncode}): {' '.join(cmd)}\n{proc.stderr}")
    return proc.stdout + proc.stderr


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--work", required=True)
    ap.add_argument("--preset", default="small")
    ap.add_argument("--gen", default="", help="extra gen_checkpoint.py options (e.g. \"--layers 4\")")
    ap.add_argument("--forms", default="fakequant,integer,nbits")
    ap.add_argument("--prefill", type=int, default=128)
    ap.add_argument("--repeat", type=int, default=5)
    ap.add_argument("--threads", type=int, default=1)
    ap.add_argument("--seed", type=int, default=7)
    a = ap.parse_args()
    os.makedirs(a.work, exist_ok=True)
    ckpt = os.path.join(a.work, "model")
    if not os.path.exists(os.path.join(ckpt, "config.json")):
        run([PY, os.path.join(MODELS, "gen_checkpoint.py"), ckpt, "--preset", a.preset, "--seed", str(a.seed)]
            + shlex.split(a.gen))
    with open(os.path.join(ckpt, "config.json")) as f:
        cfg = json.load(f)
    layers, vocab = cfg["num_hidden_layers"], cfg["vocab_size"]
    max_seq = str(max(a.prefill, 8))

    st_lib = os.path.join(a.work, "st.so")
    run(["bitnetc", ckpt, "-o", st_lib])
    ids = np.random.default_rng(a.seed).integers(0, vocab, a.prefill)
    ids_path = os.path.join(a.work, "ids.npy")
    np.save(ids_path, ids.reshape(1, -1).astype(np.int64))

    rows = []
    out = run(["bitnet-run", st_lib, "--bench", "--bench-prefill", str(a.prefill), "--bench-decode", "1",
               "--bench-repeat", str(a.repeat), "--threads", str(a.threads), "--json"])
    j = json.loads(out.strip().splitlines()[-1])
    st_median = float(j["prefill"]["median_seconds"])
    rows.append(("safetensors", 7 * layers, st_median))

    for form in [f for f in a.forms.split(",") if f]:
        onnx_path = os.path.join(a.work, f"{form}.onnx")
        run([PY, os.path.join(MODELS, "gen_onnx.py"), ckpt, onnx_path, "--form", form, "--logits", "last"])
        lib = os.path.join(a.work, f"{form}.so")
        run(["bitnetc", onnx_path, "--max-seq", max_seq, "-o", lib])
        bir = os.path.join(a.work, f"{form}.bir")
        run(["bitnetc", onnx_path, "--max-seq", max_seq, "--emit=bir", "-o", bir])
        with open(bir) as f:
            fused = len(re.findall(r" = bitlinear\(", f.read()))
        out = run(["bitnet-run", lib, "--input", f"input_ids={ids_path}", "--bench", "--bench-repeat", str(a.repeat),
                   "--threads", str(a.threads)])
        m = re.search(r"median ([0-9.eE+-]+) s", out)
        if not m:
            sys.exit(f"error: no median in bitnet-run's bench output:\n{out}")
        rows.append((f"onnx {form}", fused, float(m.group(1))))

    print(f"\nprefill of {a.prefill} tokens, {a.threads} thread(s), median of {a.repeat} runs; "
          f"checkpoint {ckpt}: hidden {cfg['hidden_size']}, {layers} layers, ffn {cfg['intermediate_size']}, "
          f"vocab {vocab}")
    print(f"| {'library':<18} | {'bitlinears':>10} | {'median s':>10} | {'tokens/s':>10} | {'vs safetensors':>14} |")
    print(f"|{'-' * 20}|{'-' * 12}|{'-' * 12}|{'-' * 12}|{'-' * 16}|")
    for name, fused, sec in rows:
        print(f"| {name:<18} | {fused:>6} / {7 * layers:<3}| {sec:>10.4f} | {a.prefill / sec:>10.1f} | "
              f"{st_median / sec:>13.3f}x |")


if __name__ == "__main__":
    main()
