/* SPDX-License-Identifier: MIT */
/*
 * §6: the VirtualAlloc family. The flag checks in their order, MEM_PHYSICAL
 * regions (placement, rounding, conflicts, limits), VirtualAllocEx /
 * ExNuma / VirtualAlloc2, and ordinary memory round trips.
 */
#include "w32helpers.h"

#define PHYS (MEM_RESERVE | MEM_PHYSICAL)

/* ---- Checks 1 to 7, all ERROR_INVALID_PARAMETER ----------------------------------------- */

Test(virtualalloc, check1_unknown_type_bits)
{
	static const DWORD bad[] = {0x1,	 0x800,	      MEM_DECOMMIT, MEM_RELEASE,
				    MEM_FREE,	 MEM_PRIVATE, MEM_MAPPED,   0x80000000u,
				    0x40000000u, 0x00800000u};

	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		REGION_FAILS(VirtualAlloc(NULL, pg(), MEM_RESERVE | bad[i], PAGE_READWRITE),
			     ERROR_INVALID_PARAMETER);
		REGION_FAILS(VirtualAlloc(NULL, pg(), PHYS | bad[i], PAGE_READWRITE),
			     ERROR_INVALID_PARAMETER);
		/* Before the handle, the size and the protection. */
		REGION_FAILS(VirtualAllocEx(NULL, NULL, 0, PHYS | bad[i], PAGE_EXECUTE),
			     ERROR_INVALID_PARAMETER);
	}
}

Test(virtualalloc, check2_no_commit_reserve_or_reset)
{
	static const DWORD bad[] = {0,
				    MEM_TOP_DOWN,
				    MEM_PHYSICAL,
				    MEM_PHYSICAL | MEM_TOP_DOWN,
				    MEM_LARGE_PAGES,
				    MEM_WRITE_WATCH};

	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		REGION_FAILS(VirtualAlloc(NULL, pg(), bad[i], PAGE_READWRITE),
			     ERROR_INVALID_PARAMETER);
		REGION_FAILS(VirtualAllocEx(NULL, NULL, pg(), bad[i], PAGE_READWRITE),
			     ERROR_INVALID_PARAMETER);
	}
}

/* Write watching is unsupported (50) on its own, but with MEM_PHYSICAL the
 * parameter checks come first. Large pages with MEM_PHYSICAL make a
 * large-page region on Windows 10 (test_w32_large.c), not on Server 2003
 * (check 3), but only reserved and read-write. */
Test(virtualalloc, check3_check4_physical_with_large_pages_or_write_watch)
{
	REGION_FAILS(VirtualAlloc(NULL, 2 * MiB, MEM_PHYSICAL | MEM_LARGE_PAGES, PAGE_READWRITE),
		     ERROR_INVALID_PARAMETER);
	REGION_FAILS(VirtualAlloc(NULL, 2 * MiB, MEM_COMMIT | MEM_PHYSICAL | MEM_LARGE_PAGES,
				  PAGE_READWRITE),
		     ERROR_INVALID_PARAMETER);
	REGION_FAILS(VirtualAlloc(NULL, 2 * MiB, PHYS | MEM_LARGE_PAGES, PAGE_READONLY),
		     ERROR_INVALID_PARAMETER);
	REGION_FAILS(VirtualAlloc(NULL, pg(), PHYS | MEM_WRITE_WATCH, PAGE_READWRITE),
		     ERROR_INVALID_PARAMETER);
	REGION_FAILS(VirtualAlloc(NULL, pg(), PHYS | MEM_WRITE_WATCH | MEM_LARGE_PAGES,
				  PAGE_READWRITE),
		     ERROR_INVALID_PARAMETER);
}

Test(virtualalloc, check5_physical_without_reserve)
{
	REGION_FAILS(VirtualAlloc(NULL, pg(), MEM_PHYSICAL | MEM_COMMIT, PAGE_READWRITE),
		     ERROR_INVALID_PARAMETER);
	REGION_FAILS(VirtualAlloc(NULL, pg(), MEM_PHYSICAL | MEM_RESET, PAGE_READWRITE),
		     ERROR_INVALID_PARAMETER);
	REGION_FAILS(VirtualAlloc(NULL, pg(), MEM_PHYSICAL | MEM_COMMIT | MEM_TOP_DOWN,
				  PAGE_READWRITE),
		     ERROR_INVALID_PARAMETER);
}

