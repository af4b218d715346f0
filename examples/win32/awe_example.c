/* SPDX-License-Identifier: MIT */
/*
 * awe-win32-example: a Windows AWE program, written the way Windows samples
 * are (void main, TCHAR strings, %d for a ULONG_PTR), built unchanged
 * against libawe-win32's compat headers.
 *
 * It follows the flow of Microsoft's "AWE Example" (page size, PFN array on
 * the process heap, enable SeLockMemoryPrivilege, allocate, reserve a
 * MEM_PHYSICAL window, map, unmap, free) and then does what that sample
 * leaves out: it writes through the window, maps a second set of frames
 * into the same window, maps the first set back and checks that its data
 * survived. Every step prints a line; the exit status is 0 when all of them
 * worked and 1 otherwise. A void main() leaves the status undefined, so
 * every way out goes through exit().
 */
#include <windows.h>
#include <stdio.h>
#include <stdlib.h>
#include <tchar.h>

#define MEMORY_REQUESTED (1024 * 1024) /* 1 MiB of frames, as the original */

BOOL EnableLockPagesPrivilege(HANDLE hProcess, BOOL bEnable);

/* The word at index Index of page Page of frame set Set (set 0: zero, as
 * frames are when allocated). Sets, pages and offsets all differ, so a
 * frame that shows up in the wrong place or lost its data is noticed. */
static ULONG_PTR Stamp(ULONG_PTR Set, ULONG_PTR Page, ULONG_PTR Index)
{
	if (Set == 0)
		return 0;
	return (Set << 56) ^ (Page << 24) ^ (Index * 0x9E3779B97F4A7C15ull) ^ 1;
}

static void FillPages(PVOID Address, ULONG_PTR Pages, DWORD PageSize, ULONG_PTR Set)
{
	ULONG_PTR Page, Index, Words = PageSize / sizeof(ULONG_PTR);
	PULONG_PTR p = (PULONG_PTR)Address;

	for (Page = 0; Page < Pages; Page++)
		for (Index = 0; Index < Words; Index++)
			*p++ = Stamp(Set, Page, Index);
}

/* Checks that the Pages pages at Address hold pages FirstPage... of Set;
 * returns the number of the first page that does not, or -1. */
static LONG_PTR CheckPages(PVOID Address, ULONG_PTR FirstPage, ULONG_PTR Pages, DWORD PageSize,
			   ULONG_PTR Set)
{
	ULONG_PTR Page, Index, Words = PageSize / sizeof(ULONG_PTR);
	PULONG_PTR p = (PULONG_PTR)Address;

	for (Page = FirstPage; Page < FirstPage + Pages; Page++)
		for (Index = 0; Index < Words; Index++, p++)
			if (*p != Stamp(Set, Page, Index))
				return Page;
	return -1;
}

