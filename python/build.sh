#!/usr/bin/env bash
# The Python package's only build step: publishes the C ABI (libgmmflow.so, Native AOT) and HiGHS into
# python/gmmflow/, next to the ctypes wrapper. Needs the .NET 10 SDK; LAPACK (MKL or the system one) is found at
# run time like the .NET library (.ci/install-native.sh installs it).
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
out="$(mktemp -d)"
trap 'rm -rf "$out"' EXIT
dotnet publish "$here/../src/GmmFlow.CApi" -c Release -r linux-x64 -o "$out" -nologo -v quiet -clp:ErrorsOnly
cp "$out/libgmmflow.so" "$here/gmmflow/libgmmflow.so"
cp "$out/runtimes/linux-x64/native/libhighs.so.1" "$here/gmmflow/libhighs.so.1"
echo "python/gmmflow: libgmmflow.so and libhighs.so.1 published"
