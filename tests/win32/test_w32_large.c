/* SPDX-License-Identifier: MIT */
/*
 * §10.3 large pages and §7.2, §7.3, §10.4 NUMA, through the Win32 calls:
 * GetLargePageMinimum(); MEM_RESERVE | MEM_PHYSICAL | MEM_LARGE_PAGES
 * regions (flags, privilege, alignment, in that order); NONPAGED_LARGE
 * frames counted and numbered in large pages, partial and refused (1450)
 * allocations; the map calls' large-page rules (aligned addresses, counts
 * of large pages, frames of the wrong size refused as PFNs the region
 * cannot show); SEC_LARGE_PAGES sections and ZGC's exact sequence; NUMA
 * nodes for the process and for sections.
 *
 * Where the engine of the run cannot have huge pages here (the memfd engine,
 * which AWE sections always use, needs the hugetlb pool or shmem huge pages;
 * the uffd-move engine transparent huge pages), the tests that need one skip
 * and say which setting; the rules that need none run everywhere.
 */
#include <sys/prctl.h>
#include <sys/stat.h>

#include "../helpers_large.h"
#include "w32section.h"

#define LARGE (MEM_RESERVE | MEM_PHYSICAL | MEM_LARGE_PAGES)
#define THP "/sys/kernel/mm/transparent_hugepage/"

/* The first line of a sysfs or procfs file, for skip messages. */
static const char *setting(const char *path)
{
	static __thread char buf[4][160];
	static __thread unsigned int next;
	char *b = buf[next++ % 4];
	FILE *f = fopen(path, "r");

	if (!f || !fgets(b, sizeof(buf[0]), f))
		snprintf(b, sizeof(buf[0]), "(unreadable)");
	b[strcspn(b, "\n")] = '\0';
	if (f)
		fclose(f);
	return b;
}

/* Skip, naming the settings that keep the engine from huge pages. */
#define skip_no_huge(what, memfd)                                                                  \
	do {                                                                                       \
		if (memfd)                                                                         \
			cr_skip_test("%s: the memfd engine (AWE sections always use it) needs a "  \
				     "free page in the hugetlb pool (vm.nr_hugepages = %s) or "    \
				     "shmem huge pages (" THP "shmem_enabled: %s)",                \
				     what, setting("/proc/sys/vm/nr_hugepages"),                   \
				     setting(THP "shmem_enabled"));                                \
		cr_skip_test("%s: the uffd-move engine got no transparent huge page (" THP         \
			     "enabled: %s; defrag: %s)",                                           \
			     what, setting(THP "enabled"), setting(THP "defrag"));                 \
	} while (0)

/* Whether the memfd engine can have huge pages here, by the settings. */
static bool memfd_huge_possible(void)
{
	const char *shmem = setting(THP "shmem_enabled");

	return atol(setting("/proc/sys/vm/nr_hugepages")) > 0 ||
	       !(strstr(shmem, "[never]") || strstr(shmem, "[deny]"));
}

static MEM_EXTENDED_PARAMETER large_attr(void)
{
	return ext(MemExtendedParameterAttributeFlags, MEM_EXTENDED_PARAMETER_NONPAGED_LARGE);
}

/* A free range of @slots large pages, aligned to one. */
static char *free_large(size_t slots)
{
	size_t len = (slots + 1) * lpg();
	char *p = mmap(NULL, len, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);

	cr_assert_neq(p, MAP_FAILED);
	cr_assert_eq(munmap(p, len), 0);
	return (char *)(((uintptr_t)p + lpg() - 1) & ~(uintptr_t)(lpg() - 1));
}

/* VirtualQuery(@addr) in a large region based at @region: the run is
 * @run bytes from @addr's page. */
static void assert_large_mbi(const void *addr, const void *region, DWORD state, DWORD prot,
			     size_t run)
{
	MEMORY_BASIC_INFORMATION m = mbi_of(addr);

	cr_assert_eq(m.BaseAddress, (void *)((uintptr_t)addr & ~(uintptr_t)(pg() - 1)),
		     "%p: BaseAddress %p", addr, m.BaseAddress);
	cr_assert_eq(m.AllocationBase, region, "%p: AllocationBase %p, expected %p", addr,
		     m.AllocationBase, region);
	cr_assert_eq(m.AllocationProtect, PAGE_READWRITE);
	cr_assert_eq(m.Type, MEM_PRIVATE, "%p: Type %#x", addr, m.Type);
	cr_assert_eq(m.State, state, "%p: State %#x, expected %#x", addr, m.State, state);
	cr_assert_eq(m.Protect, prot, "%p: Protect %#x, expected %#x", addr, m.Protect, prot);
	cr_assert_eq(m.RegionSize, run, "%p: RegionSize %#zx, expected %#zx", addr,
		     (size_t)m.RegionSize, run);
}

/* A region of @slots large slots at @base (NULL: anywhere), privilege
 * enabled first; skipped where the engine cannot have large slots. */
static char *large_region_at(void *base, size_t slots)
{
	struct w32_res x;
	char *r;

	enable_lock_privilege();
	x = W32_CALL(VirtualAlloc(base, slots * lpg(), LARGE, PAGE_READWRITE));
	if (!x.r && x.le == ERROR_NO_SYSTEM_RESOURCES && engine_is_memfd())
		skip_no_huge("a region of large slots", true);
	cr_assert_neq(x.r, 0, "VirtualAlloc(LARGE, %zu slots) failed: %u", slots, x.le);
	cr_assert_eq(x.le, LE_CANARY);
	cr_assert_eq(x.e, ERRNO_CANARY);
	r = (char *)(uintptr_t)x.r;
	cr_assert_eq((uintptr_t)r % lpg(), 0, "large region %p is not aligned", (void *)r);
	if (base)
		cr_assert_eq(r, base);
	assert_large_mbi(r, r, MEM_RESERVE, 0, slots * lpg());
	cr_assert_eq(query(r).window_size, slots * lpg());
	return r;
}

static char *large_region(size_t slots)
{
	return large_region_at(NULL, slots);
}

/* Exactly @n large frames (AllocateUserPhysicalPages2 with NONPAGED_LARGE)
 * in an array of @n + 1, or a skip; free() it. */
static PULONG_PTR large_pfns(size_t n)
{
	PULONG_PTR a = pfn_array(n + 1);
	MEM_EXTENDED_PARAMETER p = large_attr();
	ULONG_PTR got = n;
	struct w32_res x;

	enable_lock_privilege();
	x = W32_CALL(AllocateUserPhysicalPages2(SELF, &got, a, &p, 1));
	if (!x.r) {
		cr_assert_eq(x.le, ERROR_NO_SYSTEM_RESOURCES, "NONPAGED_LARGE: last error %u",
			     x.le);
		cr_assert_eq(got, n, "a failure wrote *NumberOfPages");
		cr_assert(pfns_untouched(a, 0, n + 1), "a failure wrote PFNs");
		skip_no_huge("large frames", engine_is_memfd());
	}
	cr_assert_eq(x.le, LE_CANARY);
	cr_assert_eq(got, n, "asked for %zu large pages, got %lu", n, (unsigned long)got);
	cr_assert(pfns_untouched(a, n, n + 1), "wrote past the pages allocated");
	assert_distinct_nonzero(a, n);
	for (size_t i = 0; i < n; i++)
		cr_assert(a[i] & AWE_FRAME_LARGE, "PFN %#lx is not a large frame's",
			  (unsigned long)a[i]);
	return a;
}