void _cdecl main()
{
	BOOL bResult;
	ULONG_PTR NumberOfPages;
	ULONG_PTR NumberOfPagesInitial;
	ULONG_PTR PageCount;
	LONG_PTR BadPage;
	PULONG_PTR aPFNs;
	PULONG_PTR aOtherPFNs;
	PVOID lpMemReserved;
	PVOID *aVAs;
	SYSTEM_INFO sSysInfo;
	INT PFNArraySize;

	GetSystemInfo(&sSysInfo);
	_tprintf(_T("This computer has page size %d.\n"), sSysInfo.dwPageSize);

	NumberOfPages = MEMORY_REQUESTED / sSysInfo.dwPageSize;
	_tprintf(_T("Requesting %d pages of memory.\n"), NumberOfPages);

	PFNArraySize = NumberOfPages * sizeof(ULONG_PTR);
	_tprintf(_T("Requesting a PFN array of %d bytes.\n"), PFNArraySize);

	aPFNs = (PULONG_PTR)HeapAlloc(GetProcessHeap(), 0, PFNArraySize);
	aOtherPFNs = (PULONG_PTR)HeapAlloc(GetProcessHeap(), 0, PFNArraySize);
	aVAs = (PVOID *)HeapAlloc(GetProcessHeap(), HEAP_ZERO_MEMORY,
				  NumberOfPages * sizeof(PVOID));
	if (aPFNs == NULL || aOtherPFNs == NULL || aVAs == NULL) {
		_tprintf(_T("Failed to allocate on heap.\n"));
		exit(1);
	}

	if (!EnableLockPagesPrivilege(GetCurrentProcess(), TRUE)) {
		exit(1);
	}

	NumberOfPagesInitial = NumberOfPages;
	bResult = AllocateUserPhysicalPages(GetCurrentProcess(), &NumberOfPages, aPFNs);
	if (bResult != TRUE) {
		_tprintf(_T("Cannot allocate physical pages (%u)\n"), GetLastError());
		exit(1);
	}
	if (NumberOfPagesInitial != NumberOfPages) {
		_tprintf(_T("Allocated only %d pages.\n"), NumberOfPages);
		exit(1);
	}
	_tprintf(_T("Allocated %d physical pages.\n"), NumberOfPages);

	/* A second set of the same size, to swap into the window. */
	PageCount = NumberOfPages;
	bResult = AllocateUserPhysicalPages(GetCurrentProcess(), &PageCount, aOtherPFNs);
	if (bResult != TRUE || PageCount != NumberOfPages) {
		_tprintf(_T("Cannot allocate the second set of physical pages (%u, %d pages)\n"),
			 GetLastError(), PageCount);
		exit(1);
	}
	_tprintf(_T("Allocated a second set of %d physical pages.\n"), PageCount);

	lpMemReserved =
		VirtualAlloc(NULL, MEMORY_REQUESTED, MEM_RESERVE | MEM_PHYSICAL, PAGE_READWRITE);
	if (lpMemReserved == NULL) {
		_tprintf(_T("Cannot reserve memory (%u)\n"), GetLastError());
		exit(1);
	}
	_tprintf(_T("Reserved the AWE window at %p.\n"), lpMemReserved);

	bResult = MapUserPhysicalPages(lpMemReserved, NumberOfPages, aPFNs);
	if (bResult != TRUE) {
		_tprintf(_T("MapUserPhysicalPages failed (%u)\n"), GetLastError());
		exit(1);
	}
	BadPage = CheckPages(lpMemReserved, 0, NumberOfPages, sSysInfo.dwPageSize, 0);
	if (BadPage >= 0) {
		_tprintf(_T("Page %d of the first set is not zero-filled.\n"), BadPage);
		exit(1);
	}
	FillPages(lpMemReserved, NumberOfPages, sSysInfo.dwPageSize, 1);
	_tprintf(_T("Mapped the first set and wrote its pattern.\n"));

	/* Mapping over mapped pages replaces them: the first set is unmapped,
	 * not freed, and keeps its contents. */
	bResult = MapUserPhysicalPages(lpMemReserved, NumberOfPages, aOtherPFNs);
	if (bResult != TRUE) {
		_tprintf(_T("MapUserPhysicalPages of the second set failed (%u)\n"),
			 GetLastError());
		exit(1);
	}
	BadPage = CheckPages(lpMemReserved, 0, NumberOfPages, sSysInfo.dwPageSize, 0);
	if (BadPage >= 0) {
		_tprintf(_T("Page %d of the second set is not zero-filled.\n"), BadPage);
		exit(1);
	}
	FillPages(lpMemReserved, NumberOfPages, sSysInfo.dwPageSize, 2);
	_tprintf(_T("Mapped the second set over the first and wrote its pattern.\n"));

	bResult = MapUserPhysicalPages(lpMemReserved, NumberOfPages, aPFNs);
	if (bResult != TRUE) {
		_tprintf(_T("Mapping the first set back failed (%u)\n"), GetLastError());
		exit(1);
	}
	BadPage = CheckPages(lpMemReserved, 0, NumberOfPages, sSysInfo.dwPageSize, 1);
	if (BadPage >= 0) {
		_tprintf(_T("Page %d of the first set lost its data.\n"), BadPage);
		exit(1);
	}
	_tprintf(_T("Mapped the first set back: its data persisted.\n"));

	/* The second set, in reverse page order, one page per address. */
	for (PageCount = 0; PageCount < NumberOfPages; PageCount++) {
		aVAs[PageCount] = (PBYTE)lpMemReserved +
				  (NumberOfPages - 1 - PageCount) * sSysInfo.dwPageSize;
	}
	bResult = MapUserPhysicalPagesScatter(aVAs, NumberOfPages, aOtherPFNs);
	if (bResult != TRUE) {
		_tprintf(_T("MapUserPhysicalPagesScatter failed (%u)\n"), GetLastError());
		exit(1);
	}
	for (PageCount = 0; PageCount < NumberOfPages; PageCount++) {
		BadPage = CheckPages(aVAs[PageCount], PageCount, 1, sSysInfo.dwPageSize, 2);
		if (BadPage >= 0) {
			_tprintf(_T("Page %d of the second set lost its data.\n"), BadPage);
			exit(1);
		}
	}
	_tprintf(_T("Scattered the second set in reverse order: its data persisted.\n"));

	bResult = MapUserPhysicalPages(lpMemReserved, NumberOfPages, NULL);
	if (bResult != TRUE) {
		_tprintf(_T("MapUserPhysicalPages failed (%u)\n"), GetLastError());
		exit(1);
	}
	_tprintf(_T("Unmapped the window.\n"));

	bResult = FreeUserPhysicalPages(GetCurrentProcess(), &NumberOfPages, aPFNs);
	if (bResult != TRUE) {
		_tprintf(_T("Cannot free physical pages, error %u.\n"), GetLastError());
		exit(1);
	}
	PageCount = NumberOfPages;
	bResult = FreeUserPhysicalPages(GetCurrentProcess(), &PageCount, aOtherPFNs);
	if (bResult != TRUE) {
		_tprintf(_T("Cannot free the second set of physical pages, error %u.\n"),
			 GetLastError());
		exit(1);
	}
	_tprintf(_T("Freed %d + %d physical pages.\n"), NumberOfPages, PageCount);

	bResult = VirtualFree(lpMemReserved, 0, MEM_RELEASE);
	if (bResult != TRUE) {
		_tprintf(_T("Call to VirtualFree has failed (%u)\n"), GetLastError());
		exit(1);
	}
	_tprintf(_T("Released the AWE window.\n"));

	if (!HeapFree(GetProcessHeap(), 0, aPFNs) || !HeapFree(GetProcessHeap(), 0, aOtherPFNs) ||
	    !HeapFree(GetProcessHeap(), 0, aVAs)) {
		_tprintf(_T("Call to HeapFree has failed (%u)\n"), GetLastError());
		exit(1);
	}
	_tprintf(_T("All steps succeeded.\n"));
	exit(0);
}

