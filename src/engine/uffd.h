/* SPDX-License-Identifier: MIT */
/*
 * The UFFDIO_MOVE engine's own declarations, shared by its files:
 *
 *   uffd.c        the instance, its windows and its parking: start and end,
 *                 reserve, allocate, discard, give parking back
 *   uffd_move.c   map, unmap and protect: ops become moves out, moves in
 *                 and write-protection changes, all or nothing
 *   uffd_log.c    the move log: what a call did, undone when it fails
 *   uffd_range.c  the range path, and jobs run without the core's lock
 *   uffd_copy.c   with other threads running: copy in, and drop exclusive
 *                 unmaps in batches (one TLB shootdown each)
 *   uffd_spare.c  the stale pages copies leave in parking, dropped in batches
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

struct iovec;

#define GAP_PAGES 16u  /* empty slots a bulk move may carry along */
#define SPARE_MAX 512u /* spare parking pages kept before a batch is dropped */
#define LOOK_CALLS 64u /* calls between looks at the clock (uffd_copy.c) */

struct uffd {
	int fd;
	size_t page;
	unsigned int sh;  /* page shift */
	size_t base_page; /* the system's page size */
	bool large;	  /* frames are huge pages (uffd_large.c) */
	uintptr_t stage;  /* large: where a huge page is built, 0 until needed */
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
	/* uffd_copy.c: whether other threads run, when that was last looked
	 * at; spare parking pages (taken slots holding stale copies), oldest
	 * first; a pidfd of the process for process_madvise(), or -1. */
	bool copying;
	uint32_t calls;
	uint64_t looked_ns;
	int pidfd;
	size_t inflight; /* slots held by jobs: copies' sources, holes */
	size_t nspare;
	uintptr_t spare[SPARE_MAX];
};

/* A window's engine state (awe__ewin.priv). */
struct uwin {
	/* Per slot, where the page of a frame hidden behind AWE_PROT_NONE is
	 * parked, 0 when none is; allocated when first needed. */
	uintptr_t *aside;
	bool wp; /* registered for write-protection (AWE_PROT_READ) */
};

static inline struct uwin *uwin_of(const struct awe__ewin *w)
{
	return w->priv;
}

/* The aside entry of op @o's slot: where its hidden page is parked. */
static inline uintptr_t *aside_of(const struct uffd *u, const struct awe__op *o)
{
	return &uwin_of(o->win)->aside[awe__ewin_slot(o->win, o->va, u->sh)];
}

/* Whether a page sits in the page table entry of slot @va: a frame is
 * shown there (the core's table) and not hidden (parked aside). */
static inline bool present_at(const struct uffd *u, const struct awe__ewin *w, uintptr_t va)
{
	size_t s = awe__ewin_slot(w, va, u->sh);
	const uintptr_t *aside = uwin_of(w)->aside;

	return w->slot[s] && !(aside && aside[s]);
}

/* ACT_COPY: copied in from parking (undone by dropping the slot's page). */
enum { ACT_MOVE, ACT_WP, ACT_UNWP, ACT_COPY };

struct act {
	int type;
	uintptr_t dst, src; /* ACT_WP/ACT_UNWP use dst only */
	size_t len;	    /* bytes */
	bool reserved;	    /* dst is parking reserved by this call */
	bool holes;	    /* a move out that carries empty slots along */
};

struct plan {
	struct uffd *u;
	struct act *log;
	size_t nlog, cap;
	size_t spare; /* parking slots bulk moves may spend on holes */
	size_t nout;  /* ops taking a page off its slot */
	size_t nin;   /* ops putting a parked page on its slot */
	size_t nfix;  /* ops whose frames change home other than by going out */
	bool copy;    /* pages come in by copying (uffd_copy.c) */
	size_t held;  /* of them, counted in the instance's inflight */
	struct act small_log[8];
};

/* A job (engine.h): a single page, a range, or the ops of apply_many(). */
struct ujob {
	bool range, many;
	/* single page (and apply_many()'s ops) */
	struct awe__op *o;
	uintptr_t dst, src;
	bool copy;
	/* range */
	uintptr_t va;
	uint64_t *home;
	size_t n; /* also apply_many()'s ops */
	bool in;
	size_t stop, done; /* move(): the log entry it stopped at, bytes of it */
	struct plan p;
};
_Static_assert(sizeof(struct ujob) <= sizeof(struct awe__job), "struct awe__job is too small");
_Static_assert(_Alignof(struct ujob) <= _Alignof(struct awe__job), "struct awe__job misaligned");

/* Consecutive parking slots gathered into one release. */
struct span {
	uintptr_t start;
	size_t n;
};

/* uffd_log.c */
AWE__HIDDEN void awe__uffd_plan_start(struct plan *p, struct uffd *u);
AWE__HIDDEN void awe__uffd_plan_end(struct plan *p);
/* Room for one more entry in the log, made before the action it records. */
AWE__HIDDEN int awe__uffd_log_room(struct plan *p);
/* Undo the logged actions, newest first; whether everything came back. */
AWE__HIDDEN bool awe__uffd_rollback(struct plan *p);
/* Is @va still moved by a logged action that was not undone (see there)? */
AWE__HIDDEN bool awe__uffd_still_done(const struct plan *p, uintptr_t va, bool out, bool wp);
/* A call is planned first, its actions logged in the order they are to
 * happen, then run. Add one (giving back its parking if that fails). */
