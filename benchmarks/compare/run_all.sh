#!/usr/bin/env bash
# GmmFlow against its Python peers on identical inputs, one table of speed-ups per case.
#
#   benchmarks/compare/run_all.sh [--quick] [--keep DIR] [--markdown] [--repeats N] [--rounds R]
#
# Per case group (cost, lp, em, field, pipeline, plan, latent, logo; point has no peer), one after the other:
# 1. `gmmflow bench --only GROUP --export DIR/roundR/GROUP`: GmmFlow times the group's standard cases and writes
#    their inputs and its own results (.npy, JSON);
# 2. peers.py on that directory with Debian's /usr/bin/python3 (numpy, scipy, POT, scikit-learn from apt), which
#    times the same cases, checks that it got the same answers, and prints the group's speed-ups.
# The two sides of a case thus run seconds apart, not minutes: on a shared VM whose speed drifts, a ratio of times
# taken in different minutes measured the drift as much as the code. --rounds R repeats the whole sequence R times
# and the final table gives, per case, the median of the R per-round speed-ups and their range.
# Same LAPACK on both sides: GmmFlow uses Intel MKL (GMMFLOW_LAPACK=mkl); numpy/scipy are pointed at the same
# libmkl_rt.so through a temporary directory of symlinks (liblapack.so.3, libblas.so.3) on LD_LIBRARY_PATH, with
# MKL_THREADING_LAYER=SEQUENTIAL; nothing on the system (update-alternatives) is changed.
# GMMFLOW_BIN=/path/to/gmmflow uses another build (e.g. the Native-AOT binary) instead of the Release dll.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/../.."
quick=""; keep=""; markdown=""; repeats=15; rounds=1
while [ $# -gt 0 ]; do
  case "$1" in
    --quick) quick="--quick"; repeats=3 ;;
    --keep) keep="$2"; shift ;;
    --markdown) markdown="--markdown" ;;
    --repeats) repeats="$2"; shift ;;
    --rounds) rounds="$2"; shift ;;
    *) echo "usage: $0 [--quick] [--keep DIR] [--markdown] [--repeats N] [--rounds R]" >&2; exit 2 ;;
  esac
  shift
done
mkl=/usr/lib/x86_64-linux-gnu/libmkl_rt.so
[ -e "$mkl" ] || { echo "libmkl_rt.so not found: run .ci/install-native.sh" >&2; exit 1; }
/usr/bin/python3 -c "import numpy, scipy, sklearn, ot" 2>/dev/null \
  || { echo "Debian's python3-numpy python3-scipy python3-sklearn python3-pot are needed (apt-get install)" >&2; exit 1; }

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
data="${keep:-$work/data}"
mkdir -p "$work/lib" "$data"
ln -s "$mkl" "$work/lib/liblapack.so.3"
ln -s "$mkl" "$work/lib/libblas.so.3"

if [ -n "${GMMFLOW_BIN:-}" ]; then
  gmmflow=("$GMMFLOW_BIN")
else
  dotnet build src/GmmFlow.Cli -c Release -v quiet -nologo -clp:ErrorsOnly
  gmmflow=(dotnet src/GmmFlow.Cli/bin/Release/net10.0/gmmflow.dll)
fi
echo "== machine: $(nproc) cores, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | xargs), load average $(cut -d' ' -f1-3 /proc/loadavg)"
peers=(env LD_LIBRARY_PATH="$work/lib" MKL_THREADING_LAYER=SEQUENTIAL /usr/bin/python3 benchmarks/compare/peers.py)
reports=()
for round in $(seq 1 "$rounds"); do
  for group in cost lp em field point pipeline plan latent logo; do
    dir="$data/round$round/$group"
    mkdir -p "$dir"
    echo "== round $round/$rounds, $group: gmmflow bench --only $group $quick"
    GMMFLOW_LAPACK=mkl "${gmmflow[@]}" bench --only "$group" --export "$dir" $quick | tee "$dir/gmmflow.txt"
    [ "$group" = point ] && continue  # no Python peer for a single call
    echo "== round $round/$rounds, $group: Python peers (one core: MKL sequential), same inputs"
    "${peers[@]}" "$dir" --repeats "$repeats" --json "$dir/peers.json"
    reports+=("$dir/peers.json")
  done
done
echo
echo "== all groups, $rounds round(s): speed-up = median over rounds of (peer time / GmmFlow time) taken seconds apart"
"${peers[@]}" --report "${reports[@]}" $markdown
