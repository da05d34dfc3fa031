#!/usr/bin/env bash
# Installs the native libraries GmmFlow needs on Debian 12 (bookworm):
#   - Intel MKL (libmkl_rt.so) from Debian's non-free component (not on NuGet, see README).
#   - the reference LAPACK/BLAS (liblapack3, libblas3), the fallback provider.
#   - Debian's python3 with numpy/scipy/sklearn/POT/pytest/dask/distributed: the Python package's tests and the
#     side-by-side comparison scripts.
# Idempotent and quiet: does nothing when everything is already present.
set -euo pipefail
export DEBIAN_FRONTEND=noninteractive
SUDO=""
[ "$(id -u)" -eq 0 ] || SUDO="sudo"

want=(libmkl-rt liblapack3 libblas3 fonts-dejavu-core)
# Data of the sampler benchmarks, read at run time: weka's ARFF examples (German credit, Ionosphere),
# python3-sklearn's breast_cancer.csv, r-cran-mlbench's Sonar.rda.
want+=(weka r-cran-mlbench)
# Debian's python3 stack: the Python package's tests (numpy, scipy, scikit-learn, POT, pytest, Dask) and the
# side-by-side comparison scripts.
want+=(python3 python3-numpy python3-scipy python3-sklearn python3-pot python3-pytest python3-dask python3-distributed)

missing=()
for p in "${want[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
[ ${#missing[@]} -eq 0 ] && { echo "native deps: already installed (${want[*]})"; exit 0; }

# MKL lives in non-free; add a deb822 source for it once.
if ! grep -rqs "non-free" /etc/apt/sources.list /etc/apt/sources.list.d/; then
  $SUDO tee /etc/apt/sources.list.d/gmmflow-non-free.sources >/dev/null <<'SRC'
Types: deb
URIs: http://deb.debian.org/debian
Suites: bookworm
Components: non-free
Signed-By: /usr/share/keyrings/debian-archive-keyring.gpg
SRC
fi
echo "native deps: installing ${missing[*]} (MKL is ~750 MB, about 20-60 s)"
$SUDO apt-get update -qq >/dev/null
# MKL's postinst asks (debconf) whether to make MKL the system BLAS/LAPACK; answer no so the
# reference LAPACK stays the 'system' provider and both can be tested side by side.
echo "libmkl-rt libmkl-rt/use-as-default-blas-lapack boolean false" | $SUDO debconf-set-selections 2>/dev/null || true
$SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
echo "native deps: done"
