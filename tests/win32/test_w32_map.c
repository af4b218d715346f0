/* SPDX-License-Identifier: MIT */
/* §8: MapUserPhysicalPages ([Win10] codes; the [WRK] ones are in test_w32_wrk.c). */
#include "w32helpers.h"

Test(map, map_then_unmap)
{
	PULONG_PTR a = pfns_new(4);
	char *r = region_new(6);

	map_ok(r + pg(), 4, a);
	assert_unmapped(r);
	for (size_t i = 0; i < 4; i++) {
		assert_mapped(r + (1 + i) * pg(), a[i]);
		assert_awe_mbi(r + (1 + i) * pg(), r, MEM_COMMIT, PAGE_READWRITE, 4 - i);
		fill_page(r + (1 + i) * pg(), a[i]);
	}
	assert_unmapped(r + 5 * pg());

	/* NULL unmaps; empty pages in the range are fine; frames stay owned. */
	map_ok(r, 6, NULL);
	for (size_t i = 0; i < 6; i++)
		assert_unmapped(r + i * pg());
	for (size_t i = 0; i < 4; i++)
		assert_parked(a[i]);
	assert_awe_mbi(r, r, MEM_RESERVE, 0, 6);
	map_ok(r, 6, NULL);
	cr_assert_eq(get_stats().frames_allocated, 4);

	/* Elsewhere, in reverse order: the data came along. */
	for (size_t i = 0; i < 4; i++)
		map_ok(r + (5 - i) * pg(), 1, &a[i]);
	for (size_t i = 0; i < 4; i++)
		assert_page(r + (5 - i) * pg(), a[i]);
	free(a);
}

Test(map, count_zero_or_too_large)
{
	PULONG_PTR a = pfns_new(1);
	char *r = region_new(2);

	map_ok(r, 1, a);
	MAP_FAILS(MapUserPhysicalPages(r, 0, a), ERROR_INVALID_PARAMETER, r, 2);
	MAP_FAILS(MapUserPhysicalPages(r, 0, NULL), ERROR_INVALID_PARAMETER, r, 2);
	MAP_FAILS(MapUserPhysicalPages(NULL, 0, NULL), ERROR_INVALID_PARAMETER, r, 2);
	MAP_FAILS(MapUserPhysicalPages(NULL, 0, a), ERROR_INVALID_PARAMETER, r, 2);
	MAP_FAILS(MapUserPhysicalPages(r, 0x10000000000000ull, NULL), ERROR_INVALID_PARAMETER, r,
		  2);
	MAP_FAILS(MapUserPhysicalPages(r, UINTPTR_MAX, a), ERROR_INVALID_PARAMETER, r, 2);
	/* One below the limit: the range then wraps. */
	MAP_FAILS(MapUserPhysicalPages(r, 0xFFFFFFFFFFFFFull, NULL), ERROR_INVALID_PARAMETER, r, 2);
	assert_mapped(r, a[0]);
	free(a);
}

Test(map, address_wraps)
{
	PULONG_PTR a = pfns_new(2);
	char *r = region_new(1);

	MAP_FAILS(MapUserPhysicalPages((void *)(uintptr_t)-pg(), 2, a), ERROR_INVALID_PARAMETER, r,
		  1);
	MAP_FAILS(MapUserPhysicalPages((void *)(uintptr_t)-1, 2, NULL), ERROR_INVALID_PARAMETER, r,
		  1);
	free(a);
}

/* An unaligned address names its page. */
Test(map, address_rounded_down)
{
	PULONG_PTR a = pfns_new(2);
	char *r = region_new(4);

	map_ok(r + pg() + 123, 2, a);
	assert_mapped(r + pg(), a[0]);
	assert_mapped(r + 2 * pg(), a[1]);
	assert_unmapped(r + 3 * pg());
	map_ok(r + 3 * pg() - 1, 1, NULL);
	assert_unmapped(r + 2 * pg());
	assert_mapped(r + pg(), a[0]);
	free(a);
}

Test(map, page_array_misaligned)
{
	PULONG_PTR a = pfns_new(2);
	char *r = region_new(2);
	ULONG_PTR buf[3];

	buf[0] = a[0];
	buf[1] = a[1];
	MAP_FAILS(MapUserPhysicalPages(r, 1, misaligned(buf)), ERROR_NOACCESS, r, 2);
	MAP_FAILS(MapUserPhysicalPages(r, 2, (PULONG_PTR)((char *)buf + 4)), ERROR_NOACCESS, r, 2);
	/* After the count and wrap checks, before the region check. */
	MAP_FAILS(MapUserPhysicalPages(r, 0, misaligned(buf)), ERROR_INVALID_PARAMETER, r, 2);
	MAP_FAILS(MapUserPhysicalPages(&buf, 1, misaligned(buf)), ERROR_NOACCESS, r, 2);
	MAP_FAILS(MapUserPhysicalPages(r + pg(), 2, misaligned(buf)), ERROR_NOACCESS, r, 2);
	assert_parked(a[0]);
	free(a);
}

