/* SPDX-License-Identifier: MIT */
/*
 * AWE sections: frames shown at several addresses at once, only in windows
 * tied to their section; handle lifetime; freeing unmaps everywhere.
 */
#include "helpers.h"

static awe_section_t section_new(void)
{
	awe_section_t s = 0;

	AWE_OK(awe_section_create(0, &s));
	cr_assert_neq(s, 0, "section handle 0");
	return s;
}

static char *section_window(awe_section_t s, size_t pages)
{
	void *base = NULL;

	AWE_OK(awe_section_window_create(s, pages * pg(), NULL, 0, &base));
	cr_assert_not_null(base);
	return base;
}

static void section_alloc(awe_section_t s, awe_frame_t *f, size_t n)
{
	cr_assert_eq(AWE_OK(awe_section_alloc(s, f, n)), (ssize_t)n);
}

Test(section, create_arguments)
{
	awe_section_t a, b;

	AWE_ERR(awe_section_create(0, NULL), EFAULT);
	AWE_ERR(awe_section_create(2, &a), EINVAL); /* 1 is AWE_SECTION_LARGE */
	a = section_new();
	b = section_new();
	cr_assert_neq(a, b, "two sections got handle %u", a);
	AWE_OK(awe_section_close(a));
	AWE_OK(awe_section_close(b));
	/* Handles are never reused. */
	cr_assert_neq(section_new(), a);
}

Test(section, bad_handles)
{
	awe_frame_t f[2];
	void *base;
	size_t freed = 99;
	awe_section_t s = section_new();

	AWE_ERR(awe_section_alloc(0, f, 2), ENOENT);
	AWE_ERR(awe_section_alloc(s + 1000, f, 2), ENOENT);
	AWE_ERR(awe_section_window_create(s + 1000, pg(), NULL, 0, &base), ENOENT);
	AWE_ERR(awe_section_close(s + 1000), ENOENT);
	section_alloc(s, f, 2);
	AWE_ERR(awe_section_free(s + 1000, f, 2, &freed), ENOENT);
	cr_assert_eq(freed, 0);
	AWE_OK(awe_section_close(s));
	/* Closed: the handle is gone. */
	AWE_ERR(awe_section_close(s), ENOENT);
	AWE_ERR(awe_section_alloc(s, f, 1), ENOENT);
	AWE_ERR(awe_section_window_create(s, pg(), NULL, 0, &base), ENOENT);
}

Test(section, argument_checks)
{
	awe_section_t s = section_new();
	awe_frame_t f[1];
	void *base;

	AWE_ERR(awe_section_alloc(s, NULL, 1), EFAULT);
	cr_assert_eq(awe_section_alloc(s, f, 0), 0);
	AWE_ERR(awe_section_free(s, NULL, 1, NULL), EFAULT);
	AWE_ERR(awe_section_free(s, f, 0, NULL), EINVAL);
	AWE_ERR(awe_section_window_create(s, pg(), NULL, 0, NULL), EFAULT);
	AWE_ERR(awe_section_window_create(s, 0, NULL, 0, &base), EINVAL);
	AWE_ERR(awe_section_window_create(s, pg(), NULL, 8, &base), EINVAL);
	AWE_ERR(awe_section_window_create(s, pg(), NULL, AWE_WINDOW_FIXED, &base), EINVAL);
}

Test(section, frames_are_zero_and_distinct)
{
	enum { N = 64 };
	awe_section_t s = section_new();
	awe_frame_t f[N];
	char *w = section_window(s, N);

	section_alloc(s, f, N);
	assert_distinct_nonzero(f, N);
	AWE_OK(awe_map(w, N, f));
	for (size_t i = 0; i < N; i++)
		assert_page_zero(slot(w, i));
	cr_assert_eq(get_stats().frames_allocated, N);
}

/* The point of sections: one frame at several addresses, one page behind
 * them all. */
