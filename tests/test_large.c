/* SPDX-License-Identifier: MIT */
/*
 * Large frames (AWE_ALLOC_LARGE, AWE_WINDOW_LARGE, AWE_SECTION_LARGE): the
 * arguments, frame numbers that say their kind, each frame one huge page,
 * windows in large slots, map, unmap, protect and free, mixing kinds, and a
 * frame the kernel could only build from small pages refused (a test hook
 * of the static library). Runs under both engines; where the engine under
 * test cannot have huge pages here, the tests that need one skip and say
 * why (test_large_system.c gives the memfd engine huge pages as root).
 */
#include "helpers.h"
#include "helpers_child.h"
#include "helpers_large.h"

extern int awe__test_fail_huge;

Test(large, alloc_arguments)
{
	awe_frame_t f[2] = {0, 0};
	struct awe_stats st = get_stats();

	AWE_ERR(awe_alloc_ex(f, 1, -1, 1u << 1), EINVAL);
	AWE_ERR(awe_alloc_ex(f, 0, -1, ~0u), EINVAL); /* flags first, as awe_unmap() */
	AWE_ERR(awe_alloc_ex(NULL, 1, -1, AWE_ALLOC_LARGE), EFAULT);
	AWE_ERR(awe_alloc_ex(f, 1, -2, AWE_ALLOC_LARGE), EINVAL);
	AWE_ERR(awe_alloc_ex(f, 1, 1 << 20, AWE_ALLOC_LARGE), EINVAL);
	AWE_ERR(awe_alloc_ex(f, SIZE_MAX / 2, -1, AWE_ALLOC_LARGE), EINVAL);
	cr_assert_eq(AWE_OK(awe_alloc_ex(f, 0, -1, AWE_ALLOC_LARGE)), 0);
	cr_assert_eq(f[0], 0, "a failed or empty call wrote a frame");
	cr_assert_eq(get_stats().frames_allocated, st.frames_allocated);
}

Test(large, numbers_say_their_kind)
{
	awe_frame_t l[3], s[3];

	large_alloc(l, 3);
	alloc_exact(s, 3);
	for (int i = 0; i < 3; i++) {
		cr_assert(l[i] & AWE_FRAME_LARGE, "large frame %#" PRIx64 " lacks the bit", l[i]);
		cr_assert(!(s[i] & AWE_FRAME_LARGE), "small frame %#" PRIx64 " has the bit", s[i]);
		/* The bit is part of the number: without it, no frame. */
		AWE_ERR(awe_frame_addr(l[i] & ~AWE_FRAME_LARGE, &(void *){0}), ENOENT);
		AWE_ERR(awe_frame_addr(s[i] | AWE_FRAME_LARGE, &(void *){0}), ENOENT);
	}
	assert_distinct_nonzero(l, 3);
	cr_assert_eq(get_stats().frames_allocated, 6);
}

Test(large, each_frame_is_one_zeroed_huge_page)
{
	awe_frame_t f[4];
	char *w;

	w = large_mapped_window(f, 4);
	assert_huge_slots(w, 4);
	for (size_t i = 0; i < 4; i++)
		for (size_t off = 0; off < lpg(); off += pg())
			cr_assert_eq(*(volatile uint64_t *)(lslot(w, i) + off), 0,
				     "large frame %zu is not zero at %#zx", i, off);
}

Test(large, window_rules)
{
	struct awe_page_info qi;
	char *hint;
	void *w;

	/* The size rounds up to whole large pages. */
	skip_no_large(awe_window_create(lpg() + 1, NULL, AWE_WINDOW_LARGE, &w));
	AWE_OK(awe_window_destroy(w));
	AWE_OK(awe_window_create(lpg() + 1, NULL, AWE_WINDOW_LARGE, &w));
	cr_assert_eq((uintptr_t)w % lpg(), 0);
	qi = query(w);
	cr_assert_eq(qi.window_size, 2 * lpg());
	cr_assert_eq(qi.window, w);
	AWE_OK(awe_window_destroy(w));
	/* A fixed hint rounds down to its large page, as every address names
	 * its slot. */
	hint = free_range(4 * lpg() / pg());
	hint = (char *)(((uintptr_t)hint + lpg() - 1) & ~(uintptr_t)(lpg() - 1));
	AWE_OK(awe_window_create(lpg(), hint + 3 * pg(), AWE_WINDOW_LARGE | AWE_WINDOW_FIXED, &w));
	cr_assert_eq(w, hint, "fixed large window at %p, not %p", w, (void *)hint);
	AWE_ERR(awe_window_create(lpg(), hint, AWE_WINDOW_LARGE | AWE_WINDOW_FIXED, &w), EEXIST);
	AWE_OK(awe_window_destroy(hint));
	/* A larger alignment still applies. */
	AWE_OK(awe_window_create(lpg(), NULL, AWE_WINDOW_LARGE | AWE_WINDOW_ALIGN(30), &w));
	cr_assert_eq((uintptr_t)w % (1u << 30), 0);
	AWE_ERR(awe_window_create(0, NULL, AWE_WINDOW_LARGE, &w), EINVAL);
}

