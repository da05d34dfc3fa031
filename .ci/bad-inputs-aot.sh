#!/usr/bin/env bash
# Bad inputs against a Native-AOT `gmmflow` binary (docs/cli-contract.md): each case must exit with the expected
# code, print exactly one stderr line naming the culprit, and leave no output or temporary file behind.
# usage: .ci/bad-inputs-aot.sh path/to/gmmflow
set -uo pipefail
bin=${1:?usage: $0 path/to/gmmflow}
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
cd "$work"
cat > a.json <<'JSON'
{"weights": [0.5, 0.5], "means": [[0, 0], [3, 0]], "covariances": [[[1, 0.2], [0.2, 0.5]], [[0.5, 0], [0, 0.5]]]}
JSON
cat > b.json <<'JSON'
{"weights": [0.3, 0.3, 0.4], "means": [[0, 5], [4, 5], [2, -4]], "covariances": [[[0.3, 0], [0, 0.3]], [[0.6, 0.1], [0.1, 0.4]], [[1, 0], [0, 1]]]}
JSON
cat > same.json <<'JSON'
{"weights": [1], "means": [[1, 2]], "covariances": [[[2, 0.3], [0.3, 1]]]}
JSON
echo '{"weights": [0.45, 0.45], "means": [[0, 0], [3, 0]], "covariances": [[[1, 0], [0, 1]], [[1, 0], [0, 1]]]}' > w09.json
echo '{"weights": [1], "weights": [1], "means": [[0, 0]], "covariances": [[[1, 0], [0, 1]]]}' > dup.json
printf 'x0,x1\n1,2\ninf,3\n' > inf.csv
printf '0.5,1.2x\n1,2\n3,4\n' > typo.csv
mkdir folder.npy
"$bin" sample --model a.json -n 200 --out x.npy >/dev/null || { echo "setup: sample failed"; exit 1; }
"$bin" plan --source a.json --target b.json --out plan.json >/dev/null || { echo "setup: plan failed"; exit 1; }
sed 's/"version": 1/"version": 99/' plan.json > plan99.json
echo keep > keep.npy
before=$(ls -A | sort | tr '\n' ' ')

failures=0
check() { # expected-code mention args...
  local code=$1 mention=$2; shift 2
  local err rc lines
  err=$("$bin" "$@" 2>&1 >/dev/null); rc=$?
  lines=$(printf '%s\n' "$err" | grep -c .)
  if [[ $rc -ne $code || $lines -ne 1 || "$err" != *"$mention"* || "$err" != gmmflow:* ]]; then
    echo "FAIL ($rc, $lines lines, expected $code, '$mention'): gmmflow $*"; echo "  $err"; failures=$((failures + 1))
  else
    echo "ok   $code  gmmflow $*"
  fi
}
check 2 "option --steps: 'abc' is not an integer" transport --plan plan.json --samples x.npy --steps abc --out y.npy
check 2 "option -n: 10000000000 is out of range" sample --model a.json -n 10000000000 --out y.npy
check 2 "option --noise: 'abc' is not a number" plan --source a.json --target b.json --noise abc --out p.json
check 2 "option --tol: 'nan' is not a finite number" fit --samples x.npy -k 2 --tol nan --out m.json
check 2 "are the same file" transport --plan plan.json --samples x.npy --trajectories y.npy --out y.npy
check 2 "keep.npy already exists" sample --model a.json -n 10 --out keep.npy
check 2 "--out m.npy" fit --samples x.npy -k 2 --out m.npy
check 1 "w09.json: field \"weights\": sum to 0.9" plan --source w09.json --target b.json --out p.json
check 1 "a key appears twice" cost --source dup.json --target b.json --out c.npy
check 1 "field \"version\" is 99" transport --plan plan99.json --samples x.npy --out y.npy
check 1 "line 3, column 1: 'inf' is not a finite number" fit --samples inf.csv -k 1 --out m.json
check 1 "line 1 mixes numbers and text" fit --samples typo.csv -k 1 --out m.json
check 1 "folder.npy is a directory" fit --samples folder.npy -k 1 --out m.json

# Identical components: valid JSON with a finite relative gap of 0.
json=$("$bin" regime --source same.json --target same.json --json) || { echo "FAIL: regime --json on identical components"; failures=$((failures + 1)); }
grep -q '"relativeGap": 0' <<<"$json" || { echo "FAIL: regime relative gap of identical components is not 0"; failures=$((failures + 1)); }

after=$(ls -A | sort | tr '\n' ' ')
[[ "$before" == "$after" ]] || { echo "FAIL: files changed: before [$before] after [$after]"; failures=$((failures + 1)); }
[[ "$(cat keep.npy)" == keep ]] || { echo "FAIL: keep.npy was modified"; failures=$((failures + 1)); }
if [[ $failures -gt 0 ]]; then echo "bad-inputs-aot: $failures failure(s)"; exit 1; fi
echo "bad-inputs-aot: all cases passed"
