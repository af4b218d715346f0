/* SPDX-License-Identifier: MIT */
/*
 * libawe-win32 — the Win32 AWE API on Linux, with Windows 10 semantics.
 *
 * The functions below behave as their Windows namesakes (see the spec the
 * project follows, and awe-win32(7)): same types on LP64 Linux, same return
 * values, same out-parameters and the same error codes from GetLastError().
 * They are a thin translation over the native API of <awe.h>, so the two
 * can be mixed: a frame number is an awe_frame_t, an AWE region is a libawe
 * window.
 *
 * Every failure sets the calling thread's last error AND errno to the Win32
 * code, so .NET's Marshal.GetLastWin32Error() and Python's ctypes.get_errno()
 * see it; a success leaves both untouched (AdjustTokenPrivileges() excepted,
 * as on Windows).
 *
 * Environment:
 *   LIBAWE_WIN32_ERRORS=wrk         Server 2003 (WRK) error codes instead of
 *                                   Windows 10's where the two differ.
 *   LIBAWE_WIN32_LOCK_PRIVILEGE=1   SeLockMemoryPrivilege starts enabled (when
 *                                   held), for programs that never adjust it.
 *   LIBAWE_UNLOCKED=1               unlocked frames (see <awe.h>); the process
 *                                   then holds SeLockMemoryPrivilege.
 *
 * A Windows program includes <awe/compat/windows.h> through
 * -I<prefix>/include/awe/compat, or this header directly.
 */
#ifndef AWE_WIN32_H
#define AWE_WIN32_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

#if defined(AWE_BUILDING) && defined(__GNUC__)
#define AWE_WIN32_API __attribute__((visibility("default")))
#else
#define AWE_WIN32_API
#endif

/* Nameless structs inside structs and unions, as Windows' headers have them:
 * standard C11, a GNU extension in C++ (and before C11) that is accepted
 * without a -Wpedantic warning when marked, as MinGW's headers mark it. */
#if defined(__GNUC__)
#define AWE_WIN32_NAMELESS __extension__
#else
#define AWE_WIN32_NAMELESS
#endif

/* ---- Types, with Windows' sizes on LP64 Linux ---------------------------- */

typedef int BOOL;
typedef BOOL *PBOOL, *LPBOOL;
typedef unsigned char BYTE, BOOLEAN, UCHAR;
typedef uint16_t WORD, USHORT;
typedef uint32_t DWORD, ULONG, UINT;
typedef int32_t LONG, INT;
typedef int64_t LONGLONG, LONG64;
typedef uint64_t ULONGLONG, DWORD64, ULONG64;
typedef uintptr_t ULONG_PTR, SIZE_T, DWORD_PTR, UINT_PTR;
typedef intptr_t LONG_PTR, INT_PTR, SSIZE_T;
typedef ULONG_PTR *PULONG_PTR;
typedef SIZE_T *PSIZE_T;
typedef DWORD *PDWORD, *LPDWORD;
typedef ULONG *PULONG;
typedef void *PVOID, *LPVOID;
typedef const void *LPCVOID;
typedef void *HANDLE;
typedef HANDLE *PHANDLE;
typedef char CHAR;
typedef CHAR *LPSTR;
typedef const CHAR *LPCSTR;
typedef uint16_t WCHAR; /* UTF-16, not wchar_t */
typedef WCHAR *LPWSTR;
typedef const WCHAR *LPCWSTR;

#ifndef TRUE
#define TRUE 1
#endif
#ifndef FALSE
#define FALSE 0
#endif

typedef struct _LUID {
	DWORD LowPart;
	LONG HighPart;
} LUID, *PLUID;

typedef struct _LUID_AND_ATTRIBUTES {
	LUID Luid;
	DWORD Attributes;
} LUID_AND_ATTRIBUTES, *PLUID_AND_ATTRIBUTES;

typedef struct _TOKEN_PRIVILEGES {
	DWORD PrivilegeCount;
	LUID_AND_ATTRIBUTES Privileges[1]; /* PrivilegeCount entries */
} TOKEN_PRIVILEGES, *PTOKEN_PRIVILEGES;

typedef struct _SYSTEM_INFO {
	union {
		DWORD dwOemId;
		AWE_WIN32_NAMELESS struct {
			WORD wProcessorArchitecture;
			WORD wReserved;
		};
	};
	DWORD dwPageSize;
	LPVOID lpMinimumApplicationAddress;
	LPVOID lpMaximumApplicationAddress;
	DWORD_PTR dwActiveProcessorMask;
	DWORD dwNumberOfProcessors;
	DWORD dwProcessorType;
	DWORD dwAllocationGranularity;
	WORD wProcessorLevel;
	WORD wProcessorRevision;
} SYSTEM_INFO, *LPSYSTEM_INFO;