Test(virtualalloc, check6_physical_with_other_bits)
{
	REGION_FAILS(VirtualAlloc(NULL, pg(), PHYS | MEM_COMMIT, PAGE_READWRITE),
		     ERROR_INVALID_PARAMETER);
	REGION_FAILS(VirtualAlloc(NULL, pg(), PHYS | MEM_RESET, PAGE_READWRITE),
		     ERROR_INVALID_PARAMETER);
	REGION_FAILS(VirtualAlloc(NULL, pg(), PHYS | MEM_RESET_UNDO, PAGE_READWRITE),
		     ERROR_INVALID_PARAMETER);
	/* MEM_TOP_DOWN is the one extra bit allowed. */
	W32_OK(VirtualAlloc(NULL, pg(), PHYS | MEM_TOP_DOWN, PAGE_READWRITE));
}

Test(virtualalloc, check7_physical_needs_exactly_readwrite)
{
	static const DWORD bad[] = {0,
				    PAGE_NOACCESS,
				    PAGE_READONLY,
				    PAGE_WRITECOPY,
				    PAGE_EXECUTE,
				    PAGE_EXECUTE_READ,
				    PAGE_EXECUTE_READWRITE,
				    PAGE_READWRITE | PAGE_NOCACHE,
				    PAGE_READWRITE | PAGE_GUARD,
				    PAGE_READWRITE | PAGE_WRITECOMBINE,
				    PAGE_READWRITE | PAGE_READONLY};

	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		REGION_FAILS(VirtualAlloc(NULL, pg(), PHYS, bad[i]), ERROR_INVALID_PARAMETER);
		/* The protection is checked before the handle and the size. */
		REGION_FAILS(VirtualAllocEx((HANDLE)(uintptr_t)0x1234, NULL, 0, PHYS, bad[i]),
			     ERROR_INVALID_PARAMETER);
	}
}

/* ---- MEM_PHYSICAL regions -------------------------------------------------------------- */

Test(virtualalloc, size_zero)
{
	REGION_FAILS(VirtualAlloc(NULL, 0, PHYS, PAGE_READWRITE), ERROR_INVALID_PARAMETER);
	REGION_FAILS(VirtualAlloc(free_aligned(GRANULARITY), 0, PHYS, PAGE_READWRITE),
		     ERROR_INVALID_PARAMETER);
}

/* No privilege is needed to reserve (it is disabled in a fresh process). */
Test(virtualalloc, physical_region_without_privilege)
{
	ULONG_PTR n = 1, a[1];
	char *r = region_new(4);

	W32_FAIL(AllocateUserPhysicalPages(GetCurrentProcess(), &n, a), ERROR_PRIVILEGE_NOT_HELD);
	assert_awe_mbi(r, r, MEM_RESERVE, 0, 4);
	for (size_t i = 0; i < 4; i++)
		assert_unmapped(r + i * pg());
}

Test(virtualalloc, physical_region_placement_and_rounding)
{
	struct awe_page_info pi;
	char *r;

	r = W32_OK(VirtualAlloc(NULL, 1, PHYS, PAGE_READWRITE));
	cr_assert_eq((uintptr_t)r % GRANULARITY, 0);
	pi = query(r);
	cr_assert_eq(pi.window, r);
	cr_assert_eq(pi.window_size, pg(), "1 byte reserves one page");
	assert_awe_mbi(r, r, MEM_RESERVE, 0, 1);

	r = W32_OK(VirtualAlloc(NULL, pg() + 1, PHYS, PAGE_READWRITE));
	cr_assert_eq((uintptr_t)r % GRANULARITY, 0);
	cr_assert_eq(query(r).window_size, 2 * pg());
	assert_awe_mbi(r + pg() + 5, r, MEM_RESERVE, 0, 1);

	r = W32_OK(VirtualAlloc(NULL, 3 * MiB, PHYS | MEM_TOP_DOWN, PAGE_READWRITE));
	cr_assert_eq((uintptr_t)r % GRANULARITY, 0);
	cr_assert_eq(query(r).window_size, 3 * MiB);
	assert_awe_mbi(r, r, MEM_RESERVE, 0, 3 * MiB / pg());
}

/*
 * A given base is rounded down to 64 KiB; the region ends at the page that
 * holds the last byte asked for.
 */
