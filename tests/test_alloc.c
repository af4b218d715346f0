/* SPDX-License-Identifier: MIT */
/* awe_alloc() and awe_alloc_node(): arguments, results, zero fill, number lifetime. */
#include "helpers.h"

#include <limits.h>

#define SENTINEL 0x5e5e5e5e5e5e5e5eull

static void fill_sentinel(awe_frame_t *f, size_t n)
{
	for (size_t i = 0; i < n; i++)
		f[i] = SENTINEL;
}

static void assert_sentinel(const awe_frame_t *f, size_t from, size_t to)
{
	for (size_t i = from; i < to; i++)
		cr_assert_eq(f[i], SENTINEL, "entry %zu was written: %#" PRIx64, i, f[i]);
}

Test(alloc, count_zero)
{
	awe_frame_t f[2];

	fill_sentinel(f, 2);
	cr_assert_eq(AWE_OK(awe_alloc(f, 0)), 0);
	cr_assert_eq(AWE_OK(awe_alloc(NULL, 0)), 0);
	cr_assert_eq(AWE_OK(awe_alloc_node(f, 0, -1)), 0);
	assert_sentinel(f, 0, 2);
	cr_assert_eq(get_stats().frames_allocated, 0);
}

Test(alloc, null_frames)
{
	AWE_ERR(awe_alloc(NULL, 1), EFAULT);
	AWE_ERR(awe_alloc(NULL, 100), EFAULT);
	AWE_ERR(awe_alloc_node(NULL, 1, 0), EFAULT);
	cr_assert_eq(get_stats().frames_allocated, 0);
}

Test(alloc, huge_count)
{
	awe_frame_t f[4];

	fill_sentinel(f, 4);
	AWE_ERR(awe_alloc(f, SIZE_MAX), EINVAL);
	/* The first count whose byte size no longer fits in a size_t. */
	AWE_ERR(awe_alloc(f, SIZE_MAX / pg() + 1), EINVAL);
	AWE_ERR(awe_alloc_node(f, SIZE_MAX, -1), EINVAL);
	assert_sentinel(f, 0, 4);
	cr_assert_eq(get_stats().frames_allocated, 0);
}

Test(alloc, returns_count_and_distinct_numbers)
{
	enum { N = 64, EXTRA = 8 };
	awe_frame_t f[N + EXTRA + 10];

	fill_sentinel(f, N + EXTRA);
	cr_assert_eq(AWE_OK(awe_alloc(f, N)), N);
	assert_sentinel(f, N, N + EXTRA);
	assert_distinct_nonzero(f, N);
	cr_assert_eq(get_stats().frames_allocated, N);

	/* A second batch does not repeat numbers of the first. */
	cr_assert_eq(AWE_OK(awe_alloc(f + N, 10)), 10);
	assert_distinct_nonzero(f, N + 10);
	cr_assert_eq(get_stats().frames_allocated, N + 10);
	cr_assert_eq(get_stats().frames_mapped, 0);

	for (size_t i = 0; i < N + 10; i++)
		assert_parked(f[i]);
}

Test(alloc, single_frame)
{
	awe_frame_t f[2];

	fill_sentinel(f, 2);
	cr_assert_eq(AWE_OK(awe_alloc(f, 1)), 1);
	cr_assert_neq(f[0], 0);
	assert_sentinel(f, 1, 2);
}

Test(alloc, frames_are_zero_filled)
{
	enum { N = 32 };
	awe_frame_t f[N];
	char *w = window_new(N);

	alloc_exact(f, N);
	AWE_OK(awe_map(w, N, f));
	for (size_t i = 0; i < N; i++)
		assert_page_zero(slot(w, i));
}

/* Memory given back by awe_free() must not leak its old contents. */
Test(alloc, reallocated_memory_is_zeroed)
{
	enum { N = 64 };
	awe_frame_t f[N];
	char *w = window_new(N);

	for (int round = 0; round < 4; round++) {
		alloc_exact(f, N);
		AWE_OK(awe_map(w, N, f));
		for (size_t i = 0; i < N; i++) {
			assert_page_zero(slot(w, i));
			fill_page(slot(w, i), i + 1);
		}
		AWE_OK(awe_free(f, N, NULL));
	}
}

Test(alloc, counts_in_stats)
{
	awe_frame_t f[100];

	cr_assert_eq(get_stats().frames_allocated, 0);
	alloc_exact(f, 40);
	cr_assert_eq(get_stats().frames_allocated, 40);
	alloc_exact(f + 40, 60);
	cr_assert_eq(get_stats().frames_allocated, 100);
	AWE_OK(awe_free(f, 30, NULL));
	cr_assert_eq(get_stats().frames_allocated, 70);
	AWE_OK(awe_free(f + 30, 70, NULL));
	cr_assert_eq(get_stats().frames_allocated, 0);
}

/* Unmapped frames live in parking space (UFFDIO_MOVE engine), which must hold them all. */
Test(alloc, parking_holds_unmapped_frames)
{
	enum { N = 300 };
	awe_frame_t f[N];
	char *w = window_new(N);
	struct awe_stats st;

	skip_if_memfd("parking_bytes is its pool of locked pages (possibly 0): frames have no "
		      "parking space, their pages stay in the memfd");
	alloc_exact(f, N);
	st = get_stats();
	cr_assert_geq(st.parking_bytes, N * pg(), "parking %" PRIu64 " bytes for %d frames",
		      st.parking_bytes, N);
	AWE_OK(awe_map(w, N / 2, f));
	st = get_stats();
	cr_assert_geq(st.parking_bytes, (N - N / 2) * pg());
	unmap_range(w, N);
	cr_assert_geq(get_stats().parking_bytes, N * pg());
}

