/* SPDX-License-Identifier: MIT */
/*
 * §10.3: the regions of an AWE section. VirtualAlloc2() with a
 * MemExtendedParameterUserPhysicalHandle parameter, one PFN at several
 * addresses at once (in one region, in one call, in two regions, through
 * the scatter form), protection per address, Free taking a PFN off every
 * address, and the same state seen through the native API.
 */
#include "w32section.h"

/* ---- VirtualAlloc2 with MemExtendedParameterUserPhysicalHandle ------------------------------ */

Test(section, virtual_alloc2_handles)
{
	HANDLE s = section_rw(), proc = open_self(PROCESS_ALL_ACCESS),
	       tok = open_token(TOKEN_QUERY);
	HANDLE bad[] = {NULL,
			(HANDLE)(uintptr_t)0x1234,
			(HANDLE)(uintptr_t)0x40,
			INVALID_HANDLE_VALUE, /* the process, not a section */
			proc,
			tok};
	MEM_EXTENDED_PARAMETER p;

	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		W32_FAIL(va2_section(bad[i], NULL, pg()), ERROR_INVALID_HANDLE);
	/* Only an AWE region can be tied to a section; flags come before the handle. */
	memset(&p, 0, sizeof(p));
	p.Type = MemExtendedParameterUserPhysicalHandle;
	p.Handle = s;
	W32_FAIL(VirtualAlloc2(SELF, NULL, pg(), MEM_RESERVE, PAGE_READWRITE, &p, 1),
		 ERROR_INVALID_PARAMETER);
	W32_FAIL(VirtualAlloc2(SELF, NULL, pg(), MEM_RESERVE | MEM_COMMIT, PAGE_READWRITE, &p, 1),
		 ERROR_INVALID_PARAMETER);
	W32_FAIL(VirtualAlloc2(SELF, NULL, pg(), PHYS, PAGE_READONLY, &p, 1),
		 ERROR_INVALID_PARAMETER);
	W32_FAIL(VirtualAlloc2(SELF, NULL, pg(), PHYS | MEM_COMMIT, PAGE_READWRITE, &p, 1),
		 ERROR_INVALID_PARAMETER);
	p.Handle = NULL;
	W32_FAIL(VirtualAlloc2(SELF, NULL, pg(), MEM_RESERVE, PAGE_READWRITE, &p, 1),
		 ERROR_INVALID_PARAMETER);
	/* The process handle is checked before the section's. */
	p.Handle = s;
	W32_FAIL(VirtualAlloc2(tok, NULL, pg(), PHYS, PAGE_READWRITE, &p, 1), ERROR_INVALID_HANDLE);
	/* Size 0, as for any AWE region. */
	W32_FAIL(VirtualAlloc2(SELF, NULL, 0, PHYS, PAGE_READWRITE, &p, 1),
		 ERROR_INVALID_PARAMETER);
	/* Twice the same parameter type. */
	{
		MEM_EXTENDED_PARAMETER two[2] = {p, p};

		W32_FAIL(VirtualAlloc2(SELF, NULL, pg(), PHYS, PAGE_READWRITE, two, 2),
			 ERROR_INVALID_PARAMETER);
	}
	/* NULL as the process means this one. */
	W32_OK(VirtualFree(W32_OK(VirtualAlloc2(NULL, NULL, pg(), PHYS, PAGE_READWRITE, &p, 1)), 0,
			   MEM_RELEASE));
	W32_OK(CloseHandle(proc));
	W32_OK(CloseHandle(tok));
	W32_OK(CloseHandle(s));
}

