"""Checks the ONNX form of a BitNet checkpoint (test/models/gen_onnx.py) against the numpy
reference of the checkpoint (bitnet_ref.py) and, when given, bitnetc's libraries of both.

    onnx_check.py CHECKPOINT MODEL.onnx --work DIR [--seq N] [--seed S | --tokens ... | --text FILE]
        [--ort] [--compiled LIB [--compiled-probe [--bitnetc-args "..."]]] [--safetensors-lib LIB]
        [--same-weights exact|flips]

Sources of logits (each a [seq, vocab] matrix for one fresh sequence):
  ort       ONNX Runtime (test/peers/ort_run.mjs) on an instrumented copy of MODEL.onnx whose
            activation quantizations (every Clip(-128, 127) fed by a Round, in graph order: the
            projections q, k, v, o, gate, up, down of each layer) are extra outputs: ORT's int8
            values, so its rounding flips can be told from errors.
  compiled  LIB = bitnetc MODEL.onnx -o LIB, run through bitnet-run's named-tensor interface
            (--input input_ids=ids.npy --output-dir); with --compiled-probe the int8 values come
            from bitnetc's library of the instrumented model (the same probes as ORT's), whose
            logits must equal the plain library's bit for bit (the probes change nothing else).
  safetensors-lib  LIB = bitnetc CHECKPOINT -o LIB (bitnet-run --tokens --all-logits).

Checks, per source that has int8 values (the flip-tolerant comparison of e2e_check.py, same
tolerances, derived in docs/TESTING.md): qagree (every row whose int8 inputs differ from numpy's
first differs by +-1 at a near-tie, or after an earlier row's difference), logits (rows before
the first divergence within ROUNDING_TOL_REL L, same top-1 where clear), forced (numpy rerun
with the source's int8 values: every row within ROUNDING_TOL_REL L).
same-weights: the compiled ONNX library against the safetensors library of the same weights:
exact = every logit bit-identical; flips = report the count of differing logits and max |d| / L,
and rely on the compiled checks against numpy (needs --compiled-probe; the safetensors library
is bit-identical to the interpreter, which e2e_check.py holds to numpy the same way).
Prints one PASS/FAIL line per check; exit status 1 if any failed. With --expect-fail CHECKS
(a model written with gen_onnx.py --fault), 0 iff every listed check (e.g. "ort logits") FAILED.
"""
import argparse
import os
import re
import shlex
import subprocess
import sys

import numpy as np

sys.dont_write_bytecode = True  # keep the source tree clean when lit runs us
HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
import bitnet_ref  # noqa: E402
from e2e_check import NEAR_TIE, ROUNDING_TOL_REL, TOP1_MARGIN_REL, Checks, run  # noqa: E402

PEERS = os.path.join(HERE, "..", "peers")
# One act_quant per group of projections reading the same activation.
GROUPS = [("self_attn.q_proj", "self_attn.k_proj", "self_attn.v_proj"), ("self_attn.o_proj",),
          ("mlp.gate_proj", "mlp.up_proj"), ("mlp.down_proj",)]


def write_ids(path, tokens):
    np.save(path, np.asarray([tokens], dtype=np.int64))


# --- ONNX Runtime -----------------------------------------------------------------------------

def constant_value(graph, name):
    """Scalar value of an initializer or Constant node output (through Cast/Identity), else None."""
    from onnx import numpy_helper
    for t in graph.initializer:
        if t.name == name:
            return float(numpy_helper.to_array(t).reshape(-1)[0])
    for n in graph.node:
        if name not in n.output:
            continue
        if n.op_type in ("Cast", "Identity"):
            return constant_value(graph, n.input[0])
        if n.op_type != "Constant":
            return None
        for a in n.attribute:
            if a.name == "value":
                return float(numpy_helper.to_array(a.t).reshape(-1)[0])
            if a.name == "value_float":
                return float(a.f)
            if a.name == "value_int":
                return float(a.i)
    return None