Test(virtualalloc, physical_region_at_an_address)
{
	char *a = free_aligned(4 * GRANULARITY), *r;
	struct awe_page_info pi;

	r = W32_OK(VirtualAlloc(a + 0x1234, 0x3000, PHYS, PAGE_READWRITE));
	cr_assert_eq(r, a, "base %p, expected %p", (void *)r, (void *)a);
	pi = query(a);
	cr_assert_eq(pi.window, a);
	cr_assert_eq(pi.window_size, (0x1234 + 0x3000 + pg() - 1) & ~(pg() - 1));
	assert_awe_mbi(a + 0x1234, a, MEM_RESERVE, 0, pi.window_size / pg() - 1);
	W32_OK(VirtualFree(r, 0, MEM_RELEASE));

	/* A page-aligned base inside a granule: still rounded down. */
	r = W32_OK(VirtualAlloc(a + GRANULARITY + 3 * pg(), pg(), PHYS, PAGE_READWRITE));
	cr_assert_eq(r, a + GRANULARITY);
	cr_assert_eq(query(r).window_size, 4 * pg());
}

Test(virtualalloc, physical_region_beyond_user_space)
{
	REGION_FAILS(VirtualAlloc(BEYOND_USER, pg(), PHYS, PAGE_READWRITE),
		     ERROR_INVALID_PARAMETER);
	REGION_FAILS(VirtualAlloc((void *)(USER_MAX + 1), pg(), PHYS, PAGE_READWRITE),
		     ERROR_INVALID_PARAMETER);
	REGION_FAILS(VirtualAlloc((void *)(USER_MAX + 1 - GRANULARITY), 2 * GRANULARITY, PHYS,
				  PAGE_READWRITE),
		     ERROR_INVALID_PARAMETER);
	REGION_FAILS(VirtualAlloc((void *)(uintptr_t)0xFFFFFFFFFFFF0000ull, pg(), PHYS,
				  PAGE_READWRITE),
		     ERROR_INVALID_PARAMETER);
	REGION_FAILS(VirtualAlloc(NULL, SIZE_MAX, PHYS, PAGE_READWRITE), ERROR_INVALID_PARAMETER);
	REGION_FAILS(VirtualAlloc(NULL, SIZE_MAX - 2 * GRANULARITY, PHYS, PAGE_READWRITE),
		     ERROR_INVALID_PARAMETER);
	REGION_FAILS(VirtualAlloc(free_aligned(GRANULARITY), (size_t)1 << 62, PHYS, PAGE_READWRITE),
		     ERROR_INVALID_PARAMETER);
}

/* Inside user space but larger than any free range. */
Test(virtualalloc, physical_region_out_of_address_space)
{
	REGION_FAILS(VirtualAlloc(NULL, (size_t)0x7FFF00000000ull, PHYS, PAGE_READWRITE),
		     ERROR_NOT_ENOUGH_MEMORY);
}

Test(virtualalloc, physical_region_conflicts)
{
	char *r = region_new(16), *m;
	void *v;

	/* Another AWE region, at its base, inside it, or overlapping its end. */
	REGION_FAILS(VirtualAlloc(r, pg(), PHYS, PAGE_READWRITE), ERROR_INVALID_ADDRESS);
	REGION_FAILS(VirtualAlloc(r + 5 * pg(), pg(), PHYS, PAGE_READWRITE), ERROR_INVALID_ADDRESS);
	REGION_FAILS(VirtualAlloc(r + GRANULARITY - pg(), 2 * GRANULARITY, PHYS, PAGE_READWRITE),
		     ERROR_INVALID_ADDRESS);
	/* Memory mapped by anyone else. */
	m = mmap(free_aligned(GRANULARITY) + 2 * pg(), pg(), PROT_READ,
		 MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED_NOREPLACE, -1, 0);
	cr_assert_neq(m, MAP_FAILED);
	REGION_FAILS(VirtualAlloc(m - 2 * pg(), GRANULARITY, PHYS, PAGE_READWRITE),
		     ERROR_INVALID_ADDRESS);
	cr_assert_eq(*(volatile char *)m, 0, "the mapping is still there");
	/* Ordinary memory of VirtualAlloc's. */
	v = W32_OK(VirtualAlloc(NULL, GRANULARITY, MEM_RESERVE, PAGE_READWRITE));
	REGION_FAILS(VirtualAlloc(v, pg(), PHYS, PAGE_READWRITE), ERROR_INVALID_ADDRESS);
	/* The first region is intact. */
	assert_awe_mbi(r, r, MEM_RESERVE, 0, 16);
	cr_assert_eq(query(r).window_size, 16 * pg());
}

