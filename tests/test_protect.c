/* SPDX-License-Identifier: MIT */
/* awe_protect(): read-only and no-access slots. */
#include "helpers.h"

#define OLD_UNSET 0x7777

Test(protect, read_only)
{
	awe_frame_t f[2];
	char *w = mapped_window(f, 2);
	int old = OLD_UNSET;

	cr_assert_eq(AWE_OK(awe_protect(w, 1, AWE_PROT_READ, &old)), 0);
	cr_assert_eq(old, AWE_PROT_READWRITE);
	assert_slot(w, f[0], AWE_PROT_READ);
	assert_page(w, f[0]);
	assert_no_fault(probe_read(w + 123), w + 123, "read");
	assert_write_faults(w + 123);
	/* The refused write did not land. */
	assert_page(w, f[0]);
	/* The neighbour is unaffected. */
	assert_slot(slot(w, 1), f[1], AWE_PROT_READWRITE);
	assert_no_fault(probe_write(slot(w, 1), 1), slot(w, 1), "write");
}

Test(protect, no_access)
{
	awe_frame_t f[1], other;
	char *w = mapped_window(f, 1);
	char *w2 = window_new(1);

	alloc_exact(&other, 1);
	AWE_OK(awe_protect(w, 1, AWE_PROT_NONE, NULL));
	assert_read_faults(w);
	assert_read_faults(w + pg() - 1);
	assert_write_faults(w + 8);
	/* Still mapped: reported, and not mappable elsewhere. */
	assert_slot(w, f[0], AWE_PROT_NONE);
	cr_assert_eq(frame_where(f[0]), w);
	AWE_ERR(awe_map(w2, 1, f), EBUSY);
	AWE_ERR(awe_map_scatter((void *[]){w2}, 1, f), EBUSY);
	cr_assert_eq(get_stats().frames_mapped, 1);

	/* Back to read-write: access returns, data intact. */
	AWE_OK(awe_protect(w, 1, AWE_PROT_READWRITE, NULL));
	assert_slot(w, f[0], AWE_PROT_READWRITE);
	assert_page(w, f[0]);
	assert_no_fault(probe_write(w, 3), w, "write");
}

Test(protect, read_only_back_to_read_write)
{
	awe_frame_t f[4];
	char *w = mapped_window(f, 4);

	AWE_OK(awe_protect(w, 4, AWE_PROT_READ, NULL));
	AWE_OK(awe_protect(slot(w, 1), 2, AWE_PROT_READWRITE, NULL));
	assert_slot(slot(w, 0), f[0], AWE_PROT_READ);
	assert_slot(slot(w, 1), f[1], AWE_PROT_READWRITE);
	assert_slot(slot(w, 2), f[2], AWE_PROT_READWRITE);
	assert_slot(slot(w, 3), f[3], AWE_PROT_READ);
	for (size_t i = 0; i < 4; i++)
		assert_page(slot(w, i), f[i]);
	fill_page(slot(w, 2), 77);
	assert_page(slot(w, 2), 77);
	assert_write_faults(slot(w, 3));
}

Test(protect, invalid_prot)
{
	awe_frame_t f[1];
	char *w = mapped_window(f, 1);
	const int bad[] = {2, 4, 5, 6, 7, 8, -1, PROT_READ | PROT_EXEC};

	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		AWE_ERR(awe_protect(w, 1, bad[i], NULL), EINVAL);
		assert_slot(w, f[0], AWE_PROT_READWRITE);
	}
}

