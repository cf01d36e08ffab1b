#!/usr/bin/env bash
# setup.sh — install what nasc needs from Debian's packages and build it.
# Idempotent: packages already present are not reinstalled; the build
# directory (default build/, or $NASC_BUILD_DIR) is reused.
#   ./setup.sh            configure + build (Release)
#   NASC_CMAKE_ARGS="-DNASC_SANITIZE=address;undefined" NASC_BUILD_DIR=build-asan ./setup.sh
set -euo pipefail
cd "$(dirname "$0")"

# build: compilers, cmake; libraries: cJSON, OpenBLAS; tests: PyTorch and
# NumPy (the independent oracle), clang (second compiler for emitted C).
PACKAGES="build-essential cmake clang libcjson-dev libopenblas-dev libstb-dev python3-torch python3-numpy llvm-16-dev libclang-cpp16-dev libclang-16-dev clang-16 zlib1g-dev gcc-arm-none-eabi libnewlib-arm-none-eabi qemu-system-arm dataset-fashion-mnist"

missing=""
for p in $PACKAGES; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing="$missing $p"
done
if [ -n "$missing" ]; then
  echo "setup: installing:$missing"
  SUDO=""
  [ "$(id -u)" -eq 0 ] || SUDO="sudo"
  $SUDO apt-get update -q
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -q --no-install-recommends $missing
fi

BUILD_DIR="${NASC_BUILD_DIR:-build}"
BUILD_TYPE="${NASC_BUILD_TYPE:-Release}"
# shellcheck disable=SC2086
cmake -S . -B "$BUILD_DIR" -DCMAKE_BUILD_TYPE="$BUILD_TYPE" -DNASC_WERROR=ON ${NASC_CMAKE_ARGS:-} >/dev/null
cmake --build "$BUILD_DIR" -j"$(nproc)"
echo "setup: built $BUILD_DIR/tools/nasc"
