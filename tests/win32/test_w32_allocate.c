/* SPDX-License-Identifier: MIT */
/*
 * §7: AllocateUserPhysicalPages, ...Numa and ...2. The order of the checks,
 * the extended parameters, partial allocation, and the frames themselves.
 * On every failure *NumberOfPages and PageArray stay as they were.
 */
#include "w32helpers.h"

#define SELF GetCurrentProcess()
#define TOO_MANY ((ULONG_PTR)(UINTPTR_MAX / sizeof(ULONG_PTR)) + 1)

/* The call fails with @code and changes neither *@n nor @a[0..@len). */
#define ALLOC_FAILS(call, code, n, want, a, len)                                                   \
	do {                                                                                       \
		W32_FAIL(call, code);                                                              \
		cr_assert_eq((n), (want), "%s changed *NumberOfPages to %#lx", #call,              \
			     (unsigned long)(n));                                                  \
		cr_assert(pfns_untouched((a), 0, (len)), "%s wrote PageArray", #call);             \
	} while (0)

static uint64_t frames_now(void)
{
	return get_stats().frames_allocated;
}

Test(allocate, number_of_pages_null)
{
	ULONG_PTR a[2] = {PFN_SENTINEL, PFN_SENTINEL};

	enable_lock_privilege();
	W32_FAIL(AllocateUserPhysicalPages(SELF, NULL, a), ERROR_NOACCESS);
	W32_FAIL(AllocateUserPhysicalPagesNuma(SELF, NULL, a, 0), ERROR_NOACCESS);
	W32_FAIL(AllocateUserPhysicalPages2(SELF, NULL, a, NULL, 0), ERROR_NOACCESS);
	/* Before the handle and the array. */
	W32_FAIL(AllocateUserPhysicalPages(NULL, NULL, NULL), ERROR_NOACCESS);
	cr_assert(pfns_untouched(a, 0, 2));
}

/* n == 0 succeeds before anything else is looked at. */
Test(allocate, zero_pages_checks_nothing_else)
{
	ULONG_PTR n = 0;

	W32_OK(AllocateUserPhysicalPages(SELF, &n, NULL));
	W32_OK(AllocateUserPhysicalPages(NULL, &n, NULL));
	W32_OK(AllocateUserPhysicalPages((HANDLE)(uintptr_t)0x1234, &n, misaligned(&n)));
	W32_OK(AllocateUserPhysicalPagesNuma(NULL, &n, NULL, 0));
	W32_OK(AllocateUserPhysicalPages2(NULL, &n, NULL, NULL, 0));
	cr_assert_eq(n, 0);
	/* Without the privilege (it is still disabled). */
	n = 1;
	W32_FAIL(AllocateUserPhysicalPages(SELF, &n, &(ULONG_PTR){0}), ERROR_PRIVILEGE_NOT_HELD);
	cr_assert_eq(frames_now(), 0);
}

Test(allocate, too_many_pages)
{
	static const ULONG_PTR counts[] = {TOO_MANY, TOO_MANY + 1, UINTPTR_MAX / 2, UINTPTR_MAX};
	ULONG_PTR a[1] = {PFN_SENTINEL};

	for (size_t i = 0; i < sizeof(counts) / sizeof(counts[0]); i++) {
		ULONG_PTR n = counts[i];

		/* Before the array, the handle and the privilege. */
		ALLOC_FAILS(AllocateUserPhysicalPages(NULL, &n, NULL), ERROR_INVALID_PARAMETER, n,
			    counts[i], a, 1);
		ALLOC_FAILS(AllocateUserPhysicalPages(SELF, &n, a), ERROR_INVALID_PARAMETER, n,
			    counts[i], a, 1);
		ALLOC_FAILS(AllocateUserPhysicalPagesNuma(SELF, &n, a, 0), ERROR_INVALID_PARAMETER,
			    n, counts[i], a, 1);
		ALLOC_FAILS(AllocateUserPhysicalPages2(SELF, &n, a, NULL, 0),
			    ERROR_INVALID_PARAMETER, n, counts[i], a, 1);
	}
}

Test(allocate, page_array_null_or_misaligned)
{
	ULONG_PTR n = 4, a[5];

	for (size_t i = 0; i < 5; i++)
		a[i] = PFN_SENTINEL;
	/* Before the handle and the privilege. */
	ALLOC_FAILS(AllocateUserPhysicalPages(NULL, &n, NULL), ERROR_NOACCESS, n, 4, a, 5);
	ALLOC_FAILS(AllocateUserPhysicalPages(SELF, &n, NULL), ERROR_NOACCESS, n, 4, a, 5);
	ALLOC_FAILS(AllocateUserPhysicalPages(SELF, &n, misaligned(a)), ERROR_NOACCESS, n, 4, a, 5);
	ALLOC_FAILS(AllocateUserPhysicalPages(SELF, &n, (PULONG_PTR)((char *)a + 4)),
		    ERROR_NOACCESS, n, 4, a, 5);
	enable_lock_privilege();
	ALLOC_FAILS(AllocateUserPhysicalPagesNuma(SELF, &n, NULL, 0), ERROR_NOACCESS, n, 4, a, 5);
	ALLOC_FAILS(AllocateUserPhysicalPages2(SELF, &n, misaligned(a), NULL, 0), ERROR_NOACCESS, n,
		    4, a, 5);
	cr_assert_eq(frames_now(), 0);
}

/* The handle comes before the privilege: a bad handle is 6 even without it. */
Test(allocate, handle_before_privilege)
{
	HANDLE noright = open_self(PROCESS_QUERY_INFORMATION);
	ULONG_PTR n = 2, a[2] = {PFN_SENTINEL, PFN_SENTINEL};

	ALLOC_FAILS(AllocateUserPhysicalPages(NULL, &n, a), ERROR_INVALID_HANDLE, n, 2, a, 2);
	ALLOC_FAILS(AllocateUserPhysicalPages(noright, &n, a), ERROR_ACCESS_DENIED, n, 2, a, 2);
	ALLOC_FAILS(AllocateUserPhysicalPages(SELF, &n, a), ERROR_PRIVILEGE_NOT_HELD, n, 2, a, 2);
	enable_lock_privilege();
	ALLOC_FAILS(AllocateUserPhysicalPages(NULL, &n, a), ERROR_INVALID_HANDLE, n, 2, a, 2);
	ALLOC_FAILS(AllocateUserPhysicalPages(noright, &n, a), ERROR_ACCESS_DENIED, n, 2, a, 2);
	cr_assert_eq(frames_now(), 0);
	W32_OK(CloseHandle(noright));
}

/* The frames: exactly n PFNs written, non-zero, distinct, zero-filled, libawe's own. */
Test(allocate, frames_are_fresh_and_distinct)
{
	enum { N = 300 };
	PULONG_PTR a = pfn_array(N + 4);
	ULONG_PTR n = N;
	char *r = region_new(N);

	enable_lock_privilege();
	W32_OK(AllocateUserPhysicalPages(SELF, &n, a));
	cr_assert_eq(n, N);
	cr_assert(pfns_untouched(a, N, N + 4), "entries past n were written");
	assert_distinct_nonzero(a, N);
	cr_assert_eq(frames_now(), N);
	for (size_t i = 0; i < N; i++)
		assert_parked(a[i]);
	map_ok(r, N, a);
	for (size_t i = 0; i < N; i++) {
		assert_mapped(r + i * pg(), a[i]);
		assert_page_zero(r + i * pg());
	}
	free(a);
}

/* Frames freed and allocated again come back zeroed. */
Test(allocate, reallocated_frames_are_zero)
{
	enum { N = 32 };
	PULONG_PTR a = pfns_new(N);
	ULONG_PTR n = N;
	char *r = region_new(N);

	map_ok(r, N, a);
	for (size_t i = 0; i < N; i++)
		fill_page(r + i * pg(), i);
	W32_OK(FreeUserPhysicalPages(SELF, &n, a));
	n = N;
	W32_OK(AllocateUserPhysicalPages(SELF, &n, a));
	cr_assert_eq(n, N);
	map_ok(r, N, a);
	for (size_t i = 0; i < N; i++)
		assert_page_zero(r + i * pg());
	free(a);
}

Test(allocate, with_an_opened_handle)
{
	HANDLE h = open_self(PROCESS_VM_OPERATION);
	ULONG_PTR n = 3, a[3];

	enable_lock_privilege();
	W32_OK(AllocateUserPhysicalPages(h, &n, a));
	cr_assert_eq(n, 3);
	assert_distinct_nonzero(a, 3);
	W32_OK(CloseHandle(h));
}

/* ---- Numa ------------------------------------------------------------------------------------ */

Test(allocate, numa_nodes)
{
	ULONG nodes = numa_nodes();
	ULONG_PTR n, a[8];

	enable_lock_privilege();
	for (ULONG node = 0; node < nodes; node++) {
		n = 8;
		W32_OK(AllocateUserPhysicalPagesNuma(SELF, &n, a, node));
		cr_assert_eq(n, 8);
		assert_distinct_nonzero(a, 8);
	}
	for (size_t i = 0; i < 8; i++)
		a[i] = PFN_SENTINEL;
	n = 8;
	ALLOC_FAILS(AllocateUserPhysicalPagesNuma(SELF, &n, a, nodes), ERROR_INVALID_PARAMETER, n,
		    8, a, 8);
	ALLOC_FAILS(AllocateUserPhysicalPagesNuma(SELF, &n, a, 0xFFFFFFFFu),
		    ERROR_INVALID_PARAMETER, n, 8, a, 8);
}

/* The node is checked first of all, before NumberOfPages. */
Test(allocate, numa_node_checked_first)
{
	ULONG nodes = numa_nodes();
	ULONG_PTR zero = 0, n = 1;

	W32_FAIL(AllocateUserPhysicalPagesNuma(SELF, NULL, NULL, nodes), ERROR_INVALID_PARAMETER);
	W32_FAIL(AllocateUserPhysicalPagesNuma(SELF, &zero, NULL, nodes), ERROR_INVALID_PARAMETER);
	W32_FAIL(AllocateUserPhysicalPagesNuma(NULL, &n, NULL, nodes), ERROR_INVALID_PARAMETER);
	cr_assert_eq(zero, 0);
	cr_assert_eq(n, 1);
}

/* ---- AllocateUserPhysicalPages2 ------------------------------------------------------ */

/* @p[0..@cnt) must be rejected with @code before anything else, even n == 0. */
static void assert_ext_rejected(MEM_EXTENDED_PARAMETER *p, ULONG cnt, DWORD code)
{
	ULONG_PTR zero = 0, n = 2, a[2] = {PFN_SENTINEL, PFN_SENTINEL};

	enable_lock_privilege();
	ALLOC_FAILS(AllocateUserPhysicalPages2(SELF, &n, a, p, cnt), code, n, 2, a, 2);
	ALLOC_FAILS(AllocateUserPhysicalPages2(SELF, &zero, NULL, p, cnt), code, zero, 0, a, 2);
	W32_FAIL(AllocateUserPhysicalPages2(SELF, NULL, NULL, p, cnt), code);
	W32_FAIL(AllocateUserPhysicalPages2(NULL, &n, a, p, cnt), code);
	cr_assert_eq(frames_now(), 0);
}

static void assert_ext_accepted(MEM_EXTENDED_PARAMETER *p, ULONG cnt)
{
	ULONG_PTR n = 4, a[5];

	for (size_t i = 0; i < 5; i++)
		a[i] = PFN_SENTINEL;
	enable_lock_privilege();
	W32_OK(AllocateUserPhysicalPages2(SELF, &n, a, p, cnt));
	cr_assert_eq(n, 4, "plain pages: *NumberOfPages counts base pages");
	cr_assert(pfns_untouched(a, 4, 5));
	assert_distinct_nonzero(a, 4);
	W32_OK(FreeUserPhysicalPages(SELF, &n, a));
}

Test(allocate, alloc2_without_parameters)
{
	MEM_EXTENDED_PARAMETER p = ext(MemExtendedParameterNumaNode, 0);

	assert_ext_accepted(NULL, 0);
	/* A pointer without a count, or a count without a pointer. */
	assert_ext_rejected(&p, 0, ERROR_INVALID_PARAMETER);
	assert_ext_rejected(NULL, 1, ERROR_INVALID_PARAMETER);
}

Test(allocate, alloc2_numa_node)
{
	ULONG nodes = numa_nodes();
	MEM_EXTENDED_PARAMETER p;

	for (ULONG node = 0; node < nodes; node++) {
		p = ext(MemExtendedParameterNumaNode, node);
		assert_ext_accepted(&p, 1);
		p.ULong64 |= MEM_EXTENDED_PARAMETER_NUMA_NODE_MANDATORY;
		assert_ext_accepted(&p, 1);
	}
	p = ext(MemExtendedParameterNumaNode, nodes);
	assert_ext_rejected(&p, 1, ERROR_INVALID_PARAMETER);
	p = ext(MemExtendedParameterNumaNode, 0xFFFFFFFF);
	assert_ext_rejected(&p, 1, ERROR_INVALID_PARAMETER);
	p = ext(MemExtendedParameterNumaNode, (DWORD64)1 << 32);
	assert_ext_rejected(&p, 1, ERROR_INVALID_PARAMETER);
	p = ext(MemExtendedParameterNumaNode, nodes | MEM_EXTENDED_PARAMETER_NUMA_NODE_MANDATORY);
	assert_ext_rejected(&p, 1, ERROR_INVALID_PARAMETER);
}

Test(allocate, alloc2_attribute_flags)
{
	MEM_EXTENDED_PARAMETER p;
	ULONG_PTR zero = 0;
	static const DWORD64 bad[] = {
		0x01,
		0x04,
		MEM_EXTENDED_PARAMETER_NONPAGED_HUGE,
		0x20,
		0x200,
		MEM_EXTENDED_PARAMETER_NONPAGED | MEM_EXTENDED_PARAMETER_NONPAGED_LARGE};

	p = ext(MemExtendedParameterAttributeFlags, 0);
	assert_ext_accepted(&p, 1);
	p = ext(MemExtendedParameterAttributeFlags, MEM_EXTENDED_PARAMETER_NONPAGED);
	assert_ext_accepted(&p, 1);
	/* Large pages pass the checks (their frames: test_w32_large.c). */
	p = ext(MemExtendedParameterAttributeFlags, MEM_EXTENDED_PARAMETER_NONPAGED_LARGE);
	W32_OK(AllocateUserPhysicalPages2(SELF, &zero, NULL, &p, 1));
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		p = ext(MemExtendedParameterAttributeFlags, bad[i]);
		assert_ext_rejected(&p, 1, ERROR_INVALID_PARAMETER);
	}
}

