# SPDX-License-Identifier: MIT
"""libawe.so.0 through ctypes: loading it, the structs and prototypes of
<awe.h> transcribed exactly, and AweError.

Nothing here is Pythonic on purpose: the rest of the package builds on these
declarations, and tests/test_structs.py checks them against the C compiler's
view of the header.
"""
import ctypes
import errno as _errno
import os
from ctypes import POINTER, Structure, c_char_p, c_int, c_size_t, c_ssize_t, c_uint, c_uint32
from ctypes import c_uint64, c_void_p

SONAME = "libawe.so.0"
LIBRARY_ENV = "LIBAWE_LIBRARY"


def load(soname, env, what):
    """ctypes.CDLL(soname), or the file $env names; an ImportError that says
    what to do when neither loads."""
    path = os.environ.get(env) or soname
    try:
        return ctypes.CDLL(path, use_errno=True)
    except OSError as e:
        where = f"{path} (named by {env})" if path != soname else soname
        raise ImportError(
            f"libawe: cannot load {what}, {where}: {e}. Install libawe (it provides {soname}), "
            f"or put the directory holding {soname} in LD_LIBRARY_PATH, or set {env} to "
            f"its path.", name="libawe", path=path) from e


lib = load(SONAME, LIBRARY_ENV, "the libawe C library")

# ---- Types and structs of <awe.h> (struct_X is struct X) ---------------------

awe_frame_t = c_uint64
awe_section_t = c_uint32
FRAMES = POINTER(awe_frame_t)


class struct_awe_page_info(Structure):
    _fields_ = [
        ("frame", awe_frame_t),
        ("prot", c_int),
        ("window", c_void_p),
        ("window_size", c_size_t),
    ]


class struct_awe_stats(Structure):
    _fields_ = [
        ("frames_allocated", c_uint64),
        ("frames_mapped", c_uint64),
        ("windows", c_uint64),
        ("window_bytes", c_uint64),
        ("parking_bytes", c_uint64),
        ("memlock_limit", c_uint64),
        ("engine", c_char_p),
        ("locked", c_uint32),
        ("reserved0", c_uint32),
        ("engine_reason", c_char_p),
        ("max_map_count", c_uint64),
        ("vmas_worst", c_uint64),
        ("reserved", c_uint64 * 3),
    ]


class struct_awe_probe(Structure):
    _fields_ = [
        ("engine", c_char_p),
        ("engine_reason", c_char_p),
        ("engine_error", c_int),
        ("started", c_uint32),
        ("locked", c_uint32),
        ("cap_ipc_lock", c_uint32),
        ("memlock_limit", c_uint64),
        ("memlock_room", c_uint64),
        ("mem_available", c_uint64),
        ("max_map_count", c_uint64),
        ("page_size", c_uint64),
        ("large_page_size", c_uint64),
        ("large_frames", c_uint64),
        ("large_reason", c_char_p),
        ("reserved", c_uint64 * 5),
    ]


STRUCTS = {"awe_page_info": struct_awe_page_info, "awe_stats": struct_awe_stats,
           "awe_probe": struct_awe_probe}

# ---- Constants of <awe.h> --------------------------------------------------

AWE_FRAME_LARGE = 1 << 62
AWE_INIT_UNLOCKED = 1 << 0
AWE_WINDOW_FIXED = 1 << 0
AWE_WINDOW_LARGE = 1 << 1
AWE_WINDOW_ALIGN_SHIFT = 8
AWE_WINDOW_ALIGN_MASK = 0x3F << 8
AWE_PROT_NONE = 0
AWE_PROT_READ = 1
AWE_PROT_READWRITE = 3
AWE_ALLOC_LARGE = 1 << 0
AWE_UNMAP_EXCLUSIVE = 1 << 0
AWE_SECTION_LARGE = 1 << 0
UINT64_MAX = (1 << 64) - 1

CONSTANTS = {name: value for name, value in globals().items() if name.startswith("AWE_")}

# ---- Prototypes ---------------------------------------------------------------