Test(alloc, large_batch)
{
	enum { N = 65536 }; /* 256 MiB with 4 KiB pages */
	awe_frame_t *f = alloc_array(N);

	assert_distinct_nonzero(f, N);
	cr_assert_eq(get_stats().frames_allocated, N);
	AWE_OK(awe_free(f, N, NULL));
	cr_assert_eq(get_stats().frames_allocated, 0);
	free(f);
}

Test(alloc, node_no_preference_and_node_zero)
{
	awe_frame_t f[16];
	char *w = window_new(16);

	fill_sentinel(f, 16);
	cr_assert_eq(AWE_OK(awe_alloc_node(f, 8, -1)), 8);
	cr_assert_eq(AWE_OK(awe_alloc_node(f + 8, 4, 0)), 4);
	assert_sentinel(f, 12, 16);
	assert_distinct_nonzero(f, 12);
	cr_assert_eq(get_stats().frames_allocated, 12);
	/* Node-preferring frames are ordinary frames. */
	AWE_OK(awe_map(w, 12, f));
	for (size_t i = 0; i < 12; i++)
		assert_page_zero(slot(w, i));
}

Test(alloc, node_invalid)
{
	awe_frame_t f[4];

	fill_sentinel(f, 4);
	AWE_ERR(awe_alloc_node(f, 4, 9999), EINVAL);
	AWE_ERR(awe_alloc_node(f, 4, -2), EINVAL);
	AWE_ERR(awe_alloc_node(f, 4, INT_MIN), EINVAL);
	AWE_ERR(awe_alloc_node(f, 4, INT_MAX), EINVAL);
	assert_sentinel(f, 0, 4);
	cr_assert_eq(get_stats().frames_allocated, 0);
}

/* A freed number stays invalid everywhere, even after new allocations. */
Test(alloc, freed_numbers_rejected)
{
	awe_frame_t old[8], fresh[64];
	char *w = window_new(4);

	alloc_exact(old, 8);
	AWE_OK(awe_free(old, 8, NULL));
	alloc_exact(fresh, 64);
	for (size_t i = 0; i < 8; i++) {
		for (size_t j = 0; j < 64; j++)
			cr_assert_neq(old[i], fresh[j], "freed number %#" PRIx64 " reused", old[i]);
		AWE_ERR(awe_map(w, 1, &old[i]), ENOENT);
		assert_frame_invalid(old[i]);
	}
	assert_slot(w, 0, AWE_PROT_NONE);
}

Test(alloc, numbers_never_reused)
{
	enum { ROUNDS = 300, N = 16 };
	awe_frame_t *seen = calloc(ROUNDS * N, sizeof(*seen)), live[2 * N];

	cr_assert_not_null(seen);
	for (size_t r = 0; r < ROUNDS; r++) {
		/* Vary the batch size so that frees and allocations interleave unevenly. */
		size_t n = 1 + r % N;

		alloc_exact(seen + r * N, n);
		for (size_t i = n; i < N; i++)
			seen[r * N + i] = BOGUS_FRAME - 1 - r * N - i;
		AWE_OK(awe_free(seen + r * N, n, NULL));
	}
	assert_distinct_nonzero(seen, ROUNDS * N);
	/* Check while live frames exist, which likely reuse the freed frames' memory. */
	alloc_exact(live, 2 * N);
	for (size_t i = 0; i < ROUNDS * N; i++) {
		assert_frame_invalid(seen[i]);
		for (size_t j = 0; j < 2 * N; j++)
			cr_assert_neq(seen[i], live[j], "number %#" PRIx64 " reused", live[j]);
	}
	for (size_t j = 0; j < 2 * N; j++)
		assert_parked(live[j]);
	cr_assert_eq(get_stats().frames_allocated, 2 * N);
	free(seen);
}

/* The upper half of a frame number counts reuses of one table slot. Once it
 * is used up the slot is retired: allocating and freeing one frame over and
 * over must move on to another slot instead of wrapping back to an old
 * number. */
Test(alloc, used_up_slot_is_retired, .timeout = 120)
{
	awe_frame_t f, first;
	uint64_t last_gen = 0;
	bool moved = false;

	alloc_exact(&first, 1);
	f = first;
	for (unsigned long i = 0; i < (1ul << 21) && !moved; i++) {
		AWE_OK(awe_free(&f, 1, NULL));
		alloc_exact(&f, 1);
		if ((uint32_t)f != (uint32_t)first) {
			moved = true;
			break;
		}
		cr_assert_gt(f >> 32, last_gen, "generation did not grow: %#" PRIx64, f);
		last_gen = f >> 32;
	}
	cr_assert(moved, "one table slot was reused more than 2^21 times");
	cr_assert_geq(last_gen, 1000, "slot retired after only %" PRIu64 " reuses", last_gen);
	assert_frame_invalid(first);
	/* The retired slot never comes back. */
	for (int k = 0; k < 1000; k++) {
		AWE_OK(awe_free(&f, 1, NULL));
		alloc_exact(&f, 1);
		cr_assert_neq((uint32_t)f, (uint32_t)first, "retired slot reused: %#" PRIx64, f);
	}
	AWE_OK(awe_free(&f, 1, NULL));
}
