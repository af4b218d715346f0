/* SPDX-License-Identifier: MIT */
/*
 * The engine contract: the only code that knows how a frame's page is put at
 * a slot. Written down once here, the way mimalloc's prim.h is; one
 * implementation per engine:
 *
 *   uffd.c, uffd_move.c  UFFDIO_MOVE (Linux 6.8+): pages move between window
 *                        slots and parking (park.c), no VMA per mapping
 *   memfd.c, memfd_vma.c memfd: pages live in a memfd and are mmap()ed, each
 *                        run a VMA, within a budget under vm.max_map_count
 *
 * An engine stands below the core: it includes nothing of it, never writes
 * the core's tables and never calls it. What it needs of a frame comes in
 * the op (its index, which it may use as an identity, and its home: where
 * the engine said its page is kept); what it needs of a window is the
 * struct awe__ewin the core's window begins with, whose @priv is the
 * engine's own per-window state and whose @slot is the one core table it
 * may read. The core validates, plans under its lock, hands the engine
 * requests that are already valid, and records what the engine reports. An engine does all of a request or rolls back, so the
 * tables never disagree with the page tables; when the kernel refuses part
 * of a rollback, the engine reports exactly what holds.
 *
 * Every operation runs under the core's lock, except move() (see struct
 * awe__job). Every one returns 0 or a count, or -errno; engines use the
 * raw system calls of sys.h, so errno is never touched.
 *
 * A process has one default instance, picked at initialisation (select.c);
 * every AWE section has a memfd instance of its own, because its frames may
 * be shown at several addresses, which only shared pages can.
 */
#ifndef AWE_ENGINE_H
#define AWE_ENGINE_H

#include <errno.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "awe.h"
#include "common.h"
#include "hooks.h"

/* What an instance is told when it starts. */
struct awe__eng_conf {
	size_t page; /* the instance's frame and slot size */
	unsigned int page_shift;
	/* Large frames: @page is the kernel's huge page size, and every frame
	 * must be one huge page, never a run of small ones (-EOPNOTSUPP from
	 * init() when the engine cannot have them at all). @base_page is the
	 * system's page size either way. */
	bool large;
	size_t base_page;
	bool locked;		/* frames are locked (mlock), as Windows' are */
	uint64_t memlock_limit; /* bytes; UINT64_MAX: unlimited (CAP_IPC_LOCK) */
};

/* Bits of a home: a page number (address >> page shift) below 2^50 with
 * 4 KiB pages, more than any x86-64 or arm64 user address space without
 * 5-level tables. The core keeps a frame's home in its table entry. */
#define AWE__HOME_BITS 38

/* A window as its engine sees it. The core's window starts with one. */
struct awe__ewin {
	uintptr_t base;
	size_t npages;
	/* The core's slot table, read only: not 0 where a frame is shown (as
	 * before the call being applied). Engines ask it of the slots around
	 * a call's ops; a table of their own would cost every op a store to
	 * another page, which after a move's TLB flush is a page walk. */
	const uint32_t *slot;
	void *priv; /* the engine's, from window_reserve() */
};

/* The slot of @w that address @va is in, with pages of 1 << @sh bytes. */
static inline size_t awe__ewin_slot(const struct awe__ewin *w, uintptr_t va, unsigned int sh)
{
	return (va - w->base) >> sh;
}

/*
 * One slot change. @old and @new are frame index + 1 (0 for none); old ==
 * new != 0 is a protection change of a shown frame. A frame's index is its
 * identity for the engine (memfd: its page's place in the file).
 *
 * @home, in: where the page of @new is kept (what the engine reported when
 * it last put that page away). Out: when @old's page left the slot (unmap
 * or replace), where it is kept now. Read before written: an op that does
 * both reads first.
 */
struct awe__op {
	uintptr_t va;
	struct awe__ewin *win;
	uint64_t home;
	uint32_t old, new;
	uint32_t seq;	/* the core's: position in the caller's array */
	uint32_t claim; /* the core's: frame index + 1 this op claimed */
	uint8_t oldprot, newprot;
	uint8_t kind; /* the engine's scratch */
	/* @new's page must stay the page it is (a frame placed on a NUMA node
	 * that is not the only one): moved in, never replaced by a copy. */
	uint8_t keep;
};

/*
 * Kernel work that may run without the core's lock. apply() and move_range()
 * are handed a job when other threads are waiting to use the library; they
 * may then do what needs the engine's state under the lock (reserve
 * parking, plan), store what move() and finish() need in the job, and
 * return AWE__LATER. The core lets go of its lock, marks the window busy
 * (no other call touches it or its frames), calls move(), takes the lock
 * again and calls finish() with move()'s result; finish() returns what
 * apply() would have. Without a job, everything happens in the one call.
 */
#define AWE__LATER 1
struct awe__job {
	_Alignas(16) unsigned char space[640];
};

struct awe__engine {
	const char *name;

	/* Start an instance in *@e. Fails with -ENOSYS / -EOPNOTSUPP when the
	 * kernel lacks what the engine needs or the process may not use it
	 * (after awe__set_detail()). */
	int (*init)(const struct awe__eng_conf *conf, void **e);
	/* Drop everything. @forked: we are a fork() child, the parent's
	 * mappings are already gone and only memory remains. */
	void (*fini)(void *e, bool forked);
	/* In a fork() child, before it runs any code of its own: close the
	 * instance's descriptors, through which the child could reach the
	 * parent's frames (a memfd holds them; a userfaultfd stays bound to
	 * the process that opened it). Async-signal-safe. */
	void (*fork_child)(void *e);

