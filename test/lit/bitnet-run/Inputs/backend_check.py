"""Compiled code against the reference interpreter on one checkpoint, through every mode that
produces numbers. Tolerances and their derivation: docs/TESTING.md ("Compiled code against the
interpreter").

Backends (--backends, comma-separated):
  so    LIBRARY (from bitnetc) through bitnet-run
  jit   the checkpoint through bitnet-run --backend jit (--jit-args: e.g. "-mcpu=x86-64-v2")
  ext   LIBRARY through a program of its own, --ext "CMD": `CMD IDS OUT [CHUNK]` writes every
        position's logits as raw f32 (test/e2e/Inputs/eval_logits.c, e.g. under qemu-user)

Inputs: --text FILE ([BOS] + the first SEQ-1 ids of the text, the checkpoint's tokenizer) or
--random-tokens SEED ([BOS] + SEQ-1 ids drawn uniformly from the vocabulary).

Checks (--checks, comma-separated; a check a backend cannot run is an error, never skipped):
  logits   every position's logits of one call
  chunk    the same ids through the KV cache, 1 and 5 at a time (prefill, then decode), against
           the interpreter's one-call logits (with --interp-fault: its own run split the same way)
  last     --logits-out without --all-logits: the last row of the backend's one-call logits
  ppl      --perplexity TEXT --ctx 128 --max-tokens 1024
  greedy   -p "Once upon a time" -n 24: the interpreter's text
  sampled  -p ... --temp 0.8 --top-k 40 --top-p 0.9 --seed 5: the interpreter's text

Tolerances (--tolerance):
  exact  (default) logits bit-identical to the interpreter's (0 differing floats), hence the same
         top-1 everywhere, the same perplexity to all printed digits and the same generated text.
         Compiled kernels compute every value with the interpreter's f32 operations, its libm
         functions and its f64 sums in its order; the host's libm is the interpreter's.
  libm   a library whose libm is not the interpreter's (aarch64 glibc under qemu-user): a libm
         result may differ by one ulp, which acts as a rounding difference and may flip an int8
         activation (docs/TESTING.md): every logit within FLIP_TOL_REL L (L = max |logit|), the
         same top-1 wherever the interpreter's top-2 gap exceeds 2 FLIP_TOL_REL L, perplexity
         within PPL_REL_TOL; the number of differing logits is reported (measured: 0). Only
         meaningful on the TRAINED model, where a flip moves the logits by <= 5.9e-3 L.
Prints one PASS/FAIL line per check and backend. Exit status 1 if a check failed; with
--expect-fail CHECKS (a library built with bitnetc --inject-fault), 0 iff every listed check
FAILED on every backend (and every run succeeded); with --interp-fault NAME the interpreter runs
with that fault too, and a library built with it must pass (the kernels' faults are the
interpreter's).
"""
import argparse
import os
import random
import re
import shlex
import subprocess
import sys

import numpy as np

sys.dont_write_bytecode = True  # keep the source tree clean when lit runs us
E2E = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "..", "e2e")
sys.path.insert(0, E2E)
from e2e_check import run  # noqa: E402
from perplexity_check import PPL_REL_TOL  # noqa: E402

# libm mode: flips on the trained model moved its logits by at most 5.9e-3 L (numpy vs
# interpreter, docs/TESTING.md); every injected fault moves them by 0.12 L to 2.3 L.
FLIP_TOL_REL = 2e-2
CHECKS = ["logits", "chunk", "last", "ppl", "greedy", "sampled"]
PROMPT = "Once upon a time"
SAMPLING = ["--temp", "0.8", "--top-k", "40", "--top-p", "0.9", "--seed", "5"]


