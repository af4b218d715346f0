/* SPDX-License-Identifier: MIT */
/*
 * The compat headers (<windows.h>, <tchar.h> of include/awe/compat) and the
 * ABI a .NET or ctypes caller relies on: Windows' type sizes and structure
 * layouts on LP64.
 */
#include "w32helpers.h"

#include <windows.h>
#include <tchar.h>

#define assert_layout(type, size)                                                                  \
	cr_assert_eq(sizeof(type), (size), "sizeof(" #type ") is %zu, Windows x64 has %d",         \
		     sizeof(type), (int)(size))

#define assert_offset(type, field, off)                                                            \
	cr_assert_eq(offsetof(type, field), (off), #type "." #field " at %zu, Windows x64: %d",    \
		     offsetof(type, field), (off))

Test(compat, type_sizes)
{
	assert_layout(BOOL, 4);
	assert_layout(BYTE, 1);
	assert_layout(WORD, 2);
	assert_layout(DWORD, 4);
	assert_layout(LONG, 4);
	assert_layout(ULONG, 4);
	assert_layout(INT, 4);
	assert_layout(UINT, 4);
	assert_layout(SHORT, 2);
	assert_layout(LONGLONG, 8);
	assert_layout(ULONG_PTR, sizeof(void *));
	assert_layout(SIZE_T, sizeof(void *));
	assert_layout(HANDLE, sizeof(void *));
	assert_layout(WCHAR, 2);
	assert_layout(TCHAR, 1);
	assert_layout(LUID, 8);
	assert_layout(LARGE_INTEGER, 8);
	cr_assert((DWORD)-1 > 0, "DWORD is unsigned");
	cr_assert((LONG)-1 < 0, "LONG is signed");
}

Test(compat, structure_layouts)
{
	assert_layout(LUID_AND_ATTRIBUTES, 12);
	assert_layout(TOKEN_PRIVILEGES, 16);
	assert_offset(TOKEN_PRIVILEGES, Privileges, 4);
	assert_layout(SYSTEM_INFO, 48);
	assert_offset(SYSTEM_INFO, dwPageSize, 4);
	assert_offset(SYSTEM_INFO, lpMinimumApplicationAddress, 8);
	assert_offset(SYSTEM_INFO, lpMaximumApplicationAddress, 16);
	assert_offset(SYSTEM_INFO, dwActiveProcessorMask, 24);
	assert_offset(SYSTEM_INFO, dwNumberOfProcessors, 32);
	assert_offset(SYSTEM_INFO, dwProcessorType, 36);
	assert_offset(SYSTEM_INFO, dwAllocationGranularity, 40);
	assert_offset(SYSTEM_INFO, wProcessorLevel, 44);
	assert_offset(SYSTEM_INFO, wProcessorRevision, 46);
	assert_layout(MEMORY_BASIC_INFORMATION, 48);
	assert_offset(MEMORY_BASIC_INFORMATION, AllocationBase, 8);
	assert_offset(MEMORY_BASIC_INFORMATION, AllocationProtect, 16);
	assert_offset(MEMORY_BASIC_INFORMATION, PartitionId, 20);
	assert_offset(MEMORY_BASIC_INFORMATION, RegionSize, 24);
	assert_offset(MEMORY_BASIC_INFORMATION, State, 32);
	assert_offset(MEMORY_BASIC_INFORMATION, Protect, 36);
	assert_offset(MEMORY_BASIC_INFORMATION, Type, 40);
	assert_layout(MEM_EXTENDED_PARAMETER, 16);
	assert_layout(MEM_ADDRESS_REQUIREMENTS, 24);
}

Test(compat, text_macros_and_generic_names)
{
	LUID l = {0, 0};
	TCHAR buf[MAX_PATH];
	LPCTSTR s = TEXT("SeLockMemoryPrivilege");

	cr_assert_str_eq(SE_LOCK_MEMORY_NAME, "SeLockMemoryPrivilege");
	cr_assert_str_eq(SE_LOCK_MEMORY_NAME, SE_LOCK_MEMORY_NAME_A);
	cr_assert_str_eq(_T("x"), "x");
	cr_assert_str_eq(__TEXT("y"), _TEXT("y"));
	W32_OK(LookupPrivilegeValue(NULL, SE_LOCK_MEMORY_NAME, &l));
	cr_assert_eq(l.LowPart, SE_LOCK_MEMORY_PRIVILEGE);
	l.LowPart = 0;
	W32_OK(LookupPrivilegeValueW(NULL, SE_LOCK_MEMORY_NAME_W, &l));
	cr_assert_eq(l.LowPart, SE_LOCK_MEMORY_PRIVILEGE);
	W32_OK(LookupPrivilegeValue(NULL, SE_CHANGE_NOTIFY_NAME, &l));
	cr_assert_eq(l.LowPart, 23);
	W32_OK(LookupPrivilegeValue(NULL, SE_DELEGATE_SESSION_USER_IMPERSONATE_NAME, &l));
	cr_assert_eq(l.LowPart, 36);
	cr_assert_eq(_stprintf(buf, _T("%s=%d"), s, 4), 23);
	cr_assert_str_eq(buf, "SeLockMemoryPrivilege=4");
	cr_assert_eq(_tcslen(buf), 23);
	cr_assert_eq(_tcsicmp(s, _T("selockmemoryprivilege")), 0);
	cr_assert_neq(_tcscmp(s, _T("selockmemoryprivilege")), 0);
	cr_assert_eq(_ttoi(_tcschr(buf, '=') + 1), 4);
	cr_assert_eq(_tcstoul(_T("0x10"), NULL, 16), 16);
	cr_assert_not_null(_tcsstr(buf, _T("Memory")));
	cr_assert_eq(_tcsrchr(buf, 'e'), buf + 20);
	/* snprintf semantics: always terminated, returns the length it wanted. */
	volatile size_t room = 4; /* hides the truncation from -Wformat-truncation */
	cr_assert_eq(_sntprintf(buf, room, _T("%s"), s), 21);
	cr_assert_str_eq(buf, "SeL");
}

Test(compat, memory_macros)
{
	BYTE a[16], b[16];

	FillMemory(a, sizeof(a), 0x7e);
	ZeroMemory(b, sizeof(b));
	cr_assert_eq(a[15], 0x7e);
	cr_assert_eq(b[3], 0);
	CopyMemory(b, a, 8);
	cr_assert_eq(b[7], 0x7e);
	cr_assert_eq(b[8], 0);
	MoveMemory(b + 1, b, 8);
	cr_assert_eq(b[8], 0x7e);
	SecureZeroMemory(a, sizeof(a));
	cr_assert_eq(a[0], 0);
	cr_assert_eq(max(3, 7), 7);
	cr_assert_eq(min(3, 7), 3);
	cr_assert_eq(LOWORD(0x12345678), 0x5678);
	cr_assert_eq(HIWORD(0x12345678), 0x1234);
	cr_assert_eq(MAKELONG(0x5678, 0x1234), 0x12345678);
	cr_assert_eq(MAXULONG_PTR, UINTPTR_MAX);
}
