"""Perplexity of a model on a text: `bitnet-run --perplexity` (the interpreter) vs the numpy
reference, which computes every log-probability itself from its own forward pass.

Protocol (the one the bundled model was trained and evaluated with, test/models/train/train.py):
the text's token ids (no BOS) are cut into consecutive windows of --ctx tokens; each window w is
predicted from [BOS] + w[:-1]; perplexity = exp(mean NLL over all predicted tokens).
Token ids come from `bitnet-tokenize MODEL --file F --ids-only` (the same tokenizer bitnet-run
uses), so both sides score the same ids.
"""
import argparse
import math
import os
import re
import subprocess
import sys

import numpy as np

sys.dont_write_bytecode = True  # keep the source tree clean when lit runs us
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import bitnet_ref  # noqa: E402

# Per-token NLL differences come from logit differences (|dNLL| <= 2 max|dlogit|); measured on the
# bundled model they are ~1e-5 nats on average, so 1e-3 relative on perplexity (= 1e-3 nats of
# mean NLL) is ~100x the measured gap, while a semantic fault moves it by whole percents.
PPL_REL_TOL = 1e-3


def run(cmd):
    proc = subprocess.run(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    if proc.returncode != 0:
        sys.exit(f"error: command failed ({proc.returncode}): {' '.join(cmd)}\n{proc.stderr}")
    return proc.stdout


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("model")
    ap.add_argument("text")
    ap.add_argument("--ctx", type=int, default=128)
    ap.add_argument("--max-tokens", type=int, default=0, help="score only the first M tokens")
    ap.add_argument("--second-ref", help="also score the ids with this reference_eval.py (the trainer's own "
                    "numpy evaluator) and require it to agree with bitnet_ref.py")
    ap.add_argument("--inject-fault")
    ap.add_argument("--expect-fail", action="store_true")
    args = ap.parse_args()

    ids = [int(t) for t in re.findall(r"-?\d+", run(["bitnet-tokenize", args.model, "--file", args.text, "--ids-only"]))]
    if args.max_tokens:
        ids = ids[:args.max_tokens]
    cmd = ["bitnet-run", args.model, "--perplexity", args.text, "--ctx", str(args.ctx)]
    if args.max_tokens:
        cmd += ["--max-tokens", str(args.max_tokens)]
    if args.inject_fault:
        cmd += ["--inject-fault", args.inject_fault]
    lines = run(cmd).strip().splitlines()
    m = re.fullmatch(r"perplexity: (\S+)", lines[-1].strip()) if lines else None
    if not m:
        sys.exit(f"error: last line of bitnet-run --perplexity is not 'perplexity: X': {lines[-1:]}")
    theirs = float(m.group(1))
    counted = [l for l in lines if l.startswith("tokens: ")]
    if not counted or int(counted[-1].split()[1]) != len(ids):
        sys.exit(f"error: bitnet-run scored {counted[-1:]} tokens, bitnet-tokenize gave {len(ids)}")

    ref = bitnet_ref.BitNetModel(args.model)
    bos = ref.config.get("bos_token_id")
    if bos is None:
        sys.exit("error: config.json has no bos_token_id")
    total, count = 0.0, 0
    for start in range(0, len(ids), args.ctx):
        window = ids[start:start + args.ctx]
        logits = ref.forward([bos] + window[:-1])
        total += bitnet_ref.mean_nll(logits, np.array(window)) * len(window)
        count += len(window)
    mine = math.exp(total / count)
    ratio = theirs / mine
    ok = abs(ratio - 1) <= PPL_REL_TOL
    print(f"{count} tokens in windows of {args.ctx}: perplexity interpreter {theirs:.6f}, numpy "
          f"{mine:.6f}, ratio - 1 = {ratio - 1:+.2e} (allowed +-{PPL_REL_TOL:.0e}): "
          f"{'PASS' if ok else 'FAIL'}" + (f" [FAULT {args.inject_fault}]" if args.inject_fault else ""))
    if args.second_ref:
        # Two numpy implementations written apart (same float32 arithmetic, different code).
        sys.path.insert(0, os.path.dirname(os.path.abspath(args.second_ref)))
        import reference_eval  # noqa: E402
        from bpe import Tokenizer  # noqa: E402  (the trainer's Python encoder, next to reference_eval.py)
        # Both sides must score the same ids: compare bitnet-tokenize with the Python encoder.
        with open(args.text, encoding="utf-8", newline="") as f:
            py_ids = Tokenizer(os.path.join(args.model, "tokenizer.json")).encode(f.read())
        if args.max_tokens:
            py_ids = py_ids[:args.max_tokens]
        if py_ids != ids:
            sys.exit(f"error: bitnet-tokenize and {os.path.dirname(args.second_ref)}/bpe.py disagree on the ids")
        print(f"bitnet-tokenize ids == bpe.py ids ({len(ids)})")
        other = reference_eval.Model(args.model)
        nll2 = 0.0
        for start in range(0, len(ids), args.ctx):
            window = ids[start:start + args.ctx]
            nll2 += bitnet_ref.mean_nll(other.logits([bos] + window[:-1]), np.array(window)) * len(window)
        second = math.exp(nll2 / count)
        ok2 = abs(second / mine - 1) <= PPL_REL_TOL
        print(f"second reference {args.second_ref}: perplexity {second:.6f}, vs numpy ratio - 1 = "
              f"{second / mine - 1:+.2e}: {'PASS' if ok2 else 'FAIL'}")
    else:
        ok2 = True
    if args.expect_fail:  # the interpreter must be caught; the references must still agree
        return 0 if not ok and ok2 else 1
    return 0 if ok and ok2 else 1


if __name__ == "__main__":
    sys.exit(main())
