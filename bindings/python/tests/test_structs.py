# SPDX-License-Identifier: MIT
"""The package's ctypes declarations against the C headers, as the C
compiler sees them: struct sizes, alignments and field offsets, the sizes
and signedness of the Windows types, every constant's value, and every
function's prototype (none missing, none extra). Skips when no C compiler
or no libawe headers can be found (see common.c_flags())."""
import ctypes
import re
import unittest
from ctypes import POINTER, c_char_p, c_int, c_size_t, c_ssize_t, c_uint, c_uint32, c_uint64
from ctypes import c_void_p

from libawe import _lib
from libawe import win32 as w

from common import compile_and_run, header

PRELUDE = """#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <awe.h>
#include <awe/win32.h>
#define SIZE(T, name) printf("size %s %zu %zu\\n", name, sizeof(T), _Alignof(T))
#define FIELD(T, name, f) printf("field %s.%s %zu %zu\\n", name, #f, offsetof(T, f), \\
                                 sizeof(((T *)0)->f))
#define TYPE(T) printf("type %s %zu %d\\n", #T, sizeof(T), (int)((T)-1 < (T)0))
#define CONST(N) printf("const %s %llu\\n", #N, (unsigned long long)(uintptr_t)(N))
int main(void)
{
"""

# C name of each struct the package declares.
C_STRUCTS = {name: (f"struct {name}", cls) for name, cls in _lib.STRUCTS.items()}
C_STRUCTS.update({name: (name, cls) for name, cls in w.STRUCTS.items()})

# Integer types: (C name, ctypes type); pointers are checked for size only.
C_TYPES = [("awe_frame_t", _lib.awe_frame_t), ("awe_section_t", _lib.awe_section_t)] + [
    (n, getattr(w, n)) for n in (
        "BOOL BYTE BOOLEAN UCHAR WORD USHORT DWORD ULONG UINT LONG INT LONGLONG LONG64 ULONGLONG "
        "DWORD64 ULONG64 ULONG_PTR SIZE_T DWORD_PTR UINT_PTR LONG_PTR INT_PTR SSIZE_T WCHAR "
        "CHAR").split()]
C_POINTERS = "PVOID LPVOID LPCVOID HANDLE PHANDLE PULONG_PTR PSIZE_T PDWORD LPDWORD PULONG " \
             "PBOOL LPSTR LPCSTR LPWSTR LPCWSTR".split()

SIGNED = {ctypes.c_int8, ctypes.c_int16, ctypes.c_int32, ctypes.c_int64, ctypes.c_char, c_int,
          ctypes.c_long, ctypes.c_longlong, c_ssize_t}


def named_fields(cls):
    """(name, offset, size) of every named field, anonymous members' own
    fields included, bit fields and the anonymous members left out."""
    out = []
    anonymous = set(getattr(cls, "_anonymous_", ()))
    for f in cls._fields_:
        name, typ = f[0], f[1]
        if len(f) == 3:
            continue
        if name in anonymous:
            for sub, off, size in named_fields(typ):
                out.append((sub, getattr(cls, sub).offset, size))
            continue
        out.append((name, getattr(cls, name).offset, ctypes.sizeof(typ)))
    return out


def strip_comments(text):
    return re.sub(r"/\*.*?\*/|//[^\n]*", " ", text, flags=re.S)


def header_constants(text):
    """Names of the integer constants a header defines: object-like
    #defines with a value, and enumerators."""
    text = strip_comments(text)
    names = set()
    for m in re.finditer(r"^#define\s+(\w+)(\(?)[ \t]*(.*)$", text, flags=re.M):
        name, fnlike, value = m.groups()
        if fnlike or not value.strip() or name.endswith("_H") or value.lstrip().startswith('"'):
            continue
        # Attribute macros, not constants.
        if name in ("AWE_API", "AWE_WIN32_API", "AWE_WIN32_NAMELESS"):
            continue
        names.add(name)
    for body in re.findall(r"enum\s*\w*\s*\{(.*?)\}", text, flags=re.S):
        names.update(re.findall(r"^\s*(\w+)\s*=", body, flags=re.M))
    return names


def header_prototypes(text, marker):
    """{name: (return type, [parameter types])} of the functions declared
    with marker (AWE_API, AWE_WIN32_API)."""
    text = " ".join(strip_comments(text).split())
    out = {}
    for ret, name, params in re.findall(marker + r" ([^;(]*?)\b(\w+)\(([^)]*)\);", text):
        types = []
        for p in params.split(","):
            p = p.strip()
            if p == "void":
                continue
            types.append(re.sub(r"\s*\b\w+$", "", p))  # drop the parameter's name
        out[name] = (ret.strip(), types)
    return out


def resolve(ctype):
    """The ctypes type a C type name stands for, or None for void."""
    ctype = " ".join(ctype.replace("*", " * ").split())
    fixed = {"void": None, "int": c_int, "unsigned int": c_uint, "size_t": c_size_t,
             "ssize_t": c_ssize_t, "uint32_t": c_uint32, "uint64_t": c_uint64,
             "const char *": c_char_p, "void *": c_void_p, "const void *": c_void_p,
             "void * const *": POINTER(c_void_p)}
    if ctype in fixed:
        return fixed[ctype]
    if ctype.startswith("const "):
        return resolve(ctype[len("const "):])
    if ctype.endswith(" *"):
        return POINTER(resolve(ctype[:-2]))
    if ctype.startswith("struct "):
        return getattr(_lib, "struct_" + ctype[len("struct "):])
    return getattr(_lib, ctype, None) or getattr(w, ctype)