/* Frames get into a region only through MapUserPhysicalPages. */
Test(virtualalloc, commit_inside_awe_region)
{
	char *r = region_new(8);

	W32_FAIL(VirtualAlloc(r, pg(), MEM_COMMIT, PAGE_READWRITE), ERROR_INVALID_ADDRESS);
	W32_FAIL(VirtualAlloc(r + 3 * pg(), 2 * pg(), MEM_COMMIT, PAGE_READWRITE),
		 ERROR_INVALID_ADDRESS);
	W32_FAIL(VirtualAlloc(r, pg(), MEM_RESERVE | MEM_COMMIT, PAGE_READWRITE),
		 ERROR_INVALID_ADDRESS);
	W32_FAIL(VirtualAlloc(r, pg(), MEM_RESERVE, PAGE_READWRITE), ERROR_INVALID_ADDRESS);
	for (size_t i = 0; i < 8; i++)
		assert_unmapped(r + i * pg());
	assert_awe_mbi(r, r, MEM_RESERVE, 0, 8);
}

/*
 * Locked mode over RLIMIT_MEMLOCK: with UFFDIO_MOVE the region is a locked
 * range and cannot be locked. The memfd engine's regions are PROT_NONE
 * reservations that lock nothing (the frames' pages are locked where they
 * live), so there the region is reserved.
 */
static int child_region_too_big_to_lock(void *arg)
{
	struct awe_stats st;
	void *r;

	(void)arg;
	unsetenv("LIBAWE_UNLOCKED");
	CHILD_OK(awe_stats(&st));
	if (!strcmp(st.engine, "memfd")) {
		r = CHILD_W32_OK(VirtualAlloc(NULL, 16 * MiB, PHYS, PAGE_READWRITE));
		CHILD_W32_OK(VirtualFree(r, 0, MEM_RELEASE));
	} else {
		CHILD_W32_FAIL(VirtualAlloc(NULL, 16 * MiB, PHYS, PAGE_READWRITE),
			       ERROR_NO_SYSTEM_RESOURCES);
	}
	r = CHILD_W32_OK(VirtualAlloc(NULL, 1 * MiB, PHYS, PAGE_READWRITE));
	CHILD_W32_OK(VirtualFree(r, 0, MEM_RELEASE));
	return 0;
}

Test(virtualalloc, physical_region_over_memlock)
{
	run_as_nobody(child_region_too_big_to_lock, NULL, 8 * MiB);
}

/* ---- VirtualAllocEx, VirtualAllocExNuma, VirtualAlloc2 ----------------------------- */

Test(virtualalloc, virtual_alloc_ex)
{
	HANDLE h = open_self(PROCESS_VM_OPERATION);
	PULONG_PTR pfn = pfns_new(1);
	char *r;

	r = W32_OK(VirtualAllocEx(GetCurrentProcess(), NULL, 4 * pg(), PHYS, PAGE_READWRITE));
	assert_awe_mbi(r, r, MEM_RESERVE, 0, 4);
	map_ok(r + pg(), 1, pfn);
	assert_mapped(r + pg(), pfn[0]);
	W32_OK(VirtualFreeEx(GetCurrentProcess(), r, 0, MEM_RELEASE));
	r = W32_OK(VirtualAllocEx(h, NULL, 4 * pg(), PHYS, PAGE_READWRITE));
	cr_assert_eq((uintptr_t)r % GRANULARITY, 0);
	W32_OK(VirtualFreeEx(h, r, 0, MEM_RELEASE));
	W32_OK(CloseHandle(h));
	free(pfn);
}

Test(virtualalloc, virtual_alloc_ex_numa)
{
	ULONG nodes = numa_nodes();
	char *r;

	for (ULONG node = 0; node < nodes; node++) {
		r = W32_OK(VirtualAllocExNuma(GetCurrentProcess(), NULL, 4 * pg(), PHYS,
					      PAGE_READWRITE, node));
		assert_awe_mbi(r, r, MEM_RESERVE, 0, 4);
		W32_OK(VirtualFree(r, 0, MEM_RELEASE));
		r = W32_OK(VirtualAllocExNuma(GetCurrentProcess(), NULL, pg(),
					      MEM_RESERVE | MEM_COMMIT, PAGE_READWRITE, node));
		W32_OK(VirtualFree(r, 0, MEM_RELEASE));
	}
	REGION_FAILS(VirtualAllocExNuma(GetCurrentProcess(), NULL, 4 * pg(), PHYS, PAGE_READWRITE,
					nodes),
		     ERROR_INVALID_PARAMETER);
	REGION_FAILS(VirtualAllocExNuma(GetCurrentProcess(), NULL, 4 * pg(), PHYS, PAGE_READWRITE,
					nodes + 100),
		     ERROR_INVALID_PARAMETER);
	W32_FAIL(VirtualAllocExNuma(GetCurrentProcess(), NULL, pg(), MEM_RESERVE | MEM_COMMIT,
				    PAGE_READWRITE, nodes),
		 ERROR_INVALID_PARAMETER);
}

