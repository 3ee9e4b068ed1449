"""Loading pickles without executing them: a restricted unpickler for motion files.

Pickle and joblib files (WHAM outputs, SMPL body models) can name any importable callable,
so ``pickle.load`` on a downloaded file runs arbitrary code. ``safe_load_pickle`` admits
only numpy arrays, numpy scalars/dtypes and plain containers, plus three stand-ins that
never import their libraries:

- ``chumpy.*`` objects (legacy SMPL ``.pkl`` files) become the array in their ``x`` state;
- ``scipy.sparse`` matrices (``J_regressor``) become dense numpy arrays;
- joblib's ``NumpyArrayWrapper`` (uncompressed ``joblib.dump`` files) reads the raw array
  bytes that follow it in the stream.

Any other class raises ``MotionFormatError`` naming the file and the class. Admitted
callables that allocate from a number (``bytes(n)``, ``bytearray(n)``, ``ndarray(shape)``,
numpy's ``_reconstruct`` with a shape, a dense copy of a sparse matrix) are refused or
charged against the file's allocation budget (``twin.motion.limits``), so that a small file
cannot exhaust memory.
"""

from __future__ import annotations

import io
import pickle
from pathlib import Path
from typing import Any

import numpy as np

from twin.motion.errors import MotionFormatError
from twin.motion.limits import AllocBudget, ResourceLimitError, array_nbytes

_NUMPY_CALLABLES = {
    ("numpy.core.multiarray", "_reconstruct"), ("numpy._core.multiarray", "_reconstruct"),
    ("numpy.core.multiarray", "scalar"), ("numpy._core.multiarray", "scalar"),
    ("numpy.core.numeric", "_frombuffer"), ("numpy._core.numeric", "_frombuffer"),
    ("numpy", "ndarray"), ("numpy", "dtype"),
    ("_codecs", "encode"),  # protocol-2 pickles from Python 3 encode bytes through it
}
_BUILTINS = {"set", "frozenset", "list", "dict", "tuple", "complex", "bytearray", "slice",
             "int", "float", "str", "bytes", "bool", "object"}
_ALLOCATE_FROM_INT = (bytes, bytearray)  # bytes(n) / bytearray(n): n zero bytes
_CODEC_ENCODINGS = {"latin1", "latin-1", "iso-8859-1", "utf-8", "utf8"}
_SPARSE_MODULES = {"scipy.sparse", "scipy.sparse.csc", "scipy.sparse.csr", "scipy.sparse.coo",
                   "scipy.sparse._csc", "scipy.sparse._csr", "scipy.sparse._coo",
                   "scipy.sparse._arrays"}
_SPARSE_CLASSES = {"csc_matrix", "csr_matrix", "coo_matrix", "csc_array", "csr_array",
                   "coo_array"}
_NUMPY_DTYPE_MODULES = {"numpy.dtypes", "numpy"}


class _StandIn:
    """Placeholder for an admitted foreign object; keeps its pickled state only."""

    foreign_name = ""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        self.args = args
        self.state: Any = None

    def __setstate__(self, state: Any) -> None:
        self.state = state

    def __reduce__(self):  # pragma: no cover - never re-pickled
        raise TypeError("stand-in objects are not picklable")


class _ChumpyStandIn(_StandIn):
    foreign_name = "chumpy"


class _SparseStandIn(_StandIn):
    foreign_name = "scipy.sparse"


class _JoblibArrayStandIn(_StandIn):
    foreign_name = "joblib.numpy_pickle.NumpyArrayWrapper"


def _safe_reconstructor(cls: type, base: type, state: Any) -> Any:
    """``copyreg._reconstructor`` restricted to the stand-ins and plain object bases."""
    if not (isinstance(cls, type) and issubclass(cls, _StandIn)) or base is not object:
        raise pickle.UnpicklingError(f"copyreg._reconstructor of {cls!r} is not admitted")
    return cls.__new__(cls)