Test(large, map_unmap_remap_keeps_data)
{
	awe_frame_t f[3], back[3];
	char *a, *b;
	void *at;

	large_alloc(f, 3);
	a = large_window(3);
	b = large_window(5);
	AWE_OK(awe_map(a, 3, f));
	for (int i = 0; i < 3; i++)
		stamp_large(lslot(a, i), 0x1a00 + (uint64_t)i);
	AWE_OK(awe_map(a, 3, NULL));
	for (int i = 0; i < 3; i++) {
		assert_read_faults(lslot(a, i));
		back[i] = f[2 - i];
	}
	/* Counts are in large slots; an address inside a slot names it. */
	AWE_OK(awe_map(lslot(b, 1) + 12345, 3, back));
	for (int i = 0; i < 3; i++) {
		assert_large_stamp(lslot(b, 1 + i), 0x1a00 + (uint64_t)(2 - i));
		assert_slot(lslot(b, 1 + i), back[i], AWE_PROT_READWRITE);
		AWE_OK(awe_frame_addr(back[i], &at));
		cr_assert_eq(at, lslot(b, 1 + i));
	}
	assert_huge_slots(lslot(b, 1), 3);
	AWE_OK(awe_unmap(lslot(b, 2) + 1, 1, 0));
	assert_slot(lslot(b, 2), 0, AWE_PROT_NONE);
	AWE_OK(awe_frame_addr(back[1], &at));
	cr_assert_null(at);
	AWE_ERR(awe_map(lslot(b, 4), 2, f), EINVAL); /* past the window's end */
	AWE_ERR(awe_map(lslot(b, 3), 1, &back[0]), EBUSY);
}

/* Ranges of 16 slots and more take the engine's range path. */
Test(large, long_ranges)
{
	enum { N = 20 };
	awe_frame_t f[N];
	char *w;

	w = large_mapped_window(f, N);
	for (int i = 0; i < N; i++)
		stamp_large(lslot(w, i), 0x2b00 + (uint64_t)i);
	AWE_OK(awe_unmap(w, N, AWE_UNMAP_EXCLUSIVE));
	cr_assert_eq(get_stats().frames_mapped, 0);
	AWE_OK(awe_map(w, N, f));
	for (int i = 0; i < N; i++)
		assert_large_stamp(lslot(w, i), 0x2b00 + (uint64_t)i);
	assert_huge_slots(w, N);
}

Test(large, kinds_do_not_mix)
{
	awe_frame_t l[2], s[2], both[2];
	void *addrs[2];
	char *lw, *sw;
	size_t freed = 9;

	large_alloc(l, 2);
	alloc_exact(s, 2);
	lw = large_window(2);
	sw = window_new(2);
	AWE_ERR(awe_map(lw, 1, s), EINVAL);
	AWE_ERR(awe_map(sw, 1, l), EINVAL);
	both[0] = l[0];
	both[1] = s[0];
	AWE_ERR(awe_map(lw, 2, both), EINVAL);
	addrs[0] = lw;
	addrs[1] = sw;
	AWE_ERR(awe_map_scatter(addrs, 2, (awe_frame_t[]){l[0], s[0]}), EINVAL);
	AWE_ERR(awe_unmap_scatter(addrs, 2, 0), EINVAL);
	assert_slot(lw, 0, AWE_PROT_NONE);
	assert_slot(sw, 0, AWE_PROT_NONE);
	cr_assert_eq(get_stats().frames_mapped, 0);
	/* awe_free() stops at the first entry of the other kind. */
	AWE_ERR(awe_free(both, 2, &freed), EINVAL);
	cr_assert_eq(freed, 1);
	assert_frame_invalid(l[0]);
	AWE_OK(awe_map(sw, 1, &s[0]));
	AWE_OK(awe_free(s, 2, &freed));
	AWE_OK(awe_free(&l[1], 1, &freed));
	cr_assert_eq(get_stats().frames_allocated, 0);
}