static MEM_EXTENDED_PARAMETER ext_address(MEM_ADDRESS_REQUIREMENTS *req)
{
	MEM_EXTENDED_PARAMETER p = {.Type = MemExtendedParameterAddressRequirements};

	p.Pointer = req;
	return p;
}

Test(virtualalloc, virtual_alloc2_process_handle)
{
	char *r;

	r = W32_OK(VirtualAlloc2(NULL, NULL, 4 * pg(), PHYS, PAGE_READWRITE, NULL, 0));
	assert_awe_mbi(r, r, MEM_RESERVE, 0, 4);
	r = W32_OK(
		VirtualAlloc2(GetCurrentProcess(), NULL, 4 * pg(), PHYS, PAGE_READWRITE, NULL, 0));
	assert_awe_mbi(r, r, MEM_RESERVE, 0, 4);
	REGION_FAILS(VirtualAlloc2(bogus_handle(0x1234), NULL, 4 * pg(), PHYS, PAGE_READWRITE, NULL,
				   0),
		     ERROR_INVALID_HANDLE);
}

Test(virtualalloc, virtual_alloc2_alignment)
{
	MEM_ADDRESS_REQUIREMENTS req = {.Alignment = 0};
	MEM_EXTENDED_PARAMETER p = ext_address(&req);
	static const SIZE_T bad[] = {1, 0x1000, 0x8000, 0x30000, 0x10001};
	char *r;

	r = W32_OK(VirtualAlloc2(NULL, NULL, 4 * pg(), PHYS, PAGE_READWRITE, &p, 1));
	cr_assert_eq((uintptr_t)r % GRANULARITY, 0);
	for (SIZE_T align = GRANULARITY; align <= 64 * MiB; align <<= 3) {
		req.Alignment = align;
		r = W32_OK(VirtualAlloc2(NULL, NULL, 4 * pg(), PHYS, PAGE_READWRITE, &p, 1));
		cr_assert_eq((uintptr_t)r % align, 0, "%p is not aligned to %#zx", (void *)r,
			     (size_t)align);
		assert_awe_mbi(r, r, MEM_RESERVE, 0, 4);
		/* Ordinary memory honours it too. */
		r = W32_OK(VirtualAlloc2(NULL, NULL, pg(), MEM_RESERVE | MEM_COMMIT, PAGE_READWRITE,
					 &p, 1));
		cr_assert_eq((uintptr_t)r % align, 0);
	}
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		req.Alignment = bad[i];
		REGION_FAILS(VirtualAlloc2(NULL, NULL, 4 * pg(), PHYS, PAGE_READWRITE, &p, 1),
			     ERROR_INVALID_PARAMETER);
	}
}

/* Address ranges are not supported (yet): a clear 50, never a region
 * outside the range. */
Test(virtualalloc, virtual_alloc2_address_range)
{
	char *lo = free_aligned(64 * MiB);
	MEM_ADDRESS_REQUIREMENTS req = {.LowestStartingAddress = lo + 16 * MiB,
					.HighestEndingAddress = lo + 32 * MiB - 1};
	MEM_EXTENDED_PARAMETER p = ext_address(&req);

	REGION_FAILS(VirtualAlloc2(NULL, NULL, 1 * MiB, PHYS, PAGE_READWRITE, &p, 1),
		     ERROR_NOT_SUPPORTED);
	req.LowestStartingAddress = NULL;
	REGION_FAILS(VirtualAlloc2(NULL, NULL, 1 * MiB, PHYS, PAGE_READWRITE, &p, 1),
		     ERROR_NOT_SUPPORTED);
	req.HighestEndingAddress = NULL;
	req.LowestStartingAddress = lo;
	REGION_FAILS(VirtualAlloc2(NULL, NULL, 1 * MiB, MEM_RESERVE, PAGE_READWRITE, &p, 1),
		     ERROR_NOT_SUPPORTED);
}

