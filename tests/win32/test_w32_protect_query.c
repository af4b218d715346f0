/* SPDX-License-Identifier: MIT */
/* §10.2: VirtualProtect on AWE regions and ordinary memory; VirtualQuery of both. */
#include "w32helpers.h"

/* A 4-page region: pages 0 and 1 mapped (stamped), 2 and 3 empty. */
struct prot_fixture {
	char *r;
	ULONG_PTR a[2];
};

static struct prot_fixture fixture(void)
{
	struct prot_fixture f = {.r = region_new(4)};
	PULONG_PTR a = pfns_new(2);

	memcpy(f.a, a, sizeof(f.a));
	free(a);
	map_ok(f.r, 2, f.a);
	*(ULONG_PTR *)f.r = f.a[0];
	*(ULONG_PTR *)(f.r + pg()) = f.a[1];
	return f;
}

Test(protect, only_mapped_pages_change)
{
	struct prot_fixture f = fixture();
	DWORD old = 0xdead;

	W32_OK(VirtualProtect(f.r, 4 * pg(), PAGE_READONLY, &old));
	cr_assert_eq(old, PAGE_READWRITE);
	assert_slot(f.r, f.a[0], AWE_PROT_READ);
	assert_slot(f.r + pg(), f.a[1], AWE_PROT_READ);
	assert_awe_mbi(f.r, f.r, MEM_COMMIT, PAGE_READONLY, 2);
	assert_awe_mbi(f.r + 2 * pg(), f.r, MEM_RESERVE, 0, 2);
	assert_write_faults(f.r + pg());
	assert_no_fault(probe_read(f.r + pg()), f.r + pg(), "read");
	cr_assert_eq(*(ULONG_PTR *)(f.r + pg()), f.a[1]);
	assert_unmapped(f.r + 2 * pg());

	/* A page mapped later is read-write, whatever the range had. */
	PULONG_PTR b = pfns_new(1);
	map_ok(f.r + 2 * pg(), 1, b);
	assert_mapped(f.r + 2 * pg(), b[0]);
	assert_no_fault(probe_write(f.r + 2 * pg(), 1), f.r + 2 * pg(), "write");
	free(b);
}

Test(protect, old_protection_is_the_first_pages)
{
	struct prot_fixture f = fixture();
	DWORD old = 0xdead;

	W32_OK(VirtualProtect(f.r + 2 * pg(), 2 * pg(), PAGE_READONLY, &old));
	cr_assert_eq(old, PAGE_NOACCESS, "an empty first page reads as PAGE_NOACCESS");
	W32_OK(VirtualProtect(f.r + pg(), pg(), PAGE_NOACCESS, &old));
	cr_assert_eq(old, PAGE_READWRITE);
	W32_OK(VirtualProtect(f.r + pg(), 3 * pg(), PAGE_READONLY, &old));
	cr_assert_eq(old, PAGE_NOACCESS);
	W32_OK(VirtualProtect(f.r + pg(), pg(), PAGE_READWRITE, &old));
	cr_assert_eq(old, PAGE_READONLY);
	assert_awe_mbi(f.r, f.r, MEM_COMMIT, PAGE_READWRITE, 2);
}

Test(protect, noaccess_keeps_the_frame_mapped)
{
	struct prot_fixture f = fixture();
	DWORD old;

	W32_OK(VirtualProtect(f.r, pg(), PAGE_NOACCESS, &old));
	assert_slot(f.r, f.a[0], AWE_PROT_NONE);
	assert_awe_mbi(f.r, f.r, MEM_COMMIT, PAGE_NOACCESS, 1);
	assert_read_faults(f.r);
	assert_write_faults(f.r + 17);
	/* Still mapped: it cannot be mapped elsewhere. */
	W32_FAIL(MapUserPhysicalPages(f.r + 3 * pg(), 1, f.a), ERROR_INVALID_ADDRESS);
	W32_OK(VirtualProtect(f.r, pg(), PAGE_READWRITE, &old));
	cr_assert_eq(*(ULONG_PTR *)f.r, f.a[0]);
}