class _RestrictedUnpickler(pickle._Unpickler):  # pure-Python: its BUILD can be extended
    def __init__(self, file: io.BufferedIOBase, path: str, budget: AllocBudget) -> None:
        super().__init__(file, encoding="latin1")
        self._path = path
        self._file = file
        self.budget = budget
        self.dispatch = dict(pickle._Unpickler.dispatch)
        self.dispatch[pickle.BUILD[0]] = type(self)._load_build
        self.dispatch[pickle.REDUCE[0]] = type(self)._load_reduce
        self.dispatch[pickle.NEWOBJ[0]] = type(self)._load_newobj
        self.dispatch[pickle.NEWOBJ_EX[0]] = type(self)._load_newobj_ex

    def _refuse(self, what: str) -> None:
        raise ResourceLimitError(self._path, None, f"pickle calls {what}, which allocates "
                                 "memory from a number; expected array data stored in the file")

    def _check_call(self, func: Any, args: tuple) -> None:
        if func is np.ndarray:
            self._refuse("numpy.ndarray(shape)")
        if func in _ALLOCATE_FROM_INT and any(isinstance(a, int) for a in args):
            self._refuse(f"{func.__name__}(int)")

    def _load_reduce(self) -> None:
        args = self.stack[-1]
        func = self.stack[-2]
        self._check_call(func, args if isinstance(args, tuple) else ())
        pickle._Unpickler.load_reduce(self)

    def _load_newobj(self) -> None:
        args, cls = self.stack[-1], self.stack[-2]
        self._check_call(cls, args if isinstance(args, tuple) else ())
        pickle._Unpickler.load_newobj(self)

    def _load_newobj_ex(self) -> None:
        args, cls = self.stack[-2], self.stack[-3]
        self._check_call(cls, args if isinstance(args, tuple) else ())
        pickle._Unpickler.load_newobj_ex(self)

    def _reconstruct(self, subtype: Any, shape: Any, dtype: Any) -> Any:
        """numpy's ``_reconstruct`` allocates ``shape``: charge it first."""
        _reconstruct = np.array(0).__reduce__()[0]  # numpy.core or numpy._core
        try:
            nbytes = array_nbytes(tuple(shape), np.dtype(dtype))
        except (TypeError, ValueError) as exc:
            raise MotionFormatError(self._path, None, f"numpy array header {shape!r} "
                                    f"{dtype!r} is not a shape and dtype") from exc
        self.budget.charge(nbytes, f"numpy array {tuple(shape)}")
        return _reconstruct(subtype, shape, dtype)

    def _encode(self, obj: Any, encoding: str = "utf-8", errors: str = "strict") -> bytes:
        import codecs

        if not isinstance(obj, str) or str(encoding).lower() not in _CODEC_ENCODINGS:
            raise MotionFormatError(self._path, None, f"pickle encodes with {encoding!r}; "
                                    "expected latin1 text (protocol-2 bytes)")
        return codecs.encode(obj, encoding, errors)

    def _load_build(self) -> None:
        pickle._Unpickler.load_build(self)
        obj = self.stack[-1]
        if isinstance(obj, _JoblibArrayStandIn):
            self.stack[-1] = _read_joblib_array(obj, self._file, self._path, self.budget)

    def find_class(self, module: str, name: str) -> Any:
        if name == "_reconstruct" and module in ("numpy.core.multiarray",
                                                 "numpy._core.multiarray"):
            return self._reconstruct
        if (module, name) == ("_codecs", "encode"):
            return self._encode
        if (module, name) in _NUMPY_CALLABLES:
            return super().find_class(module, name)
        if module in ("builtins", "__builtin__") and name in _BUILTINS:
            return super().find_class("builtins", name)
        if module in ("copyreg", "copy_reg") and name == "_reconstructor":
            return _safe_reconstructor
        if module == "collections" and name == "OrderedDict":
            return super().find_class(module, name)
        if module in _NUMPY_DTYPE_MODULES and name.endswith("DType"):
            return super().find_class(module, name)
        if module.split(".")[0] == "chumpy":
            return type(name, (_ChumpyStandIn,), {"foreign_name": f"{module}.{name}"})
        if module in _SPARSE_MODULES and name in _SPARSE_CLASSES:
            return type(name, (_SparseStandIn,), {"foreign_name": f"{module}.{name}"})
        if module == "joblib.numpy_pickle" and name == "NumpyArrayWrapper":
            return _JoblibArrayStandIn
        raise MotionFormatError(
            self._path, None,
            f"pickle names the class {module}.{name}; expected only numpy arrays, plain "
            "containers, chumpy arrays or scipy sparse matrices (refusing to execute it)",
        )


