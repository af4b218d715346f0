/* SPDX-License-Identifier: MIT */
/* awe_query() and awe_frame_addr(). */
#include "helpers.h"

static void assert_info(const void *addr, void *base, size_t size, awe_frame_t frame, int prot)
{
	struct awe_page_info pi = query(addr);

	cr_assert_eq(pi.window, base, "%p: window %p, expected %p", addr, pi.window, base);
	cr_assert_eq(pi.window_size, size, "%p: window size %zu, expected %zu", addr,
		     pi.window_size, size);
	cr_assert_eq(pi.frame, frame, "%p: frame %#" PRIx64 ", expected %#" PRIx64, addr, pi.frame,
		     frame);
	cr_assert_eq(pi.prot, prot, "%p: prot %d, expected %d", addr, pi.prot, prot);
}

Test(query, null_info)
{
	char *w = window_new(1);

	AWE_ERR(awe_query(w, NULL), EFAULT);
}

Test(query, outside_windows)
{
	char *w = window_new(2);
	struct awe_page_info pi;
	int local = 0;

	AWE_ERR(awe_query(NULL, &pi), EINVAL);
	AWE_ERR(awe_query(&local, &pi), EINVAL);
	AWE_ERR(awe_query(w - 1, &pi), EINVAL);
	AWE_ERR(awe_query(slot(w, 2), &pi), EINVAL);
	AWE_ERR(awe_query((void *)UINTPTR_MAX, &pi), EINVAL);
	AWE_OK(awe_window_destroy(w));
	AWE_ERR(awe_query(w, &pi), EINVAL);
}

/* Before anything was created, every address is outside. */
Test(query, no_windows_at_all)
{
	struct awe_page_info pi;
	int local = 0;

	AWE_ERR(awe_query(&local, &pi), EINVAL);
}

Test(query, fields)
{
	awe_frame_t f[3];
	char *a = window_new(5), *b = window_new(2);

	alloc_exact(f, 3);
	AWE_OK(awe_map(slot(a, 1), 3, f));
	AWE_OK(awe_protect(slot(a, 2), 1, AWE_PROT_READ, NULL));
	AWE_OK(awe_protect(slot(a, 3), 1, AWE_PROT_NONE, NULL));

	assert_info(a, a, 5 * pg(), 0, AWE_PROT_NONE);
	assert_info(slot(a, 1) + 5, a, 5 * pg(), f[0], AWE_PROT_READWRITE);
	assert_info(slot(a, 2), a, 5 * pg(), f[1], AWE_PROT_READ);
	assert_info(slot(a, 3) + pg() - 1, a, 5 * pg(), f[2], AWE_PROT_NONE);
	assert_info(slot(a, 4) + pg() - 1, a, 5 * pg(), 0, AWE_PROT_NONE);
	assert_info(b, b, 2 * pg(), 0, AWE_PROT_NONE);
	assert_info(slot(b, 1) + 1, b, 2 * pg(), 0, AWE_PROT_NONE);

	/* Follows the frame through unmap and remap. */
	unmap_range(slot(a, 1), 1);
	map1(slot(b, 1), f[0]);
	assert_info(slot(a, 1), a, 5 * pg(), 0, AWE_PROT_NONE);
	assert_info(slot(b, 1), b, 2 * pg(), f[0], AWE_PROT_READWRITE);
}

Test(query, frame_addr_null_out)
{
	awe_frame_t f;

	alloc_exact(&f, 1);
	AWE_ERR(awe_frame_addr(f, NULL), EFAULT);
}

Test(query, frame_addr_invalid)
{
	awe_frame_t f[2];

	assert_frame_invalid(0);
	assert_frame_invalid(BOGUS_FRAME);
	alloc_exact(f, 2);
	assert_frame_invalid(0);
	assert_frame_invalid(BOGUS_FRAME);
	AWE_OK(awe_free(f, 1, NULL));
	assert_frame_invalid(f[0]);
	assert_parked(f[1]);
}

Test(query, frame_addr_results)
{
	awe_frame_t f[2];
	char *w = window_new(4);

	alloc_exact(f, 2);
	cr_assert_null(frame_where(f[0]));
	/* The slot address, page aligned, even when mapped through an inner address. */
	AWE_OK(awe_map(slot(w, 2) + 77, 2, f));
	cr_assert_eq(frame_where(f[0]), slot(w, 2));
	cr_assert_eq(frame_where(f[1]), slot(w, 3));
	AWE_OK(awe_protect(slot(w, 2), 2, AWE_PROT_NONE, NULL));
	cr_assert_eq(frame_where(f[1]), slot(w, 3));
	unmap_range(w, 4);
	cr_assert_null(frame_where(f[0]));
	cr_assert_null(frame_where(f[1]));
}

/* awe_frame_addr and awe_query agree for every slot of a shuffled window. */
Test(query, consistent_with_each_other)
{
	enum { N = 128 };
	awe_frame_t f[N];
	size_t perm[N];
	void *addrs[N];
	char *w = window_new(2 * N);

	alloc_exact(f, N);
	shuffle(perm, N, 7);
	for (size_t i = 0; i < N; i++)
		addrs[i] = slot(w, 2 * perm[i]);
	AWE_OK(awe_map_scatter(addrs, N, f));
	for (size_t i = 0; i < N; i++) {
		cr_assert_eq(frame_where(f[i]), addrs[i]);
		cr_assert_eq(query(addrs[i]).frame, f[i]);
		cr_assert_eq(query((char *)addrs[i] + pg()).frame, 0);
	}
}