/* The same placement rules as every AWE region, and the same teardown. */
Test(section, virtual_alloc2_regions)
{
	HANDLE s = section_rw();
	PULONG_PTR a = section_pfns(s, 2);
	char *want = free_aligned(4 * GRANULARITY);
	MEM_ADDRESS_REQUIREMENTS req = {.Alignment = 16 * GRANULARITY};
	MEM_EXTENDED_PARAMETER two[2];
	char *r, *q;

	/* A given base is rounded down to 64 KiB and covers every page touched. */
	r = W32_OK(va2_section(s, want + GRANULARITY + 100, pg()));
	cr_assert_eq(r, want + GRANULARITY);
	assert_awe_mbi(r, r, MEM_RESERVE, 0, 2);
	/* A conflict. */
	W32_FAIL(va2_section(s, r, pg()), ERROR_INVALID_ADDRESS);
	/* An alignment requirement. */
	memset(two, 0, sizeof(two));
	two[0].Type = MemExtendedParameterUserPhysicalHandle;
	two[0].Handle = s;
	two[1].Type = MemExtendedParameterAddressRequirements;
	two[1].Pointer = &req;
	q = W32_OK(VirtualAlloc2(SELF, NULL, 3 * pg(), PHYS, PAGE_READWRITE, two, 2));
	cr_assert_eq((uintptr_t)q % req.Alignment, 0);
	assert_awe_mbi(q, q, MEM_RESERVE, 0, 3);
	map_ok(slot(q, 2), 1, a);
	assert_awe_mbi(slot(q, 2), q, MEM_COMMIT, PAGE_READWRITE, 1);
	/* AWE regions are released whole, never decommitted or split. */
	W32_FAIL(VirtualFree(q, 0, MEM_DECOMMIT), ERROR_INVALID_ADDRESS);
	W32_FAIL(VirtualFree(slot(q, 1), 0, MEM_RELEASE), ERROR_INVALID_ADDRESS);
	W32_FAIL(VirtualFree(q, pg(), MEM_RELEASE), ERROR_INVALID_ADDRESS);
	/* No commit inside. */
	W32_FAIL(VirtualAlloc(q, pg(), MEM_COMMIT, PAGE_READWRITE), ERROR_INVALID_ADDRESS);
	W32_OK(VirtualFree(q, 0, MEM_RELEASE));
	W32_OK(VirtualFree(r, 0, MEM_RELEASE));
	/* The pages outlive their regions while the handle is open. */
	r = section_region(s, 1);
	map_ok(r, 1, a);
	assert_mapped(r, a[0]);
	free(a);
}

/* ---- One PFN, several addresses ------------------------------------------------------ */

Test(section, one_pfn_two_addresses_of_one_region)
{
	HANDLE s = section_rw();
	PULONG_PTR a = section_pfns(s, 2);
	char *r = section_region(s, 8);

	map_ok(r, 1, a);
	map_ok(slot(r, 5), 1, a);
	assert_mapped(r, a[0]);
	assert_mapped(slot(r, 5), a[0]);
	fill_page(r, 1);
	assert_page(slot(r, 5), 1);
	*(uint64_t *)slot(r, 5) = 0xFEED;
	cr_assert_eq(*(uint64_t *)r, 0xFEED);
	assert_awe_mbi(r, r, MEM_COMMIT, PAGE_READWRITE, 1);
	assert_awe_mbi(slot(r, 1), r, MEM_RESERVE, 0, 4);
	assert_awe_mbi(slot(r, 5), r, MEM_COMMIT, PAGE_READWRITE, 1);
	/* Mapping it again where it already is: fine for a section. */
	map_ok(slot(r, 5), 1, a);
	cr_assert_eq(*(uint64_t *)slot(r, 5), 0xFEED);
	/* Unmapping one address leaves the other. */
	W32_OK(MapUserPhysicalPages(r, 1, NULL));
	assert_section_unmapped(r);
	assert_mapped(slot(r, 5), a[0]);
	cr_assert_eq(*(uint64_t *)slot(r, 5), 0xFEED);
	/* Replacing it at one address too. */
	map_ok(r, 1, a);
	map_ok(slot(r, 5), 1, &a[1]);
	assert_mapped(r, a[0]);
	assert_mapped(slot(r, 5), a[1]);
	cr_assert_eq(*(uint64_t *)r, 0xFEED);
	assert_page_zero(slot(r, 5));
	free(a);
}

/* Even several times in one call. */
Test(section, one_pfn_several_times_in_one_call)
{
	HANDLE s = section_rw();
	PULONG_PTR a = section_pfns(s, 2);
	char *r = section_region(s, 8);
	ULONG_PTR same[4] = {a[0], a[1], a[0], a[0]};

	map_ok(r, 4, same);
	assert_mapped(r, a[0]);
	assert_mapped(slot(r, 1), a[1]);
	assert_mapped(slot(r, 2), a[0]);
	assert_mapped(slot(r, 3), a[0]);
	*(uint64_t *)slot(r, 3) = 42;
	cr_assert_eq(*(uint64_t *)r, 42);
	cr_assert_eq(*(uint64_t *)slot(r, 2), 42);
	cr_assert_eq(*(uint64_t *)slot(r, 1), 0);
	assert_awe_mbi(r, r, MEM_COMMIT, PAGE_READWRITE, 4);
	free(a);
}