/*
 * EnableLockPagesPrivilege: enable (bEnable TRUE) or disable the
 * SeLockMemoryPrivilege of hProcess's token, printing why when it cannot.
 * TRUE from AdjustTokenPrivileges is not enough: the call also succeeds
 * when the account lacks the privilege, and says so only through
 * GetLastError() (ERROR_NOT_ALL_ASSIGNED).
 */
BOOL EnableLockPagesPrivilege(HANDLE hProcess, BOOL bEnable)
{
	struct {
		DWORD Count;
		LUID_AND_ATTRIBUTES Privilege[1];
	} Info;
	HANDLE Token;
	BOOL Result;

	Result = OpenProcessToken(hProcess, TOKEN_ADJUST_PRIVILEGES, &Token);
	if (Result != TRUE) {
		_tprintf(_T("Cannot open process token.\n"));
		return FALSE;
	}

	Info.Count = 1;
	Info.Privilege[0].Attributes = bEnable ? SE_PRIVILEGE_ENABLED : 0;

	Result = LookupPrivilegeValue(NULL, SE_LOCK_MEMORY_NAME, &(Info.Privilege[0].Luid));
	if (Result != TRUE) {
		_tprintf(_T("Cannot get privilege for %s.\n"), SE_LOCK_MEMORY_NAME);
		CloseHandle(Token);
		return FALSE;
	}

	Result = AdjustTokenPrivileges(Token, FALSE, (PTOKEN_PRIVILEGES)&Info, 0, NULL, NULL);
	if (Result != TRUE) {
		_tprintf(_T("Cannot adjust token privileges (%u)\n"), GetLastError());
		CloseHandle(Token);
		return FALSE;
	}
	if (GetLastError() != ERROR_SUCCESS) {
		_tprintf(TEXT(
			"Cannot enable the SE_LOCK_MEMORY_NAME privilege; please check the local policy.\n"));
		CloseHandle(Token);
		return FALSE;
	}
	_tprintf(_T("%s %s.\n"), bEnable ? _T("Enabled") : _T("Disabled"), SE_LOCK_MEMORY_NAME);

	CloseHandle(Token);
	return TRUE;
}
