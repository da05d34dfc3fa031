#!/usr/bin/env bash
# GmmFlow's test command: installs the native libraries (MKL, reference LAPACK) if missing, restores,
# builds Release, and runs the whole test suite once per LAPACK provider (GMMFLOW_LAPACK=mkl, then
# system). Prints one closing line "N passed, N failed, N skipped" over both runs.
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
rm -f "$log"
echo "$passed passed, $failed failed, $skipped skipped"
[ "$failed" -eq 0 ] || status=1
exit $status
