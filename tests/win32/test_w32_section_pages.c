/* SPDX-License-Identifier: MIT */
/*
 * §10.3: an AWE section's pages. AllocateUserPhysicalPages (and its Numa
 * and 2 forms) and FreeUserPhysicalPages with the section handle: the
 * checks in their order, the privilege, and what fails across owners (a
 * section's PFNs in its own regions only, freed through its own handle).
 */
#include "w32section.h"

/* ---- AllocateUserPhysicalPages and FreeUserPhysicalPages with a section ------------------ */

Test(section, allocate_and_free)
{
	enum { N = 64 };
	HANDLE s = section_rw();
	uint64_t before = frames_now();
	PULONG_PTR a = section_pfns(s, N);
	char *r = section_region(s, N);
	ULONG_PTR n = N;

	assert_distinct_nonzero(a, N);
	cr_assert_eq(frames_now(), before + N);
	/* Zero-filled, as every AWE page. */
	map_ok(r, N, a);
	for (size_t i = 0; i < N; i++) {
		assert_mapped(slot(r, i), a[i]);
		assert_page_zero(slot(r, i));
	}
	W32_OK(FreeUserPhysicalPages(s, &n, a));
	cr_assert_eq(n, N);
	cr_assert_eq(frames_now(), before);
	for (size_t i = 0; i < N; i++)
		assert_section_unmapped(slot(r, i));
	/* Freed PFNs are nobody's. */
	MAP_FAILS(MapUserPhysicalPages(r, 1, a), ERROR_INVALID_ADDRESS, r, 4);
	n = 1;
	W32_FAIL(FreeUserPhysicalPages(s, &n, a), ERROR_INVALID_ADDRESS);
	cr_assert_eq(n, 0);
	free(a);
}

/* The ...Numa and ...2 forms take a section handle too. */
Test(section, allocate_numa_and_2)
{
	HANDLE s = section_rw();
	MEM_EXTENDED_PARAMETER p = {.Type = MemExtendedParameterNumaNode};
	ULONG_PTR n = 2, a[3] = {PFN_SENTINEL, PFN_SENTINEL, PFN_SENTINEL};
	char *r = section_region(s, 4);

	enable_lock_privilege();
	W32_OK(AllocateUserPhysicalPagesNuma(s, &n, a, numa_nodes() - 1));
	cr_assert_eq(n, 2);
	W32_FAIL(AllocateUserPhysicalPagesNuma(s, &n, &a[2], numa_nodes()),
		 ERROR_INVALID_PARAMETER);
	n = 1;
	W32_OK(AllocateUserPhysicalPages2(s, &n, &a[2], &p, 1));
	cr_assert_eq(n, 1);
	map_ok(r, 3, a);
	p.Type = MemExtendedParameterAttributeFlags;
	/* A section of small pages has no large page to give. */
	p.ULong64 = MEM_EXTENDED_PARAMETER_NONPAGED_LARGE;
	W32_FAIL(AllocateUserPhysicalPages2(s, &n, a, &p, 1), ERROR_INVALID_PARAMETER);
	p.ULong64 = MEM_EXTENDED_PARAMETER_NONPAGED;
	W32_OK(AllocateUserPhysicalPages2(s, &n, a, &p, 1));
	map_ok(slot(r, 3), 1, a);
}

/* The checks come in the order of the process form (§7.1). */
Test(section, allocate_check_order)
{
	HANDLE s = section_rw(), closed = section_rw(), noright = section_new(SECTION_QUERY);
	ULONG_PTR n = 1, zero = 0, big = UINTPTR_MAX / sizeof(ULONG_PTR) + 1, a[1] = {PFN_SENTINEL};

	W32_OK(CloseHandle(closed));
	/* Before the privilege is enabled. */
	W32_FAIL(AllocateUserPhysicalPages(s, NULL, a), ERROR_NOACCESS);
	W32_OK(AllocateUserPhysicalPages(closed, &zero, NULL));
	W32_FAIL(AllocateUserPhysicalPages(closed, &big, NULL), ERROR_INVALID_PARAMETER);
	W32_FAIL(AllocateUserPhysicalPages(closed, &n, NULL), ERROR_NOACCESS);
	W32_FAIL(AllocateUserPhysicalPages(closed, &n, misaligned(a)), ERROR_NOACCESS);
	W32_FAIL(AllocateUserPhysicalPages(closed, &n, a), ERROR_INVALID_HANDLE);
	W32_FAIL(AllocateUserPhysicalPages(noright, &n, a), ERROR_ACCESS_DENIED);
	/* Sections need SeLockMemoryPrivilege too. */
	W32_FAIL(AllocateUserPhysicalPages(s, &n, a), ERROR_PRIVILEGE_NOT_HELD);
	W32_FAIL(AllocateUserPhysicalPagesNuma(s, &n, a, 0), ERROR_PRIVILEGE_NOT_HELD);
	W32_FAIL(AllocateUserPhysicalPages2(s, &n, a, NULL, 0), ERROR_PRIVILEGE_NOT_HELD);
	cr_assert_eq(n, 1);
	cr_assert(pfns_untouched(a, 0, 1));
	enable_lock_privilege();
	W32_OK(AllocateUserPhysicalPages(s, &n, a));
	cr_assert_eq(n, 1);
	disable_lock_privilege();
	W32_FAIL(AllocateUserPhysicalPages(s, &n, a), ERROR_PRIVILEGE_NOT_HELD);
	W32_OK(CloseHandle(s));
	W32_OK(CloseHandle(noright));
}

