/* SPDX-License-Identifier: MIT */
/*
 * Rollback: a kernel failure part of the way through a multi-call request
 * must leave everything as it was. The kernel cannot be made to fail on
 * demand, so this program links the static library and uses its test hook,
 * which makes the Nth page move (UFFDIO_MOVE engine) stop half-way, or the
 * Nth mmap() or mprotect() (memfd engine) fail, with ENOMEM. Both engines
 * run every test; only the number of system calls a request takes differs.
 */
#include "helpers.h"
#include "helpers_thread.h"

extern int awe__test_fail_move, awe__test_fail_discard, awe__test_fail_undo, awe__test_fail_alloc,
	awe__test_fail_drop, awe__test_threads;

#define SLOTS 32

/* Every slot of @w holds frame want[i] (0: unmapped) with its tag intact. */
static void expect_slots(char *w, const awe_frame_t *want, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		struct awe_page_info pi = query(slot(w, i));

		cr_assert_eq(pi.frame, want[i], "slot %zu holds %#" PRIx64 ", expected %#" PRIx64,
			     i, pi.frame, want[i]);
		if (want[i])
			cr_assert_eq(*(awe_frame_t *)slot(w, i), want[i], "slot %zu lost its data",
				     i);
	}
}

/* A window with SLOTS fresh frames @f mapped in order, each stamped. */
static char *stamped_window(awe_frame_t *f)
{
	char *w = window_new(SLOTS);

	alloc_exact(f, SLOTS);
	map_stamped(w, f, SLOTS);
	return w;
}

/* Two sets of SLOTS stamped frames: @a mapped in order at @w, @b parked
 * (stamped through @scratch); @addrs the slots of @w in reverse, so that a
 * scatter of @b replaces every slot with one bulk move out and one move per
 * page in. */
static void replace_setup(char *w, char *scratch, awe_frame_t *a, awe_frame_t *b, void **addrs)
{
	alloc_exact(a, SLOTS);
	alloc_exact(b, SLOTS);
	map_stamped(scratch, b, SLOTS);
	unmap_range(scratch, SLOTS);
	map_stamped(w, a, SLOTS);
	for (size_t i = 0; i < SLOTS; i++)
		addrs[i] = slot(w, SLOTS - 1 - i);
}

Test(rollback, scatter_replace_fails_at_every_move)
{
	awe_frame_t a[SLOTS], b[SLOTS];
	char *w = window_new(SLOTS), *tmp = window_new(SLOTS);
	void *addrs[SLOTS];
	int n;

	replace_setup(w, tmp, a, b, addrs);
	struct awe_stats before = get_stats();
	/* UFFDIO_MOVE: one bulk move out, then one move per page in. memfd: one
	 * mmap() per page, which replaces the old page in the same call. */
	int calls = engine_is_memfd() ? SLOTS : SLOTS + 1;

	for (n = 1; n <= calls; n++) {
		awe__test_fail_move = n;
		AWE_ERR(awe_map_scatter(addrs, SLOTS, b), ENOMEM);
		expect_slots(w, a, SLOTS);
		for (size_t i = 0; i < SLOTS; i++)
			cr_assert_null(frame_where(b[i]), "b[%zu] stayed mapped after rollback", i);
		struct awe_stats now = get_stats();
		cr_assert_eq(now.frames_mapped, before.frames_mapped);
		cr_assert_eq(now.frames_allocated, before.frames_allocated);
	}
	/* One more call than the request takes: the hook does not fire. */
	awe__test_fail_move = calls + 1;
	AWE_OK(awe_map_scatter(addrs, SLOTS, b));
	cr_assert_eq(awe__test_fail_move, 1, "the request took %d calls, expected %d",
		     calls + 1 - awe__test_fail_move, calls);
	awe__test_fail_move = 0;
	for (size_t i = 0; i < SLOTS; i++) {
		cr_assert_eq(query(addrs[i]).frame, b[i]);
		cr_assert_eq(*(awe_frame_t *)addrs[i], b[i], "b[%zu] lost its data", i);
		cr_assert_null(frame_where(a[i]));
	}
	/* The parked a frames are intact too. */
	AWE_OK(awe_map(tmp, SLOTS, a));
	expect_slots(tmp, a, SLOTS);
}

/* Single-page calls take a shorter path through the UFFDIO_MOVE engine: a
 * refused move there must also change nothing and keep parking consistent. */