/* CreateFileMapping2() as ZGC calls it, privilege enabled; a skip where
 * sections cannot have huge pages (and then the refusal must be 1450). */
static HANDLE zgc_section(void)
{
	MEM_EXTENDED_PARAMETER p = awe_param();
	struct w32_res x;

	enable_lock_privilege();
	x = W32_CALL(CreateFileMapping2(INVALID_HANDLE_VALUE, NULL,
					SECTION_MAP_READ | SECTION_MAP_WRITE, PAGE_READWRITE,
					SEC_RESERVE | SEC_LARGE_PAGES, 0, NULL, &p, 1));
	if (!x.r) {
		cr_assert_eq(x.le, ERROR_NO_SYSTEM_RESOURCES, "SEC_LARGE_PAGES: last error %u",
			     x.le);
		skip_no_huge("a SEC_LARGE_PAGES section", true);
	}
	cr_assert_eq(x.le, ERROR_SUCCESS);
	return (HANDLE)(uintptr_t)x.r;
}

/* A region of @slots large slots tied to section @s, at @base or anywhere. */
static char *large_view(HANDLE s, void *base, size_t slots)
{
	char *r = W32_OK(va2_section(s, base, slots * lpg()));

	cr_assert_eq((uintptr_t)r % lpg(), 0);
	if (base)
		cr_assert_eq(r, base);
	assert_large_mbi(r, r, MEM_RESERVE, 0, slots * lpg());
	return r;
}

/* The state of @n large slots, and a map call that fails with @code and
 * leaves them as they were. */
static void snap_large(char *r, size_t n, struct slot_snap *s)
{
	for (size_t i = 0; i < n; i++) {
		struct awe_page_info pi = query(lslot(r, i));

		s[i].frame = pi.frame;
		s[i].prot = pi.prot;
		s[i].word = pi.frame && pi.prot != AWE_PROT_NONE
				    ? *(volatile uint64_t *)(lslot(r, i) + lpg() - 8)
				    : 0;
	}
}

static void assert_large_unchanged(char *r, size_t n, const struct slot_snap *b, const char *call)
{
	struct slot_snap a[n];

	snap_large(r, n, a);
	for (size_t i = 0; i < n; i++)
		cr_assert(a[i].frame == b[i].frame && a[i].prot == b[i].prot &&
				  a[i].word == b[i].word,
			  "%s changed large slot %zu", call, i);
}