/* Unmapping and mapping again makes a page read-write. */
Test(protect, remap_is_read_write)
{
	struct prot_fixture f = fixture();
	DWORD old;

	W32_OK(VirtualProtect(f.r, 2 * pg(), PAGE_READONLY, &old));
	map_ok(f.r, 2, NULL);
	map_ok(f.r + 2 * pg(), 2, f.a);
	assert_awe_mbi(f.r + 2 * pg(), f.r, MEM_COMMIT, PAGE_READWRITE, 2);
	assert_no_fault(probe_write(f.r + 3 * pg(), 1), f.r + 3 * pg(), "write");
	/* Over a read-only page too. */
	W32_OK(VirtualProtect(f.r + 2 * pg(), pg(), PAGE_READONLY, &old));
	PULONG_PTR b = pfns_new(1);
	map_ok(f.r + 2 * pg(), 1, b);
	assert_mapped(f.r + 2 * pg(), b[0]);
	assert_no_fault(probe_write(f.r + 2 * pg(), 1), f.r + 2 * pg(), "write");
	free(b);
}

Test(protect, rejected_protections)
{
	struct prot_fixture f = fixture();
	static const DWORD bad[] = {PAGE_WRITECOPY,
				    PAGE_EXECUTE,
				    PAGE_EXECUTE_READ,
				    PAGE_EXECUTE_READWRITE,
				    PAGE_EXECUTE_WRITECOPY,
				    PAGE_READWRITE | PAGE_GUARD,
				    PAGE_READWRITE | PAGE_NOCACHE,
				    PAGE_READONLY | PAGE_WRITECOMBINE};
	DWORD old = 0xdead;

	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		W32_FAIL(VirtualProtect(f.r, pg(), bad[i], &old), ERROR_INVALID_ADDRESS);
	cr_assert_eq(old, 0xdead);
	assert_mapped(f.r, f.a[0]);
	assert_no_fault(probe_write(f.r + 8, 1), f.r + 8, "write");
}

Test(protect, range_rules)
{
	struct prot_fixture f = fixture();
	char *s = region_new(1);
	DWORD old = 0xdead;

	W32_FAIL(VirtualProtect(f.r, pg(), PAGE_READONLY, NULL), ERROR_NOACCESS);
	/* Empty after rounding. */
	W32_FAIL(VirtualProtect(f.r, 0, PAGE_READONLY, &old), ERROR_INVALID_PARAMETER);
	W32_FAIL(VirtualProtect(f.r + pg(), 0, PAGE_READONLY, &old), ERROR_INVALID_PARAMETER);
	/* Not inside one region. */
	W32_FAIL(VirtualProtect(f.r + 3 * pg(), 2 * pg(), PAGE_READONLY, &old),
		 ERROR_INVALID_ADDRESS);
	W32_FAIL(VirtualProtect(f.r - pg(), 2 * pg(), PAGE_READONLY, &old), ERROR_INVALID_ADDRESS);
	W32_FAIL(VirtualProtect(free_range(1), pg(), PAGE_READONLY, &old), ERROR_INVALID_ADDRESS);
	cr_assert_eq(old, 0xdead);
	assert_slot(f.r, f.a[0], AWE_PROT_READWRITE);
	/* An unaligned range covers every page it touches: 1 byte -> 1 page, a
	 * size of 0 at an unaligned address -> its page. */
	W32_OK(VirtualProtect(f.r + pg() - 1, 2, PAGE_READONLY, &old));
	assert_slot(f.r, f.a[0], AWE_PROT_READ);
	assert_slot(f.r + pg(), f.a[1], AWE_PROT_READ);
	W32_OK(VirtualProtect(f.r + 5, 0, PAGE_NOACCESS, &old));
	cr_assert_eq(old, PAGE_READONLY);
	assert_slot(f.r, f.a[0], AWE_PROT_NONE);
	assert_slot(f.r + pg(), f.a[1], AWE_PROT_READ);
	W32_OK(VirtualProtect(s, pg(), PAGE_READONLY, &old));
	cr_assert_eq(old, PAGE_NOACCESS);
}