# Where a declaration deliberately differs from the header, and why.
DEVIATIONS = {
    # NewState and PreviousState: TOKEN_PRIVILEGES of any length.
    ("AdjustTokenPrivileges", 2): c_void_p,
    ("AdjustTokenPrivileges", 4): c_void_p,
}


class LayoutTest(unittest.TestCase):
    def test_structs(self):
        lines = []
        for name, (cname, cls) in C_STRUCTS.items():
            lines.append(f'SIZE({cname}, "{name}");')
            for field, _, _ in named_fields(cls):
                lines.append(f'FIELD({cname}, "{name}", {field});')
        out = compile_and_run(self, PRELUDE + "\n".join(lines) + "\nreturn 0;\n}\n")
        seen = 0
        for line in out.splitlines():
            kind, what, *numbers = line.split()
            numbers = [int(n) for n in numbers]
            if kind == "size":
                cls = C_STRUCTS[what][1]
                self.assertEqual([ctypes.sizeof(cls), ctypes.alignment(cls)], numbers,
                                 f"sizeof/_Alignof of {what}")
            else:
                name, field = what.split(".")
                got = {f: (off, size) for f, off, size in named_fields(C_STRUCTS[name][1])}
                self.assertEqual(list(got[field]), numbers, f"offset/size of {what}")
            seen += 1
        self.assertGreater(seen, 50)

    def test_bit_fields(self):
        out = compile_and_run(self, PRELUDE + """
MEM_EXTENDED_PARAMETER p = {.Type = 5, .Reserved = 0x123456789abcdULL,
                            .ULong64 = 0x1122334455667788ULL};
const unsigned char *b = (const unsigned char *)&p;
for (size_t i = 0; i < sizeof(p); i++)
    printf("%02x", b[i]);
return 0;
}
""")
        p = w.MEM_EXTENDED_PARAMETER()
        p.Type, p.Reserved, p.ULong64 = 5, 0x123456789ABCD, 0x1122334455667788
        self.assertEqual(bytes(p).hex(), out.strip())

    def test_types(self):
        lines = [f"TYPE({name});" for name, _ in C_TYPES]
        lines += [f'printf("pointer {n} %zu\\n", sizeof({n}));' for n in C_POINTERS]
        out = compile_and_run(self, PRELUDE + "\n".join(lines) + "\nreturn 0;\n}\n")
        types = dict(C_TYPES)
        for line in out.splitlines():
            kind, name, size, *signed = line.split()
            typ = types[name] if kind == "type" else getattr(w, name)
            self.assertEqual(ctypes.sizeof(typ), int(size), f"sizeof({name})")
            if signed:
                self.assertEqual(typ in SIGNED, signed == ["1"], f"signedness of {name}")

    def test_constants(self):
        awe_h, win32_h = header("awe.h"), header("awe/win32.h")
        if awe_h is None or win32_h is None:
            self.skipTest("the headers are not in the -I directories")
        ours = {n: v for n, v in _lib.CONSTANTS.items()}
        ours.update({n: v for n, v in vars(w).items() if isinstance(v, int) and
                     not isinstance(v, bool) and re.match(r"^([A-Z][A-Z0-9_]+|Mem\w+)$", n)})
        theirs = header_constants(awe_h) | header_constants(win32_h)
        self.assertEqual(sorted(theirs - set(ours)), [], "constants of the headers missing here")
        self.assertEqual(sorted(set(ours) - theirs), [], "constants here not in the headers")
        lines = [f"CONST({n});" for n in sorted(ours)]
        out = compile_and_run(self, PRELUDE + "\n".join(lines) + "\nreturn 0;\n}\n")
        for line in out.splitlines():
            _, name, value = line.split()
            self.assertEqual(ours[name] & ((1 << 64) - 1), int(value), name)
        self.assertIn(f'#define SE_LOCK_MEMORY_NAME_A "{w.SE_LOCK_MEMORY_NAME_A.decode()}"',
                      win32_h)

    def test_prototypes(self):
        awe_h, win32_h = header("awe.h"), header("awe/win32.h")
        if awe_h is None or win32_h is None:
            self.skipTest("the headers are not in the -I directories")
        for text, marker, ours, library in ((awe_h, "AWE_API", _lib.PROTOTYPES, _lib.lib),
                                            (win32_h, "AWE_WIN32_API", w.PROTOTYPES, w.lib)):
            theirs = header_prototypes(text, marker)
            self.assertGreater(len(theirs), 20)
            self.assertEqual(sorted(set(theirs) ^ set(ours)), [],
                             f"functions of {marker} not declared on both sides")
            for name, (ret, params) in theirs.items():
                fn = getattr(library, name)
                with self.subTest(function=name):
                    self.assertIs(fn.restype, resolve(ret), f"{name} returns {ret}")
                    self.assertEqual(len(fn.argtypes), len(params), name)
                    for i, (got, ctype) in enumerate(zip(fn.argtypes, params)):
                        want = DEVIATIONS.get((name, i)) or resolve(ctype)
                        self.assertIs(got, want, f"{name} parameter {i}: {ctype}")


if __name__ == "__main__":
    unittest.main()