#define LARGE_MAP_FAILS(call, code, r, n)                                                          \
	do {                                                                                       \
		struct slot_snap b_[n];                                                            \
		snap_large((r), (n), b_);                                                          \
		W32_FAIL(call, code);                                                              \
		assert_large_unchanged((r), (n), b_, #call);                                       \
	} while (0)

/* ---- GetLargePageMinimum ----------------------------------------------------------------- */

Test(large, minimum)
{
	struct w32_res x = W32_CALL(GetLargePageMinimum());

	cr_assert_eq(x.r, awe_large_page_size(), "GetLargePageMinimum() %#llx", x.r);
	cr_assert_eq(x.le, LE_CANARY, "it set the last error");
	cr_assert_eq(x.e, ERRNO_CANARY, "it set errno");
	if (!x.r)
		cr_skip_test("the kernel has no huge pages: GetLargePageMinimum() is 0");
	cr_assert_eq(x.r & (x.r - 1), 0, "%#llx is not a power of two", x.r);
	cr_assert_eq(x.r % GRANULARITY, 0, "a large page is a multiple of the granularity");
#if defined(__x86_64__)
	cr_assert_eq(x.r, 2 * MiB);
#endif
}

/* ---- VirtualAlloc with MEM_LARGE_PAGES -------------------------------------------------- */

/* Every rule of MEM_PHYSICAL still holds, and comes before the privilege. */
Test(large, region_flags_checked_first)
{
	size_t l = lpg();
	MEM_EXTENDED_PARAMETER numa = ext(MemExtendedParameterNumaNode, 0);

	REGION_FAILS(VirtualAlloc(NULL, l, LARGE | MEM_WRITE_WATCH, PAGE_READWRITE),
		     ERROR_INVALID_PARAMETER);
	REGION_FAILS(VirtualAlloc(NULL, l, LARGE | MEM_COMMIT, PAGE_READWRITE),
		     ERROR_INVALID_PARAMETER);
	REGION_FAILS(VirtualAlloc(NULL, l, MEM_PHYSICAL | MEM_LARGE_PAGES, PAGE_READWRITE),
		     ERROR_INVALID_PARAMETER);
	REGION_FAILS(VirtualAlloc(NULL, l, LARGE | MEM_RESET, PAGE_READWRITE),
		     ERROR_INVALID_PARAMETER);
	REGION_FAILS(VirtualAlloc(NULL, l, LARGE, PAGE_READONLY), ERROR_INVALID_PARAMETER);
	REGION_FAILS(VirtualAlloc(NULL, l, LARGE, PAGE_EXECUTE_READWRITE), ERROR_INVALID_PARAMETER);
	REGION_FAILS(VirtualAlloc(NULL, l, LARGE, PAGE_READWRITE | PAGE_NOCACHE),
		     ERROR_INVALID_PARAMETER);
	REGION_FAILS(VirtualAlloc2(SELF, NULL, l, LARGE | MEM_COMMIT, PAGE_READWRITE, &numa, 1),
		     ERROR_INVALID_PARAMETER);
	/* A size of 0 and a range beyond user space: before the privilege. */
	REGION_FAILS(VirtualAlloc(NULL, 0, LARGE, PAGE_READWRITE), ERROR_INVALID_PARAMETER);
	REGION_FAILS(VirtualAlloc(BEYOND_USER, l, LARGE, PAGE_READWRITE), ERROR_INVALID_PARAMETER);
	/* The process handle too. */
	REGION_FAILS(VirtualAllocEx(NULL, NULL, l, LARGE, PAGE_READWRITE), ERROR_INVALID_HANDLE);
	REGION_FAILS(VirtualAllocEx(open_self(PROCESS_QUERY_INFORMATION), NULL, l, LARGE,
				    PAGE_READWRITE),
		     ERROR_ACCESS_DENIED);
	/* And the node. */
	REGION_FAILS(VirtualAllocExNuma(SELF, NULL, l, LARGE, PAGE_READWRITE, numa_nodes()),
		     ERROR_INVALID_PARAMETER);
}

/* MEM_LARGE_PAGES needs SeLockMemoryPrivilege, enabled (WRK: after the
 * handle, before the size rules); a plain AWE region never does. */
Test(large, region_privilege)
{
	size_t l = lpg();
	MEM_EXTENDED_PARAMETER numa = ext(MemExtendedParameterNumaNode, 0);

	REGION_FAILS(VirtualAlloc(NULL, l, LARGE, PAGE_READWRITE), ERROR_PRIVILEGE_NOT_HELD);
	REGION_FAILS(VirtualAlloc(NULL, 2 * l, LARGE | MEM_TOP_DOWN, PAGE_READWRITE),
		     ERROR_PRIVILEGE_NOT_HELD);
	REGION_FAILS(VirtualAllocEx(SELF, NULL, l, LARGE, PAGE_READWRITE),
		     ERROR_PRIVILEGE_NOT_HELD);
	REGION_FAILS(VirtualAllocExNuma(SELF, NULL, l, LARGE, PAGE_READWRITE, 0),
		     ERROR_PRIVILEGE_NOT_HELD);
	REGION_FAILS(VirtualAlloc2(NULL, NULL, l, LARGE, PAGE_READWRITE, &numa, 1),
		     ERROR_PRIVILEGE_NOT_HELD);
	REGION_FAILS(VirtualAlloc(NULL, l + pg(), LARGE, PAGE_READWRITE), ERROR_PRIVILEGE_NOT_HELD);
	REGION_FAILS(VirtualAlloc(free_large(1) + GRANULARITY, l, LARGE, PAGE_READWRITE),
		     ERROR_PRIVILEGE_NOT_HELD);
	W32_OK(VirtualAlloc(NULL, l, MEM_RESERVE | MEM_PHYSICAL, PAGE_READWRITE));
	enable_lock_privilege();
	REGION_FAILS(VirtualAlloc(NULL, l + pg(), LARGE, PAGE_READWRITE), ERROR_INVALID_PARAMETER);
	disable_lock_privilege();
	REGION_FAILS(VirtualAlloc(NULL, l, LARGE, PAGE_READWRITE), ERROR_PRIVILEGE_NOT_HELD);
}

/* An account without "Lock pages in memory": enabling fails with 1300, the
 * large region with 1314; a plain one works. */
static int child_region_not_held(void *arg)
{
	DWORD le;

	(void)arg;
	unsetenv("LIBAWE_UNLOCKED");
	CHILD_CHECK(set_lock_privilege(SE_PRIVILEGE_ENABLED, &le) == TRUE &&
			    le == ERROR_NOT_ALL_ASSIGNED,
		    "le %u", le);
	CHILD_W32_FAIL(VirtualAlloc(NULL, awe_large_page_size(), LARGE, PAGE_READWRITE),
		       ERROR_PRIVILEGE_NOT_HELD);
	CHILD_W32_OK(VirtualAlloc(NULL, awe_large_page_size(), MEM_RESERVE | MEM_PHYSICAL,
				  PAGE_READWRITE));
	return 0;
}

Test(large, region_privilege_not_held)
{
	lpg();
	run_as_nobody(child_region_not_held, NULL, 8 * MiB);
}

/* Base and size are whole large pages (87); a base is not rounded down as
 * a small region's is. */
Test(large, region_alignment)
{
	size_t l = lpg();
	const size_t bad_sizes[] = {pg(),     GRANULARITY,     l / 2,
				    l + pg(), l + GRANULARITY, 3 * l - pg()};
	char *hole = free_large(4);
	MEM_ADDRESS_REQUIREMENTS req = {.Alignment = 4 * l};
	MEM_EXTENDED_PARAMETER p = ext(MemExtendedParameterAddressRequirements, 0);
	char *r;

	enable_lock_privilege();
	for (size_t i = 0; i < sizeof(bad_sizes) / sizeof(bad_sizes[0]); i++) {
		REGION_FAILS(VirtualAlloc(NULL, bad_sizes[i], LARGE, PAGE_READWRITE),
			     ERROR_INVALID_PARAMETER);
		REGION_FAILS(VirtualAlloc(hole, bad_sizes[i], LARGE, PAGE_READWRITE),
			     ERROR_INVALID_PARAMETER);
	}
	REGION_FAILS(VirtualAlloc(hole + GRANULARITY, l, LARGE, PAGE_READWRITE),
		     ERROR_INVALID_PARAMETER);
	REGION_FAILS(VirtualAlloc(hole + pg(), l, LARGE, PAGE_READWRITE), ERROR_INVALID_PARAMETER);
	REGION_FAILS(VirtualAlloc(hole + l / 2, 2 * l, LARGE, PAGE_READWRITE),
		     ERROR_INVALID_PARAMETER);
	REGION_FAILS(VirtualAlloc(hole + 1, l, LARGE, PAGE_READWRITE), ERROR_INVALID_PARAMETER);
	/* Whole large pages: exactly there. */
	r = large_region_at(hole + l, 2);
	W32_OK(VirtualFree(r, 0, MEM_RELEASE));
	/* An alignment asked for is kept, and never less than a large page. */
	p.Pointer = &req;
	r = W32_OK(VirtualAlloc2(SELF, NULL, 2 * l, LARGE, PAGE_READWRITE, &p, 1));
	cr_assert_eq((uintptr_t)r % (4 * l), 0, "%p is not aligned to 4 large pages", (void *)r);
	req.Alignment = GRANULARITY;
	r = W32_OK(VirtualAlloc2(SELF, NULL, l, LARGE, PAGE_READWRITE, &p, 1));
	cr_assert_eq((uintptr_t)r % l, 0, "%p is not aligned to a large page", (void *)r);
}

/* The forms of VirtualAlloc, what VirtualQuery says of the region, and how
 * it is released. */
Test(large, region)
{
	size_t l = lpg();
	char *r = large_region(3), *s;
	MEMORY_BASIC_INFORMATION m;

	/* Every form; MEM_TOP_DOWN as with small regions. */
	s = W32_OK(VirtualAllocEx(SELF, NULL, l, LARGE | MEM_TOP_DOWN, PAGE_READWRITE));
	cr_assert_eq((uintptr_t)s % l, 0);
	W32_OK(VirtualFree(s, 0, MEM_RELEASE));
	s = W32_OK(VirtualAllocExNuma(SELF, NULL, l, LARGE, PAGE_READWRITE, numa_nodes() - 1));
	W32_OK(VirtualFree(s, l, MEM_RELEASE));
	s = W32_OK(VirtualAlloc2(NULL, NULL, 2 * l, LARGE, PAGE_READWRITE, NULL, 0));
	assert_large_mbi(s + l + 5, s, MEM_RESERVE, 0, l);
	/* Anything else inside conflicts; AWE regions are never split. */
	W32_FAIL(VirtualAlloc(r + l, pg(), MEM_COMMIT, PAGE_READWRITE), ERROR_INVALID_ADDRESS);
	W32_FAIL(VirtualAlloc(r, l, LARGE, PAGE_READWRITE), ERROR_INVALID_ADDRESS);
	W32_FAIL(VirtualFree(r + l, 0, MEM_RELEASE), ERROR_INVALID_ADDRESS);
	W32_FAIL(VirtualFree(r, l, MEM_RELEASE), ERROR_INVALID_ADDRESS);
	W32_FAIL(VirtualFree(r, 0, MEM_DECOMMIT), ERROR_INVALID_ADDRESS);
	assert_large_mbi(r + 2 * l + 3 * pg(), r, MEM_RESERVE, 0, l - 3 * pg());
	W32_OK(VirtualFree(r, 3 * l, MEM_RELEASE));
	W32_OK(VirtualFree(s, 0, MEM_RELEASE));
	memset(&m, 0, sizeof(m));
	W32_OK(VirtualQuery(r, &m, sizeof(m)));
	cr_assert_neq(m.Type, MEM_PRIVATE, "the released region is still an AWE region");
	/* The same place again, as a small region this time: no large rule
	 * lingers there. */
	s = W32_OK(VirtualAlloc(r, 2 * pg(), MEM_RESERVE | MEM_PHYSICAL, PAGE_READWRITE));
	cr_assert_eq(s, r);
	W32_OK(MapUserPhysicalPages(r + pg(), 1, NULL));
}

/* Server 2003 refused MEM_LARGE_PAGES with MEM_PHYSICAL (check 3). */
static int child_wrk(void *arg)
{
	DWORD le;

	(void)arg;
	setenv("LIBAWE_WIN32_ERRORS", "wrk", 1);
	CHILD_CHECK(set_lock_privilege(SE_PRIVILEGE_ENABLED, &le) && le == ERROR_SUCCESS);
	CHILD_W32_FAIL(VirtualAlloc(NULL, awe_large_page_size(), LARGE, PAGE_READWRITE),
		       ERROR_INVALID_PARAMETER);
	return 0;
}

Test(large, wrk_check3)
{
	lpg();
	run_in_child(child_wrk, NULL, NULL);
}

/* ---- The map calls in a large region ----------------------------------------------------- */

/* Addresses aligned to a large page, counts in large pages; no frame needed. */
Test(large, map_rules)
{
	size_t l = lpg();
	char *r = large_region(3), *small = region_new(4);
	PULONG_PTR a = pfns_new(2);

	W32_OK(MapUserPhysicalPages(r, 3, NULL));
	W32_OK(MapUserPhysicalPages(r + l, 2, NULL));
	LARGE_MAP_FAILS(MapUserPhysicalPages(r, 4, NULL), ERROR_INVALID_PARAMETER, r, 3);
	LARGE_MAP_FAILS(MapUserPhysicalPages(r + 2 * l, 2, NULL), ERROR_INVALID_PARAMETER, r, 3);
	LARGE_MAP_FAILS(MapUserPhysicalPages(r, UINTPTR_MAX / l, NULL), ERROR_INVALID_PARAMETER, r,
			3);
	/* A small region's address may point anywhere in its page; a large
	 * view's must be aligned. */
	LARGE_MAP_FAILS(MapUserPhysicalPages(r + pg(), 1, NULL), ERROR_INVALID_PARAMETER, r, 3);
	LARGE_MAP_FAILS(MapUserPhysicalPages(r + 1, 1, NULL), ERROR_INVALID_PARAMETER, r, 3);
	LARGE_MAP_FAILS(MapUserPhysicalPages(r + l + l / 2, 1, NULL), ERROR_INVALID_PARAMETER, r,
			3);
	LARGE_MAP_FAILS(MapUserPhysicalPages(r + 2 * l + GRANULARITY, 1, a),
			ERROR_INVALID_PARAMETER, r, 3);
	W32_OK(MapUserPhysicalPagesScatter((PVOID[]){r, r + 2 * l}, 2, NULL));
	LARGE_MAP_FAILS(MapUserPhysicalPagesScatter((PVOID[]){r, r + l + pg()}, 2, NULL),
			ERROR_INVALID_PARAMETER, r, 3);
	LARGE_MAP_FAILS(MapUserPhysicalPagesScatter((PVOID[]){r + 7}, 1, NULL),
			ERROR_INVALID_PARAMETER, r, 3);
	/* One scatter call, one view page size (Windows 10). */
	LARGE_MAP_FAILS(MapUserPhysicalPagesScatter((PVOID[]){r, small}, 2, NULL),
			ERROR_INVALID_PARAMETER, r, 3);
	LARGE_MAP_FAILS(MapUserPhysicalPagesScatter((PVOID[]){small + pg(), r + l}, 2, NULL),
			ERROR_INVALID_PARAMETER, r, 3);
	/* Small frames: PFNs a large view cannot show, as another owner's. */
	LARGE_MAP_FAILS(MapUserPhysicalPages(r, 1, a), ERROR_INVALID_ADDRESS, r, 3);
	LARGE_MAP_FAILS(MapUserPhysicalPages(r + l, 2, a), ERROR_INVALID_ADDRESS, r, 3);
	LARGE_MAP_FAILS(MapUserPhysicalPagesScatter((PVOID[]){r, r + l}, 2, a),
			ERROR_INVALID_ADDRESS, r, 3);
	LARGE_MAP_FAILS(MapUserPhysicalPagesScatter((PVOID[]){r, r + l}, 2,
						    ((ULONG_PTR[]){0, a[1]})),
			ERROR_INVALID_ADDRESS, r, 3);
	LARGE_MAP_FAILS(MapUserPhysicalPages(r, 1, &(ULONG_PTR){BOGUS_PFN}), ERROR_INVALID_ADDRESS,
			r, 3);
	/* ... but the range comes first. */
	LARGE_MAP_FAILS(MapUserPhysicalPages(r + l, 3, a), ERROR_INVALID_PARAMETER, r, 3);
	LARGE_MAP_FAILS(MapUserPhysicalPagesScatter((PVOID[]){r, NULL}, 2, a),
			ERROR_INVALID_PARAMETER, r, 3);
	assert_parked(a[0]);
	assert_parked(a[1]);
	/* The small region takes them. */
	map_ok(small + 5, 2, a);
	assert_mapped(small, a[0]);
	free(a);
}

/* NONPAGED_LARGE: counts and PFNs in large pages, one PFN a whole huge
 * page, mapped, unmapped, queried, protected and freed in those units. */
Test(large, frames)
{
	size_t l = lpg();
	PULONG_PTR a = large_pfns(4);
	char *r = large_region(5);
	ULONG_PTR n = 4;
	DWORD old = 0;

	map_ok(r, 4, a);
	assert_huge_slots(r, 4);
	for (size_t i = 0; i < 4; i++) {
		assert_slot(lslot(r, i), a[i], AWE_PROT_READWRITE);
		for (size_t off = 0; off < l; off += pg())
			cr_assert_eq(*(volatile uint64_t *)(lslot(r, i) + off), 0,
				     "large page %zu not zero-filled at %#zx", i, off);
		stamp_large(lslot(r, i), a[i]);
	}
	assert_large_mbi(r + pg(), r, MEM_COMMIT, PAGE_READWRITE, 4 * l - pg());
	assert_large_mbi(r + 4 * l, r, MEM_RESERVE, 0, l);
	/* Back in reverse order through the scatter call: data follows. */
	W32_OK(MapUserPhysicalPages(r, 4, NULL));
	assert_large_mbi(r, r, MEM_RESERVE, 0, 5 * l);
	W32_OK(MapUserPhysicalPagesScatter(
		(PVOID[]){lslot(r, 4), lslot(r, 3), lslot(r, 2), lslot(r, 1)}, 4, a));
	for (size_t i = 0; i < 4; i++)
		assert_large_stamp(lslot(r, 4 - i), a[i]);
	assert_large_mbi(r + 3, r, MEM_RESERVE, 0, l);
	/* A frame is mapped once: 487, as Windows 10 says. */
	LARGE_MAP_FAILS(MapUserPhysicalPages(r, 1, a), ERROR_INVALID_ADDRESS, r, 5);
	/* Protection: whole slots, whatever the range's pages. */
	W32_OK(VirtualProtect(lslot(r, 2) + pg(), 1, PAGE_READONLY, &old));
	cr_assert_eq(old, PAGE_READWRITE);
	assert_slot(lslot(r, 2), a[2], AWE_PROT_READ);
	assert_write_faults(lslot(r, 2) + l - 8);
	assert_large_mbi(lslot(r, 2), r, MEM_COMMIT, PAGE_READONLY, l);
	W32_FAIL(VirtualProtect(lslot(r, 4), 2 * l, PAGE_READONLY, &old), ERROR_INVALID_ADDRESS);
	/* Freed in large pages, unmapped on the way. */
	W32_OK(FreeUserPhysicalPages(SELF, &n, a));
	cr_assert_eq(n, 4);
	assert_large_mbi(r, r, MEM_RESERVE, 0, 5 * l);
	for (size_t i = 0; i < 4; i++)
		assert_frame_invalid(a[i]);
	n = 1;
	W32_FAIL(FreeUserPhysicalPages(SELF, &n, a), ERROR_INVALID_ADDRESS);
	cr_assert_eq(n, 0);
	free(a);
}

/* Small and large frames side by side: each kind in its own regions, one
 * call frees both, the first bad entry stops it. */
Test(large, mixing_kinds)
{
	PULONG_PTR big = large_pfns(2), small = pfns_new(2);
	char *r = large_region(2), *s = region_new(2);
	ULONG_PTR n, mix[4];

	map_ok(r, 1, big);
	map_ok(s, 1, small);
	/* Large frames: PFNs a small region cannot show. */
	MAP_FAILS(MapUserPhysicalPages(s + pg(), 1, &big[1]), ERROR_INVALID_ADDRESS, s, 2);
	MAP_FAILS(MapUserPhysicalPagesScatter((PVOID[]){s + pg()}, 1, &big[1]),
		  ERROR_INVALID_ADDRESS, s, 2);
	MAP_FAILS(MapUserPhysicalPages(s, 2, ((ULONG_PTR[]){small[1], big[1]})),
		  ERROR_INVALID_ADDRESS, s, 2);
	LARGE_MAP_FAILS(MapUserPhysicalPages(r, 2, ((ULONG_PTR[]){big[1], small[1]})),
			ERROR_INVALID_ADDRESS, r, 2);
	assert_parked(big[1]);
	assert_parked(small[1]);
	/* Free: any mix, in order, up to the first PFN not the process's. */
	mix[0] = big[0];
	mix[1] = small[0];
	mix[2] = big[0];
	mix[3] = small[1];
	n = 4;
	W32_FAIL(FreeUserPhysicalPages(SELF, &n, mix), ERROR_INVALID_ADDRESS);
	cr_assert_eq(n, 2, "freed %lu before the repeated PFN", (unsigned long)n);
	assert_unmapped(s);
	assert_slot(r, 0, AWE_PROT_NONE);
	assert_parked(small[1]);
	mix[0] = small[1];
	mix[1] = big[1];
	n = 2;
	W32_OK(FreeUserPhysicalPages(SELF, &n, mix));
	cr_assert_eq(n, 2);
	cr_assert_eq(frames_now(), 0);
	free(big);
	free(small);
}

/* ---- AllocateUserPhysicalPages2 attribute flags ------------------------------------------ */

Test(large, attribute_flags)
{
	MEM_EXTENDED_PARAMETER p = ext(MemExtendedParameterAttributeFlags, 0);
	ULONG_PTR n = 2, a[3] = {PFN_SENTINEL, PFN_SENTINEL, PFN_SENTINEL};
	static const DWORD64 bad[] = {
		MEM_EXTENDED_PARAMETER_NONPAGED | MEM_EXTENDED_PARAMETER_NONPAGED_LARGE,
		MEM_EXTENDED_PARAMETER_NONPAGED_HUGE,
		MEM_EXTENDED_PARAMETER_NONPAGED_LARGE | MEM_EXTENDED_PARAMETER_NONPAGED_HUGE,
		MEM_EXTENDED_PARAMETER_NONPAGED_LARGE | 0x01};

	/* Refused before anything else (the count of 0 included), without
	 * the privilege too. */
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		ULONG_PTR zero = 0;

		p.ULong64 = bad[i];
		W32_FAIL(AllocateUserPhysicalPages2(SELF, &n, a, &p, 1), ERROR_INVALID_PARAMETER);
		W32_FAIL(AllocateUserPhysicalPages2(SELF, &zero, NULL, &p, 1),
			 ERROR_INVALID_PARAMETER);
	}
	cr_assert_eq(n, 2);
	cr_assert(pfns_untouched(a, 0, 3));
	/* The order of the plain call, then the privilege. */
	p = large_attr();
	W32_FAIL(AllocateUserPhysicalPages2(SELF, NULL, a, &p, 1), ERROR_NOACCESS);
	W32_FAIL(AllocateUserPhysicalPages2(SELF, &n, NULL, &p, 1), ERROR_NOACCESS);
	W32_FAIL(AllocateUserPhysicalPages2(NULL, &n, a, &p, 1), ERROR_INVALID_HANDLE);
	W32_FAIL(AllocateUserPhysicalPages2(SELF, &n, a, &p, 1), ERROR_PRIVILEGE_NOT_HELD);
	cr_assert_eq(n, 2);
	cr_assert(pfns_untouched(a, 0, 3));
	/* NONPAGED stays plain pages. */
	enable_lock_privilege();
	p.ULong64 = MEM_EXTENDED_PARAMETER_NONPAGED;
	W32_OK(AllocateUserPhysicalPages2(SELF, &n, a, &p, 1));
	cr_assert_eq(n, 2);
	cr_assert(!(a[0] & AWE_FRAME_LARGE) && !(a[1] & AWE_FRAME_LARGE));
	cr_assert(pfns_untouched(a, 2, 3));
}

