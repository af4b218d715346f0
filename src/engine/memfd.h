/* SPDX-License-Identifier: MIT */
/*
 * The memfd engine's own declarations, shared by its files:
 *
 *   memfd.c        the instance, its windows and its file: start and end,
 *                  reserve, allocate, discard, the locked pool
 *   memfd_apply.c  map, unmap and protect: runs of mmap/mprotect calls,
 *                  rollback, and what holds when the kernel refuses it
 *   memfd_vma.c    the process-wide VMA budget under vm.max_map_count,
 *                  and reading /proc/self/maps
 */
#ifndef AWE_MEMFD_H
#define AWE_MEMFD_H

#include "engine.h"
#include "sys.h"

struct mfd {
	int fd;
	size_t page;
	unsigned int sh; /* page shift */
	bool locked;
	uint64_t memlock_limit;
	uint64_t pages;	   /* file size in pages */
	uintptr_t pool;	   /* locked mode: view of the file's first pool_pages */
	size_t pool_pages; /* 0: no pool */
	bool no_populate;  /* the kernel lacks MADV_POPULATE_WRITE (before 5.14) */
	unsigned long ino; /* the file's inode, as /proc/self/maps shows it */
	size_t live;	   /* frames with a page in the file */
	/* Large frames (memfd_large.c): the file is hugetlbfs (@hugetlb) or
	 * shmem with huge pages, and the pool exists, locked or not, aligned
	 * to a huge page: pages are built and checked through it. */
	bool large, hugetlb;
	size_t base_page; /* the system's page size */
};

/* Whether slot @s of @w shows a page (the core's table). */
static inline bool shown_at(const struct awe__ewin *w, size_t s)
{
	return w->slot[s] != 0;
}

/* memfd_vma.c: the budget. Every memfd window of the process counts; the
 * rest of the process is counted from /proc/self/maps. */
AWE__HIDDEN int awe__mfd_budget_start(void);
AWE__HIDDEN void awe__mfd_budget_end(void);
AWE__HIDDEN void awe__mfd_budget_fork_child(void);
/* May the worst case grow by @more VMAs? */
AWE__HIDDEN bool awe__mfd_room_for(uint64_t more);
/* The kernel ran out of mappings: count the process again. */
AWE__HIDDEN void awe__mfd_recount(void);
/* The worst case of the windows grew (or shrank) by @d VMAs; mappings of
 * the rest of the process (the pool) by @other. */
AWE__HIDDEN void awe__mfd_budget_add(int64_t d, int64_t other);
/* A window [base, base + len) came or went. */
AWE__HIDDEN int awe__mfd_window_add(uintptr_t base, size_t len);
AWE__HIDDEN void awe__mfd_window_remove(uintptr_t base);
AWE__HIDDEN void awe__mfd_budget_stats(struct awe_stats *st);
/* What slot @va shows, read from /proc/self/maps: a page of @m's file (*@k
 * its frame index + 1) or the reservation of an empty slot (*@k 0), and
 * the protection. -errno when the maps cannot be read or nothing is mapped
 * there. */
AWE__HIDDEN int awe__mfd_shown(const struct mfd *m, uintptr_t va, uint32_t *k, int *prot);

/* memfd.c: a fresh reservation over [va, va + len), what an empty slot is;
 * the pages of frames idx, idx + 1, ... at [va, va + len). */
AWE__HIDDEN int awe__mfd_reserve(uintptr_t va, size_t len);
AWE__HIDDEN int awe__mfd_show(const struct mfd *m, uintptr_t va, size_t len, int prot,
			      uint32_t idx);

/* memfd_large.c: the file of a large instance, or -EOPNOTSUPP (with the
 * reason set) when the system has no huge pages for it; how many of the
 * @n pages from @off of the file, seen through the pool, are huge pages
 * before the first that is not;
 * a new pool view of @len bytes, aligned, moving the old one (@old_len
 * bytes at m->pool) there if any. */
AWE__HIDDEN int awe__mfd_large_open(struct mfd *m);
AWE__HIDDEN size_t awe__mfd_large_good(const struct mfd *m, uint64_t off, size_t n);
AWE__HIDDEN int awe__mfd_large_pool(struct mfd *m, size_t old_len, size_t len, uintptr_t *at);

/* memfd_apply.c */
AWE__HIDDEN int awe__mfd_apply(void *e, struct awe__op *ops, size_t n, unsigned int flags,
			       struct awe__job *job);

#endif
