# SPDX-License-Identifier: MIT
"""The native API of the libawe package: module functions, Frames, Window,
Section, and the errors of bad arguments (errno and message)."""
import ctypes
import errno
import os
import pickle
import re
import unittest

import libawe
from libawe import AweError, Frames, Prot, Section, SlotError, Window

from common import (HERE, PAGE, MiB, check_child, expected_engine, run_python,
                    skip_unless_nobody_works)


def stamp(view, value):
    view[:8] = value.to_bytes(8, "little")


def read_stamp(view):
    return int.from_bytes(view[:8], "little")


class Errors:
    """assertRaisesAwe: the errno, awe_strerror()'s message (or a part of the
    binding's own), and the function named."""

    def assertAwe(self, err, function=None, message=None):
        e = err.exception
        self.assertIsInstance(e, AweError)
        self.assertIsInstance(e, OSError)
        if function:
            self.assertEqual(e.function, function)
        if message is None:
            self.assertEqual(e.strerror, libawe.strerror(e.errno))
        else:
            self.assertIn(message, e.strerror)
        self.assertIn(f"[Errno {e.errno} {errno.errorcode[e.errno]}]", str(e))
        return e


class ModuleTest(unittest.TestCase):
    def test_sizes(self):
        self.assertEqual(libawe.page_size(), os.sysconf("SC_PAGE_SIZE"))
        large = libawe.large_page_size()
        self.assertTrue(large == 0 or (large % PAGE == 0 and large & (large - 1) == 0), large)

    def test_version_of_the_library(self):
        self.assertRegex(libawe.version(), r"^\d+\.\d+\.\d+$")
        # The tests run against the libraries of the same tree.
        self.assertEqual(libawe.version(), libawe.__version__)

    def test_probe(self):
        p = libawe.probe()
        self.assertIsInstance(p, libawe.Probe)
        self.assertEqual(p.page_size, PAGE)
        self.assertEqual(p.large_page_size, libawe.large_page_size())
        if p.engine is None:
            self.assertGreater(p.engine_error, 0)
        else:
            self.assertEqual(p.engine_error, 0)
            self.assertIn(p.engine, ("uffd-move", "memfd"))
            if expected_engine():
                self.assertEqual(p.engine, expected_engine())
        self.assertIsInstance(p.engine_reason, str)
        self.assertTrue(p.memlock_limit is None or p.memlock_limit >= 0)
        self.assertGreater(p.max_map_count, 0)

    def test_stats(self):
        st = libawe.stats()
        self.assertIsInstance(st, libawe.Stats)
        self.assertIn(st.engine, ("uffd-move", "memfd"))
        if expected_engine():
            self.assertEqual(st.engine, expected_engine())
            self.assertIn("AWE_ENGINE", st.engine_reason)
        self.assertEqual(st.locked, os.environ.get("LIBAWE_UNLOCKED") != "1")
        with self.assertRaises(Exception):
            st.frames_allocated = 1  # frozen

    def test_strerror(self):
        self.assertEqual(libawe.strerror(errno.EBUSY), libawe.strerror(-errno.EBUSY))
        self.assertIn("already mapped", libawe.strerror(errno.EBUSY))

    def test_window_align(self):
        self.assertEqual(libawe.window_align(21), 21 << 8)


class ReadmeTest(unittest.TestCase):
    def test_first_example_runs(self):
        paths = [os.path.join(os.path.dirname(HERE), "README.md")]
        if os.environ.get("AWE_SRC"):
            paths.append(os.path.join(os.environ["AWE_SRC"], "bindings", "python", "README.md"))
        path = next((p for p in paths if os.path.exists(p)), None)
        if path is None:
            self.skipTest(f"no README.md: {' nor '.join(paths)} (set AWE_SRC)")
        with open(path) as f:
            code = re.search(r"```python\n(.*?)```", f.read(), flags=re.S).group(1)
        p = run_python(code)
        check_child(self, p, "the README's example")
        self.assertEqual(p.stdout, "b'hello'\n")