AWE__HIDDEN int awe__uffd_plan_add(struct plan *p, struct act a);
/* Planning failed, nothing ran: give back the parking reserved. */
AWE__HIDDEN void awe__uffd_plan_drop(struct plan *p);
/* Run the planned actions; on failure *@stop is the one that failed and
 * *@done how many of its bytes were done. */
AWE__HIDDEN int awe__uffd_run(struct plan *p, size_t *stop, size_t *done);
/* After a failed run: keep in the log only what was done, and give back
 * the parking reserved for the rest; awe__uffd_rollback() undoes it. */
AWE__HIDDEN void awe__uffd_log_cut(struct plan *p, size_t stop, size_t done);

/* Add the parking slot @at to span @s, giving back the span so far when
 * @at does not extend it. Inline: the range path calls it per page. */
static inline void span_add(struct awe__park *park, struct span *s, uintptr_t at, size_t page)
{
	if (s->n && at == s->start + s->n * page) {
		s->n++;
		return;
	}
	if (s->n)
		awe__park_release(park, s->start, s->n);
	s->start = at;
	s->n = 1;
}

/* uffd_move.c: apply_many()'s job after its run (@r). */
AWE__HIDDEN int awe__uffd_many_done(struct ujob *j, int r);
/* uffd_move.c: a single-page call after its move (see apply_one()). */
AWE__HIDDEN int awe__uffd_one_done(struct uffd *u, struct awe__op *o, uintptr_t dst, uintptr_t src,
				   bool copy, int r);

/* uffd_spare.c: the spares uffd_copy.c leaves in parking. */
/* Keep the taken parking slot @at, which holds a stale page, as a spare. */
AWE__HIDDEN void awe__uffd_spare_put(struct uffd *u, uintptr_t at);
/* Drop spares, oldest first, until @keep are left: their pages go back to
 * the kernel in one batch and their slots are freed. */
AWE__HIDDEN void awe__uffd_spares_drop(struct uffd *u, size_t keep);
/* At least @n free parking slots, spares dropped if need be. */
AWE__HIDDEN void awe__uffd_room(struct uffd *u, size_t n);
/* uffd_spare.c: whether the page at @va is present (mincore; true when it
 * cannot tell); drop the @n pages at @at[] in as few calls as the kernel
 * allows (@iov: room for @n; @unmap: those of an unmap, which the tests'
 * fail_move reaches). */
AWE__HIDDEN bool awe__uffd_present(struct uffd *u, uintptr_t va);
AWE__HIDDEN int awe__uffd_drop(struct uffd *u, const uintptr_t *at, size_t n, struct iovec *iov,
			       bool unmap);

/* uffd_ioctl.c */
AWE__HIDDEN int awe__uffd_copy(struct uffd *u, uintptr_t dst, uintptr_t src, size_t len, bool wp,
			       size_t *done);
AWE__HIDDEN int awe__uffd_move(struct uffd *u, uintptr_t dst, uintptr_t src, size_t len, bool holes,
			       size_t *done);
AWE__HIDDEN int awe__uffd_wp(struct uffd *u, uintptr_t va, size_t len, bool on);
AWE__HIDDEN int awe__uffd_register(struct uffd *u, uintptr_t base, size_t len, bool wp);
AWE__HIDDEN size_t awe__uffd_fill_zero(struct uffd *u, uintptr_t dst, size_t pages);

/* uffd.c: grow parking for spares and @n pages more (see there). */
AWE__HIDDEN void awe__uffd_headroom(struct uffd *u, size_t n);
/* uffd.c: reserve parking for a range of @pages going out (see there). */
AWE__HIDDEN size_t awe__uffd_take_run(struct uffd *u, size_t pages, uintptr_t *at);

/* uffd_move.c, uffd_range.c: the engine's apply(), move_range(), move()
 * and finish(). */
AWE__HIDDEN int awe__uffd_apply(void *e, struct awe__op *ops, size_t n, unsigned int flags,
				struct awe__job *job);
AWE__HIDDEN int awe__uffd_move_range(void *e, uintptr_t va, uint64_t *home, size_t n, bool in,
				     unsigned int flags, struct awe__job *job);
AWE__HIDDEN int awe__uffd_job_move(void *e, struct awe__job *job);
AWE__HIDDEN int awe__uffd_job_finish(void *e, struct awe__job *job, int moved);

/* uffd_large.c: large frames. Give the empty parking slots [dst, dst +
 * pages) a zeroed huge page each; returns how many got one, a prefix. */
AWE__HIDDEN size_t awe__uffd_fill_large(struct uffd *u, uintptr_t dst, size_t pages);
/* Make the stage, once: it is locked like parking, so it comes before
 * parking is sized to what RLIMIT_MEMLOCK still allows. */
AWE__HIDDEN int awe__uffd_stage(struct uffd *u);
AWE__HIDDEN void awe__uffd_large_fini(struct uffd *u);
/* Prepare a fresh range as setup_range() does (uffd.c). */
AWE__HIDDEN int awe__uffd_setup_range(struct uffd *u, uintptr_t base, size_t len);

#endif
