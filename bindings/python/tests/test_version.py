# SPDX-License-Identifier: MIT
"""One version: project() in the top meson.build. The package's
libawe/_version.py, what pyproject.toml makes of it, the installed
distribution's metadata and the loaded C library must all say the same."""
import importlib.metadata
import os
import re
import subprocess
import sys
import unittest

import libawe
from libawe import _version

from common import HERE


def source_root():
    """The libawe source tree: $AWE_SRC, or the one these tests are in."""
    candidates = [os.environ.get("AWE_SRC"), os.path.join(HERE, os.pardir, os.pardir, os.pardir)]
    for root in filter(None, candidates):
        if os.path.exists(os.path.join(root, "meson.build")) and \
                os.path.exists(os.path.join(root, "bindings", "python", "pyproject.toml")):
            return os.path.abspath(root)
    raise unittest.SkipTest("no libawe source tree (set AWE_SRC): cannot read project()")


def meson_version(root):
    with open(os.path.join(root, "meson.build")) as f:
        text = f.read()
    m = re.search(r"project\(\s*'libawe'.*?\bversion\s*:\s*'([^']+)'", text, flags=re.S)
    if not m:
        raise AssertionError("no version in project() of meson.build")
    return m.group(1)


class VersionTest(unittest.TestCase):
    def setUp(self):
        self.root = source_root()
        self.want = meson_version(self.root)

    def test_package_is_meson_version(self):
        self.assertRegex(self.want, r"^\d+\.\d+\.\d+$")
        self.assertEqual(libawe.__version__, self.want)
        self.assertIs(libawe.__version__, _version.__version__)

    def test_source_file_is_meson_version(self):
        # The tree's own copy, also when the package tested is an installed one.
        path = os.path.join(self.root, "bindings", "python", "libawe", "_version.py")
        with open(path) as f:
            self.assertIn(f'__version__ = "{self.want}"', f.read())

    def test_pyproject_takes_it_from_the_package(self):
        path = os.path.join(self.root, "bindings", "python", "pyproject.toml")
        with open(path) as f:
            text = f.read()
        self.assertRegex(text, r'(?m)^dynamic = \["version"\]')
        self.assertRegex(text, r'(?m)^version = \{ attr = "libawe\._version\.__version__" \}')
        self.assertNotRegex(text, r'(?m)^version = "')

    def test_setuptools_reads_it_without_the_library(self):
        # What pip would build: setuptools reads the attribute statically,
        # so the C library need not be there.
        code = ("from setuptools.config.pyprojecttoml import read_configuration as r; "
                "print(r('pyproject.toml')['project']['version'])")
        env = {k: v for k, v in os.environ.items() if not k.startswith("LIBAWE_")}
        env.update(LD_LIBRARY_PATH="", PYTHONDONTWRITEBYTECODE="1")
        p = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env,
                           cwd=os.path.join(self.root, "bindings", "python"))
        if p.returncode != 0 and "No module named 'setuptools" in p.stderr:
            self.skipTest("setuptools is not installed")
        self.assertEqual(p.returncode, 0, p.stderr)
        self.assertEqual(p.stdout.strip().splitlines()[-1], self.want)

    def test_installed_metadata(self):
        try:
            dist = importlib.metadata.distribution("libawe")
        except importlib.metadata.PackageNotFoundError:
            self.skipTest("no installed distribution metadata (not installed by pip)")
        files = [str(dist.locate_file(f)) for f in dist.files or ()]
        if os.path.abspath(libawe.__file__) not in [os.path.abspath(f) for f in files]:
            self.skipTest(f"the libawe distribution found is not the package tested "
                          f"({libawe.__file__})")
        self.assertEqual(dist.version, self.want)

    def test_library_is_meson_version(self):
        self.assertEqual(libawe.version(), self.want)


if __name__ == "__main__":
    unittest.main()