def compare(ref, got, rows, vocab, tolerance):
    """(ok, detail) for logits got against ref, both [rows, vocab]."""
    if got.size != rows * vocab:
        return False, f"{got.size} floats, expected {rows}x{vocab}"
    if not np.isfinite(got).all():
        return False, f"{int((~np.isfinite(got)).sum())} non-finite logits"
    differ = ref.view(np.uint32) != got.view(np.uint32)
    ref64, got64 = ref.reshape(rows, vocab).astype(np.float64), got.reshape(rows, vocab).astype(np.float64)
    scale = float(np.abs(ref64).max())
    dmax = float(np.abs(ref64 - got64).max()) / scale
    ulps = int(np.abs(ref.view(np.int32).astype(np.int64) - got.view(np.int32).astype(np.int64)).max())
    bound = 0.0 if tolerance == "exact" else FLIP_TOL_REL
    top2 = np.sort(ref64, axis=1)[:, -2:]
    clear = (top2[:, 1] - top2[:, 0]) > 2 * bound * scale
    mism = int((clear & (ref64.argmax(axis=1) != got64.argmax(axis=1))).sum())
    ok = (int(differ.sum()) == 0) if tolerance == "exact" else (dmax <= bound and mism == 0)
    rows_differ = int(differ.reshape(rows, vocab).any(axis=1).sum())
    return ok, (f"{int(differ.sum())} of {rows * vocab} logits differ (in {rows_differ} of {rows} rows; "
                f"max {dmax:.2e} L, {ulps} ulp; L = {scale:.3f}; allowed: "
                f"{'none' if tolerance == 'exact' else f'{FLIP_TOL_REL:.0e} L'}); top-1 differs at {mism} "
                f"of {int(clear.sum())} rows with a clear margin")


class Backend:
    def __init__(self, name, args):
        self.name, self.args = name, args

    def bitnet_run(self, extra, out=None):
        if self.name == "ext":
            sys.exit(f"error: the ext backend only computes logits (checks logits, chunk), not {extra}")
        model, opts = (self.args.library, []) if self.name == "so" else (self.args.model, ["--backend", "jit"])
        if self.name == "jit":
            opts += shlex.split(self.args.jit_args)
        text = run(["bitnet-run", model] + opts + ["--threads", self.args.threads] + extra)
        return np.fromfile(out, dtype="<f4") if out else text

    def logits(self, tokens, out, chunk=0):
        if self.name != "ext":
            return self.bitnet_run(["--tokens", ",".join(map(str, tokens)), "--all-logits", "--logits-out", out]
                                   + (["--chunk", str(chunk)] if chunk else []), out)
        run(shlex.split(self.args.ext) + [",".join(map(str, tokens)), out] + ([str(chunk)] if chunk else []))
        return np.fromfile(out, dtype="<f4")


def interpreter(model, extra, out=None):
    text = run(["bitnet-run"] + model + extra)
    return np.fromfile(out, dtype="<f4") if out else text