Test(section, one_frame_at_several_addresses)
{
	awe_section_t s = section_new();
	awe_frame_t f[2];
	char *w1 = section_window(s, 8), *w2 = section_window(s, 8);

	section_alloc(s, f, 2);
	map1(slot(w1, 0), f[0]);
	map1(slot(w1, 5), f[0]);
	map1(slot(w2, 3), f[0]);
	fill_page(slot(w1, 0), 7);
	assert_page(slot(w1, 5), 7);
	assert_page(slot(w2, 3), 7);
	fill_page(slot(w2, 3), 8);
	assert_page(slot(w1, 0), 8);
	assert_slot(slot(w1, 0), f[0], AWE_PROT_READWRITE);
	assert_slot(slot(w1, 5), f[0], AWE_PROT_READWRITE);
	assert_slot(slot(w2, 3), f[0], AWE_PROT_READWRITE);
	cr_assert_eq(get_stats().frames_mapped, 3, "each address counts as a mapping");
	/* Unmapping one address leaves the others. */
	unmap_range(slot(w1, 5), 1);
	assert_slot(slot(w1, 5), 0, AWE_PROT_NONE);
	assert_page(slot(w1, 0), 8);
	/* One call may name the frame twice, and a range may repeat it. */
	awe_frame_t twice[4] = {f[1], f[0], f[1], f[0]};
	AWE_OK(awe_map(slot(w2, 4), 4, twice));
	*(uint64_t *)slot(w2, 4) = 0x1234;
	cr_assert_eq(*(uint64_t *)slot(w2, 6), 0x1234);
	void *addrs[3] = {slot(w1, 1), slot(w1, 2), slot(w2, 0)};
	awe_frame_t same[3] = {f[1], f[1], f[1]};
	AWE_OK(awe_map_scatter(addrs, 3, same));
	cr_assert_eq(*(uint64_t *)slot(w1, 2), 0x1234);
	/* Frame addresses are per slot, not per frame. */
	void *where;
	AWE_ERR(awe_frame_addr(f[0], &where), EINVAL);
}

Test(section, protection_is_per_slot)
{
	awe_section_t s = section_new();
	awe_frame_t f;
	char *w = section_window(s, 4);
	int old = -1;

	section_alloc(s, &f, 1);
	map1(slot(w, 0), f);
	map1(slot(w, 1), f);
	*(uint64_t *)slot(w, 1) = 42;
	AWE_OK(awe_protect(slot(w, 0), 1, AWE_PROT_READ, &old));
	cr_assert_eq(old, AWE_PROT_READWRITE);
	assert_slot(slot(w, 0), f, AWE_PROT_READ);
	assert_slot(slot(w, 1), f, AWE_PROT_READWRITE);
	cr_assert_eq(*(volatile uint64_t *)slot(w, 0), 42);
	*(uint64_t *)slot(w, 1) = 43;
	cr_assert_eq(*(volatile uint64_t *)slot(w, 0), 43);
}

/* A write through a read-only slot faults (memfd: SIGSEGV). */
Test(section, read_only_slot_faults, .signal = SIGSEGV, .init = default_fault_action)
{
	awe_section_t s = section_new();
	awe_frame_t f;
	char *w = section_window(s, 2);

	section_alloc(s, &f, 1);
	map1(slot(w, 0), f);
	AWE_OK(awe_protect(slot(w, 0), 1, AWE_PROT_READ, NULL));
	*(volatile char *)slot(w, 0) = 1;
}

/* Sections and the rest keep to themselves; refused calls change nothing. */
Test(section, frames_stay_in_their_windows)
{
	awe_section_t s = section_new(), t = section_new();
	awe_frame_t sf, tf, pf;
	char *sw = section_window(s, 4), *tw = section_window(t, 4), *pw = window_new(4);
	struct slot_snap snap[4];
	size_t freed = 99;

	section_alloc(s, &sf, 1);
	section_alloc(t, &tf, 1);
	alloc_exact(&pf, 1);
	map1(slot(sw, 1), sf);
	snap_slots(sw, 4, snap);
	AWE_ERR(awe_map(pw, 1, &sf), ENOENT);
	AWE_ERR(awe_map(sw, 1, &pf), ENOENT);
	AWE_ERR(awe_map(sw, 1, &tf), ENOENT);
	AWE_ERR(awe_map(tw, 1, &sf), ENOENT);
	assert_snap_unchanged(sw, 4, snap);
	assert_slot(pw, 0, AWE_PROT_NONE);
	/* One call cannot change a section window and a plain one. */
	void *mixed[2] = {slot(sw, 0), slot(pw, 0)};
	awe_frame_t mf[2] = {sf, pf};
	AWE_ERR(awe_map_scatter(mixed, 2, mf), EINVAL);
	assert_snap_unchanged(sw, 4, snap);
	/* Freeing through the wrong owner. */
	AWE_ERR(awe_free(&sf, 1, &freed), ENOENT);
	cr_assert_eq(freed, 0);
	AWE_ERR(awe_section_free(s, &pf, 1, &freed), ENOENT);
	AWE_ERR(awe_section_free(s, &tf, 1, &freed), ENOENT);
	cr_assert_eq(freed, 0);
	assert_slot(slot(sw, 1), sf, AWE_PROT_READWRITE);
}