class LoadingTest(unittest.TestCase):
    def test_missing_library(self):
        p = run_python("""
try:
    import libawe
except ImportError as e:
    print(e)
""", env={"LIBAWE_LIBRARY": "/nonexistent/libawe.so.0"})
        check_child(self, p, "a missing library")
        self.assertIn("cannot load the libawe C library, /nonexistent/libawe.so.0 (named by "
                      "LIBAWE_LIBRARY)", p.stdout)
        self.assertIn("LD_LIBRARY_PATH", p.stdout)

    def test_win32_is_loaded_only_when_used(self):
        p = run_python("""
import libawe
assert "libawe-win32" not in open("/proc/self/maps").read()
try:
    import libawe.win32
except ImportError as e:
    print(e)
""", env={"LIBAWE_WIN32_LIBRARY": "/nonexistent/libawe-win32.so.0"})
        check_child(self, p, "a missing Win32 layer")
        self.assertIn("cannot load the libawe Win32 layer, /nonexistent/libawe-win32.so.0 (named "
                      "by LIBAWE_WIN32_LIBRARY)", p.stdout)

    def test_function_missing_from_an_older_library(self):
        _lib = libawe._lib
        _lib.bind(_lib.lib, {"awe_from_the_future": (ctypes.c_int, [], "9.9")}, _lib.SONAME)
        try:
            with self.assertRaises(AweError) as cm:
                _lib.awe_from_the_future()
            self.assertEqual(cm.exception.errno, errno.ENOSYS)
            self.assertIn("needs libawe 9.9 or later", str(cm.exception))
        finally:
            del _lib.awe_from_the_future