Test(allocate, alloc2_other_types)
{
	static const DWORD64 types[] = {MemExtendedParameterInvalidType,
					MemExtendedParameterAddressRequirements,
					MemExtendedParameterPartitionHandle,
					MemExtendedParameterUserPhysicalHandle,
					MemExtendedParameterImageMachine,
					MemExtendedParameterMax,
					0xFF};
	MEM_EXTENDED_PARAMETER p;

	for (size_t i = 0; i < sizeof(types) / sizeof(types[0]); i++) {
		p = ext(types[i], 0);
		assert_ext_rejected(&p, 1, ERROR_INVALID_PARAMETER);
	}
}

Test(allocate, alloc2_reserved_bits)
{
	MEM_EXTENDED_PARAMETER p = ext(MemExtendedParameterNumaNode, 0);

	p.Reserved = 1;
	assert_ext_rejected(&p, 1, ERROR_INVALID_PARAMETER);
	p.Reserved = (DWORD64)1 << 55;
	assert_ext_rejected(&p, 1, ERROR_INVALID_PARAMETER);
}

Test(allocate, alloc2_type_twice)
{
	MEM_EXTENDED_PARAMETER p[2] = {ext(MemExtendedParameterNumaNode, 0),
				       ext(MemExtendedParameterNumaNode, 0)};

	assert_ext_rejected(p, 2, ERROR_INVALID_PARAMETER);
	p[0] = p[1] = ext(MemExtendedParameterAttributeFlags, 0);
	assert_ext_rejected(p, 2, ERROR_INVALID_PARAMETER);
	/* NumaNode and AttributeFlags together are fine. */
	p[1] = ext(MemExtendedParameterNumaNode, 0);
	assert_ext_accepted(p, 2);
}

