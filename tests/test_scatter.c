/* SPDX-License-Identifier: MIT */
/* awe_map_scatter(): per-slot mapping across windows. */
#include "helpers.h"

Test(scatter, across_two_windows)
{
	enum { N = 8 };
	awe_frame_t f[N];
	char *a = window_new(N), *b = window_new(N);
	void *addrs[N];

	alloc_exact(f, N);
	/* Interleave the windows and go backwards in each. */
	for (size_t i = 0; i < N; i++)
		addrs[i] = slot(i % 2 ? b : a, N - 1 - i / 2);
	cr_assert_eq(AWE_OK(awe_map_scatter(addrs, N, f)), 0);
	for (size_t i = 0; i < N; i++) {
		assert_slot(addrs[i], f[i], AWE_PROT_READWRITE);
		cr_assert_eq(frame_where(f[i]), addrs[i]);
		fill_page(addrs[i], f[i]);
	}
	cr_assert_eq(get_stats().frames_mapped, N);
	/* Swap the windows' contents through a scatter unmap and remap. */
	AWE_OK(awe_map_scatter(addrs, N, NULL));
	for (size_t i = 0; i < N; i++)
		addrs[i] = slot(i % 2 ? a : b, i / 2);
	AWE_OK(awe_map_scatter(addrs, N, f));
	for (size_t i = 0; i < N; i++)
		assert_page(addrs[i], f[i]);
}

Test(scatter, zero_entry_unmaps)
{
	awe_frame_t f[3];
	char *w = window_new(4);

	alloc_exact(f, 3);
	map_stamped(w, f, 2);
	AWE_OK(awe_map_scatter((void *[]){slot(w, 0), slot(w, 1), slot(w, 3)}, 3,
			       (awe_frame_t[]){0, f[2], 0}));
	assert_slot(slot(w, 0), 0, AWE_PROT_NONE);
	assert_slot(slot(w, 1), f[2], AWE_PROT_READWRITE);
	assert_slot(slot(w, 3), 0, AWE_PROT_NONE);
	assert_parked(f[0]);
	assert_parked(f[1]);
	assert_read_faults(slot(w, 0));
	map1(slot(w, 2), f[0]);
	assert_stamped_at(slot(w, 2), f[0]);
}

Test(scatter, null_frames_unmaps_all)
{
	awe_frame_t f[4];
	char *a = window_new(4), *b = window_new(4);
	void *addrs[] = {slot(a, 0), slot(b, 3), slot(a, 2), slot(b, 1), slot(a, 3)};

	alloc_exact(f, 4);
	AWE_OK(awe_map_scatter(addrs, 4, f));
	/* addrs[4] is an empty slot: unmapping it is fine. */
	AWE_OK(awe_map_scatter(addrs, 5, NULL));
	for (size_t i = 0; i < 5; i++)
		assert_slot(addrs[i], 0, AWE_PROT_NONE);
	for (size_t i = 0; i < 4; i++)
		assert_parked(f[i]);
	cr_assert_eq(get_stats().frames_mapped, 0);
	cr_assert_eq(get_stats().frames_allocated, 4);
}

/* A slot listed twice: the later entry wins, the earlier frame ends unmapped. */
Test(scatter, duplicate_slot_later_wins)
{
	awe_frame_t f[2];
	char *w = window_new(2);

	alloc_exact(f, 2);
	AWE_OK(awe_map_scatter((void *[]){w, w}, 2, f));
	assert_slot(w, f[1], AWE_PROT_READWRITE);
	assert_parked(f[0]);

	/* Two addresses inside the same slot are the same slot. */
	unmap_range(w, 1);
	AWE_OK(awe_map_scatter((void *[]){w + 100, w + 200}, 2, (awe_frame_t[]){f[1], f[0]}));
	assert_slot(w, f[0], AWE_PROT_READWRITE);
	assert_parked(f[1]);

	/* Map then unmap in one call. */
	unmap_range(w, 1);
	AWE_OK(awe_map_scatter((void *[]){slot(w, 1), slot(w, 1)}, 2, (awe_frame_t[]){f[0], 0}));
	assert_slot(slot(w, 1), 0, AWE_PROT_NONE);
	assert_parked(f[0]);

	/* Unmap then map. */
	AWE_OK(awe_map_scatter((void *[]){w, w}, 2, (awe_frame_t[]){0, f[1]}));
	assert_slot(w, f[1], AWE_PROT_READWRITE);
	cr_assert_eq(get_stats().frames_mapped, 1);
}

