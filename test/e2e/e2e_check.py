"""Compares the reference interpreter (through `bitnet-run`) with the numpy reference bitnet_ref.py
on one checkpoint folder. Tolerances and their derivation: docs/TESTING.md ("e2e numerics").

Checks (select with --checks, default all):
  exact   per bitlinear: numpy int accumulators of the interpreter's own int8 input == its .acc.npy
  qagree  per bitlinear: numpy's own int8 input vs the interpreter's: |dq| <= 1 and few flips
  logits  numpy vs interpreter logits, all positions: top-1 where the margin is clear, max |diff|
  forced  numpy run with the interpreter's int8 inputs substituted: logits agree to fp rounding
  chunk   --chunk 1 and --chunk 3 (prefill-then-decode through the KV cache) == one call, bitwise

--inject-fault NAME runs the interpreter with a deliberate bug; --expect-fail CHECKS then requires
each listed check to FAIL (and bitnet-run to succeed): the proof that the checks are sharp.
"""
import argparse
import os
import re
import subprocess
import sys

import numpy as np

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import bitnet_ref  # noqa: E402

# --- Tolerances (derived in docs/TESTING.md; L = max |logit| of the numpy reference) -----------
# Rounding to int8 turns a last-ulp difference of x*s into a one-unit q difference ("flip") when
# x*s lies within ~1e-5 of a .5 boundary: measured ~1e-4 of all elements or less.
QFLIP_FRACTION_MAX = 2e-3
# One flip moves the logits by up to ~7e-3 L on random models (median ~1e-3 L; measured by
# flip_sensitivity.py, which also asserts that this bound admits 5 worst-case flips at once),
# while every injected semantic fault moves them by >= 0.3 L (docs/TESTING.md): 5e-2 L sits
# between the two with a margin of ~6x on either side.
LOGIT_ABS_TOL_REL = 5e-2
# Top-1 must agree where numpy's top-2 gap exceeds twice the logit bound: then no admissible
# difference (<= tol on each of the two logits) can swap them.
TOP1_MARGIN_REL = 2 * LOGIT_ABS_TOL_REL
# With identical int8 inputs, the only differences left are f32 vs f64 summation and the order of
# float ops (~1e-6 relative per op, through ~10 ops per layer): 1e-4 L is ~100x the measured value.
FORCED_ABS_TOL_REL = 1e-4

BITLINEAR_RE = re.compile(
    r"%([^\s,()]+)\s*=\s*bitlinear\(\s*%([^\s,()]+)\s*,\s*%([^\s,()]+)\s*,\s*@([^\s,()]+)\s*\)")
PROJ_RE = re.compile(r"layers\.(\d+)\.(self_attn|mlp)\.(\w+_proj)")