Test(section, free_unmaps_everywhere)
{
	enum { N = 4 };
	awe_section_t s = section_new();
	awe_frame_t f[N];
	char *w1 = section_window(s, 8), *w2 = section_window(s, 8);
	size_t freed = 0;

	section_alloc(s, f, N);
	AWE_OK(awe_map(w1, N, f));
	AWE_OK(awe_map(slot(w1, 4), N, f));
	AWE_OK(awe_map(w2, N, f));
	cr_assert_eq(get_stats().frames_mapped, 3 * N);
	/* Stops at the first bad entry; the ones before are freed. */
	awe_frame_t list[3] = {f[0], f[1], BOGUS_FRAME};
	AWE_ERR(awe_section_free(s, list, 3, &freed), ENOENT);
	cr_assert_eq(freed, 2);
	for (size_t i = 0; i < 2; i++) {
		assert_slot(slot(w1, i), 0, AWE_PROT_NONE);
		assert_slot(slot(w1, 4 + i), 0, AWE_PROT_NONE);
		assert_slot(slot(w2, i), 0, AWE_PROT_NONE);
	}
	assert_slot(slot(w1, 2), f[2], AWE_PROT_READWRITE);
	cr_assert_eq(get_stats().frames_mapped, 3 * (N - 2));
	cr_assert_eq(get_stats().frames_allocated, N - 2);
	AWE_ERR(awe_map(w1, 1, &f[0]), ENOENT);
	/* A frame listed twice: the second entry is no frame any more. */
	awe_frame_t dup[2] = {f[2], f[2]};
	AWE_ERR(awe_section_free(s, dup, 2, &freed), ENOENT);
	cr_assert_eq(freed, 1);
	AWE_OK(awe_section_free(s, &f[3], 1, &freed));
	cr_assert_eq(freed, 1);
	cr_assert_eq(get_stats().frames_mapped, 0);
	cr_assert_eq(get_stats().frames_allocated, 0);
}

/* Closing the handle: the section lives on in its windows; the last one
 * takes its frames along. */
Test(section, close_keeps_windows_working)
{
	awe_section_t s = section_new();
	awe_frame_t f[2];
	char *w1 = section_window(s, 4), *w2 = section_window(s, 4);

	section_alloc(s, f, 2);
	map1(w1, f[0]);
	*(uint64_t *)w1 = 99;
	AWE_OK(awe_section_close(s));
	map1(slot(w1, 1), f[1]);
	map1(w2, f[0]);
	cr_assert_eq(*(uint64_t *)w2, 99);
	AWE_OK(awe_window_destroy(w1));
	cr_assert_eq(get_stats().frames_allocated, 2, "frames live while a window is left");
	cr_assert_eq(*(uint64_t *)w2, 99);
	AWE_OK(awe_window_destroy(w2));
	cr_assert_eq(get_stats().frames_allocated, 0, "the last window took the frames");
	assert_frame_invalid(f[0]);
	assert_frame_invalid(f[1]);
}

Test(section, close_without_windows_frees_frames)
{
	awe_section_t s = section_new();
	awe_frame_t f[8];

	section_alloc(s, f, 8);
	cr_assert_eq(get_stats().frames_allocated, 8);
	AWE_OK(awe_section_close(s));
	cr_assert_eq(get_stats().frames_allocated, 0);
	for (size_t i = 0; i < 8; i++)
		assert_frame_invalid(f[i]);
}

/* Destroying a section window unmaps its slots only. */
Test(section, window_destroy_keeps_other_mappings)
{
	awe_section_t s = section_new();
	awe_frame_t f;
	char *w1 = section_window(s, 2), *w2 = section_window(s, 2);

	section_alloc(s, &f, 1);
	map1(w1, f);
	map1(w2, f);
	*(uint64_t *)w1 = 5;
	AWE_OK(awe_window_destroy(w1));
	assert_slot(w2, f, AWE_PROT_READWRITE);
	cr_assert_eq(*(uint64_t *)w2, 5);
	cr_assert_eq(get_stats().frames_mapped, 1);
	/* The frame can go to a new window of the still-open section. */
	char *w3 = section_window(s, 2);
	map1(slot(w3, 1), f);
	cr_assert_eq(*(uint64_t *)slot(w3, 1), 5);
}