Test(rollback, single_page_map_and_unmap_fail)
{
	awe_frame_t f[SLOTS], none[SLOTS] = {0};
	char *w = stamped_window(f);
	void *a = slot(w, 3);

	/* Unmap one page: refused, still mapped with its data. */
	awe__test_fail_move = 1;
	AWE_ERR(awe_map_scatter(&a, 1, NULL), ENOMEM);
	expect_slots(w, f, SLOTS);
	AWE_OK(awe_map_scatter(&a, 1, NULL));
	cr_assert_null(frame_where(f[3]));
	/* Map it back: refused, the slot stays empty and the frame parked. */
	awe__test_fail_move = 1;
	AWE_ERR(awe_map_scatter(&a, 1, &f[3]), ENOMEM);
	cr_assert_eq(query(a).frame, 0);
	cr_assert_null(frame_where(f[3]));
	awe__test_fail_move = 0;
	AWE_OK(awe_map_scatter(&a, 1, &f[3]));
	expect_slots(w, f, SLOTS);
	/* Parking lost no slot: everything goes out and comes back. */
	for (int round = 0; round < 3; round++) {
		AWE_OK(awe_map(w, SLOTS, NULL));
		expect_slots(w, none, SLOTS);
		AWE_OK(awe_map(w, SLOTS, f));
		expect_slots(w, f, SLOTS);
	}
	cr_assert_eq(get_stats().frames_mapped, SLOTS);
}

Test(rollback, bulk_unmap_fails_half_way)
{
	awe_frame_t f[SLOTS];
	char *w = stamped_window(f);

	awe__test_fail_move = 1;
	AWE_ERR(awe_map(w, SLOTS, NULL), ENOMEM);
	expect_slots(w, f, SLOTS);
	cr_assert_eq(get_stats().frames_mapped, SLOTS);
	AWE_OK(awe_map(w, SLOTS, NULL));
	cr_assert_eq(get_stats().frames_mapped, 0);
	AWE_OK(awe_map(w, SLOTS, f));
	expect_slots(w, f, SLOTS);
}

Test(rollback, protect_none_fails)
{
	awe_frame_t f[SLOTS];
	char *w = stamped_window(f);

	AWE_OK(awe_protect(slot(w, 4), 4, AWE_PROT_READ, NULL));
	awe__test_fail_move = 1;
	AWE_ERR(awe_protect(w, SLOTS, AWE_PROT_NONE, NULL), ENOMEM);
	expect_slots(w, f, SLOTS);
	/* Read-only pages that went out and came back are read-only still. */
	for (size_t i = 0; i < SLOTS; i++) {
		bool ro = i >= 4 && i < 8;

		cr_assert_eq(query(slot(w, i)).prot, ro ? AWE_PROT_READ : AWE_PROT_READWRITE);
		if (ro)
			assert_write_faults(slot(w, i));
	}
	/* Unhiding fails part of the way: still hidden, still the same frames. */
	AWE_OK(awe_protect(w, SLOTS, AWE_PROT_NONE, NULL));
	awe__test_fail_move = 1;
	AWE_ERR(awe_protect(w, SLOTS, AWE_PROT_READWRITE, NULL), ENOMEM);
	for (size_t i = 0; i < SLOTS; i++) {
		cr_assert_eq(query(slot(w, i)).prot, AWE_PROT_NONE);
		cr_assert_eq(frame_where(f[i]), slot(w, i));
	}
	AWE_OK(awe_protect(w, SLOTS, AWE_PROT_READWRITE, NULL));
	expect_slots(w, f, SLOTS);
}

Test(rollback, destroy_fails_window_stays)
{
	awe_frame_t f[SLOTS];
	char *w = stamped_window(f);

	awe__test_fail_move = 1;
	AWE_ERR(awe_window_destroy(w), ENOMEM);
	expect_slots(w, f, SLOTS);
	cr_assert_eq(get_stats().windows, 1);
	AWE_OK(awe_window_destroy(w));
	cr_assert_eq(get_stats().windows, 0);
	for (size_t i = 0; i < SLOTS; i++)
		cr_assert_null(frame_where(f[i]));
}

/* After many failed calls the parking bookkeeping must still be right:
 * churn through it and check every frame's data. */
Test(rollback, parking_consistent_after_failures)
{
	enum { N = 256 };
	awe_frame_t f[N];
	char *w = window_new(N);

	alloc_exact(f, N);
	map_stamped(w, f, N);
	for (int round = 0; round < 50; round++) {
		size_t at = (size_t)(round * 37) % (N - 16);
		void *addrs[16];

		awe__test_fail_move = 1;
		AWE_ERR(awe_map(slot(w, at), 16, NULL), ENOMEM);
		AWE_OK(awe_map(slot(w, at), 16, NULL));
		/* Back in reverse: one move per page, the k-th of which fails. */
		for (size_t i = 0; i < 16; i++)
			addrs[i] = slot(w, at + 15 - i);
		awe__test_fail_move = 1 + round % 16;
		AWE_ERR(awe_map_scatter(addrs, 16, &f[at]), ENOMEM);
		awe__test_fail_move = 0;
		AWE_OK(awe_map(slot(w, at), 16, &f[at]));
	}
	expect_slots(w, f, N);
	AWE_OK(awe_map(w, N, NULL));
	AWE_OK(awe_map(w, N, f));
	expect_slots(w, f, N);
}

