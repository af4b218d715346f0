/* SPDX-License-Identifier: MIT */
/* awe_window_create() / awe_window_destroy(). */
#include "helpers.h"

#ifndef MAP_FIXED_NOREPLACE
#define MAP_FIXED_NOREPLACE 0x100000
#endif

static void assert_window(void *addr, void *base, size_t size)
{
	struct awe_page_info pi = query(addr);

	cr_assert_eq(pi.window, base, "window of %p is %p, expected %p", addr, pi.window, base);
	cr_assert_eq(pi.window_size, size, "window size %zu, expected %zu", pi.window_size, size);
}

static void assert_not_window(const void *addr)
{
	struct awe_page_info pi;

	AWE_ERR(awe_query(addr, &pi), EINVAL);
}

Test(window, create_and_destroy)
{
	char *w = window_new(4);
	struct awe_stats st;

	assert_window(w, w, 4 * pg());
	assert_window(slot(w, 3) + pg() - 1, w, 4 * pg());
	st = get_stats();
	cr_assert_eq(st.windows, 1);
	cr_assert_eq(st.window_bytes, 4 * pg());
	AWE_OK(awe_window_destroy(w));
	assert_not_window(w);
	st = get_stats();
	cr_assert_eq(st.windows, 0);
	cr_assert_eq(st.window_bytes, 0);
}

Test(window, slots_start_unmapped)
{
	char *w = window_new(8);

	for (size_t i = 0; i < 8; i++)
		assert_slot(slot(w, i), 0, AWE_PROT_NONE);
	assert_read_faults(slot(w, 5));
	assert_write_faults(slot(w, 7) + 17);
}

Test(window, size_rounds_up)
{
	void *a, *b;

	AWE_OK(awe_window_create(1, NULL, 0, &a));
	assert_window(a, a, pg());
	AWE_OK(awe_window_create(3 * pg() + 1, NULL, 0, &b));
	assert_window(b, b, 4 * pg());
	assert_window((char *)b + 4 * pg() - 1, b, 4 * pg());
	assert_slot(slot(b, 3), 0, AWE_PROT_NONE);
	cr_assert_eq(get_stats().window_bytes, 5 * pg());
}

Test(window, bad_arguments)
{
	void *base = (void *)0x1234;

	AWE_ERR(awe_window_create(0, NULL, 0, &base), EINVAL);
	AWE_ERR(awe_window_create(pg(), NULL, 0, NULL), EFAULT);
	AWE_ERR(awe_window_create(pg(), NULL, 1u << 2, &base), EINVAL);
	AWE_ERR(awe_window_create(pg(), NULL, ~0u, &base), EINVAL);
	AWE_ERR(awe_window_create(pg(), NULL, AWE_WINDOW_FIXED, &base), EINVAL);
	/* Rounding SIZE_MAX up to a page overflows. */
	AWE_ERR(awe_window_create(SIZE_MAX, NULL, 0, &base), EINVAL);
	AWE_ERR(awe_window_create(SIZE_MAX - pg() + 2, NULL, 0, &base), EINVAL);
	cr_assert_eq(get_stats().windows, 0);
}

Test(window, fixed_at_free_hint)
{
	char *hole, *hint;
	void *base = NULL;

	/* Initialise first, so that the library's own mappings cannot take the hole. */
	AWE_OK(awe_init(0));
	hole = free_range(32);
	hint = hole + 8 * pg();
	AWE_OK(awe_window_create(4 * pg(), hint, AWE_WINDOW_FIXED, &base));
	cr_assert_eq(base, hint);
	assert_window(hint, hint, 4 * pg());
	AWE_OK(awe_window_destroy(base));

	/* An unaligned hint is rounded down to its page. */
	AWE_OK(awe_window_create(4 * pg(), hint + 100, AWE_WINDOW_FIXED, &base));
	cr_assert_eq(base, hint);
}