typedef struct _MEMORY_BASIC_INFORMATION {
	PVOID BaseAddress;
	PVOID AllocationBase;
	DWORD AllocationProtect;
	WORD PartitionId;
	SIZE_T RegionSize;
	DWORD State;
	DWORD Protect;
	DWORD Type;
} MEMORY_BASIC_INFORMATION, *PMEMORY_BASIC_INFORMATION;

typedef enum MEM_EXTENDED_PARAMETER_TYPE {
	MemExtendedParameterInvalidType = 0,
	MemExtendedParameterAddressRequirements = 1,
	MemExtendedParameterNumaNode = 2,
	MemExtendedParameterPartitionHandle = 3,
	MemExtendedParameterUserPhysicalHandle = 4,
	MemExtendedParameterAttributeFlags = 5,
	MemExtendedParameterImageMachine = 6,
	MemExtendedParameterMax = 7,
} MEM_EXTENDED_PARAMETER_TYPE,
	*PMEM_EXTENDED_PARAMETER_TYPE;

#define MEM_EXTENDED_PARAMETER_TYPE_BITS 8

typedef struct MEM_EXTENDED_PARAMETER {
	AWE_WIN32_NAMELESS struct {
		DWORD64 Type : MEM_EXTENDED_PARAMETER_TYPE_BITS;
		DWORD64 Reserved : 64 - MEM_EXTENDED_PARAMETER_TYPE_BITS;
	};
	union {
		DWORD64 ULong64;
		PVOID Pointer;
		SIZE_T Size;
		HANDLE Handle;
		DWORD ULong;
	};
} MEM_EXTENDED_PARAMETER, *PMEM_EXTENDED_PARAMETER;

/* The types of a section's extended parameters (CreateFileMapping2()),
 * which travel in a MEM_EXTENDED_PARAMETER like VirtualAlloc2()'s. */
typedef enum MEM_SECTION_EXTENDED_PARAMETER_TYPE {
	MemSectionExtendedParameterInvalidType = 0,
	MemSectionExtendedParameterUserPhysicalFlags = 1,
	MemSectionExtendedParameterNumaNode = 2,
	MemSectionExtendedParameterSigningLevel = 3,
	MemSectionExtendedParameterMax = 4,
} MEM_SECTION_EXTENDED_PARAMETER_TYPE,
	*PMEM_SECTION_EXTENDED_PARAMETER_TYPE;

typedef struct _SECURITY_ATTRIBUTES {
	DWORD nLength;
	LPVOID lpSecurityDescriptor;
	BOOL bInheritHandle;
} SECURITY_ATTRIBUTES, *PSECURITY_ATTRIBUTES, *LPSECURITY_ATTRIBUTES;

typedef struct _MEM_ADDRESS_REQUIREMENTS {
	PVOID LowestStartingAddress;
	PVOID HighestEndingAddress;
	SIZE_T Alignment;
} MEM_ADDRESS_REQUIREMENTS, *PMEM_ADDRESS_REQUIREMENTS;

/* ---- Constants ------------------------------------------------------------ */

#define MEM_COMMIT 0x00001000
#define MEM_RESERVE 0x00002000
#define MEM_DECOMMIT 0x00004000
#define MEM_RELEASE 0x00008000
#define MEM_FREE 0x00010000
#define MEM_PRIVATE 0x00020000
#define MEM_MAPPED 0x00040000
#define MEM_RESET 0x00080000
#define MEM_TOP_DOWN 0x00100000
#define MEM_WRITE_WATCH 0x00200000
#define MEM_PHYSICAL 0x00400000
#define MEM_RESET_UNDO 0x01000000
#define MEM_LARGE_PAGES 0x20000000
#define MEM_IMAGE 0x01000000

#define PAGE_NOACCESS 0x01
#define PAGE_READONLY 0x02
#define PAGE_READWRITE 0x04
#define PAGE_WRITECOPY 0x08
#define PAGE_EXECUTE 0x10
#define PAGE_EXECUTE_READ 0x20
#define PAGE_EXECUTE_READWRITE 0x40
#define PAGE_EXECUTE_WRITECOPY 0x80
#define PAGE_GUARD 0x100
#define PAGE_NOCACHE 0x200
#define PAGE_WRITECOMBINE 0x400

