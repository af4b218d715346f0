/* SPDX-License-Identifier: MIT */
/* §10: FreeUserPhysicalPages, and §10.1: releasing an AWE region with VirtualFree. */
#include "w32helpers.h"

#define SELF GetCurrentProcess()

Test(free, number_of_pages_null)
{
	PULONG_PTR a = pfns_new(1);

	W32_FAIL(FreeUserPhysicalPages(SELF, NULL, a), ERROR_NOACCESS);
	W32_FAIL(FreeUserPhysicalPages(NULL, NULL, NULL), ERROR_NOACCESS);
	assert_parked(a[0]);
	free(a);
}

/* *NumberOfPages is zeroed before anything else is checked. */
Test(free, count_zeroed_first)
{
	PULONG_PTR a = pfns_new(2);
	HANDLE noright = open_self(PROCESS_QUERY_INFORMATION);
	ULONG_PTR n = 0;

	W32_FAIL(FreeUserPhysicalPages(SELF, &n, a), ERROR_INVALID_PARAMETER);
	cr_assert_eq(n, 0);
	W32_FAIL(FreeUserPhysicalPages(NULL, &n, NULL), ERROR_INVALID_PARAMETER);
	n = 2;
	W32_FAIL(FreeUserPhysicalPages(NULL, &n, a), ERROR_INVALID_HANDLE);
	cr_assert_eq(n, 0);
	n = 2;
	W32_FAIL(FreeUserPhysicalPages(noright, &n, a), ERROR_ACCESS_DENIED);
	cr_assert_eq(n, 0);
	/* The handle comes before the array. */
	n = 2;
	W32_FAIL(FreeUserPhysicalPages(NULL, &n, NULL), ERROR_INVALID_HANDLE);
	cr_assert_eq(n, 0);
	n = 2;
	W32_FAIL(FreeUserPhysicalPages(SELF, &n, NULL), ERROR_NOACCESS);
	cr_assert_eq(n, 0);
	n = 2;
	W32_FAIL(FreeUserPhysicalPages(SELF, &n, misaligned(a)), ERROR_NOACCESS);
	cr_assert_eq(n, 0);
	assert_parked(a[0]);
	assert_parked(a[1]);
	cr_assert_eq(get_stats().frames_allocated, 2);
	W32_OK(CloseHandle(noright));
	free(a);
}

/* A process that never reserved a region nor got past Allocate's privilege check. */
Test(free, nothing_to_free_yet)
{
	ULONG_PTR n = 1, bogus = BOGUS_PFN, a[1];

	/* The handle is checked first. */
	W32_FAIL(FreeUserPhysicalPages(NULL, &n, &bogus), ERROR_INVALID_HANDLE);
	n = 1;
	W32_FAIL(FreeUserPhysicalPages(SELF, &n, &bogus), ERROR_INVALID_PARAMETER);
	cr_assert_eq(n, 0);
	n = 1;
	W32_FAIL(FreeUserPhysicalPages(SELF, &n, NULL), ERROR_INVALID_PARAMETER);
	cr_assert_eq(n, 0);
	/* A failed privilege check does not count... */
	n = 1;
	W32_FAIL(AllocateUserPhysicalPages(SELF, &n, a), ERROR_PRIVILEGE_NOT_HELD);
	W32_FAIL(FreeUserPhysicalPages(SELF, &n, &bogus), ERROR_INVALID_PARAMETER);
	/* ... a reserved region does. */
	region_new(1);
	n = 1;
	W32_FAIL(FreeUserPhysicalPages(SELF, &n, &bogus), ERROR_INVALID_ADDRESS);
	cr_assert_eq(n, 0);
}

/* Getting past Allocate's privilege check counts, even with every frame freed. */
Test(free, after_allocating)
{
	PULONG_PTR a = pfns_new(1);
	ULONG_PTR n = 1, bogus = BOGUS_PFN;

	W32_OK(FreeUserPhysicalPages(SELF, &n, a));
	cr_assert_eq(n, 1);
	assert_frame_invalid(a[0]);
	n = 1;
	W32_FAIL(FreeUserPhysicalPages(SELF, &n, &bogus), ERROR_INVALID_ADDRESS);
	cr_assert_eq(n, 0);
	free(a);
}