def _read_joblib_array(w: _JoblibArrayStandIn, f: io.BufferedIOBase, path: str,
                       budget: AllocBudget) -> np.ndarray:
    st = w.state if isinstance(w.state, dict) else {}
    try:
        dtype = np.dtype(st["dtype"])
        shape = tuple(int(s) for s in st["shape"])
        order = st.get("order", "C")
    except (KeyError, TypeError) as exc:
        raise MotionFormatError(path, None, "joblib array wrapper without dtype/shape") from exc
    if dtype.hasobject:
        raise MotionFormatError(path, None, "joblib object arrays are not admitted; expected "
                                "numeric arrays")
    if st.get("numpy_array_alignment_bytes") is not None:
        pad = f.read(1)
        if pad and pad[0]:
            f.read(pad[0])
    nbytes = array_nbytes(shape, dtype)
    budget.charge(nbytes, f"joblib array {shape}")
    count = nbytes // dtype.itemsize if dtype.itemsize else 0
    data = f.read(nbytes)
    if len(data) != count * dtype.itemsize:
        raise MotionFormatError(path, None, "joblib array data truncated")
    arr = np.frombuffer(data, dtype=dtype, count=count).copy()
    return arr.reshape(shape[::-1]).T if order == "F" else arr.reshape(shape)


def _sparse_to_dense(obj: _SparseStandIn, path: str, budget: AllocBudget) -> np.ndarray:
    st = obj.state if isinstance(obj.state, dict) else {}
    shape = st.get("_shape", st.get("shape"))
    fmt = obj.foreign_name.rsplit(".", 1)[-1][:3]
    if shape is None:
        raise MotionFormatError(path, None, f"{obj.foreign_name} without a shape")
    shape = tuple(int(s) for s in shape)
    budget.charge(array_nbytes(shape, np.float64), f"dense copy of {obj.foreign_name} {shape}")
    out = np.zeros(shape, dtype=np.float64)
    if fmt == "coo":
        row = st.get("row", st.get("coords", (None, None))[0] if "coords" in st else None)
        col = st.get("col", st.get("coords", (None, None))[1] if "coords" in st else None)
        np.add.at(out, (np.asarray(row), np.asarray(col)), np.asarray(st["data"]))
        return out
    data, indices, indptr = (np.asarray(st[k]) for k in ("data", "indices", "indptr"))
    major = np.repeat(np.arange(len(indptr) - 1), np.diff(indptr))
    if fmt == "csc":
        np.add.at(out, (indices, major), data)
    else:
        np.add.at(out, (major, indices), data)
    return out


MAX_NESTING = 64  # motion pickles nest a few levels (dict of dicts of arrays)


def _resolve(obj: Any, path: str, memo: dict[int, Any], budget: AllocBudget,
             depth: int = 0) -> Any:
    """Replace stand-ins by arrays, recursively through plain containers."""
    key = id(obj)
    if key in memo:
        return memo[key]
    if depth > MAX_NESTING:
        raise ResourceLimitError(path, None, f"containers nested deeper than {MAX_NESTING} "
                                 "levels; expected plain arrays and containers")
    down = depth + 1
    if isinstance(obj, _ChumpyStandIn):
        st = obj.state if isinstance(obj.state, dict) else {}
        if "x" not in st:
            raise MotionFormatError(path, None, f"{obj.foreign_name} object without array "
                                    "data 'x'; expected a chumpy Ch holding an array")
        out: Any = np.asarray(_resolve(st["x"], path, memo, budget, down), dtype=np.float64)
    elif isinstance(obj, _SparseStandIn):
        out = _sparse_to_dense(obj, path, budget)
    elif isinstance(obj, _StandIn):
        raise MotionFormatError(path, None, f"unresolved {obj.foreign_name} object")
    elif isinstance(obj, dict):
        out = {k: _resolve(v, path, memo, budget, down) for k, v in obj.items()}
    elif isinstance(obj, list):
        out = [_resolve(v, path, memo, budget, down) for v in obj]
    elif isinstance(obj, tuple):
        out = tuple(_resolve(v, path, memo, budget, down) for v in obj)
    else:
        out = obj
    memo[key] = out
    return out


def safe_load_pickle(path: str | Path) -> Any:
    """Unpickle ``path`` admitting only data (see module docstring); never runs its code."""
    path = str(path)
    with open(path, "rb") as fh:
        raw = fh.read()
    return safe_loads_pickle(raw, path)


def safe_loads_pickle(raw: bytes, path: str = "<bytes>") -> Any:
    budget = AllocBudget(path, len(raw))
    try:
        obj = _RestrictedUnpickler(io.BytesIO(raw), path, budget).load()
    except MotionFormatError:
        raise
    except (MemoryError, RecursionError) as exc:
        raise ResourceLimitError(path, None, f"pickle stream exhausts {type(exc).__name__[:-5]}"
                                 "; expected plain arrays and containers") from exc
    except Exception as exc:  # truncated or corrupt stream
        raise MotionFormatError(path, None, f"not a readable pickle stream ({exc})") from exc
    return _resolve(obj, path, {}, budget)

