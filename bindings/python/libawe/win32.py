# SPDX-License-Identifier: MIT
"""The Win32 AWE functions of libawe-win32.so.0 (<awe/win32.h>), for code
written against Windows: the same names, types, constants and error codes.

    from libawe import win32 as w
    n = w.ULONG_PTR(16)
    pfns = (w.ULONG_PTR * 16)()
    if not w.AllocateUserPhysicalPages(w.GetCurrentProcess(), w.byref(n), pfns):
        raise w.WinError()                 # GetLastError(): 1314 without the privilege

The library is loaded when this module is first imported, by its soname or
from the path in $LIBAWE_WIN32_LIBRARY (after libawe.so.0, which it needs and
which $LIBAWE_LIBRARY may name). Every function is declared with Windows'
types (DWORD 32 bits, BOOL an int, ULONG_PTR and SIZE_T pointer-sized, HANDLE
a pointer) and called with use_errno=True: on failure the layer leaves the
Win32 error code in errno, where ctypes keeps it for GetLastError() below
(the way .NET's SetLastError=true works), unaffected by anything the
interpreter does in between.

SeLockMemoryPrivilege, which AllocateUserPhysicalPages needs, is held by
root (CAP_IPC_LOCK), by a process whose RLIMIT_MEMLOCK is at least 64 MiB or
unlimited, and with LIBAWE_UNLOCKED=1; it starts disabled, as on Windows, and
enable_lock_privilege() enables it (awe-win32(7)).
"""
import ctypes
from ctypes import POINTER, Structure, Union, byref, c_char_p, c_int, c_int16, c_int32
from ctypes import c_int64, c_uint8, c_uint16, c_uint32, c_uint64, c_void_p, sizeof

from . import _lib

SONAME = "libawe-win32.so.0"
LIBRARY_ENV = "LIBAWE_WIN32_LIBRARY"

# ---- Types, with Windows' sizes on LP64 Linux -----------------------------

BOOL = c_int
BYTE = BOOLEAN = UCHAR = c_uint8
WORD = USHORT = c_uint16
DWORD = ULONG = UINT = c_uint32
LONG = INT = c_int32
SHORT = c_int16
LONGLONG = LONG64 = c_int64
ULONGLONG = DWORD64 = ULONG64 = c_uint64
# Pointer-sized, whatever the data model.
ULONG_PTR = SIZE_T = DWORD_PTR = UINT_PTR = {4: c_uint32, 8: c_uint64}[sizeof(c_void_p)]
LONG_PTR = INT_PTR = SSIZE_T = {4: c_int32, 8: c_int64}[sizeof(c_void_p)]
PVOID = LPVOID = LPCVOID = HANDLE = c_void_p
PHANDLE = POINTER(HANDLE)
PULONG_PTR = POINTER(ULONG_PTR)
PSIZE_T = POINTER(SIZE_T)
PDWORD = LPDWORD = POINTER(DWORD)
PULONG = POINTER(ULONG)
PBOOL = LPBOOL = POINTER(BOOL)
CHAR = ctypes.c_char
LPSTR = LPCSTR = c_char_p
WCHAR = c_uint16  # UTF-16, not wchar_t (c_wchar is 32 bits here)
LPWSTR = LPCWSTR = POINTER(WCHAR)


class LUID(Structure):
    _fields_ = [("LowPart", DWORD), ("HighPart", LONG)]


class LUID_AND_ATTRIBUTES(Structure):
    _fields_ = [("Luid", LUID), ("Attributes", DWORD)]


class TOKEN_PRIVILEGES(Structure):
    # PrivilegeCount entries: token_privileges(n) makes room for more.
    _fields_ = [("PrivilegeCount", DWORD), ("Privileges", LUID_AND_ATTRIBUTES * 1)]


def token_privileges(*privileges):
    """A TOKEN_PRIVILEGES-shaped struct with room for len(privileges)
    entries, each a (LUID, Attributes) pair; pass it with byref()."""
    n = max(len(privileges), 1)

    class TP(Structure):
        _fields_ = [("PrivilegeCount", DWORD), ("Privileges", LUID_AND_ATTRIBUTES * n)]
    tp = TP(len(privileges))
    for i, (luid, attributes) in enumerate(privileges):
        tp.Privileges[i].Luid = luid
        tp.Privileges[i].Attributes = attributes
    return tp