Test(scatter, count_zero)
{
	char *w = window_new(1);

	cr_assert_eq(AWE_OK(awe_map_scatter(NULL, 0, NULL)), 0);
	cr_assert_eq(AWE_OK(awe_map_scatter((void *[]){w}, 0, NULL)), 0);
	assert_slot(w, 0, AWE_PROT_NONE);
}

Test(scatter, null_addrs)
{
	awe_frame_t f[2];
	char *w = window_new(2);

	alloc_exact(f, 2);
	AWE_ERR(awe_map_scatter(NULL, 1, f), EFAULT);
	AWE_ERR(awe_map_scatter(NULL, 2, NULL), EFAULT);
	AWE_ERR(awe_map_scatter((void *[]){w, NULL}, 2, f), EFAULT);
	AWE_ERR(awe_map_scatter((void *[]){NULL, w}, 2, NULL), EFAULT);
	assert_slot(w, 0, AWE_PROT_NONE);
	assert_parked(f[0]);
	assert_parked(f[1]);
}

Test(scatter, address_outside_windows)
{
	awe_frame_t f[2];
	char *w = window_new(2);
	int local = 0;

	alloc_exact(f, 2);
	AWE_ERR(awe_map_scatter((void *[]){w, &local}, 2, f), EINVAL);
	AWE_ERR(awe_map_scatter((void *[]){w, slot(w, 2)}, 2, f), EINVAL);
	AWE_ERR(awe_map_scatter((void *[]){w - 1}, 1, NULL), EINVAL);
	assert_slot(w, 0, AWE_PROT_NONE);
	assert_parked(f[0]);
}

Test(scatter, invalid_and_busy_frames)
{
	awe_frame_t f[3];
	char *w = window_new(4);

	alloc_exact(f, 3);
	map1(slot(w, 3), f[2]);
	AWE_ERR(awe_map_scatter((void *[]){w}, 1, (awe_frame_t[]){BOGUS_FRAME}), ENOENT);
	AWE_ERR(awe_map_scatter((void *[]){w, slot(w, 1)}, 2, (awe_frame_t[]){f[0], f[2]}), EBUSY);
	/* At its own slot is still "already mapped". */
	AWE_ERR(awe_map_scatter((void *[]){slot(w, 3)}, 1, &f[2]), EBUSY);
	AWE_ERR(awe_map_scatter((void *[]){w, slot(w, 1)}, 2, (awe_frame_t[]){f[0], f[0]}), EBUSY);
	assert_slot(w, 0, AWE_PROT_NONE);
	assert_slot(slot(w, 1), 0, AWE_PROT_NONE);
	assert_slot(slot(w, 3), f[2], AWE_PROT_READWRITE);
	assert_parked(f[0]);
}

/* A bad last entry (frame or address): nothing changes anywhere. */
Test(scatter, all_or_nothing)
{
	struct aon_case c[AON_CASES];
	awe_frame_t arr[8];
	void *addrs[8];
	struct aon x;
	int local = 0;

	aon_setup(&x);
	aon_cases(&x, c);
	for (size_t i = 0; i < 8; i++)
		addrs[i] = slot(x.w, 7 - i);
	for (size_t k = 0; k < AON_CASES; k++) {
		/* 0 is not an error here: it unmaps. */
		if (c[k].bad == 0)
			continue;
		memcpy(arr, x.g, sizeof(arr));
		arr[7] = c[k].bad;
		AWE_ERR(awe_map_scatter(addrs, 8, arr), c[k].code);
		aon_assert_unchanged(&x);
	}
	addrs[7] = NULL;
	AWE_ERR(awe_map_scatter(addrs, 8, x.g), EFAULT);
	aon_assert_unchanged(&x);
	AWE_ERR(awe_map_scatter(addrs, 8, NULL), EFAULT);
	aon_assert_unchanged(&x);
	addrs[7] = &local;
	AWE_ERR(awe_map_scatter(addrs, 8, x.g), EINVAL);
	aon_assert_unchanged(&x);
}