Test(free, frees_mapped_and_unmapped)
{
	enum { N = 6 };
	PULONG_PTR a = pfns_new(N);
	char *r = region_new(N);
	ULONG_PTR n = N;

	map_ok(r, N / 2, a);
	cr_assert_eq(get_stats().frames_mapped, N / 2);
	W32_OK(FreeUserPhysicalPages(SELF, &n, a));
	cr_assert_eq(n, N);
	for (size_t i = 0; i < N; i++) {
		assert_frame_invalid(a[i]);
		assert_unmapped(r + i * pg());
	}
	assert_awe_mbi(r, r, MEM_RESERVE, 0, N);
	cr_assert_eq(get_stats().frames_allocated, 0);
	cr_assert_eq(get_stats().frames_mapped, 0);
	/* Freed numbers are no longer frames. */
	W32_FAIL(MapUserPhysicalPages(r, 1, a), ERROR_INVALID_ADDRESS);
	free(a);
}

/* In order, stopping at the first bad entry: those before it are freed. */
Test(free, stops_at_first_invalid)
{
	PULONG_PTR a = pfns_new(5);
	char *r = region_new(5);
	ULONG_PTR n = 5, arr[5] = {a[0], a[1], BOGUS_PFN, a[2], a[3]};

	map_ok(r, 5, a);
	fill_page(r + 3 * pg(), 3);
	W32_FAIL(FreeUserPhysicalPages(SELF, &n, arr), ERROR_INVALID_ADDRESS);
	cr_assert_eq(n, 2, "*NumberOfPages %lu, expected the 2 freed", (unsigned long)n);
	assert_frame_invalid(a[0]);
	assert_frame_invalid(a[1]);
	assert_unmapped(r);
	assert_unmapped(r + pg());
	for (size_t i = 2; i < 5; i++)
		assert_mapped(r + i * pg(), a[i]);
	assert_page(r + 3 * pg(), 3);

	/* A frame listed twice: the first is freed, the second stops. */
	ULONG_PTR twice[3] = {a[2], a[3], a[2]};
	n = 3;
	W32_FAIL(FreeUserPhysicalPages(SELF, &n, twice), ERROR_INVALID_ADDRESS);
	cr_assert_eq(n, 2);
	assert_frame_invalid(a[2]);
	assert_frame_invalid(a[3]);
	assert_mapped(r + 4 * pg(), a[4]);

	/* 0 is never a frame. */
	ULONG_PTR zero[2] = {0, a[4]};
	n = 2;
	W32_FAIL(FreeUserPhysicalPages(SELF, &n, zero), ERROR_INVALID_ADDRESS);
	cr_assert_eq(n, 0);
	assert_mapped(r + 4 * pg(), a[4]);
	cr_assert_eq(get_stats().frames_allocated, 1);
	free(a);
}

Test(free, with_an_opened_handle)
{
	PULONG_PTR a = pfns_new(2);
	HANDLE h = open_self(PROCESS_VM_OPERATION);
	ULONG_PTR n = 2;

	W32_OK(FreeUserPhysicalPages(h, &n, a));
	cr_assert_eq(n, 2);
	assert_frame_invalid(a[1]);
	W32_OK(CloseHandle(h));
	free(a);
}

/* No privilege is needed to free. */
Test(free, without_the_privilege)
{
	PULONG_PTR a = pfns_new(2);
	ULONG_PTR n = 2;

	disable_lock_privilege();
	W32_OK(FreeUserPhysicalPages(SELF, &n, a));
	cr_assert_eq(n, 2);
	free(a);
}

/* ---- §10.1 Region teardown ---------------------------------------------------------- */