/* A range map whose frames are parked in pieces takes one move per piece:
 * failing at any of them must put back the pieces already moved. */
Test(rollback, range_map_fails_at_every_piece)
{
	awe_frame_t f[SLOTS], none[SLOTS] = {0};
	char *w = stamped_window(f);
	int k;

	/* Unmapped one page at a time, in an order that parks them in pieces. */
	for (size_t i = 0; i < SLOTS; i++) {
		void *a = slot(w, i % 2 ? i / 2 : SLOTS / 2 + i / 2);

		AWE_OK(awe_map_scatter(&a, 1, NULL));
	}
	expect_slots(w, none, SLOTS);
	struct awe_stats before = get_stats();

	for (k = 1; k < 4 * SLOTS; k++) {
		awe__test_fail_move = k;
		if (awe_map(w, SLOTS, f) == 0)
			break;
		cr_assert_eq(errno, ENOMEM);
		expect_slots(w, none, SLOTS);
		cr_assert_eq(get_stats().frames_mapped, 0);
		cr_assert_eq(get_stats().parking_bytes, before.parking_bytes);
		for (size_t i = 0; i < SLOTS; i++)
			assert_parked(f[i]);
	}
	awe__test_fail_move = 0;
	/* memfd maps consecutive frames in one call wherever they were. */
	if (!engine_is_memfd())
		cr_assert(k > 2, "the frames should have been parked in several pieces");
	expect_slots(w, f, SLOTS);
}

/* A range going out takes one parking run, growing parking when the only
 * free slots are scattered ones: parked in pieces, the range would come
 * back in pieces, a move each, for good. Single pages of two windows used
 * in turn (as two threads do) trade parking slots and scatter them. The
 * test hook counts the moves: the range must come back in one. */
Test(rollback, range_out_keeps_runs_whole)
{
	enum { N = 64 };
	awe_frame_t f[N], g[N], *fill = NULL;
	char *a = window_new(N), *b = window_new(N);
	size_t parked, nfill;

	alloc_exact(f, N);
	alloc_exact(g, N);
	parked = get_stats().parking_bytes / pg();
	nfill = parked > 2 * N ? parked - 2 * N : 0;
	if (nfill)
		fill = alloc_array(nfill); /* parking is now full */
	map_stamped(a, f, N);
	map_stamped(b, g, N);
	AWE_OK(awe_map(a, N, NULL));
	AWE_OK(awe_map(b, N, NULL));
	for (size_t i = 1; i < N; i += 2) {
		void *x = slot(a, i), *y = slot(b, i);

		AWE_OK(awe_map_scatter(&x, 1, &f[i]));
		AWE_OK(awe_map_scatter(&y, 1, &g[i]));
		AWE_OK(awe_map_scatter(&x, 1, NULL));
		AWE_OK(awe_map_scatter(&y, 1, NULL));
	}
	/* In (in pieces), out (whole, or in pieces without room), in again. */
	AWE_OK(awe_map(a, N, f));
	AWE_OK(awe_map(a, N, NULL));
	awe__test_fail_move = engine_is_memfd() ? 0 : 2;
	AWE_OK(awe_map(a, N, f));
	awe__test_fail_move = 0;
	expect_slots(a, f, N);
	AWE_OK(awe_map(b, N, g));
	expect_slots(b, g, N);
	free(fill);
}

/* The kernel refusing to release a frame's page (test hook: the Nth release
 * call fails): awe_free() stops there with -EIO, the frames before are
 * freed, and that frame and the ones after stay allocated with their data
 * (unmapped: the batch was taken off its slots first). */
Test(rollback, free_stops_where_a_release_is_refused)
{
	awe_frame_t f[SLOTS], rev[SLOTS];
	char *w = stamped_window(f);
	size_t freed = 99;

	/* Reversed: every frame's page is a release call of its own. */
	for (size_t i = 0; i < SLOTS; i++)
		rev[i] = f[SLOTS - 1 - i];
	awe__test_fail_discard = 3;
	AWE_ERR(awe_free(rev, SLOTS, &freed), EIO);
	awe__test_fail_discard = 0;
	cr_assert_eq(freed, 2, "%zu freed, expected the 2 before the refused release", freed);
	cr_assert_eq(get_stats().frames_allocated, SLOTS - 2);
	for (size_t i = 0; i < 2; i++)
		assert_frame_invalid(rev[i]);
	for (size_t i = 2; i < SLOTS; i++) {
		assert_parked(rev[i]);
		map1(slot(w, SLOTS - 1 - i), rev[i]);
		assert_stamped_at(slot(w, SLOTS - 1 - i), rev[i]);
	}
	assert_read_faults(slot(w, SLOTS - 1));
	/* And they go once the kernel lets them. */
	AWE_OK(awe_free(rev + 2, SLOTS - 2, &freed));
	cr_assert_eq(get_stats().frames_allocated, 0);
}