Test(protect, range_not_in_one_window)
{
	awe_frame_t f[2];
	char *w = mapped_window(f, 2);
	int local = 0;

	AWE_ERR(awe_protect(w, 3, AWE_PROT_READ, NULL), EINVAL);
	AWE_ERR(awe_protect(slot(w, 1), 2, AWE_PROT_NONE, NULL), EINVAL);
	AWE_ERR(awe_protect(slot(w, 2), 1, AWE_PROT_READ, NULL), EINVAL);
	AWE_ERR(awe_protect(&local, 1, AWE_PROT_READ, NULL), EINVAL);
	AWE_ERR(awe_protect(w, SIZE_MAX, AWE_PROT_READ, NULL), EINVAL);
	AWE_ERR(awe_protect(NULL, 1, AWE_PROT_READ, NULL), EFAULT);
	/* All-or-nothing: the in-window part was not changed either. */
	assert_slot(w, f[0], AWE_PROT_READWRITE);
	assert_slot(slot(w, 1), f[1], AWE_PROT_READWRITE);
}

Test(protect, unmapped_slots_stay_unmapped)
{
	awe_frame_t f[2];
	char *w = window_new(4);

	alloc_exact(f, 2);
	map1(slot(w, 1), f[0]);
	map1(slot(w, 3), f[1]);
	AWE_OK(awe_protect(w, 4, AWE_PROT_READ, NULL));
	assert_slot(slot(w, 0), 0, AWE_PROT_NONE);
	assert_slot(slot(w, 1), f[0], AWE_PROT_READ);
	assert_slot(slot(w, 2), 0, AWE_PROT_NONE);
	assert_slot(slot(w, 3), f[1], AWE_PROT_READ);
	assert_read_faults(slot(w, 2));
	AWE_OK(awe_protect(w, 4, AWE_PROT_READWRITE, NULL));
	assert_slot(slot(w, 0), 0, AWE_PROT_NONE);
	assert_read_faults(w);
	cr_assert_eq(get_stats().frames_mapped, 2);
}

/* *old reports the first slot as it was, AWE_PROT_NONE when unmapped. */
Test(protect, old_protection)
{
	awe_frame_t f[2];
	char *w = window_new(3);
	int old;

	alloc_exact(f, 2);
	AWE_OK(awe_map(slot(w, 1), 2, f));
	old = OLD_UNSET;
	AWE_OK(awe_protect(slot(w, 1), 2, AWE_PROT_READ, &old));
	cr_assert_eq(old, AWE_PROT_READWRITE);
	old = OLD_UNSET;
	AWE_OK(awe_protect(slot(w, 1), 1, AWE_PROT_NONE, &old));
	cr_assert_eq(old, AWE_PROT_READ);
	old = OLD_UNSET;
	AWE_OK(awe_protect(slot(w, 1), 1, AWE_PROT_READWRITE, &old));
	cr_assert_eq(old, AWE_PROT_NONE);
	/* First slot unmapped, the next one read-only. */
	old = OLD_UNSET;
	AWE_OK(awe_protect(w, 3, AWE_PROT_READWRITE, &old));
	cr_assert_eq(old, AWE_PROT_NONE);
	/* Same protection again: reported as it is. */
	old = OLD_UNSET;
	AWE_OK(awe_protect(slot(w, 2), 1, AWE_PROT_READWRITE, &old));
	cr_assert_eq(old, AWE_PROT_READWRITE);
}

Test(protect, remap_is_read_write)
{
	awe_frame_t f[2];
	char *w = mapped_window(f, 2);

	AWE_OK(awe_protect(w, 2, AWE_PROT_READ, NULL));
	unmap_range(w, 1);
	map1(w, f[0]);
	assert_slot(w, f[0], AWE_PROT_READWRITE);
	assert_no_fault(probe_write(w, 1), w, "write");

	/* The protection does not follow the frame to another slot either. */
	AWE_OK(awe_protect(slot(w, 1), 1, AWE_PROT_NONE, NULL));
	unmap_range(slot(w, 1), 1);
	map1(w, f[1]);
	assert_slot(w, f[1], AWE_PROT_READWRITE);
	assert_page(w, f[1]);
	assert_parked(f[0]);
}

