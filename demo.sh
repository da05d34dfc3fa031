#!/usr/bin/env bash
# GmmFlow's main job: installs the native libraries if missing, builds, and runs `gmmflow demo`
# (2-D transport examples with tables and pictures). Extra arguments go to the demo, e.g. --out DIR.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")"
export DOTNET_CLI_TELEMETRY_OPTOUT=1 DOTNET_NOLOGO=1 DOTNET_SKIP_FIRST_TIME_EXPERIENCE=1
bash .ci/install-native.sh
dotnet build src/GmmFlow.Cli -c Release -v quiet -nologo -clp:ErrorsOnly
exec dotnet src/GmmFlow.Cli/bin/Release/net10.0/gmmflow.dll demo "$@"
