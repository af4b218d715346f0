/* SPDX-License-Identifier: MIT */
/* awe_map(): mapping, unmapping, replacement, validation, all-or-nothing. */
#include "helpers.h"

Test(map, map_then_unmap)
{
	awe_frame_t f[4];
	char *w = window_new(6);

	alloc_exact(f, 4);
	cr_assert_eq(AWE_OK(awe_map(slot(w, 1), 4, f)), 0);
	for (size_t i = 0; i < 4; i++) {
		assert_slot(slot(w, 1 + i), f[i], AWE_PROT_READWRITE);
		cr_assert_eq(frame_where(f[i]), slot(w, 1 + i));
	}
	assert_slot(slot(w, 0), 0, AWE_PROT_NONE);
	assert_slot(slot(w, 5), 0, AWE_PROT_NONE);

	/* The whole window, holes included: empty slots are fine. */
	cr_assert_eq(AWE_OK(awe_map(w, 6, NULL)), 0);
	for (size_t i = 0; i < 6; i++)
		assert_slot(slot(w, i), 0, AWE_PROT_NONE);
	for (size_t i = 0; i < 4; i++)
		assert_parked(f[i]);
	assert_read_faults(slot(w, 2));
	/* Unmapping empty slots again is still fine. */
	unmap_range(w, 6);
	cr_assert_eq(get_stats().frames_allocated, 4);
}

Test(map, data_survives_unmap_and_remap)
{
	enum { N = 8 };
	awe_frame_t f[N];
	char *w = window_new(N);

	alloc_exact(f, N);
	AWE_OK(awe_map(w, N, f));
	for (size_t i = 0; i < N; i++)
		fill_page(slot(w, i), f[i]);
	unmap_range(w, N);
	/* Reverse order: every frame lands in another slot than before. */
	for (size_t i = 0; i < N; i++)
		map1(slot(w, N - 1 - i), f[i]);
	for (size_t i = 0; i < N; i++)
		assert_page(slot(w, N - 1 - i), f[i]);
}

Test(map, permuted_remap)
{
	enum { N = 256 };
	awe_frame_t f[N], g[N];
	size_t perm[N];
	char *w = window_new(N);

	alloc_exact(f, N);
	map_stamped(w, f, N);
	for (int round = 0; round < 8; round++) {
		unmap_range(w, N);
		shuffle(perm, N, round);
		for (size_t i = 0; i < N; i++)
			g[i] = f[perm[i]];
		AWE_OK(awe_map(w, N, g));
		for (size_t i = 0; i < N; i++)
			assert_stamped_at(slot(w, i), g[i]);
	}
}

Test(map, move_between_windows)
{
	enum { N = 4 };
	awe_frame_t f[N];
	char *a = window_new(N), *b = window_new(2 * N);

	alloc_exact(f, N);
	AWE_OK(awe_map(a, N, f));
	for (size_t i = 0; i < N; i++)
		fill_page(slot(a, i), 40 + i);
	unmap_range(a, N);
	AWE_OK(awe_map(slot(b, N), N, f));
	for (size_t i = 0; i < N; i++) {
		assert_page(slot(b, N + i), 40 + i);
		fill_page(slot(b, N + i), 80 + i);
	}
	assert_read_faults(a);
	unmap_range(b, 2 * N);
	AWE_OK(awe_map(a, N, f));
	for (size_t i = 0; i < N; i++)
		assert_page(slot(a, i), 80 + i);
}

Test(map, count_zero)
{
	awe_frame_t f;
	char *w = window_new(1);

	alloc_exact(&f, 1);
	cr_assert_eq(AWE_OK(awe_map(w, 0, &f)), 0);
	cr_assert_eq(AWE_OK(awe_map(w, 0, NULL)), 0);
	cr_assert_eq(AWE_OK(awe_map(NULL, 0, NULL)), 0);
	assert_slot(w, 0, AWE_PROT_NONE);
	assert_parked(f);
}

Test(map, null_addr)
{
	awe_frame_t f;

	alloc_exact(&f, 1);
	AWE_ERR(awe_map(NULL, 1, &f), EFAULT);
	AWE_ERR(awe_map(NULL, 1, NULL), EFAULT);
	assert_parked(f);
}

