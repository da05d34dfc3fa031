import os
import shlex
import subprocess
import sys

import numpy as np
import pytest

_here = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.dirname(_here))
REPO = os.path.abspath(os.path.join(_here, "..", ".."))


def cli_command():
    """The gmmflow CLI: $GMMFLOW_CLI (a command line) or the Release build in this checkout."""
    if os.environ.get("GMMFLOW_CLI"):
        return shlex.split(os.environ["GMMFLOW_CLI"])
    dll = os.path.join(REPO, "src", "GmmFlow.Cli", "bin", "Release", "net10.0", "gmmflow.dll")
    if not os.path.exists(dll):
        pytest.fail(f"the CLI is not built ({dll}); run `dotnet build -c Release` or set GMMFLOW_CLI")
    return ["dotnet", dll]


@pytest.fixture
def cli(tmp_path):
    def run(*args):
        result = subprocess.run(cli_command() + [str(a) for a in args], capture_output=True, text=True, cwd=tmp_path)
        assert result.returncode == 0, result.stderr
        return result.stdout
    return run


@pytest.fixture
def two_blobs():
    rng = np.random.default_rng(0)
    a = rng.multivariate_normal([0, 0], [[1, 0.3], [0.3, 0.5]], size=600)
    b = rng.multivariate_normal([4, 1], [[0.4, 0], [0, 0.8]], size=400)
    return np.vstack([a, b])