/* The whole range must lie inside one AWE region; an unmap is no exception. */
Test(map, range_not_in_one_region)
{
	enum { P = GRANULARITY / 4096 }; /* pages of a granule, with 4 KiB pages */
	PULONG_PTR a = pfns_new(2);
	/* Before the free range is found: the kernel could place it there. */
	char *v = W32_OK(VirtualAlloc(NULL, pg(), MEM_RESERVE | MEM_COMMIT, PAGE_READWRITE));
	char *base = free_aligned(2 * GRANULARITY), *r, *q;
	int local;

	cr_assert_eq(pg(), 4096, "the test assumes 4 KiB pages");
	/* Two regions back to back are still two regions. */
	r = W32_OK(VirtualAlloc(base, GRANULARITY, MEM_RESERVE | MEM_PHYSICAL, PAGE_READWRITE));
	q = W32_OK(
		VirtualAlloc(base + GRANULARITY, pg(), MEM_RESERVE | MEM_PHYSICAL, PAGE_READWRITE));
	cr_assert_eq(r, base);
	cr_assert_eq(q, base + GRANULARITY);
	map_ok(r, 1, a);
	MAP_FAILS(MapUserPhysicalPages(q - pg(), 2, a + 1), ERROR_INVALID_PARAMETER, r, P);
	MAP_FAILS(MapUserPhysicalPages(q - pg(), 2, NULL), ERROR_INVALID_PARAMETER, r, P);
	MAP_FAILS(MapUserPhysicalPages(r, P + 1, NULL), ERROR_INVALID_PARAMETER, r, P);
	MAP_FAILS(MapUserPhysicalPages(r - pg(), 2, NULL), ERROR_INVALID_PARAMETER, r, P);
	MAP_FAILS(MapUserPhysicalPages(q, 2, NULL), ERROR_INVALID_PARAMETER, r, P);
	MAP_FAILS(MapUserPhysicalPages(q + pg(), 1, a + 1), ERROR_INVALID_PARAMETER, r, P);
	MAP_FAILS(MapUserPhysicalPages(v, 1, a + 1), ERROR_INVALID_PARAMETER, r, P);
	MAP_FAILS(MapUserPhysicalPages(&local, 1, NULL), ERROR_INVALID_PARAMETER, r, P);
	MAP_FAILS(MapUserPhysicalPages(NULL, 1, NULL), ERROR_INVALID_PARAMETER, r, P);
	MAP_FAILS(MapUserPhysicalPages(NULL, 1, a + 1), ERROR_INVALID_PARAMETER, r, P);
	assert_mapped(r, a[0]);
	assert_parked(a[1]);
	assert_unmapped(q);
	cr_assert_eq(*(char *)v, 0, "ordinary memory untouched");
	free(a);
}

/* [Win10]: a process that never allocated can still unmap its regions. */
Test(map, unmap_without_frames)
{
	char *r = region_new(4);

	map_ok(r, 4, NULL);
	W32_FAIL(MapUserPhysicalPages(r, 1, &(ULONG_PTR){BOGUS_PFN}), ERROR_INVALID_ADDRESS);
	assert_unmapped(r);
}

Test(map, invalid_frames)
{
	PULONG_PTR a = pfns_new(4);
	char *r = region_new(4);
	ULONG_PTR freed, one = 1;

	map_ok(r, 2, a);
	freed = a[3];
	W32_OK(FreeUserPhysicalPages(GetCurrentProcess(), &one, &freed));
	const ULONG_PTR bad[] = {0, BOGUS_PFN, UINTPTR_MAX, freed, a[0] + 0x100000000ull};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		ULONG_PTR arr[3] = {a[2], bad[i], a[2]};

		arr[2] = PFN_SENTINEL; /* never reached */
		MAP_FAILS(MapUserPhysicalPages(r + 2 * pg(), 1, &arr[1]), ERROR_INVALID_ADDRESS, r,
			  4);
		MAP_FAILS(MapUserPhysicalPages(r + 2 * pg(), 2, arr), ERROR_INVALID_ADDRESS, r, 4);
		/* Over mapped pages too: nothing is replaced. */
		MAP_FAILS(MapUserPhysicalPages(r, 2, arr), ERROR_INVALID_ADDRESS, r, 4);
	}
	assert_parked(a[2]);
	free(a);
}

