#!/usr/bin/env bash
# Installs what is missing, builds, and runs every test (GoogleTest unit tests and the lit
# suites: FileCheck tests and end-to-end numerics) through ctest. CI runs exactly this.
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
"$root/tools/scripts/install-deps.sh"
"$root/tools/scripts/build.sh"
ctest --test-dir "$root/build" --output-on-failure "$@"