	/* Reserve @len bytes of window at @hint (exactly there if @fixed),
	 * aligned to @align bytes (a power of two, at least a page); fill in
	 * @w (base, npages, priv). -EEXIST: @fixed and the range is taken;
	 * -EPERM: it cannot be locked (trim() may make room); -ENOMEM. */
	int (*window_reserve)(void *e, uintptr_t hint, size_t len, size_t align, bool fixed,
			      struct awe__ewin *w);
	/* Release a window whose frames have all been taken off it. */
	void (*window_release)(void *e, struct awe__ewin *w);

	/* Give zero-filled pages to frames idx[0..n-1] on NUMA node @node (-1:
	 * any), their homes into home[0..n-1]; return how many got one (a
	 * prefix), or -errno when none did. */
	ssize_t (*alloc)(void *e, const uint32_t *idx, uint64_t *home, size_t n, int node);
	/* Return the pages kept at homes [home, home + n), none of them shown,
	 * to the kernel: all, or none when it refuses (-errno). The core calls
	 * it a run of consecutive homes at a time. */
	int (*discard)(void *e, uint64_t home, size_t n);

	/* Optional: room the instance holds beyond what its frames need (the
	 * UFFDIO_MOVE engine's parking, the memfd engine's locked pool). trim_wanted() says whether there is
	 * some to give back: with @all, everything that can go (a window could
	 * not be locked), else what is beyond the engine's floor. trim() gives
	 * it back. Without @home it gives back only what holds no page, and
	 * returns 1 when it would move pages: the core then calls it again
	 * with the homes of every frame of the instance that is not shown, and
	 * the engine rewrites those it moved. */
	bool (*trim_wanted)(void *e, bool all);
	int (*trim)(void *e, bool all, uint64_t *home, size_t n);

	/* Carry out slot changes sorted by va, one per slot, all in windows of
	 * this instance: all or nothing. When the kernel fails part of the
	 * way and then refuses to undo part of what was done, returns
	 * -ENOTRECOVERABLE with every op rewritten to what holds (back as it
	 * was: old == new and oldprot == newprot; done; or emptied: new 0, the
	 * old page kept at @home): the core records that as for a success.
	 * @flags: the call's AWE_UNMAP_* (awe.h); AWE_UNMAP_EXCLUSIVE comes
	 * only with unmaps, and an engine may ignore it. May return AWE__LATER
	 * when handed @job. */
	int (*apply)(void *e, struct awe__op *ops, size_t n, unsigned int flags,
		     struct awe__job *job);

	/* Optional, a faster apply() for a whole range of one window: with
	 * @in, put the pages kept at home[0..n-1] on the empty slots from @va
	 * on;
	 * without, take the n read-write pages from @va on off their slots,
	 * their homes into home[]. All or nothing. -ENOTRECOVERABLE as for
	 * apply(): then home[i] is the slot's page number exactly when page i
	 * is at its slot, else its home. May return AWE__LATER when handed
	 * @job. */
	int (*move_range)(void *e, uintptr_t va, uint64_t *home, size_t n, bool in,
			  unsigned int flags, struct awe__job *job);

	/* The kernel moves of a job (without the core's lock), then the rest
	 * of the call (with it) given move()'s result. */
	int (*move)(void *e, struct awe__job *job);
	int (*finish)(void *e, struct awe__job *job, int moved);

	/* The NUMA node of frame @idx's page, kept at @home, or shown at @va
	 * of @w when @w is not NULL: >= 0, or -errno (-ENOSYS: no NUMA). */
	int (*page_node)(void *e, uint32_t idx, uint64_t home, const struct awe__ewin *w,
			 uintptr_t va);

	/* Add this instance's part to @st: parking_bytes, and the memfd
	 * engine's process-wide VMA budget (max_map_count, vmas_worst). */
	void (*stats)(void *e, struct awe_stats *st);
};

/* Kernel errors other than running out of memory mean the kernel refused a
 * page (pinned, shared, ...): one documented code for all of them. */
static inline int awe__kerr(int r)
{
	return r == -ENOMEM ? -ENOMEM : -EIO;
}

/* The end of the run of consecutive values v[i], v[i] + 1, ... among the
 * first @n of @v: releases and allocations go a run per system call. */
#define AWE__RUN_END(v, i, n)                                                                      \
	({                                                                                         \
		size_t j_ = (i) + 1;                                                               \
		while (j_ < (n) && (v)[j_] == (v)[i] + (j_ - (i)))                                 \
			j_++;                                                                      \
		j_;                                                                                \
	})

AWE__HIDDEN extern const struct awe__engine awe__engine_uffd;
AWE__HIDDEN extern const struct awe__engine awe__engine_memfd;

/* The default engine: AWE_ENGINE=uffd|memfd when set, otherwise
 * UFFDIO_MOVE, or memfd when the kernel or a sandbox refuses it. Starts it
 * into *@ops / *@e and writes why into @why. -EINVAL: AWE_ENGINE names no
 * engine. */
AWE__HIDDEN int awe__engine_select(const struct awe__eng_conf *conf, const struct awe__engine **ops,
				   void **e, char *why, size_t len);

#endif