class ErrorTest(Errors, unittest.TestCase):
    def test_init_unknown_flag(self):
        with self.assertRaises(AweError) as cm:
            libawe.init(1 << 7)
        self.assertEqual(self.assertAwe(cm, "awe_init").errno, errno.EINVAL)

    def test_init_other_flags_is_busy(self):
        current = 0 if libawe.stats().locked else libawe.INIT_UNLOCKED
        libawe.init(current)
        with self.assertRaises(AweError) as cm:
            libawe.init(current ^ libawe.INIT_UNLOCKED)
        self.assertEqual(self.assertAwe(cm, "awe_init").errno, errno.EBUSY)

    def test_oserror_semantics(self):
        with Frames(1) as f, Window(2) as w:
            w.map(0, f)
            try:
                w.map(1, f)
            except OSError as e:  # the errno-based way works
                self.assertEqual(e.errno, errno.EBUSY)
                self.assertRegex(str(e), r"^awe_map: \[Errno 16 EBUSY\] the frame is already")
                again = pickle.loads(pickle.dumps(e))
                self.assertEqual((again.errno, again.strerror, again.function),
                                 (e.errno, e.strerror, e.function))
            else:
                self.fail("mapping a mapped frame again succeeded")

    def test_window_size_zero(self):
        with self.assertRaises(AweError) as cm:
            Window(0)
        self.assertEqual(self.assertAwe(cm, "awe_window_create").errno, errno.EINVAL)

    def test_window_fixed_without_hint(self):
        with self.assertRaises(AweError) as cm:
            Window(1, fixed=True)
        self.assertEqual(self.assertAwe(cm, "awe_window_create").errno, errno.EINVAL)

    def test_window_fixed_in_use(self):
        with Window(4) as w:
            with self.assertRaises(AweError) as cm:
                Window(4, hint=w.base, fixed=True)
            self.assertEqual(self.assertAwe(cm, "awe_window_create").errno, errno.EEXIST)

    def test_window_bad_alignment(self):
        with self.assertRaises(AweError) as cm:
            Window(1, align=3 * PAGE)
        e = self.assertAwe(cm, "awe_window_create", "power of two")
        self.assertEqual(e.errno, errno.EINVAL)

    def test_negative_counts(self):
        for make in (lambda: Frames(-1), lambda: Window(-1)):
            with self.assertRaises(AweError) as cm:
                make()
            self.assertEqual(self.assertAwe(cm, None, "cannot be negative").errno, errno.EINVAL)

    def test_bad_node(self):
        with self.assertRaises(AweError) as cm:
            Frames(1, node=1 << 20)
        self.assertEqual(self.assertAwe(cm, "awe_alloc_node").errno, errno.EINVAL)

    def test_slots_outside_the_window(self):
        with Frames(2) as f, Window(4) as w:
            for call in (lambda: w.map(3, f), lambda: w.unmap(4, 1), lambda: w.unmap(-5, 1),
                         lambda: w.address(4), lambda: w.protect(2, 3, Prot.READ),
                         lambda: w.memoryview(0, 5), lambda: w[4], lambda: w.query(-5)):
                with self.assertRaises(SlotError) as cm:
                    call()
                self.assertIsInstance(cm.exception, IndexError)
                e = self.assertAwe(cm, None, "not inside this window of 4 slots")
                self.assertEqual(e.errno, errno.EINVAL)
            self.assertEqual(w[:], [None] * 4, "a failed call mapped something")

    def test_frame_mapped_twice(self):
        with Frames(2) as f, Window(4) as w:
            with self.assertRaises(AweError) as cm:
                w.map(0, [f[0], f[1], f[0]])
            self.assertEqual(self.assertAwe(cm, "awe_map").errno, errno.EBUSY)
            self.assertEqual(w[:], [None] * 4, "awe_map is all-or-nothing")

    def test_not_a_frame(self):
        with Window(2) as w:
            for bad in (0, 12345678901, -1, 1 << 64):
                with self.subTest(frame=bad), self.assertRaises(AweError) as cm:
                    w.map(0, [bad])
                self.assertEqual(cm.exception.errno, errno.ENOENT)
                self.assertIn(libawe.strerror(errno.ENOENT), cm.exception.strerror)
        with self.assertRaises(AweError) as cm:
            libawe.frame_address(12345678901)
        self.assertEqual(self.assertAwe(cm, "awe_frame_addr").errno, errno.ENOENT)

    def test_freed_frames(self):
        with Window(2) as w:
            f = Frames(2)
            numbers = list(f)
            f.free()
            self.assertTrue(f.closed)
            self.assertEqual(len(f), 0)
            f.free()  # again: nothing to do
            with self.assertRaises(ValueError):
                w.map(0, f)
            with self.assertRaises(AweError) as cm:
                w.map(0, numbers)
            self.assertEqual(self.assertAwe(cm, "awe_map").errno, errno.ENOENT)

    def test_bad_protection(self):
        with Frames(1) as f, Window(1) as w:
            w.map(0, f)
            view = w.memoryview()
            with self.assertRaises(AweError) as cm:
                w.protect(0, 1, 2)
            self.assertEqual(self.assertAwe(cm, "awe_protect").errno, errno.EINVAL)
            view[0] = 1  # an invalid protection releases nothing
            self.assertEqual(w.query(0).prot, Prot.READWRITE)

    def test_query_outside_windows(self):
        with self.assertRaises(AweError) as cm:
            libawe.query(PAGE * 16)
        self.assertEqual(self.assertAwe(cm, "awe_query").errno, errno.EINVAL)

    def test_scatter_lengths_differ(self):
        with Frames(1) as f, Window(2) as w:
            with self.assertRaises(AweError) as cm:
                w.map_scatter([0, 1], f)
            self.assertEqual(self.assertAwe(cm, "awe_map_scatter", "2 addresses but 1 frames")
                             .errno, errno.EINVAL)

    def test_closed_window(self):
        w = Window(2)
        w.close()
        w.close()  # again: nothing to do
        self.assertTrue(w.closed)
        for call in (lambda: w.base, lambda: w.map(0, [1]), lambda: w.memoryview(), lambda: w[0]):
            with self.assertRaises(ValueError):
                call()

    def test_free_stops_at_a_bad_frame(self):
        f = Frames(4)
        numbers = list(f)
        libawe._lib.awe_free((libawe._lib.awe_frame_t * 1)(numbers[2]), 1, None)
        before = libawe.stats().frames_allocated
        with self.assertRaises(AweError) as cm:
            f.free()
        self.assertEqual(self.assertAwe(cm, "awe_free").errno, errno.ENOENT)
        self.assertEqual(list(f), numbers[2:], "the two before the bad one are freed")
        self.assertEqual(libawe.stats().frames_allocated, before - 2)
        libawe._lib.awe_free((libawe._lib.awe_frame_t * 1)(numbers[3]), 1, None)


