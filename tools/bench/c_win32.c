// SPDX-License-Identifier: MIT
/*
 * Contender "win32": libawe through libawe-win32, as a Windows program
 * calls it: AllocateUserPhysicalPages, VirtualAlloc(MEM_RESERVE |
 * MEM_PHYSICAL), MapUserPhysicalPages(Scatter). Set against "awe", it shows
 * what the translation layer costs.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>

#include <awe/win32.h>

#include "bench.h"

_Static_assert(sizeof(ULONG_PTR) == sizeof(uint64_t), "a PFN must hold a handle");

struct w32_st {
	PULONG_PTR pfns;
	ULONG_PTR npfns;
	PVOID *regions;
	unsigned int nregions;
};

static int fail(const char *call)
{
	return bench_err(-EIO, "%s failed: Win32 error %u", call, (unsigned int)GetLastError());
}

/* As every AWE program must: without the privilege, allocation fails. */
static const char *w32_probe(void)
{
	static char why[256];
	static bool probed;
	TOKEN_PRIVILEGES tp = {.PrivilegeCount = 1};
	HANDLE token;
	DWORD err;
	BOOL ok;

	if (probed)
		return why[0] ? why : NULL;
	probed = true;
	if (contender_awe.probe()) {
		snprintf(why, sizeof(why), "%s", contender_awe.probe());
		return why;
	}
	if (!OpenProcessToken(GetCurrentProcess(), TOKEN_ADJUST_PRIVILEGES | TOKEN_QUERY, &token)) {
		snprintf(why, sizeof(why), "OpenProcessToken failed: Win32 error %u",
			 (unsigned int)GetLastError());
		return why;
	}
	ok = LookupPrivilegeValueA(NULL, SE_LOCK_MEMORY_NAME_A, &tp.Privileges[0].Luid);
	if (ok) {
		tp.Privileges[0].Attributes = SE_PRIVILEGE_ENABLED;
		ok = AdjustTokenPrivileges(token, FALSE, &tp, 0, NULL, NULL);
	}
	/* AdjustTokenPrivileges succeeds without enabling a privilege the
	 * token does not hold; only the last error tells. */
	err = GetLastError();
	CloseHandle(token);
	if (ok && err == ERROR_NOT_ALL_ASSIGNED)
		snprintf(why, sizeof(why),
			 "SeLockMemoryPrivilege is not held (needs CAP_IPC_LOCK, a soft "
			 "RLIMIT_MEMLOCK of 64 MiB or more, or LIBAWE_UNLOCKED=1)");
	else if (!ok)
		snprintf(why, sizeof(why), "enabling SeLockMemoryPrivilege failed: Win32 error %u",
			 (unsigned int)err);
	return why[0] ? why : NULL;
}

static void w32_teardown(void *p)
{
	struct w32_st *s = p;

	for (unsigned int i = 0; i < s->nregions; i++)
		VirtualFree(s->regions[i], 0, MEM_RELEASE);
	if (s->npfns) {
		ULONG_PTR n = s->npfns;

		FreeUserPhysicalPages(GetCurrentProcess(), &n, s->pfns);
	}
	free(s->regions);
	free(s);
}

static int w32_setup(void **out, const struct setup_args *a)
{
	struct w32_st *s = xcalloc(1, sizeof(*s));
	ULONG_PTR n = a->frames;
	int rc = 0;

	s->pfns = (PULONG_PTR)a->handles;
	s->regions = xcalloc(a->windows, sizeof(*s->regions));
	if (!AllocateUserPhysicalPages(GetCurrentProcess(), &n, s->pfns))
		rc = fail("AllocateUserPhysicalPages");
	else
		s->npfns = n;
	if (!rc && n != a->frames)
		rc = bench_err(-ENOMEM, "AllocateUserPhysicalPages: %lu of %zu pages",
			       (unsigned long)n, a->frames);
	for (unsigned int i = 0; !rc && i < a->windows; i++) {
		PVOID r = VirtualAlloc(NULL, a->window_pages * opts.page,
				       MEM_RESERVE | MEM_PHYSICAL, PAGE_READWRITE);

		if (!r) {
			rc = fail("VirtualAlloc(MEM_RESERVE | MEM_PHYSICAL)");
			break;
		}
		s->regions[s->nregions++] = r;
		a->bases[i] = r;
	}
	if (rc) {
		w32_teardown(s);
		return rc;
	}
	*out = s;
	return 0;
}

/* The Win32 prototypes take non-const arrays they do not write. */
static int w32_map(void *st, void *const *addrs, const uint64_t *frames, size_t n)
{
	(void)st;
	if (!MapUserPhysicalPagesScatter((PVOID *)addrs, n, (PULONG_PTR)frames))
		return fail("MapUserPhysicalPagesScatter");
	return 0;
}

static int w32_unmap(void *st, void *const *addrs, size_t n)
{
	(void)st;
	if (!MapUserPhysicalPagesScatter((PVOID *)addrs, n, NULL))
		return fail("MapUserPhysicalPagesScatter(NULL)");
	return 0;
}

static int w32_map_range(void *st, char *addr, const uint64_t *frames, size_t n)
{
	(void)st;
	if (!MapUserPhysicalPages(addr, n, (PULONG_PTR)frames))
		return fail("MapUserPhysicalPages");
	return 0;
}

static int w32_unmap_range(void *st, char *addr, size_t n)
{
	(void)st;
	if (!MapUserPhysicalPages(addr, n, NULL))
		return fail("MapUserPhysicalPages(NULL)");
	return 0;
}

static int w32_alloc(void *st, uint64_t *frames, size_t n)
{
	ULONG_PTR got = n;

	(void)st;
	if (!AllocateUserPhysicalPages(GetCurrentProcess(), &got, (PULONG_PTR)frames))
		return fail("AllocateUserPhysicalPages");
	if (got != n) {
		FreeUserPhysicalPages(GetCurrentProcess(), &got, (PULONG_PTR)frames);
		return bench_err(-ENOMEM, "AllocateUserPhysicalPages: %lu of %zu pages",
				 (unsigned long)got, n);
	}
	return 0;
}

static int w32_free(void *st, uint64_t *frames, size_t n)
{
	ULONG_PTR count = n;

	(void)st;
	if (!FreeUserPhysicalPages(GetCurrentProcess(), &count, (PULONG_PTR)frames))
		return fail("FreeUserPhysicalPages");
	return 0;
}

const struct contender contender_win32 = {
	.name = "win32",
	.what = "libawe-win32 (MapUserPhysicalPagesScatter, MapUserPhysicalPages)",
	.alloc_what = "AllocateUserPhysicalPages+FreeUserPhysicalPages",
	.flags = C_MAPS | C_SAME_ENGINE | C_PAGER,
	.probe = w32_probe,
	.setup = w32_setup,
	.teardown = w32_teardown,
	.map = w32_map,
	.unmap = w32_unmap,
	.map_range = w32_map_range,
	.unmap_range = w32_unmap_range,
	.alloc = w32_alloc,
	.free = w32_free,
};