class _SYSTEM_INFO_ARCH(Structure):
    _fields_ = [("wProcessorArchitecture", WORD), ("wReserved", WORD)]


class _SYSTEM_INFO_OEM(Union):
    _anonymous_ = ("_arch",)
    _fields_ = [("dwOemId", DWORD), ("_arch", _SYSTEM_INFO_ARCH)]


class SYSTEM_INFO(Structure):
    _anonymous_ = ("_oem",)
    _fields_ = [
        ("_oem", _SYSTEM_INFO_OEM),
        ("dwPageSize", DWORD),
        ("lpMinimumApplicationAddress", LPVOID),
        ("lpMaximumApplicationAddress", LPVOID),
        ("dwActiveProcessorMask", DWORD_PTR),
        ("dwNumberOfProcessors", DWORD),
        ("dwProcessorType", DWORD),
        ("dwAllocationGranularity", DWORD),
        ("wProcessorLevel", WORD),
        ("wProcessorRevision", WORD),
    ]


class MEMORY_BASIC_INFORMATION(Structure):
    _fields_ = [
        ("BaseAddress", PVOID),
        ("AllocationBase", PVOID),
        ("AllocationProtect", DWORD),
        ("PartitionId", WORD),
        ("RegionSize", SIZE_T),
        ("State", DWORD),
        ("Protect", DWORD),
        ("Type", DWORD),
    ]


MEM_EXTENDED_PARAMETER_TYPE_BITS = 8


class _MEM_EXTENDED_PARAMETER_VALUE(Union):
    _fields_ = [("ULong64", DWORD64), ("Pointer", PVOID), ("Size", SIZE_T), ("Handle", HANDLE),
                ("ULong", DWORD)]


class MEM_EXTENDED_PARAMETER(Structure):
    _anonymous_ = ("_value",)
    _fields_ = [
        ("Type", DWORD64, MEM_EXTENDED_PARAMETER_TYPE_BITS),
        ("Reserved", DWORD64, 64 - MEM_EXTENDED_PARAMETER_TYPE_BITS),
        ("_value", _MEM_EXTENDED_PARAMETER_VALUE),
    ]


class SECURITY_ATTRIBUTES(Structure):
    _fields_ = [("nLength", DWORD), ("lpSecurityDescriptor", LPVOID), ("bInheritHandle", BOOL)]


class MEM_ADDRESS_REQUIREMENTS(Structure):
    _fields_ = [("LowestStartingAddress", PVOID), ("HighestEndingAddress", PVOID),
                ("Alignment", SIZE_T)]


PLUID = POINTER(LUID)
PTOKEN_PRIVILEGES = POINTER(TOKEN_PRIVILEGES)
LPSYSTEM_INFO = POINTER(SYSTEM_INFO)
PMEMORY_BASIC_INFORMATION = POINTER(MEMORY_BASIC_INFORMATION)
PMEM_EXTENDED_PARAMETER = POINTER(MEM_EXTENDED_PARAMETER)
LPSECURITY_ATTRIBUTES = POINTER(SECURITY_ATTRIBUTES)

STRUCTS = {
    "LUID": LUID, "LUID_AND_ATTRIBUTES": LUID_AND_ATTRIBUTES, "TOKEN_PRIVILEGES": TOKEN_PRIVILEGES,
    "SYSTEM_INFO": SYSTEM_INFO, "MEMORY_BASIC_INFORMATION": MEMORY_BASIC_INFORMATION,
    "MEM_EXTENDED_PARAMETER": MEM_EXTENDED_PARAMETER, "SECURITY_ATTRIBUTES": SECURITY_ATTRIBUTES,
    "MEM_ADDRESS_REQUIREMENTS": MEM_ADDRESS_REQUIREMENTS,
}

# ---- Constants ------------------------------------------------------------------

