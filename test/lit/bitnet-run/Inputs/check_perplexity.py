"""Recomputes bitnet-run's perplexity independently from --all-logits windows.

usage: check_perplexity.py MODEL IDS_FILE PPL_OUTPUT CTX MAX_TOKENS BOS
The protocol (docs/CLI.md): first MAX_TOKENS ids, windows of CTX ids, each window w evaluated fresh
as [BOS] + w[:-1] predicting w; perplexity = exp(total NLL / targets), log-softmax in fp64.
"""
import subprocess
import sys
import tempfile

import numpy as np

model, ids_file, ppl_output, ctx, max_tokens, bos = sys.argv[1:7]
ctx, max_tokens, bos = int(ctx), int(max_tokens), int(bos)
ids = [int(x) for x in open(ids_file).read().strip().split(",")][:max_tokens]
nll, count = 0.0, 0
with tempfile.TemporaryDirectory() as tmp:
    for begin in range(0, len(ids), ctx):
        w = ids[begin:begin + ctx]
        inputs = [bos] + w[:-1]
        out = tmp + "/logits.bin"
        subprocess.run(["bitnet-run", model, "--tokens", ",".join(map(str, inputs)), "--all-logits",
                        "--logits-out", out], check=True)
        logits = np.fromfile(out, dtype="<f4").astype(np.float64).reshape(len(inputs), -1)
        m = logits.max(axis=1, keepdims=True)
        logp = logits - m - np.log(np.exp(logits - m).sum(axis=1, keepdims=True))
        nll -= sum(logp[t, w[t]] for t in range(len(w)))
        count += len(w)
expected = np.exp(nll / count)
last = open(ppl_output).read().strip().splitlines()[-1]
assert last.startswith("perplexity: "), last
got = float(last.split()[1])
assert abs(got - expected) <= 1e-6 * expected, (got, expected)
print("perplexity ok", count)
