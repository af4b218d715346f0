/* SPDX-License-Identifier: MIT */
/* §9: MapUserPhysicalPagesScatter ([Win10] codes). */
#include "w32helpers.h"

static void scatter_ok(PVOID *va, size_t n, PULONG_PTR pfn)
{
	W32_OK(MapUserPhysicalPagesScatter(va, n, pfn));
}

Test(scatter, any_frame_at_any_page_of_any_region)
{
	PULONG_PTR a = pfns_new(4);
	char *r = region_new(8), *s = region_new(2);
	PVOID va[4] = {r + 7 * pg(), s + pg(), r, r + 3 * pg() + 99};

	scatter_ok(va, 4, a);
	assert_mapped(r + 7 * pg(), a[0]);
	assert_mapped(s + pg(), a[1]);
	assert_mapped(r, a[2]);
	assert_mapped(r + 3 * pg(), a[3]);
	assert_unmapped(r + pg());
	assert_unmapped(s);
	/* Stamp each page at its start (va[3] points into its page). */
	for (size_t i = 0; i < 4; i++)
		va[i] = (char *)va[i] - (uintptr_t)va[i] % pg();
	for (size_t i = 0; i < 4; i++)
		*(ULONG_PTR *)va[i] = a[i];
	/* NULL unmaps every listed page; the others stay. */
	scatter_ok(va, 2, NULL);
	assert_unmapped(r + 7 * pg());
	assert_unmapped(s + pg());
	assert_mapped(r, a[2]);
	assert_parked(a[0]);
	/* Back, swapped: data follows the frames. */
	scatter_ok(va, 2, ((ULONG_PTR[]){a[1], a[0]}));
	cr_assert_eq(*(ULONG_PTR *)va[0], a[1]);
	cr_assert_eq(*(ULONG_PTR *)va[1], a[0]);
	free(a);
}

Test(scatter, zero_entry_unmaps)
{
	PULONG_PTR a = pfns_new(4);
	char *r = region_new(4);

	map_ok(r, 3, a);
	scatter_ok((PVOID[]){r, r + pg(), r + 3 * pg()}, 3, ((ULONG_PTR[]){0, 0, a[3]}));
	assert_unmapped(r);
	assert_unmapped(r + pg());
	assert_mapped(r + 2 * pg(), a[2]);
	assert_mapped(r + 3 * pg(), a[3]);
	assert_parked(a[0]);
	assert_parked(a[1]);
	/* A frame the same call unmaps is still mapped while the call checks. */
	W32_FAIL(MapUserPhysicalPagesScatter((PVOID[]){r + 2 * pg(), r}, 2,
					     ((ULONG_PTR[]){0, a[2]})),
		 ERROR_INVALID_ADDRESS);
	assert_mapped(r + 2 * pg(), a[2]);
	assert_unmapped(r);
	free(a);
}

Test(scatter, count_zero)
{
	W32_OK(MapUserPhysicalPagesScatter(NULL, 0, NULL));
	W32_OK(MapUserPhysicalPagesScatter(NULL, 0, &(ULONG_PTR){BOGUS_PFN}));
	W32_OK(MapUserPhysicalPagesScatter((PVOID[]){NULL}, 0, NULL));
}

Test(scatter, count_too_large)
{
	char *r = region_new(1);

	MAP_FAILS(MapUserPhysicalPagesScatter(NULL, 0x10000000000000ull, NULL),
		  ERROR_INVALID_PARAMETER, r, 1);
	MAP_FAILS(MapUserPhysicalPagesScatter((PVOID[]){r}, UINTPTR_MAX, NULL),
		  ERROR_INVALID_PARAMETER, r, 1);
	/* At the limit the count passes and the array check comes next. */
	MAP_FAILS(MapUserPhysicalPagesScatter(NULL, 0xFFFFFFFFFFFFFull, NULL), ERROR_NOACCESS, r,
		  1);
}