# name: (restype, argtypes, the version node that brought it)
PROTOTYPES = {
    "awe_init": (c_int, [c_uint], "0.1"),
    "awe_alloc": (c_ssize_t, [FRAMES, c_size_t], "0.1"),
    "awe_alloc_node": (c_ssize_t, [FRAMES, c_size_t, c_int], "0.1"),
    "awe_alloc_ex": (c_ssize_t, [FRAMES, c_size_t, c_int, c_uint], "0.5"),
    "awe_frame_node": (c_int, [awe_frame_t, POINTER(c_int)], "0.5"),
    "awe_large_page_size": (c_size_t, [], "0.5"),
    "awe_free": (c_int, [FRAMES, c_size_t, POINTER(c_size_t)], "0.1"),
    "awe_window_create": (c_int, [c_size_t, c_void_p, c_uint, POINTER(c_void_p)], "0.1"),
    "awe_window_destroy": (c_int, [c_void_p], "0.1"),
    "awe_map": (c_int, [c_void_p, c_size_t, FRAMES], "0.1"),
    "awe_map_scatter": (c_int, [POINTER(c_void_p), c_size_t, FRAMES], "0.1"),
    "awe_unmap": (c_int, [c_void_p, c_size_t, c_uint], "0.4"),
    "awe_unmap_scatter": (c_int, [POINTER(c_void_p), c_size_t, c_uint], "0.4"),
    "awe_protect": (c_int, [c_void_p, c_size_t, c_int, POINTER(c_int)], "0.1"),
    "awe_query": (c_int, [c_void_p, POINTER(struct_awe_page_info)], "0.1"),
    "awe_frame_addr": (c_int, [awe_frame_t, POINTER(c_void_p)], "0.1"),
    "awe_section_create": (c_int, [c_uint, POINTER(awe_section_t)], "0.2"),
    "awe_section_close": (c_int, [awe_section_t], "0.2"),
    "awe_section_alloc": (c_ssize_t, [awe_section_t, FRAMES, c_size_t], "0.2"),
    "awe_section_alloc_node": (c_ssize_t, [awe_section_t, FRAMES, c_size_t, c_int], "0.5"),
    "awe_section_free": (c_int, [awe_section_t, FRAMES, c_size_t, POINTER(c_size_t)], "0.2"),
    "awe_section_window_create": (
        c_int, [awe_section_t, c_size_t, c_void_p, c_uint, POINTER(c_void_p)], "0.2"),
    "awe_stats": (c_int, [POINTER(struct_awe_stats)], "0.1"),
    "awe_probe": (c_int, [POINTER(struct_awe_probe)], "0.3"),
    "awe_page_size": (c_size_t, [], "0.1"),
    "awe_strerror": (c_char_p, [c_int], "0.1"),
    "awe_version": (c_char_p, [], "0.6"),
}


def bind(library, prototypes, soname):
    """Set each function's types. A function the loaded library lacks (it is
    older than the package) becomes a stub that fails when called, so the
    rest stays usable."""
    for name, (restype, argtypes, since) in prototypes.items():
        try:
            fn = getattr(library, name)
        except AttributeError:
            globals()[name] = _missing(name, since, soname)
            continue
        fn.restype = restype
        fn.argtypes = argtypes
        globals()[name] = fn


def _missing(name, since, soname):
    def stub(*args):
        raise AweError(_errno.ENOSYS,
                       f"{name} is not in the {soname} loaded; it needs libawe {since} or later",
                       name)
    stub.__name__ = name
    return stub


def strerror(err):
    """awe_strerror(): libawe's sentence for an errno value (either sign)."""
    return awe_strerror(int(err)).decode("utf-8", "replace")


class AweError(OSError):
    """A libawe call failed. errno is the positive errno value, strerror its
    explanation (awe_strerror()'s, unless the binding knows more), function
    the C function (or method) that failed. An OSError, so that
    `except OSError as e: if e.errno == errno.EBUSY` works too."""

    def __init__(self, errno, message=None, function=None):
        super().__init__(errno, strerror(errno) if message is None else message)
        self.function = function

    def __str__(self):
        name = _errno.errorcode.get(self.errno, "?")
        text = f"[Errno {self.errno} {name}] {self.strerror}"
        return f"{self.function}: {text}" if self.function else text

    def __reduce__(self):
        return (type(self), (self.errno, self.strerror, self.function))


def check(r, function):
    """r from a function that returns a negative errno on failure."""
    if r < 0:
        raise AweError(-r, None, function)
    return r


bind(lib, PROTOTYPES, SONAME)
