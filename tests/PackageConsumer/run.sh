#!/usr/bin/env bash
# Packs GmmFlow (GmmFlow, GmmFlow.Simd, GmmFlow.Native) into a temporary folder feed, restores this fresh consumer
# project from it (isolated package cache, so nothing stale is used) and runs a transport with it.
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
dotnet pack "$here/../../GmmFlow.sln" -c Release -o "$work/feed" -nologo -v quiet -clp:ErrorsOnly ${PACK_ARGS:-}
ls "$work/feed"
cp -r "$here" "$work/consumer"
cd "$work/consumer"
rm -rf bin obj
# The local feed is added to the machine's usual sources (for System.Numerics.Tensors), not put in their place.
cat > nuget.config <<XML
<?xml version="1.0" encoding="utf-8"?>
<configuration>
  <packageSources>
    <add key="gmmflow-local" value="$work/feed" />
  </packageSources>
</configuration>
XML
dotnet restore --packages "$work/packages" -nologo -v quiet
dotnet run -c Release --no-restore
