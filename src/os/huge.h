/* SPDX-License-Identifier: MIT */
/*
 * Huge pages: what the system offers for large frames right now, and how
 * many an engine could have. The settings of transparent huge pages (THP:
 * enabled, defrag, shmem_enabled, the PMD size, the per-size controls of
 * Linux 6.8), the hugetlb pool of the PMD size (nr_hugepages and what is
 * free of it), and how much free memory is already in blocks of a huge
 * page (/proc/buddyinfo); the rest could only be had by compaction.
 *
 * Read as sysfacts.h reads: raw system calls into buffers on the stack, no
 * descriptor kept, errno left alone, no cancellation point. awe_probe()
 * answers with awe__large_frames(); awe-info compiles this file too and
 * shows the facts behind the answer.
 */
#ifndef AWE_HUGE_H
#define AWE_HUGE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "common.h"

/* A THP mode: transparent_hugepage/enabled, or a per-size
 * hugepages-<size>kB/enabled (which may say "inherit"). */
enum awe__thp {
	AWE__THP_ABSENT, /* no such file: no THP (or, per size, a kernel before 6.8) */
	AWE__THP_NEVER,
	AWE__THP_MADVISE,
	AWE__THP_ALWAYS,
	AWE__THP_INHERIT, /* per size only: the top-level mode holds */
	AWE__THP_UNKNOWN, /* a word this code does not know */
};

/* transparent_hugepage/defrag: whether a huge page fault may stall to
 * reclaim and compact memory. */
enum awe__defrag {
	AWE__DEFRAG_ABSENT,
	AWE__DEFRAG_ALWAYS,	   /* every region: compacts synchronously */
	AWE__DEFRAG_DEFER,	   /* wakes kcompactd, takes what is free now */
	AWE__DEFRAG_DEFER_MADVISE, /* madvised regions compact, others defer */
	AWE__DEFRAG_MADVISE,	   /* madvised regions compact, others do not */
	AWE__DEFRAG_NEVER,
	AWE__DEFRAG_UNKNOWN,
};

/* transparent_hugepage/shmem_enabled, or a per-size
 * hugepages-<size>kB/shmem_enabled: huge pages of shmem, memfd's included. */
enum awe__shmem {
	AWE__SHMEM_ABSENT,
	AWE__SHMEM_NEVER,
	AWE__SHMEM_ALWAYS,
	AWE__SHMEM_WITHIN_SIZE,
	AWE__SHMEM_ADVISE,
	AWE__SHMEM_DENY,  /* top level only: off, even for internal mounts */
	AWE__SHMEM_FORCE, /* top level only: on everywhere */
	AWE__SHMEM_INHERIT,
	AWE__SHMEM_UNKNOWN,
};

/* What awe__huge_read() finds. */
struct awe__huge {
	uint64_t size;		/* the large page size (awe__large_size()); 0: none */
	uint64_t page;		/* the base page size */
	enum awe__thp thp;	/* transparent_hugepage/enabled */
	enum awe__thp thp_size; /* hugepages-<size>kB/enabled */
	enum awe__defrag defrag;
	enum awe__shmem shmem;	    /* transparent_hugepage/shmem_enabled */
	enum awe__shmem shmem_size; /* hugepages-<size>kB/shmem_enabled */
	bool hugetlb;		    /* /sys/kernel/mm/hugepages/hugepages-<size>kB exists */
	uint64_t nr_hugepages;	    /* its pool: nr_hugepages, */
	uint64_t free_hugepages;    /* free_hugepages, */
	uint64_t resv_hugepages;    /* and resv_hugepages (promised to mappings) */
	bool collapse;		    /* awe__large_frames()'s own: THP off, frames
				       built with MADV_COLLAPSE */
	bool buddy_known;	    /* /proc/buddyinfo was read */
	uint64_t free_blocks;	    /* free memory in blocks of @size, counted in
				       such blocks (zones DMA32, Normal, Movable) */
};

/* The large page size: transparent_hugepage/hpage_pmd_size, else the
 * default hugetlb size (Hugepagesize of /proc/meminfo), else 0. Read each
 * time; awe__large_size() keeps the first answer. */
AWE__HIDDEN uint64_t awe__large_size_read(void);
AWE__HIDDEN uint64_t awe__large_size(void);

/* Read everything above into *@h for large pages of @size bytes (one of
 * the two above; 0: none): what cannot be read is ABSENT, 0 or not known. */
AWE__HIDDEN void awe__huge_read(struct awe__huge *h, uint64_t size);

/* The mode that holds for pages of h->size: the per-size one unless it
 * inherits (or is absent), else the top-level one. */
AWE__HIDDEN enum awe__thp awe__huge_thp(const struct awe__huge *h);
AWE__HIDDEN enum awe__shmem awe__huge_shmem(const struct awe__huge *h);
/* Whether mode @m lets a mapping advised MADV_HUGEPAGE have shmem huge
 * pages (always, within_size, advise, force). */
AWE__HIDDEN bool awe__huge_shmem_on(enum awe__shmem m);
/* The pages a new MFD_HUGETLB mapping may still get: free less reserved. */
AWE__HIDDEN uint64_t awe__huge_hugetlb_free(const struct awe__huge *h);
/* Whether a fault in a madvised (MADV_HUGEPAGE) region compacts memory
 * for its huge page: defrag always, madvise or defer+madvise. */
AWE__HIDDEN bool awe__huge_compacts(const struct awe__huge *h);

/* The words of the sysfs files ("madvise", "defer+madvise", ...); "absent"
 * for a missing file, "?" for an unknown word. */
AWE__HIDDEN const char *awe__thp_name(enum awe__thp m);
AWE__HIDDEN const char *awe__defrag_name(enum awe__defrag m);
AWE__HIDDEN const char *awe__shmem_name(enum awe__shmem m);

/* What bounds an engine's large frames besides the huge pages themselves. */
struct awe__huge_room {
	uint64_t mem_available; /* awe__mem_available() */
	bool locked;		/* frames are locked ... */
	uint64_t memlock_room;	/* ... under this much (UINT64_MAX: no limit) */
};

/* How many large frames engine @engine ("uffd-move", "memfd"; NULL: none
 * can start) could have now at most, given @h and @room, and in @why (of
 * @len bytes) one sentence saying what limits them. uffd-move: THP, bounded
 * by memory, the lock room when locked, and without compaction by the free
 * blocks. memfd: the hugetlb pool when a page of it is free, else shmem
 * huge pages as THP, else none. */
AWE__HIDDEN uint64_t awe__large_frames(const struct awe__huge *h, const char *engine,
				       const struct awe__huge_room *room, char *why, size_t len);

#endif