Test(virtualalloc, virtual_alloc2_numa_node)
{
	ULONG nodes = numa_nodes();
	MEM_EXTENDED_PARAMETER p = {.Type = MemExtendedParameterNumaNode};
	char *r;

	p.ULong = nodes - 1;
	r = W32_OK(VirtualAlloc2(NULL, NULL, 4 * pg(), PHYS, PAGE_READWRITE, &p, 1));
	assert_awe_mbi(r, r, MEM_RESERVE, 0, 4);
	p.ULong = nodes;
	REGION_FAILS(VirtualAlloc2(NULL, NULL, 4 * pg(), PHYS, PAGE_READWRITE, &p, 1),
		     ERROR_INVALID_PARAMETER);
}

Test(virtualalloc, virtual_alloc2_other_parameters)
{
	MEM_ADDRESS_REQUIREMENTS req = {0};
	MEM_EXTENDED_PARAMETER two[2];
	MEM_EXTENDED_PARAMETER p = {0};

	/* A section handle that is not one (test_w32_section has real ones). */
	p.Type = MemExtendedParameterUserPhysicalHandle;
	p.Handle = (HANDLE)(uintptr_t)0x40;
	REGION_FAILS(VirtualAlloc2(NULL, NULL, 4 * pg(), PHYS, PAGE_READWRITE, &p, 1),
		     ERROR_INVALID_HANDLE);
	/* Other types, unknown types. */
	static const DWORD64 types[] = {MemExtendedParameterInvalidType,
					MemExtendedParameterPartitionHandle,
					MemExtendedParameterAttributeFlags,
					MemExtendedParameterImageMachine,
					MemExtendedParameterMax,
					0xFF};
	for (size_t i = 0; i < sizeof(types) / sizeof(types[0]); i++) {
		memset(&p, 0, sizeof(p));
		p.Type = types[i];
		REGION_FAILS(VirtualAlloc2(NULL, NULL, 4 * pg(), PHYS, PAGE_READWRITE, &p, 1),
			     ERROR_INVALID_PARAMETER);
	}
	/* A type twice. */
	memset(two, 0, sizeof(two));
	two[0].Type = two[1].Type = MemExtendedParameterNumaNode;
	REGION_FAILS(VirtualAlloc2(NULL, NULL, 4 * pg(), PHYS, PAGE_READWRITE, two, 2),
		     ERROR_INVALID_PARAMETER);
	two[0] = two[1] = ext_address(&req);
	REGION_FAILS(VirtualAlloc2(NULL, NULL, 4 * pg(), PHYS, PAGE_READWRITE, two, 2),
		     ERROR_INVALID_PARAMETER);
	/* Two different types are fine. */
	two[1].Type = MemExtendedParameterNumaNode;
	two[1].ULong = 0;
	W32_OK(VirtualAlloc2(NULL, NULL, 4 * pg(), PHYS, PAGE_READWRITE, two, 2));
}

/* ---- Ordinary memory ----------------------------------------------------------------- */

static void assert_vmem(const void *addr, const void *base, SIZE_T size, DWORD state, DWORD prot,
			DWORD alloc_prot)
{
	MEMORY_BASIC_INFORMATION m = mbi_of(addr);

	cr_assert_eq(m.BaseAddress, addr);
	cr_assert_eq(m.AllocationBase, base, "%p: AllocationBase %p, expected %p", addr,
		     m.AllocationBase, base);
	cr_assert_eq(m.AllocationProtect, alloc_prot, "%p: AllocationProtect %#x", addr,
		     m.AllocationProtect);
	cr_assert_eq(m.RegionSize, size, "%p: RegionSize %#zx, expected %#zx", addr,
		     (size_t)m.RegionSize, (size_t)size);
	cr_assert_eq(m.State, state, "%p: State %#x, expected %#x", addr, m.State, state);
	cr_assert_eq(m.Protect, prot, "%p: Protect %#x, expected %#x", addr, m.Protect, prot);
	cr_assert_eq(m.Type, MEM_PRIVATE);
}

