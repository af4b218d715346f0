/* SPDX-License-Identifier: MIT */
/*
 * Helpers of the large-frame tests (test_large.c, test_large_system.c,
 * test_numa.c): the large page size, allocations that skip, with the
 * reason, where this machine cannot have huge pages for the engine under
 * test, and the test's own look at whether a range is one huge page
 * (PAGEMAP_SCAN, asked here and not through libawe, which it checks).
 */
#ifndef AWE_TEST_HELPERS_LARGE_H
#define AWE_TEST_HELPERS_LARGE_H

#include <fcntl.h>
#include <linux/types.h>
#include <sys/ioctl.h>

#include "helpers.h"

#ifndef PAGEMAP_SCAN
struct page_region {
	__u64 start, end, categories;
};
struct pm_scan_arg {
	__u64 size, flags, start, end, walk_end, vec, vec_len, max_pages, category_inverted,
		category_mask, category_anyof_mask, return_mask;
};
#define PAGEMAP_SCAN _IOWR('f', 16, struct pm_scan_arg)
#endif
#define T_PAGE_IS_PRESENT (1 << 3)
#define T_PAGE_IS_HUGE (1 << 6)

static inline size_t lpg(void)
{
	size_t l = awe_large_page_size();

	if (!l)
		cr_skip_test("the kernel has no huge pages (no transparent_hugepage in sysfs)");
	return l;
}

static inline char *lslot(void *base, size_t i)
{
	return (char *)base + i * lpg();
}

/* Whether [p, p + len) is present and huge: 1, 0, or -1 when the kernel
 * cannot tell (before Linux 6.7). */
static inline int range_is_huge(const void *p, size_t len)
{
	struct page_region reg[2];
	struct pm_scan_arg a = {
		.size = sizeof(a),
		.start = (uintptr_t)p,
		.end = (uintptr_t)p + len,
		.vec = (uintptr_t)reg,
		.vec_len = 2,
		.category_anyof_mask = T_PAGE_IS_PRESENT | T_PAGE_IS_HUGE,
		.return_mask = T_PAGE_IS_PRESENT | T_PAGE_IS_HUGE,
	};
	int fd = open("/proc/self/pagemap", O_RDONLY | O_CLOEXEC);
	long n = fd < 0 ? -1 : ioctl(fd, PAGEMAP_SCAN, &a);

	if (fd >= 0)
		close(fd);
	if (n < 0)
		return -1;
	return n == 1 && reg[0].start == a.start && reg[0].end == a.end &&
	       reg[0].categories == (T_PAGE_IS_PRESENT | T_PAGE_IS_HUGE);
}

/* Each of the @n large slots from @base shows one whole huge page (touched
 * first, so that a memfd view has its page table entry). */
static inline void assert_huge_slots(void *base, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		volatile char *p = lslot(base, i);
		int h;

		(void)*p;
		h = range_is_huge(lslot(base, i), lpg());
		if (h < 0)
			cr_skip_test("PAGEMAP_SCAN (Linux 6.7) cannot tell huge pages here");
		cr_assert_eq(h, 1, "large slot %zu (%p) is not one huge page", i, (void *)p);
	}
}

/* Why the engine under test has no large frames here, for a skip. */
static inline void skip_no_large(ssize_t r)
{
	if (r == -EOPNOTSUPP || r == -ENOMEM)
		cr_skip_test("no large frames for the %s engine on this machine: %s",
			     engine_is_memfd() ? "memfd" : "uffd-move", awe_strerror((int)r));
}

/* Exactly @n large frames, or a skip when the machine has none. */
static inline void large_alloc(awe_frame_t *f, size_t n)
{
	ssize_t r = awe_alloc_ex(f, n, -1, AWE_ALLOC_LARGE);

	skip_no_large(r);
	cr_assert_eq(r, (ssize_t)n, "awe_alloc_ex(%zu, LARGE) gave %zd (%s)", n, r,
		     r < 0 ? awe_strerror((int)r) : "fewer");
}

static inline char *large_window(size_t slots)
{
	void *base = NULL;
	int r = awe_window_create(slots * lpg(), NULL, AWE_WINDOW_LARGE, &base);

	skip_no_large(r);
	cr_assert_eq(r, 0, "large window: %s", awe_strerror(r));
	cr_assert_eq((uintptr_t)base % lpg(), 0, "large window %p is not aligned", base);
	return base;
}

/* @n large frames into @f, mapped in a new window of @n large slots. */
static inline char *large_mapped_window(awe_frame_t *f, size_t n)
{
	char *w;

	large_alloc(f, n);
	w = large_window(n);
	AWE_OK(awe_map(w, n, f));
	return w;
}

/* A section of large frames, or a skip. */
static inline awe_section_t large_section(void)
{
	awe_section_t s = 0;
	int r = awe_section_create(AWE_SECTION_LARGE, &s);

	if (r == -EOPNOTSUPP)
		cr_skip_test("no large section frames on this machine: %s", awe_strerror(r));
	cr_assert_eq(r, 0, "awe_section_create(LARGE): %s", awe_strerror(r));
	return s;
}

/* Write a tag at the start and the end of a large page; check them. */
static inline void stamp_large(void *p, uint64_t tag)
{
	((volatile uint64_t *)p)[0] = tag;
	((volatile uint64_t *)((char *)p + lpg()))[-1] = ~tag;
}

static inline void assert_large_stamp(const void *p, uint64_t tag)
{
	cr_assert_eq(((const volatile uint64_t *)p)[0], tag, "large page %p lost its tag", p);
	cr_assert_eq(((const volatile uint64_t *)((const char *)p + lpg()))[-1], ~tag,
		     "large page %p lost its end tag", p);
}

#endif