/* Only a handle of this process is an object handle (AWE sections come later). */
Test(allocate, alloc2_object_handle)
{
	ULONG_PTR n = 1, a[1] = {PFN_SENTINEL};
	HANDLE tok = open_token(TOKEN_QUERY);

	enable_lock_privilege();
	ALLOC_FAILS(AllocateUserPhysicalPages2(tok, &n, a, NULL, 0), ERROR_INVALID_HANDLE, n, 1, a,
		    1);
	ALLOC_FAILS(AllocateUserPhysicalPages2(bogus_handle(0x40), &n, a, NULL, 0),
		    ERROR_INVALID_HANDLE, n, 1, a, 1);
	W32_OK(AllocateUserPhysicalPages2(SELF, &n, a, NULL, 0));
	cr_assert_eq(n, 1);
}

/* ---- Running out ----------------------------------------------------------------------- */

/*
 * Held through a 64 MiB RLIMIT_MEMLOCK, frames locked: a larger request is
 * cut down, and once the allowance is used up nothing is allocated (1455).
 */
static int child_partial(void *arg)
{
	enum { WANT = 64 * 1024 }; /* 256 MiB of 4 KiB frames */
	PULONG_PTR a = malloc((WANT + 1) * sizeof(*a));
	ULONG_PTR n = WANT, m = 16, freed;
	DWORD le;

	(void)arg;
	unsetenv("LIBAWE_UNLOCKED");
	CHILD_CHECK(a);
	for (size_t i = 0; i <= WANT; i++)
		a[i] = PFN_SENTINEL;
	CHILD_CHECK(set_lock_privilege(SE_PRIVILEGE_ENABLED, &le) && le == 0, "not held: %u", le);
	CHILD_W32_OK(AllocateUserPhysicalPages(GetCurrentProcess(), &n, a));
	CHILD_CHECK(n > 0 && n < WANT, "a 64 MiB allowance gave %lu of %d frames", (unsigned long)n,
		    WANT);
	CHILD_CHECK(n * pg() <= 64 * MiB);
	for (size_t i = 0; i < n; i++)
		CHILD_CHECK(a[i] != 0 && a[i] != PFN_SENTINEL, "entry %zu", i);
	CHILD_CHECK(pfns_untouched(a, n, WANT + 1), "entries past *NumberOfPages written");

	/* Nothing left: 1455, and nothing written. */
	CHILD_W32_FAIL(AllocateUserPhysicalPages(GetCurrentProcess(), &m, a + n),
		       ERROR_COMMITMENT_LIMIT);
	CHILD_CHECK(m == 16 && pfns_untouched(a, n, WANT + 1));

	/* The allowance comes back with the frames. */
	freed = n;
	CHILD_W32_OK(FreeUserPhysicalPages(GetCurrentProcess(), &freed, a));
	CHILD_CHECK(freed == n);
	m = 16;
	CHILD_W32_OK(AllocateUserPhysicalPages(GetCurrentProcess(), &m, a));
	CHILD_CHECK(m == 16);
	free(a);
	return 0;
}

Test(allocate, partial_then_commitment_limit, .timeout = 120)
{
	run_as_nobody(child_partial, NULL, 64 * MiB);
}
