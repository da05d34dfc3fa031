#!/usr/bin/env bash
# GmmFlow vs numpy cost-matrix throughput on identical seeded inputs, both on Intel MKL (sequential).
# numpy is pointed at MKL through a temporary directory of symlinks (liblapack.so.3, libblas.so.3 -> libmkl_rt.so)
# on LD_LIBRARY_PATH, so the system's BLAS/LAPACK alternatives are left alone; cost_matrix.py prints the mapped library.
# Usage: benchmarks/compare/cost_matrix.sh [repeats]
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/../.."
repeats="${1:-15}"
mkl=/usr/lib/x86_64-linux-gnu/libmkl_rt.so
[ -e "$mkl" ] || { echo "libmkl_rt.so not found: run .ci/install-native.sh"; exit 1; }
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
mkdir -p "$work/lib" "$work/data"
ln -s "$mkl" "$work/lib/liblapack.so.3"
ln -s "$mkl" "$work/lib/libblas.so.3"

dotnet build benchmarks/GmmFlow.Benchmarks -c Release -v quiet -nologo -clp:ErrorsOnly
echo "== GmmFlow (all cores)"
GMMFLOW_LAPACK=mkl dotnet benchmarks/GmmFlow.Benchmarks/bin/Release/net10.0/GmmFlow.Benchmarks.dll \
  cost-throughput --export "$work/data" --repeats "$repeats"
echo "== numpy (one core, MKL sequential)"
LD_LIBRARY_PATH="$work/lib" MKL_THREADING_LAYER=SEQUENTIAL /usr/bin/python3 benchmarks/compare/cost_matrix.py "$work/data" "$repeats"
echo "load average: $(cut -d' ' -f1-3 /proc/loadavg) on $(nproc) cores (other processes skew wall-clock numbers)"