Test(large, protect)
{
	awe_frame_t f[2];
	int old = -1;
	char *w;

	w = large_mapped_window(f, 2);
	stamp_large(w, 0x3c);
	stamp_large(lslot(w, 1), 0x3d);
	AWE_OK(awe_protect(w + 77, 1, AWE_PROT_READ, &old));
	cr_assert_eq(old, AWE_PROT_READWRITE);
	assert_write_faults(w + lpg() - 1);
	assert_large_stamp(w, 0x3c);
	AWE_OK(awe_protect(w, 2, AWE_PROT_NONE, &old));
	cr_assert_eq(old, AWE_PROT_READ);
	assert_read_faults(w);
	assert_read_faults(lslot(w, 1) + 4096);
	assert_slot(lslot(w, 1), f[1], AWE_PROT_NONE);
	AWE_ERR(awe_map(lslot(w, 0), 1, &f[1]), EBUSY);
	AWE_OK(awe_protect(w, 2, AWE_PROT_READWRITE, NULL));
	assert_large_stamp(w, 0x3c);
	assert_large_stamp(lslot(w, 1), 0x3d);
	assert_huge_slots(w, 2);
}

Test(large, free_mapped)
{
	awe_frame_t f[2];
	char *w;

	w = large_mapped_window(f, 2);
	AWE_OK(awe_free(f, 2, NULL));
	assert_read_faults(w);
	assert_read_faults(lslot(w, 1));
	assert_frame_invalid(f[0]);
	assert_frame_invalid(f[1]);
	cr_assert_eq(get_stats().frames_allocated, 0);
	/* What went is there to be had again. */
	large_alloc(f, 2);
	AWE_OK(awe_map(w, 2, f));
	assert_huge_slots(w, 2);
}

/* A page the kernel built from small pages (no free huge page) is not a
 * large frame: the call gives what came before it, and nothing stays
 * behind. */
Test(large, small_pages_refused)
{
	awe_frame_t f[3] = {0, 0, 0}, g[3];
	char *w = large_window(3);

	large_alloc(g, 1);
	AWE_OK(awe_free(g, 1, NULL));
	awe__test_fail_huge = 2;
	cr_assert_eq(AWE_OK(awe_alloc_ex(f, 3, -1, AWE_ALLOC_LARGE)), 1);
	cr_assert_eq(f[2], 0);
	awe__test_fail_huge = 1;
	AWE_ERR(awe_alloc_ex(g, 3, -1, AWE_ALLOC_LARGE), ENOMEM);
	cr_assert_eq(get_stats().frames_allocated, 1);
	large_alloc(g, 2);
	AWE_OK(awe_map(w, 1, f));
	AWE_OK(awe_map(lslot(w, 1), 2, g));
	assert_huge_slots(w, 3);
}

Test(large, sections)
{
	awe_frame_t f[2], s1[1];
	awe_section_t s = large_section(), small;
	struct awe_page_info qi;
	ssize_t r;
	void *w, *w2;

	r = awe_section_alloc(s, f, 2);
	skip_no_large(r);
	cr_assert_eq(r, 2, "awe_section_alloc() of large frames: %zd", r);
	cr_assert(f[0] & f[1] & AWE_FRAME_LARGE, "section frames lack AWE_FRAME_LARGE");
	/* The section decides its windows' slots. */
	AWE_OK(awe_section_window_create(s, 3 * lpg() - 5, NULL, 0, &w));
	AWE_OK(awe_section_window_create(s, lpg(), NULL, AWE_WINDOW_LARGE, &w2));
	cr_assert_eq((uintptr_t)w % lpg(), 0);
	qi = query(w);
	cr_assert_eq(qi.window_size, 3 * lpg());
	AWE_OK(awe_section_create(0, &small));
	AWE_ERR(awe_section_window_create(small, lpg(), NULL, AWE_WINDOW_LARGE, &(void *){0}),
		EINVAL);
	cr_assert_eq(AWE_OK(awe_section_alloc(small, s1, 1)), 1);
	cr_assert(!(s1[0] & AWE_FRAME_LARGE));
	AWE_ERR(awe_map(w, 1, s1), ENOENT);
	/* One frame at two addresses: the same page. */
	AWE_OK(awe_map(w, 2, f));
	AWE_OK(awe_map(w2, 1, &f[1]));
	stamp_large(lslot(w, 1), 0x5e);
	assert_large_stamp(w2, 0x5e);
	assert_huge_slots(w, 2);
	assert_huge_slots(w2, 1);
	AWE_OK(awe_section_free(s, f, 2, NULL));
	assert_read_faults(w2);
}

