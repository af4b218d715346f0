/* SPDX-License-Identifier: MIT */
/*
 * Pointer arguments that cannot be user memory: in the first pages, which
 * vm.mmap_min_addr keeps unmapped (64 KiB by default; page 0 at least), or in the kernel's
 * half of the address space. Every function refuses them with -EFAULT
 * instead of crashing the caller, and changes nothing (Windows answers
 * ERROR_NOACCESS). Also the counts that can never be valid: -EINVAL.
 */
#include "helpers.h"

/* Below vm.mmap_min_addr, and never in page 0: not NULL, but unmappable. */
static void *low(void)
{
	uint64_t min = proc_u64("/proc/sys/vm/mmap_min_addr");

	return (void *)(uintptr_t)((min > pg() ? min : pg()) / 2 + 8);
}

#define KERNEL ((void *)(uintptr_t)0xffff800000001000ull)

/* The process as it was: the window's slots, frames and counters. */
struct state {
	char *w;
	awe_frame_t f[4];
	struct slot_snap snap[4];
	struct awe_stats st;
};

static void setup(struct state *s)
{
	s->w = window_new(4);
	alloc_exact(s->f, 4);
	map_stamped(s->w, s->f, 2);
	snap_slots(s->w, 4, s->snap);
	s->st = get_stats();
}

static void unchanged(struct state *s)
{
	struct awe_stats st = get_stats();

	assert_snap_unchanged(s->w, 4, s->snap);
	cr_assert_eq(st.frames_allocated, s->st.frames_allocated);
	cr_assert_eq(st.frames_mapped, s->st.frames_mapped);
	cr_assert_eq(st.windows, s->st.windows);
}

static void every_function_refuses(void *bad)
{
	struct state s;
	void *addrs[2];
	awe_section_t sec;
	size_t freed;

	setup(&s);
	addrs[0] = slot(s.w, 2);
	addrs[1] = slot(s.w, 3);
	AWE_ERR(awe_alloc(bad, 1), EFAULT);
	AWE_ERR(awe_alloc_node(bad, 2, -1), EFAULT);
	AWE_ERR(awe_free(bad, 1, NULL), EFAULT);
	AWE_ERR(awe_free(s.f, 1, bad), EFAULT);
	AWE_ERR(awe_map(slot(s.w, 2), 2, bad), EFAULT);
	AWE_ERR(awe_map_scatter(bad, 2, s.f + 2), EFAULT);
	AWE_ERR(awe_map_scatter(addrs, 2, bad), EFAULT);
	AWE_ERR(awe_protect(s.w, 1, AWE_PROT_READ, bad), EFAULT);
	AWE_ERR(awe_query(s.w, bad), EFAULT);
	AWE_ERR(awe_frame_addr(s.f[0], bad), EFAULT);
	AWE_ERR(awe_window_create(pg(), NULL, 0, bad), EFAULT);
	AWE_ERR(awe_stats(bad), EFAULT);
	AWE_ERR(awe_section_create(0, bad), EFAULT);
	AWE_OK(awe_section_create(0, &sec));
	AWE_ERR(awe_section_alloc(sec, bad, 1), EFAULT);
	AWE_ERR(awe_section_free(sec, bad, 1, &freed), EFAULT);
	AWE_ERR(awe_section_window_create(sec, pg(), NULL, 0, bad), EFAULT);
	unchanged(&s);
	for (size_t i = 0; i < 4; i++)
		cr_assert_eq(frame_where(s.f[i]), i < 2 ? slot(s.w, i) : NULL);
}

Test(badptr, below_mmap_min_addr)
{
	every_function_refuses(low());
}

Test(badptr, in_the_kernel_half)
{
	every_function_refuses(KERNEL);
}

/* An array that starts in user space but whose end wraps around. */
Test(badptr, array_running_off_the_end)
{
	struct state s;
	void *end = (void *)(uintptr_t)(UINTPTR_MAX - 4095);

	setup(&s);
	AWE_ERR(awe_map_scatter(end, 1000, NULL), EFAULT);
	AWE_ERR(awe_free(end, 1000, NULL), EFAULT);
	AWE_ERR(awe_alloc((awe_frame_t *)(uintptr_t)0x7ffffffff000ull, SIZE_MAX / 2 / pg()),
		EFAULT);
	unchanged(&s);
}

/* Counts no call can ever take are invalid arguments, as documented. */
Test(badptr, impossible_counts_are_invalid)
{
	struct state s;
	void *a = NULL;

	setup(&s);
	AWE_ERR(awe_map_scatter((void *const *)&a, SIZE_MAX, NULL), EINVAL);
	AWE_ERR(awe_map_scatter((void *const *)&a, (size_t)UINT32_MAX + 1, NULL), EINVAL);
	/* Before the arrays are looked at. */
	AWE_ERR(awe_map_scatter(KERNEL, SIZE_MAX, KERNEL), EINVAL);
	AWE_ERR(awe_window_create((size_t)1 << 60, NULL, 0, &a), EINVAL);
	AWE_ERR(awe_window_create(SIZE_MAX, NULL, 0, &a), EINVAL);
	AWE_ERR(awe_window_create(SIZE_MAX - pg() + 2, NULL, 0, &a), EINVAL);
	unchanged(&s);
}
