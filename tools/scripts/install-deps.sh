#!/usr/bin/env bash
# Installs what bitnetc needs on Debian 12: the build toolchain and libraries (apt) and the
# JavaScript peers the tests compare against (npm, into test/peers/node_modules).
# Safe to re-run: it only installs what is missing.
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"

packages=(
  cmake ninja-build g++ clang-19 llvm-19-dev liblld-19-dev lld-19 llvm-19-tools
  libonnx-dev libprotobuf-dev protobuf-compiler libabsl-dev libgtest-dev
  nlohmann-json3-dev libpcre2-dev python3-numpy python3-onnx python3-torch
  nodejs npm
  qemu-user libc6-arm64-cross libc6-dev-arm64-cross valgrind
  libonnx-testdata
)
missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
# node/npm may come from elsewhere than Debian's packages (e.g. a newer nodejs): accept them.
if command -v node >/dev/null && command -v npm >/dev/null; then
  missing=("${missing[@]/nodejs}"); missing=("${missing[@]/npm}")
fi
read -r -a missing <<<"${missing[*]}"
if [ ${#missing[@]} -gt 0 ]; then
  echo "install-deps: installing ${missing[*]}"
  sudo=""
  [ "$(id -u)" -eq 0 ] || sudo="sudo"
  $sudo apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends "${missing[@]}"
fi

if [ -f "$root/test/peers/package-lock.json" ] && [ ! -d "$root/test/peers/node_modules" ]; then
  echo "install-deps: npm ci in test/peers"
  npm ci --prefix "$root/test/peers" --ignore-scripts --no-audit --no-fund
fi