/* None at all: 1450, nothing written; also when the system has none. */
static int child_no_thp(void *arg)
{
	MEM_EXTENDED_PARAMETER p = large_attr();
	ULONG_PTR n = 3, a[3] = {PFN_SENTINEL, PFN_SENTINEL, PFN_SENTINEL};
	DWORD le;

	(void)arg;
	/* The process may have no transparent huge page at all. */
	CHILD_CHECK(prctl(PR_SET_THP_DISABLE, 1, 0, 0, 0) == 0, "PR_SET_THP_DISABLE: %s",
		    strerror(errno));
	CHILD_CHECK(set_lock_privilege(SE_PRIVILEGE_ENABLED, &le) && le == ERROR_SUCCESS);
	CHILD_W32_FAIL(AllocateUserPhysicalPages2(SELF, &n, a, &p, 1), ERROR_NO_SYSTEM_RESOURCES);
	CHILD_CHECK(n == 3 && pfns_untouched(a, 0, 3), "a failure wrote");
	/* Small frames are there. */
	CHILD_W32_OK(AllocateUserPhysicalPages(SELF, &n, a));
	CHILD_CHECK(n == 3);
	return 0;
}

Test(large, none_to_be_had)
{
	MEM_EXTENDED_PARAMETER p = large_attr();
	ULONG_PTR n = 3, a[3] = {PFN_SENTINEL, PFN_SENTINEL, PFN_SENTINEL};

	lpg();
	if (!engine_is_memfd()) {
		run_in_child(child_no_thp, NULL, NULL);
		return;
	}
	if (memfd_huge_possible())
		cr_skip_test("the memfd engine may have huge pages here (vm.nr_hugepages = %s, "
			     "shmem_enabled: %s): nothing to refuse",
			     setting("/proc/sys/vm/nr_hugepages"), setting(THP "shmem_enabled"));
	enable_lock_privilege();
	W32_FAIL(AllocateUserPhysicalPages2(SELF, &n, a, &p, 1), ERROR_NO_SYSTEM_RESOURCES);
	cr_assert_eq(n, 3);
	cr_assert(pfns_untouched(a, 0, 3));
	W32_FAIL(VirtualAlloc(NULL, lpg(), LARGE, PAGE_READWRITE), ERROR_NO_SYSTEM_RESOURCES);
}

