/* SPDX-License-Identifier: MIT */
/*
 * LIBAWE_WIN32_ERRORS=wrk: Server 2003's codes where they differ from
 * Windows 10's (§8, §9, §11a). The variable is read once, at first use, so
 * the suite sets it before any call of the library.
 */
#include "w32helpers.h"

static void wrk_errors(void)
{
	setenv("LIBAWE_WIN32_ERRORS", "wrk", 1);
}

TestSuite(wrk, .init = wrk_errors);

#define TOO_MANY_PAGES ((ULONG_PTR)(UINTPTR_MAX / 4096) + 1)

/* Frame already mapped, or listed twice: 87 instead of 487. */
Test(wrk, in_use_is_invalid_parameter)
{
	PULONG_PTR a = pfns_new(3);
	char *r = region_new(4);

	map_ok(r, 1, a);
	W32_FAIL(MapUserPhysicalPages(r, 1, a), ERROR_INVALID_PARAMETER);
	W32_FAIL(MapUserPhysicalPages(r + pg(), 1, a), ERROR_INVALID_PARAMETER);
	W32_FAIL(MapUserPhysicalPages(r + pg(), 2, ((ULONG_PTR[]){a[1], a[1]})),
		 ERROR_INVALID_PARAMETER);
	W32_FAIL(MapUserPhysicalPagesScatter((PVOID[]){r + pg()}, 1, a), ERROR_INVALID_PARAMETER);
	W32_FAIL(MapUserPhysicalPagesScatter((PVOID[]){r + pg(), r + 2 * pg()}, 2,
					     ((ULONG_PTR[]){a[2], a[2]})),
		 ERROR_INVALID_PARAMETER);
	assert_mapped(r, a[0]);
	assert_parked(a[1]);
	assert_parked(a[2]);
	/* Frames that are not ours are 487 in both. */
	W32_FAIL(MapUserPhysicalPages(r + pg(), 1, &(ULONG_PTR){BOGUS_PFN}), ERROR_INVALID_ADDRESS);
	W32_FAIL(MapUserPhysicalPages(r + pg(), 1, &(ULONG_PTR){0}), ERROR_INVALID_ADDRESS);
	W32_FAIL(MapUserPhysicalPagesScatter((PVOID[]){r + pg()}, 1, &(ULONG_PTR){BOGUS_PFN}),
		 ERROR_INVALID_ADDRESS);
	free(a);
}

/* n == 0 with VA == NULL and a PFN array succeeds; other n == 0 cases fail. */
Test(wrk, map_count_zero)
{
	PULONG_PTR a = pfns_new(1);
	char *r = region_new(1);

	W32_OK(MapUserPhysicalPages(NULL, 0, a));
	W32_FAIL(MapUserPhysicalPages(r, 0, a), ERROR_INVALID_PARAMETER);
	W32_FAIL(MapUserPhysicalPages(r, 0, NULL), ERROR_INVALID_PARAMETER);
	assert_parked(a[0]);
	assert_unmapped(r);
	free(a);
}

Test(wrk, count_limits)
{
	PULONG_PTR a = pfns_new(1);
	char *r = region_new(1);

	W32_FAIL(MapUserPhysicalPages(r, TOO_MANY_PAGES, NULL), ERROR_INVALID_PARAMETER);
	W32_FAIL(MapUserPhysicalPages(r, UINTPTR_MAX, a), ERROR_INVALID_PARAMETER);
	W32_FAIL(MapUserPhysicalPagesScatter(NULL, TOO_MANY_PAGES, NULL), ERROR_INVALID_PARAMETER);
	W32_FAIL(MapUserPhysicalPagesScatter((PVOID[]){r}, UINTPTR_MAX, a),
		 ERROR_INVALID_PARAMETER);
	W32_OK(MapUserPhysicalPagesScatter(NULL, 0, NULL));
	free(a);
}

