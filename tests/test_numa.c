/* SPDX-License-Identifier: MIT */
/*
 * NUMA placement: awe_frame_node() for every kind of frame wherever its
 * page is (parked, shown, hidden behind AWE_PROT_NONE, in a section), the
 * node arguments of awe_alloc_node(), awe_alloc_ex() and
 * awe_section_alloc_node(), and that the node asked for is the calling
 * thread's memory policy while the engine allocates (a hook of the static
 * library reads it with get_mempolicy()) and is put back after.
 *
 * Machines with one node (like the CI's) test node 0 and the invalid ones;
 * with more, every online node is asked for and checked.
 */
#include <limits.h>
#include <fcntl.h>
#include <sys/syscall.h>

#include "helpers.h"
#include "helpers_large.h"
#include "hooks.h"

extern int awe__test_nodes, awe__test_threads;

#ifndef MPOL_DEFAULT
#define MPOL_DEFAULT 0
#define MPOL_PREFERRED 1
#endif

static int seen_mode = -1;
static unsigned long seen_mask;
static int seen_calls;

static void read_policy(enum awe__hook_point p)
{
	unsigned long mask[16] = {0};
	int mode = -1;

	if (p != AWE__HOOK_ALLOC_NODE)
		return;
	seen_calls++;
	if (syscall(SYS_get_mempolicy, &mode, mask, 8 * sizeof(mask), 0, 0) == 0) {
		seen_mode = mode;
		seen_mask = mask[0];
	}
}

static int current_mode(void)
{
	unsigned long mask[16];
	int mode = -1;

	cr_assert_eq(syscall(SYS_get_mempolicy, &mode, mask, 8 * sizeof(mask), 0, 0), 0);
	return mode;
}

static bool node_online(int n)
{
	char path[64];

	snprintf(path, sizeof(path), "/sys/devices/system/node/node%d", n);
	return access(path, F_OK) == 0 || (n == 0 && access("/sys/devices/system/node", F_OK));
}

/* The frame's node, or a skip on a kernel without NUMA. */
static int node_of(awe_frame_t f)
{
	int node = -7;
	int r = awe_frame_node(f, &node);

	if (r == -ENOSYS)
		cr_skip_test("the kernel has no NUMA support (move_pages(2) is ENOSYS)");
	cr_assert_eq(r, 0, "awe_frame_node(%#" PRIx64 "): %s", f, awe_strerror(r));
	cr_assert(node >= 0 && node_online(node), "frame on node %d, not an online node", node);
	return node;
}

Test(numa, frame_node_arguments)
{
	awe_frame_t f;
	int node = -7;

	alloc_exact(&f, 1);
	AWE_ERR(awe_frame_node(f, NULL), EFAULT);
	AWE_ERR(awe_frame_node(0, &node), ENOENT);
	AWE_ERR(awe_frame_node(BOGUS_FRAME, &node), ENOENT);
	AWE_OK(awe_free(&f, 1, NULL));
	AWE_ERR(awe_frame_node(f, &node), ENOENT);
	cr_assert_eq(node, -7, "a failed call wrote the node");
}

Test(numa, invalid_nodes_change_nothing)
{
	awe_frame_t f[1] = {0};
	awe_section_t s;
	int bad[] = {-2, INT_MIN, 1 << 20};

	AWE_OK(awe_section_create(0, &s));
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		AWE_ERR(awe_alloc_node(f, 1, bad[i]), EINVAL);
		AWE_ERR(awe_alloc_ex(f, 1, bad[i], 0), EINVAL);
		AWE_ERR(awe_alloc_ex(f, 1, bad[i], AWE_ALLOC_LARGE), EINVAL);
		AWE_ERR(awe_section_alloc_node(s, f, 1, bad[i]), EINVAL);
	}
	/* The first node that does not exist. */
	for (int n = 1; n < 1024; n++)
		if (!node_online(n)) {
			AWE_ERR(awe_alloc_node(f, 1, n), EINVAL);
			AWE_ERR(awe_section_alloc_node(s, f, 1, n), EINVAL);
			break;
		}
	cr_assert_eq(f[0], 0);
	cr_assert_eq(get_stats().frames_allocated, 0);
	AWE_ERR(awe_section_alloc_node(s + 1000, f, 1, 0), ENOENT);
}

/* Each online node asked for is where the frame is, wherever its page is. */
Test(numa, small_frames_where_asked)
{
	for (int n = 0; n < 64; n++) {
		awe_frame_t f;
		char *w;

		if (!node_online(n))
			continue;
		cr_assert_eq(AWE_OK(awe_alloc_node(&f, 1, n)), 1);
		cr_assert_eq(node_of(f), n, "parked frame");
		w = window_new(1);
		AWE_OK(awe_map(w, 1, &f));
		cr_assert_eq(node_of(f), n, "mapped frame");
		AWE_OK(awe_protect(w, 1, AWE_PROT_NONE, NULL));
		cr_assert_eq(node_of(f), n, "frame hidden by AWE_PROT_NONE");
		AWE_OK(awe_free(&f, 1, NULL));
	}
}

