"""bitnet-run on a compiled backend (so: a library from bitnetc; jit) against the interpreter on
one checkpoint, through every bitnet-run mode that produces numbers:

  logits   --tokens [BOS] + the first SEQ-1 ids of TEXT, --all-logits, one call
  chunk    the same through the KV cache: --chunk 1 (decode only) and --chunk 5 (short prefills)
  last     --logits-out without --all-logits: the last row of the one-call logits, bit for bit
  ppl      --perplexity TEXT --ctx 128 --max-tokens 1024
  sampled  -p with --temp/--top-k/--top-p/--seed: the same text twice

Tolerances, from the e2e tests (test/e2e/e2e_check.py and perplexity_check.py, derived in
docs/TESTING.md). A compiled backend sums floats in f32 where the interpreter uses f64, so as numpy
against the interpreter it may round an act_quant input to the neighbouring int8 value at a
near-tie (a "flip"), and rows from the first flip on differ by more than float rounding. Without
the backend's int8 values the rows cannot be classified as e2e_check does, so on a TRAINED model:
  - every row within FLIP_TOL_REL = 2e-2 L of the interpreter's (L = max |logit|): flips moved
    the bundled model's logits by at most 5.9e-3 L (numpy vs interpreter, docs/TESTING.md), while
    every injected fault moves them by 0.12 L to 2.3 L;
  - the same top-1 wherever the interpreter's top-2 gap exceeds 2 x FLIP_TOL_REL L;
  - the rows before the first flip agree to float rounding, ROUNDING_TOL_REL = 1e-4 L: reported;
  - perplexity within PPL_REL_TOL = 1e-3 relative.
Prints one PASS/FAIL line per check and backend; exits 1 if any failed.
"""
import argparse
import os
import re
import subprocess
import sys

import numpy as np

sys.dont_write_bytecode = True  # keep the source tree clean when lit runs us
E2E = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "..", "e2e")
sys.path.insert(0, E2E)
from e2e_check import ROUNDING_TOL_REL, run  # noqa: E402
from perplexity_check import PPL_REL_TOL  # noqa: E402

FLIP_TOL_REL = 2e-2


def bitnet_run(model, args, out=None):
    text = run(["bitnet-run", model] + args)
    return np.fromfile(out, dtype="<f4") if out else text


def compare(ref, got, rows, vocab):
    """(ok, detail) for got against ref, both [rows, vocab]."""
    if got.size != rows * vocab:
        return False, f"{got.size} floats, expected {rows}x{vocab}"
    if not np.isfinite(got).all():
        return False, f"{int((~np.isfinite(got)).sum())} non-finite logits"
    ref, got = ref.reshape(rows, vocab).astype(np.float64), got.reshape(rows, vocab).astype(np.float64)
    scale = float(np.abs(ref).max())
    diff = np.abs(ref - got).max(axis=1) / scale
    over = np.nonzero(diff > ROUNDING_TOL_REL)[0]
    clean = int(over[0]) if over.size else rows
    top2 = np.sort(ref, axis=1)[:, -2:]
    clear = (top2[:, 1] - top2[:, 0]) > 2 * FLIP_TOL_REL * scale
    mism = int((clear & (ref.argmax(axis=1) != got.argmax(axis=1))).sum())
    ok = float(diff.max()) <= FLIP_TOL_REL and mism == 0
    return ok, (f"max |dlogit| {diff.max():.2e} L (allowed {FLIP_TOL_REL:.0e} L, L = {scale:.3f}); "
                f"first {clean} of {rows} rows within {ROUNDING_TOL_REL:.0e} L; top-1 differs at {mism} "
                f"of {int(clear.sum())} clear rows")


def perplexity(model, args):
    out = bitnet_run(model, args)
    return float(re.search(r"perplexity: (\S+)", out).group(1))


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("model", help="checkpoint folder (interp and jit)")
    ap.add_argument("library", help="the same model compiled by bitnetc (so)")
    ap.add_argument("--work", required=True)
    ap.add_argument("--text", required=True)
    ap.add_argument("--seq", type=int, default=64)
    ap.add_argument("--backends", default="so,jit")
    ap.add_argument("--threads", default="1")
    ap.add_argument("--checks", default="logits,chunk,last,ppl,sampled",
                    help="which checks (the JIT compiles the model again for every bitnet-run)")
    args = ap.parse_args()
    os.makedirs(args.work, exist_ok=True)

    ids = [int(t) for t in re.findall(r"-?\d+", run(["bitnet-tokenize", args.model, "--file", args.text, "--ids-only"]))]
    bos = int(re.search(r"bos_token_id\s*=\s*(\d+)", run(["bitnet-opt", args.model])).group(1))
    tokens = ",".join(map(str, [bos] + ids[:args.seq - 1]))
    rows = min(args.seq, len(ids) + 1)
    ppl_args = ["--perplexity", args.text, "--ctx", "128", "--max-tokens", "1024"]

    ref = bitnet_run(args.model, ["--tokens", tokens, "--all-logits", "--logits-out", f"{args.work}/interp.bin"],
                     f"{args.work}/interp.bin")
    vocab = ref.size // rows
    ref_ppl = perplexity(args.model, ppl_args)
    failed = []

    def record(name, ok, detail):
        print(f"{name}: {'PASS' if ok else 'FAIL'}: {detail}")
        if not ok:
            failed.append(name)

    checks = args.checks.split(",")
    for backend in args.backends.split(","):
        model, extra = (args.library, []) if backend == "so" else (args.model, ["--backend", "jit"])
        extra += ["--threads", args.threads]
        w = f"{args.work}/{backend}"
        full = bitnet_run(model, extra + ["--tokens", tokens, "--all-logits", "--logits-out", w + ".bin"], w + ".bin")
        record(f"{backend} logits", *compare(ref, full, rows, vocab))
        for n in (1, 5) if "chunk" in checks else ():
            got = bitnet_run(model, extra + ["--tokens", tokens, "--all-logits", "--chunk", str(n),
                                             "--logits-out", f"{w}.chunk{n}.bin"], f"{w}.chunk{n}.bin")
            record(f"{backend} chunk {n}", *compare(ref, got, rows, vocab))
        if "last" in checks:
            last = bitnet_run(model, extra + ["--tokens", tokens, "--logits-out", w + ".last.bin"], w + ".last.bin")
            same = last.size == vocab and np.array_equal(last.view(np.uint32), full[-vocab:].view(np.uint32))
            record(f"{backend} last", same, "the last row of --all-logits, bit for bit" if same else "differs")
        if "ppl" in checks:
            ppl = perplexity(model, extra + ppl_args)
            rel = abs(ppl / ref_ppl - 1)
            record(f"{backend} ppl", rel <= PPL_REL_TOL,
                   f"{ppl:.6f} vs interpreter {ref_ppl:.6f}: {rel:.1e} relative (allowed {PPL_REL_TOL:.0e})")
        if "sampled" in checks:
            sample = extra + ["-p", "Once upon a time", "-n", "12", "--temp", "0.8", "--top-k", "40", "--top-p",
                              "0.9", "--seed", "5"]
            a, b = bitnet_run(model, sample), bitnet_run(model, sample)
            record(f"{backend} sampled", a == b and a.startswith("Once upon a time"),
                   "the same text for the same seed" if a == b else f"{a!r} vs {b!r}")
    if failed:
        print("FAILED: " + ", ".join(failed))
        return 1
    print("all checks passed")
    return 0


if __name__ == "__main__":
    sys.exit(main())