/* A memory cgroup of its own for a child, limited to @limit: v1 under the
 * process's own, v2 beside it when the parent hands out the controller.
 * Skips without root or such a controller. */
static void memcg_new(char *dir, size_t len, uint64_t limit)
{
	FILE *f = fopen("/proc/self/cgroup", "r");
	char line[1024], parent[512] = "", lim[32];
	const char *file = NULL;

	skip_unless_root("creating a memory cgroup");
	while (f && fgets(line, sizeof(line), f)) {
		char *ctl = strchr(line, ':'), *path = ctl ? strchr(ctl + 1, ':') : NULL;

		if (!path)
			continue;
		*path++ = '\0';
		path[strcspn(path, "\n")] = '\0';
		if (strstr(ctl, "memory")) {
			snprintf(parent, sizeof(parent), "/sys/fs/cgroup/memory%s", path);
			file = "memory.limit_in_bytes";
		} else if (!strcmp(ctl, ":") && !file) {
			char ctls[256] = "", *slash;
			FILE *g;

			snprintf(parent, sizeof(parent), "/sys/fs/cgroup%s", path);
			slash = strrchr(parent, '/');
			if (slash && slash != parent + strlen("/sys/fs/cgroup"))
				*slash = '\0';
			snprintf(line, sizeof(line), "%s/cgroup.subtree_control", parent);
			g = fopen(line, "r");
			if (g && fgets(ctls, sizeof(ctls), g) && strstr(ctls, "memory"))
				file = "memory.max";
			if (g)
				fclose(g);
		}
	}
	if (f)
		fclose(f);
	if (!file)
		cr_skip_test("no memory cgroup controller this process can use");
	snprintf(dir, len, "%s/awe-w32-large-%d", parent, (int)getpid());
	if (mkdir(dir, 0755))
		cr_skip_test("cannot create a memory cgroup in %s: %s", parent, strerror(errno));
	snprintf(line, sizeof(line), "%s/%s", dir, file);
	snprintf(lim, sizeof(lim), "%" PRIu64 "\n", limit);
	f = fopen(line, "w");
	if (!f || fputs(lim, f) < 0 || fclose(f)) {
		rmdir(dir);
		cr_skip_test("cannot limit memory cgroup %s", dir);
	}
}

