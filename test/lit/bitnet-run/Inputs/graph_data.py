# Writes the inputs of Inputs/graph.bir into DIR (x.npy, b.npy, flags.npy; x3.npy with another
# batch; x5.npy over the bound; xi.npy of the wrong type) and the expected outputs computed by
# numpy into DIR/expect (exact: small integers), and a wrong one into DIR/wrong.
import os
import sys

import numpy as np

d = sys.argv[1]
os.makedirs(d + "/expect", exist_ok=True)
os.makedirs(d + "/wrong", exist_ok=True)
x = np.arange(6, dtype=np.float32).reshape(2, 3)
b = np.array([[1, -1], [2, -2]], dtype=np.float32)
flags = np.array([True, False])
w = np.array([[1, 2], [3, 4], [5, 6]], dtype=np.float32)
np.save(d + "/x.npy", x)
np.save(d + "/b.npy", b)
np.save(d + "/flags.npy", flags)
np.save(d + "/x3.npy", np.ones((3, 3), np.float32))
np.save(d + "/x5.npy", np.ones((5, 3), np.float32))
np.save(d + "/xi.npy", np.ones((2, 3), np.int64))
y = x @ w + b
np.save(d + "/expect/out_y.npy", y)
np.save(d + "/expect/m.npy", y.max(axis=1, keepdims=True))
np.save(d + "/expect/flags.npy", flags)
np.save(d + "/wrong/out_y.npy", y + np.array([[0, 0], [0, 1]], np.float32))
np.save(d + "/wrong/m.npy", y.max(axis=1, keepdims=True))
np.save(d + "/wrong/flags.npy", flags)
