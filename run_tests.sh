#!/usr/bin/env bash
# run_tests.sh — the whole test suite (unit, golden, PyTorch parity, emitted
# C), through ctest. Run ./setup.sh first (the README's test command does).
set -euo pipefail
cd "$(dirname "$0")"
BUILD_DIR="${NASC_BUILD_DIR:-build}"
ctest --test-dir "$BUILD_DIR" --output-on-failure -j"$(nproc)" ${NASC_CTEST_ARGS:-}