# MEM_EXTENDED_PARAMETER_TYPE
MemExtendedParameterInvalidType = 0
MemExtendedParameterAddressRequirements = 1
MemExtendedParameterNumaNode = 2
MemExtendedParameterPartitionHandle = 3
MemExtendedParameterUserPhysicalHandle = 4
MemExtendedParameterAttributeFlags = 5
MemExtendedParameterImageMachine = 6
MemExtendedParameterMax = 7
# MEM_SECTION_EXTENDED_PARAMETER_TYPE
MemSectionExtendedParameterInvalidType = 0
MemSectionExtendedParameterUserPhysicalFlags = 1
MemSectionExtendedParameterNumaNode = 2
MemSectionExtendedParameterSigningLevel = 3
MemSectionExtendedParameterMax = 4

MEM_COMMIT = 0x00001000
MEM_RESERVE = 0x00002000
MEM_DECOMMIT = 0x00004000
MEM_RELEASE = 0x00008000
MEM_FREE = 0x00010000
MEM_PRIVATE = 0x00020000
MEM_MAPPED = 0x00040000
MEM_RESET = 0x00080000
MEM_TOP_DOWN = 0x00100000
MEM_WRITE_WATCH = 0x00200000
MEM_PHYSICAL = 0x00400000
MEM_RESET_UNDO = 0x01000000
MEM_LARGE_PAGES = 0x20000000
MEM_IMAGE = 0x01000000

PAGE_NOACCESS = 0x01
PAGE_READONLY = 0x02
PAGE_READWRITE = 0x04
PAGE_WRITECOPY = 0x08
PAGE_EXECUTE = 0x10
PAGE_EXECUTE_READ = 0x20
PAGE_EXECUTE_READWRITE = 0x40
PAGE_EXECUTE_WRITECOPY = 0x80
PAGE_GUARD = 0x100
PAGE_NOCACHE = 0x200
PAGE_WRITECOMBINE = 0x400

SEC_PARTITION_OWNER_HANDLE = 0x00040000
SEC_64K_PAGES = 0x00080000
SEC_FILE = 0x00800000
SEC_IMAGE = 0x01000000
SEC_PROTECTED_IMAGE = 0x02000000
SEC_RESERVE = 0x04000000
SEC_COMMIT = 0x08000000
SEC_NOCACHE = 0x10000000
SEC_IMAGE_NO_EXECUTE = SEC_IMAGE | SEC_NOCACHE
SEC_WRITECOMBINE = 0x40000000
SEC_LARGE_PAGES = 0x80000000

STANDARD_RIGHTS_REQUIRED = 0x000F0000
STANDARD_RIGHTS_READ = 0x00020000
STANDARD_RIGHTS_WRITE = 0x00020000
STANDARD_RIGHTS_EXECUTE = 0x00020000
STANDARD_RIGHTS_ALL = 0x001F0000
MAXIMUM_ALLOWED = 0x02000000
GENERIC_READ = 0x80000000
GENERIC_WRITE = 0x40000000
GENERIC_EXECUTE = 0x20000000
GENERIC_ALL = 0x10000000

SECTION_QUERY = 0x0001
SECTION_MAP_WRITE = 0x0002
SECTION_MAP_READ = 0x0004
SECTION_MAP_EXECUTE = 0x0008
SECTION_EXTEND_SIZE = 0x0010
SECTION_MAP_EXECUTE_EXPLICIT = 0x0020
SECTION_ALL_ACCESS = (STANDARD_RIGHTS_REQUIRED | SECTION_QUERY | SECTION_MAP_WRITE |
                      SECTION_MAP_READ | SECTION_MAP_EXECUTE | SECTION_EXTEND_SIZE)
FILE_MAP_WRITE = SECTION_MAP_WRITE
FILE_MAP_READ = SECTION_MAP_READ
FILE_MAP_ALL_ACCESS = SECTION_ALL_ACCESS
FILE_MAP_EXECUTE = SECTION_MAP_EXECUTE_EXPLICIT
FILE_MAP_COPY = 0x00000001

MEM_EXTENDED_PARAMETER_NONPAGED = 0x02
MEM_EXTENDED_PARAMETER_NONPAGED_LARGE = 0x08
MEM_EXTENDED_PARAMETER_NONPAGED_HUGE = 0x10
MEM_EXTENDED_PARAMETER_NUMA_NODE_MANDATORY = 1 << 63