/* Unmapped slots of a section window fault (memfd: SIGSEGV). */
Test(section, unmapped_slot_faults, .signal = SIGSEGV, .init = default_fault_action)
{
	awe_section_t s = section_new();
	char *w = section_window(s, 2);

	*(volatile char *)w = 1;
}

/* Section frames are not inherited, like all AWE memory. */
Test(section, fork_child_starts_empty)
{
	awe_section_t s = section_new();
	awe_frame_t f;
	char *w = section_window(s, 2);
	pid_t pid;
	int st;

	section_alloc(s, &f, 1);
	map1(w, f);
	pid = fork();
	cr_assert_neq(pid, -1);
	if (pid == 0) {
		struct awe_stats sa;
		awe_frame_t g;

		/* The child's libawe starts afresh: no frames, no section. */
		if (awe_stats(&sa) != 0 || sa.frames_allocated != 0)
			_exit(1);
		if (awe_section_alloc(s, &g, 1) != -ENOENT)
			_exit(2);
		_exit(0);
	}
	cr_assert_eq(waitpid(pid, &st, 0), pid);
	cr_assert(WIFEXITED(st) && WEXITSTATUS(st) == 0, "child status %#x", st);
	assert_slot(w, f, AWE_PROT_READWRITE);
}

/* Sections use memfd whatever the default engine is. */
Test(section, stats)
{
	awe_section_t s = section_new();
	awe_frame_t f[3];
	char *w = section_window(s, 16);
	struct awe_stats st;

	section_alloc(s, f, 3);
	AWE_OK(awe_map(w, 3, f));
	st = get_stats();
	cr_assert_eq(st.frames_allocated, 3);
	cr_assert_eq(st.frames_mapped, 3);
	cr_assert_eq(st.windows, 1);
	cr_assert_geq(st.vmas_worst, 1, "section windows count against vm.max_map_count");
	cr_assert_gt(st.max_map_count, 0);
}

/* AWE_WINDOW_ALIGN() for section windows: aligned bases, the one frame
 * shown through both, and the hint rules of awe_window_create(). */
Test(section, window_align)
{
	awe_section_t s = section_new();
	char *a = window_aligned(s, 4, 21, NULL, 0), *b = window_aligned(s, 4, 21, NULL, 0);
	char *at;
	awe_frame_t f;

	section_alloc(s, &f, 1);
	map1(slot(a, 1), f);
	map1(slot(b, 3), f);
	fill_page(slot(a, 1), 9);
	assert_page(slot(b, 3), 9);
	AWE_OK(awe_window_destroy(b));
	assert_page(slot(a, 1), 9);
	/* The freed aligned range takes a FIXED window again. */
	cr_assert_eq(window_aligned(s, 4, 21, b, AWE_WINDOW_FIXED), b);
	at = window_aligned(s, 2, 30, NULL, 0);
	map1(at, f);
	assert_page(at, 9);
	cr_assert_eq(get_stats().windows, 3);
}

Test(section, window_align_errors)
{
	awe_section_t s = section_new();
	char *at = window_aligned(s, 4, 21, NULL, 0);
	void *base = (void *)0x1234;

	AWE_OK(awe_window_destroy(at));
	AWE_ERR(awe_section_window_create(s, pg(), NULL, AWE_WINDOW_ALIGN(63), &base), EINVAL);
	AWE_ERR(awe_section_window_create(s, pg(), NULL, AWE_WINDOW_ALIGN(62), &base), EINVAL);
	AWE_ERR(awe_section_window_create(s, 4 * pg(), at + pg(),
					  AWE_WINDOW_FIXED | AWE_WINDOW_ALIGN(21), &base),
		EINVAL);
	/* The handle is checked under the lock, after the arguments. */
	AWE_ERR(awe_section_window_create(s + 1000, pg(), NULL, AWE_WINDOW_ALIGN(21), &base),
		ENOENT);
	cr_assert_eq(base, (void *)0x1234, "a failed call stored a base");
	cr_assert_eq(get_stats().windows, 0);
}
