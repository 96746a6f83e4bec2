"""_lib.py -- finds libactlab.so and declares the C functions the package calls (ctypes).

Search order: $ACTLAB_LIB (a file), the package directory, the repository's build/ (a checkout
with PYTHONPATH=python), the prefix `make install` recorded in _paths.py, the dynamic loader
(ldconfig, LD_LIBRARY_PATH), then pkg-config's libdir for actlab. ctypes was chosen over cffi and a CPython extension by
measured per-call overhead: docs/python.md, "Binding".
"""
import ctypes
import ctypes.util
import os

c_float_p = ctypes.POINTER(ctypes.c_float)


class Shape(ctypes.Structure):
    """act_shape: (outer, channels, inner)."""
    _fields_ = [("outer", ctypes.c_size_t), ("channels", ctypes.c_size_t),
                ("inner", ctypes.c_size_t)]


class ActDesc(ctypes.Structure):
    """act_act_desc (act.h)."""
    _fields_ = [("name", ctypes.c_char_p), ("formula", ctypes.c_char_p),
                ("n_params", ctypes.c_int), ("flags", ctypes.c_uint),
                ("learnable", ctypes.c_uint), ("nonzero", ctypes.c_uint),
                ("param_names", ctypes.c_char_p * 3), ("defaults", ctypes.c_float * 3),
                ("n_kinks", ctypes.c_int), ("kinks", ctypes.c_float * 2)]


class Diag(ctypes.Structure):
    """act_diag (status.h)."""
    _fields_ = [("line", ctypes.c_int), ("col", ctypes.c_int), ("msg", ctypes.c_char * 256)]


def _candidates():
    env = os.environ.get("ACTLAB_LIB")
    if env:
        return [env]        # an explicit choice is never second-guessed
    here = os.path.dirname(os.path.abspath(__file__))
    out = [os.path.join(here, "libactlab.so"),
           os.path.join(os.path.dirname(os.path.dirname(here)), "build", "libactlab.so")]
    try:
        from . import _paths       # written by `make install`
        out.append(os.path.join(_paths.LIBDIR, "libactlab.so.0"))
    except ImportError:
        pass
    out.append("libactlab.so.0")
    found = ctypes.util.find_library("actlab")
    if found:
        out.append(found)
    return out


def _pkg_config():
    """`pkg-config --variable=libdir actlab`'s libactlab.so.0 (a prefix outside the loader's
    path, e.g. PKG_CONFIG_PATH=/opt/actlab/lib/pkgconfig), or None."""
    import subprocess
    try:
        r = subprocess.run(["pkg-config", "--variable=libdir", "actlab"], capture_output=True,
                           text=True, timeout=10)
    except (OSError, subprocess.SubprocessError):
        return None
    d = r.stdout.strip()
    return os.path.join(d, "libactlab.so.0") if r.returncode == 0 and d else None


def _load():
    errors = []
    cands = _candidates()
    if not os.environ.get("ACTLAB_LIB"):
        cands.append(_pkg_config)          # last, and only run when the others failed
    for path in cands:
        if callable(path):
            path = path()
            if path is None:
                continue
        if os.sep in path and not os.path.exists(path):
            errors.append("%s: no such file" % path)
            continue
        try:
            return ctypes.CDLL(path), path
        except OSError as e:
            errors.append(str(e))
    raise ImportError("actlab: cannot load libactlab.so (set ACTLAB_LIB=/path/to/libactlab.so, "
                      "build it with `make`, or `make install`); tried:\n  " +
                      "\n  ".join(errors))


lib, path = _load()

_I, _U, _P, _Z = ctypes.c_int, ctypes.c_uint, ctypes.c_void_p, ctypes.c_size_t


def _decl(name, restype, *argtypes):
    f = getattr(lib, name)
    f.restype = restype
    f.argtypes = list(argtypes)
    return f


strerror = _decl("act_strerror", ctypes.c_char_p, _I)
act_info = _decl("act_act_info", ctypes.POINTER(ActDesc), _I)
act_forward = _decl("act_act_forward", _I, _I, _P, _U, _P, _P, Shape)
act_backward = _decl("act_act_backward", _I, _I, _P, _U, _P, _P, _P, _P, Shape)
act_init_params = _decl("act_act_init_params", _I, _I, _I, ctypes.c_uint64, _Z, _P)
threads_get = _decl("act_threads_get", _I)
threads_set = _decl("act_threads_set", _I, _I)
expr_parse = _decl("act_expr_parse", _I, ctypes.c_char_p, ctypes.POINTER(_P),
                   ctypes.POINTER(Diag))
expr_free = _decl("act_expr_free", None, _P)
expr_canonical = _decl("act_expr_canonical", _I, _P, ctypes.POINTER(_P))
expr_print = _decl("act_expr_print", _I, _P, _I, ctypes.POINTER(_P))
expr_n_params = _decl("act_expr_n_params", _I, _P)
expr_param_init = _decl("act_expr_param_init", ctypes.c_float, _P, _I)
expr_compile = _decl("act_expr_compile", _I, _P, ctypes.POINTER(_P))
prog_free = _decl("act_expr_prog_free", None, _P)
prog_n_params = _decl("act_expr_prog_n_params", _I, _P)
prog_text = _decl("act_expr_prog_text", ctypes.c_char_p, _P)
expr_forward = _decl("act_expr_forward", _I, _P, _P, _U, _P, _P, Shape)
expr_backward = _decl("act_expr_backward", _I, _P, _P, _U, _P, _P, _P, _P, Shape)
libc_free = ctypes.CDLL(None).free
libc_free.argtypes = [_P]
libc_free.restype = None

PER_CHANNEL = 0x1
DX_ASSIGN = 0x2
FLAG_KINK = 0x1
FLAG_CHANNEL = 0x2
FLAG_RANDP = 0x4
INIT_DEFAULT = 0
INIT_PAPER = 1
EXPR_TEXT = 0
EXPR_TORCH = 3


class Error(RuntimeError):
    """A failed libactlab call: .status is the act_status code."""

    def __init__(self, status, what):
        self.status = status
        super().__init__("%s: %s" % (what, strerror(status).decode()))


def check(rc, what):
    if rc != 0:
        raise Error(rc, what)
