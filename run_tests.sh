#!/usr/bin/env bash
# run_tests.sh — the whole test suite (unit, golden, PyTorch parity, emitted
# C), through ctest. Run ./setup.sh first (the README's test command does).
set -euo pipefail
cd "$(dirname "$0")"
BUILD_DIR="${NASC_BUILD_DIR:-build}"
# ctest runs -j$(nproc) tests at once; BLAS threads on top of that only
# oversubscribe the cores (OpenBLAS threads spin while they wait).
export OPENBLAS_NUM_THREADS="${OPENBLAS_NUM_THREADS:-1}"
ctest --test-dir "$BUILD_DIR" --output-on-failure -j"$(nproc)" ${NASC_CTEST_ARGS:-}