Test(window, hint_without_fixed)
{
	char *hole = free_range(16);
	void *base = NULL, *other = NULL;
	char *m;

	AWE_OK(awe_window_create(4 * pg(), hole, 0, &base));
	cr_assert_not_null(base);
	assert_window(base, base, 4 * pg());

	/* An occupied hint is only a hint: the window goes elsewhere. */
	m = mmap(NULL, 4 * pg(), PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	cr_assert_neq(m, MAP_FAILED);
	memset(m, 0x77, 4 * pg());
	AWE_OK(awe_window_create(4 * pg(), m, 0, &other));
	cr_assert(other >= (void *)(m + 4 * pg()) || (char *)other + 4 * pg() <= m,
		  "window %p overlaps the mapping at %p", other, m);
	for (size_t i = 0; i < 4 * pg(); i++)
		cr_assert_eq(m[i], 0x77);
}

/* FIXED never replaces anything: the existing mapping is left exactly as it was. */
Test(window, fixed_over_mapping)
{
	char *m = mmap(NULL, 4 * pg(), PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	void *base = (void *)0x1234;

	cr_assert_neq(m, MAP_FAILED);
	for (size_t i = 0; i < 4; i++)
		fill_page(m + i * pg(), 100 + i);
	/* Tail of the window over the head of the mapping, then fully inside, then the reverse. */
	AWE_ERR(awe_window_create(4 * pg(), m - 2 * pg(), AWE_WINDOW_FIXED, &base), EEXIST);
	AWE_ERR(awe_window_create(2 * pg(), m + pg(), AWE_WINDOW_FIXED, &base), EEXIST);
	AWE_ERR(awe_window_create(4 * pg(), m + 3 * pg(), AWE_WINDOW_FIXED, &base), EEXIST);
	for (size_t i = 0; i < 4; i++) {
		assert_page(m + i * pg(), 100 + i);
		assert_no_fault(probe_write(m + i * pg(), 1), m + i * pg(), "write");
	}
	cr_assert_eq(get_stats().windows, 0);
	cr_assert_eq(munmap(m, 4 * pg()), 0);
}

Test(window, fixed_over_window)
{
	awe_frame_t f;
	char *w = window_new(4);
	void *base = NULL;

	alloc_exact(&f, 1);
	map1(slot(w, 2), f);
	fill_page(slot(w, 2), 5);
	AWE_ERR(awe_window_create(2 * pg(), slot(w, 1), AWE_WINDOW_FIXED, &base), EEXIST);
	assert_window(w, w, 4 * pg());
	assert_slot(slot(w, 2), f, AWE_PROT_READWRITE);
	assert_page(slot(w, 2), 5);
	cr_assert_eq(get_stats().windows, 1);
}

Test(window, destroy_bad_address)
{
	char *w = window_new(4);
	char *m = malloc(64);
	int local = 0;

	cr_assert_not_null(m);
	AWE_ERR(awe_window_destroy(slot(w, 1)), EINVAL);
	AWE_ERR(awe_window_destroy(slot(w, 3)), EINVAL);
	AWE_ERR(awe_window_destroy(slot(w, 4)), EINVAL);
	AWE_ERR(awe_window_destroy(NULL), EINVAL);
	AWE_ERR(awe_window_destroy(&local), EINVAL);
	AWE_ERR(awe_window_destroy(m), EINVAL);
	/* Still intact after the refused calls. */
	assert_window(slot(w, 2), w, 4 * pg());
	AWE_OK(awe_window_destroy(w));
	AWE_ERR(awe_window_destroy(w), EINVAL);
	free(m);
}

/* Destroy releases the address range: it can be mapped again. */
Test(window, destroy_releases_range)
{
	char *w = window_new(8);
	void *again = NULL, *p;

	AWE_OK(awe_window_destroy(w));
	AWE_OK(awe_window_create(8 * pg(), w, AWE_WINDOW_FIXED, &again));
	cr_assert_eq(again, w);
	AWE_OK(awe_window_destroy(again));
	p = mmap(w, 8 * pg(), PROT_READ, MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED_NOREPLACE, -1, 0);
	cr_assert_eq(p, w, "range not released: mmap gave %p (%s)", p, strerror(errno));
}

/* Destroying a window unmaps its frames but keeps them and their data. */
Test(window, destroy_keeps_frames)
{
	enum { N = 6 };
	awe_frame_t f[N];
	char *a = window_new(N), *b = window_new(N);
	struct awe_stats st;

	alloc_exact(f, N);
	AWE_OK(awe_map(a, N, f));
	for (size_t i = 0; i < N; i++)
		fill_page(slot(a, i), f[i]);
	AWE_OK(awe_protect(slot(a, 1), 1, AWE_PROT_READ, NULL));
	AWE_OK(awe_protect(slot(a, 2), 1, AWE_PROT_NONE, NULL));

	AWE_OK(awe_window_destroy(a));
	st = get_stats();
	cr_assert_eq(st.frames_allocated, N);
	cr_assert_eq(st.frames_mapped, 0);
	for (size_t i = 0; i < N; i++)
		assert_parked(f[i]);

	/* Reverse order in the new window, to show each frame carries its own data. */
	for (size_t i = 0; i < N; i++)
		map1(slot(b, N - 1 - i), f[i]);
	for (size_t i = 0; i < N; i++) {
		assert_slot(slot(b, N - 1 - i), f[i], AWE_PROT_READWRITE);
		assert_page(slot(b, N - 1 - i), f[i]);
	}
	AWE_OK(awe_free(f, N, NULL));
}

Test(window, stats_windows_and_bytes)
{
	char *a = window_new(3), *b = window_new(5), *c = window_new(1);
	struct awe_stats st = get_stats();

	cr_assert_eq(st.windows, 3);
	cr_assert_eq(st.window_bytes, 9 * pg());
	AWE_OK(awe_window_destroy(b));
	st = get_stats();
	cr_assert_eq(st.windows, 2);
	cr_assert_eq(st.window_bytes, 4 * pg());
	AWE_OK(awe_window_destroy(a));
	AWE_OK(awe_window_destroy(c));
	st = get_stats();
	cr_assert_eq(st.windows, 0);
	cr_assert_eq(st.window_bytes, 0);
}

Test(window, many_windows_do_not_overlap)
{
	enum { N = 200 };
	char *w[N];

	for (size_t i = 0; i < N; i++)
		w[i] = window_new(1 + i % 7);
	for (size_t i = 0; i < N; i++) {
		assert_window(w[i], w[i], (1 + i % 7) * pg());
		assert_window(slot(w[i], i % 7), w[i], (1 + i % 7) * pg());
	}
	cr_assert_eq(get_stats().windows, N);
	for (size_t i = 0; i < N; i++)
		AWE_OK(awe_window_destroy(w[i]));
	cr_assert_eq(get_stats().windows, 0);
}

/* A large window is address space, not memory. */
Test(window, large_window)
{
	size_t size = (size_t)64 << 30;
	void *base = NULL;
	awe_frame_t f;

	/* Locking 64 GiB of range needs CAP_IPC_LOCK; unprivileged, test it unlocked. */
	if (geteuid() != 0)
		AWE_OK(awe_init(AWE_INIT_UNLOCKED));
	AWE_OK(awe_window_create(size, NULL, 0, &base));
	assert_window((char *)base + size - 1, base, size);
	alloc_exact(&f, 1);
	map1((char *)base + size - pg(), f);
	fill_page((char *)base + size - pg(), 1);
	AWE_OK(awe_window_destroy(base));
	assert_parked(f);
}

/* Two windows side by side (one VMA to the kernel, perhaps): destroying one spares the other. */
Test(window, destroy_adjacent_window)
{
	void *a = NULL, *b = NULL;
	awe_frame_t f[4];

	adjacent_windows(&a, &b);
	alloc_exact(f, 4);
	map_stamped(a, f, 2);
	map_stamped(b, f + 2, 2);
	AWE_OK(awe_protect(slot(b, 1), 1, AWE_PROT_READ, NULL));

	AWE_OK(awe_window_destroy(a));
	assert_not_window(a);
	assert_window(slot(b, 3), b, 4 * pg());
	assert_stamped_at(b, f[2]);
	assert_slot(slot(b, 1), f[3], AWE_PROT_READ);
	assert_write_faults(slot(b, 1));
	assert_read_faults(slot(b, 2));
	/* b keeps working: the frames from a go into it. */
	AWE_OK(awe_map(slot(b, 2), 2, f));
	assert_stamped_at(slot(b, 2), f[0]);
	assert_stamped_at(slot(b, 3), f[1]);
	unmap_range(b, 4);
	assert_read_faults(b);
}

/*
 * Running out of VMAs (vm.max_map_count) is -ENOMEM, the failed call leaves
 * no half-made window behind, and everything works again once windows go.
 * The windows are a page apart so that the kernel cannot merge them.
 */
Test(window, vma_exhaustion, .timeout = 60)
{
	enum { MAX = 1 << 17 };
	void **w = malloc(MAX * sizeof(*w));
	awe_frame_t f[2];
	size_t n = 0;
	long err = 0;
	char *area;
	int e = 0;

	if (SANITIZED)
		cr_skip_test("the sanitizer runtime aborts when it cannot map memory");
	cr_assert_not_null(w);
	alloc_exact(f, 2);
	area = free_range(2 * MAX);
	/* No Criterion call inside the loop: it may need a VMA itself. */
	while (n < MAX) {
		errno = 0;
		err = awe_window_create(pg(), area + 2 * n * pg(), AWE_WINDOW_FIXED, &w[n]);
		e = errno;
		if (err)
			break;
		n++;
	}
	/* Give some room back before asserting anything. */
	for (size_t i = 0; i < 64 && n > 0; i++)
		AWE_OK(awe_window_destroy(w[--n]));
	cr_log_info("%zu windows before the VMA limit", n + 64);
	cr_assert_eq(err, -ENOMEM, "window %zu failed with %ld (%s) instead of -ENOMEM", n + 64,
		     err, err ? awe_strerror((int)err) : "success");
	cr_assert_eq(e, ENOMEM);
	cr_assert_eq(get_stats().windows, n);
	/* Frames still map into a surviving window. */
	AWE_OK(awe_map(w[0], 1, &f[1]));
	assert_slot(w[0], f[1], AWE_PROT_READWRITE);
	while (n > 0)
		AWE_OK(awe_window_destroy(w[--n]));
	cr_assert_eq(get_stats().windows, 0);
	cr_assert_eq(get_stats().window_bytes, 0);
	free(w);
}

/* --- AWE_WINDOW_ALIGN() ---------------------------------------------------- */

#define MiB ((size_t)1 << 20)
#define GiB ((size_t)1 << 30)

/* 2 MiB bases, window after window, whatever their sizes (some larger than
 * the alignment), and only the window counts in the stats. */
Test(window, align_2mib_in_a_row)
{
	enum { N = 5 };
	const size_t pages[N] = {1, 3, 2 * MiB / pg(), 2 * MiB / pg() + 1, 17};
	size_t bytes = 0;
	char *w[N];

	for (size_t i = 0; i < N; i++) {
		w[i] = window_aligned(0, pages[i], 21, NULL, 0);
		assert_window(w[i], w[i], pages[i] * pg());
		assert_window(slot(w[i], pages[i] - 1), w[i], pages[i] * pg());
		bytes += pages[i] * pg();
	}
	cr_assert_eq(get_stats().windows, N);
	cr_assert_eq(get_stats().window_bytes, bytes);
	for (size_t i = 0; i < N; i++)
		AWE_OK(awe_window_destroy(w[i]));
	cr_assert_eq(get_stats().window_bytes, 0);
}

/* 1 GiB: the over-reservation that found the aligned base is given back on
 * both sides, only the window's own pages stay mapped. */
Test(window, align_1gib_gives_back_the_rest)
{
	uint64_t before, after;
	char *w;

	AWE_OK(awe_init(0));
	before = mapped_bytes();
	w = window_aligned(0, 4, 30, NULL, 0);
	after = mapped_bytes();
	assert_window(slot(w, 3), w, 4 * pg());
	cr_assert_lt(after - before, GiB / 2,
		     "a 4-page window aligned to 1 GiB left %" PRIu64 " MiB more mapped",
		     (after - before) / MiB);
	cr_assert_eq(count_maps_in(w + 4 * pg(), w + 5 * pg()), 0,
		     "the page after the window is still mapped");
	cr_assert_eq(get_stats().window_bytes, 4 * pg());
	AWE_OK(awe_window_destroy(w));
	assert_not_window(w);
}

/* Up to the page size an alignment changes nothing, with AWE_WINDOW_FIXED
 * too: the hint names its page. */
Test(window, align_up_to_a_page_changes_nothing)
{
	unsigned int shift = (unsigned int)__builtin_ctzl(pg());
	char *hole, *a = window_aligned(0, 2, 1, NULL, 0);
	char *b = window_aligned(0, 2, shift, NULL, 0);

	assert_window(a, a, 2 * pg());
	assert_window(b, b, 2 * pg());
	hole = free_range(16);
	cr_assert_eq(window_aligned(0, 2, 1, hole + 4 * pg() + 1, AWE_WINDOW_FIXED),
		     hole + 4 * pg());
	cr_assert_eq(window_aligned(0, 2, shift, hole + 8 * pg() + 100, AWE_WINDOW_FIXED),
		     hole + 8 * pg());
}

/* A free 2 MiB-aligned address, from a window reserved there and destroyed. */
static char *free_aligned_2mib(size_t pages)
{
	char *w = window_aligned(0, pages, 21, NULL, 0);

	AWE_OK(awe_window_destroy(w));
	return w;
}

Test(window, align_fixed_hint)
{
	char *at, *w;
	void *base = (void *)0x1234;

	AWE_OK(awe_init(0));
	at = free_aligned_2mib(4);
	w = window_aligned(0, 4, 21, at, AWE_WINDOW_FIXED);
	cr_assert_eq(w, at);
	assert_window(slot(w, 3), w, 4 * pg());
	/* Taken now: FIXED never replaces. */
	AWE_ERR(awe_window_create(4 * pg(), at, AWE_WINDOW_FIXED | AWE_WINDOW_ALIGN(21), &base),
		EEXIST);
	AWE_OK(awe_window_destroy(w));
	/* An address inside the aligned page names it. */
	cr_assert_eq(window_aligned(0, 4, 21, at + 100, AWE_WINDOW_FIXED), at);
	cr_assert_eq(base, (void *)0x1234, "a failed call stored a base");
	cr_assert_eq(get_stats().windows, 1);
}

/* A hint whose page is not aligned so is refused, free or not. */
Test(window, align_fixed_misaligned_hint)
{
	void *base = (void *)0x1234;
	char *at, *odd;

	AWE_OK(awe_init(0));
	at = free_aligned_2mib(1024);
	AWE_ERR(awe_window_create(4 * pg(), at + pg(), AWE_WINDOW_FIXED | AWE_WINDOW_ALIGN(21),
				  &base),
		EINVAL);
	AWE_ERR(awe_window_create(4 * pg(), at + MiB, AWE_WINDOW_FIXED | AWE_WINDOW_ALIGN(21),
				  &base),
		EINVAL);
	/* 2 MiB aligned but not 4 MiB. */
	odd = (uintptr_t)at & (4 * MiB - 1) ? at : at + 2 * MiB;
	AWE_ERR(awe_window_create(4 * pg(), odd, AWE_WINDOW_FIXED | AWE_WINDOW_ALIGN(22), &base),
		EINVAL);
	cr_assert_eq(base, (void *)0x1234, "a failed call stored a base");
	cr_assert_eq(get_stats().windows, 0);
	/* Nothing was left at the hint: the plain FIXED window fits there. */
	AWE_OK(awe_window_create(4 * pg(), at + pg(), AWE_WINDOW_FIXED, &base));
	cr_assert_eq(base, at + pg());
}

/* 2^63 is no alignment at all; 2^62 is more than any user address space. */
Test(window, align_too_large)
{
	void *base = (void *)0x1234;
	char *hole = free_range(4);

	AWE_ERR(awe_window_create(pg(), NULL, AWE_WINDOW_ALIGN(63), &base), EINVAL);
	AWE_ERR(awe_window_create(pg(), NULL, AWE_WINDOW_ALIGN(62), &base), EINVAL);
	AWE_ERR(awe_window_create(pg(), hole, AWE_WINDOW_ALIGN(62), &base), EINVAL);
	AWE_ERR(awe_window_create(pg(), NULL, AWE_WINDOW_FIXED | AWE_WINDOW_ALIGN(63), &base),
		EINVAL);
	/* Bits above the alignment's are still unknown flags. */
	AWE_ERR(awe_window_create(pg(), NULL, AWE_WINDOW_ALIGN(21) | 1u << 14, &base), EINVAL);
	cr_assert_eq(base, (void *)0x1234, "a failed call stored a base");
	cr_assert_eq(get_stats().windows, 0);
}

/* An aligned window is a window like any other. */
Test(window, align_maps_and_unmaps)
{
	enum { N = 8 };
	awe_frame_t f[N];
	char *w = window_aligned(0, 2 * N, 21, NULL, 0);

	alloc_exact(f, N);
	map_stamped(w, f, N);
	assert_stamped(w, f, N);
	unmap_range(w, N);
	for (size_t i = 0; i < N; i++)
		assert_parked(f[i]);
	assert_read_faults(w);
	for (size_t i = 0; i < N; i++)
		map1(slot(w, 2 * N - 1 - i), f[i]);
	for (size_t i = 0; i < N; i++)
		assert_stamped_at(slot(w, 2 * N - 1 - i), f[i]);
	AWE_OK(awe_window_destroy(w));
	for (size_t i = 0; i < N; i++)
		assert_parked(f[i]);
	AWE_OK(awe_free(f, N, NULL));
	cr_assert_eq(get_stats().frames_allocated, 0);
}