/* --- undo refused: the call fails, partly done, and says so --------------- */

/* Whatever the slots of @w show is true: awe_query(), awe_frame_addr(), the
 * data (every frame carries its own number), the faults and the counters
 * agree, and every one of @f's @n frames is allocated, at one slot or
 * parked. Returns how many slots hold a frame. */
static size_t assert_consistent(char *w, size_t slots, const awe_frame_t *f, size_t n)
{
	size_t shown = 0;

	for (size_t i = 0; i < slots; i++) {
		struct awe_page_info pi = query(slot(w, i));

		if (!pi.frame) {
			assert_read_faults(slot(w, i));
			continue;
		}
		shown++;
		cr_assert_eq(frame_where(pi.frame), slot(w, i),
			     "slot %zu: awe_frame_addr disagrees", i);
		if (pi.prot == AWE_PROT_NONE) {
			assert_read_faults(slot(w, i));
			continue;
		}
		cr_assert_eq(*(awe_frame_t *)slot(w, i), pi.frame, "slot %zu shows the wrong page",
			     i);
		if (pi.prot == AWE_PROT_READ)
			assert_write_faults(slot(w, i));
	}
	for (size_t i = 0; i < n; i++) {
		void *at = frame_where(f[i]); /* fails the test if it was lost */

		cr_assert(at == NULL || ((char *)at >= w && (char *)at < slot(w, slots)),
			  "frame %zu is at %p, outside the window", i, at);
	}
	cr_assert_eq(get_stats().frames_mapped, shown);
	cr_assert_eq(get_stats().frames_allocated, n);
	return shown;
}

/* Back to: a[i] at slot i, b parked; every frame's data intact. */
static void reset_ab(char *w, const awe_frame_t *a, const awe_frame_t *b)
{
	awe__test_fail_move = awe__test_fail_undo = 0;
	unmap_range(w, SLOTS);
	AWE_OK(awe_protect(w, SLOTS, AWE_PROT_READWRITE, NULL));
	AWE_OK(awe_map(w, SLOTS, b));
	assert_stamped(w, b, SLOTS);
	unmap_range(w, SLOTS);
	AWE_OK(awe_map(w, SLOTS, a));
	assert_stamped(w, a, SLOTS);
}

/*
 * A scatter replacing every slot (moves out, then in, one by one), failing
 * at the k-th kernel call, with the kernel refusing the undo from the j-th
 * on: either everything came back (-ENOMEM, nothing changed) or the call
 * says -ENOTRECOVERABLE and what it left is consistent and complete.
 */
Test(rollback, undo_refused_leaves_a_true_state)
{
	awe_frame_t a[SLOTS], b[SLOTS], ab[2 * SLOTS];
	char *w = window_new(SLOTS);
	void *addrs[SLOTS];
	int partial = 0, clean = 0;
	int calls = engine_is_memfd() ? SLOTS : SLOTS + 1;

	replace_setup(w, w, a, b, addrs);
	memcpy(ab, a, sizeof(a));
	memcpy(ab + SLOTS, b, sizeof(b));
	for (int k = 1; k <= calls; k += 3) {
		for (int j = 1; j <= k + 1; j += 2) {
			int r;

			awe__test_fail_move = k;
			awe__test_fail_undo = j;
			errno = 0;
			r = awe_map_scatter(addrs, SLOTS, b);
			awe__test_fail_undo = 0;
			cr_assert(r == -ENOMEM || r == -ENOTRECOVERABLE, "k %d j %d: %d (%s)", k, j,
				  r, awe_strerror(r));
			cr_assert_eq(errno, -r);
			if (r == -ENOMEM)
				expect_slots(w, a, SLOTS);
			assert_consistent(w, SLOTS, ab, 2 * SLOTS);
			partial += r == -ENOTRECOVERABLE;
			clean += r == -ENOMEM;
			reset_ab(w, a, b);
		}
	}
	cr_log_info("%d partial, %d clean", partial, clean);
	cr_assert_gt(partial, 0, "no undo was ever refused: the test tested nothing");
}

/* Hiding read-only and read-write frames (moved to parking) fails, and
 * putting them back, or write-protecting the read-only ones again, is
 * refused. An empty slot splits the memfd engine's work into two runs, so
 * that the second fails after the first was done. */
