# SPDX-License-Identifier: MIT
"""libawe: Address Windowing Extensions for Linux, from Python.

Frames are locked, zero-filled pages named by frame numbers; windows are
reserved address ranges whose page slots each show one frame, or nothing.
Mapping moves no data: a frame keeps its contents wherever it is shown.

    import libawe

    with libawe.Frames(4) as frames, libawe.Window(8) as win:
        win.map(0, frames)                 # frames at slots 0..3
        view = win.memoryview(0, 4)        # the bytes of those slots
        view[:5] = b"hello"
        win.unmap(0, 4)                    # view is released here
        win.map(4, frames)                 # the same frames at slots 4..7
        assert bytes(win.memoryview(4, 1)[:5]) == b"hello"

The C library is loaded by its soname, libawe.so.0, or from the path in
$LIBAWE_LIBRARY. libawe.win32 has the Win32 functions (libawe-win32.so.0).
Failures raise AweError, an OSError whose errno is the C library's and whose
strerror is awe_strerror()'s sentence. See help(libawe._core) for how views
are kept from outliving their mapping.
"""
from ._version import __version__
from ._core import *  # noqa: F401,F403
from ._core import __all__ as _core_all
from ._lib import SONAME, LIBRARY_ENV

__all__ = ["__version__", "SONAME", "LIBRARY_ENV"] + _core_all