Test(protect, virtual_protect_ex)
{
	struct prot_fixture f = fixture();
	HANDLE h = open_self(PROCESS_VM_OPERATION);
	DWORD old;

	W32_OK(VirtualProtectEx(GetCurrentProcess(), f.r, pg(), PAGE_READONLY, &old));
	cr_assert_eq(old, PAGE_READWRITE);
	W32_OK(VirtualProtectEx(h, f.r, pg(), PAGE_NOACCESS, &old));
	cr_assert_eq(old, PAGE_READONLY);
	W32_FAIL(VirtualProtectEx(h, f.r, pg(), PAGE_READONLY, NULL), ERROR_NOACCESS);
	W32_OK(CloseHandle(h));
}

/* Ordinary memory: committed pages of one region. */
Test(protect, ordinary_memory)
{
	char *p = W32_OK(VirtualAlloc(NULL, 4 * pg(), MEM_RESERVE, PAGE_READWRITE));
	char *q = W32_OK(VirtualAlloc(NULL, pg(), MEM_RESERVE | MEM_COMMIT, PAGE_READWRITE));
	DWORD old = 0xdead;

	W32_OK(VirtualAlloc(p, 2 * pg(), MEM_COMMIT, PAGE_READWRITE));
	W32_FAIL(VirtualProtect(p + 2 * pg(), pg(), PAGE_READONLY, &old), ERROR_INVALID_ADDRESS);
	W32_FAIL(VirtualProtect(p + pg(), 2 * pg(), PAGE_READONLY, &old), ERROR_INVALID_ADDRESS);
	cr_assert_eq(old, 0xdead);
	W32_OK(VirtualProtect(p, 2 * pg(), PAGE_EXECUTE_READ, &old));
	cr_assert_eq(old, PAGE_READWRITE);
	W32_OK(VirtualProtect(p, pg(), PAGE_NOACCESS, &old));
	cr_assert_eq(old, PAGE_EXECUTE_READ);
	cr_assert_neq(probe_read(p).sig, 0);
	W32_OK(VirtualProtect(q, pg(), PAGE_READONLY, &old));
	cr_assert_eq(old, PAGE_READWRITE);
	cr_assert_neq(probe_write(q, 1).sig, 0);
}

/* ---- VirtualQuery ----------------------------------------------------------------- */

/* RegionSize: the run of following pages of the region with the same State and Protect. */
Test(query, awe_region_runs)
{
	PULONG_PTR a = pfns_new(5);
	char *r = region_new(10);
	DWORD old;

	assert_awe_mbi(r, r, MEM_RESERVE, 0, 10);
	assert_awe_mbi(r + 9 * pg() + 100, r, MEM_RESERVE, 0, 1);
	/* Pages: RW RW RO -- NA RW -- -- -- -- */
	map_ok(r, 3, a);
	map_ok(r + 4 * pg(), 2, a + 3);
	W32_OK(VirtualProtect(r + 2 * pg(), pg(), PAGE_READONLY, &old));
	W32_OK(VirtualProtect(r + 4 * pg(), pg(), PAGE_NOACCESS, &old));
	assert_awe_mbi(r, r, MEM_COMMIT, PAGE_READWRITE, 2);
	assert_awe_mbi(r + pg() + 7, r, MEM_COMMIT, PAGE_READWRITE, 1);
	assert_awe_mbi(r + 2 * pg(), r, MEM_COMMIT, PAGE_READONLY, 1);
	assert_awe_mbi(r + 3 * pg(), r, MEM_RESERVE, 0, 1);
	assert_awe_mbi(r + 4 * pg(), r, MEM_COMMIT, PAGE_NOACCESS, 1);
	assert_awe_mbi(r + 5 * pg(), r, MEM_COMMIT, PAGE_READWRITE, 1);
	assert_awe_mbi(r + 6 * pg(), r, MEM_RESERVE, 0, 4);
	free(a);
}