/* Releasing a region unmaps its frames; they stay allocated, with their data. */
Test(free, release_region_keeps_frames)
{
	enum { N = 8 };
	PULONG_PTR a = pfns_new(N);
	char *r = region_new(N), *s = region_new(N);
	ULONG_PTR n = N;

	map_ok(r, N, a);
	for (size_t i = 0; i < N; i++)
		fill_page(r + i * pg(), 100 + i);
	W32_OK(VirtualFree(r, 0, MEM_RELEASE));
	cr_assert_eq(mbi_of(r).State, MEM_FREE);
	cr_assert_eq(get_stats().frames_allocated, N);
	cr_assert_eq(get_stats().frames_mapped, 0);
	for (size_t i = 0; i < N; i++)
		assert_parked(a[i]);
	struct awe_page_info pi;
	AWE_ERR(awe_query(r, &pi), EINVAL);
	/* The address range is gone, not just emptied. */
	cr_assert_eq(probe_read(r).sig, SIGSEGV);
	W32_FAIL(MapUserPhysicalPages(r, 1, a), ERROR_INVALID_PARAMETER);

	map_ok(s, N, a);
	for (size_t i = 0; i < N; i++)
		assert_page(s + i * pg(), 100 + i);
	W32_OK(FreeUserPhysicalPages(SELF, &n, a));
	cr_assert_eq(n, N);
	free(a);
}

Test(free, release_with_full_size)
{
	PULONG_PTR a = pfns_new(1);
	char *r = region_new(3);

	map_ok(r + pg(), 1, a);
	W32_OK(VirtualFree(r, 3 * pg(), MEM_RELEASE));
	cr_assert_eq(mbi_of(r).State, MEM_FREE);
	assert_parked(a[0]);
	free(a);
}

/* AWE regions cannot be split or decommitted. */
Test(free, partial_release_or_decommit)
{
	PULONG_PTR a = pfns_new(2);
	char *r = region_new(4);

	map_ok(r, 2, a);
	W32_FAIL(VirtualFree(r + pg(), 0, MEM_RELEASE), ERROR_INVALID_ADDRESS);
	W32_FAIL(VirtualFree(r + pg(), 3 * pg(), MEM_RELEASE), ERROR_INVALID_ADDRESS);
	W32_FAIL(VirtualFree(r, pg(), MEM_RELEASE), ERROR_INVALID_ADDRESS);
	W32_FAIL(VirtualFree(r, 2 * pg(), MEM_RELEASE), ERROR_INVALID_ADDRESS);
	W32_FAIL(VirtualFree(r, 0, MEM_DECOMMIT), ERROR_INVALID_ADDRESS);
	W32_FAIL(VirtualFree(r, pg(), MEM_DECOMMIT), ERROR_INVALID_ADDRESS);
	W32_FAIL(VirtualFree(r + 2 * pg(), pg(), MEM_DECOMMIT), ERROR_INVALID_ADDRESS);
	W32_FAIL(VirtualFreeEx(SELF, r, 0, MEM_DECOMMIT), ERROR_INVALID_ADDRESS);
	assert_mapped(r, a[0]);
	assert_mapped(r + pg(), a[1]);
	assert_awe_mbi(r, r, MEM_COMMIT, PAGE_READWRITE, 2);
	assert_awe_mbi(r + 2 * pg(), r, MEM_RESERVE, 0, 2);
	free(a);
}

Test(free, release_outside_any_region)
{
	W32_FAIL(VirtualFree(free_range(4), 0, MEM_RELEASE), ERROR_INVALID_ADDRESS);
	W32_FAIL(VirtualFree(NULL, 0, MEM_RELEASE), ERROR_INVALID_ADDRESS);
	W32_FAIL(VirtualFree(free_range(4), pg(), MEM_DECOMMIT), ERROR_INVALID_ADDRESS);
}

Test(free, virtual_free_ex)
{
	HANDLE h = open_self(PROCESS_VM_OPERATION);
	char *r = region_new(2), *s = region_new(2);

	W32_OK(VirtualFreeEx(SELF, r, 0, MEM_RELEASE));
	W32_OK(VirtualFreeEx(h, s, 0, MEM_RELEASE));
	cr_assert_eq(get_stats().windows, 0);
	W32_OK(CloseHandle(h));
}