Test(scatter, bad_arrays)
{
	PULONG_PTR a = pfns_new(1);
	char *r = region_new(2);
	PVOID va[3] = {r, r, r};
	ULONG_PTR pfn[3] = {a[0], a[0], a[0]};

	MAP_FAILS(MapUserPhysicalPagesScatter(NULL, 1, a), ERROR_NOACCESS, r, 2);
	MAP_FAILS(MapUserPhysicalPagesScatter(NULL, 1, NULL), ERROR_NOACCESS, r, 2);
	MAP_FAILS(MapUserPhysicalPagesScatter(misaligned(va), 1, a), ERROR_NOACCESS, r, 2);
	MAP_FAILS(MapUserPhysicalPagesScatter((PVOID *)((char *)va + 4), 1, NULL), ERROR_NOACCESS,
		  r, 2);
	MAP_FAILS(MapUserPhysicalPagesScatter(va, 1, misaligned(pfn)), ERROR_NOACCESS, r, 2);
	/* In order: the count, the address array, n == 0, the PFN array, the regions. */
	MAP_FAILS(MapUserPhysicalPagesScatter(NULL, 0x10000000000000ull, misaligned(pfn)),
		  ERROR_INVALID_PARAMETER, r, 2);
	MAP_FAILS(MapUserPhysicalPagesScatter(NULL, 1, misaligned(pfn)), ERROR_NOACCESS, r, 2);
	W32_OK(MapUserPhysicalPagesScatter(va, 0, misaligned(pfn)));
	MAP_FAILS(MapUserPhysicalPagesScatter((PVOID[]){NULL}, 1, misaligned(pfn)), ERROR_NOACCESS,
		  r, 2);
	assert_parked(a[0]);
	free(a);
}

/* Every address in some AWE region; a NULL address is no exception. */
Test(scatter, address_outside_regions)
{
	PULONG_PTR a = pfns_new(2);
	char *r = region_new(2);
	char *v = W32_OK(VirtualAlloc(NULL, pg(), MEM_RESERVE | MEM_COMMIT, PAGE_READWRITE));
	int local;

	MAP_FAILS(MapUserPhysicalPagesScatter((PVOID[]){r, NULL}, 2, a), ERROR_INVALID_PARAMETER, r,
		  2);
	MAP_FAILS(MapUserPhysicalPagesScatter((PVOID[]){NULL}, 1, NULL), ERROR_INVALID_PARAMETER, r,
		  2);
	MAP_FAILS(MapUserPhysicalPagesScatter((PVOID[]){r, v}, 2, a), ERROR_INVALID_PARAMETER, r,
		  2);
	MAP_FAILS(MapUserPhysicalPagesScatter((PVOID[]){&local}, 1, NULL), ERROR_INVALID_PARAMETER,
		  r, 2);
	MAP_FAILS(MapUserPhysicalPagesScatter((PVOID[]){r + 2 * pg()}, 1, a),
		  ERROR_INVALID_PARAMETER, r, 2);
	MAP_FAILS(MapUserPhysicalPagesScatter((PVOID[]){r, r - 1}, 2, ((ULONG_PTR[]){0, 0})),
		  ERROR_INVALID_PARAMETER, r, 2);
	assert_parked(a[0]);
	assert_parked(a[1]);
	free(a);
}

/* The same address twice: the later entry wins, the earlier frame ends unmapped. */
Test(scatter, later_duplicate_address_wins)
{
	PULONG_PTR a = pfns_new(3);
	char *r = region_new(2);

	scatter_ok((PVOID[]){r, r + 5}, 2, a);
	assert_mapped(r, a[1]);
	assert_parked(a[0]);
	scatter_ok((PVOID[]){r + pg(), r + pg()}, 2, ((ULONG_PTR[]){a[2], 0}));
	assert_unmapped(r + pg());
	assert_parked(a[2]);
	scatter_ok((PVOID[]){r, r}, 2, ((ULONG_PTR[]){0, a[2]}));
	assert_mapped(r, a[2]);
	assert_parked(a[1]);
	free(a);
}