/* Section attributes (CreateFileMapping2's AllocationAttributes). */
#define SEC_PARTITION_OWNER_HANDLE 0x00040000
#define SEC_64K_PAGES 0x00080000
#define SEC_FILE 0x00800000
#define SEC_IMAGE 0x01000000
#define SEC_PROTECTED_IMAGE 0x02000000
#define SEC_RESERVE 0x04000000
#define SEC_COMMIT 0x08000000
#define SEC_NOCACHE 0x10000000
#define SEC_IMAGE_NO_EXECUTE (SEC_IMAGE | SEC_NOCACHE)
#define SEC_WRITECOMBINE 0x40000000
#define SEC_LARGE_PAGES 0x80000000

/* Access rights: standard, generic, and those of a section. (Not the single
 * standard rights, whose names such as DELETE are too common to take.) */
#define STANDARD_RIGHTS_REQUIRED 0x000F0000
#define STANDARD_RIGHTS_READ 0x00020000 /* READ_CONTROL */
#define STANDARD_RIGHTS_WRITE 0x00020000
#define STANDARD_RIGHTS_EXECUTE 0x00020000
#define STANDARD_RIGHTS_ALL 0x001F0000
#define MAXIMUM_ALLOWED 0x02000000
#define GENERIC_READ 0x80000000
#define GENERIC_WRITE 0x40000000
#define GENERIC_EXECUTE 0x20000000
#define GENERIC_ALL 0x10000000

#define SECTION_QUERY 0x0001
#define SECTION_MAP_WRITE 0x0002
#define SECTION_MAP_READ 0x0004
#define SECTION_MAP_EXECUTE 0x0008
#define SECTION_EXTEND_SIZE 0x0010
#define SECTION_MAP_EXECUTE_EXPLICIT 0x0020
#define SECTION_ALL_ACCESS                                                                         \
	(STANDARD_RIGHTS_REQUIRED | SECTION_QUERY | SECTION_MAP_WRITE | SECTION_MAP_READ |         \
	 SECTION_MAP_EXECUTE | SECTION_EXTEND_SIZE)
#define FILE_MAP_WRITE SECTION_MAP_WRITE
#define FILE_MAP_READ SECTION_MAP_READ
#define FILE_MAP_ALL_ACCESS SECTION_ALL_ACCESS
#define FILE_MAP_EXECUTE SECTION_MAP_EXECUTE_EXPLICIT
#define FILE_MAP_COPY 0x00000001

#define MEM_EXTENDED_PARAMETER_NONPAGED 0x02
#define MEM_EXTENDED_PARAMETER_NONPAGED_LARGE 0x08
#define MEM_EXTENDED_PARAMETER_NONPAGED_HUGE 0x10
#define MEM_EXTENDED_PARAMETER_NUMA_NODE_MANDATORY (UINT64_C(1) << 63)

#define PROCESS_VM_OPERATION 0x0008
#define PROCESS_VM_READ 0x0010
#define PROCESS_VM_WRITE 0x0020
#define PROCESS_QUERY_INFORMATION 0x0400
#define PROCESS_QUERY_LIMITED_INFORMATION 0x1000
#define PROCESS_ALL_ACCESS 0x001FFFFF

#define TOKEN_ASSIGN_PRIMARY 0x0001
#define TOKEN_DUPLICATE 0x0002
#define TOKEN_IMPERSONATE 0x0004
#define TOKEN_QUERY 0x0008
#define TOKEN_QUERY_SOURCE 0x0010
#define TOKEN_ADJUST_PRIVILEGES 0x0020
#define TOKEN_ADJUST_GROUPS 0x0040
#define TOKEN_ADJUST_DEFAULT 0x0080
#define TOKEN_ADJUST_SESSIONID 0x0100
#define TOKEN_ALL_ACCESS 0x000F01FF

#define SE_PRIVILEGE_ENABLED_BY_DEFAULT 0x00000001
#define SE_PRIVILEGE_ENABLED 0x00000002
#define SE_PRIVILEGE_REMOVED 0x00000004
#define SE_PRIVILEGE_USED_FOR_ACCESS 0x80000000

/* The privilege names, narrow (the _W forms are UTF-16, see compat/windows.h). */
#define SE_LOCK_MEMORY_NAME_A "SeLockMemoryPrivilege"
#define SE_LOCK_MEMORY_PRIVILEGE 4