/* A frame mapped anywhere, even at the very page, or listed twice: 487. */
Test(map, frame_in_use)
{
	PULONG_PTR a = pfns_new(4);
	char *r = region_new(8), *s = region_new(2);

	map_ok(r, 2, a);
	fill_page(r, 1);
	MAP_FAILS(MapUserPhysicalPages(r, 1, a), ERROR_INVALID_ADDRESS, r, 8);
	MAP_FAILS(MapUserPhysicalPages(r + 4 * pg(), 1, a + 1), ERROR_INVALID_ADDRESS, r, 8);
	MAP_FAILS(MapUserPhysicalPages(s, 1, a), ERROR_INVALID_ADDRESS, r, 8);
	/* Swapping two mapped frames in one call is not possible either. */
	MAP_FAILS(MapUserPhysicalPages(r, 2, ((ULONG_PTR[]){a[1], a[0]})), ERROR_INVALID_ADDRESS, r,
		  8);
	MAP_FAILS(MapUserPhysicalPages(r + 4 * pg(), 2, ((ULONG_PTR[]){a[2], a[2]})),
		  ERROR_INVALID_ADDRESS, r, 8);
	MAP_FAILS(MapUserPhysicalPages(r + 4 * pg(), 3, ((ULONG_PTR[]){a[2], a[3], a[2]})),
		  ERROR_INVALID_ADDRESS, r, 8);
	assert_page(r, 1);
	assert_parked(a[2]);
	assert_parked(a[3]);
	assert_unmapped(s);
	free(a);
}

/* All-or-nothing: a bad entry at the end leaves every page as it was. */
Test(map, all_or_nothing)
{
	struct aon x;
	struct aon_case c[AON_CASES];
	ULONG_PTR arr[8];

	enable_lock_privilege();
	aon_setup(&x);
	aon_cases(&x, c);
	for (size_t k = 0; k < AON_CASES; k++) {
		for (size_t i = 0; i < 7; i++)
			arr[i] = x.g[i];
		arr[7] = c[k].bad; /* the last case repeats g[0] */
		W32_FAIL(MapUserPhysicalPages(x.w, 8, arr), ERROR_INVALID_ADDRESS);
		aon_assert_unchanged(&x);
	}
}

/* Mapping over a mapped page replaces it; the old frame is unmapped, not freed. */
Test(map, replace)
{
	PULONG_PTR a = pfns_new(3);
	char *r = region_new(2);

	map_ok(r, 2, a);
	fill_page(r, 10);
	fill_page(r + pg(), 11);
	map_ok(r, 1, a + 2);
	assert_mapped(r, a[2]);
	assert_page_zero(r);
	assert_parked(a[0]);
	assert_page(r + pg(), 11);
	map_ok(r + pg(), 1, a);
	assert_page(r + pg(), 10);
	assert_parked(a[1]);
	cr_assert_eq(get_stats().frames_allocated, 3);
	free(a);
}

/* New mappings are read-write whatever VirtualProtect said before. */
Test(map, new_mappings_are_read_write)
{
	PULONG_PTR a = pfns_new(2);
	char *r = region_new(2);
	DWORD old;

	map_ok(r, 2, a);
	W32_OK(VirtualProtect(r, 2 * pg(), PAGE_READONLY, &old));
	assert_write_faults(r);
	map_ok(r, 2, NULL);
	map_ok(r, 1, a + 1);
	assert_mapped(r, a[1]);
	assert_no_fault(probe_write(r, 1), r, "write");
	assert_awe_mbi(r, r, MEM_COMMIT, PAGE_READWRITE, 1);
	free(a);
}

/* Larger than the kernels' on-stack capture (512 entries). */
Test(map, many_pages)
{
	enum { N = 2048 };
	PULONG_PTR a = pfns_new(N);
	char *r = region_new(N);

	map_ok(r, N, a);
	for (size_t i = 0; i < N; i++)
		*(ULONG_PTR *)(r + i * pg()) = a[i];
	map_ok(r, N, NULL);
	/* Every other one, shifted by one page. */
	for (size_t i = 0; i + 1 < N; i += 2)
		map_ok(r + (i + 1) * pg(), 1, &a[i]);
	for (size_t i = 0; i + 1 < N; i += 2) {
		cr_assert_eq(*(ULONG_PTR *)(r + (i + 1) * pg()), a[i]);
		assert_unmapped(r + i * pg());
	}
	free(a);
}

/* Regions from every VirtualAlloc flavour take frames the same way. */
Test(map, regions_of_every_allocator)
{
	PULONG_PTR a = pfns_new(4);
	MEM_EXTENDED_PARAMETER numa = {.Type = MemExtendedParameterNumaNode};
	char *r[4];

	r[0] = W32_OK(VirtualAllocEx(GetCurrentProcess(), NULL, pg(), MEM_RESERVE | MEM_PHYSICAL,
				     PAGE_READWRITE));
	r[1] = W32_OK(VirtualAllocExNuma(GetCurrentProcess(), NULL, pg(),
					 MEM_RESERVE | MEM_PHYSICAL, PAGE_READWRITE, 0));
	r[2] = W32_OK(VirtualAlloc2(NULL, NULL, pg(), MEM_RESERVE | MEM_PHYSICAL, PAGE_READWRITE,
				    &numa, 1));
	r[3] = W32_OK(VirtualAlloc(NULL, pg(), MEM_RESERVE | MEM_PHYSICAL | MEM_TOP_DOWN,
				   PAGE_READWRITE));
	for (size_t i = 0; i < 4; i++) {
		map_ok(r[i], 1, &a[i]);
		fill_page(r[i], i);
	}
	for (size_t i = 0; i < 4; i++) {
		assert_mapped(r[i], a[i]);
		assert_page(r[i], i);
	}
	free(a);
}
