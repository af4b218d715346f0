# SPDX-License-Identifier: MIT
"""The native API of <awe.h>, the Python way: Frames, Window and Section as
context managers, memoryviews over mapped slots, AweError for failures.

Views and safety: a memoryview from Window.memoryview() reads and writes the
slots' memory directly, and touching a slot that is unmapped (or protected
against the access) kills the process with SIGBUS or SIGSEGV. So the package
keeps track of the views it hands out, and every call made through it that
would leave a viewed slot unmapped or protected (unmap, free, destroy,
protect, a scatter entry of 0) first releases those views; using one then
raises ValueError instead of faulting. A view that cannot be released, because
a slice of it or an object holding its buffer still exists, makes that call
raise BufferError and change no mapping (as mmap.close() does). Calls made
around the package (the C API or libawe.win32 directly) are not seen: a view
is valid only while its slots stay mapped.
"""
import bisect
import ctypes
import enum
import errno
import operator
import os
import sys
import threading
import weakref
from ctypes import byref, c_int, c_size_t, c_void_p
from dataclasses import dataclass
from typing import Optional

from . import _lib
from ._lib import AweError, awe_frame_t, check, strerror

__all__ = [
    "AweError", "SlotError", "Prot", "Stats", "Probe", "PageInfo", "Frames", "Window", "Section",
    "init", "page_size", "large_page_size", "version", "strerror", "stats", "probe", "query",
    "map", "map_scatter", "unmap", "unmap_scatter", "protect", "frame_address", "frame_node",
    "window_align", "PROT_NONE", "PROT_READ", "PROT_READWRITE", "INIT_UNLOCKED", "WINDOW_FIXED",
    "WINDOW_LARGE", "ALLOC_LARGE", "UNMAP_EXCLUSIVE", "SECTION_LARGE", "FRAME_LARGE",
]


class SlotError(AweError, IndexError):
    """A slot index or range outside the window: errno EINVAL, as libawe
    says of a range not inside a single window, and an IndexError too."""


class Prot(enum.IntEnum):
    """Page protections of awe_protect() (the values of mmap's PROT_*)."""
    NONE = _lib.AWE_PROT_NONE
    READ = _lib.AWE_PROT_READ
    READWRITE = _lib.AWE_PROT_READWRITE


PROT_NONE, PROT_READ, PROT_READWRITE = Prot.NONE, Prot.READ, Prot.READWRITE
INIT_UNLOCKED = _lib.AWE_INIT_UNLOCKED
WINDOW_FIXED = _lib.AWE_WINDOW_FIXED
WINDOW_LARGE = _lib.AWE_WINDOW_LARGE
ALLOC_LARGE = _lib.AWE_ALLOC_LARGE
UNMAP_EXCLUSIVE = _lib.AWE_UNMAP_EXCLUSIVE
SECTION_LARGE = _lib.AWE_SECTION_LARGE
FRAME_LARGE = _lib.AWE_FRAME_LARGE


def window_align(k):
    """AWE_WINDOW_ALIGN(k): the flag aligning a window's base to 2**k bytes."""
    return (k << _lib.AWE_WINDOW_ALIGN_SHIFT) & 0xFFFFFFFF


# ---- Results --------------------------------------------------------------------


def _unlimited(v):
    return None if v == _lib.UINT64_MAX else v


def _text(b):
    return None if b is None else b.decode("utf-8", "replace")


@dataclass(frozen=True)
class Stats:
    """awe_stats(). memlock_limit is None when unlimited."""
    frames_allocated: int
    frames_mapped: int
    windows: int
    window_bytes: int
    parking_bytes: int
    memlock_limit: Optional[int]
    engine: str
    locked: bool
    engine_reason: str
    max_map_count: int
    vmas_worst: int


@dataclass(frozen=True)
class Probe:
    """awe_probe(). engine is None when no engine can start, and then
    engine_error is why (a positive errno value; 0 otherwise). memlock_limit
    and memlock_room are None when unlimited."""
    engine: Optional[str]
    engine_reason: str
    engine_error: int
    started: bool
    locked: bool
    cap_ipc_lock: bool
    memlock_limit: Optional[int]
    memlock_room: Optional[int]
    mem_available: int
    max_map_count: int
    page_size: int
    large_page_size: int
    large_frames: int
    large_reason: Optional[str]


@dataclass(frozen=True)
class PageInfo:
    """awe_query() of one slot. frame is None when the slot is empty."""
    frame: Optional[int]
    prot: Prot
    window: int
    window_size: int