#define HEAP_NO_SERIALIZE 0x00000001
#define HEAP_GENERATE_EXCEPTIONS 0x00000004
#define HEAP_ZERO_MEMORY 0x00000008
#define HEAP_REALLOC_IN_PLACE_ONLY 0x00000010

#define PROCESSOR_ARCHITECTURE_INTEL 0
#define PROCESSOR_ARCHITECTURE_ARM 5
#define PROCESSOR_ARCHITECTURE_AMD64 9
#define PROCESSOR_ARCHITECTURE_ARM64 12
#define PROCESSOR_ARCHITECTURE_UNKNOWN 0xFFFF
#define PROCESSOR_INTEL_386 386
#define PROCESSOR_INTEL_486 486
#define PROCESSOR_INTEL_PENTIUM 586
#define PROCESSOR_AMD_X8664 8664
#define PROCESSOR_ARM 7

#define INVALID_HANDLE_VALUE ((HANDLE)(LONG_PTR)-1)

/* Win32 error codes libawe-win32 reports. */
#define ERROR_SUCCESS 0
#define ERROR_INVALID_FUNCTION 1
#define ERROR_ACCESS_DENIED 5
#define ERROR_INVALID_HANDLE 6
#define ERROR_NOT_ENOUGH_MEMORY 8
#define ERROR_OUTOFMEMORY 14
#define ERROR_BAD_LENGTH 24
#define ERROR_NOT_SUPPORTED 50
#define ERROR_INVALID_PARAMETER 87
#define ERROR_CALL_NOT_IMPLEMENTED 120
#define ERROR_INSUFFICIENT_BUFFER 122
#define ERROR_INVALID_ADDRESS 487
#define ERROR_NOACCESS 998
#define ERROR_POSSIBLE_DEADLOCK 1131
#define ERROR_NOT_ALL_ASSIGNED 1300
#define ERROR_NO_SUCH_PRIVILEGE 1313
#define ERROR_PRIVILEGE_NOT_HELD 1314
#define ERROR_NO_SYSTEM_RESOURCES 1450
#define ERROR_COMMITMENT_LIMIT 1455

/* ---- AWE -------------------------------------------------------------------- */

AWE_WIN32_API BOOL AllocateUserPhysicalPages(HANDLE hProcess, PULONG_PTR NumberOfPages,
					     PULONG_PTR PageArray);
AWE_WIN32_API BOOL AllocateUserPhysicalPagesNuma(HANDLE hProcess, PULONG_PTR NumberOfPages,
						 PULONG_PTR PageArray, DWORD nndPreferred);
AWE_WIN32_API BOOL AllocateUserPhysicalPages2(HANDLE ObjectHandle, PULONG_PTR NumberOfPages,
					      PULONG_PTR PageArray,
					      PMEM_EXTENDED_PARAMETER ExtendedParameters,
					      ULONG ExtendedParameterCount);
AWE_WIN32_API BOOL FreeUserPhysicalPages(HANDLE hProcess, PULONG_PTR NumberOfPages,
					 PULONG_PTR PageArray);
AWE_WIN32_API BOOL MapUserPhysicalPages(PVOID VirtualAddress, ULONG_PTR NumberOfPages,
					PULONG_PTR PageArray);
AWE_WIN32_API BOOL MapUserPhysicalPagesScatter(PVOID *VirtualAddresses, ULONG_PTR NumberOfPages,
					       PULONG_PTR PageArray);

/* ---- AWE sections (Windows 10 1803+) ------------------------------------------ */

/*
 * Only the AWE section: File INVALID_HANDLE_VALUE, PAGE_READWRITE,
 * SEC_RESERVE, MaximumSize 0, no name, and one
 * MemSectionExtendedParameterUserPhysicalFlags parameter of 0. Its handle
 * goes to AllocateUserPhysicalPages(2)/FreeUserPhysicalPages and, as a
 * MemExtendedParameterUserPhysicalHandle, to VirtualAlloc2(); CloseHandle()
 * closes it (see awe-win32(7)).
 */
AWE_WIN32_API HANDLE CreateFileMapping2(HANDLE File, SECURITY_ATTRIBUTES *SecurityAttributes,
					ULONG DesiredAccess, ULONG PageProtection,
					ULONG AllocationAttributes, ULONG64 MaximumSize,
					LPCWSTR Name, MEM_EXTENDED_PARAMETER *ExtendedParameters,
					ULONG ParameterCount);

/* ---- Virtual memory --------------------------------------------------------- */