Test(virtualalloc, ordinary_reserve_commit_decommit_release)
{
	char *r = W32_OK(VirtualAlloc(NULL, 16 * pg(), MEM_RESERVE, PAGE_READWRITE)), *c;
	DWORD old = 0;

	cr_assert_eq((uintptr_t)r % GRANULARITY, 0);
	assert_vmem(r, r, 16 * pg(), MEM_RESERVE, 0, PAGE_READWRITE);
	cr_assert_neq(probe_read(r).sig, 0, "reserved memory is not accessible");

	c = W32_OK(VirtualAlloc(r + 4 * pg() + 100, 2 * pg(), MEM_COMMIT, PAGE_READWRITE));
	cr_assert_eq(c, r + 4 * pg(), "MEM_COMMIT returns the page-rounded address");
	assert_vmem(r, r, 4 * pg(), MEM_RESERVE, 0, PAGE_READWRITE);
	/* 100 bytes in plus 2 pages: three pages. */
	assert_vmem(c, r, 3 * pg(), MEM_COMMIT, PAGE_READWRITE, PAGE_READWRITE);
	assert_vmem(c + 3 * pg(), r, 9 * pg(), MEM_RESERVE, 0, PAGE_READWRITE);
	assert_page_zero(c);
	fill_page(c + pg(), 7);

	/* Committing again keeps the contents. */
	W32_OK(VirtualAlloc(c, 3 * pg(), MEM_COMMIT, PAGE_READWRITE));
	assert_page(c + pg(), 7);

	W32_OK(VirtualProtect(c, pg(), PAGE_READONLY, &old));
	cr_assert_eq(old, PAGE_READWRITE);
	assert_vmem(c, r, pg(), MEM_COMMIT, PAGE_READONLY, PAGE_READWRITE);
	cr_assert_neq(probe_write(c, 1).sig, 0, "a read-only page was written");
	assert_no_fault(probe_read(c), c, "read");

	W32_OK(VirtualFree(c + pg(), pg(), MEM_DECOMMIT));
	assert_vmem(c + pg(), r, pg(), MEM_RESERVE, 0, PAGE_READWRITE);
	W32_OK(VirtualAlloc(c + pg(), pg(), MEM_COMMIT, PAGE_READWRITE));
	assert_page_zero(c + pg());

	/* Release: the base and size 0 only. */
	W32_FAIL(VirtualFree(r, 16 * pg(), MEM_RELEASE), ERROR_INVALID_PARAMETER);
	W32_FAIL(VirtualFree(r + pg(), 0, MEM_RELEASE), ERROR_INVALID_ADDRESS);
	assert_vmem(r, r, 4 * pg(), MEM_RESERVE, 0, PAGE_READWRITE);
	W32_OK(VirtualFree(r, 0, MEM_RELEASE));
	cr_assert_eq(mbi_of(r).State, MEM_FREE);
	/* Nothing left to free. */
	W32_FAIL(VirtualFree(r, 0, MEM_RELEASE), ERROR_INVALID_ADDRESS);
}

Test(virtualalloc, ordinary_reserve_and_commit_at_once)
{
	char *a, *p;

	p = W32_OK(VirtualAlloc(NULL, 3 * pg(), MEM_RESERVE | MEM_COMMIT, PAGE_READWRITE));
	cr_assert_eq((uintptr_t)p % GRANULARITY, 0);
	assert_vmem(p, p, 3 * pg(), MEM_COMMIT, PAGE_READWRITE, PAGE_READWRITE);
	memset(p, 0x33, 3 * pg());
	/* MEM_COMMIT alone with no address reserves too, as on Windows. */
	p = W32_OK(VirtualAlloc(NULL, pg(), MEM_COMMIT, PAGE_READWRITE));
	assert_vmem(p, p, pg(), MEM_COMMIT, PAGE_READWRITE, PAGE_READWRITE);
	/* At a given address, rounded down to 64 KiB. */
	a = free_aligned(GRANULARITY);
	p = W32_OK(VirtualAlloc(a + pg(), pg(), MEM_RESERVE | MEM_COMMIT, PAGE_READONLY));
	cr_assert_eq(p, a);
	cr_assert_eq(mbi_of(a + pg()).State, MEM_COMMIT);
	cr_assert_eq(mbi_of(a + pg()).Protect, PAGE_READONLY);
	/* PAGE_NOCACHE means nothing here but is accepted. */
	p = W32_OK(
		VirtualAlloc(NULL, pg(), MEM_RESERVE | MEM_COMMIT, PAGE_READWRITE | PAGE_NOCACHE));
	p[0] = 1;
}