def instrument(model_path, out_path):
    """Copy of the model with each activation quantization's int8 values (as floats) as extra
    outputs q.0, q.1, ... in graph order. External data stays where it is (same folder)."""
    import onnx
    from onnx import helper, TensorProto
    m = onnx.load(model_path, load_external_data=False)
    g = m.graph
    producer = {o: n for n in g.node for o in n.output}
    found = []
    for n in g.node:
        if n.op_type != "Clip" or len(n.input) < 3:
            continue
        src = producer.get(n.input[0])
        if src is None or src.op_type != "Round":
            continue
        if constant_value(g, n.input[1]) == -128.0 and constant_value(g, n.input[2]) == 127.0:
            found.append(n.output[0])
    for i, name in enumerate(found):
        g.node.append(helper.make_node("Identity", [name], [f"q.{i}"], name=f"bitnetc_probe_{i}"))
        g.output.append(helper.make_tensor_value_info(f"q.{i}", TensorProto.FLOAT, None))
    if os.path.dirname(os.path.abspath(out_path)) != os.path.dirname(os.path.abspath(model_path)):
        sys.exit("error: the instrumented copy must sit beside the model (external data paths)")
    onnx.save_model(m, out_path)
    return len(found)


def probe_path(model, tag):
    return os.path.join(os.path.dirname(os.path.abspath(model)), f"{tag}_probe." + os.path.basename(model))


def read_probes(outdir, n, tokens, layers, who):
    """(q per projection name, None) from q.0 ... q.{n-1}.npy, or (None, why not)."""
    # torch.onnx's CSE may merge the identical chains of q/k/v and gate/up: 4 a layer, else 7.
    # Any other count: the logits are still compared, the int8 values are not known.
    if n not in (4 * layers, 7 * layers):
        return None, (f"{n} activation quantizations (Clip(-128, 127) after Round) in the graph, "
                      f"expected {4 * layers} or {7 * layers}")
    qs = [np.load(os.path.join(outdir, f"q.{i}.npy")) for i in range(n)]
    qs = [q.reshape(q.shape[-2], q.shape[-1]) for q in qs]
    per_proj = {}
    for layer in range(layers):
        if n == 7 * layers:
            for j, proj in enumerate(bitnet_ref.PROJECTIONS):
                per_proj[f"model.layers.{layer}.{proj}"] = qs[7 * layer + j]
        else:
            for j, group in enumerate(GROUPS):
                for proj in group:
                    per_proj[f"model.layers.{layer}.{proj}"] = qs[4 * layer + j]
    # Projections of a group quantize the same activation: the same integers.
    for layer in range(layers):
        for group in GROUPS:
            first = per_proj[f"model.layers.{layer}.{group[0]}"]
            for other in group[1:]:
                if not np.array_equal(first, per_proj[f"model.layers.{layer}.{other}"]):
                    return None, f"{who} quantized layer {layer}'s {group[0]} and {other} inputs differently"
    q_int = {}
    for name, q in per_proj.items():
        if q.shape != (len(tokens), q.shape[-1]) or not (np.all(q == np.round(q)) and q.min() >= -128 and q.max() <= 127):
            return None, f"{who}'s quantized input of {name} is not int8 values [{len(tokens)}, K]"
        q_int[name] = q.astype(np.int8)
    return q_int, None


def run_ort(model, tokens, work, layers):
    probe = probe_path(model, "ort")
    n = instrument(model, probe)
    out = os.path.join(work, "ort")
    ids = os.path.join(work, "ids.npy")
    write_ids(ids, tokens)
    try:
        run(["node", os.path.join(PEERS, "ort_run.mjs"), probe, "--input", f"input_ids={ids}",
             "--output-dir", out])
    finally:
        os.remove(probe)
    logits = np.load(os.path.join(out, "logits.npy"))
    logits = logits.reshape(logits.shape[-2], logits.shape[-1])
    q, why = read_probes(out, n, tokens, layers, "ORT")
    return logits, q, why