/* Unprivileged, under RLIMIT_MEMLOCK: as many large frames as the limit
 * lets be locked (the uffd engine's stage takes one page of it), and no
 * more. */
static int under_memlock(void *arg)
{
	awe_frame_t f[16];
	ssize_t got = awe_alloc_ex(f, 16, -1, AWE_ALLOC_LARGE);
	size_t cap = *(size_t *)arg / awe_large_page_size();

	if (got == -EOPNOTSUPP || got == -ENOMEM)
		return 0; /* no huge pages for this engine here: test_large's skips say so */
	CHILD_CHECK(got > 0 && (size_t)got <= cap, "%zd large frames under a limit of %zu", got,
		    cap);
	if (got > 0)
		CHILD_OK(awe_free(f, (size_t)got, NULL));
	return 0;
}

Test(large, unprivileged_memlock)
{
	size_t limit = 6u << 20;

	skip_unless_root("drops to nobody with a 6 MiB RLIMIT_MEMLOCK");
	lpg();
	if (!memlock_settable(limit))
		cr_skip_test("RLIMIT_MEMLOCK cannot be set to 6 MiB here (no CAP_SYS_RESOURCE)");
	run_in_child(
		under_memlock, &limit,
		&(struct child_opts){.as_nobody = true, .set_memlock = true, .memlock = limit});
}

/* A fork() child inherits no large frame and no large window (their
 * ranges are MADV_DONTFORK), and starts an instance of its own. */
static int large_child(void *arg)
{
	awe_frame_t *parent = arg, g[1];
	void *w;

	CHILD_ERR(awe_frame_addr(parent[0], &(void *){0}), ENOENT);
	CHILD_CHECK(awe_alloc_ex(g, 1, -1, AWE_ALLOC_LARGE) == 1, "no large frame in the child");
	CHILD_OK(awe_window_create(awe_large_page_size(), NULL, AWE_WINDOW_LARGE, &w));
	CHILD_OK(awe_map(w, 1, g));
	CHILD_CHECK(*(volatile uint64_t *)w == 0, "the child's frame is not zero");
	return 0;
}

Test(large, fork_child_inherits_nothing)
{
	awe_frame_t f[2];
	char *w;

	w = large_mapped_window(f, 2);
	stamp_large(w, 0xf0);
	run_in_child(large_child, f, NULL);
	assert_large_stamp(w, 0xf0);
	AWE_OK(awe_map(w, 2, NULL));
	AWE_OK(awe_map(w, 2, (awe_frame_t[]){f[1], f[0]}));
	assert_large_stamp(lslot(w, 1), 0xf0);
	assert_huge_slots(w, 2);
}

/* Freeing most frames gives parking back, moving the parked pages that
 * are left (the uffd engine's trim), which stay whole and keep their
 * data. */
Test(large, free_most_then_use_the_rest)
{
	enum { N = 24 };
	awe_frame_t f[N], keep[4];
	char *w;
	uint64_t before;

	w = large_mapped_window(f, N);
	for (int i = 0; i < N; i++)
		stamp_large(lslot(w, i), 0x7700 + (uint64_t)i);
	AWE_OK(awe_map(w, N, NULL));
	before = get_stats().parking_bytes;
	for (int i = 0, k = 0; i < N; i++) {
		if (i % 6 == 5) {
			keep[k++] = f[i];
			continue;
		}
		AWE_OK(awe_free(&f[i], 1, NULL));
	}
	if (engine_is_memfd())
		cr_assert_leq(get_stats().parking_bytes, before);
	else
		cr_assert_lt(get_stats().parking_bytes, before, "parking was not given back");
	AWE_OK(awe_map(w, 4, keep));
	for (int k = 0; k < 4; k++)
		assert_large_stamp(lslot(w, k), 0x7700 + (uint64_t)(6 * k + 5));
	assert_huge_slots(w, 4);
}
