/* SPDX-License-Identifier: MIT */
/*
 * <windows.h> for Windows programs that use AWE, on Linux with libawe-win32.
 *
 * Build a Windows source unchanged with
 *
 *	cc -I<prefix>/include/awe/compat -I<prefix>/include app.c -lawe-win32
 *
 * It declares what libawe-win32 implements (<awe/win32.h>) plus the macros
 * and types Windows samples take for granted around those calls: calling
 * conventions (empty here), TEXT(), TCHAR, the generic function names,
 * SE_*_NAME, ZeroMemory and friends, min/max. Nothing else of the Windows
 * API is provided: a call to anything else fails to compile, which is better
 * than failing at run time.
 *
 * ANSI builds only. With UNICODE, TCHAR would be WCHAR, which is UTF-16
 * (16 bits, as on Windows, so that structures keep their layout) while L""
 * literals and the wide C library use the 32-bit wchar_t of Linux: the two
 * cannot be mixed, so such a build is refused instead of misbehaving.
 */
#ifndef AWE_COMPAT_WINDOWS_H
#define AWE_COMPAT_WINDOWS_H

#if defined(UNICODE) || defined(_UNICODE)
#error "libawe-win32 supports ANSI builds only: undefine UNICODE and _UNICODE (WCHAR is 16-bit UTF-16 while L\"\" literals and wprintf use the 32-bit wchar_t on Linux). Call the ...W functions explicitly with UTF-16 (u\"\") strings if needed."
#endif

#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <awe/win32.h>

/* ---- Calling conventions and declaration decorations: meaningless here ---- */

#define WINAPI
#define WINAPIV
#define APIENTRY
#define CALLBACK
#define NTAPI
#define PASCAL
#define WINBASEAPI
#define WINADVAPI
#define DECLSPEC_IMPORT
#ifndef _cdecl
#define _cdecl
#endif
#ifndef __cdecl
#define __cdecl
#endif
#ifndef _stdcall
#define _stdcall
#endif
#ifndef __stdcall
#define __stdcall
#endif
#ifndef _fastcall
#define _fastcall
#endif
#ifndef __fastcall
#define __fastcall
#endif
#ifndef __thiscall
#define __thiscall
#endif
#ifndef __vectorcall
#define __vectorcall
#endif

/* SAL-style parameter annotations of the old SDKs. */
#define IN
#define OUT
#define OPTIONAL
#define CONST const

/* ---- Types ------------------------------------------------------------------ */

#define VOID void
typedef short SHORT;
typedef float FLOAT;
typedef LONG HRESULT;
typedef BYTE *PBYTE, *LPBYTE;
typedef WORD *PWORD, *LPWORD;
typedef SHORT *PSHORT;
typedef USHORT *PUSHORT;
typedef UCHAR *PUCHAR;
typedef BOOLEAN *PBOOLEAN;
typedef LONG *PLONG, *LPLONG;
typedef INT *PINT, *LPINT;
typedef UINT *PUINT;
typedef LONGLONG *PLONGLONG;
typedef ULONGLONG *PULONGLONG;
typedef DWORD64 *PDWORD64;
typedef LONG_PTR *PLONG_PTR;
typedef DWORD_PTR *PDWORD_PTR;
typedef HANDLE *LPHANDLE;
typedef HANDLE HMODULE, HINSTANCE, HLOCAL, HGLOBAL;
typedef CHAR *PCHAR, *PSTR;
typedef const CHAR *PCSTR;
typedef WCHAR *PWCHAR, *PWSTR;
typedef const WCHAR *PCWSTR;

typedef union _LARGE_INTEGER {
	AWE_WIN32_NAMELESS struct {
		DWORD LowPart;
		LONG HighPart;
	};
	struct {
		DWORD LowPart;
		LONG HighPart;
	} u;
	LONGLONG QuadPart;
} LARGE_INTEGER, *PLARGE_INTEGER;

typedef union _ULARGE_INTEGER {
	AWE_WIN32_NAMELESS struct {
		DWORD LowPart;
		DWORD HighPart;
	};
	struct {
		DWORD LowPart;
		DWORD HighPart;
	} u;
	ULONGLONG QuadPart;
} ULARGE_INTEGER, *PULARGE_INTEGER;

/* ANSI only (see the top of this file). */
typedef char TCHAR, TBYTE;
typedef TCHAR *PTCHAR, *PTBYTE, *LPTSTR, *PTSTR, *LPTCH, *PTCH;
typedef const TCHAR *LPCTSTR, *PCTSTR;

#define __TEXT(quote) quote
#define TEXT(quote) __TEXT(quote)

/* Generic names of the functions that have A and W forms. */
#define LookupPrivilegeValue LookupPrivilegeValueA

/* ---- Limits and small macros ---------------------------------------------- */

#define MAX_PATH 260
#define INFINITE 0xFFFFFFFF
#define NO_ERROR 0L
#define MAXBYTE 0xff
#define MAXWORD 0xffff
#define MAXDWORD 0xffffffff
#define MAXCHAR 0x7f
#define MAXSHORT 0x7fff
#define MAXLONG 0x7fffffff
#define MINLONG (-MAXLONG - 1)
#define MAXULONG 0xffffffffu
#define MAXLONGLONG INT64_MAX
#define MAXULONG_PTR (~(ULONG_PTR)0)
#define MAXLONG_PTR ((LONG_PTR)(MAXULONG_PTR >> 1))
#define MAXSIZE_T ((SIZE_T)-1)