Test(scatter, many_random_slots)
{
	enum { N = 4096, SLOTS = 16384 };
	awe_frame_t *f = alloc_array(N);
	size_t *perm = malloc(SLOTS * sizeof(*perm));
	void **addrs = malloc(N * sizeof(*addrs));
	char *w = window_new(SLOTS);

	cr_assert(perm && addrs);
	shuffle(perm, SLOTS, 42);
	for (size_t i = 0; i < N; i++)
		addrs[i] = slot(w, perm[i]);
	AWE_OK(awe_map_scatter(addrs, N, f));
	for (size_t i = 0; i < N; i++)
		*(uint64_t *)addrs[i] = f[i];
	cr_assert_eq(get_stats().frames_mapped, N);
	/* Rotate: frame i moves to the slot of frame i + 1. */
	AWE_OK(awe_map_scatter(addrs, N, NULL));
	for (size_t i = 0; i < N; i++)
		addrs[i] = slot(w, perm[(i + 1) % N]);
	AWE_OK(awe_map_scatter(addrs, N, f));
	for (size_t i = 0; i < N; i += 7)
		assert_stamped_at(addrs[i], f[i]);
	unmap_range(w, SLOTS);
	cr_assert_eq(get_stats().frames_mapped, 0);
	free(addrs);
	free(perm);
	free(f);
}

/* Single-page calls give parking slots back lazily (the next single-page
 * unmap takes the same slot back): bulk calls in between must still see
 * every free slot, and no slot may be handed out twice. Parking is filled
 * with frames first, so that a slot missed is a failed call. */
Test(scatter, single_pages_between_bulk_calls)
{
	enum { N = 256, ROUNDS = 6 };
	awe_frame_t *f = alloc_array(N), *fill = NULL;
	size_t *perm = malloc(N * sizeof(*perm));
	char *w = window_new(N);
	uint64_t parking = get_stats().parking_bytes;
	size_t nfill = parking / pg() > N ? parking / pg() - N : 0;

	cr_assert(perm);
	if (nfill)
		fill = alloc_array(nfill);
	cr_assert_eq(get_stats().parking_bytes, parking);
	for (int r = 0; r < ROUNDS; r++) {
		/* Map all in one call, each page stamped with its frame. */
		AWE_OK(awe_map(w, N, f));
		for (size_t i = 0; i < N; i++)
			if (r == 0)
				*(uint64_t *)slot(w, i) = f[i];
			else
				assert_stamped_at(slot(w, i), f[i]);
		/* Single pages in random order: unmap some, remap a few of them
		 * at once (an unmap takes back the slot the map gave), then
		 * remap the rest, which leaves slots on the lazy list. */
		shuffle(perm, N, 7 + (uint64_t)r);
		for (size_t i = 0; i < N / 2; i++) {
			void *a = slot(w, perm[i]);

			AWE_OK(awe_map_scatter(&a, 1, NULL));
			if (i % 3 == 0) {
				AWE_OK(awe_map_scatter(&a, 1, &f[perm[i]]));
				assert_stamped_at(a, f[perm[i]]);
			}
		}
		for (size_t i = 0; i < N / 2; i++) {
			void *a = slot(w, perm[i]);

			if (i % 3)
				AWE_OK(awe_map_scatter(&a, 1, &f[perm[i]]));
		}
		/* One bulk unmap takes whole runs of parking. */
		unmap_range(w, N);
		for (size_t i = 0; i < N; i++)
			assert_parked(f[i]);
		/* Copying (from its first single-page map on), the engine keeps
		 * room for spares beyond the frames: parking grows once then. */
		if (r == 0 && engine_copies())
			parking = get_stats().parking_bytes;
	}
	cr_assert_eq(get_stats().frames_mapped, 0);
	cr_assert_eq(get_stats().parking_bytes, parking, "parking grew: slots were lost");
	free(perm);
	free(fill);
	free(f);
}
