#!/usr/bin/env bash
# Configures and builds bitnetc into build/ (Release with debug info, Ninja).
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
cmake -S "$root" -B "$root/build" -G Ninja >/dev/null
ninja -C "$root/build"