/* Protected frames survive window destruction and come back read-write. */
Test(protect, destroy_window_with_protected_frames)
{
	awe_frame_t f[2];
	char *w = mapped_window(f, 2), *w2 = window_new(2);

	AWE_OK(awe_protect(w, 1, AWE_PROT_NONE, NULL));
	AWE_OK(awe_protect(slot(w, 1), 1, AWE_PROT_READ, NULL));
	AWE_OK(awe_window_destroy(w));
	assert_parked(f[0]);
	assert_parked(f[1]);
	AWE_OK(awe_map(w2, 2, f));
	for (size_t i = 0; i < 2; i++) {
		assert_slot(slot(w2, i), f[i], AWE_PROT_READWRITE);
		assert_page(slot(w2, i), f[i]);
	}
}

Test(protect, unmap_of_protected_slots)
{
	awe_frame_t f[2];
	char *w = mapped_window(f, 2);

	AWE_OK(awe_protect(w, 1, AWE_PROT_NONE, NULL));
	AWE_OK(awe_protect(slot(w, 1), 1, AWE_PROT_READ, NULL));
	unmap_range(w, 2);
	assert_slot(w, 0, AWE_PROT_NONE);
	assert_slot(slot(w, 1), 0, AWE_PROT_NONE);
	cr_assert_eq(get_stats().frames_mapped, 0);
	/* Mapped again elsewhere, read-write with the old data. */
	AWE_OK(awe_map(w, 2, (awe_frame_t[]){f[1], f[0]}));
	assert_page(w, f[1]);
	assert_page(slot(w, 1), f[0]);
	fill_page(w, 5);
	fill_page(slot(w, 1), 6);
}

Test(protect, large_range)
{
	enum { N = 2048 };
	awe_frame_t *f = alloc_array(N);
	char *w = window_new(N);

	AWE_OK(awe_map(w, N, f));
	AWE_OK(awe_protect(w, N, AWE_PROT_READ, NULL));
	for (size_t i = 0; i < N; i += 511)
		assert_slot(slot(w, i), f[i], AWE_PROT_READ);
	assert_write_faults(slot(w, N - 1));
	AWE_OK(awe_protect(w, N, AWE_PROT_READWRITE, NULL));
	for (size_t i = 0; i < N; i++)
		*(uint64_t *)slot(w, i) = i;
	free(f);
}

/* A window is readied for read-only pages only when it first shows one:
 * a read-only frame unmapped from one window must be writable in another
 * that never had one, and that window must then take read-only in turn. */
Test(protect, read_only_frame_into_a_fresh_window)
{
	awe_frame_t f[2];
	char *a = mapped_window(f, 2);
	char *b = window_new(2);

	AWE_OK(awe_protect(a, 2, AWE_PROT_READ, NULL));
	assert_write_faults(a);
	/* Unmapped read-only, mapped read-write elsewhere (bulk and single). */
	AWE_OK(awe_map(a, 2, NULL));
	AWE_OK(awe_map(b, 1, f));
	AWE_OK(awe_map_scatter((void *[]){slot(b, 1)}, 1, &f[1]));
	for (size_t i = 0; i < 2; i++) {
		assert_slot(slot(b, i), f[i], AWE_PROT_READWRITE);
		assert_page(slot(b, i), f[i]);
		assert_no_fault(probe_write(slot(b, i), 5), slot(b, i), "write");
	}
	AWE_OK(awe_protect(slot(b, 1), 1, AWE_PROT_READ, NULL));
	assert_write_faults(slot(b, 1));
	assert_no_fault(probe_write(b, 6), b, "write");
	/* And back through the first window, still readied. */
	AWE_OK(awe_map(b, 2, NULL));
	AWE_OK(awe_map(a, 2, f));
	AWE_OK(awe_protect(slot(a, 1), 1, AWE_PROT_READ, NULL));
	assert_write_faults(slot(a, 1));
	assert_no_fault(probe_write(a, 7), a, "write");
}
