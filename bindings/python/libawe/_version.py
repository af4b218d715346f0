# SPDX-License-Identifier: MIT
# The package's version: project() in the top meson.build is the one source
# of it, and `meson setup` stops when this line says otherwise
# (bindings/python/meson.build), as does tests/test_version.py. pyproject.toml
# reads it from here without importing the package.
__version__ = "0.6.0"