Test(rollback, undo_refused_while_protecting)
{
	awe_frame_t f[SLOTS], want[SLOTS];
	char *w = stamped_window(f);
	int partial = 0;

	unmap_range(slot(w, 20), 1);
	memcpy(want, f, sizeof(f));
	want[20] = 0;
	for (int j = 1; j <= 3; j++) {
		AWE_OK(awe_protect(slot(w, 4), 8, AWE_PROT_READ, NULL));
		awe__test_fail_move = engine_is_memfd() ? 2 : 1;
		awe__test_fail_undo = j;
		errno = 0;
		int r = awe_protect(w, SLOTS, AWE_PROT_NONE, NULL);

		awe__test_fail_move = awe__test_fail_undo = 0;
		cr_assert(r == -ENOMEM || r == -ENOTRECOVERABLE, "j %d: %d", j, r);
		partial += r == -ENOTRECOVERABLE;
		assert_consistent(w, SLOTS, f, SLOTS);
		AWE_OK(awe_protect(w, SLOTS, AWE_PROT_READWRITE, NULL));
		expect_slots(w, want, SLOTS);
	}
	cr_assert_gt(partial, 0);
}

/* The range path: a range parked in pieces comes back a move per piece;
 * the undo of the pieces already moved is refused. */
Test(rollback, undo_refused_on_the_range_path)
{
	awe_frame_t f[SLOTS];
	char *w = stamped_window(f);
	int partial = 0;

	for (int k = 2; k < 12; k++) {
		for (size_t i = 0; i < SLOTS; i++) {
			void *a = slot(w, i % 2 ? i / 2 : SLOTS / 2 + i / 2);

			AWE_OK(awe_map_scatter(&a, 1, NULL));
		}
		awe__test_fail_move = k;
		awe__test_fail_undo = 1;
		errno = 0;
		int r = awe_map(w, SLOTS, f);

		awe__test_fail_move = awe__test_fail_undo = 0;
		cr_assert(r == 0 || r == -ENOMEM || r == -ENOTRECOVERABLE, "k %d: %d", k, r);
		partial += r == -ENOTRECOVERABLE;
		assert_consistent(w, SLOTS, f, SLOTS);
		unmap_range(w, SLOTS);
		AWE_OK(awe_map(w, SLOTS, f));
		expect_slots(w, f, SLOTS);
	}
	if (!engine_is_memfd())
		cr_assert_gt(partial, 0);
}

/* Allocations of a call's planning fail (the ops array, the move log, the
 * table of hidden pages): -ENOMEM and nothing changed, parking whole. */
Test(rollback, planning_allocation_fails)
{
	awe_frame_t a[SLOTS], b[SLOTS];
	char *w = window_new(SLOTS), *tmp = window_new(SLOTS);
	void *addrs[SLOTS];
	int failed = 0;

	replace_setup(w, tmp, a, b, addrs);
	for (int k = 1; k <= 4; k++) {
		awe__test_fail_alloc = k;
		errno = 0;
		int r = awe_map_scatter(addrs, SLOTS, b);
		int left = awe__test_fail_alloc;

		awe__test_fail_alloc = 0;
		if (left) { /* fewer allocations than k: the call went through */
			AWE_OK(r);
			unmap_range(w, SLOTS);
			AWE_OK(awe_map(w, SLOTS, a));
			continue;
		}
		failed++;
		cr_assert_eq(r, -ENOMEM, "allocation %d: %d", k, r);
		expect_slots(w, a, SLOTS);
		for (size_t i = 0; i < SLOTS; i++)
			assert_parked(b[i]);
	}
	cr_assert_gt(failed, 0);
	/* Hiding needs the window's aside table, allocated first. */
	awe__test_fail_alloc = 1;
	int r = awe_protect(w, 1, AWE_PROT_NONE, NULL);
	awe__test_fail_alloc = 0;
	cr_assert(r == 0 || r == -ENOMEM);
	if (r)
		expect_slots(w, a, SLOTS);
	AWE_OK(awe_protect(w, SLOTS, AWE_PROT_READWRITE, NULL));
	/* Parking lost nothing. */
	unmap_range(w, SLOTS);
	AWE_OK(awe_map(tmp, SLOTS, a));
	expect_slots(tmp, a, SLOTS);
	AWE_OK(awe_map(w, SLOTS, b));
	expect_slots(w, b, SLOTS);
}

/* The range path's planning: its move log outgrows the one on the stack
 * when the range is parked in many pieces; that allocation failing must
 * not "undo" moves that never happened. */
