"""The interpreter's greedy continuation of some token ids: greedy_ids.py MODEL IDS N prints the N
next ids (argmax, lowest id on ties) comma-separated, each step one `bitnet-run --tokens` over all
ids so far. For comparing a library's own generation loop (eval_logits --greedy) with the
interpreter."""
import os
import subprocess
import sys
import tempfile

import numpy as np


def main():
    model, ids, n = sys.argv[1], [int(t) for t in sys.argv[2].split(",")], int(sys.argv[3])
    out = []
    with tempfile.TemporaryDirectory() as tmp:
        path = os.path.join(tmp, "last.bin")
        for _ in range(n):
            subprocess.run(["bitnet-run", model, "--tokens", ",".join(map(str, ids)), "--logits-out", path],
                           check=True, stdout=subprocess.DEVNULL)
            best = int(np.argmax(np.fromfile(path, dtype="<f4")))  # the first maximum: the lowest id
            out.append(best)
            ids.append(best)
    print(",".join(map(str, out)))


if __name__ == "__main__":
    sys.dont_write_bytecode = True
    main()
