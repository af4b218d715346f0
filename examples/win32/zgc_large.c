/* SPDX-License-Identifier: MIT */
/*
 * awe-win32-largepages: the calls OpenJDK's ZGC makes on Windows to back its
 * heap with large pages (ZMapper::create_shared_awe_section,
 * reserve_for_shared_awe, and ZPhysicalMemoryBackingLargePages' commit,
 * map, unmap and uncommit), in that order and with those arguments, built
 * unchanged against libawe-win32's compat headers.
 *
 * An AWE section with SEC_LARGE_PAGES holds the heap's memory; two views
 * of it are reserved with VirtualAlloc2(MEM_RESERVE | MEM_PHYSICAL) tied to
 * the section; granules of GetLargePageMinimum() bytes are committed with
 * AllocateUserPhysicalPages(section, ...), counts and page-array entries
 * in granules, a short count accepted and asked again for the rest; they
 * are mapped at both views, written through one and read through the
 * other, unmapped with a NULL array and uncommitted.
 *
 * Exit status: 0 when every step worked; 77 (skipped) when the process may
 * not lock memory or the system has no large pages, which is when ZGC
 * would not use large pages either; 1 for anything else.
 */
#include <windows.h>
#include <stdio.h>
#include <stdlib.h>
#include <tchar.h>

#define GRANULES 16 /* a 32 MiB heap of 2 MiB granules */
#define CHUNK 4	    /* granules committed per call */

static void Fail(const TCHAR *What)
{
	_tprintf(_T("%s failed: error %u\n"), What, GetLastError());
	exit(1);
}

static void Skip(const TCHAR *Why)
{
	_tprintf(_T("large pages are not available here: %s\n"), Why);
	exit(77);
}

/* What os::large_page_init() does first: the privilege, enabled. */
static void EnableLockMemory(void)
{
	TOKEN_PRIVILEGES tp;
	HANDLE Token;

	if (!OpenProcessToken(GetCurrentProcess(), TOKEN_ADJUST_PRIVILEGES | TOKEN_QUERY, &Token))
		Fail(_T("OpenProcessToken"));
	tp.PrivilegeCount = 1;
	tp.Privileges[0].Attributes = SE_PRIVILEGE_ENABLED;
	if (!LookupPrivilegeValue(NULL, SE_LOCK_MEMORY_NAME, &tp.Privileges[0].Luid))
		Fail(_T("LookupPrivilegeValue"));
	if (!AdjustTokenPrivileges(Token, FALSE, &tp, 0, NULL, NULL))
		Fail(_T("AdjustTokenPrivileges"));
	if (GetLastError() == ERROR_NOT_ALL_ASSIGNED)
		Skip(_T("the account lacks \"Lock pages in memory\" (SeLockMemoryPrivilege)"));
	CloseHandle(Token);
}