Test(virtualalloc, ordinary_commit_outside_a_reservation)
{
	char *a = free_aligned(GRANULARITY);

	W32_FAIL(VirtualAlloc(a, pg(), MEM_COMMIT, PAGE_READWRITE), ERROR_INVALID_ADDRESS);
	cr_assert_eq(mbi_of(a).State, MEM_FREE);
}

Test(virtualalloc, ordinary_reset)
{
	char *p = W32_OK(VirtualAlloc(NULL, 4 * pg(), MEM_RESERVE | MEM_COMMIT, PAGE_READWRITE));

	fill_page(p, 3);
	cr_assert_eq(W32_OK(VirtualAlloc(p, 4 * pg(), MEM_RESET, PAGE_NOACCESS)), p);
	/* Still committed and usable; the old contents are undefined. */
	assert_vmem(p, p, 4 * pg(), MEM_COMMIT, PAGE_READWRITE, PAGE_READWRITE);
	fill_page(p, 4);
	assert_page(p, 4);
}

Test(virtualalloc, ordinary_unsupported_flags)
{
	char *p = W32_OK(VirtualAlloc(NULL, pg(), MEM_RESERVE | MEM_COMMIT, PAGE_READWRITE));

	W32_FAIL(VirtualAlloc(NULL, pg(), MEM_RESERVE | MEM_WRITE_WATCH, PAGE_READWRITE),
		 ERROR_NOT_SUPPORTED);
	W32_FAIL(VirtualAlloc(NULL, 2 * MiB, MEM_RESERVE | MEM_COMMIT | MEM_LARGE_PAGES,
			      PAGE_READWRITE),
		 ERROR_NOT_SUPPORTED);
	W32_FAIL(VirtualAlloc(p, pg(), MEM_RESET_UNDO, PAGE_READWRITE), ERROR_NOT_SUPPORTED);
	/* As on Windows, MEM_RESET and MEM_RESET_UNDO go alone. */
	W32_FAIL(VirtualAlloc(p, pg(), MEM_COMMIT | MEM_RESET_UNDO, PAGE_READWRITE),
		 ERROR_INVALID_PARAMETER);
	W32_FAIL(VirtualAlloc(p, pg(), MEM_COMMIT | MEM_RESET, PAGE_READWRITE),
		 ERROR_INVALID_PARAMETER);
	W32_FAIL(VirtualAlloc(NULL, pg(), MEM_RESERVE | MEM_COMMIT, PAGE_READWRITE | PAGE_GUARD),
		 ERROR_NOT_SUPPORTED);
	W32_FAIL(VirtualAlloc(NULL, pg(), MEM_RESERVE | MEM_COMMIT,
			      PAGE_READWRITE | PAGE_WRITECOMBINE),
		 ERROR_NOT_SUPPORTED);
	W32_FAIL(VirtualAlloc(NULL, pg(), MEM_RESERVE | MEM_COMMIT, PAGE_WRITECOPY),
		 ERROR_INVALID_PARAMETER);
	W32_FAIL(VirtualAlloc(NULL, pg(), MEM_RESERVE | MEM_COMMIT, PAGE_EXECUTE_WRITECOPY),
		 ERROR_INVALID_PARAMETER);
}

Test(virtualalloc, virtual_free_type)
{
	char *p = W32_OK(VirtualAlloc(NULL, pg(), MEM_RESERVE | MEM_COMMIT, PAGE_READWRITE));
	char *r = region_new(2);
	static const DWORD bad[] = {0,
				    MEM_RELEASE | MEM_DECOMMIT,
				    MEM_RELEASE | 1,
				    MEM_DECOMMIT | MEM_COMMIT,
				    MEM_FREE,
				    0x80000000u};

	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		W32_FAIL(VirtualFree(p, 0, bad[i]), ERROR_INVALID_PARAMETER);
		W32_FAIL(VirtualFree(r, 0, bad[i]), ERROR_INVALID_PARAMETER);
		W32_FAIL(VirtualFreeEx(GetCurrentProcess(), r, 0, bad[i]), ERROR_INVALID_PARAMETER);
	}
	assert_vmem(p, p, pg(), MEM_COMMIT, PAGE_READWRITE, PAGE_READWRITE);
	assert_awe_mbi(r, r, MEM_RESERVE, 0, 2);
	/* No region at all. */
	W32_FAIL(VirtualFree(free_range(1), 0, MEM_RELEASE), ERROR_INVALID_ADDRESS);
}