# ---- Plain functions -----------------------------------------------------------


def init(flags=0):
    """awe_init(): optional; flags 0 or INIT_UNLOCKED (frames not locked)."""
    check(_lib.awe_init(flags), "awe_init")


def page_size():
    """The size of a frame and of a slot, in bytes."""
    return _lib.awe_page_size()


def large_page_size():
    """The size of a large frame and slot in bytes; 0 without huge pages."""
    return _lib.awe_large_page_size()


def version():
    """The version of the libawe C library loaded ("MAJOR.MINOR.PATCH")."""
    return _lib.awe_version().decode()


def stats():
    """Process-wide counters (starts libawe)."""
    st = _lib.struct_awe_stats()
    check(_lib.awe_stats(byref(st)), "awe_stats")
    return Stats(st.frames_allocated, st.frames_mapped, st.windows, st.window_bytes,
                 st.parking_bytes, _unlimited(st.memlock_limit), _text(st.engine),
                 bool(st.locked), _text(st.engine_reason), st.max_map_count, st.vmas_worst)


def probe():
    """Whether and how libawe works here, without starting it."""
    p = _lib.struct_awe_probe()
    check(_lib.awe_probe(byref(p)), "awe_probe")
    return Probe(_text(p.engine), _text(p.engine_reason), -p.engine_error, bool(p.started),
                 bool(p.locked), bool(p.cap_ipc_lock), _unlimited(p.memlock_limit),
                 _unlimited(p.memlock_room), p.mem_available, p.max_map_count, p.page_size,
                 p.large_page_size, p.large_frames, _text(p.large_reason))


def query(address):
    """Describe the slot holding address."""
    info = _lib.struct_awe_page_info()
    check(_lib.awe_query(address, byref(info)), "awe_query")
    return PageInfo(info.frame or None, Prot(info.prot), info.window or 0, info.window_size)


def frame_address(frame):
    """The slot where a frame of the process is mapped, or None."""
    addr = c_void_p()
    check(_lib.awe_frame_addr(_frame(frame), byref(addr)), "awe_frame_addr")
    return addr.value


def frame_node(frame):
    """The NUMA node a frame's page lives on."""
    node = c_int()
    check(_lib.awe_frame_node(_frame(frame), byref(node)), "awe_frame_node")
    return node.value


# ---- Argument conversion -----------------------------------------------------


def _count(n, what, function):
    n = operator.index(n)
    if n < 0:
        raise AweError(errno.EINVAL, f"{what} cannot be negative ({n})", function)
    return n


def _frame(f, function=None):
    f = 0 if f is None else operator.index(f)
    if not 0 <= f <= _lib.UINT64_MAX:
        raise AweError(errno.ENOENT, f"{f} is not a frame number: {strerror(errno.ENOENT)}",
                       function)
    return f


def _frame_array(frames, function):
    """(ctypes array or None, count) for a Frames, a frame number, or an
    iterable of frame numbers (None entries are 0)."""
    if frames is None:
        return None, 0
    if isinstance(frames, Frames):
        arr = frames._live(function)
        return arr, len(arr)
    if isinstance(frames, int):
        frames = (frames,)
    values = [_frame(f, function) for f in frames]
    return (awe_frame_t * len(values))(*values), len(values)


def _addresses(addrs):
    values = [operator.index(a) for a in addrs]
    return (c_void_p * len(values))(*values), values


# ---- Views ---------------------------------------------------------------------------

# Calls that change mappings, and the making of views, hold this lock: a view
# is never made of a slot that a call of another thread is unmapping.
_lock = threading.RLock()


class _View:
    __slots__ = ("start", "end", "writable", "section", "buf", "ref")

    def __init__(self, start, end, writable, section, buf, ref):
        self.start, self.end, self.writable = start, end, writable
        self.section, self.buf, self.ref = section, buf, ref

    def in_use(self):
        """Whether a memoryview of the buffer (the one handed out, a slice of
        it, ...) is still alive and not released."""
        if hasattr(sys, "getrefcount"):
            # Our reference and getrefcount's own: any more is a view's.
            return sys.getrefcount(self.buf) > 2
        view = self.ref()
        try:
            return view is not None and view.nbytes >= 0
        except ValueError:
            return False


_views = []