Test(numa, large_and_section_frames_where_asked)
{
	awe_section_t s, ls = 0;
	awe_frame_t f;
	char *w;

	AWE_OK(awe_section_create(0, &s));
	cr_assert_eq(AWE_OK(awe_section_alloc_node(s, &f, 1, 0)), 1);
	cr_assert_eq(node_of(f), 0, "section frame");
	if (awe_section_create(AWE_SECTION_LARGE, &ls) == 0 &&
	    awe_section_alloc_node(ls, &f, 1, 0) == 1)
		cr_assert_eq(node_of(f), 0, "large section frame");
	skip_no_large(awe_alloc_ex(&f, 1, 0, AWE_ALLOC_LARGE));
	cr_assert_eq(node_of(f), 0, "parked large frame");
	w = large_window(1);
	AWE_OK(awe_map(w, 1, &f));
	cr_assert_eq(node_of(f), 0, "mapped large frame");
}

/* The node reaches the kernel as the thread's preferred node while the
 * engine allocates, for every kind of allocation, and goes after. */
Test(numa, policy_while_allocating)
{
	awe_section_t s;
	awe_frame_t f;
	int before = current_mode();

	AWE_OK(awe_section_create(0, &s));
	awe__test_hook = read_policy;
	cr_assert_eq(AWE_OK(awe_alloc_node(&f, 1, 0)), 1);
	cr_assert_eq(seen_mode, MPOL_PREFERRED, "policy %d while allocating for node 0", seen_mode);
	cr_assert_eq(seen_mask, 1ul);
	cr_assert_eq(current_mode(), before, "the thread's policy was not put back");
	seen_mode = -1;
	cr_assert_eq(AWE_OK(awe_section_alloc_node(s, &f, 1, 0)), 1);
	cr_assert_eq(seen_mode, MPOL_PREFERRED, "section: policy %d", seen_mode);
	seen_mode = -1;
	cr_assert_eq(AWE_OK(awe_alloc(&f, 1)), 1);
	cr_assert_eq(seen_mode, before, "no node asked, yet policy %d", seen_mode);
	seen_mode = -1;
	if (awe_alloc_ex(&f, 1, 0, AWE_ALLOC_LARGE) == 1)
		cr_assert_eq(seen_mode, MPOL_PREFERRED, "large: policy %d", seen_mode);
	awe__test_hook = NULL;
	cr_assert_eq(current_mode(), before);
	cr_assert_geq(seen_calls, 3);
}

/* The page frame number of the page at @p (root only: others read 0). */
static uint64_t pfn_of(const void *p)
{
	uint64_t e = 0;
	int fd = open("/proc/self/pagemap", O_RDONLY);

	cr_assert_geq(fd, 0);
	cr_assert_eq(pread(fd, &e, sizeof(e), (off_t)((uintptr_t)p / pg() * sizeof(e))),
		     (ssize_t)sizeof(e));
	close(fd);
	cr_assert(e & (1ull << 63), "page %p is not present", p);
	return e & ((1ull << 55) - 1);
}

/* Map, note the page, unmap and map again (one op, then as part of a
 * batch), and hide and show it again: whether the page stayed the same. */
static bool page_kept(awe_frame_t f, char *w)
{
	awe_frame_t other;
	uint64_t pfn;
	bool kept;

	alloc_exact(&other, 1);
	AWE_OK(awe_map(w, 1, &f));
	*(volatile char *)w = 1;
	pfn = pfn_of(w);
	AWE_OK(awe_map(w, 1, NULL));
	AWE_OK(awe_map(w, 1, &f));
	kept = pfn_of(w) == pfn;
	AWE_OK(awe_map(w, 1, NULL));
	AWE_OK(awe_map(w, 2, (awe_frame_t[]){f, other}));
	kept = kept && pfn_of(w) == pfn;
	AWE_OK(awe_protect(w, 1, AWE_PROT_NONE, NULL));
	AWE_OK(awe_protect(w, 1, AWE_PROT_READWRITE, NULL));
	kept = kept && pfn_of(w) == pfn;
	AWE_OK(awe_map(w, 2, NULL));
	return kept;
}

/* With several nodes, a frame allocated for one keeps its page while
 * other threads run, where the engine would otherwise copy pages in
 * (which would put them where the mapping thread runs). Two nodes are
 * faked with a test hook; the frame not placed shows that the engine
 * copies here, so the test could fail. */
Test(numa, placed_frames_keep_their_page)
{
	awe_frame_t placed, loose;
	char *w;

	skip_unless_root("reads page frame numbers from /proc/self/pagemap");
	awe__test_nodes = 2;
	awe__test_threads = 2;
	if (engine_is_memfd())
		cr_skip_test("the memfd engine never copies a page");
	w = window_new(2);
	cr_assert_eq(AWE_OK(awe_alloc_node(&placed, 1, 0)), 1);
	cr_assert_eq(AWE_OK(awe_alloc(&loose, 1)), 1);
	cr_assert(page_kept(placed, w), "a frame placed on node 0 was copied");
	cr_assert(!page_kept(loose, w), "the engine did not copy: the test proves nothing");
}