/* A process that never got past Allocate's privilege check: 87, even to unmap. */
Test(wrk, never_allocated)
{
	char *r = region_new(2);
	ULONG_PTR n = 1, a[1];

	W32_FAIL(MapUserPhysicalPages(r, 2, NULL), ERROR_INVALID_PARAMETER);
	W32_FAIL(MapUserPhysicalPages(r, 1, &(ULONG_PTR){BOGUS_PFN}), ERROR_INVALID_PARAMETER);
	W32_FAIL(MapUserPhysicalPagesScatter((PVOID[]){r}, 1, NULL), ERROR_INVALID_PARAMETER);
	W32_FAIL(MapUserPhysicalPagesScatter((PVOID[]){r}, 1, &(ULONG_PTR){BOGUS_PFN}),
		 ERROR_INVALID_PARAMETER);
	/* Scatter with n == 0 succeeds before that check. */
	W32_OK(MapUserPhysicalPagesScatter(NULL, 0, NULL));
	/* A failed privilege check does not count. */
	W32_FAIL(AllocateUserPhysicalPages(GetCurrentProcess(), &n, a), ERROR_PRIVILEGE_NOT_HELD);
	W32_FAIL(MapUserPhysicalPages(r, 2, NULL), ERROR_INVALID_PARAMETER);
	/* One that got past it does, even after freeing everything. */
	enable_lock_privilege();
	W32_OK(AllocateUserPhysicalPages(GetCurrentProcess(), &n, a));
	W32_OK(FreeUserPhysicalPages(GetCurrentProcess(), &n, a));
	map_ok(r, 2, NULL);
	W32_OK(MapUserPhysicalPagesScatter((PVOID[]){r}, 1, NULL));
	W32_FAIL(MapUserPhysicalPages(r, 1, &(ULONG_PTR){BOGUS_PFN}), ERROR_INVALID_ADDRESS);
}

/* Everything else keeps the Windows 10 codes. */
Test(wrk, shared_rules_unchanged)
{
	PULONG_PTR a = pfns_new(2);
	char *r = region_new(2);
	ULONG_PTR n = 2, arr[2] = {a[0], BOGUS_PFN};

	W32_FAIL(MapUserPhysicalPages(r + pg(), 2, a), ERROR_INVALID_PARAMETER);
	W32_FAIL(MapUserPhysicalPages(r, 1, misaligned(a)), ERROR_NOACCESS);
	W32_FAIL(MapUserPhysicalPagesScatter((PVOID[]){NULL}, 1, a), ERROR_INVALID_PARAMETER);
	W32_FAIL(FreeUserPhysicalPages(GetCurrentProcess(), &n, arr), ERROR_INVALID_ADDRESS);
	cr_assert_eq(n, 1);
	W32_FAIL(VirtualFree(r, 0, MEM_DECOMMIT), ERROR_INVALID_ADDRESS);
	W32_FAIL(VirtualAlloc(r, pg(), MEM_COMMIT, PAGE_READWRITE), ERROR_INVALID_ADDRESS);
	free(a);
}

/* Read once: changing the variable later has no effect. */
Test(wrk, read_once)
{
	PULONG_PTR a = pfns_new(1);
	char *r = region_new(2);

	map_ok(r, 1, a);
	setenv("LIBAWE_WIN32_ERRORS", "win10", 1);
	W32_FAIL(MapUserPhysicalPages(r + pg(), 1, a), ERROR_INVALID_PARAMETER);
	free(a);
}

/* The other way round, in a child that starts with the default. */
static int child_default_then_wrk(void *arg)
{
	ULONG_PTR a[1], n = 1;
	DWORD le;
	void *r;

	(void)arg;
	unsetenv("LIBAWE_WIN32_ERRORS");
	CHILD_CHECK(set_lock_privilege(SE_PRIVILEGE_ENABLED, &le) && le == 0);
	CHILD_W32_OK(AllocateUserPhysicalPages(GetCurrentProcess(), &n, a));
	r = CHILD_W32_OK(VirtualAlloc(NULL, 2 * pg(), MEM_RESERVE | MEM_PHYSICAL, PAGE_READWRITE));
	CHILD_W32_OK(MapUserPhysicalPages(r, 1, a));
	setenv("LIBAWE_WIN32_ERRORS", "wrk", 1);
	CHILD_W32_FAIL(MapUserPhysicalPages((char *)r + pg(), 1, a), ERROR_INVALID_ADDRESS);
	return 0;
}

Test(wrk, default_is_read_once_too)
{
	run_in_child(child_default_then_wrk, NULL, NULL);
}