def _make_view(start, length, writable, section):
    buf = (ctypes.c_ubyte * length).from_address(start)
    raw = memoryview(buf)
    view = raw.cast("B")
    raw.release()
    if not writable:
        ro = view.toreadonly()
        view.release()
        view = ro
    _views[:] = [v for v in _views if v.in_use()]
    _views.append(_View(start, start + length, writable, section, buf, weakref.ref(view)))
    return view


def _release_views(select, what):
    """Release the views select(view) picks, before a call that would make
    their memory fault; BufferError (the call not made) when one cannot be."""
    if not _views:
        return
    blocked = None
    keep = []
    for v in _views:
        if not v.in_use():
            continue
        if select(v):
            view = v.ref()
            if view is not None:
                try:
                    view.release()
                except BufferError:
                    pass
                del view
            if v.in_use():
                blocked = blocked or v
            else:
                continue
        keep.append(v)
    _views[:] = keep
    if blocked:
        raise BufferError(
            f"{what}: the memory at {blocked.start:#x}..{blocked.end:#x} is still viewed (a slice "
            f"of a memoryview of it, or an object using its buffer, is alive): release or delete "
            f"it first; no mapping was changed")


def _overlapping(start, end):
    return lambda v: v.start < end and start < v.end


def _holding_any(addresses):
    addrs = sorted(a for a in addresses if a)

    def select(v):
        i = bisect.bisect_left(addrs, v.start)
        return i < len(addrs) and addrs[i] < v.end
    return select


def _window_of(address):
    """The range of the window holding address, or an empty range."""
    info = _lib.struct_awe_page_info()
    if _lib.awe_query(address, byref(info)) < 0:
        return 0, 0
    return info.window, info.window + info.window_size


def _forget_views():
    # A child of fork() has none of the parent's frames and windows.
    for v in _views:
        view = v.ref()
        if view is not None:
            try:
                view.release()
            except BufferError:
                pass
    _views.clear()


if hasattr(os, "register_at_fork"):
    os.register_at_fork(after_in_child=_forget_views)

# ---- Mapping by address ------------------------------------------------------------


def map(address, frames):
    """awe_map(): map frames at the consecutive slots from the one holding
    address. frames: a Frames, a frame number or an iterable of them."""
    arr, n = _frame_array(frames, "awe_map")
    if arr is None:
        raise TypeError("map() needs frames; unmap() unmaps")
    with _lock:
        check(_lib.awe_map(address, n, arr), "awe_map")


def map_scatter(addresses, frames=None):
    """awe_map_scatter(): frames[i] at the slot holding addresses[i]; a frame
    of 0 or None, or frames=None, unmaps."""
    addrs, values = _addresses(addresses)
    arr, n = _frame_array(frames, "awe_map_scatter")
    if arr is not None and n != len(values):
        raise AweError(errno.EINVAL, f"{len(values)} addresses but {n} frames", "awe_map_scatter")
    emptied = values if arr is None else [a for a, f in zip(values, arr) if not f]
    with _lock:
        _release_views(_holding_any(emptied), "awe_map_scatter")
        check(_lib.awe_map_scatter(addrs, len(values), arr), "awe_map_scatter")


def unmap(address, count=1, *, exclusive=False):
    """awe_unmap(): unmap count slots from the one holding address."""
    count = _count(count, "count", "awe_unmap")
    with _lock:
        if count:
            _release_views(_overlapping(*_window_of(address)), "awe_unmap")
        check(_lib.awe_unmap(address, count, UNMAP_EXCLUSIVE if exclusive else 0), "awe_unmap")


def unmap_scatter(addresses, *, exclusive=False):
    """awe_unmap_scatter(): unmap the slots holding addresses."""
    addrs, values = _addresses(addresses)
    with _lock:
        _release_views(_holding_any(values), "awe_unmap_scatter")
        check(_lib.awe_unmap_scatter(addrs, len(values), UNMAP_EXCLUSIVE if exclusive else 0),
              "awe_unmap_scatter")


def _protect(address, count, prot, select):
    old = c_int(-1)
    with _lock:
        if prot in (PROT_NONE, PROT_READ) and count:
            _release_views(select(prot), "awe_protect")
        check(_lib.awe_protect(address, count, int(prot), byref(old)), "awe_protect")
    return None if old.value < 0 else Prot(old.value)


def protect(address, count, prot):
    """awe_protect(): set the protection of count slots from the one
    holding address; returns the first slot's old protection (None when
    count is 0)."""
    count = _count(count, "count", "awe_protect")
    start, end = _window_of(address)
    return _protect(address, count, prot, lambda p: lambda v: _overlapping(start, end)(v) and (
        p == PROT_NONE or v.writable))