Test(rollback, range_planning_allocation_fails)
{
	awe_frame_t f[SLOTS], none[SLOTS] = {0};
	char *w = stamped_window(f);

	/* Every other frame parked apart: 16+ pieces. */
	for (size_t i = 0; i < SLOTS; i++) {
		void *a = slot(w, (i * 7) % SLOTS);

		AWE_OK(awe_map_scatter(&a, 1, NULL));
	}
	awe__test_fail_alloc = 1;
	int r = awe_map(w, SLOTS, f);
	awe__test_fail_alloc = 0;
	cr_assert(r == 0 || r == -ENOMEM, "%d", r);
	if (r) {
		expect_slots(w, none, SLOTS);
		for (size_t i = 0; i < SLOTS; i++)
			assert_parked(f[i]);
		AWE_OK(awe_map(w, SLOTS, f));
	}
	expect_slots(w, f, SLOTS);
	unmap_range(w, SLOTS);
	AWE_OK(awe_map(w, SLOTS, f));
	expect_slots(w, f, SLOTS);
}

/* A free of more mapped frames than fit the call's own small array needs
 * an allocation for its unmap; that failing refuses the free (-ENOMEM)
 * with every frame still allocated and shown. A free of a few needs none. */
Test(rollback, free_allocation_fails)
{
	awe_frame_t f[SLOTS];
	char *w = stamped_window(f);
	size_t freed = 1;

	awe__test_fail_alloc = 1;
	int r = awe_free(f, SLOTS, &freed);
	awe__test_fail_alloc = 0;
	cr_assert_eq(r, -ENOMEM, "%d", r);
	cr_assert_eq(freed, 0);
	expect_slots(w, f, SLOTS);
	awe__test_fail_alloc = 1;
	AWE_OK(awe_free(f, 2, &freed));
	awe__test_fail_alloc = 0;
	cr_assert_eq(freed, 2);
	AWE_OK(awe_free(f + 2, SLOTS - 2, &freed));
	cr_assert_eq(freed, SLOTS - 2);
}

/* --- the evictor's unmap (AWE_UNMAP_EXCLUSIVE) fails part of the way -------- */

/* How an unmap can take the slots of a window: the whole range fully mapped
 * read-write (the range path), the same with read-only, hidden and empty
 * slots among them (the op path), every slot listed backwards, one page. */
enum shape { FULL_RANGE, MIXED_RANGE, BACKWARDS, ONE_PAGE, ONE_SCATTERED, SHAPES };

static bool shape_lists(enum shape sh, size_t i)
{
	return sh == ONE_PAGE || sh == ONE_SCATTERED ? i == 5 : true;
}

static int unmap_shape(char *w, enum shape sh, unsigned int flags)
{
	void *addrs[SLOTS];

	for (size_t i = 0; i < SLOTS; i++)
		addrs[i] = slot(w, SLOTS - 1 - i);
	switch (sh) {
	case ONE_PAGE:
		return awe_unmap(slot(w, 5), 1, flags);
	case ONE_SCATTERED:
		return awe_unmap_scatter(&addrs[SLOTS - 1 - 5], 1, flags);
	case BACKWARDS:
		return awe_unmap_scatter(addrs, SLOTS, flags);
	default:
		return awe_unmap(w, SLOTS, flags);
	}
}

/* @f[i] at slot i of @w, read-write; for the mixed shapes slots 12-13
 * read-only, 9 hidden and 20 empty. */
static void shape_setup(char *w, const awe_frame_t *f, enum shape sh)
{
	AWE_OK(awe_map(w, SLOTS, NULL));
	AWE_OK(awe_map(w, SLOTS, f));
	if (sh != MIXED_RANGE && sh != BACKWARDS)
		return;
	AWE_OK(awe_protect(slot(w, 12), 2, AWE_PROT_READ, NULL));
	AWE_OK(awe_protect(slot(w, 9), 1, AWE_PROT_NONE, NULL));
	unmap_range(slot(w, 20), 1);
}

/*
 * The unmap fails at its k-th kernel call (test hook), for every k it
 * takes: -ENOMEM and nothing changed. Then it goes through, and every
 * frame it took off keeps its data. The hook must reach the call whichever
 * way libawe carries it out: with the flag it may copy pages out and drop
 * them in one batch instead of moving them, and that must fail cleanly
 * too.
 */