PROCESS_VM_OPERATION = 0x0008
PROCESS_VM_READ = 0x0010
PROCESS_VM_WRITE = 0x0020
PROCESS_QUERY_INFORMATION = 0x0400
PROCESS_QUERY_LIMITED_INFORMATION = 0x1000
PROCESS_ALL_ACCESS = 0x001FFFFF

TOKEN_ASSIGN_PRIMARY = 0x0001
TOKEN_DUPLICATE = 0x0002
TOKEN_IMPERSONATE = 0x0004
TOKEN_QUERY = 0x0008
TOKEN_QUERY_SOURCE = 0x0010
TOKEN_ADJUST_PRIVILEGES = 0x0020
TOKEN_ADJUST_GROUPS = 0x0040
TOKEN_ADJUST_DEFAULT = 0x0080
TOKEN_ADJUST_SESSIONID = 0x0100
TOKEN_ALL_ACCESS = 0x000F01FF

SE_PRIVILEGE_ENABLED_BY_DEFAULT = 0x00000001
SE_PRIVILEGE_ENABLED = 0x00000002
SE_PRIVILEGE_REMOVED = 0x00000004
SE_PRIVILEGE_USED_FOR_ACCESS = 0x80000000

SE_LOCK_MEMORY_NAME_A = b"SeLockMemoryPrivilege"
SE_LOCK_MEMORY_NAME = "SeLockMemoryPrivilege"
SE_LOCK_MEMORY_PRIVILEGE = 4

HEAP_NO_SERIALIZE = 0x00000001
HEAP_GENERATE_EXCEPTIONS = 0x00000004
HEAP_ZERO_MEMORY = 0x00000008
HEAP_REALLOC_IN_PLACE_ONLY = 0x00000010

PROCESSOR_ARCHITECTURE_INTEL = 0
PROCESSOR_ARCHITECTURE_ARM = 5
PROCESSOR_ARCHITECTURE_AMD64 = 9
PROCESSOR_ARCHITECTURE_ARM64 = 12
PROCESSOR_ARCHITECTURE_UNKNOWN = 0xFFFF
PROCESSOR_INTEL_386 = 386
PROCESSOR_INTEL_486 = 486
PROCESSOR_INTEL_PENTIUM = 586
PROCESSOR_AMD_X8664 = 8664
PROCESSOR_ARM = 7

INVALID_HANDLE_VALUE = c_void_p(-1).value
TRUE = 1
FALSE = 0

ERROR_SUCCESS = 0
ERROR_INVALID_FUNCTION = 1
ERROR_ACCESS_DENIED = 5
ERROR_INVALID_HANDLE = 6
ERROR_NOT_ENOUGH_MEMORY = 8
ERROR_OUTOFMEMORY = 14
ERROR_BAD_LENGTH = 24
ERROR_NOT_SUPPORTED = 50
ERROR_INVALID_PARAMETER = 87
ERROR_CALL_NOT_IMPLEMENTED = 120
ERROR_INSUFFICIENT_BUFFER = 122
ERROR_INVALID_ADDRESS = 487
ERROR_NOACCESS = 998
ERROR_POSSIBLE_DEADLOCK = 1131
ERROR_NOT_ALL_ASSIGNED = 1300
ERROR_NO_SUCH_PRIVILEGE = 1313
ERROR_PRIVILEGE_NOT_HELD = 1314
ERROR_NO_SYSTEM_RESOURCES = 1450
ERROR_COMMITMENT_LIMIT = 1455

AWE_FRAME_LARGE = _lib.AWE_FRAME_LARGE

# ---- Functions -------------------------------------------------------------------

