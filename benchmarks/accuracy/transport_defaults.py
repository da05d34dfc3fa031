"""Default transport before/after the accuracy control: fixed 100 steps vs the automatic default.

For each case: steps taken, wall time of the integration (`gmmflow transport --json` integrationSeconds) and of the check, and the
built-in check's z statistic (mean target log-likelihood of the outputs against its exact expectation, in standard
errors). Usage: /usr/bin/python3 transport_defaults.py PATH/TO/gmmflow [--points N] [--repeats R]
"""
import argparse
import json
import os
import subprocess
import sys
import tempfile

import numpy as np


def random_mixture(k, d, seed, spread, scale=1.0):
    rng = np.random.default_rng(seed)
    w = 0.5 + rng.random(k)
    w /= w.sum()
    means = spread * rng.standard_normal((k, d))
    covs = []
    for _ in range(k):
        a = rng.standard_normal((d, d)) / np.sqrt(d)
        covs.append(scale * (a @ a.T + 0.2 * np.eye(d)))
    return {"weights": w.tolist(), "means": means.tolist(), "covariances": [c.tolist() for c in covs]}


CASES = [
    # name, source, target, plan options
    ("README 2-D, W2", random_mixture(3, 2, 1, 3), random_mixture(4, 2, 2, 3), ["--cost", "w2"]),
    ("README 2-D, SB sigma=0.5", random_mixture(3, 2, 1, 3), random_mixture(4, 2, 2, 3), ["--cost", "sb", "--noise", "0.5"]),
    ("d=16, SB sigma^2=10", random_mixture(4, 16, 5, 2), random_mixture(5, 16, 6, 2), ["--cost", "sb", "--noise", str(np.sqrt(10))]),
    ("d=16, SB sigma^2=10, prob. flow", random_mixture(4, 16, 5, 2), random_mixture(5, 16, 6, 2),
     ["--cost", "sb", "--noise", str(np.sqrt(10)), "--field", "probability-flow"]),
]


def run(cli, *args):
    out = subprocess.run([cli, *args], check=True, capture_output=True, text=True)
    return out.stdout


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("gmmflow")
    parser.add_argument("--points", type=int, default=20000)
    parser.add_argument("--repeats", type=int, default=3)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        print(f"{'case':34} {'mode':10} {'scheme':15} {'steps':>6} {'evals':>6} {'seconds (min..max)':>20} {'z':>8} {'check s':>8}")
        for name, source, target, options in CASES:
            field = []
            if "--field" in options:
                i = options.index("--field")
                field = options[i:i + 2]
                options = options[:i] + options[i + 2:]
            a, b, plan, x = (os.path.join(tmp, f) for f in ("a.json", "b.json", "plan.json", "x.npy"))
            json.dump(source, open(a, "w"))
            json.dump(target, open(b, "w"))
            run(args.gmmflow, "plan", "--source", a, "--target", b, "--out", plan, "--force", *options)
            run(args.gmmflow, "sample", "--model", a, "-n", str(args.points), "--seed", "1", "--out", x, "--force")
            for mode, extra in (("fixed 100", ["--steps", "100"]), ("default", []), ("tol 1e-4", ["--tol", "1e-4"])):
                if mode == "tol 1e-4" and not field and "--noise" in options:
                    continue
                times, checks, result = [], [], None
                for r in range(args.repeats):
                    result = json.loads(run(args.gmmflow, "transport", "--plan", plan, "--samples", x, "--seed", "3",
                                            "--out", os.path.join(tmp, "y.npy"), "--force", "--json", *field, *extra))
                    times.append(result["integrationSeconds"])
                    checks.append(result["checkSeconds"])
                z = result["check"]["z"]
                print(f"{name:34} {mode:10} {result['integrator']:15} {result['steps']:6d} {result['evaluations']:6d} "
                      f"{np.median(times):9.3f} ({min(times):.3f}..{max(times):.3f}) {z:8.2f} {np.median(checks):8.3f}", flush=True)


if __name__ == "__main__":
    sys.exit(main())