class FramesTest(unittest.TestCase):
    def test_allocate_and_free(self):
        before = libawe.stats().frames_allocated
        with Frames(8) as f:
            self.assertEqual(len(f), 8)
            numbers = list(f)
            self.assertEqual(len(set(numbers)), 8)
            self.assertTrue(all(n > 0 and not n & libawe.FRAME_LARGE for n in numbers))
            self.assertEqual(f[0], numbers[0])
            self.assertEqual(f[-1], numbers[-1])
            self.assertEqual(f[2:4], numbers[2:4])
            self.assertIn(numbers[3], f)
            self.assertEqual(len(f.array), 8)
            self.assertRegex(repr(f), r"<libawe.Frames 8>")
            self.assertEqual(libawe.stats().frames_allocated, before + 8)
        self.assertTrue(f.closed)
        self.assertEqual(libawe.stats().frames_allocated, before)

    def test_zero_frames(self):
        with Frames(0) as f:
            self.assertEqual(len(f), 0)

    def test_freed_when_the_block_raises(self):
        before = libawe.stats().frames_allocated
        with self.assertRaises(KeyError):
            with Frames(4), Window(4):
                raise KeyError
        self.assertEqual(libawe.stats().frames_allocated, before)
        self.assertEqual(libawe.stats().windows, 0)

    def test_free_unmaps(self):
        with Window(4) as w:
            f = Frames(2)
            w.map(1, f)
            self.assertEqual(w[1:3], list(f))
            mapped = libawe.stats().frames_mapped
            f.free()
            self.assertEqual(w[:], [None] * 4)
            self.assertEqual(libawe.stats().frames_mapped, mapped - 2)

    def test_node(self):
        with Frames(1) as f:
            try:
                node = f.node(0)
            except AweError as e:
                if e.errno in (errno.ENOSYS, errno.EPERM):
                    self.skipTest(f"no NUMA answer here: {e}")
                raise
            self.assertGreaterEqual(node, 0)
            with Frames(1, node=node) as g:
                self.assertEqual(len(g), 1)


