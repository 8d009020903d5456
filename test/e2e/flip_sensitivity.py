"""Measures how far ONE int8 rounding flip (q +-1 in one element of one bitlinear input) moves the
logits, in the numpy reference alone. Two facts of the e2e tolerances rest on it (docs/TESTING.md):
- the effect is far above float rounding (median ~1e-3 L vs ~1e-6 L), so rows with a legitimate
  flip cannot share the rounding bound: e2e_check.py bounds them through the forced check;
- ROUNDING_TOL_REL is finer than one int8 unit: checked here, the median single-flip effect must
  be >= 5x ROUNDING_TOL_REL, so the clean-row and forced checks see a single wrong int8 value."""
import argparse
import os
import sys

import numpy as np

sys.dont_write_bytecode = True  # keep the source tree clean when lit runs us
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import bitnet_ref  # noqa: E402
from e2e_check import ROUNDING_TOL_REL  # noqa: E402

# How many times finer than one int8 unit the rounding bound must be.
RESOLUTION = 5

# Projections that own an act_quant; the others read the same int8 tensor.
SHARERS = {"self_attn.q_proj": ("self_attn.q_proj", "self_attn.k_proj", "self_attn.v_proj"),
           "self_attn.o_proj": ("self_attn.o_proj",),
           "mlp.gate_proj": ("mlp.gate_proj", "mlp.up_proj"),
           "mlp.down_proj": ("mlp.down_proj",)}


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("model")
    ap.add_argument("--seq", type=int, default=24)
    ap.add_argument("--trials", type=int, default=100)
    ap.add_argument("--seed", type=int, default=0)
    args = ap.parse_args()
    ref = bitnet_ref.BitNetModel(args.model)
    rng = np.random.default_rng(args.seed)
    tokens = rng.integers(0, ref.vocab, args.seq).tolist()
    record = {}
    base = ref.forward(tokens, record=record)
    scale = float(np.abs(base).max())
    own = {name: r["q"] for name, r in record.items()}
    effects = []
    for _ in range(args.trials):
        layer = int(rng.integers(ref.layers))
        owner = list(SHARERS)[int(rng.integers(len(SHARERS)))]
        q = own[f"model.layers.{layer}.{owner}"].copy()
        t, k = int(rng.integers(q.shape[0])), int(rng.integers(q.shape[1]))
        q[t, k] += -1 if q[t, k] == 127 else 1 if q[t, k] == -128 else int(rng.choice([-1, 1]))
        force = dict(own)
        for sharer in SHARERS[owner]:
            force[f"model.layers.{layer}.{sharer}"] = q
        effects.append(float(np.abs(ref.forward(tokens, force_q=force) - base).max()) / scale)
    effects = np.array(effects)
    worst = float(effects.max())
    print(f"one int8 flip moves the logits by: median {np.median(effects):.2e} L, "
          f"99th percentile {np.quantile(effects, 0.99):.2e} L, max {worst:.2e} L "
          f"({args.trials} random flips, L = {scale:.3f})")
    median = float(np.median(effects))
    seen = float((effects > ROUNDING_TOL_REL).mean())
    ok = median >= RESOLUTION * ROUNDING_TOL_REL
    print(f"rounding bound {ROUNDING_TOL_REL:.0e} L: median flip effect is {median / ROUNDING_TOL_REL:.0f}x "
          f"the bound (required >= {RESOLUTION}x); {100 * seen:.0f}% of single flips exceed it")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