#define CG_LIMIT (64 * MiB)

struct partial_job {
	const char *cg;
	size_t want;
};

/* Fewer than asked: success with the smaller count, as Windows does. Here
 * the memory cgroup's limit runs out half way. */
static int child_partial(void *arg)
{
	const struct partial_job *j = arg;
	MEM_EXTENDED_PARAMETER p = large_attr();
	ULONG_PTR n = j->want, *a = malloc((j->want + 1) * sizeof(*a));
	char path[600], pid[32];
	FILE *f;
	DWORD le;

	CHILD_CHECK(a != NULL);
	for (size_t i = 0; i <= j->want; i++)
		a[i] = PFN_SENTINEL;
	snprintf(path, sizeof(path), "%s/cgroup.procs", j->cg);
	snprintf(pid, sizeof(pid), "%d\n", (int)getpid());
	f = fopen(path, "w");
	CHILD_CHECK(f && fputs(pid, f) >= 0 && fclose(f) == 0, "joining %s: %s", j->cg,
		    strerror(errno));
	CHILD_CHECK(set_lock_privilege(SE_PRIVILEGE_ENABLED, &le) && le == ERROR_SUCCESS);
	if (!AllocateUserPhysicalPages2(SELF, &n, a, &p, 1) &&
	    GetLastError() == ERROR_NO_SYSTEM_RESOURCES && n == j->want)
		return 77; /* no huge page at all */
	CHILD_CHECK(n > 0 && n < j->want && n * awe_large_page_size() <= CG_LIMIT,
		    "got %lu of %zu large pages in a %zu MiB cgroup", (unsigned long)n, j->want,
		    CG_LIMIT / MiB);
	CHILD_CHECK(pfns_untouched(a, n, j->want + 1), "PFNs past the count written");
	for (size_t i = 0; i < n; i++)
		CHILD_CHECK(a[i] & AWE_FRAME_LARGE);
	CHILD_W32_OK(FreeUserPhysicalPages(SELF, &n, a));
	free(a);
	return 0;
}

Test(large, partial)
{
	char cg[600];
	struct partial_job j = {cg, 2 * CG_LIMIT / lpg()};
	int st;

	memcg_new(cg, sizeof(cg), CG_LIMIT);
	st = child_status(child_partial, &j, NULL);
	for (int i = 0; i < 100 && rmdir(cg) && errno == EBUSY; i++)
		usleep(10000);
	if (st == 77)
		skip_no_huge("large frames", engine_is_memfd());
	cr_assert_eq(st, 0, "child exited with %d (see its stderr)", st);
}

/* ---- SEC_LARGE_PAGES sections --------------------------------------------------------------- */

/* The privilege, after every argument check (it needs no huge page). */
Test(large, section_create_checks)
{
	MEM_EXTENDED_PARAMETER p = awe_param();
	const ULONG attrs = SEC_RESERVE | SEC_LARGE_PAGES;

	W32_FAIL(CreateFileMapping2(INVALID_HANDLE_VALUE, NULL, RW_ACCESS, PAGE_READWRITE, attrs, 0,
				    NULL, &p, 1),
		 ERROR_PRIVILEGE_NOT_HELD);
	W32_FAIL(CreateFileMapping2(INVALID_HANDLE_VALUE, NULL, RW_ACCESS, PAGE_READONLY, attrs, 0,
				    NULL, &p, 1),
		 ERROR_INVALID_PARAMETER);
	W32_FAIL(CreateFileMapping2(INVALID_HANDLE_VALUE, NULL, RW_ACCESS, PAGE_READWRITE, attrs,
				    lpg(), NULL, &p, 1),
		 ERROR_INVALID_PARAMETER);
	W32_FAIL(CreateFileMapping2(INVALID_HANDLE_VALUE, NULL, RW_ACCESS, PAGE_READWRITE,
				    SEC_COMMIT | SEC_LARGE_PAGES, 0, NULL, &p, 1),
		 ERROR_INVALID_PARAMETER);
	W32_FAIL(CreateFileMapping2(NULL, NULL, RW_ACCESS, PAGE_READWRITE, attrs, 0, NULL, &p, 1),
		 ERROR_INVALID_HANDLE);
	enable_lock_privilege();
	W32_FAIL(CreateFileMapping2(INVALID_HANDLE_VALUE, NULL, RW_ACCESS, PAGE_READWRITE,
				    SEC_RESERVE | SEC_LARGE_PAGES | SEC_NOCACHE, 0, NULL, &p, 1),
		 ERROR_INVALID_PARAMETER);
	/* With the privilege: a section, or 1450 where none can have huge
	 * pages, which the settings must then confirm. */
	{
		struct w32_res x =
			W32_CALL(CreateFileMapping2(INVALID_HANDLE_VALUE, NULL, RW_ACCESS,
						    PAGE_READWRITE, attrs, 0, NULL, &p, 1));

		if (x.r) {
			W32_OK(CloseHandle((HANDLE)(uintptr_t)x.r));
		} else {
			cr_assert_eq(x.le, ERROR_NO_SYSTEM_RESOURCES, "last error %u", x.le);
			cr_assert_eq(x.e, ERROR_NO_SYSTEM_RESOURCES);
			cr_assert(!memfd_huge_possible(),
				  "1450 although the settings allow huge pages for sections");
		}
	}
}

