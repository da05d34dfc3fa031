"""ctypes binding of libgmmflow.so (include/gmmflow.h): loading, signatures, errors, array conversion."""
import ctypes
import os
from ctypes import POINTER, c_char_p, c_double, c_int32, c_int64, c_uint64, c_void_p

import numpy as np

_here = os.path.dirname(os.path.abspath(__file__))


class GmmFlowError(Exception):
    """Base class of every error raised by the native library; ``status`` is the C status code."""

    status = 7


class InvalidArgumentError(GmmFlowError, ValueError):
    status = 1


class DataFormatError(GmmFlowError, ValueError):
    status = 2


class NumericalError(GmmFlowError, ArithmeticError):
    status = 3


class NativeLibraryError(GmmFlowError, OSError):
    status = 4


class GmmFlowIOError(GmmFlowError, OSError):
    status = 5


class CancelledError(GmmFlowError):
    status = 6


class InternalError(GmmFlowError):
    status = 7


_ERRORS = {e.status: e for e in (InvalidArgumentError, DataFormatError, NumericalError, NativeLibraryError,
                                 GmmFlowIOError, CancelledError, InternalError)}
_ERRORS[8] = MemoryError


def _load():
    path = os.environ.get("GMMFLOW_LIBRARY") or os.path.join(_here, "libgmmflow.so")
    if not os.path.exists(path):
        raise NativeLibraryError(
            f"libgmmflow.so not found at {path}: run `bash python/build.sh` (needs the .NET 10 SDK) "
            "or set GMMFLOW_LIBRARY to the library's path")
    return ctypes.CDLL(path)


lib = _load()

_d = POINTER(c_double)
_i = POINTER(c_int32)
_h = POINTER(c_void_p)

_SIGNATURES = {
    "gmf_version": [_i, _i, _i],
    "gmf_mixture_create": [c_int32, c_int32, c_int32, _d, _d, _d, _h],
    "gmf_mixture_shape": [c_void_p, _i, _i, _i],
    "gmf_mixture_parameters": [c_void_p, _d, _d, _d],
    "gmf_mixture_fit": [_d, c_int64, c_int32, c_int32, c_void_p, _h, c_void_p],
    "gmf_mixture_log_density": [c_void_p, _d, c_int64, _d],
    "gmf_mixture_responsibilities": [c_void_p, _d, c_int64, _d],
    "gmf_mixture_predict": [c_void_p, _d, c_int64, _i],
    "gmf_mixture_bic": [c_void_p, _d, c_int64, _d],
    "gmf_mixture_sample": [c_void_p, c_int64, c_uint64, c_int64, _d, _i],
    "gmf_mixture_read_json": [c_char_p, _h],
    "gmf_mixture_write_json": [c_void_p, c_char_p],
    "gmf_mixture_to_json": [c_void_p, c_char_p, c_int64, POINTER(c_int64)],
    "gmf_mixture_from_json": [c_char_p, c_int64, _h],
    "gmf_em_statistics": [c_void_p, _d, c_int64, _d, _d, _d, _d, _d],
    "gmf_em_maximize": [c_void_p, _d, _d, _d, _d, c_double, _h],
    "gmf_cost_matrix": [c_void_p, c_void_p, c_int32, c_double, _d],
    "gmf_plan_create": [c_void_p, c_void_p, c_void_p, _h],
    "gmf_plan_create_linear": [c_void_p, c_void_p, c_char_p, c_int64, c_double, _h],
    "gmf_plan_info": [c_void_p, _d, _i, _i],
    "gmf_plan_pairs": [c_void_p, _i, _i, _d],
    "gmf_plan_mixture": [c_void_p, c_int32, _h],
    "gmf_plan_transport": [c_void_p, _d, c_int64, c_int32, c_uint64, _d],
    "gmf_plan_transport_chunk": [c_void_p, _d, c_int64, c_int32, c_uint64, c_int64, _d],
    "gmf_plan_velocity": [c_void_p, c_double, _d, c_int64, c_int32, _d],
    "gmf_plan_sample_marginal": [c_void_p, c_double, c_int64, c_uint64, _d],
    "gmf_plan_map": [c_void_p, _d, c_int64, c_int32, c_uint64, _d],
    "gmf_plan_read_json": [c_char_p, _h],
    "gmf_plan_write_json": [c_void_p, c_char_p],
    "gmf_plan_to_json": [c_void_p, c_char_p, c_int64, POINTER(c_int64)],
    "gmf_plan_from_json": [c_char_p, c_int64, _h],
    "gmf_bridge_fit": [_d, c_int64, _d, c_int64, c_int32, c_double, c_int32, c_int32, c_int32, c_uint64, _h],
    "gmf_bridge_create": [c_double, c_int32, c_int32, c_int32, _d, _d, _d, _h],
    "gmf_bridge_info": [c_void_p, _i, _i, _i, _d, _d],
    "gmf_bridge_parameters": [c_void_p, _d, _d, _d],
    "gmf_bridge_sample": [c_void_p, _d, c_int64, c_int32, c_uint64, _d],
    "gmf_bridge_transport": [c_void_p, _d, c_int64, c_int32, c_uint64, _d],
    "gmf_bridge_conditional_moments": [c_void_p, _d, c_int64, _d, _d],
    "gmf_bridge_read_json": [c_char_p, _h],
    "gmf_bridge_write_json": [c_void_p, c_char_p],
    "gmf_bridge_to_json": [c_void_p, c_char_p, c_int64, POINTER(c_int64)],
    "gmf_bridge_from_json": [c_char_p, c_int64, _h],
    "gmf_fit_options_default": [c_void_p],
    "gmf_plan_options_default": [c_void_p],
}
for _name, _args in _SIGNATURES.items():
    _f = getattr(lib, _name)
    _f.argtypes = _args
    _f.restype = c_int32