/* An unprivileged user can create the section and its regions, not its pages. */
static int child_section_not_held(void *arg)
{
	ULONG_PTR n = 2, a[2] = {PFN_SENTINEL, PFN_SENTINEL};
	MEM_EXTENDED_PARAMETER p;
	DWORD le;
	HANDLE s;
	void *r;

	(void)arg;
	unsetenv("LIBAWE_UNLOCKED");
	s = create_section(RW_ACCESS);
	CHILD_CHECK(s != NULL, "CreateFileMapping2: %u", GetLastError());
	memset(&p, 0, sizeof(p));
	p.Type = MemExtendedParameterUserPhysicalHandle;
	p.Handle = s;
	r = CHILD_W32_OK(VirtualAlloc2(SELF, NULL, 16 * pg(), PHYS, PAGE_READWRITE, &p, 1));
	CHILD_CHECK(set_lock_privilege(SE_PRIVILEGE_ENABLED, &le) == TRUE &&
			    le == ERROR_NOT_ALL_ASSIGNED,
		    "le %u", le);
	CHILD_W32_FAIL(AllocateUserPhysicalPages(s, &n, a), ERROR_PRIVILEGE_NOT_HELD);
	CHILD_W32_FAIL(AllocateUserPhysicalPages2(s, &n, a, NULL, 0), ERROR_PRIVILEGE_NOT_HELD);
	CHILD_CHECK(n == 2 && pfns_untouched(a, 0, 2));
	/* Nothing to map, unmapping works; Free needs no privilege. */
	CHILD_W32_OK(MapUserPhysicalPages(r, 16, NULL));
	n = 1;
	a[0] = BOGUS_PFN;
	CHILD_W32_FAIL(FreeUserPhysicalPages(s, &n, a), ERROR_INVALID_ADDRESS);
	CHILD_W32_OK(VirtualFree(r, 0, MEM_RELEASE));
	CHILD_W32_OK(CloseHandle(s));
	return 0;
}

Test(section, privilege_not_held)
{
	run_as_nobody(child_section_not_held, NULL, 8 * MiB);
}

Test(section, free_checks)
{
	HANDLE s = section_rw(), closed = section_rw(), noright = section_new(SECTION_QUERY);
	PULONG_PTR a = section_pfns(s, 4);
	ULONG_PTR n;

	W32_OK(CloseHandle(closed));
	n = 4;
	W32_FAIL(FreeUserPhysicalPages(s, NULL, a), ERROR_NOACCESS);
	n = 0;
	W32_FAIL(FreeUserPhysicalPages(s, &n, a), ERROR_INVALID_PARAMETER);
	n = 4;
	W32_FAIL(FreeUserPhysicalPages(closed, &n, a), ERROR_INVALID_HANDLE);
	cr_assert_eq(n, 0);
	n = 4;
	W32_FAIL(FreeUserPhysicalPages(noright, &n, a), ERROR_ACCESS_DENIED);
	cr_assert_eq(n, 0);
	/* The handle comes before the array. */
	n = 4;
	W32_FAIL(FreeUserPhysicalPages(closed, &n, NULL), ERROR_INVALID_HANDLE);
	n = 4;
	W32_FAIL(FreeUserPhysicalPages(s, &n, NULL), ERROR_NOACCESS);
	cr_assert_eq(n, 0);
	n = 4;
	W32_FAIL(FreeUserPhysicalPages(s, &n, misaligned(a)), ERROR_NOACCESS);
	cr_assert_eq(n, 0);
	/* Entry by entry: a PFN listed twice stops the call at the second. */
	{
		ULONG_PTR twice[3] = {a[0], a[1], a[0]};

		n = 3;
		W32_FAIL(FreeUserPhysicalPages(s, &n, twice), ERROR_INVALID_ADDRESS);
		cr_assert_eq(n, 2);
	}
	n = 2;
	W32_OK(FreeUserPhysicalPages(s, &n, &a[2]));
	cr_assert_eq(n, 2);
	W32_OK(CloseHandle(s));
	W32_OK(CloseHandle(noright));
	free(a);
}