static int child_section_not_held(void *arg)
{
	MEM_EXTENDED_PARAMETER p = awe_param();
	HANDLE s;
	DWORD le;

	(void)arg;
	unsetenv("LIBAWE_UNLOCKED");
	CHILD_CHECK(set_lock_privilege(SE_PRIVILEGE_ENABLED, &le) == TRUE &&
			    le == ERROR_NOT_ALL_ASSIGNED,
		    "le %u", le);
	CHILD_W32_FAIL(CreateFileMapping2(INVALID_HANDLE_VALUE, NULL, RW_ACCESS, PAGE_READWRITE,
					  SEC_RESERVE | SEC_LARGE_PAGES, 0, NULL, &p, 1),
		       ERROR_PRIVILEGE_NOT_HELD);
	/* A section of small pages needs none to be created. */
	s = CreateFileMapping2(INVALID_HANDLE_VALUE, NULL, RW_ACCESS, PAGE_READWRITE, SEC_RESERVE,
			       0, NULL, &p, 1);
	CHILD_CHECK(s != NULL, "%u", GetLastError());
	return 0;
}

Test(large, section_privilege_not_held)
{
	run_as_nobody(child_section_not_held, NULL, 8 * MiB);
}

/* A section of small pages has neither large pages nor large views. */
Test(large, small_section_is_small)
{
	HANDLE s = section_rw();
	MEM_EXTENDED_PARAMETER p = large_attr(), h;
	ULONG_PTR n = 1, a[1] = {PFN_SENTINEL};

	enable_lock_privilege();
	W32_FAIL(AllocateUserPhysicalPages2(s, &n, a, &p, 1), ERROR_INVALID_PARAMETER);
	cr_assert_eq(n, 1);
	cr_assert(pfns_untouched(a, 0, 1));
	memset(&h, 0, sizeof(h));
	h.Type = MemExtendedParameterUserPhysicalHandle;
	h.Handle = s;
	REGION_FAILS(VirtualAlloc2(SELF, NULL, lpg(), LARGE, PAGE_READWRITE, &h, 1),
		     ERROR_INVALID_PARAMETER);
	/* Without MEM_LARGE_PAGES: a small view. */
	W32_OK(VirtualAlloc2(SELF, NULL, pg(), MEM_RESERVE | MEM_PHYSICAL, PAGE_READWRITE, &h, 1));
}

/* OpenJDK ZGC's large-page heap on Windows (zMapper_windows.cpp,
 * zPhysicalMemoryBacking_windows.cpp), call for call. */
Test(large, zgc_sequence)
{
	enum { GRANULE = 3, GRANULES = 8 };
	size_t l = lpg();
	HANDLE section = zgc_section();
	MEM_EXTENDED_PARAMETER parameter = {0};
	PULONG_PTR array = pfn_array(GRANULE + GRANULES + 1);
	char *want = free_large(GRANULES), *addr, *other;
	ULONG_PTR npages, freed;

	/* Reserving needs no privilege: ZGC asks for none. */
	disable_lock_privilege();
	parameter.Type = MemExtendedParameterUserPhysicalHandle;
	parameter.Handle = section;
	addr = VirtualAlloc2(GetCurrentProcess(), want, GRANULES * l, MEM_RESERVE | MEM_PHYSICAL,
			     PAGE_READWRITE, &parameter, 1);
	cr_assert_eq(addr, want, "VirtualAlloc2: %p, last error %u", (void *)addr, GetLastError());
	assert_large_mbi(addr, addr, MEM_RESERVE, 0, GRANULES * l);
	/* Committing, granule range by granule range as the heap grows:
	 * counts and PFNs in large pages, fewer accepted; each range mapped
	 * where it belongs. */
	enable_lock_privilege();
	npages = 0;
	for (size_t want_n = GRANULES / 2; npages < GRANULES; want_n = GRANULES - npages) {
		ULONG_PTR got = want_n;

		cr_assert(AllocateUserPhysicalPages(section, &got, &array[GRANULE + npages]),
			  "commit %zu granules at %lu: %u", want_n, (unsigned long)npages,
			  GetLastError());
		cr_assert(got >= 1 && got <= want_n, "allocated %lu", (unsigned long)got);
		cr_assert(pfns_untouched(array, GRANULE + npages + got, GRANULE + GRANULES + 1),
			  "PFNs written past the granules allocated");
		cr_assert(MapUserPhysicalPages(lslot(addr, npages), got, &array[GRANULE + npages]),
			  "map: %u", GetLastError());
		npages += got;
		if (got < want_n)
			break; /* ZGC takes what it got */
	}
	cr_assert(pfns_untouched(array, 0, GRANULE), "PFNs written before the granule");
	for (size_t i = 0; i < npages; i++)
		cr_assert(array[GRANULE + i] & AWE_FRAME_LARGE);
	assert_huge_slots(addr, npages);
	for (size_t i = 0; i < npages; i++)
		stamp_large(lslot(addr, i), 0x2c00 + i);
	assert_large_mbi(addr + 7, addr, MEM_COMMIT, PAGE_READWRITE, npages * l);
	/* The same memory through a second view (ZGC's multi-mapping). */
	other = large_view(section, NULL, GRANULES);
	cr_assert(MapUserPhysicalPages(other, npages, &array[GRANULE]), "%u", GetLastError());
	for (size_t i = 0; i < npages; i++)
		assert_large_stamp(lslot(other, i), 0x2c00 + i);
	stamp_large(other, 0xfeed);
	assert_large_stamp(addr, 0xfeed);
	/* Unmapping one view leaves the other. */
	cr_assert(MapUserPhysicalPages(addr, npages, NULL), "unmap: %u", GetLastError());
	assert_large_mbi(addr, addr, MEM_RESERVE, 0, GRANULES * l);
	assert_section_fault(probe_read(addr), addr, "read after unmap");
	assert_large_stamp(lslot(other, npages - 1),
			   npages == 1 ? 0xfeed : 0x2c00 + (uint64_t)npages - 1);
	/* Uncommitting takes the pages off every view. */
	freed = npages;
	cr_assert(FreeUserPhysicalPages(section, &freed, &array[GRANULE]), "%u", GetLastError());
	cr_assert_eq(freed, npages);
	assert_large_mbi(other, other, MEM_RESERVE, 0, GRANULES * l);
	W32_OK(VirtualFree(addr, 0, MEM_RELEASE));
	W32_OK(VirtualFree(other, 0, MEM_RELEASE));
	W32_OK(CloseHandle(section));
	free(array);
}

/* The section's unit everywhere: its views, its pages, and whose frames
 * fit where. */