# --- bitnetc libraries ------------------------------------------------------------------------

def run_compiled(lib, tokens, work):
    ids = os.path.join(work, "ids.npy")
    write_ids(ids, tokens)
    out = os.path.join(work, "compiled")
    os.makedirs(out, exist_ok=True)
    run(["bitnet-run", lib, "--input", f"input_ids={ids}", "--output-dir", out])
    logits = np.load(os.path.join(out, "logits.npy"))
    return logits.reshape(logits.shape[-2], logits.shape[-1])


def run_compiled_probe(model, tokens, work, layers, bitnetc_args):
    """bitnetc's library of the instrumented model (the activation quantizations as extra outputs
    q.0, q.1, ...): its logits and int8 values. The probes keep the float chains alive beside the
    fused act_quant + bitlinear; the caller checks that its logits equal the plain library's."""
    probe = probe_path(model, "bitnetc")
    n = instrument(model, probe)
    lib = os.path.join(work, "probe.so")
    try:
        run(["bitnetc", probe, "-o", lib] + bitnetc_args)
    finally:
        os.remove(probe)
    ids = os.path.join(work, "ids.npy")
    write_ids(ids, tokens)
    out = os.path.join(work, "probe")
    run(["bitnet-run", lib, "--input", f"input_ids={ids}", "--output-dir", out])
    logits = np.load(os.path.join(out, "logits.npy"))
    q, why = read_probes(out, n, tokens, layers, "bitnetc")
    return logits.reshape(logits.shape[-2], logits.shape[-1]), q, why


def run_safetensors_lib(lib, tokens, work):
    out = os.path.join(work, "st_logits.f32")
    run(["bitnet-run", lib, "--tokens", ",".join(map(str, tokens)), "--logits-out", out, "--all-logits"])
    return np.fromfile(out, dtype="<f4")


# --- The flip-tolerant comparison (e2e_check.py's, for any source of int8 values) --------------

