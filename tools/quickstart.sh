#!/usr/bin/env bash
# The main job for a newcomer: install what is missing, build, and run the bundled trained
# BitNet model (test/models/bitnet-tiny-trained): generate text and measure its perplexity.
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
"$root/tools/scripts/install-deps.sh"
"$root/tools/scripts/build.sh"

model="$root/test/models/bitnet-tiny-trained"
run="$root/build/bin/bitnet-run"
echo
echo "== bitnet-run $model -p \"${1:-Once upon a time}\" -n 64"
"$run" "$model" -p "${1:-Once upon a time}" -n 64
echo
echo "== held-out perplexity (first 2048 tokens of test/models/data/heldout.txt, windows of 128)"
"$run" "$model" --perplexity "$root/test/models/data/heldout.txt" --ctx 128 --max-tokens 2048