/* Two regions back to back: a run ends at its region's end. */
Test(query, run_stops_at_region_end)
{
	char *base = free_aligned(2 * GRANULARITY), *r, *q;

	r = W32_OK(VirtualAlloc(base, GRANULARITY, MEM_RESERVE | MEM_PHYSICAL, PAGE_READWRITE));
	q = W32_OK(VirtualAlloc(base + GRANULARITY, GRANULARITY, MEM_RESERVE | MEM_PHYSICAL,
				PAGE_READWRITE));
	assert_awe_mbi(r, r, MEM_RESERVE, 0, GRANULARITY / pg());
	assert_awe_mbi(q - pg(), r, MEM_RESERVE, 0, 1);
	assert_awe_mbi(q, q, MEM_RESERVE, 0, GRANULARITY / pg());
}

Test(query, argument_checks)
{
	char *r = region_new(1);
	MEMORY_BASIC_INFORMATION m[2];

	memset(m, 0x5a, sizeof(m));
	W32_FAIL(VirtualQuery(r, m, sizeof(m[0]) - 1), ERROR_BAD_LENGTH);
	W32_FAIL(VirtualQuery(r, m, 0), ERROR_BAD_LENGTH);
	W32_FAIL(VirtualQuery(r, NULL, 0), ERROR_BAD_LENGTH);
	cr_assert_eq(m[0].State, 0x5a5a5a5a, "buffer written on failure");
	W32_FAIL(VirtualQuery(r, NULL, sizeof(m[0])), ERROR_NOACCESS);
	W32_FAIL(VirtualQuery(BEYOND_USER, m, sizeof(m[0])), ERROR_INVALID_PARAMETER);
	W32_FAIL(VirtualQuery((void *)(USER_MAX + 1), m, sizeof(m[0])), ERROR_INVALID_PARAMETER);
	W32_FAIL(VirtualQuery((void *)UINTPTR_MAX, m, sizeof(m[0])), ERROR_INVALID_PARAMETER);
	/* A larger buffer is fine; exactly one structure is written. */
	cr_assert_eq(W32_OK(VirtualQuery(r, m, sizeof(m))), sizeof(m[0]));
	cr_assert_eq(m[0].BaseAddress, r);
	cr_assert_eq(m[1].State, 0x5a5a5a5a, "wrote past one structure");
}

Test(query, ordinary_and_free_memory)
{
	char *p = W32_OK(VirtualAlloc(NULL, 4 * pg(), MEM_RESERVE, PAGE_READONLY));
	char *f = free_range(2);
	MEMORY_BASIC_INFORMATION m;

	m = mbi_of(p);
	cr_assert_eq(m.AllocationBase, p);
	cr_assert_eq(m.State, MEM_RESERVE);
	cr_assert_eq(m.Type, MEM_PRIVATE);
	cr_assert_eq(m.AllocationProtect, PAGE_READONLY);
	m = mbi_of(f);
	cr_assert_eq(m.State, MEM_FREE);
	cr_assert_eq(m.BaseAddress, f);
	/* An AWE region is distinguished from the ordinary memory around it. */
	char *r = region_new(2);
	cr_assert_eq(mbi_of(r).AllocationBase, r);
	cr_assert_eq(mbi_of(r).State, MEM_RESERVE);
}

Test(query, virtual_query_ex)
{
	char *r = region_new(2);
	HANDLE h = open_self(PROCESS_ALL_ACCESS);
	MEMORY_BASIC_INFORMATION m;

	cr_assert_eq(W32_OK(VirtualQueryEx(GetCurrentProcess(), r, &m, sizeof(m))), sizeof(m));
	cr_assert_eq(m.AllocationBase, r);
	cr_assert_eq(W32_OK(VirtualQueryEx(h, r + pg(), &m, sizeof(m))), sizeof(m));
	cr_assert_eq(m.BaseAddress, r + pg());
	cr_assert_eq(m.RegionSize, pg());
	W32_FAIL(VirtualQueryEx(h, r, &m, 1), ERROR_BAD_LENGTH);
	W32_OK(CloseHandle(h));
}