AWE_WIN32_API LPVOID VirtualAlloc(LPVOID lpAddress, SIZE_T dwSize, DWORD flAllocationType,
				  DWORD flProtect);
AWE_WIN32_API LPVOID VirtualAllocEx(HANDLE hProcess, LPVOID lpAddress, SIZE_T dwSize,
				    DWORD flAllocationType, DWORD flProtect);
AWE_WIN32_API LPVOID VirtualAllocExNuma(HANDLE hProcess, LPVOID lpAddress, SIZE_T dwSize,
					DWORD flAllocationType, DWORD flProtect,
					DWORD nndPreferred);
AWE_WIN32_API PVOID VirtualAlloc2(HANDLE Process, PVOID BaseAddress, SIZE_T Size,
				  ULONG AllocationType, ULONG PageProtection,
				  MEM_EXTENDED_PARAMETER *ExtendedParameters, ULONG ParameterCount);
AWE_WIN32_API BOOL VirtualFree(LPVOID lpAddress, SIZE_T dwSize, DWORD dwFreeType);
AWE_WIN32_API BOOL VirtualFreeEx(HANDLE hProcess, LPVOID lpAddress, SIZE_T dwSize,
				 DWORD dwFreeType);
AWE_WIN32_API BOOL VirtualProtect(LPVOID lpAddress, SIZE_T dwSize, DWORD flNewProtect,
				  PDWORD lpflOldProtect);
AWE_WIN32_API BOOL VirtualProtectEx(HANDLE hProcess, LPVOID lpAddress, SIZE_T dwSize,
				    DWORD flNewProtect, PDWORD lpflOldProtect);
AWE_WIN32_API SIZE_T VirtualQuery(LPCVOID lpAddress, PMEMORY_BASIC_INFORMATION lpBuffer,
				  SIZE_T dwLength);
AWE_WIN32_API SIZE_T VirtualQueryEx(HANDLE hProcess, LPCVOID lpAddress,
				    PMEMORY_BASIC_INFORMATION lpBuffer, SIZE_T dwLength);

/* ---- Processes, handles, tokens ---------------------------------------------- */

AWE_WIN32_API HANDLE GetCurrentProcess(void);
AWE_WIN32_API DWORD GetCurrentProcessId(void);
AWE_WIN32_API HANDLE OpenProcess(DWORD dwDesiredAccess, BOOL bInheritHandle, DWORD dwProcessId);
AWE_WIN32_API BOOL CloseHandle(HANDLE hObject);
AWE_WIN32_API BOOL OpenProcessToken(HANDLE ProcessHandle, DWORD DesiredAccess, PHANDLE TokenHandle);
AWE_WIN32_API BOOL LookupPrivilegeValueA(LPCSTR lpSystemName, LPCSTR lpName, PLUID lpLuid);
AWE_WIN32_API BOOL LookupPrivilegeValueW(LPCWSTR lpSystemName, LPCWSTR lpName, PLUID lpLuid);
AWE_WIN32_API BOOL AdjustTokenPrivileges(HANDLE TokenHandle, BOOL DisableAllPrivileges,
					 PTOKEN_PRIVILEGES NewState, DWORD BufferLength,
					 PTOKEN_PRIVILEGES PreviousState, PDWORD ReturnLength);

/* ---- System information, errors, heap ---------------------------------------- */

AWE_WIN32_API void GetSystemInfo(LPSYSTEM_INFO lpSystemInfo);
AWE_WIN32_API void GetNativeSystemInfo(LPSYSTEM_INFO lpSystemInfo);
AWE_WIN32_API SIZE_T GetLargePageMinimum(void);
AWE_WIN32_API BOOL GetNumaHighestNodeNumber(PULONG HighestNodeNumber);
AWE_WIN32_API DWORD GetLastError(void);
AWE_WIN32_API void SetLastError(DWORD dwErrCode);
AWE_WIN32_API HANDLE GetProcessHeap(void);
AWE_WIN32_API LPVOID HeapAlloc(HANDLE hHeap, DWORD dwFlags, SIZE_T dwBytes);
AWE_WIN32_API LPVOID HeapReAlloc(HANDLE hHeap, DWORD dwFlags, LPVOID lpMem, SIZE_T dwBytes);
AWE_WIN32_API BOOL HeapFree(HANDLE hHeap, DWORD dwFlags, LPVOID lpMem);

#ifdef __cplusplus
}
#endif

#endif /* AWE_WIN32_H */