Test(map, range_not_in_one_window)
{
	awe_frame_t f[2];
	char *w = window_new(4);
	char *m = mmap(NULL, pg(), PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	int local = 0;

	cr_assert_neq(m, MAP_FAILED);
	alloc_exact(f, 2);
	AWE_ERR(awe_map(slot(w, 3), 2, f), EINVAL);
	AWE_ERR(awe_map(slot(w, 3), 2, NULL), EINVAL);
	AWE_ERR(awe_map(w, 5, NULL), EINVAL);
	AWE_ERR(awe_map(slot(w, 4), 1, f), EINVAL);
	AWE_ERR(awe_map(w - pg(), 2, f), EINVAL);
	AWE_ERR(awe_map(m, 1, f), EINVAL);
	AWE_ERR(awe_map(&local, 1, f), EINVAL);
	AWE_ERR(awe_map(&local, 1, NULL), EINVAL);
	for (size_t i = 0; i < 4; i++)
		assert_slot(slot(w, i), 0, AWE_PROT_NONE);
	assert_parked(f[0]);
	assert_parked(f[1]);
}

/* Two windows side by side are still two windows. */
Test(map, range_across_adjacent_windows)
{
	void *a = NULL, *b = NULL;
	awe_frame_t f[2];

	adjacent_windows(&a, &b);
	alloc_exact(f, 2);
	AWE_ERR(awe_map(slot(a, 3), 2, f), EINVAL);
	AWE_ERR(awe_map(slot(a, 3), 2, NULL), EINVAL);
	assert_parked(f[0]);
	AWE_OK(awe_map(slot(a, 3), 1, f));
	AWE_OK(awe_map(b, 1, f + 1));
}

Test(map, count_overflow)
{
	char *w = window_new(2);

	AWE_ERR(awe_map(w, SIZE_MAX, NULL), EINVAL);
	AWE_ERR(awe_map(w, SIZE_MAX / pg() + 1, NULL), EINVAL);
	AWE_ERR(awe_map(slot(w, 1), SIZE_MAX / pg(), NULL), EINVAL);
}

Test(map, unaligned_addr_rounds_down)
{
	awe_frame_t f[2];
	char *w = window_new(4);

	alloc_exact(f, 2);
	AWE_OK(awe_map(slot(w, 1) + 100, 2, f));
	assert_slot(slot(w, 1), f[0], AWE_PROT_READWRITE);
	assert_slot(slot(w, 2), f[1], AWE_PROT_READWRITE);
	assert_slot(slot(w, 3), 0, AWE_PROT_NONE);
	cr_assert_eq(frame_where(f[0]), slot(w, 1));
	/* Unmapping rounds down the same way. */
	AWE_OK(awe_map(slot(w, 2) + pg() - 1, 1, NULL));
	assert_parked(f[1]);
	assert_slot(slot(w, 1), f[0], AWE_PROT_READWRITE);
}

Test(map, invalid_frame)
{
	awe_frame_t f[3], gone;
	char *w = window_new(4);

	alloc_exact(f, 3);
	alloc_exact(&gone, 1);
	AWE_OK(awe_free(&gone, 1, NULL));
	AWE_ERR(awe_map(w, 1, (awe_frame_t[]){BOGUS_FRAME}), ENOENT);
	AWE_ERR(awe_map(w, 1, (awe_frame_t[]){0}), ENOENT);
	AWE_ERR(awe_map(w, 1, &gone), ENOENT);
	AWE_ERR(awe_map(w, 3, (awe_frame_t[]){f[0], 0, f[1]}), ENOENT);
	AWE_ERR(awe_map(w, 4, (awe_frame_t[]){f[0], f[1], f[2], gone}), ENOENT);
	for (size_t i = 0; i < 4; i++)
		assert_slot(slot(w, i), 0, AWE_PROT_NONE);
	for (size_t i = 0; i < 3; i++)
		assert_parked(f[i]);
}

Test(map, already_mapped_frame)
{
	awe_frame_t f[2];
	char *w = window_new(4), *other = window_new(1);

	alloc_exact(f, 2);
	map1(slot(w, 0), f[0]);
	/* Elsewhere in the same window, in another window, at the very same slot. */
	AWE_ERR(awe_map(slot(w, 2), 1, &f[0]), EBUSY);
	AWE_ERR(awe_map(other, 1, &f[0]), EBUSY);
	AWE_ERR(awe_map(slot(w, 0), 1, &f[0]), EBUSY);
	/* Even when the call would detach it from its current slot first. */
	AWE_ERR(awe_map(slot(w, 0), 2, (awe_frame_t[]){f[1], f[0]}), EBUSY);
	assert_slot(slot(w, 0), f[0], AWE_PROT_READWRITE);
	assert_slot(slot(w, 1), 0, AWE_PROT_NONE);
	assert_slot(other, 0, AWE_PROT_NONE);
	assert_parked(f[1]);
}

Test(map, duplicate_in_array)
{
	awe_frame_t f[2];
	char *w = window_new(4);

	alloc_exact(f, 2);
	AWE_ERR(awe_map(w, 2, (awe_frame_t[]){f[0], f[0]}), EBUSY);
	AWE_ERR(awe_map(w, 4, (awe_frame_t[]){f[0], f[1], f[1], f[0]}), EBUSY);
	for (size_t i = 0; i < 4; i++)
		assert_slot(slot(w, i), 0, AWE_PROT_NONE);
	assert_parked(f[0]);
	assert_parked(f[1]);
}

/* A bad last entry: every earlier slot and frame stays exactly as before. */
Test(map, all_or_nothing)
{
	struct aon_case c[AON_CASES];
	awe_frame_t arr[8];
	struct aon x;

	aon_setup(&x);
	aon_cases(&x, c);
	for (size_t k = 0; k < AON_CASES; k++) {
		memcpy(arr, x.g, sizeof(arr));
		arr[7] = c[k].bad;
		AWE_ERR(awe_map(x.w, 8, arr), c[k].code);
		aon_assert_unchanged(&x);
	}
}

/* Mapping B over A detaches A: allocated, unmapped, contents kept. */
Test(map, replace_detaches_old_frame)
{
	awe_frame_t f[3];
	char *w = window_new(2);

	alloc_exact(f, 3);
	map1(w, f[0]);
	fill_page(w, 1000);
	map1(w, f[1]);
	assert_slot(w, f[1], AWE_PROT_READWRITE);
	assert_page_zero(w);
	assert_parked(f[0]);
	cr_assert_eq(get_stats().frames_mapped, 1);
	cr_assert_eq(get_stats().frames_allocated, 3);
	map1(slot(w, 1), f[0]);
	assert_page(slot(w, 1), 1000);

	/* A multi-slot map over a mix of mapped and empty slots. */
	unmap_range(slot(w, 1), 1);
	AWE_OK(awe_map(w, 2, (awe_frame_t[]){f[0], f[2]}));
	assert_page(w, 1000);
	assert_parked(f[1]);
	cr_assert_eq(get_stats().frames_mapped, 2);
}

/* Newly mapped slots are read-write, whatever the slot or frame had before. */
Test(map, remap_resets_protection)
{
	awe_frame_t f[3];
	char *w = window_new(3);

	alloc_exact(f, 3);
	AWE_OK(awe_map(w, 2, f));
	fill_page(w, 1);
	AWE_OK(awe_protect(w, 1, AWE_PROT_READ, NULL));
	AWE_OK(awe_protect(slot(w, 1), 1, AWE_PROT_NONE, NULL));

	/* Replace the read-only slot's frame: the slot becomes read-write. */
	map1(w, f[2]);
	assert_slot(w, f[2], AWE_PROT_READWRITE);
	assert_no_fault(probe_write(w, 9), w, "write");

	/* The detached read-only frame is read-write wherever it goes next. */
	map1(slot(w, 2), f[0]);
	assert_slot(slot(w, 2), f[0], AWE_PROT_READWRITE);
	assert_page(slot(w, 2), 1);
	assert_no_fault(probe_write(slot(w, 2) + 8, 9), slot(w, 2) + 8, "write");

	/* Unmap and remap of a PROT_NONE frame at the same slot. */
	unmap_range(slot(w, 1), 1);
	map1(slot(w, 1), f[1]);
	assert_slot(slot(w, 1), f[1], AWE_PROT_READWRITE);
	assert_no_fault(probe_read(slot(w, 1)), slot(w, 1), "read");
}

Test(map, stats_frames_mapped)
{
	enum { N = 16 };
	awe_frame_t f[N];
	char *a = window_new(N), *b = window_new(N);

	alloc_exact(f, N);
	cr_assert_eq(get_stats().frames_mapped, 0);
	AWE_OK(awe_map(a, 10, f));
	cr_assert_eq(get_stats().frames_mapped, 10);
	AWE_OK(awe_map(b, 6, f + 10));
	cr_assert_eq(get_stats().frames_mapped, 16);
	unmap_range(slot(a, 5), 5);
	cr_assert_eq(get_stats().frames_mapped, 11);
	/* Replacing keeps the count: one in, one out. */
	map1(b, f[7]);
	cr_assert_eq(get_stats().frames_mapped, 11);
	AWE_OK(awe_window_destroy(b));
	cr_assert_eq(get_stats().frames_mapped, 5);
	cr_assert_eq(get_stats().frames_allocated, N);
}

Test(map, large_contiguous_run)
{
	enum { N = 8192 };
	awe_frame_t *f = alloc_array(N);
	char *w = window_new(N);

	AWE_OK(awe_map(w, N, f));
	cr_assert_eq(get_stats().frames_mapped, N);
	for (size_t i = 0; i < N; i += 97)
		*(uint64_t *)slot(w, i) = f[i];
	unmap_range(w, N);
	cr_assert_eq(get_stats().frames_mapped, 0);
	/* Shifted by one slot: every run now starts at a different place. */
	AWE_OK(awe_map(slot(w, 1), N - 1, f));
	for (size_t i = 0; i < N - 1; i += 97)
		assert_stamped_at(slot(w, i + 1), f[i]);
	free(f);
}

/* Ranges of 16 pages or more take the engine's range path when they can:
 * every error must still be the one the op path gives, with nothing
 * changed, wherever the bad entry is. */
Test(map, long_range_errors)
{
	enum { N = 40 };
	awe_frame_t f[N], arr[N], gone, elsewhere;
	char *w = window_new(N), *other = window_new(1);
	const size_t at[] = {0, N / 2, N - 1};

	alloc_exact(f, N);
	alloc_exact(&gone, 1);
	alloc_exact(&elsewhere, 1);
	AWE_OK(awe_free(&gone, 1, NULL));
	map1(other, elsewhere);
	for (size_t p = 0; p < sizeof(at) / sizeof(at[0]); p++) {
		const struct aon_case cases[] = {
			{BOGUS_FRAME, ENOENT},
			{0, ENOENT},
			{gone, ENOENT},
			{elsewhere, EBUSY},
			{f[(at[p] + 1) % N], EBUSY}, /* twice */
		};

		for (size_t k = 0; k < sizeof(cases) / sizeof(cases[0]); k++) {
			memcpy(arr, f, sizeof(arr));
			arr[at[p]] = cases[k].bad;
			AWE_ERR(awe_map(w, N, arr), cases[k].code);
			for (size_t i = 0; i < N; i++)
				assert_parked(f[i]);
			cr_assert_eq(get_stats().frames_mapped, 1);
		}
	}
	/* With a slot occupied, the same errors, and the slot keeps its frame. */
	map1(slot(w, 5), f[N - 1]);
	memcpy(arr, f, sizeof(arr));
	arr[N - 1] = 0;
	AWE_ERR(awe_map(w, N, arr), ENOENT);
	assert_slot(slot(w, 5), f[N - 1], AWE_PROT_READWRITE);
	arr[5] = f[5];
	arr[N - 1] = f[N - 1];
	AWE_ERR(awe_map(w, N, arr), EBUSY); /* f[N - 1] is mapped at slot 5 */
	map_stamped(slot(w, 0), f, N - 1);
	AWE_OK(awe_map(slot(w, N - 1), 1, NULL));
	assert_stamped(w, f, N - 1);
}

/* A long unmap takes the range path only when every slot holds a
 * read-write frame; holes and other protections go the op path. */
Test(map, long_range_unmap_mixed)
{
	enum { N = 48 };
	awe_frame_t f[N];
	char *w = window_new(N);

	alloc_exact(f, N);
	map_stamped(w, f, N);
	AWE_OK(awe_map(slot(w, 7), 1, NULL));
	AWE_OK(awe_protect(slot(w, 9), 1, AWE_PROT_READ, NULL));
	AWE_OK(awe_protect(slot(w, 11), 1, AWE_PROT_NONE, NULL));
	AWE_OK(awe_map(w, N, NULL));
	cr_assert_eq(get_stats().frames_mapped, 0);
	for (size_t i = 0; i < N; i++) {
		assert_slot(slot(w, i), 0, AWE_PROT_NONE);
		assert_parked(f[i]);
	}
	/* Back in one range, each page with its data, then out in one range. */
	AWE_OK(awe_map(w, N, f));
	assert_stamped(w, f, N);
	AWE_OK(awe_map(w, N, NULL));
	AWE_OK(awe_map(w, N, f));
	assert_stamped(w, f, N);
}
