/* SPDX-License-Identifier: MIT */
/*
 * What the system offers for large frames (src/os/huge.c), from fake /sys
 * and /proc trees read through awe__test_sysroot (memcap.h): the large page
 * size and where it comes from, the THP settings with their per-size
 * controls, the hugetlb pool, the free huge blocks of /proc/buddyinfo, and
 * the count and the reason awe_probe() gives for each engine under every
 * setting that changes them (this machine shows one; test_probe checks that
 * one for real).
 */
#include "memcap.h"

#include "huge.h"

TestSuite(huge, .init = tree_init, .fini = tree_fini);

#define TWO_MIB (2 * MiB)
#define THP_DIR "/sys/kernel/mm/transparent_hugepage"
#define POOL_DIR "/sys/kernel/mm/hugepages/hugepages-2048kB"

/* A choice file as the kernel shows it: every word of @words, @pick in
 * brackets. */
static void choice(const char *path, const char *words, const char *pick)
{
	char buf[256] = "", w[32];
	const char *s = words;

	while (sscanf(s, "%31s", w) == 1) {
		size_t n = strlen(buf);

		snprintf(buf + n, sizeof(buf) - n, strcmp(w, pick) ? "%s " : "[%s] ", w);
		s = strstr(s, w) + strlen(w);
	}
	buf[strlen(buf) - 1] = '\n';
	put(path, "%s", buf);
}

/* THP with a PMD of 2 MiB: @enabled, @defrag and @shmem at the top, and the
 * per-size controls of 2 MiB pages (NULL: a kernel without them). */
static void thp(const char *enabled, const char *defrag, const char *shmem, const char *sized,
		const char *sized_shmem)
{
	choice(THP_DIR "/enabled", "always madvise never", enabled);
	choice(THP_DIR "/defrag", "always defer defer+madvise madvise never", defrag);
	choice(THP_DIR "/shmem_enabled", "always within_size advise never deny force", shmem);
	put(THP_DIR "/hpage_pmd_size", "2097152\n");
	if (sized)
		choice(THP_DIR "/hugepages-2048kB/enabled", "always inherit madvise never", sized);
	if (sized_shmem)
		choice(THP_DIR "/hugepages-2048kB/shmem_enabled",
		       "always inherit within_size advise never", sized_shmem);
}

static void pool(uint64_t nr, uint64_t free, uint64_t resv)
{
	put(POOL_DIR "/nr_hugepages", "%" PRIu64 "\n", nr);
	put(POOL_DIR "/free_hugepages", "%" PRIu64 "\n", free);
	put(POOL_DIR "/resv_hugepages", "%" PRIu64 "\n", resv);
	put(POOL_DIR "/surplus_hugepages", "0\n");
}

/* /proc/buddyinfo of a machine with 4 KiB pages (orders 0 to 10): in
 * blocks of 2 MiB (order 9), DMA32 has 2 + 2 * 3 and Normal 5 + 2 * 100,
 * 213 in all; DMA's order 10 block does not count. */
#define BUDDY_BLOCKS 213
static void buddy(void)
{
	put("/proc/buddyinfo",
	    "Node 0, zone      DMA      0      0      0      0      0      0      0      0      1 "
	    "     1      3 \n"
	    "Node 0, zone    DMA32      2      2      3      2      3      2      1      4      4 "
	    "     2      3 \n"
	    "Node 0, zone   Normal   1719   4004   4310   3247   2213   1281    849    453    275 "
	    "     5    100 \n");
}

static struct awe__huge facts(void)
{
	struct awe__huge h;

	errno = ERRNO_CANARY;
	awe__huge_read(&h, awe__large_size_read());
	cr_assert_eq(errno, ERRNO_CANARY, "reading huge page facts changed errno");
	return h;
}

/* What engine @engine could have with @h, @mem bytes available and, when
 * @locked, @room bytes of lock room; the reason goes to @why. */
static uint64_t frames(const struct awe__huge *h, const char *engine, uint64_t mem, bool locked,
		       uint64_t room, char *why, size_t len)
{
	struct awe__huge_room r = {.mem_available = mem, .locked = locked, .memlock_room = room};
	uint64_t n;

	memset(why, 0, len);
	errno = ERRNO_CANARY;
	n = awe__large_frames(h, engine, &r, why, len);
	cr_assert_eq(errno, ERRNO_CANARY, "the estimate changed errno");
	cr_assert_gt(strlen(why), 0, "no reason");
	cr_assert_lt(strlen(why), len - 1, "reason cut off: %s", why);
	return n;
}