/* ---- Owners do not mix ------------------------------------------------------------------ */

/* Free with the wrong owner: 487, nothing freed, the PFN still works. */
Test(section, free_with_the_wrong_owner)
{
	HANDLE s = section_rw(), t = section_rw();
	PULONG_PTR sp = section_pfns(s, 2), tp = section_pfns(t, 1), pp = pfns_new(1);
	char *sr = section_region(s, 4), *pr = region_new(4);
	ULONG_PTR n, mixed[3] = {sp[0], sp[1], pp[0]};

	n = 1;
	W32_FAIL(FreeUserPhysicalPages(SELF, &n, sp), ERROR_INVALID_ADDRESS);
	cr_assert_eq(n, 0);
	n = 1;
	W32_FAIL(FreeUserPhysicalPages(s, &n, pp), ERROR_INVALID_ADDRESS);
	cr_assert_eq(n, 0);
	n = 1;
	W32_FAIL(FreeUserPhysicalPages(s, &n, tp), ERROR_INVALID_ADDRESS);
	cr_assert_eq(n, 0);
	map_ok(sr, 2, sp);
	map_ok(pr, 1, pp);
	assert_mapped(sr, sp[0]);
	assert_mapped(slot(sr, 1), sp[1]);
	assert_mapped(pr, pp[0]);
	/* Entry by entry: the section's two go, the process's stays. */
	n = 3;
	W32_FAIL(FreeUserPhysicalPages(s, &n, mixed), ERROR_INVALID_ADDRESS);
	cr_assert_eq(n, 2);
	assert_section_unmapped(sr);
	assert_section_unmapped(slot(sr, 1));
	assert_mapped(pr, pp[0]);
	free(sp);
	free(tp);
	free(pp);
}

/* Section PFNs only in the section's regions, and nothing else there (§10.3). */
Test(section, map_across_owners)
{
	HANDLE s = section_rw(), t = section_rw();
	PULONG_PTR sp = section_pfns(s, 2), tp = section_pfns(t, 1), pp = pfns_new(2);
	char *sr = section_region(s, 8), *tr = section_region(t, 8), *pr = region_new(8);

	map_ok(sr, 1, &sp[1]);
	map_ok(pr, 1, &pp[1]);
	*(uint64_t *)sr = 0x5EC;
	*(uint64_t *)pr = 0x9A9;
	/* A section's PFN in a plain region: not one of the region's owner. */
	MAP_FAILS(MapUserPhysicalPages(slot(pr, 2), 1, sp), ERROR_INVALID_ADDRESS, pr, 8);
	MAP_FAILS(MapUserPhysicalPages(slot(pr, 2), 2, (ULONG_PTR[]){pp[0], sp[0]}),
		  ERROR_INVALID_ADDRESS, pr, 8);
	MAP_FAILS(MapUserPhysicalPagesScatter((PVOID[]){slot(pr, 3)}, 1, sp), ERROR_INVALID_ADDRESS,
		  pr, 8);
	/* A plain PFN, or another section's, in a section's region. */
	MAP_FAILS(MapUserPhysicalPages(slot(sr, 2), 1, pp), ERROR_INVALID_ADDRESS, sr, 8);
	MAP_FAILS(MapUserPhysicalPages(slot(sr, 2), 1, tp), ERROR_INVALID_ADDRESS, sr, 8);
	MAP_FAILS(MapUserPhysicalPagesScatter((PVOID[]){slot(sr, 3), slot(sr, 4)}, 2,
					      (ULONG_PTR[]){sp[0], pp[0]}),
		  ERROR_INVALID_ADDRESS, sr, 8);
	/* One scatter call cannot span regions of different owners, even to unmap. */
	MAP_FAILS(MapUserPhysicalPagesScatter((PVOID[]){slot(sr, 3), slot(pr, 3)}, 2,
					      (ULONG_PTR[]){sp[0], pp[0]}),
		  ERROR_INVALID_PARAMETER, sr, 8);
	MAP_FAILS(MapUserPhysicalPagesScatter((PVOID[]){pr, sr}, 2, NULL), ERROR_INVALID_PARAMETER,
		  pr, 8);
	MAP_FAILS(MapUserPhysicalPagesScatter((PVOID[]){sr, tr}, 2, NULL), ERROR_INVALID_PARAMETER,
		  sr, 8);
	cr_assert_eq(*(uint64_t *)sr, 0x5EC);
	cr_assert_eq(*(uint64_t *)pr, 0x9A9);
	assert_section_unmapped(tr);
	/* Each owner's own: fine. */
	map_ok(slot(tr, 1), 1, tp);
	assert_mapped(slot(tr, 1), tp[0]);
	free(sp);
	free(tp);
	free(pp);
}
