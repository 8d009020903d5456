"""Checks one `bitnet-run --bench --json` object: every field present and consistent.

usage: check_bench_json.py FILE BACKEND PREFILL DECODE REPEAT THREADS
Prints "bench json ok BACKEND" or exits with the first inconsistency.
"""
import json
import math
import sys

path, backend, prefill, decode, repeat, threads = sys.argv[1:7]
prefill, decode, repeat, threads = int(prefill), int(decode), int(repeat), int(threads)
lines = open(path).read().splitlines()
if len(lines) != 1:
    sys.exit(f"expected one line (one JSON object), got {len(lines)}")
j = json.loads(lines[0])


def check(ok, what):
    if not ok:
        sys.exit(f"bench json: {what}: {json.dumps(j)}")


check(j["backend"] == backend, "backend")
check(j["threads"] == threads, "threads")
check(j["repeats"] == repeat, "repeats")
check(j["vocab"] > 0 and j["context"] > 0 and j["weight_bytes"] > 0, "model facts")
check(j["load_seconds"] >= 0 and j["peak_rss_bytes"] > 1 << 20, "load time and peak RSS")
for name, tokens in (("prefill", prefill), ("decode", decode)):
    r = j[name]
    check(r["tokens"] == tokens, name + " tokens")
    check(len(r["seconds"]) == repeat and all(s > 0 for s in r["seconds"]), name + " seconds")
    median = sorted(r["seconds"])[repeat // 2] if repeat % 2 else sum(sorted(r["seconds"])[repeat // 2 - 1:repeat // 2 + 1]) / 2
    check(math.isclose(r["median_seconds"], median, rel_tol=1e-12), name + " median")
    check(math.isclose(r["tokens_per_second"], tokens / median, rel_tol=1e-12), name + " tokens/s")
per_token = j["decode_weight_bytes_per_token"]
check(0 < per_token <= j["weight_bytes"], "weight bytes per decode token")
gbs = per_token * j["decode"]["tokens_per_second"] / 1e9
check(math.isclose(j["decode_weight_gb_per_second"], gbs, rel_tol=1e-12), "weight GB/s")
check(all(len(b["gb_per_second"]) == 2 * repeat for b in j["read_bandwidth"]), "2 read passes after each decode run")
check([b["threads"] for b in j["read_bandwidth"]] == ([1] if threads == 1 else [1, threads]), "read thread counts")
bandwidth = j["read_bandwidth"][-1]["median_gb_per_second"]
check(math.isclose(j["decode_roofline_fraction"], gbs / bandwidth, rel_tol=1e-12), "roofline fraction")
# The KV cache of the decode test: every state row (2 x layers x kv_heads x head_dim f32 for the
# checkpoint LMs) times the mean of 1 .. DECODE rows attended.
state = j["decode_state_bytes_per_token"]
check(state > 0 and state % ((decode + 1) / 2) < 1e-6 * state, "KV bytes per decode token")
total_gbs = (per_token + state) * j["decode"]["tokens_per_second"] / 1e9
check(math.isclose(j["decode_roofline_with_state_fraction"], total_gbs / bandwidth, rel_tol=1e-12),
      "roofline fraction with the KV cache")
check(math.isclose(j["decode_roofline_with_state_tokens_per_second"], bandwidth * 1e9 / (per_token + state),
                   rel_tol=1e-12), "roofline with the KV cache")
print("bench json ok", backend)