Test(section, one_pfn_in_two_regions)
{
	HANDLE s = section_rw();
	PULONG_PTR a = section_pfns(s, 1);
	char *r1 = section_region(s, 4), *r2 = section_region(s, 16);

	cr_assert_neq(r1, r2);
	map_ok(slot(r1, 3), 1, a);
	map_ok(slot(r2, 9), 1, a);
	fill_page(slot(r2, 9), 7);
	assert_page(slot(r1, 3), 7);
	fill_page(slot(r1, 3), 8);
	assert_page(slot(r2, 9), 8);
	assert_awe_mbi(slot(r1, 3), r1, MEM_COMMIT, PAGE_READWRITE, 1);
	assert_awe_mbi(slot(r2, 9), r2, MEM_COMMIT, PAGE_READWRITE, 1);
	/* Releasing one region leaves the page in the other. */
	W32_OK(VirtualFree(r1, 0, MEM_RELEASE));
	assert_mapped(slot(r2, 9), a[0]);
	assert_page(slot(r2, 9), 8);
	free(a);
}

Test(section, scatter_same_pfn_twice)
{
	HANDLE s = section_rw();
	PULONG_PTR a = section_pfns(s, 2);
	char *r1 = section_region(s, 4), *r2 = section_region(s, 4);
	PVOID vas[3] = {slot(r1, 1), slot(r2, 2), slot(r1, 3)};
	ULONG_PTR pfns[3] = {a[0], a[0], a[1]};

	W32_OK(MapUserPhysicalPagesScatter(vas, 3, pfns));
	assert_mapped(vas[0], a[0]);
	assert_mapped(vas[1], a[0]);
	assert_mapped(vas[2], a[1]);
	*(uint64_t *)vas[1] = 0xABC;
	cr_assert_eq(*(uint64_t *)vas[0], 0xABC);
	/* 0 unmaps one address only. */
	pfns[0] = 0;
	W32_OK(MapUserPhysicalPagesScatter(vas, 1, pfns));
	assert_section_unmapped(vas[0]);
	assert_mapped(vas[1], a[0]);
	free(a);
}

/* The protection is the address's, not the page's. */
Test(section, protection_per_address)
{
	HANDLE s = section_rw();
	PULONG_PTR a = section_pfns(s, 1);
	char *r = section_region(s, 4);
	DWORD old = 0;

	map_ok(r, 1, a);
	map_ok(slot(r, 2), 1, a);
	W32_OK(VirtualProtect(r, pg(), PAGE_READONLY, &old));
	cr_assert_eq(old, PAGE_READWRITE);
	assert_awe_mbi(r, r, MEM_COMMIT, PAGE_READONLY, 1);
	assert_awe_mbi(slot(r, 2), r, MEM_COMMIT, PAGE_READWRITE, 1);
	assert_section_fault(probe_write(r, 1), r, "write");
	*(uint64_t *)slot(r, 2) = 99;
	cr_assert_eq(*(uint64_t *)r, 99);
	free(a);
}

/* Free takes the PFN off every address that shows it. */
Test(section, free_unmaps_every_address)
{
	HANDLE s = section_rw();
	PULONG_PTR a = section_pfns(s, 2);
	char *r1 = section_region(s, 4), *r2 = section_region(s, 4);
	ULONG_PTR n = 1;

	map_ok(r1, 1, a);
	map_ok(slot(r1, 2), 1, a);
	map_ok(slot(r2, 1), 1, a);
	map_ok(slot(r2, 3), 1, &a[1]);
	*(uint64_t *)slot(r2, 3) = 0x77;
	W32_OK(FreeUserPhysicalPages(s, &n, a));
	cr_assert_eq(n, 1);
	assert_section_unmapped(r1);
	assert_section_unmapped(slot(r1, 2));
	assert_section_unmapped(slot(r2, 1));
	assert_awe_mbi(r1, r1, MEM_RESERVE, 0, 4);
	assert_awe_mbi(r2, r2, MEM_RESERVE, 0, 3);
	assert_mapped(slot(r2, 3), a[1]);
	cr_assert_eq(*(uint64_t *)slot(r2, 3), 0x77);
	free(a);
}

/* ---- The native view ------------------------------------------------------------------ */

/* With the native API: the PFNs are frame numbers, the regions windows. */
Test(section, native_view)
{
	HANDLE s = section_rw();
	PULONG_PTR a = section_pfns(s, 1);
	char *r = section_region(s, 4);
	struct awe_page_info pi;
	void *where = NULL;

	map_ok(slot(r, 1), 1, a);
	map_ok(slot(r, 3), 1, a);
	pi = query(slot(r, 3));
	cr_assert_eq(pi.frame, a[0]);
	cr_assert_eq(pi.window, r);
	cr_assert_eq(pi.window_size, 4 * pg());
	/* A section frame has no single address. */
	AWE_ERR(awe_frame_addr(a[0], &where), EINVAL);
	/* awe_window_destroy releases a region like VirtualFree. */
	AWE_OK(awe_window_destroy(r));
	W32_FAIL(VirtualFree(r, 0, MEM_RELEASE), ERROR_INVALID_ADDRESS);
	free(a);
}
