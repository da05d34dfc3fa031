#!/usr/bin/env bash
# Linear-bridge set-up per pair (exact cost J + policy set-up) against numpy/scipy on identical inputs, n ∈ {2, 4, 8, 16}.
#   benchmarks/compare/linear_bridges.sh [--rounds R] [--pairs K] [--sdp]
# Each round runs GmmFlow (one thread, after a warm-up) and then the Python peer on the inputs it just wrote, so the
# two sides of a ratio are seconds apart; both report wall and CPU time per pair. numpy uses Debian's BLAS with one
# thread. --sdp also times the SDP route (cvxopt, Debian's python3-cvxopt) in the last round.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/../.."
rounds=3; pairs=200; sdp_flag=
while [ $# -gt 0 ]; do
  case "$1" in
    --rounds) rounds="$2"; shift ;;
    --pairs) pairs="$2"; shift ;;
    --sdp) sdp_flag="--sdp" ;;
    *) echo "usage: $0 [--rounds R] [--pairs K] [--sdp]" >&2; exit 2 ;;
  esac
  shift
done
dotnet build benchmarks/GmmFlow.Benchmarks -c Release -v quiet -nologo -clp:ErrorsOnly >/dev/null
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
for r in $(seq 1 "$rounds"); do
  echo "round $r"
  sdp=""
  [ "$r" = "$rounds" ] && sdp="$sdp_flag"
  GMMFLOW_LAPACK=${GMMFLOW_LAPACK:-mkl} DOTNET_TieredPGO=0 dotnet benchmarks/GmmFlow.Benchmarks/bin/Release/net10.0/GmmFlow.Benchmarks.dll \
    linear-bridges --out "$work/r$r" --pairs "$pairs" >/dev/null
  OMP_NUM_THREADS=1 OPENBLAS_NUM_THREADS=1 MKL_NUM_THREADS=1 /usr/bin/python3 benchmarks/compare/linear_bridges.py "$work/r$r" $sdp
done