#define LOBYTE(w) ((BYTE)(((DWORD_PTR)(w)) & 0xff))
#define HIBYTE(w) ((BYTE)((((DWORD_PTR)(w)) >> 8) & 0xff))
#define LOWORD(l) ((WORD)(((DWORD_PTR)(l)) & 0xffff))
#define HIWORD(l) ((WORD)((((DWORD_PTR)(l)) >> 16) & 0xffff))
#define MAKEWORD(a, b) ((WORD)(LOBYTE(a) | ((WORD)LOBYTE(b) << 8)))
#define MAKELONG(a, b) ((LONG)(LOWORD(a) | ((DWORD)LOWORD(b) << 16)))

#define UNREFERENCED_PARAMETER(P) ((void)(P))

#ifndef NOMINMAX
#ifndef max
#define max(a, b) (((a) > (b)) ? (a) : (b))
#endif
#ifndef min
#define min(a, b) (((a) < (b)) ? (a) : (b))
#endif
#endif

#define RtlZeroMemory(Destination, Length) memset((Destination), 0, (Length))
#define RtlFillMemory(Destination, Length, Fill) memset((Destination), (Fill), (Length))
#define RtlCopyMemory(Destination, Source, Length) memcpy((Destination), (Source), (Length))
#define RtlMoveMemory(Destination, Source, Length) memmove((Destination), (Source), (Length))
#define RtlEqualMemory(Destination, Source, Length) (!memcmp((Destination), (Source), (Length)))
#define ZeroMemory RtlZeroMemory
#define FillMemory RtlFillMemory
#define CopyMemory RtlCopyMemory
#define MoveMemory RtlMoveMemory
#define EqualMemory RtlEqualMemory

/* Unlike memset, not optimised away when the buffer is dead afterwards. */
static inline PVOID SecureZeroMemory(PVOID ptr, SIZE_T cnt)
{
	volatile BYTE *p = (volatile BYTE *)ptr;

	while (cnt--)
		*p++ = 0;
	return ptr;
}

/* ---- Privilege names ---------------------------------------------------------- */

#define SE_CREATE_TOKEN_NAME TEXT("SeCreateTokenPrivilege")
#define SE_ASSIGNPRIMARYTOKEN_NAME TEXT("SeAssignPrimaryTokenPrivilege")
#define SE_LOCK_MEMORY_NAME TEXT("SeLockMemoryPrivilege")
#define SE_INCREASE_QUOTA_NAME TEXT("SeIncreaseQuotaPrivilege")
#define SE_UNSOLICITED_INPUT_NAME TEXT("SeUnsolicitedInputPrivilege")
#define SE_MACHINE_ACCOUNT_NAME TEXT("SeMachineAccountPrivilege")
#define SE_TCB_NAME TEXT("SeTcbPrivilege")
#define SE_SECURITY_NAME TEXT("SeSecurityPrivilege")
#define SE_TAKE_OWNERSHIP_NAME TEXT("SeTakeOwnershipPrivilege")
#define SE_LOAD_DRIVER_NAME TEXT("SeLoadDriverPrivilege")
#define SE_SYSTEM_PROFILE_NAME TEXT("SeSystemProfilePrivilege")
#define SE_SYSTEMTIME_NAME TEXT("SeSystemtimePrivilege")
#define SE_PROF_SINGLE_PROCESS_NAME TEXT("SeProfileSingleProcessPrivilege")
#define SE_INC_BASE_PRIORITY_NAME TEXT("SeIncreaseBasePriorityPrivilege")
#define SE_CREATE_PAGEFILE_NAME TEXT("SeCreatePagefilePrivilege")
#define SE_CREATE_PERMANENT_NAME TEXT("SeCreatePermanentPrivilege")
#define SE_BACKUP_NAME TEXT("SeBackupPrivilege")
#define SE_RESTORE_NAME TEXT("SeRestorePrivilege")
#define SE_SHUTDOWN_NAME TEXT("SeShutdownPrivilege")
#define SE_DEBUG_NAME TEXT("SeDebugPrivilege")
#define SE_AUDIT_NAME TEXT("SeAuditPrivilege")
#define SE_SYSTEM_ENVIRONMENT_NAME TEXT("SeSystemEnvironmentPrivilege")
#define SE_CHANGE_NOTIFY_NAME TEXT("SeChangeNotifyPrivilege")
#define SE_REMOTE_SHUTDOWN_NAME TEXT("SeRemoteShutdownPrivilege")
#define SE_UNDOCK_NAME TEXT("SeUndockPrivilege")
#define SE_SYNC_AGENT_NAME TEXT("SeSyncAgentPrivilege")
#define SE_ENABLE_DELEGATION_NAME TEXT("SeEnableDelegationPrivilege")
#define SE_MANAGE_VOLUME_NAME TEXT("SeManageVolumePrivilege")
#define SE_IMPERSONATE_NAME TEXT("SeImpersonatePrivilege")
#define SE_CREATE_GLOBAL_NAME TEXT("SeCreateGlobalPrivilege")
#define SE_TRUSTED_CREDMAN_ACCESS_NAME TEXT("SeTrustedCredManAccessPrivilege")
#define SE_RELABEL_NAME TEXT("SeRelabelPrivilege")
#define SE_INC_WORKING_SET_NAME TEXT("SeIncreaseWorkingSetPrivilege")
#define SE_TIME_ZONE_NAME TEXT("SeTimeZonePrivilege")
#define SE_CREATE_SYMBOLIC_LINK_NAME TEXT("SeCreateSymbolicLinkPrivilege")
#define SE_DELEGATE_SESSION_USER_IMPERSONATE_NAME TEXT("SeDelegateSessionUserImpersonatePrivilege")

/* The UTF-16 spelling, for LookupPrivilegeValueW (u"" is char16_t, 16 bits like WCHAR). */
#define SE_LOCK_MEMORY_NAME_W ((LPCWSTR)u"SeLockMemoryPrivilege")

#endif /* AWE_COMPAT_WINDOWS_H */
