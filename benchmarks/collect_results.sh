#!/usr/bin/env bash
# Re-creates benchmarks/results/ (the raw outputs BENCHMARKS.md quotes) on this machine. Takes about an hour on
# 2 cores; run it when the machine is otherwise idle (check `uptime`): every file records the load average.
#
#   benchmarks/collect_results.sh [compare] [study] [bdn] [aot]      (default: all four)
#
# compare  benchmarks/compare/run_all.sh: `gmmflow bench` + the Python peers on the same inputs (speed-up table)
# study    gmmflow bench --study: surrogate vs exact W2, construction time vs d = 2 … 512, accuracy table, plot
# bdn      BenchmarkDotNet suites (default job; the cost-matrix grid with the short job, it has 48 cases up to d = 256)
# aot      `gmmflow bench` with two Native-AOT binaries: the default instruction set, and -p:IlcInstructionSet=native
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
out=benchmarks/results
steps=("$@")
[ ${#steps[@]} -gt 0 ] || steps=(compare study bdn aot)
mkdir -p "$out"
export DOTNET_CLI_TELEMETRY_OPTOUT=1 DOTNET_NOLOGO=1
machine() { echo "$(date -u +%FT%TZ) $(nproc) cores, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | xargs), load average $(cut -d' ' -f1-3 /proc/loadavg)"; }

for step in "${steps[@]}"; do
  case "$step" in
    compare)
      keep=$(mktemp -d)
      { machine; bash benchmarks/compare/run_all.sh --keep "$keep" --markdown; machine; } 2>&1 | tee "$out/compare.txt"
      cp "$keep/gmmflow.json" "$out/compare-gmmflow.json"
      cp "$keep/peers.json" "$out/compare-peers.json"
      rm -rf "$keep"
      ;;
    study)
      dotnet build src/GmmFlow.Cli -c Release -v quiet -nologo -clp:ErrorsOnly
      rm -rf "$out/study"
      { machine; GMMFLOW_LAPACK=mkl dotnet src/GmmFlow.Cli/bin/Release/net10.0/gmmflow.dll bench --study "$out/study"; machine; } \
        2>&1 | tee "$out/study.txt"
      ;;
    bdn)
      mkdir -p "$out/bdn"
      art=$(mktemp -d)
      { machine
        GMMFLOW_LAPACK=mkl dotnet run -c Release --project benchmarks/GmmFlow.Benchmarks -- --artifacts "$art" \
          --filter '*SinglePointVelocity*' '*VelocityField*' '*TransportBenchmarks*' '*EmIteration*' '*ExactLp*' '*Sinkhorn*' \
          '*LapackProvider*' '*CostFactor*'
        GMMFLOW_LAPACK=mkl dotnet run -c Release --project benchmarks/GmmFlow.Benchmarks -- --artifacts "$art" \
          --filter '*CostMatrixBenchmarks*' --job short
        machine; } 2>&1 | tee "$out/bdn.log" | grep -E '^\||^// \*\*\*|load average' || true
      cp "$art"/results/*-report-github.md "$out/bdn/"
      rm -rf "$art"
      ;;
    aot)
      for isa in default native; do
        dir=$(mktemp -d)
        extra=(); [ "$isa" = native ] && extra=(-p:IlcInstructionSet=native)
        dotnet publish src/GmmFlow.Cli -c Release -r linux-x64 -p:PublishAot=true "${extra[@]}" -o "$dir" -v quiet -nologo
        { machine; GMMFLOW_LAPACK=mkl "$dir/gmmflow" bench --out "$out/aot-$isa.json" --force; machine; } \
          > "$out/aot-$isa.txt" 2>&1
        "$dir/gmmflow" info >> "$out/aot-$isa.txt"
        rm -rf "$dir"
      done
      ;;
    *) echo "unknown step $step (compare, study, bdn, aot)" >&2; exit 2 ;;
  esac
done