def perplexity(text):
    return re.search(r"perplexity: (\S+)", text).group(1)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("model", help="checkpoint folder (interp and jit)")
    ap.add_argument("library", nargs="?", help="the same model compiled by bitnetc (so, ext)")
    ap.add_argument("--work", required=True)
    ap.add_argument("--text", help="text file: the ids of the logits checks, ppl")
    ap.add_argument("--random-tokens", type=int, metavar="SEED", help="random ids instead of --text")
    ap.add_argument("--seq", type=int, default=64)
    ap.add_argument("--backends", default="so,jit")
    ap.add_argument("--threads", default="1")
    ap.add_argument("--jit-args", default="", help="extra bitnet-run options of the jit backend")
    ap.add_argument("--ext", help="the ext backend's command")
    ap.add_argument("--checks", default="logits,chunk,last,ppl,sampled",
                    help="which checks (the JIT compiles the model again for every bitnet-run)")
    ap.add_argument("--tolerance", choices=["exact", "libm"], default="exact")
    ap.add_argument("--expect-fail", default="", help="checks that must FAIL (a library built with --inject-fault)")
    ap.add_argument("--interp-fault", help="run the interpreter with --inject-fault NAME (the reference for a "
                                           "library built with the same fault)")
    args = ap.parse_args()
    os.makedirs(args.work, exist_ok=True)
    checks = args.checks.split(",")
    backends = args.backends.split(",")
    expect_fail = [c for c in args.expect_fail.split(",") if c]
    for c in checks + expect_fail:
        if c not in CHECKS:
            sys.exit(f"error: unknown check '{c}' (known: {', '.join(CHECKS)})")
    for c in expect_fail:
        if c not in checks:
            sys.exit(f"error: --expect-fail {c} is not among --checks")
    if ("so" in backends or "ext" in backends) and not args.library:
        sys.exit("error: the so and ext backends need the LIBRARY argument")
    if "ext" in backends and not args.ext:
        sys.exit("error: the ext backend needs --ext CMD")
    if (args.text is None) == (args.random_tokens is None):
        sys.exit("error: give exactly one of --text and --random-tokens")
    if args.text is None and ("ppl" in checks):
        sys.exit("error: the ppl check needs --text")

    ir = run(["bitnet-opt", args.model])
    bos = int(re.search(r"bos_token_id\s*=\s*(\d+)", ir).group(1))
    if args.text:
        ids = [int(t) for t in re.findall(r"-?\d+", run(["bitnet-tokenize", args.model, "--file", args.text, "--ids-only"]))]
    else:
        vocab = int(re.search(r"vocab_size\s*=\s*(\d+)", ir).group(1))
        rng = random.Random(args.random_tokens)
        ids = [rng.randrange(vocab) for _ in range(args.seq - 1)]
    tokens = [bos] + ids[:args.seq - 1]
    rows = len(tokens)
    ppl_args = ["--perplexity", args.text or "", "--ctx", "128", "--max-tokens", "1024"]

    interp_model = [args.model] + (["--inject-fault", args.interp_fault] if args.interp_fault else [])
    ref = interpreter(interp_model, ["--tokens", ",".join(map(str, tokens)), "--all-logits", "--logits-out",
                                   f"{args.work}/interp.bin"], f"{args.work}/interp.bin")
    vocab = ref.size // rows
    ref_ppl = perplexity(interpreter(interp_model, ppl_args)) if "ppl" in checks else None
    ref_greedy = interpreter(interp_model, ["-p", PROMPT, "-n", "24"]) if "greedy" in checks else None
    ref_sampled = interpreter(interp_model, ["-p", PROMPT, "-n", "12"] + SAMPLING) if "sampled" in checks else None
    results = {}

    def record(name, backend, ok, detail):
        print(f"{backend} {name}: {'PASS' if ok else 'FAIL'}: {detail}")
        results.setdefault(name, []).append(ok)

    for name in backends:
        b = Backend(name, args)
        w = f"{args.work}/{name}"
        full = b.logits(tokens, w + ".bin")
        record("logits", name, *compare(ref, full, rows, vocab, args.tolerance))
        for n in (1, 5) if "chunk" in checks else ():
            got = b.logits(tokens, f"{w}.chunk{n}.bin", n)
            # A fault may make the interpreter's results depend on the split into calls.
            want = ref if not args.interp_fault else interpreter(
                interp_model, ["--tokens", ",".join(map(str, tokens)), "--all-logits", "--chunk", str(n),
                               "--logits-out", f"{args.work}/interp.chunk{n}.bin"], f"{args.work}/interp.chunk{n}.bin")
            ok, detail = compare(want, got, rows, vocab, args.tolerance)
            record("chunk", name, ok, f"{n} at a time: {detail}")
        if "last" in checks:
            last = b.bitnet_run(["--tokens", ",".join(map(str, tokens)), "--logits-out", w + ".last.bin"], w + ".last.bin")
            same = last.size == vocab and np.array_equal(last.view(np.uint32), full[-vocab:].view(np.uint32))
            record("last", name, same, "the last row of --all-logits, bit for bit" if same else "differs")
        if "ppl" in checks:
            ppl = perplexity(b.bitnet_run(ppl_args))
            rel = abs(float(ppl) / float(ref_ppl) - 1)
            ok = ppl == ref_ppl if args.tolerance == "exact" else rel <= PPL_REL_TOL
            record("ppl", name, ok, f"{ppl} vs interpreter {ref_ppl}: {rel:.1e} relative (allowed: "
                   f"{'the same digits' if args.tolerance == 'exact' else f'{PPL_REL_TOL:.0e}'})")
        if "greedy" in checks:
            text = b.bitnet_run(["-p", PROMPT, "-n", "24"])
            record("greedy", name, text == ref_greedy and text.startswith(PROMPT),
                   "the interpreter's 24 greedy tokens" if text == ref_greedy else f"{text!r} vs interpreter {ref_greedy!r}")
        if "sampled" in checks:
            text = b.bitnet_run(["-p", PROMPT, "-n", "12"] + SAMPLING)
            record("sampled", name, text == ref_sampled and text.startswith(PROMPT),
                   "the interpreter's text for the same seed" if text == ref_sampled
                   else f"{text!r} vs interpreter {ref_sampled!r}")

    failed = sorted(c for c, oks in results.items() if not all(oks))
    if expect_fail:
        missed = [c for c in expect_fail if any(results[c])]
        if missed:
            print(f"NOT CAUGHT: {', '.join(missed)} passed on some backend")
            return 1
        print(f"fault caught by: {', '.join(expect_fail)}")
        return 0
    if failed:
        print("FAILED: " + ", ".join(failed))
        return 1
    print("all checks passed")
    return 0


if __name__ == "__main__":
    sys.exit(main())