int main(void)
{
	MEM_EXTENDED_PARAMETER Param;
	ULONG_PTR Pages[GRANULES];
	SIZE_T Granule = GetLargePageMinimum();
	HANDLE Section;
	char *View[2];
	ULONG_PTR Index, Done, i;

	if (Granule == 0)
		Skip(_T("GetLargePageMinimum() is 0"));
	EnableLockMemory();

	/* ZMapper::create_shared_awe_section() */
	ZeroMemory(&Param, sizeof(Param));
	Param.Type = MemSectionExtendedParameterUserPhysicalFlags;
	Param.ULong64 = 0;
	Section = CreateFileMapping2(INVALID_HANDLE_VALUE, NULL,
				     SECTION_MAP_READ | SECTION_MAP_WRITE, PAGE_READWRITE,
				     SEC_RESERVE | SEC_LARGE_PAGES, 0, NULL, &Param, 1);
	if (Section == NULL && GetLastError() == ERROR_PRIVILEGE_NOT_HELD)
		Skip(_T("CreateFileMapping2(SEC_LARGE_PAGES) needs SeLockMemoryPrivilege"));
	if (Section == NULL && GetLastError() == ERROR_NO_SYSTEM_RESOURCES)
		Skip(_T("no large pages for a section (error 1450): libawe's sections need "
			"hugetlb pages (vm.nr_hugepages) or shmem huge pages (shmem_enabled)"));
	if (Section == NULL)
		Fail(_T("CreateFileMapping2(SEC_RESERVE | SEC_LARGE_PAGES)"));

	/* ZMapper::reserve_for_shared_awe(), once per view */
	for (i = 0; i < 2; i++) {
		ZeroMemory(&Param, sizeof(Param));
		Param.Type = MemExtendedParameterUserPhysicalHandle;
		Param.Handle = Section;
		View[i] = VirtualAlloc2(GetCurrentProcess(), NULL, GRANULES * Granule,
					MEM_RESERVE | MEM_PHYSICAL, PAGE_READWRITE, &Param, 1);
		if (View[i] == NULL)
			Fail(_T("VirtualAlloc2(MEM_RESERVE | MEM_PHYSICAL)"));
	}
	_tprintf(_T("section and two views of %u granules of %u KiB\n"), (unsigned)GRANULES,
		 (unsigned)(Granule >> 10));

	/* ZPhysicalMemoryBackingLargePages::commit(): a short count is what
	 * could be had; the rest is asked for again, as ZGC's caller does. */
	for (Index = 0; Index < GRANULES; Index += Done) {
		ULONG_PTR Want = GRANULES - Index < CHUNK ? GRANULES - Index : CHUNK;

		Done = Want;
		if (!AllocateUserPhysicalPages(Section, &Done, &Pages[Index])) {
			if (GetLastError() == ERROR_NO_SYSTEM_RESOURCES && Index == 0)
				Skip(_T("no large page could be allocated (error 1450)"));
			Fail(_T("AllocateUserPhysicalPages(section)"));
		}
		if (Done == 0)
			Fail(_T("AllocateUserPhysicalPages gave 0 granules"));
		if (Done < Want)
			_tprintf(_T("committed %u of %u granules, asking again\n"), (unsigned)Done,
				 (unsigned)Want);
	}

	/* ZPhysicalMemoryBackingLargePages::map(), at both views */
	for (i = 0; i < 2; i++)
		for (Index = 0; Index < GRANULES; Index += CHUNK)
			if (!MapUserPhysicalPages(View[i] + Index * Granule, CHUNK, &Pages[Index]))
				Fail(_T("MapUserPhysicalPages"));
	for (Index = 0; Index < GRANULES; Index++) {
		ULONG_PTR *w = (ULONG_PTR *)(View[0] + Index * Granule);

		w[0] = 0x5a5a0000 + Index;
		w[Granule / sizeof(ULONG_PTR) - 1] = ~Index;
	}
	for (Index = 0; Index < GRANULES; Index++) {
		ULONG_PTR *r = (ULONG_PTR *)(View[1] + Index * Granule);

		if (r[0] != 0x5a5a0000 + Index || r[Granule / sizeof(ULONG_PTR) - 1] != ~Index) {
			_tprintf(_T("granule %u reads differently through the second view\n"),
				 (unsigned)Index);
			exit(1);
		}
	}
	_tprintf(_T("wrote %u granules through one view, read them through the other\n"),
		 (unsigned)GRANULES);

	/* ZPhysicalMemoryBackingLargePages::unmap() and uncommit() */
	for (i = 0; i < 2; i++)
		if (!MapUserPhysicalPages(View[i], GRANULES, NULL))
			Fail(_T("MapUserPhysicalPages(NULL)"));
	for (Index = 0; Index < GRANULES; Index += CHUNK) {
		Done = CHUNK;
		if (!FreeUserPhysicalPages(Section, &Done, &Pages[Index]) || Done != CHUNK)
			Fail(_T("FreeUserPhysicalPages(section)"));
	}
	for (i = 0; i < 2; i++)
		if (!VirtualFree(View[i], 0, MEM_RELEASE))
			Fail(_T("VirtualFree"));
	if (!CloseHandle(Section))
		Fail(_T("CloseHandle(section)"));
	_tprintf(_T("unmapped, uncommitted and released: done\n"));
	return 0;
}