static void unmap_fails_cleanly(enum shape sh, unsigned int flags)
{
	awe_frame_t f[SLOTS];
	char *w = stamped_window(f), *tmp = window_new(SLOTS);
	struct slot_snap snap[SLOTS];
	uint64_t mapped;
	int k, failures = 0;

	shape_setup(w, f, sh);
	snap_slots(w, SLOTS, snap);
	mapped = get_stats().frames_mapped;
	for (k = 1; k < 4 * SLOTS; k++) {
		awe__test_fail_move = k;
		errno = 0;
		int r = unmap_shape(w, sh, flags);
		int e = errno;

		awe__test_fail_move = 0;
		if (r == 0)
			break;
		cr_assert_eq(r, -ENOMEM, "shape %d, flags %#x, call %d: %d (%s)", sh, flags, k, r,
			     awe_strerror(r));
		cr_assert_eq(e, ENOMEM);
		assert_snap_unchanged(w, SLOTS, snap);
		cr_assert_eq(get_stats().frames_mapped, mapped);
		failures++;
	}
	cr_assert_gt(failures, 0,
		     "shape %d, flags %#x: no kernel call of the unmap went through the test hook "
		     "(fail_move)",
		     sh, flags);
	/* Through at last: the listed slots are empty, the others as they
	 * were, and every frame taken off has its stamp. */
	for (size_t i = 0; i < SLOTS; i++) {
		if (!shape_lists(sh, i)) {
			cr_assert_eq(query(slot(w, i)).frame, snap[i].frame);
			continue;
		}
		assert_slot(slot(w, i), 0, AWE_PROT_NONE);
		if (snap[i].frame) {
			map1(slot(tmp, i), snap[i].frame);
			assert_stamped_at(slot(tmp, i), snap[i].frame);
		}
	}
	AWE_OK(awe_window_destroy(w));
	AWE_OK(awe_window_destroy(tmp));
	AWE_OK(awe_free(f, SLOTS, NULL));
}

static void every_shape_fails_cleanly(void)
{
	for (int sh = 0; sh < SHAPES; sh++) {
		unmap_fails_cleanly(sh, AWE_UNMAP_EXCLUSIVE);
		unmap_fails_cleanly(sh, 0);
	}
}

Test(rollback, exclusive_unmap_fails_cleanly)
{
	every_shape_fails_cleanly();
}

/* Beside a running thread, when libawe may choose another way for the flag. */
Test(rollback, exclusive_unmap_fails_cleanly_beside_a_thread)
{
	struct spinners s;

	spinners_start(&s, 1);
	every_shape_fails_cleanly();
	spinners_stop(&s);
}

/* The kernel refuses the undo as well: -ENOTRECOVERABLE, and what the call
 * left is true and complete (assert_consistent()). */
Test(rollback, exclusive_unmap_undo_refused)
{
	awe_frame_t f[SLOTS];
	char *w = stamped_window(f);
	struct spinners s;
	int partial = 0;

	spinners_start(&s, 1);
	for (int sh = MIXED_RANGE; sh <= BACKWARDS; sh++) {
		for (int k = 1; k <= 4; k++) {
			for (int j = 1; j <= 2; j++) {
				shape_setup(w, f, sh);
				awe__test_fail_move = k;
				awe__test_fail_undo = j;
				errno = 0;
				int r = unmap_shape(w, sh, AWE_UNMAP_EXCLUSIVE);

				awe__test_fail_move = awe__test_fail_undo = 0;
				cr_assert(r == 0 || r == -ENOMEM || r == -ENOTRECOVERABLE,
					  "shape %d k %d j %d: %d (%s)", sh, k, j, r,
					  awe_strerror(r));
				assert_consistent(w, SLOTS, f, SLOTS);
				partial += r == -ENOTRECOVERABLE;
				AWE_OK(awe_protect(w, SLOTS, AWE_PROT_READWRITE, NULL));
			}
		}
	}
	spinners_stop(&s);
	cr_log_info("%d partial", partial);
	/* memfd unmaps a run per mmap() and may have nothing to undo; the
	 * UFFDIO_MOVE engine beside other threads copies out and drops a batch
	 * of up to 256 pages in one call, which fails before it changed
	 * anything (undo across batches: exclusive_unmap_undo_refused_across_
	 * batches below). */
	if (!engine_is_memfd() && awe__test_threads != 2)
		cr_assert_gt(partial, 0, "no undo was ever refused: the test tested nothing");
}

/* --- AWE_UNMAP_EXCLUSIVE: copied out, dropped in batches ------------------ */

/* Scattered slots of a window of 2 * EX pages, every other one: EX frames,
 * three drop batches of the UFFDIO_MOVE engine (256 pages each). */
#define EX 600

static char *exclusive_setup(awe_frame_t *f, void **addrs)
{
	char *w = window_new(2 * EX);

	/* The engine's multithreaded mode, whatever Criterion's threads. */
	awe__test_threads = 2;
	alloc_exact(f, EX);
	for (size_t i = 0; i < EX; i++)
		addrs[i] = slot(w, 2 * (EX - 1 - i));
	AWE_OK(awe_map_scatter(addrs, EX, f));
	/* Whole pages: a copy that stops short must show. */
	for (size_t i = 0; i < EX; i++)
		for (size_t k = 0; k < pg() / sizeof(awe_frame_t); k++)
			((awe_frame_t *)addrs[i])[k] = f[i] + k;
	return w;
}

static void expect_page(const void *at, awe_frame_t f, size_t i)
{
	for (size_t k = 0; k < pg() / sizeof(awe_frame_t); k++)
		cr_assert_eq(((const awe_frame_t *)at)[k], f + k, "entry %zu lost word %zu", i, k);
}