def run(cmd):
    proc = subprocess.run(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    if proc.returncode != 0:
        sys.exit(f"error: command failed ({proc.returncode}): {' '.join(cmd)}\n{proc.stderr}")
    return proc.stdout


def bitlinears_of(model_dir):
    """[(result name, q name, s name, reference projection name)] from the printed IR."""
    text = run(["bitnet-opt", model_dir])
    found = []
    for m in BITLINEAR_RE.finditer(text):
        p = PROJ_RE.search(m.group(4))
        if not p:
            sys.exit(f"error: bitlinear weight @{m.group(4)} names no known projection")
        found.append((m.group(1), m.group(2), m.group(3), f"model.layers.{p.group(1)}.{p.group(2)}.{p.group(3)}"))
    if not found:
        sys.exit("error: no bitlinear op in the printed IR of " + model_dir)
    return found


def run_interpreter(model_dir, tokens, out, fault, extra):
    cmd = ["bitnet-run", model_dir, "--tokens", ",".join(map(str, tokens)),
           "--logits-out", out, "--all-logits"] + extra
    if fault:
        cmd += ["--inject-fault", fault]
    run(cmd)
    return np.fromfile(out, dtype="<f4")


class Checks:
    def __init__(self):
        self.results = {}

    def record(self, name, ok, detail):
        self.results[name] = ok
        print(f"{name}: {'PASS' if ok else 'FAIL'}: {detail}")


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("model")
    ap.add_argument("--work", required=True, help="scratch folder for dumps and logits")
    ap.add_argument("--seq", type=int, default=24)
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--tokens", help="comma-separated ids (default: random, from --seed)")
    ap.add_argument("--text", help="use [BOS] + the first --seq - 1 ids of this text (bitnet-tokenize)")
    ap.add_argument("--checks", default="exact,qagree,logits,forced,chunk")
    ap.add_argument("--inject-fault")
    ap.add_argument("--expect-fail", default="", help="checks that must FAIL (with --inject-fault)")
    args = ap.parse_args()
    checks = args.checks.split(",")
    expect_fail = [c for c in args.expect_fail.split(",") if c]
    if expect_fail and not args.inject_fault:
        sys.exit("error: --expect-fail needs --inject-fault")
    for c in expect_fail:
        if c not in checks:
            sys.exit(f"error: --expect-fail {c} is not among --checks")

    ref = bitnet_ref.BitNetModel(args.model)
    if args.tokens:
        tokens = [int(t) for t in args.tokens.split(",")]
    elif args.text:
        ids = re.findall(r"-?\d+", run(["bitnet-tokenize", args.model, "--file", args.text, "--ids-only"]))
        tokens = [int(ref.config["bos_token_id"])] + [int(t) for t in ids[:args.seq - 1]]
    else:
        tokens = np.random.default_rng(args.seed).integers(0, ref.vocab, args.seq).tolist()
    seq, vocab = len(tokens), ref.vocab
    os.makedirs(args.work, exist_ok=True)
    dump = os.path.join(args.work, "dump")
    os.makedirs(dump, exist_ok=True)
    for f in os.listdir(dump):
        os.remove(os.path.join(dump, f))

    print(f"model {args.model}: hidden {ref.hidden} ffn {ref.ffn} layers {ref.layers} heads "
          f"{ref.heads}/{ref.kv_heads} head_dim {ref.head_dim} vocab {vocab} act {ref.act} "
          f"rule {'absmean-latent' if ref.uses_latent else ref.packed_rule}; {seq} tokens"
          + (f"; FAULT {args.inject_fault}" if args.inject_fault else ""))
    interp = run_interpreter(args.model, tokens, os.path.join(args.work, "logits.bin"),
                             args.inject_fault, ["--dump-values", dump])
    if interp.size != seq * vocab:
        sys.exit(f"error: bitnet-run wrote {interp.size} floats, expected {seq}x{vocab}")
    interp = interp.reshape(seq, vocab)

    record = {}
    mine = ref.forward(tokens, record=record)
    scale = float(np.abs(mine).max())
    out = Checks()

    lins = bitlinears_of(args.model) if {"exact", "qagree", "forced"} & set(checks) else []
    their_q = {}
    if lins:
        if len(lins) != 7 * ref.layers:
            sys.exit(f"error: {len(lins)} bitlinear ops in the IR, expected {7 * ref.layers}")
        for res, qn, _sn, proj in lins:
            their_q[proj] = np.load(os.path.join(dump, qn + ".npy"))
            if their_q[proj].dtype != np.int8 or their_q[proj].shape != record[proj]["q"].shape:
                sys.exit(f"error: {qn}.npy is {their_q[proj].dtype} {their_q[proj].shape}, "
                         f"expected int8 {record[proj]['q'].shape}")

    if "exact" in checks:
        # Integer products are exact in both: any difference is a wrong weight or a wrong kernel.
        bad = []
        for res, qn, _sn, proj in lins:
            acc = np.load(os.path.join(dump, res + ".acc.npy"))
            layer = int(PROJ_RE.search(proj).group(1))
            lin = ref.blocks[layer][proj.split(".", 3)[3]]
            want = lin.accumulate(their_q[proj])
            if acc.dtype != np.int32 or acc.shape != want.shape or not np.array_equal(acc.astype(np.int64), want):
                n = int((acc.astype(np.int64) != want).sum()) if acc.shape == want.shape else -1
                bad.append(f"{proj} ({n} differ)")
        out.record("exact", not bad, f"{len(lins)} bitlinears, {len(bad)} with differing accumulators"
                   + (": " + ", ".join(bad[:4]) if bad else ""))

    if "qagree" in checks:
        flips = total = 0
        worst = 0
        for proj, q in their_q.items():
            if proj.endswith(("k_proj", "v_proj", "up_proj")):
                continue  # shares its act_quant with q_proj / gate_proj
            d = np.abs(q.astype(np.int32) - record[proj]["q"].astype(np.int32))
            flips += int((d != 0).sum())
            total += d.size
            worst = max(worst, int(d.max()))
        frac = flips / total
        out.record("qagree", worst <= 1 and frac <= QFLIP_FRACTION_MAX,
                   f"{flips} of {total} int8 inputs differ (fraction {frac:.2e}, max allowed "
                   f"{QFLIP_FRACTION_MAX:.0e}), max |dq| {worst} (allowed 1)")

    if "logits" in checks:
        diff = np.abs(interp.astype(np.float64) - mine)
        maxdiff = float(diff.max()) if np.isfinite(interp).all() else float("inf")
        top2 = np.sort(mine, axis=1)[:, -2:]
        clear = (top2[:, 1] - top2[:, 0]) > TOP1_MARGIN_REL * scale
        same = mine.argmax(axis=1) == interp.argmax(axis=1)
        mism = int((clear & ~same).sum())
        ok = maxdiff <= LOGIT_ABS_TOL_REL * scale and mism == 0
        out.record("logits", ok,
                   f"max |dlogit| {maxdiff:.3e} = {maxdiff / scale:.2e} L (allowed {LOGIT_ABS_TOL_REL:.0e} L, "
                   f"L = {scale:.3f}); top-1 differs at {mism} of {int(clear.sum())} clear positions "
                   f"({int((~same).sum())} of {seq} overall)")

    if "forced" in checks:
        forced = ref.forward(tokens, force_q=their_q)
        fdiff = float(np.abs(interp.astype(np.float64) - forced).max()) if np.isfinite(interp).all() else float("inf")
        out.record("forced", fdiff <= FORCED_ABS_TOL_REL * scale,
                   f"with the interpreter's int8 inputs: max |dlogit| {fdiff:.3e} = {fdiff / scale:.2e} L "
                   f"(allowed {FORCED_ABS_TOL_REL:.0e} L)")

    if "chunk" in checks:
        # The interpreter computes each row with the same loops whatever the call split, so
        # prefill-then-decode must reproduce the one-call logits bit for bit.
        details, ok = [], True
        for n in (1, 3):
            got = run_interpreter(args.model, tokens, os.path.join(args.work, f"chunk{n}.bin"),
                                  args.inject_fault, ["--chunk", str(n)])
            same = got.size == interp.size and np.array_equal(got.view(np.uint32), interp.reshape(-1).view(np.uint32))
            ok &= same
            details.append(f"--chunk {n}: " + ("bit-identical" if same else
                           f"differs (max {np.abs(got - interp.reshape(-1)).max() if got.size == interp.size else 'size'})"))
        out.record("chunk", ok, "; ".join(details))

    if expect_fail:
        missed = [c for c in expect_fail if out.results.get(c, True)]
        if missed:
            print(f"SHARPNESS FAILURE: fault {args.inject_fault} was not caught by: {', '.join(missed)}")
            return 1
        print(f"fault {args.inject_fault} caught by: {', '.join(expect_fail)}")
        return 0
    failed = [c for c, ok in out.results.items() if not ok]
    if failed:
        print("FAILED: " + ", ".join(failed))
        return 1
    print("all checks passed")
    return 0


if __name__ == "__main__":
    sys.exit(main())