PROTOTYPES = {
    # AWE
    "AllocateUserPhysicalPages": (BOOL, [HANDLE, PULONG_PTR, PULONG_PTR]),
    "AllocateUserPhysicalPagesNuma": (BOOL, [HANDLE, PULONG_PTR, PULONG_PTR, DWORD]),
    "AllocateUserPhysicalPages2": (BOOL, [HANDLE, PULONG_PTR, PULONG_PTR,
                                          PMEM_EXTENDED_PARAMETER, ULONG]),
    "FreeUserPhysicalPages": (BOOL, [HANDLE, PULONG_PTR, PULONG_PTR]),
    "MapUserPhysicalPages": (BOOL, [PVOID, ULONG_PTR, PULONG_PTR]),
    "MapUserPhysicalPagesScatter": (BOOL, [POINTER(PVOID), ULONG_PTR, PULONG_PTR]),
    "CreateFileMapping2": (HANDLE, [HANDLE, LPSECURITY_ATTRIBUTES, ULONG, ULONG, ULONG, ULONG64,
                                    LPCWSTR, PMEM_EXTENDED_PARAMETER, ULONG]),
    # Virtual memory
    "VirtualAlloc": (LPVOID, [LPVOID, SIZE_T, DWORD, DWORD]),
    "VirtualAllocEx": (LPVOID, [HANDLE, LPVOID, SIZE_T, DWORD, DWORD]),
    "VirtualAllocExNuma": (LPVOID, [HANDLE, LPVOID, SIZE_T, DWORD, DWORD, DWORD]),
    "VirtualAlloc2": (PVOID, [HANDLE, PVOID, SIZE_T, ULONG, ULONG, PMEM_EXTENDED_PARAMETER,
                              ULONG]),
    "VirtualFree": (BOOL, [LPVOID, SIZE_T, DWORD]),
    "VirtualFreeEx": (BOOL, [HANDLE, LPVOID, SIZE_T, DWORD]),
    "VirtualProtect": (BOOL, [LPVOID, SIZE_T, DWORD, PDWORD]),
    "VirtualProtectEx": (BOOL, [HANDLE, LPVOID, SIZE_T, DWORD, PDWORD]),
    "VirtualQuery": (SIZE_T, [LPCVOID, PMEMORY_BASIC_INFORMATION, SIZE_T]),
    "VirtualQueryEx": (SIZE_T, [HANDLE, LPCVOID, PMEMORY_BASIC_INFORMATION, SIZE_T]),
    # Processes, handles, tokens
    "GetCurrentProcess": (HANDLE, []),
    "GetCurrentProcessId": (DWORD, []),
    "OpenProcess": (HANDLE, [DWORD, BOOL, DWORD]),
    "CloseHandle": (BOOL, [HANDLE]),
    "OpenProcessToken": (BOOL, [HANDLE, DWORD, PHANDLE]),
    "LookupPrivilegeValueA": (BOOL, [LPCSTR, LPCSTR, PLUID]),
    "LookupPrivilegeValueW": (BOOL, [LPCWSTR, LPCWSTR, PLUID]),
    # NewState and PreviousState: a TOKEN_PRIVILEGES or token_privileges()
    # of any length, so c_void_p (byref() of either passes).
    "AdjustTokenPrivileges": (BOOL, [HANDLE, BOOL, c_void_p, DWORD, c_void_p, PDWORD]),
    # System information, errors, heap
    "GetSystemInfo": (None, [LPSYSTEM_INFO]),
    "GetNativeSystemInfo": (None, [LPSYSTEM_INFO]),
    "GetLargePageMinimum": (SIZE_T, []),
    "GetNumaHighestNodeNumber": (BOOL, [PULONG]),
    "GetLastError": (DWORD, []),
    "SetLastError": (None, [DWORD]),
    "GetProcessHeap": (HANDLE, []),
    "HeapAlloc": (LPVOID, [HANDLE, DWORD, SIZE_T]),
    "HeapReAlloc": (LPVOID, [HANDLE, DWORD, LPVOID, SIZE_T]),
    "HeapFree": (BOOL, [HANDLE, DWORD, LPVOID]),
}

# After libawe.so.0 (imported above), so that the library it needs is the
# one $LIBAWE_LIBRARY named.
lib = _lib.load(SONAME, LIBRARY_ENV, "the libawe Win32 layer")

for _name, (_restype, _argtypes) in PROTOTYPES.items():
    _fn = getattr(lib, _name)
    _fn.restype = _restype
    _fn.argtypes = _argtypes
    globals()[_name] = _fn
del _name, _restype, _argtypes, _fn

_GetLastError = lib.GetLastError
_SetLastError = lib.SetLastError


def GetLastError():
    """The Win32 code of this thread's last failed call, as ctypes kept it
    from errno right after the call (what Windows' GetLastError() and
    .NET's Marshal.GetLastWin32Error() tell)."""
    return ctypes.get_errno()


