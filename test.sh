#!/usr/bin/env bash
# GmmFlow's test command: installs the native libraries (MKL, reference LAPACK, Debian's python3 stack) if missing,
# restores, builds Release, runs the whole .NET test suite once per LAPACK provider (GMMFLOW_LAPACK=mkl, then
# system), then the C ABI's test and the Python package's tests. Prints one closing line
# "N passed, N failed, N skipped" over all of them.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")"
export DOTNET_CLI_TELEMETRY_OPTOUT=1 DOTNET_NOLOGO=1 DOTNET_SKIP_FIRST_TIME_EXPERIENCE=1

bash .ci/install-native.sh
dotnet build GmmFlow.sln -c Release -v quiet -nologo -clp:ErrorsOnly

passed=0; failed=0; skipped=0; status=0
log=$(mktemp)
for provider in mkl system; do
  echo "== tests with GMMFLOW_LAPACK=$provider"
  if ! GMMFLOW_LAPACK=$provider dotnet test tests/GmmFlow.Tests -c Release --no-build 2>&1 | tee "$log"; then
    status=1
  fi
  # Microsoft.Testing.Platform's summary: "  succeeded: N", "  failed: N", "  skipped: N".
  p=$(awk '/^ *succeeded:/ {s+=$2} END {print s+0}' "$log")
  f=$(awk '/^ *failed:/ {s+=$2} END {print s+0}' "$log")
  s=$(awk '/^ *skipped:/ {s+=$2} END {print s+0}' "$log")
  if [ "$p" -eq 0 ]; then
    echo "no tests ran with GMMFLOW_LAPACK=$provider"; status=1
  fi
  passed=$((passed + p)); failed=$((failed + f)); skipped=$((skipped + s))
done

# The C ABI and the Python package over it: publish libgmmflow.so (Native AOT) into python/gmmflow, run the C-side
# test against the header, then the Python tests (Debian's python3: numpy, scipy, scikit-learn, POT, Dask).
echo "== C ABI and Python package"
bash python/build.sh
abi=$(mktemp -d)
if ${CC:-cc} -O1 -I include tests/capi/abi_test.c -L python/gmmflow -lgmmflow -Wl,-rpath,"$PWD/python/gmmflow" -lm -o "$abi/abi_test" \
   && "$abi/abi_test" | tee "$log"; then :; else status=1; fi
p=$(awk '/^[0-9]+ passed, [0-9]+ failed$/ {print $1}' "$log"); f=$(awk '/^[0-9]+ passed, [0-9]+ failed$/ {print $3}' "$log")
passed=$((passed + ${p:-0})); failed=$((failed + ${f:-1}))
rm -rf "$abi"
if ! /usr/bin/python3 -m pytest -q -p no:cacheprovider python/tests 2>&1 | tee "$log"; then
  status=1
fi
# pytest's closing line, e.g. "48 passed, 2 skipped, 1 warning in 9s" (grep finds nothing for a count that is absent).
p=$(grep -oE '[0-9]+ passed' "$log" | tail -n 1 | cut -d' ' -f1 || true); f=$(grep -oE '[0-9]+ failed' "$log" | tail -n 1 | cut -d' ' -f1 || true)
s=$(grep -oE '[0-9]+ skipped' "$log" | tail -n 1 | cut -d' ' -f1 || true)
[ -n "$p" ] || { echo "no Python tests ran"; status=1; }
passed=$((passed + ${p:-0})); failed=$((failed + ${f:-0})); skipped=$((skipped + ${s:-0}))
rm -f "$log"
echo "$passed passed, $failed failed, $skipped skipped"
[ "$failed" -eq 0 ] || status=1
exit $status