Test(large, section_rules)
{
	size_t l = lpg();
	HANDLE s = zgc_section();
	MEM_EXTENDED_PARAMETER np =
		ext(MemExtendedParameterAttributeFlags, MEM_EXTENDED_PARAMETER_NONPAGED);
	PULONG_PTR small = pfns_new(1);
	char *hole = free_large(3), *v, *w;
	ULONG_PTR n = 2, a[3] = {PFN_SENTINEL, PFN_SENTINEL, PFN_SENTINEL};

	/* Views: whole large pages, with or without MEM_LARGE_PAGES. */
	W32_FAIL(va2_section(s, NULL, l + pg()), ERROR_INVALID_PARAMETER);
	W32_FAIL(va2_section(s, hole + GRANULARITY, l), ERROR_INVALID_PARAMETER);
	v = large_view(s, hole, 2);
	{
		MEM_EXTENDED_PARAMETER h;

		memset(&h, 0, sizeof(h));
		h.Type = MemExtendedParameterUserPhysicalHandle;
		h.Handle = s;
		w = W32_OK(VirtualAlloc2(SELF, NULL, l, LARGE, PAGE_READWRITE, &h, 1));
		disable_lock_privilege();
		W32_FAIL(VirtualAlloc2(SELF, NULL, l, LARGE, PAGE_READWRITE, &h, 1),
			 ERROR_PRIVILEGE_NOT_HELD);
		enable_lock_privilege();
	}
	/* Its pages are large whatever the flags say. */
	W32_OK(AllocateUserPhysicalPages2(s, &n, a, &np, 1));
	cr_assert_eq(n, 2);
	cr_assert(a[0] & AWE_FRAME_LARGE && a[1] & AWE_FRAME_LARGE);
	cr_assert(pfns_untouched(a, 2, 3));
	/* Only they fit its views; they fit nothing else. */
	LARGE_MAP_FAILS(MapUserPhysicalPages(v, 1, small), ERROR_INVALID_ADDRESS, v, 2);
	LARGE_MAP_FAILS(MapUserPhysicalPages(v + pg(), 1, a), ERROR_INVALID_PARAMETER, v, 2);
	W32_OK(MapUserPhysicalPages(v, 2, ((ULONG_PTR[]){a[1], a[1]})));
	W32_OK(MapUserPhysicalPagesScatter((PVOID[]){w}, 1, a));
	W32_FAIL(MapUserPhysicalPagesScatter((PVOID[]){w, region_new(1)}, 2, NULL),
		 ERROR_INVALID_PARAMETER);
	{
		char *mine = large_region(1);

		LARGE_MAP_FAILS(MapUserPhysicalPages(mine, 1, a), ERROR_INVALID_ADDRESS, mine, 1);
	}
	n = 2;
	W32_OK(FreeUserPhysicalPages(s, &n, a));
	cr_assert_eq(n, 2);
	W32_OK(CloseHandle(s));
	free(small);
}

/* ---- NUMA ----------------------------------------------------------------------------------- */

/* The node of each of @n frames, where the kernel can tell; else skip. */
static void assert_frames_on(const ULONG_PTR *a, size_t n, int want)
{
	for (size_t i = 0; i < n; i++) {
		int node = -7, r = awe_frame_node(a[i], &node);

		if (r == -ENOSYS) {
			cr_assert_eq(numa_nodes(), 1, "no NUMA in the kernel, yet %u nodes",
				     numa_nodes());
			return;
		}
		cr_assert_eq(r, 0, "awe_frame_node(%#lx): %s", (unsigned long)a[i],
			     awe_strerror(r));
		cr_assert_eq(node, want, "frame %#lx is on node %d, asked for %d",
			     (unsigned long)a[i], node, want);
	}
}

/* Node 0 always exists; the node count never does. This machine has one
 * node, so where the frames end up shows only that the node got through,
 * not that another would be honoured (no fake NUMA here). */
Test(numa, process_nodes)
{
	ULONG nodes = numa_nodes();
	MEM_EXTENDED_PARAMETER p = ext(MemExtendedParameterNumaNode, 0);
	ULONG_PTR n = 4, a[5];

	for (size_t i = 0; i < 5; i++)
		a[i] = PFN_SENTINEL;
	enable_lock_privilege();
	W32_OK(AllocateUserPhysicalPagesNuma(SELF, &n, a, 0));
	cr_assert_eq(n, 4);
	assert_frames_on(a, 4, 0);
	n = 1;
	W32_FAIL(AllocateUserPhysicalPagesNuma(SELF, &n, &a[4], nodes), ERROR_INVALID_PARAMETER);
	/* MANDATORY: accepted, honoured as a preference. */
	p.ULong64 |= MEM_EXTENDED_PARAMETER_NUMA_NODE_MANDATORY;
	W32_OK(AllocateUserPhysicalPages2(SELF, &n, &a[4], &p, 1));
	assert_frames_on(&a[4], 1, 0);
	p = ext(MemExtendedParameterNumaNode, nodes | MEM_EXTENDED_PARAMETER_NUMA_NODE_MANDATORY);
	W32_FAIL(AllocateUserPhysicalPages2(SELF, &n, a, &p, 1), ERROR_INVALID_PARAMETER);
	p = ext(MemExtendedParameterNumaNode, nodes);
	W32_FAIL(AllocateUserPhysicalPages2(SELF, &n, a, &p, 1), ERROR_INVALID_PARAMETER);
	n = 5;
	W32_OK(FreeUserPhysicalPages(SELF, &n, a));
}

Test(numa, large_frames_on_a_node)
{
	MEM_EXTENDED_PARAMETER p[2] = {ext(MemExtendedParameterNumaNode,
					   0 | MEM_EXTENDED_PARAMETER_NUMA_NODE_MANDATORY),
				       large_attr()};
	PULONG_PTR probe = large_pfns(1);
	ULONG_PTR n = 2, a[3] = {PFN_SENTINEL, PFN_SENTINEL, PFN_SENTINEL};

	W32_OK(AllocateUserPhysicalPages2(SELF, &n, a, p, 2));
	cr_assert_eq(n, 2);
	cr_assert(a[0] & AWE_FRAME_LARGE && a[1] & AWE_FRAME_LARGE);
	cr_assert(pfns_untouched(a, 2, 3));
	assert_frames_on(a, 2, 0);
	p[0] = ext(MemExtendedParameterNumaNode, numa_nodes());
	W32_FAIL(AllocateUserPhysicalPages2(SELF, &n, a, p, 2), ERROR_INVALID_PARAMETER);
	free(probe);
}

/* A section's node: its own (MemSectionExtendedParameterNumaNode), or the
 * one an allocation names; today's sections no longer ignore it. */
Test(numa, sections)
{
	ULONG nodes = numa_nodes();
	MEM_EXTENDED_PARAMETER two[2] = {awe_param(), ext(MemSectionExtendedParameterNumaNode, 0)};
	MEM_EXTENDED_PARAMETER p = ext(MemExtendedParameterNumaNode, 0);
	ULONG_PTR n = 2, a[6];
	HANDLE s, t;

	for (size_t i = 0; i < 6; i++)
		a[i] = PFN_SENTINEL;
	s = CreateFileMapping2(INVALID_HANDLE_VALUE, NULL, RW_ACCESS, PAGE_READWRITE, SEC_RESERVE,
			       0, NULL, two, 2);
	cr_assert_not_null(s, "%u", GetLastError());
	two[1].ULong64 = nodes;
	W32_FAIL(CreateFileMapping2(INVALID_HANDLE_VALUE, NULL, RW_ACCESS, PAGE_READWRITE,
				    SEC_RESERVE, 0, NULL, two, 2),
		 ERROR_INVALID_PARAMETER);
	enable_lock_privilege();
	W32_OK(AllocateUserPhysicalPages(s, &n, a));
	assert_frames_on(a, 2, 0);
	t = section_rw();
	W32_OK(AllocateUserPhysicalPagesNuma(t, &n, &a[2], 0));
	assert_frames_on(&a[2], 2, 0);
	W32_FAIL(AllocateUserPhysicalPagesNuma(t, &n, &a[4], nodes), ERROR_INVALID_PARAMETER);
	p.ULong64 |= MEM_EXTENDED_PARAMETER_NUMA_NODE_MANDATORY;
	W32_OK(AllocateUserPhysicalPages2(s, &n, &a[4], &p, 1));
	assert_frames_on(&a[4], 2, 0);
	p = ext(MemExtendedParameterNumaNode, nodes);
	W32_FAIL(AllocateUserPhysicalPages2(t, &n, a, &p, 1), ERROR_INVALID_PARAMETER);
	W32_OK(CloseHandle(s));
	W32_OK(CloseHandle(t));
}