# ---- Frames --------------------------------------------------------------------------


class Frames:
    """Frames allocated together: a sequence of frame numbers (ints).

    Frames(count, node=None, large=False, partial=False) allocates count
    frames (zero-filled, resident, locked unless INIT_UNLOCKED), preferring
    NUMA node node, large frames (one huge page each) with large=True. libawe
    may give fewer than asked when memory or the memlock allowance runs out:
    that raises AweError(ENOMEM) unless partial=True, which keeps what came.

    free() (or leaving a with block) gives them back, unmapping those mapped;
    freeing twice is harmless. Nothing frees them behind your back: a Frames
    that is garbage-collected keeps its frames, since a window may still show
    them.
    """

    def __init__(self, count, *, node=None, large=False, partial=False):
        self._alloc(count, node, large, partial, None)

    def _alloc(self, count, node, large, partial, section):
        self._array = None
        self._section = section
        self._large = bool(large)
        if section is not None:
            fn = "awe_section_alloc" if node is None else "awe_section_alloc_node"
        elif large:
            fn = "awe_alloc_ex"
        else:
            fn = "awe_alloc" if node is None else "awe_alloc_node"
        count = _count(count, "count", fn)
        arr = (awe_frame_t * count)()
        nd = -1 if node is None else operator.index(node)
        if section is not None:
            self._large = section.large
            n = (_lib.awe_section_alloc(section.handle, arr, count) if node is None else
                 _lib.awe_section_alloc_node(section.handle, arr, count, nd))
        elif large:
            n = _lib.awe_alloc_ex(arr, count, nd, ALLOC_LARGE)
        elif node is None:
            n = _lib.awe_alloc(arr, count)
        else:
            n = _lib.awe_alloc_node(arr, count, nd)
        check(n, fn)
        self._array = arr if n == count else (awe_frame_t * n)(*arr[:n])
        if n < count and not partial:
            self.free()
            raise AweError(errno.ENOMEM,
                           f"only {n} of the {count} frames asked for could be had (pass "
                           f"partial=True to keep fewer): {strerror(errno.ENOMEM)}", fn)

    def _live(self, function):
        if self._array is None:
            raise ValueError(f"{function}: these frames were freed")
        return self._array

    @property
    def array(self):
        """The frame numbers as a ctypes array of awe_frame_t (None once
        freed), to pass to C or to libawe.win32 as a PFN array."""
        return self._array

    @property
    def closed(self):
        return self._array is None

    @property
    def large(self):
        return self._large

    @property
    def section(self):
        """The Section the frames belong to, or None for the process's."""
        return self._section

    def __len__(self):
        return 0 if self._array is None else len(self._array)

    def __iter__(self):
        return iter(()) if self._array is None else iter(self._array[:])

    def __getitem__(self, i):
        return self._live("Frames")[i]

    def __contains__(self, frame):
        return self._array is not None and frame in self._array[:]

    def node(self, i):
        """The NUMA node of the i-th frame's page."""
        return frame_node(self[i])

    def free(self):
        """Free every frame (unmapping those mapped). On failure the frames
        before the bad one are freed, the rest stay here."""
        arr = self._array
        if arr is None:
            return
        n = len(arr)
        if n == 0:
            self._array = None
            return
        freed = c_size_t(0)
        s = self._section
        fn = "awe_free" if s is None else "awe_section_free"
        with _lock:
            if _views:
                if s is None:
                    _release_views(_holding_any(_mapped_at(arr)), fn)
                else:
                    _release_views(lambda v: v.section == s.handle, fn)
            r = (_lib.awe_free(arr, n, byref(freed)) if s is None else
                 _lib.awe_section_free(s.handle, arr, n, byref(freed)))
            k = freed.value
            if r < 0:
                self._array = (awe_frame_t * (n - k))(*arr[k:])
                raise AweError(-r, None, fn)
            self._array = None

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.free()

    def __repr__(self):
        if self._array is None:
            return "<libawe.Frames freed>"
        kind = " large" if self._large else ""
        owner = f" of section {self._section.handle}" if self._section else ""
        return f"<libawe.Frames {len(self._array)}{kind}{owner}>"


def _mapped_at(frames):
    addrs = []
    p = c_void_p()
    for f in frames:
        if _lib.awe_frame_addr(f, byref(p)) == 0 and p.value:
            addrs.append(p.value)
    return addrs