class WindowTest(Errors, unittest.TestCase):
    def test_create(self):
        before = libawe.stats()
        with Window(16) as w:
            self.assertEqual((len(w), w.slots, w.slot_size, w.size), (16, 16, PAGE, 16 * PAGE))
            self.assertEqual(w.base % PAGE, 0)
            self.assertEqual(w.address(3), w.base + 3 * PAGE)
            self.assertEqual(w.address(-1), w.base + 15 * PAGE)
            st = libawe.stats()
            self.assertEqual(st.windows, before.windows + 1)
            self.assertEqual(st.window_bytes, before.window_bytes + 16 * PAGE)
            info = w.query(5)
            self.assertEqual(info, libawe.PageInfo(None, Prot.NONE, w.base, 16 * PAGE))
            self.assertIn("16 slots", repr(w))
        self.assertEqual(libawe.stats().windows, before.windows)

    def test_fixed_and_aligned(self):
        with Window(4, align=1 << 21) as a:
            self.assertEqual(a.base % (1 << 21), 0)
            hint = a.base
        with Window(4, hint=hint, fixed=True) as b:
            self.assertEqual(b.base, hint)

    def test_map_write_unmap_remap(self):
        with Frames(4) as f, Window(8) as w:
            w.map(0, f)
            self.assertEqual(w[:4], list(f))
            view = w.memoryview(0, 4)
            self.assertEqual(bytes(view), bytes(4 * PAGE), "frames start zero-filled")
            for i in range(4):
                stamp(view[i * PAGE:], f[i])
            w.unmap(0, 4)
            self.assertEqual(w[:], [None] * 8)
            w.map(4, f)  # the same frames, elsewhere: contents kept
            view = w.memoryview(4)
            self.assertEqual([read_stamp(view[i * PAGE:]) for i in range(4)], list(f))
            self.assertEqual(libawe.frame_address(f[1]), w.address(5))
            w.unmap()
            self.assertIsNone(libawe.frame_address(f[1]))

    def test_map_replaces(self):
        with Frames(2) as f, Window(1) as w:
            w[0] = f[0]
            stamp(w.memoryview(), 111)
            w[0] = f[1]  # f[0] is detached, keeping its contents
            self.assertEqual(w[0], f[1])
            self.assertEqual(read_stamp(w.memoryview()), 0)
            w[0] = f[0]
            self.assertEqual(read_stamp(w.memoryview()), 111)

    def test_sequence_protocol(self):
        with Frames(3) as f, Window(4) as w:
            w[1:4] = f
            self.assertEqual(list(w), [None] + list(f))
            del w[2]
            self.assertEqual(w[2], None)
            w[2] = None  # unmapping an empty slot is fine
            w[0:2] = None
            self.assertEqual(w[:], [None, None, None, f[2]])
            del w[:]
            self.assertEqual(w[:], [None] * 4)
            with self.assertRaises(AweError) as cm:
                w[0:2] = [f[0]]
            self.assertEqual(cm.exception.errno, errno.EINVAL)
            with self.assertRaises(AweError):
                w[0:4:2] = [f[0], f[1]]

    def test_scatter(self):
        n = 8
        with Frames(n) as f, Window(n) as w:
            w.map(0, f)
            view = w.memoryview()
            for i in range(n):
                stamp(view[i * PAGE:], f[i])
            view.release()
            w.unmap()
            w.map_scatter(range(n - 1, -1, -1), f)  # reversed
            view = w.memoryview()
            self.assertEqual([read_stamp(view[(n - 1 - i) * PAGE:]) for i in range(n)], list(f))
            view.release()
            w.map_scatter([0, 1], [None, 0])  # 0 and None unmap
            self.assertEqual(w[0:3], [None, None, f[n - 3]])
            w.unmap_scatter([2, 3], exclusive=True)
            self.assertEqual(w[0:5], [None] * 4 + [f[n - 5]])
            w.map_scatter([4], None)
            self.assertIsNone(w[4])
            # The later entry wins.
            w.unmap()
            w.map_scatter([0, 0], [f[0], f[1]])
            self.assertEqual(w[0], f[1])

    def test_scatter_across_windows(self):
        with Frames(2) as f, Window(2) as a, Window(2) as b:
            libawe.map_scatter([a.address(1), b.address(0)], f)
            self.assertEqual((a[1], b[0]), (f[0], f[1]))
            libawe.unmap_scatter([a.address(1), b.address(0)])
            self.assertEqual(a[:] + b[:], [None] * 4)

    def test_module_level_by_address(self):
        with Frames(2) as f, Window(4) as w:
            libawe.map(w.address(1) + 5, f)  # any address inside the slot
            self.assertEqual(w[1:3], list(f))
            self.assertEqual(libawe.protect(w.address(1), 2, Prot.READ), Prot.READWRITE)
            self.assertEqual(libawe.query(w.address(2)).prot, Prot.READ)
            libawe.unmap(w.address(1), 2)
            self.assertEqual(w[:], [None] * 4)

    def test_protect(self):
        with Frames(2) as f, Window(2) as w:
            w.map(0, f)
            self.assertEqual(w.protect(0, 2, Prot.READ), Prot.READWRITE)
            self.assertEqual(w.query(1).prot, Prot.READ)
            view = w.memoryview()
            self.assertTrue(view.readonly)
            with self.assertRaises(TypeError):
                view[0] = 1
            self.assertEqual(w.protect(0, None, Prot.NONE), Prot.READ)
            with self.assertRaises(AweError) as cm:
                w.memoryview()
            e = self.assertAwe(cm, "memoryview", "PROT_NONE")
            self.assertEqual(e.errno, errno.EACCES)
            self.assertEqual(w[0], f[0], "PROT_NONE keeps the frame mapped")
            self.assertEqual(w.protect(0, 2, Prot.READWRITE), Prot.NONE)
            w.memoryview()[0] = 7
            self.assertIsNone(w.protect(0, 0, Prot.READ))

    def test_unmapped_slot_view(self):
        with Frames(1) as f, Window(2) as w:
            w.map(0, f)
            with self.assertRaises(AweError) as cm:
                w.memoryview(0, 2)
            e = self.assertAwe(cm, "memoryview", "slot 1 is not mapped")
            self.assertEqual(e.errno, errno.EFAULT)

    def test_large(self):
        large = libawe.large_page_size()
        if not large:
            self.skipTest("no large pages on this kernel")
        try:
            f = Frames(2, large=True)
        except AweError as e:
            if e.errno in (errno.EOPNOTSUPP, errno.ENOMEM, errno.EPERM):
                self.skipTest(f"no large frames here: {e}")
            raise
        with f:
            try:
                w = Window(2, large=True)
            except AweError as e:
                if e.errno == errno.EPERM:  # the window counts against RLIMIT_MEMLOCK too
                    self.skipTest(f"no room under RLIMIT_MEMLOCK for a large window: {e}")
                raise
            self.large_window(f, w, large)

    def large_window(self, f, w, large):
        with w:
            self.assertTrue(f.large and w.large)
            self.assertTrue(all(n & libawe.FRAME_LARGE for n in f))
            self.assertEqual((w.slot_size, w.size, w.base % large), (large, 2 * large, 0))
            w.map(0, f)
            view = w.memoryview(1)
            self.assertEqual(len(view), large)
            view[-8:] = (12345).to_bytes(8, "little")
            view.release()
            w.unmap()
            w.map(0, [f[1]])
            self.assertEqual(bytes(w.memoryview(0, 1)[-8:]), (12345).to_bytes(8, "little"))
            with Window(2) as small, self.assertRaises(AweError):
                small.map(0, [f[0]])