Test(scatter, frame_errors)
{
	PULONG_PTR a = pfns_new(4);
	char *r = region_new(8);
	ULONG_PTR freed = a[3], one = 1;

	W32_OK(FreeUserPhysicalPages(GetCurrentProcess(), &one, &freed));
	scatter_ok((PVOID[]){r}, 1, a);
	const ULONG_PTR bad[] = {BOGUS_PFN, UINTPTR_MAX, freed};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		MAP_FAILS(MapUserPhysicalPagesScatter((PVOID[]){r + pg(), r + 2 * pg()}, 2,
						      ((ULONG_PTR[]){a[1], bad[i]})),
			  ERROR_INVALID_ADDRESS, r, 8);
	/* Mapped elsewhere, or at the very page. */
	MAP_FAILS(MapUserPhysicalPagesScatter((PVOID[]){r + pg()}, 1, a), ERROR_INVALID_ADDRESS, r,
		  8);
	MAP_FAILS(MapUserPhysicalPagesScatter((PVOID[]){r}, 1, a), ERROR_INVALID_ADDRESS, r, 8);
	/* One frame for two pages. */
	MAP_FAILS(MapUserPhysicalPagesScatter((PVOID[]){r + pg(), r + 2 * pg()}, 2,
					      ((ULONG_PTR[]){a[1], a[1]})),
		  ERROR_INVALID_ADDRESS, r, 8);
	/* Even when the first of them is overridden by a later entry. */
	MAP_FAILS(MapUserPhysicalPagesScatter((PVOID[]){r + pg(), r + 2 * pg(), r + pg()}, 3,
					      ((ULONG_PTR[]){a[1], a[1], a[2]})),
		  ERROR_INVALID_ADDRESS, r, 8);
	/* Swapping two mapped frames needs an unmap first. */
	scatter_ok((PVOID[]){r + pg()}, 1, a + 1);
	MAP_FAILS(MapUserPhysicalPagesScatter((PVOID[]){r, r + pg()}, 2,
					      ((ULONG_PTR[]){a[1], a[0]})),
		  ERROR_INVALID_ADDRESS, r, 8);
	free(a);
}

Test(scatter, all_or_nothing)
{
	struct aon x;
	struct aon_case c[AON_CASES];
	PVOID va[8];
	ULONG_PTR arr[8];

	aon_setup(&x);
	aon_cases(&x, c);
	for (size_t i = 0; i < 8; i++)
		va[i] = slot(x.w, 7 - i);
	for (size_t k = 0; k < AON_CASES; k++) {
		if (c[k].bad == 0)
			continue; /* 0 unmaps here */
		for (size_t i = 0; i < 7; i++)
			arr[i] = x.g[i];
		arr[7] = c[k].bad;
		W32_FAIL(MapUserPhysicalPagesScatter(va, 8, arr), ERROR_INVALID_ADDRESS);
		aon_assert_unchanged(&x);
	}
	/* A bad address at the end. */
	for (size_t i = 0; i < 8; i++)
		arr[i] = x.g[i];
	va[7] = NULL;
	W32_FAIL(MapUserPhysicalPagesScatter(va, 8, arr), ERROR_INVALID_PARAMETER);
	aon_assert_unchanged(&x);
}

Test(scatter, many_pages)
{
	enum { N = 1500 };
	PULONG_PTR a = pfns_new(N);
	char *r = region_new(N);
	PVOID *va = calloc(N, sizeof(*va));
	size_t perm[N];

	cr_assert_not_null(va);
	shuffle(perm, N, 42);
	for (size_t i = 0; i < N; i++)
		va[i] = r + perm[i] * pg();
	scatter_ok(va, N, a);
	for (size_t i = 0; i < N; i++) {
		assert_slot(va[i], a[i], AWE_PROT_READWRITE);
		*(ULONG_PTR *)va[i] = a[i];
	}
	scatter_ok(va, N, NULL);
	for (size_t i = 0; i < N; i++)
		assert_parked(a[i]);
	map_ok(r, N, a);
	for (size_t i = 0; i < N; i++)
		cr_assert_eq(*(ULONG_PTR *)(r + i * pg()), a[i]);
	free(va);
	free(a);
}