def SetLastError(code):
    """Set the last error: the layer's own and the copy ctypes keeps."""
    _SetLastError(code)
    ctypes.set_errno(code)


def GetLastError_native():
    """The layer's own GetLastError() (the same value after a failure)."""
    return _GetLastError()


_MESSAGES = {
    ERROR_SUCCESS: "The operation completed successfully.",
    ERROR_INVALID_FUNCTION: "Incorrect function.",
    ERROR_ACCESS_DENIED: "Access is denied.",
    ERROR_INVALID_HANDLE: "The handle is invalid.",
    ERROR_NOT_ENOUGH_MEMORY: "Not enough memory resources are available to process this command.",
    ERROR_OUTOFMEMORY: "Not enough memory resources are available to complete this operation.",
    ERROR_BAD_LENGTH: "The program issued a command but the command length is incorrect.",
    ERROR_NOT_SUPPORTED: "The request is not supported.",
    ERROR_INVALID_PARAMETER: "The parameter is incorrect.",
    ERROR_CALL_NOT_IMPLEMENTED: "This function is not supported on this system.",
    ERROR_INSUFFICIENT_BUFFER: "The data area passed to a system call is too small.",
    ERROR_INVALID_ADDRESS: "Attempt to access invalid address.",
    ERROR_NOACCESS: "Invalid access to memory location.",
    ERROR_POSSIBLE_DEADLOCK: "A potential deadlock condition has been detected.",
    ERROR_NOT_ALL_ASSIGNED: "Not all privileges or groups referenced are assigned to the caller.",
    ERROR_NO_SUCH_PRIVILEGE: "A specified privilege does not exist.",
    ERROR_PRIVILEGE_NOT_HELD: "A required privilege is not held by the client.",
    ERROR_NO_SYSTEM_RESOURCES: "Insufficient system resources exist to complete the requested "
                               "service.",
    ERROR_COMMITMENT_LIMIT: "The paging file is too small for this operation to complete.",
}


def FormatError(code=None):
    """Windows' message for a Win32 error code (the last error by default)."""
    code = GetLastError() if code is None else code
    return _MESSAGES.get(code, f"Win32 error {code}.")


class Win32Error(OSError):
    """A failed Win32 call: winerror is the Win32 code (errno stays None,
    since the code is not an errno value; Windows' own WinError is the same
    shape)."""

    def __init__(self, winerror, message=None):
        super().__init__(None, FormatError(winerror) if message is None else message)
        self.winerror = winerror

    def __str__(self):
        return f"[WinError {self.winerror}] {self.strerror}"

    def __reduce__(self):
        return (type(self), (self.winerror, self.strerror))


def WinError(code=None, descr=None):
    """ctypes.WinError() as on Windows: a Win32Error for the last error."""
    code = GetLastError() if code is None else code
    return Win32Error(code, descr)


def enable_lock_privilege(enable=True):
    """Enable (or disable) SeLockMemoryPrivilege as the AWE example does:
    OpenProcessToken, LookupPrivilegeValue, AdjustTokenPrivileges. Returns
    what GetLastError() says afterwards: ERROR_SUCCESS, or
    ERROR_NOT_ALL_ASSIGNED when the process does not hold it."""
    token = HANDLE()
    if not OpenProcessToken(GetCurrentProcess(), TOKEN_ADJUST_PRIVILEGES | TOKEN_QUERY,
                            byref(token)):
        raise WinError()
    try:
        luid = LUID()
        if not LookupPrivilegeValueA(None, SE_LOCK_MEMORY_NAME_A, byref(luid)):
            raise WinError()
        tp = token_privileges((luid, SE_PRIVILEGE_ENABLED if enable else 0))
        if not AdjustTokenPrivileges(token, FALSE, byref(tp), 0, None, None):
            raise WinError()
        return GetLastError()
    finally:
        CloseHandle(token)


def wide(text):
    """A NUL-terminated UTF-16 string for an LPCWSTR argument."""
    data = (text + "\0").encode("utf-16-le")
    return (WCHAR * (len(data) // 2)).from_buffer_copy(data)