lib.gmf_last_error.argtypes = []
lib.gmf_last_error.restype = c_char_p
lib.gmf_em_second_moment_length.argtypes = [c_int32, c_int32, c_int32]
lib.gmf_em_second_moment_length.restype = c_int64
for _free in ("gmf_mixture_free", "gmf_plan_free", "gmf_bridge_free"):
    getattr(lib, _free).argtypes = [c_void_p]
    getattr(lib, _free).restype = None


class FitOptions(ctypes.Structure):
    _fields_ = [("covariance_type", c_int32), ("max_iter", c_int32), ("n_init", c_int32), ("reserved", c_int32),
                ("tol", c_double), ("reg_covar", c_double), ("seed", c_uint64), ("initial", c_void_p)]


class FitInfo(ctypes.Structure):
    _fields_ = [("converged", c_int32), ("iterations", c_int32), ("mean_log_likelihood", c_double), ("bic", c_double)]


class PlanOptions(ctypes.Structure):
    _fields_ = [("cost", c_int32), ("coupling", c_int32), ("noise", c_double), ("sinkhorn_temperature", c_double)]


def check(status):
    """Raises the exception class of a non-zero status with the library's one-line message."""
    if status != 0:
        message = lib.gmf_last_error().decode("utf-8", "replace")
        raise _ERRORS.get(status, InternalError)(message)


def doubles(a, name, columns=None):
    """A float64, C-contiguous 2-D (or 1-D when columns is None) view of `a`, copied only when needed."""
    arr = np.ascontiguousarray(a, dtype=np.float64)
    if columns is not None:
        if arr.ndim == 1 and columns == 1:
            arr = arr.reshape(-1, 1)
        if arr.ndim != 2 or arr.shape[1] != columns:
            raise InvalidArgumentError(f"{name} must have shape (n, {columns}); got {np.shape(a)}")
    return arr


def ptr(arr):
    # cast of the raw address: several times cheaper than arr.ctypes.data_as per call.
    return ctypes.cast(arr.__array_interface__["data"][0], _d) if arr is not None else None


def iptr(arr):
    return ctypes.cast(arr.__array_interface__["data"][0], _i) if arr is not None else None


def seed_of(random_state):
    """scikit-learn style random_state (None, int or numpy Generator/RandomState) to a 64-bit seed."""
    if random_state is None:
        return int(np.random.default_rng().integers(0, 2**63))
    if isinstance(random_state, (int, np.integer)):
        if random_state < 0:
            raise InvalidArgumentError(f"random_state must be non-negative; got {random_state}")
        return int(random_state) & (2**64 - 1)
    if isinstance(random_state, np.random.Generator):
        return int(random_state.integers(0, 2**63))
    if isinstance(random_state, np.random.RandomState):
        return int(random_state.randint(0, 2**31 - 1))
    raise InvalidArgumentError(f"random_state must be None, an int or a numpy random generator; got {type(random_state).__name__}")


def json_bytes(to_json, handle):
    length = c_int64(0)
    check(to_json(handle, None, 0, ctypes.byref(length)))
    buffer = ctypes.create_string_buffer(length.value)
    check(to_json(handle, buffer, length.value, ctypes.byref(length)))
    return buffer.raw[:length.value]


class Handle:
    """Owns one native handle and frees it exactly once."""

    __slots__ = ("value", "_free")

    def __init__(self, value, free):
        self.value = value
        self._free = free

    def __del__(self):
        if self.value:
            self._free(self.value)
            self.value = None
