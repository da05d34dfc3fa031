"""GmmFlow for Python: training-free transport between Gaussian mixtures, over the native library libgmmflow.so.

    import gmmflow
    a = gmmflow.GaussianMixture(8, random_state=0).fit(X0)
    b = gmmflow.GaussianMixture(8, random_state=0).fit(X1)
    plan = gmmflow.TransportPlan(a, b, cost="sb", noise=0.5)
    Y = plan.transport(X0, steps=100, random_state=1)
    sb = gmmflow.SchrodingerBridge(noise=0.5, n_components=4).fit(X0, X1)    # exact SB (LightSB family)
    Y = sb.sample(X0, per_point=1, random_state=1)

Arrays are numpy float64 (copied only when not already C-contiguous float64). Errors raise subclasses of
gmmflow.GmmFlowError with the library's one-line message. Dask helpers: gmmflow.dask.
"""
from ._native import (CancelledError, DataFormatError, GmmFlowError, GmmFlowIOError, InternalError,
                      InvalidArgumentError, NativeLibraryError, NumericalError)
from .bridge import SchrodingerBridge
from .mixture import GaussianMixture
from .plan import TransportPlan, cost_matrix, gmm_ot_apply_map, gmm_ot_loss, gmm_ot_plan


def abi_version():
    """The C ABI's (major, minor, patch)."""
    import ctypes

    from ._native import lib
    v = [ctypes.c_int32() for _ in range(3)]
    lib.gmf_version(*[ctypes.byref(x) for x in v])
    return tuple(x.value for x in v)


__all__ = ["GaussianMixture", "TransportPlan", "SchrodingerBridge", "cost_matrix", "gmm_ot_plan", "gmm_ot_loss", "gmm_ot_apply_map",
           "GmmFlowError", "InvalidArgumentError", "DataFormatError", "NumericalError", "NativeLibraryError",
           "GmmFlowIOError", "CancelledError", "InternalError", "abi_version"]
