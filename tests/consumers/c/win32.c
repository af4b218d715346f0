/* SPDX-License-Identifier: MIT */
/*
 * A Windows program in the AWE Example's style, built unchanged against the
 * installed compat headers (<windows.h>, <tchar.h>) and libawe-win32 alone.
 */
#include <windows.h>
#include <stdio.h>
#include <tchar.h>

int _tmain(void)
{
	SYSTEM_INFO si;
	ULONG_PTR n = 0;

	GetSystemInfo(&si);
	_tprintf(_T("win32 consumer: page size %u, granularity %u\n"), (unsigned)si.dwPageSize,
		 (unsigned)si.dwAllocationGranularity);
	/* Zero pages: TRUE without any privilege. */
	return AllocateUserPhysicalPages(GetCurrentProcess(), &n, NULL) ? 0 : 1;
}