# ---- Windows -------------------------------------------------------------------------


class Window:
    """A window of slots, each showing one frame or nothing.

    Window(slots, large=False, hint=None, fixed=False, align=None,
    section=None, flags=0) reserves slots slots of page_size() bytes
    (large_page_size() with large=True or in a large section's window).
    hint is where to put it (an address), exactly with fixed=True; align a
    power of two in bytes for the base. close() (or leaving a with block)
    releases it; its frames stay allocated with their contents.

    Slots are addressed by index (negative ones count from the end). As a
    sequence, window[i] is the frame at slot i or None; window[i] = frame
    maps, window[i:j] = frames maps a run, del window[i] unmaps.
    """

    def __init__(self, slots, *, large=False, hint=None, fixed=False, align=None, section=None,
                 flags=0):
        self._base = None
        fn = "awe_window_create" if section is None else "awe_section_window_create"
        slots = _count(slots, "slots", fn)
        self._large = bool(large) or (section is not None and section.large)
        self._slot_size = large_page_size() if self._large else page_size()
        self._slots = slots
        self._section = section
        flags |= (WINDOW_LARGE if large else 0) | (WINDOW_FIXED if fixed else 0)
        if align is not None:
            align = operator.index(align)
            if align <= 0 or align & (align - 1):
                raise AweError(errno.EINVAL, f"align must be a power of two, not {align}", fn)
            flags |= window_align(align.bit_length() - 1)
        base = c_void_p()
        size = slots * self._slot_size
        if section is None:
            r = _lib.awe_window_create(size, hint, flags, byref(base))
        else:
            r = _lib.awe_section_window_create(section.handle, size, hint, flags, byref(base))
        check(r, fn)
        self._base = base.value

    # -- properties

    @property
    def base(self):
        """The address of slot 0."""
        self._open("base")
        return self._base

    @property
    def slots(self):
        return self._slots

    @property
    def slot_size(self):
        return self._slot_size

    @property
    def size(self):
        return self._slots * self._slot_size

    @property
    def large(self):
        return self._large

    @property
    def section(self):
        return self._section

    @property
    def closed(self):
        return self._base is None

    def __len__(self):
        return self._slots

    def _open(self, what):
        if self._base is None:
            raise ValueError(f"{what}: the window is closed")

    def _range(self, index, count, what):
        """(first slot, count): index may be negative; count None is to the end."""
        self._open(what)
        index = operator.index(index)
        i = index + self._slots if index < 0 else index
        if count is None:
            count = max(self._slots - i, 0)
        count = _count(count, "count", what)
        if i < 0 or i + count > self._slots:
            raise SlotError(errno.EINVAL, f"slots [{index}, {index} + {count}) are not inside "
                            f"this window of {self._slots} slots", what)
        return i, count

    def address(self, index=0):
        """The address of slot index."""
        i, _ = self._range(index, 1, "address")
        return self._base + i * self._slot_size

    # -- mapping

    def map(self, index, frames):
        """Map frames at the slots from index on (all-or-nothing). A frame
        already at a slot is detached (kept, with its contents)."""
        arr, n = _frame_array(frames, "awe_map")
        if arr is None:
            raise TypeError("map() needs frames; unmap() unmaps")
        i, n = self._range(index, n, "awe_map")
        with _lock:
            check(_lib.awe_map(self._base + i * self._slot_size, n, arr), "awe_map")

    def map_scatter(self, slots, frames=None):
        """Map frames[k] at slot slots[k]; a frame of 0 or None, or
        frames=None, unmaps that slot. The later entry wins for a slot
        listed twice."""
        addrs = [self.address(i) for i in slots]
        map_scatter(addrs, frames)

    def unmap(self, index=0, count=None, *, exclusive=False):
        """Unmap count slots from index (to the end by default); empty slots
        are fine. exclusive: AWE_UNMAP_EXCLUSIVE (no other thread touches
        them meanwhile)."""
        i, n = self._range(index, count, "awe_unmap")
        start = self._base + i * self._slot_size
        with _lock:
            _release_views(_overlapping(start, start + n * self._slot_size), "awe_unmap")
            check(_lib.awe_unmap(start, n, UNMAP_EXCLUSIVE if exclusive else 0), "awe_unmap")

    def unmap_scatter(self, slots, *, exclusive=False):
        unmap_scatter([self.address(i) for i in slots], exclusive=exclusive)

    def protect(self, index, count, prot):
        """Set the protection of the mapped frames of count slots from index
        (None: to the end); returns the first slot's old protection."""
        i, n = self._range(index, count, "awe_protect")
        start = self._base + i * self._slot_size
        end = start + n * self._slot_size
        return _protect(start, n, prot, lambda p: lambda v: _overlapping(start, end)(v) and (
            p == PROT_NONE or v.writable))

    def query(self, index):
        """PageInfo of slot index."""
        return query(self.address(index))

    def __getitem__(self, key):
        if isinstance(key, slice):
            return [self.query(i).frame for i in range(*key.indices(self._slots))]
        return self.query(key).frame

    def _slice(self, key):
        start, stop, step = key.indices(self._slots)
        if step != 1:
            raise AweError(errno.EINVAL, "a window's slice must be contiguous (step 1)", "Window")
        return start, max(stop - start, 0)

    def __setitem__(self, key, value):
        if isinstance(key, slice):
            start, n = self._slice(key)
            if value is None:
                self.unmap(start, n)
                return
            arr, m = _frame_array(value, "awe_map")
            if m != n:
                raise AweError(errno.EINVAL, f"{m} frames for {n} slots", "awe_map")
            if n:
                self.map(start, arr)
        elif value is None:
            self.unmap(key, 1)
        else:
            self.map(key, [value])

    def __delitem__(self, key):
        if isinstance(key, slice):
            start, n = self._slice(key)
            self.unmap(start, n)
        else:
            self.unmap(key, 1)

    def memoryview(self, index=0, count=None):
        """A memoryview (format 'B') of count slots from index (to the end by
        default), which must all be mapped; read-only when one of them is
        PROT_READ. It is released when the package unmaps or protects any
        of those slots or frees their frames (see the module's notes):
        valid only while the slots stay mapped."""
        i, n = self._range(index, count, "memoryview")
        start = self._base + i * self._slot_size
        info = _lib.struct_awe_page_info()
        writable = True
        with _lock:
            for k in range(i, i + n):
                check(_lib.awe_query(start + (k - i) * self._slot_size, byref(info)), "awe_query")
                if not info.frame:
                    raise AweError(errno.EFAULT, f"slot {k} is not mapped: a view of it would "
                                   f"fault", "memoryview")
                if info.prot == PROT_NONE:
                    raise AweError(errno.EACCES, f"slot {k} is protected with PROT_NONE: a view "
                                   f"of it would fault", "memoryview")
                if info.prot == PROT_READ:
                    writable = False
            return _make_view(start, n * self._slot_size, writable,
                              self._section.handle if self._section else None)

    # -- lifetime

    def close(self):
        """awe_window_destroy(): unmap every slot and release the window."""
        if self._base is None:
            return
        with _lock:
            _release_views(_overlapping(self._base, self._base + self.size), "awe_window_destroy")
            check(_lib.awe_window_destroy(self._base), "awe_window_destroy")
            self._base = None

    destroy = close

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()

    def __repr__(self):
        if self._base is None:
            return "<libawe.Window closed>"
        kind = " large" if self._large else ""
        return f"<libawe.Window {self._slots}{kind} slots at {self._base:#x}>"


# ---- Sections --------------------------------------------------------------------------


class Section:
    """An AWE section: frames that may be shown at several slots at once, in
    windows tied to the section. Section(large=False); alloc() gives its
    Frames, window() a Window tied to it; close() gives up the handle (the
    frames live on while a window is tied to the section)."""

    def __init__(self, *, large=False):
        self.handle = None
        h = _lib.awe_section_t()
        check(_lib.awe_section_create(SECTION_LARGE if large else 0, byref(h)),
              "awe_section_create")
        self.handle = h.value
        self.large = bool(large)
        self.closed = False

    def alloc(self, count, *, node=None, partial=False):
        """Frames of the section (see Frames)."""
        frames = Frames.__new__(Frames)
        frames._alloc(count, node, False, partial, self)
        return frames

    def window(self, slots, **kwargs):
        """A Window tied to the section (same arguments as Window)."""
        return Window(slots, section=self, **kwargs)

    def close(self):
        if self.closed or self.handle is None:
            return
        check(_lib.awe_section_close(self.handle), "awe_section_close")
        self.closed = True

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()

    def __repr__(self):
        state = " closed" if self.closed else ""
        return f"<libawe.Section {self.handle}{' large' if self.large else ''}{state}>"
