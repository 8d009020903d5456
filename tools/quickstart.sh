#!/usr/bin/env bash
# The main job for a newcomer: install what is missing, build bitnetc, compile the bundled
# trained BitNet model (test/models/bitnet-tiny-trained) into a native library, and run it:
# with bitnet-run, and linked into the C example program (examples/generate.c).
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
"$root/tools/scripts/install-deps.sh"
"$root/tools/scripts/build.sh"

prompt="${1:-Once upon a time}"
bin="$root/build/bin"
out="$root/build/quickstart"
mkdir -p "$out"
echo
echo "== bitnetc test/models/bitnet-tiny-trained -o build/quickstart/tiny.so -v"
"$bin/bitnetc" "$root/test/models/bitnet-tiny-trained" -o "$out/tiny.so" -v
echo
echo "== bitnet-run build/quickstart/tiny.so -p \"$prompt\" -n 64"
"$bin/bitnet-run" "$out/tiny.so" -p "$prompt" -n 64
echo
echo "== cc -I build/quickstart examples/generate.c build/quickstart/tiny.so -o build/quickstart/generate"
cc -I "$out" "$root/examples/generate.c" "$out/tiny.so" -Wl,-rpath,'$ORIGIN' -o "$out/generate"
"$out/generate" "$prompt" 32
echo
echo "== held-out perplexity through the library (first 2048 tokens of test/models/data/heldout.txt, windows of 128)"
"$bin/bitnet-run" "$out/tiny.so" --perplexity "$root/test/models/data/heldout.txt" --ctx 128 --max-tokens 2048
echo
echo "== bitnet-run build/quickstart/tiny.so --bench"
"$bin/bitnet-run" "$out/tiny.so" --bench
