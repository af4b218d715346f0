/* SPDX-License-Identifier: MIT */
/*
 * The UFFDIO_MOVE engine's own declarations, shared by its files:
 *
 *   uffd.c        the instance, its windows and its parking: start and end,
 *                 reserve, allocate, discard, give parking back
 *   uffd_move.c   map, unmap and protect: the move log, all-or-nothing
 *                 apply, rollback, the range path, jobs run without the
 *                 core's lock
 *   uffd_ioctl.c  the userfaultfd ioctls as the engine uses them
 *   uffd_probe.c  the ioctls tried once at start (shared with awe-info)
 *
 * What the kernel requires (mm/userfaultfd.c) and how it is met:
 *  - both ranges private anonymous, writable, equally protected, and the
 *    destination registered with our userfaultfd: windows and parking are
 *    all plain read-write mappings registered with one descriptor, and
 *    protection is done without mprotect (write-protect bits for read-only,
 *    parking the page for no-access);
 *  - the page exclusive to the process: MADV_DONTFORK everywhere;
 *  - both VMAs mlocked or neither: locked mode locks every range with
 *    MLOCK_ONFAULT, which does not populate (plain mlock would fill the
 *    windows and make every later move fail with EEXIST);
 *  - an empty destination: replacing is "move out, then move in".
 * With UFFD_FEATURE_SIGBUS a touch of an empty window slot raises SIGBUS
 * instead of waiting for a handler, so nobody reads the descriptor.
 */
#ifndef AWE_UFFD_H
#define AWE_UFFD_H

#include "engine.h"
#include "park.h"
#include "sys.h"

#define GAP_PAGES 16u /* empty slots a bulk move may carry along */

struct uffd {
	int fd;
	size_t page;
	unsigned int sh; /* page shift */
	bool locked;
	uint64_t memlock_limit;
	struct awe__park park;
	size_t nframes; /* frames with a page here: parking holds them all */
	uintptr_t zero;
	size_t zero_len;
	/* The windows, for giving parking back: hidden pages are parked in
	 * their aside tables. */
	struct awe__ewin **win;
	size_t nwin, win_cap;
};

/* A window's engine state (awe__ewin.priv). */
struct uwin {
	/* Per slot, where the page of a frame hidden behind AWE_PROT_NONE is
	 * parked (0: none); allocated when first needed. */
	uintptr_t *aside;
	bool wp; /* registered for write-protection (AWE_PROT_READ) */
	/* One bit per slot: a page sits in its page table entry. */
	uint64_t present[];
};

static inline struct uwin *uwin_of(const struct awe__ewin *w)
{
	return w->priv;
}

static inline size_t slot_of(const struct uffd *u, const struct awe__ewin *w, uintptr_t va)
{
	return (va - w->base) >> u->sh;
}

static inline bool present_at(const struct uffd *u, const struct awe__ewin *w, uintptr_t va)
{
	size_t s = slot_of(u, w, va);

	return uwin_of(w)->present[s / 64] >> (s % 64) & 1;
}

static inline void set_present(const struct uffd *u, const struct awe__ewin *w, uintptr_t va,
			       bool on)
{
	size_t s = slot_of(u, w, va);
	uint64_t *word = &uwin_of(w)->present[s / 64];

	*word = on ? *word | (uint64_t)1 << (s % 64) : *word & ~((uint64_t)1 << (s % 64));
}

/* uffd_ioctl.c */
AWE__HIDDEN int awe__uffd_move(struct uffd *u, uintptr_t dst, uintptr_t src, size_t len, bool holes,
			       size_t *done);
AWE__HIDDEN int awe__uffd_wp(struct uffd *u, uintptr_t va, size_t len, bool on);
AWE__HIDDEN int awe__uffd_register(struct uffd *u, uintptr_t base, size_t len, bool wp);
AWE__HIDDEN size_t awe__uffd_fill_zero(struct uffd *u, uintptr_t dst, size_t pages);

/* uffd.c: reserve parking for a range of @pages going out (see there). */
AWE__HIDDEN size_t awe__uffd_take_run(struct uffd *u, size_t pages, uintptr_t *at);

/* uffd_move.c */
AWE__HIDDEN int awe__uffd_apply(void *e, struct awe__op *ops, size_t n, struct awe__job *job);
AWE__HIDDEN int awe__uffd_move_range(void *e, struct awe__ewin *w, uintptr_t va, uint64_t *home,
				     size_t n, bool in, struct awe__job *job);
AWE__HIDDEN int awe__uffd_job_move(void *e, struct awe__job *job);
AWE__HIDDEN int awe__uffd_job_finish(void *e, struct awe__job *job, int moved);

#endif
