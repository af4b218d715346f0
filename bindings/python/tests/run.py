#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""Runs the tests of the Python package libawe: with pytest when it is
installed, else with unittest (the tests are unittest cases; pytest only
reports better). Says first which package and C libraries are tested.

The package and libraries are whatever `import libawe` finds. For a build
tree (what `meson test --suite python` sets up), from the source root:

    PYTHONPATH=bindings/python \\
    LIBAWE_LIBRARY=build/src/libawe.so.0 \\
    LIBAWE_WIN32_LIBRARY=build/src/win32/libawe-win32.so.0 \\
    PKG_CONFIG_PATH=build/meson-uninstalled \\
    python3 bindings/python/tests/run.py [ARGS for pytest or unittest]

Add AWE_ENGINE=memfd for the other engine. PKG_CONFIG_PATH lets the layout
tests compile against the headers (they skip without). Exit status: 0 when
every test passed or skipped, else not 0.
"""
import importlib.util
import os
import subprocess
import sys

HERE = os.path.dirname(os.path.abspath(__file__))

ABOUT = """
import os, sys, libawe, libawe.win32
libs = sorted({l.split()[-1] for l in open("/proc/self/maps") if "libawe" in l and ".so" in l})
print("python  ", sys.executable, sys.version.split()[0])
print("package ", os.path.dirname(libawe.__file__), libawe.__version__)
print("library ", ", ".join(libs), "(version " + libawe.version() + ")")
print("engine  ", libawe.probe().engine, "| uid", os.geteuid(),
      "| AWE_ENGINE=" + os.environ.get("AWE_ENGINE", ""))
"""


def absolute(env):
    """Paths given relative to where run.py was started, made absolute: the
    tests run elsewhere."""
    for name in ("PYTHONPATH", "PKG_CONFIG_PATH", "LIBAWE_LIBRARY", "LIBAWE_WIN32_LIBRARY"):
        if env.get(name):
            env[name] = os.pathsep.join(os.path.abspath(p) if p else p
                                        for p in env[name].split(os.pathsep))


def main():
    env = dict(os.environ, PYTHONDONTWRITEBYTECODE="1")
    absolute(env)
    about = subprocess.run([sys.executable, "-c", ABOUT], env=env, cwd="/")
    if about.returncode != 0:
        print("run.py: the package or its C libraries cannot be loaded (see above)")
        return 1
    if importlib.util.find_spec("pytest"):
        cmd = [sys.executable, "-m", "pytest", HERE, "-rs", "-p", "no:cacheprovider",
               "--rootdir", HERE]
    else:
        print("run.py: pytest is not installed; running the tests with unittest")
        cmd = [sys.executable, "-m", "unittest", "discover", "-v", "-s", HERE, "-t", HERE]
    rc = subprocess.run(cmd + sys.argv[1:], env=env, cwd=HERE).returncode
    return 1 if rc == 5 else rc  # pytest's 5: no test collected


if __name__ == "__main__":
    sys.exit(main())