def flip_checks(out, label, ref, tokens, record, mine, their_logits, their_q, why_no_q=None):
    seq = len(tokens)
    scale = float(np.abs(mine).max())
    if their_q is None:
        # No int8 values to compare: every row must then agree to rounding.
        finite = bool(np.isfinite(their_logits).all())
        d = float(np.abs(their_logits.astype(np.float64) - mine).max()) / scale if finite else float("inf")
        out.record(f"{label} qagree", False, why_no_q)
        out.record(f"{label} logits", d <= ROUNDING_TOL_REL,
                   f"all rows (int8 values unknown): max |dlogit| {d:.2e} L (allowed {ROUNDING_TOL_REL:.0e} L)")
        return None
    quants = []  # one per act_quant in execution order: (name, projection, their - mine)
    for layer in range(ref.layers):
        for group in GROUPS:
            proj = f"model.layers.{layer}.{group[0]}"
            theirs = their_q[proj]
            if theirs.shape != record[proj]["q"].shape:
                sys.exit(f"error: {label}: {proj} int8 input is {theirs.shape}, numpy's {record[proj]['q'].shape}")
            quants.append((proj, proj, theirs.astype(np.int32) - record[proj]["q"].astype(np.int32)))
    first_j = np.full(seq, len(quants))
    for j in reversed(range(len(quants))):
        first_j[(quants[j][2] != 0).any(axis=1)] = j
    diverged = first_j < len(quants)
    illegit, worst_d, worst_tie = [], 0, 0.0
    for u in np.nonzero(diverged)[0]:
        if (first_j[:u] < first_j[u]).any():
            continue
        _, proj, d = quants[first_j[u]]
        v = record[proj]["x"][u] * record[proj]["s"][u]
        tie = np.abs(np.abs(v - np.floor(v)) - 0.5)[d[u] != 0]
        worst_d, worst_tie = max(worst_d, int(np.abs(d[u]).max())), max(worst_tie, float(tie.max()))
        if np.abs(d[u]).max() > 1 or tie.max() > NEAR_TIE:
            illegit.append(f"row {u} at {proj}")
    n_div = int(diverged.sum())
    total = sum(d.size for _, _, d in quants)
    flips = sum(int((d != 0).sum()) for _, _, d in quants)
    div_text = (f"{n_div} of {seq} rows diverged, {len(illegit)} not explained by a rounding flip"
                + (f" ({', '.join(illegit[:3])})" if illegit else "")
                + (f" [max |dq| {worst_d}, max distance from a .5 tie {worst_tie:.1e} (allowed {NEAR_TIE:.0e})]"
                   if worst_d else ""))
    out.record(f"{label} qagree", not illegit, f"{flips} of {total} int8 inputs differ from numpy's; {div_text}")

    finite = bool(np.isfinite(their_logits).all())
    clean = np.cumsum(diverged) == 0
    diff = np.abs(their_logits.astype(np.float64) - mine).max(axis=1) if finite else np.full(seq, np.inf)
    clean_max = float(diff[clean].max()) if clean.any() else 0.0
    top2 = np.sort(mine, axis=1)[:, -2:]
    clear = clean & ((top2[:, 1] - top2[:, 0]) > TOP1_MARGIN_REL * scale)
    mism = int((clear & (mine.argmax(axis=1) != their_logits.argmax(axis=1))).sum())
    out.record(f"{label} logits", clean_max <= ROUNDING_TOL_REL * scale and mism == 0 and not illegit,
               f"{int(clean.sum())} clean rows: max |dlogit| {clean_max / scale:.2e} L (allowed "
               f"{ROUNDING_TOL_REL:.0e} L, L = {scale:.3f}), top-1 differs at {mism} of {int(clear.sum())} clear rows"
               + (f"; diverged rows: max |dlogit| {float(diff[~clean].max()) / scale:.2e} L" if n_div else ""))

    forced = ref.forward(tokens, force_q=their_q)
    fdiff = float(np.abs(their_logits.astype(np.float64) - forced).max()) if finite else float("inf")
    out.record(f"{label} forced", fdiff <= ROUNDING_TOL_REL * scale,
               f"all rows, numpy with {label}'s int8 inputs: max |dlogit| {fdiff / scale:.2e} L "
               f"(allowed {ROUNDING_TOL_REL:.0e} L)")
    return diverged


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("checkpoint")
    ap.add_argument("model", help="the ONNX form of the checkpoint (gen_onnx.py)")
    ap.add_argument("--work", required=True)
    ap.add_argument("--seq", type=int, default=24)
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--tokens", help="comma-separated ids (default: random, from --seed)")
    ap.add_argument("--text", help="use [BOS] + the first --seq - 1 ids of this text (bitnet-tokenize)")
    ap.add_argument("--ort", action="store_true", help="check ONNX Runtime's logits")
    ap.add_argument("--compiled", help="bitnetc's library of MODEL.onnx")
    ap.add_argument("--compiled-probe", action="store_true",
                    help="also compile MODEL.onnx with its activation quantizations as outputs: bitnetc's int8 values")
    ap.add_argument("--bitnetc-args", default="", help="extra bitnetc options of --compiled-probe (e.g. --max-seq 128)")
    ap.add_argument("--safetensors-lib", help="bitnetc's library of CHECKPOINT")
    ap.add_argument("--same-weights", choices=["exact", "flips"],
                    help="compare --compiled with --safetensors-lib")
    ap.add_argument("--expect-fail", default="",
                    help="checks that must FAIL (a model written with gen_onnx.py --fault)")
    args = ap.parse_args()
    expect_fail = [c for c in args.expect_fail.split(",") if c]
    os.makedirs(args.work, exist_ok=True)
    ref = bitnet_ref.BitNetModel(args.checkpoint)
    if args.tokens:
        tokens = [int(t) for t in args.tokens.split(",")]
    elif args.text:
        ids = re.findall(r"-?\d+", run(["bitnet-tokenize", args.checkpoint, "--file", args.text, "--ids-only"]))
        tokens = [int(ref.config["bos_token_id"])] + [int(t) for t in ids[:args.seq - 1]]
    else:
        tokens = np.random.default_rng(args.seed).integers(0, ref.vocab, args.seq).tolist()
    seq, vocab = len(tokens), ref.vocab
    print(f"checkpoint {args.checkpoint}: hidden {ref.hidden} ffn {ref.ffn} layers {ref.layers} heads "
          f"{ref.heads}/{ref.kv_heads} head_dim {ref.head_dim} vocab {vocab} act {ref.act} rule "
          f"{'absmean-latent' if ref.uses_latent else ref.packed_rule}; onnx {os.path.basename(args.model)}; "
          f"{seq} tokens")
    record = {}
    mine = ref.forward(tokens, record=record)
    out = Checks()

    if args.ort:
        logits, q, why = run_ort(args.model, tokens, args.work, ref.layers)
        flip_checks(out, "ort", ref, tokens, record, mine, logits, q, why)

    compiled = None
    if args.compiled:
        compiled = run_compiled(args.compiled, tokens, args.work)
        if args.compiled_probe:
            probed, q, why = run_compiled_probe(args.model, tokens, args.work, ref.layers,
                                                shlex.split(args.bitnetc_args))
            same = probed.shape == compiled.shape and np.array_equal(probed.view(np.uint32), compiled.view(np.uint32))
            out.record("probe == compiled", same, "the instrumented library's logits and the plain one's are "
                       + ("bit-identical" if same else "different"))
            flip_checks(out, "compiled", ref, tokens, record, mine, compiled, q, why)
        if args.ort:
            d = np.abs(compiled.astype(np.float64) - logits).max() / np.abs(mine).max()
            print(f"compiled vs ort: max |dlogit| {d:.2e} L, "
                  f"{int((compiled.view(np.uint32) != logits.view(np.uint32)).sum())} of {compiled.size} differ")

    if args.same_weights:
        if compiled is None or not args.safetensors_lib:
            sys.exit("error: --same-weights needs --compiled and --safetensors-lib")
        st = run_safetensors_lib(args.safetensors_lib, tokens, args.work)
        if st.size != seq * vocab:
            sys.exit(f"error: the safetensors library wrote {st.size} floats, expected {seq}x{vocab}")
        st = st.reshape(seq, vocab)
        differ = int((st.view(np.uint32) != compiled.view(np.uint32)).sum())
        dmax = float(np.abs(st.astype(np.float64) - compiled).max()) / float(np.abs(mine).max())
        detail = f"{differ} of {st.size} logits differ from the safetensors library's, max |d| {dmax:.2e} L"
        if args.same_weights == "exact":
            out.record("same-weights", differ == 0, detail)
        else:
            # Not bit-identical by design (e.g. float ops outside the BitLinears differ in rounding):
            # the ONNX library must then pass the flip-tolerant checks against numpy itself.
            if not args.compiled_probe:
                sys.exit("error: --same-weights flips needs --compiled-probe (the flip-tolerant checks)")
            print(f"same-weights (flip-tolerant, see the compiled checks): {detail}")

    failed = [c for c, ok in out.results.items() if not ok]
    if not out.results:
        sys.exit("error: nothing to check (give --ort, --compiled or --same-weights)")
    if expect_fail:
        missed = [c for c in expect_fail if out.results.get(c, True)]
        if missed:
            print("SHARPNESS FAILURE: the fault was not caught by: " + ", ".join(missed))
            return 1
        print("fault caught by: " + ", ".join(expect_fail))
        return 0
    if failed:
        print("FAILED: " + ", ".join(failed))
        return 1
    print("all checks passed")
    return 0


if __name__ == "__main__":
    sys.exit(main())