class SectionTest(Errors, unittest.TestCase):
    def test_frames_at_several_slots(self):
        with Section() as s, s.alloc(2) as f, s.window(4) as a, s.window(2) as b:
            self.assertIs(f.section, s)
            self.assertIs(a.section, s)
            a.map(0, f)
            a.map(2, f)  # a section frame may be shown twice
            b.map(0, [f[1]])
            a.memoryview(1, 1)[:3] = b"abc"
            self.assertEqual(bytes(a.memoryview(3, 1)[:3]), b"abc")
            self.assertEqual(bytes(b.memoryview(0, 1)[:3]), b"abc")
            self.assertIn("Section", repr(s))

    def test_frames_stay_with_their_kind(self):
        with Section() as s, s.alloc(1) as sf, Frames(1) as pf, Window(1) as plain, \
                s.window(1) as tied:
            for w, frames in ((plain, sf), (tied, pf)):
                with self.assertRaises(AweError) as cm:
                    w.map(0, frames)
                self.assertEqual(self.assertAwe(cm, "awe_map").errno, errno.ENOENT)

    def test_closed_section(self):
        s = Section()
        w = s.window(1)
        f = s.alloc(1)
        s.close()
        s.close()  # again: nothing to do
        w.map(0, f)  # frames live on while a window is tied to the section
        with self.assertRaises(AweError) as cm:
            s.alloc(1)
        self.assertEqual(self.assertAwe(cm, "awe_section_alloc").errno, errno.ENOENT)
        w.close()

    def test_section_free_releases_views(self):
        with Section() as s, s.window(2) as w:
            f = s.alloc(1)
            w.map(0, f)
            w.map(1, f)
            view = w.memoryview()
            f.free()
            with self.assertRaises(ValueError):
                view[0]
            self.assertEqual(w[:], [None, None])


class NobodyTest(unittest.TestCase):
    """What an unprivileged user gets: user nobody with a small RLIMIT_MEMLOCK."""

    def setUp(self):
        skip_unless_nobody_works(self)

    def test_no_memlock_is_eperm(self):
        p = run_python("""
import errno, libawe
try:
    libawe.Frames(1)
except libawe.AweError as e:
    assert e.errno == errno.EPERM and e.strerror == libawe.strerror(errno.EPERM), e
    assert "RLIMIT_MEMLOCK" in e.strerror, e
else:
    raise SystemExit("frames allocated without CAP_IPC_LOCK or memlock room")
""", nobody=True, memlock=0)
        check_child(self, p, "nobody, RLIMIT_MEMLOCK 0")

    def test_unlocked_frames_need_no_memlock(self):
        p = run_python("""
import libawe
libawe.init(libawe.INIT_UNLOCKED)
with libawe.Frames(4) as f, libawe.Window(4) as w:
    w.map(0, f)
    w.memoryview()[:2] = b"ok"
    assert not libawe.stats().locked
""", nobody=True, memlock=0)
        check_child(self, p, "nobody, RLIMIT_MEMLOCK 0, INIT_UNLOCKED")

    def test_partial_allocation(self):
        p = run_python(f"""
import errno, libawe
want = {16 * MiB} // libawe.page_size()
try:
    libawe.Frames(want)
except libawe.AweError as e:
    assert e.errno == errno.ENOMEM and "partial=True" in e.strerror, e
else:
    raise SystemExit("16 MiB of frames under an 8 MiB RLIMIT_MEMLOCK")
assert libawe.stats().frames_allocated == 0, "the short allocation was not given back"
with libawe.Frames(want, partial=True) as f:
    assert 0 < len(f) < want, len(f)
    print(len(f))
""", nobody=True, memlock=8 * MiB)
        check_child(self, p, "nobody, RLIMIT_MEMLOCK 8 MiB")


if __name__ == "__main__":
    unittest.main()
