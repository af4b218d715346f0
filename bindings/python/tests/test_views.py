# SPDX-License-Identifier: MIT
"""Window.memoryview(): a view never outlives its mapping silently. Calls
that would make a viewed slot fault release the view first (using it then
raises ValueError), or refuse with BufferError while something derived from
it is alive."""
import ctypes
import os
import signal
import unittest

import libawe
from libawe import Frames, Prot, Window

from common import PAGE, check_child, run_python


def released(view):
    try:
        view[0]
    except ValueError:
        return True
    return False


class ViewTest(unittest.TestCase):
    def setUp(self):
        self.frames = Frames(4)
        self.win = Window(8)
        self.win.map(0, self.frames)

    def tearDown(self):
        self.win.close()
        self.frames.free()

    def test_shape(self):
        view = self.win.memoryview(1, 2)
        self.assertEqual((view.format, view.itemsize, len(view)), ("B", 1, 2 * PAGE))
        self.assertFalse(view.readonly)
        self.assertEqual(ctypes.addressof(ctypes.c_char.from_buffer(view)), self.win.address(1))
        last = self.win.memoryview(-5, 1)  # slot 3
        self.assertEqual(ctypes.addressof(ctypes.c_char.from_buffer(last)), self.win.address(3))
        self.assertEqual(len(self.win.memoryview(0, 0)), 0)

    def test_write_read(self):
        view = self.win.memoryview(0, 4)
        view[PAGE:PAGE + 5] = b"hello"
        self.assertEqual(ctypes.string_at(self.win.address(1), 5), b"hello")

    def test_unmap_releases(self):
        view = self.win.memoryview(0, 4)
        copy = bytes(view[:16])
        self.win.unmap(2, 1)
        self.assertTrue(released(view))
        self.assertEqual(len(copy), 16)  # copies are not views

    def test_other_slots_keep_their_views(self):
        a = self.win.memoryview(0, 2)
        b = self.win.memoryview(2, 2)
        self.win.unmap(2, 2)
        self.assertTrue(released(b))
        self.assertFalse(released(a))

    def test_close_releases(self):
        view = self.win.memoryview(0, 1)
        self.win.close()
        self.assertTrue(released(view))

    def test_free_releases(self):
        view = self.win.memoryview(3, 1)
        other = self.win.memoryview(0, 1)
        self.frames.free()
        self.assertTrue(released(view))
        self.assertTrue(released(other))

    def test_free_of_unviewed_frames_keeps_views(self):
        with Frames(1) as spare:
            self.win.map(5, spare)
            view = self.win.memoryview(0, 4)
        self.assertFalse(released(view))

    def test_protect_releases_what_would_fault(self):
        view = self.win.memoryview(0, 2)
        self.win.protect(0, 2, Prot.READWRITE)
        self.assertFalse(released(view))
        self.win.protect(1, 1, Prot.READ)
        self.assertTrue(released(view), "a writable view of a read-only slot")
        ro = self.win.memoryview(0, 2)
        self.assertTrue(ro.readonly)
        self.win.protect(0, 1, Prot.READ)
        self.assertFalse(released(ro), "a read-only view of read-only slots stays")
        self.win.protect(0, 2, Prot.NONE)
        self.assertTrue(released(ro))

    def test_scatter_unmap_releases(self):
        view = self.win.memoryview(0, 1)
        keep = self.win.memoryview(1, 1)
        with Frames(1) as spare:
            self.win.map_scatter([0, 5], [0, spare[0]])
            self.assertEqual(self.win[5], spare[0])
        self.assertTrue(released(view))
        self.assertFalse(released(keep))

    def test_map_over_a_view_keeps_it(self):
        view = self.win.memoryview(0, 1)
        view[:2] = b"f0"
        with Frames(1) as spare:
            self.win.map(0, spare)  # frames[0] detached, spare shown: still mapped
            self.assertEqual(bytes(view[:2]), b"\0\0")
            self.win.map(0, [self.frames[0]])
            self.assertEqual(bytes(view[:2]), b"f0")
            self.assertFalse(released(view))

    def test_slice_blocks_unmap(self):
        view = self.win.memoryview(0, 4)
        part = view[PAGE:2 * PAGE]
        del view
        with self.assertRaises(BufferError) as cm:
            self.win.unmap(1, 1)
        self.assertIn("still viewed", str(cm.exception))
        self.assertEqual(self.win[1], self.frames[1], "nothing was unmapped")
        part[0] = 1  # still mapped, still usable
        with self.assertRaises(BufferError):
            self.win.close()
        with self.assertRaises(BufferError):
            self.frames.free()
        del part
        self.win.unmap(1, 1)
        self.assertIsNone(self.win[1])

    def test_export_blocks_unmap(self):
        view = self.win.memoryview(0, 1)
        word = ctypes.c_uint64.from_buffer(view)  # holds the view's buffer
        with self.assertRaises(BufferError):
            self.win.unmap(0, 1)
        word.value = 5
        self.assertEqual(self.win[0], self.frames[0])
        del word
        self.win.unmap(0, 1)
        self.assertTrue(released(view))

    def test_views_of_the_past_are_forgotten(self):
        for _ in range(100):
            self.win.memoryview(0, 1)[0] = 1
        self.assertLessEqual(len(libawe._core._views), 1)

    def test_fork_child_has_no_views(self):
        view = self.win.memoryview(0, 1)
        pid = os.fork()
        if pid == 0:  # the child has none of the parent's frames and windows
            os._exit(0 if released(view) else 1)
        _, status = os.waitpid(pid, 0)
        self.assertEqual(os.waitstatus_to_exitcode(status), 0)
        self.assertFalse(released(view))

    def test_what_the_views_guard_against(self):
        # Through ctypes directly, past the package, an unmapped slot
        # faults: the reason views are released.
        p = run_python("""
import ctypes, libawe
with libawe.Frames(1) as f, libawe.Window(1) as w:
    w.map(0, f)
    ctypes.string_at(w.address(0), 1)
    w.unmap()
    print("read", flush=True)
    ctypes.string_at(w.address(0), 1)
    print("survived", flush=True)
""")
        self.assertIn(p.returncode, (-signal.SIGBUS, -signal.SIGSEGV), p.stdout + p.stderr)
        self.assertEqual(p.stdout, "read\n")

    def test_child_sees_the_view_released(self):
        p = run_python("""
import libawe
with libawe.Frames(1) as f, libawe.Window(1) as w:
    w.map(0, f)
    view = w.memoryview()
    w.unmap()
    try:
        view[0] = 1
    except ValueError as e:
        print(e)
""")
        check_child(self, p, "a released view")
        self.assertIn("released memoryview", p.stdout)


if __name__ == "__main__":
    unittest.main()