static void expect_scattered(void *const *addrs, const awe_frame_t *f, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		cr_assert_eq(query(addrs[i]).frame, f[i], "entry %zu lost its frame", i);
		expect_page(addrs[i], f[i], i);
	}
}

/* Map @f at the start of @w and check every page. */
static void expect_remapped(char *w, const awe_frame_t *f, size_t n)
{
	AWE_OK(awe_map(w, n, f));
	for (size_t i = 0; i < n; i++)
		expect_page(slot(w, i), f[i], i);
}

/* A refused drop of the first, second or last batch: what earlier batches
 * dropped is copied back, every page at its slot with its data, the copies
 * kept as spares; then the call goes through and the frames keep their
 * data. (The memfd engine replaces mappings and has no batches: its first
 * mmap() is refused instead.) */
Test(rollback, exclusive_unmap_refused_at_each_batch)
{
	awe_frame_t f[EX];
	void *addrs[EX];
	char *w = exclusive_setup(f, addrs);
	int batches = engine_is_memfd() ? 1 : 3;

	for (int n = 1; n <= batches; n++) {
		if (engine_is_memfd())
			awe__test_fail_move = n;
		else
			awe__test_fail_drop = n;
		AWE_ERR(awe_unmap_scatter(addrs, EX, AWE_UNMAP_EXCLUSIVE), ENOMEM);
		expect_scattered(addrs, f, EX);
		cr_assert_eq(get_stats().frames_mapped, EX);
	}
	awe__test_fail_drop = awe__test_fail_move = 0;
	AWE_OK(awe_unmap_scatter(addrs, EX, AWE_UNMAP_EXCLUSIVE));
	cr_assert_eq(get_stats().frames_mapped, 0);
	for (size_t i = 0; i < EX; i++)
		assert_read_faults(addrs[i]);
	expect_remapped(w, f, EX);
	awe__test_threads = 1;
}

/* A page copied out cannot be, and the copy back of a dropped one is
 * refused too: -ENOTRECOVERABLE, and what the call left is true. */
Test(rollback, exclusive_unmap_undo_refused_across_batches)
{
	awe_frame_t f[EX];
	void *addrs[EX];
	char *w;
	size_t shown = 0;

	if (engine_is_memfd())
		cr_skip_test(
			"the memfd engine has no copy-out path (AWE_UNMAP_EXCLUSIVE is a no-op)");
	w = exclusive_setup(f, addrs);
	awe__test_fail_drop = 2;
	awe__test_fail_undo = 1;
	AWE_ERR(awe_unmap_scatter(addrs, EX, AWE_UNMAP_EXCLUSIVE), ENOTRECOVERABLE);
	awe__test_fail_undo = 0;
	for (size_t i = 0; i < EX; i++) {
		struct awe_page_info pi = query(addrs[i]);

		if (pi.frame) {
			cr_assert_eq(pi.frame, f[i]);
			expect_page(addrs[i], f[i], i);
			shown++;
		} else {
			assert_read_faults(addrs[i]);
			cr_assert_null(frame_where(f[i]));
		}
	}
	cr_assert(shown > 0 && shown < EX, "%zu of %d shown: expected a part", shown, EX);
	cr_assert_eq(get_stats().frames_mapped, shown);
	/* Every frame kept its data, shown or parked. */
	AWE_OK(awe_unmap_scatter(addrs, EX, AWE_UNMAP_EXCLUSIVE));
	expect_remapped(w, f, EX);
	awe__test_threads = 1;
}

/* The first page's UFFDIO_COPY into free parking is refused (no spare:
 * parking's pages all belong to frames): nothing changed. */
Test(rollback, exclusive_unmap_copy_refused)
{
	awe_frame_t f[SLOTS];
	char *w = window_new(SLOTS);
	void *addrs[SLOTS];

	alloc_exact(f, SLOTS);
	awe__test_threads = 1; /* map by moving: no spares */
	map_stamped(w, f, SLOTS);
	for (size_t i = 0; i < SLOTS; i++)
		addrs[i] = slot(w, i);
	awe__test_threads = 2;
	for (int n = 1; n <= (engine_is_memfd() ? 1 : 2); n++) {
		awe__test_fail_move = n;
		AWE_ERR(awe_unmap_scatter(addrs, SLOTS, AWE_UNMAP_EXCLUSIVE), ENOMEM);
		expect_slots(w, f, SLOTS);
	}
	awe__test_fail_move = 0;
	AWE_OK(awe_unmap_scatter(addrs, SLOTS, AWE_UNMAP_EXCLUSIVE));
	AWE_OK(awe_map(w, SLOTS, f));
	expect_slots(w, f, SLOTS);
	awe__test_threads = 1;
}