#define assert_frames(h, engine, mem, locked, room, want_n, want_why)                              \
	do {                                                                                       \
		char why_[300];                                                                    \
		uint64_t n_ = frames(h, engine, mem, locked, room, why_, sizeof(why_));            \
		cr_assert_eq(n_, (uint64_t)(want_n), "%" PRIu64 " frames, expected %s (%s)", n_,   \
			     #want_n, why_);                                                       \
		cr_assert_str_eq(why_, want_why);                                                  \
	} while (0)

/* --- the facts ------------------------------------------------------------------ */

Test(huge, reads_every_setting)
{
	struct awe__huge h;

	if (pg() != 4096)
		cr_skip_test("the fake buddyinfo is of 4 KiB pages");
	thp("madvise", "defer+madvise", "within_size", "inherit", "advise");
	pool(64, 10, 4);
	buddy();
	h = facts();
	cr_assert_eq(h.size, TWO_MIB);
	cr_assert_eq(h.page, pg());
	cr_assert_eq(h.thp, AWE__THP_MADVISE);
	cr_assert_eq(h.thp_size, AWE__THP_INHERIT);
	cr_assert_eq(h.defrag, AWE__DEFRAG_DEFER_MADVISE);
	cr_assert_eq(h.shmem, AWE__SHMEM_WITHIN_SIZE);
	cr_assert_eq(h.shmem_size, AWE__SHMEM_ADVISE);
	cr_assert(h.hugetlb);
	cr_assert_eq(h.nr_hugepages, 64);
	cr_assert_eq(h.free_hugepages, 10);
	cr_assert_eq(h.resv_hugepages, 4);
	cr_assert(h.buddy_known);
	cr_assert_eq(h.free_blocks, BUDDY_BLOCKS);
	cr_assert_eq(awe__huge_thp(&h), AWE__THP_MADVISE, "inherit: the top-level mode");
	cr_assert_eq(awe__huge_shmem(&h), AWE__SHMEM_ADVISE, "the per-size mode holds");
	cr_assert_eq(awe__huge_hugetlb_free(&h), 6, "free less reserved");
	cr_assert(awe__huge_compacts(&h));
	cr_assert_str_eq(awe__defrag_name(h.defrag), "defer+madvise");
	cr_assert_str_eq(awe__shmem_name(h.shmem), "within_size");
	cr_assert_str_eq(awe__thp_name(h.thp_size), "inherit");
}

Test(huge, missing_files)
{
	struct awe__huge h;

	put("/proc/meminfo", "MemTotal: 1024 kB\n");
	h = facts();
	cr_assert_eq(h.size, 0);
	cr_assert_eq(h.thp, AWE__THP_ABSENT);
	cr_assert_eq(h.defrag, AWE__DEFRAG_ABSENT);
	cr_assert_eq(h.shmem, AWE__SHMEM_ABSENT);
	cr_assert(!h.hugetlb);
	cr_assert(!h.buddy_known);
	cr_assert_eq(awe__huge_thp(&h), AWE__THP_ABSENT);
	cr_assert_eq(awe__huge_shmem(&h), AWE__SHMEM_ABSENT);
	cr_assert_str_eq(awe__thp_name(h.thp), "absent");
	/* An unknown word is not mistaken for one of the known. */
	put(THP_DIR "/enabled", "always madvise [sometimes] never\n");
	put(THP_DIR "/defrag", "madvise never\n");
	put(THP_DIR "/hpage_pmd_size", "2097152\n");
	h = facts();
	cr_assert_eq(h.thp, AWE__THP_UNKNOWN);
	cr_assert_eq(h.defrag, AWE__DEFRAG_UNKNOWN);
	cr_assert(!awe__huge_compacts(&h));
}

/* The size: THP's PMD size, else the default hugetlb size, else none. */
Test(huge, large_size_sources)
{
	cr_assert_eq(awe__large_size_read(), 0, "an empty tree has no large pages");
	put("/proc/meminfo", "MemTotal: 1024 kB\nHugepagesize:    1048576 kB\n");
	cr_assert_eq(awe__large_size_read(), 1024 * MiB, "without THP, Hugepagesize");
	put(THP_DIR "/hpage_pmd_size", "2097152\n");
	cr_assert_eq(awe__large_size_read(), TWO_MIB, "THP's PMD size first");
}

Test(huge, buddyinfo_orders_and_zones)
{
	struct awe__huge h;

	if (pg() != 4096)
		cr_skip_test("the fake buddyinfo is of 4 KiB pages");
	thp("madvise", "madvise", "never", NULL, NULL);
	/* Two nodes, a Movable zone, and HighMem (not counted, as DMA). */
	put("/proc/buddyinfo", "Node 0, zone   Normal 0 0 0 0 0 0 0 0 0 1 1\n"
			       "Node 0, zone  Movable 0 0 0 0 0 0 0 0 9 0 4\n"
			       "Node 1, zone   Normal 0 0 0 0 0 0 0 0 0 0 10\n"
			       "Node 1, zone  HighMem 0 0 0 0 0 0 0 0 0 0 10\n"
			       "Node 1, zone      DMA 0 0 0 0 0 0 0 0 0 0 10\n");
	h = facts();
	cr_assert(h.buddy_known);
	cr_assert_eq(h.free_blocks, 1 + 2 + 8 + 20, "%" PRIu64 " blocks", h.free_blocks);
}

/* --- uffd-move: transparent huge pages ---------------------------------------------- */

Test(huge, thp_never)
{
	struct awe__huge h;

	thp("never", "madvise", "never", NULL, NULL);
	h = facts();
	assert_frames(&h, "uffd-move", 64 * GiB, false, 0, 0,
		      "THP is off (transparent_hugepage/enabled = never)");
}

/* The per-size control of Linux 6.8 turns 2 MiB pages off under a top-level
 * madvise, and on under a top-level never. */
Test(huge, thp_per_size)
{
	struct awe__huge h;

	thp("madvise", "madvise", "never", "never", NULL);
	h = facts();
	assert_frames(&h, "uffd-move", 64 * GiB, false, 0, 0,
		      "THP is off (transparent_hugepage/hugepages-2048kB/enabled = never)");
	tree_fini();
	tree_init();
	thp("never", "madvise", "never", "always", NULL);
	buddy();
	h = facts();
	cr_assert_eq(awe__huge_thp(&h), AWE__THP_ALWAYS);
	assert_frames(&h, "uffd-move", 20 * MiB, false, 0, 10,
		      "THP always mode for 2 MiB pages, defrag madvise: the kernel compacts memory "
		      "for each frame; 213 free 2 MiB blocks now, memory available for 10 frames");
}

Test(huge, thp_absent)
{
	struct awe__huge h;

	put("/proc/meminfo", "MemTotal: 1024 kB\nHugepagesize:    2048 kB\n");
	h = facts();
	cr_assert_eq(h.size, TWO_MIB);
	assert_frames(&h, "uffd-move", 64 * GiB, false, 0, 0,
		      "the kernel has no transparent huge pages "
		      "(no /sys/kernel/mm/transparent_hugepage/enabled)");
}

/* Defrag that compacts for a madvised fault: every available byte counts,
 * however few blocks are free now. */
Test(huge, thp_compacting_defrag)
{
	static const char *const compacting[] = {"always", "madvise", "defer+madvise"};
	struct awe__huge h;
	char want[256];

	if (pg() != 4096)
		cr_skip_test("the fake buddyinfo is of 4 KiB pages");
	for (size_t i = 0; i < 3; i++) {
		thp("madvise", compacting[i], "never", "inherit", "inherit");
		buddy();
		h = facts();
		snprintf(want, sizeof(want),
			 "THP madvise mode, defrag %s: the kernel compacts memory for each frame; "
			 "213 free 2 MiB blocks now, memory available for 1000 frames",
			 compacting[i]);
		assert_frames(&h, "uffd-move", 2000 * MiB + 1, false, 0, 1000, want);
	}
}

/* Defrag that does not: only the free blocks, and memory when less. */
Test(huge, thp_no_compaction)
{
	struct awe__huge h;

	if (pg() != 4096)
		cr_skip_test("the fake buddyinfo is of 4 KiB pages");
	thp("always", "never", "never", NULL, NULL);
	buddy();
	h = facts();
	assert_frames(&h, "uffd-move", 64 * GiB, false, 0, BUDDY_BLOCKS,
		      "THP always mode, defrag never: the kernel does not compact memory for a "
		      "frame, so only the 213 2 MiB blocks free now count");
	thp("always", "defer", "never", NULL, NULL);
	h = facts();
	assert_frames(&h, "uffd-move", 200 * MiB, false, 0, 100,
		      "THP always mode, defrag defer: the kernel does not compact memory for a "
		      "frame, so only the 213 2 MiB blocks free now count; memory available for "
		      "100 frames");
	drop("/proc/buddyinfo");
	h = facts();
	assert_frames(&h, "uffd-move", 200 * MiB, false, 0, 100,
		      "THP always mode, defrag defer: the kernel does not compact memory for a "
		      "frame, and without /proc/buddyinfo the free 2 MiB blocks are unknown; "
		      "memory available for 100 frames");
}

/* Locked frames: the lock room bounds them when it is the smaller. */
Test(huge, thp_lock_room)
{
	struct awe__huge h;

	if (pg() != 4096)
		cr_skip_test("the fake buddyinfo is of 4 KiB pages");
	thp("madvise", "madvise", "never", NULL, NULL);
	buddy();
	h = facts();
	assert_frames(
		&h, "uffd-move", 64 * GiB, true, MiB, 0,
		"THP madvise mode, but RLIMIT_MEMLOCK leaves no room to lock a frame of 2 MiB");
	assert_frames(
		&h, "uffd-move", 64 * GiB, true, 11 * MiB, 5,
		"THP madvise mode, defrag madvise: the kernel compacts memory for each frame; "
		"213 free 2 MiB blocks now, RLIMIT_MEMLOCK room for 5 frames");
	assert_frames(
		&h, "uffd-move", 64 * GiB, false, MiB, 32768,
		"THP madvise mode, defrag madvise: the kernel compacts memory for each frame; "
		"213 free 2 MiB blocks now, memory available for 32768 frames");
	assert_frames(
		&h, "uffd-move", 4 * MiB, true, UINT64_MAX, 2,
		"THP madvise mode, defrag madvise: the kernel compacts memory for each frame; "
		"213 free 2 MiB blocks now, memory available for 2 frames");
	assert_frames(&h, "uffd-move", MiB, false, 0, 0,
		      "THP madvise mode, but less memory is available than a frame of 2 MiB");
}

/* --- memfd: the hugetlb pool, else shmem huge pages ------------------------------- */

/* Free pool pages, less those promised to mappings, whatever memory and the
 * lock room say. */
Test(huge, memfd_hugetlb)
{
	struct awe__huge h;

	thp("madvise", "madvise", "never", NULL, NULL);
	pool(64, 10, 4);
	h = facts();
	assert_frames(&h, "memfd", MiB, true, 0, 6,
		      "hugetlb pool: 6 of 64 2 MiB pages free for MFD_HUGETLB "
		      "(hugepages-2048kB/free_hugepages = 10, resv_hugepages = 4)");
}

Test(huge, memfd_shmem)
{
	static const char *const on[] = {"always", "within_size", "advise", "force"};
	struct awe__huge h;
	char want[300];

	if (pg() != 4096)
		cr_skip_test("the fake buddyinfo is of 4 KiB pages");
	for (size_t i = 0; i < 4; i++) {
		thp("never", "defer", on[i], NULL, NULL);
		pool(8, 4, 4);
		buddy();
		h = facts();
		snprintf(
			want, sizeof(want),
			"no hugetlb page free, shmem huge pages (transparent_hugepage/shmem_enabled "
			"= %s), defrag defer: the kernel does not compact memory for a frame, so "
			"only the 213 2 MiB blocks free now count",
			on[i]);
		assert_frames(&h, "memfd", 64 * GiB, false, 0, BUDDY_BLOCKS, want);
	}
	/* Per size, under a top-level never. */
	thp("never", "madvise", "never", NULL, "advise");
	h = facts();
	assert_frames(&h, "memfd", 64 * GiB, true, 6 * MiB, 3,
		      "no hugetlb page free, shmem huge pages "
		      "(transparent_hugepage/hugepages-2048kB/shmem_enabled = advise), defrag "
		      "madvise: the kernel compacts memory for each frame; 213 free 2 MiB blocks "
		      "now, RLIMIT_MEMLOCK room for 3 frames");
}

Test(huge, memfd_none)
{
	struct awe__huge h;

	thp("madvise", "madvise", "never", NULL, NULL);
	pool(0, 0, 0);
	h = facts();
	assert_frames(&h, "memfd", 64 * GiB, false, 0, 0,
		      "no huge pages for the memfd engine: vm.nr_hugepages = 0 (hugepages-2048kB) "
		      "and transparent_hugepage/shmem_enabled = never");
	pool(16, 3, 3);
	h = facts();
	assert_frames(
		&h, "memfd", 64 * GiB, false, 0, 0,
		"no huge pages for the memfd engine: none of the 16 hugetlb pages of 2 MiB is "
		"free and transparent_hugepage/shmem_enabled = never");
	/* deny wins over a per-size mode. */
	thp("madvise", "madvise", "deny", NULL, "always");
	drop(POOL_DIR);
	h = facts();
	assert_frames(
		&h, "memfd", 64 * GiB, false, 0, 0,
		"no huge pages for the memfd engine: the kernel has no hugetlb pages of 2 MiB "
		"and transparent_hugepage/shmem_enabled = deny");
	tree_fini();
	tree_init();
	h = facts();
	assert_frames(&h, "memfd", 64 * GiB, false, 0, 0,
		      "no huge pages for the memfd engine: the kernel has neither hugetlb pages "
		      "nor THP and no shmem huge pages");
}

Test(huge, no_engine)
{
	struct awe__huge h;

	thp("always", "always", "always", NULL, NULL);
	pool(8, 8, 0);
	h = facts();
	assert_frames(&h, NULL, 64 * GiB, false, 0, 0,
		      "no engine can start, so no large frames either");
}
