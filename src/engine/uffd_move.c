/* SPDX-License-Identifier: MIT */
/*
 * The UFFDIO_MOVE engine's map, unmap and protect: requests become moves
 * between window slots and parking, logged as they happen so that a call
 * the kernel fails part of the way is rolled back, checked, and reported
 * exactly (engine.h). Small calls and whole ranges have paths of their own;
 * both may leave their kernel moves to a job the core runs without its
 * lock.
 */
#include <stdlib.h>
#include <string.h>

#include "uffd_copy.h"

/* Where the page that op @o brings in is parked. */
static uintptr_t in_src(struct uffd *u, const struct awe__op *o)
{
	if (o->old == o->new)
		return *aside_of(u, o);
	return (uintptr_t)o->home << u->sh;
}

enum { K_OUT = 1, K_IN = 2 };

/* K_OUT: op @o takes a page off its slot (an unmap or replace of a visible
 * frame, or hiding one behind AWE_PROT_NONE). K_IN: it puts a parked page
 * on its slot. Worked out once per call into o->kind: every phase asks. */
static uint8_t op_kind(const struct awe__op *o)
{
	if (o->old == o->new) {
		if (o->oldprot != AWE_PROT_NONE && o->newprot == AWE_PROT_NONE)
			return K_OUT;
		return o->oldprot == AWE_PROT_NONE && o->newprot != AWE_PROT_NONE ? K_IN : 0;
	}
	return (o->old && o->oldprot != AWE_PROT_NONE ? K_OUT : 0) | (o->new ? K_IN : 0);
}

static bool goes_out(const struct awe__op *o)
{
	return o->kind & K_OUT;
}

static bool comes_in(const struct awe__op *o)
{
	return o->kind & K_IN;
}

/* Can the bulk move that ends at @a carry on to @b, moving the empty slots in
 * between along with it? One ioctl costs about as much as moving a dozen
 * pages, so short gaps are cheaper to carry than to skip. The holes take
 * parking slots, paid from a budget so that the pages themselves always
 * find room. */
static bool out_joins(struct plan *p, const struct awe__op *a, const struct awe__op *b)
{
	struct uffd *u = p->u;
	size_t gap;

	if (a->win != b->win)
		return false;
	gap = ((b->va - a->va) >> u->sh) - 1;
	if (gap == 0)
		return true;
	if (gap > GAP_PAGES || gap > p->spare)
		return false;
	for (uintptr_t va = a->va + u->page; va < b->va; va += u->page)
		if (present_at(u, a->win, va))
			return false;
	p->spare -= gap;
	return true;
}

/* Phase 1: every page leaving its slot goes to parking, a span of slots
 * per ioctl whatever holes the span has. Each phase plans; the moves run
 * after (apply_many()). */
static int move_out(struct plan *p, const struct awe__op *ops, size_t n)
{
	struct uffd *u = p->u;
	size_t i = 0;

	while (i < n) {
		size_t first, last, pages;
		uintptr_t s;

		if (!goes_out(&ops[i])) {
			i++;
			continue;
		}
		first = last = i;
		for (i++; i < n; i++) {
			if (!goes_out(&ops[i]))
				continue;
			if (!out_joins(p, &ops[last], &ops[i]))
				break;
			last = i;
		}
		s = ops[first].va;
		pages = ((ops[last].va - s) >> u->sh) + 1;
		while (pages) {
			uintptr_t dst;
			size_t got = awe__uffd_take_run(u, pages, &dst);
			int r;

			/* Cannot happen: parking has a slot for every frame and
			 * holes are paid from the spare budget. */
			if (!got)
				return -ENOMEM;
			r = awe__uffd_plan_add(p, (struct act){ACT_MOVE, dst, s, got << u->sh, true,
							       true});
			if (r)
				return r;
			s += got << u->sh;
			pages -= got;
		}
	}
	return 0;
}

/* Phase 2: parked pages go to their slots; slots and sources both
 * consecutive move in one ioctl, which is the common "map what I allocated"
 * and "remap what I unmapped" case. With other threads running they are
 * copied instead (uffd_copy.c). */
static int move_in(struct plan *p, const struct awe__op *ops, size_t n)
{
	struct uffd *u = p->u;
	size_t i = 0, j;

	while (i < n) {
		const struct awe__arena *a;
		uintptr_t src, end;
		int r;

		if (!comes_in(&ops[i])) {
			i++;
			continue;
		}
		/* One move cannot span two arenas (two VMAs, maybe not adjacent). */
		src = in_src(u, &ops[i]);
		a = awe__park_arena(&p->u->park, src);
		end = a ? a->base + (a->npages << u->sh) : src + u->page;
		for (j = i + 1; j < n && comes_in(&ops[j]) && ops[j].win == ops[i].win; j++) {
			uintptr_t d = (j - i) << u->sh;

			if (ops[j].va != ops[i].va + d || in_src(u, &ops[j]) != src + d ||
			    src + d >= end)
				break;
		}
		r = awe__uffd_plan_add(p, (struct act){p->copy ? ACT_COPY : ACT_MOVE, ops[i].va,
						       src, (j - i) << u->sh, false, false});
		if (r)
			return r;
		i = j;
	}
	return 0;
}

/* +1: write-protect, -1: lift it, 0: nothing. Read-only is the uffd
 * write-protect bit rather than mprotect, which would split the window's VMA
 * and leave it unfit for moves. */
static int wp_change(const struct awe__op *o)
{
	if (o->old != o->new || o->oldprot == o->newprot)
		return 0;
	if (o->newprot == AWE_PROT_READ)
		return 1;
	return o->oldprot == AWE_PROT_READ && o->newprot == AWE_PROT_READWRITE ? -1 : 0;
}

/* Phase 3: read-only on and off, a run of slots per ioctl. */
static int protect(struct plan *p, const struct awe__op *ops, size_t n)
{
	struct uffd *u = p->u;
	size_t i = 0, j;

	while (i < n) {
		int w = wp_change(&ops[i]), r;

		if (!w) {
			i++;
			continue;
		}
		for (j = i + 1; j < n && wp_change(&ops[j]) == w && ops[j].win == ops[i].win &&
				ops[j].va == ops[i].va + ((j - i) << u->sh);
		     j++)
			;
		r = awe__uffd_plan_add(p, (struct act){w > 0 ? ACT_WP : ACT_UNWP, ops[i].va, 0,
						       (j - i) << u->sh, false, false});
		if (r)
			return r;
		i = j;
	}
	return 0;
}

/* Bulk moves out reserved whole spans of parking: record where each page
 * went, and give back the slots of the holes the spans carried along. The
 * log and the ops are both in address order. */
static void settle_out(struct plan *p, struct awe__op *ops, size_t n)
{
	struct uffd *u = p->u;
	struct awe__park *park = &u->park;
	size_t k = 0;

	for (size_t i = 0; i < p->nlog; i++) {
		const struct act *a = &p->log[i];
		uintptr_t next, at;

		if (!a->reserved)
			continue;
		next = a->dst;
		for (; k < n && ops[k].va < a->src + a->len; k++) {
			struct awe__op *o = &ops[k];

			if (o->va < a->src || !goes_out(o))
				continue;
			at = a->dst + (o->va - a->src);
			if (at > next)
				awe__park_release(park, next, (at - next) >> u->sh);
			next = at + u->page;
			if (o->old == o->new)
				*aside_of(u, o) = at;
			else
				o->home = at >> u->sh;
		}
		if (a->dst + a->len > next)
			awe__park_release(park, next, (a->dst + a->len - next) >> u->sh);
	}
}

/* Everything moved: record where each page is now. The parking a page came
 * in from is read before settle_out() writes where a page went out to: a
 * replace does both in one op. */
static void settle(struct plan *p, struct awe__op *ops, size_t n)
{
	struct uffd *u = p->u;
	struct awe__park *park = &u->park;
	struct span rel = {0, 0};

	for (size_t i = 0; (p->nfix || p->nin) && i < n; i++) {
		struct awe__op *o = &ops[i];

		if (comes_in(o) && p->copy) {
			awe__uffd_spare_put(u, in_src(u, o));
			if (o->old == o->new)
				*aside_of(u, o) = 0;
		} else if (comes_in(o)) {
			span_add(park, &rel, in_src(u, o), u->page);
			if (o->old == o->new)
				*aside_of(u, o) = 0; /* shown again */
		}
		/* A hidden frame leaves its window: its page is parked already. */
		if (o->old != o->new && o->old && !goes_out(o)) {
			o->home = *aside_of(u, o) >> u->sh;
			*aside_of(u, o) = 0;
		}
	}
	if (rel.n)
		awe__park_release(park, rel.start, rel.n);
	if (p->nout)
		settle_out(p, ops, n);
}

/*
 * After a failure: where the rollback left things. Each op is back as it
 * was, still done, or, for a replace whose new page had not come in,
 * emptied (its old page went to parking). A read-only page that went out
 * and came back gets its write-protection again, or stays read-write. The
 * ops are rewritten to what holds, so that the core records exactly that,
 * and the pages are recorded where they are. Returns whether everything is
 * as before the call (the failure was clean).
 */
static bool settle_failed(struct plan *p, struct awe__op *ops, size_t n, bool whole)
{
	struct uffd *u = p->u;
	size_t out = 0, in = 0, fix = 0;
	bool clean = true;

	for (size_t i = 0; i < n; i++) {
		struct awe__op *o = &ops[i];
		bool gone = !whole && goes_out(o) && awe__uffd_still_done(p, o->va, true, false);
		bool came = !whole && comes_in(o) && awe__uffd_still_done(p, o->va, false, false);
		bool after = o->old == o->new && !whole &&wp_change(o) &&
			     awe__uffd_still_done(p, o->va, false, true);

		if (o->old == o->new)
			after |= goes_out(o) ? gone : came;
		else
			after = came;
		if (!after && !gone) {
			o->new = o->old;
			o->newprot = o->oldprot;
			if (goes_out(o) && o->oldprot == AWE_PROT_READ &&
			    (AWE__INJECT_STICKY(fail_undo) ||
			     awe__uffd_wp(u, o->va, u->page, true)))
				o->newprot = AWE_PROT_READWRITE;
		} else if (!after) {
			o->new = 0; /* emptied: its old page is parked */
			o->newprot = 0;
		}
		clean &= o->old == o->new && o->newprot == o->oldprot;
		o->kind = op_kind(o);
		out += goes_out(o);
		in += comes_in(o);
		fix += o->old != o->new && (o->new || !goes_out(o));
	}
	if (clean)
		return true;
	p->nout = out;
	p->nin = in;
	p->nfix = fix;
	settle(p, ops, n);
	return false;
}

/* A window about to show a page read-only must be registered for
 * write-protection first (see setup_range), before anything changes. */
static int need_wp(struct uffd *u, const struct awe__op *ops, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		struct awe__ewin *w = ops[i].win;
		int r;

		if (uwin_of(w)->wp || wp_change(&ops[i]) <= 0)
			continue;
		r = awe__uffd_register(u, w->base, w->npages << u->sh, true);
		if (r)
			return awe__kerr(r);
		uwin_of(w)->wp = true;
	}
	return 0;
}

/* A frame about to be hidden needs its window's aside table: allocate it
 * before anything moves, so that failing to is a clean failure. */
static int need_aside(const struct awe__op *ops, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		struct uwin *uw = uwin_of(ops[i].win);

		if (ops[i].old != ops[i].new || !goes_out(&ops[i]) || uw->aside)
			continue;
		uw->aside = AWE__INJECT(fail_alloc)
				    ? NULL
				    : calloc(ops[i].win->npages, sizeof(*uw->aside));
		if (!uw->aside)
			return -ENOMEM;
	}
	return 0;
}

/* apply_one() after its move or copy: record it, or give back what it
 * took. A copy leaves its source behind as a spare (uffd_copy.c). */
AWE__HOT int awe__uffd_one_done(struct uffd *u, struct awe__op *o, uintptr_t dst, uintptr_t src,
				bool copy, int r)
{
	if (r) {
		if (!o->new)
			awe__park_put_one(&u->park, dst);
		return awe__kerr(r);
	}
	if (o->new &&copy)
		awe__uffd_spare_put(u, src);
	else if (o->new)
		awe__park_put_one(&u->park, src);
	else
		o->home = dst >> u->sh;
	return 0;
}

/* One page into an empty slot, or one visible page off its slot: the
 * scatter call of emulators and caches, where fixed costs are the cost.
 * A single move either happens or not, so there is nothing to roll back. */
AWE__HOT static int apply_one(struct uffd *u, struct awe__op *o, struct awe__job *job)
{
	uintptr_t src, dst;
	size_t done;
	bool copy = false;

	if (o->new) {
		src = (uintptr_t)o->home << u->sh;
		dst = o->va;
		copy = !o->keep && awe__uffd_copying(u) && awe__uffd_copy_room(u, 1);
	} else if (!awe__park_take_one(&u->park, &dst) &&
		   (awe__uffd_room(u, 1), !awe__park_take_one(&u->park, &dst))) {
		return -ENOMEM; /* cannot happen: parking has a slot per frame */
	} else {
		src = o->va;
	}
	if (job) {
		struct ujob *j = (struct ujob *)job;

		j->range = false;
		j->many = false;
		j->o = o;
		j->dst = dst;
		j->src = src;
		j->copy = copy;
		u->inflight += copy;
		return AWE__LATER;
	}
	return awe__uffd_one_done(u, o, dst, src, copy,
				  copy ? awe__uffd_copy(u, dst, src, u->page, false, &done)
				       : awe__uffd_move(u, dst, src, u->page, false, &done));
}

/* apply_many() after its run (@r; @stop, @done: where it failed). */
static int many_done(struct plan *p, struct awe__op *ops, size_t n, int r, size_t stop, size_t done)
{
	p->u->inflight -= p->held;
	if (!r) {
		settle(p, ops, n);
	} else {
		awe__uffd_log_cut(p, stop, done);
		r = awe__kerr(r);
		if (!settle_failed(p, ops, n, awe__uffd_rollback(p)))
			r = -ENOTRECOVERABLE;
	}
	awe__uffd_plan_end(p);
	return r;
}

/* Everything else, all-or-nothing through the move log: planned under the
 * core's lock, run without it when handed a job. Not inlined: its frame is
 * half a kilobyte of stack that apply_one() should not touch. */
static __attribute__((noinline)) int apply_many(struct uffd *u, struct awe__op *ops, size_t n,
						struct awe__job *job)
{
	struct ujob own, *j = job ? (struct ujob *)job : &own;
	struct plan *p = &j->p; /* not cleared: the small log is written before read */
	size_t out = 0, in = 0, wp = 0, fix = 0, keep = 0, holes;
	int r;

	/* Most calls only map or only unmap: skip the phases with nothing to
	 * do, which for a 512-page sweep is most of the bookkeeping. */
	for (size_t i = 0; i < n; i++) {
		uint8_t k = ops[i].kind = op_kind(&ops[i]);
		bool o = k & K_OUT;

		out += o;
		in += (k & K_IN) != 0;
		wp += ops[i].old == ops[i].new;
		keep += ops[i].keep && (k & K_IN);
		fix += ops[i].old != ops[i].new && (ops[i].new || !o);
	}
	awe__uffd_plan_start(p, u);
	/* A call with a page that must stay moves them all. */
	p->copy = in && !keep && awe__uffd_copying(u) && awe__uffd_copy_room(u, in);
	p->held = 0;
	if (out)
		awe__uffd_room(u, out);
	p->nout = out;
	p->nfix = fix;
	p->nin = in;
	/* Parking holds a slot for every frame (uffd_alloc sees to it), so at
	 * least as many are free as there are visible frames to take out.
	 * Holes may spend only what no frame will ever need: free slots
	 * beyond that belong to frames other calls may unmap meanwhile (jobs
	 * run without the lock). */
	p->spare = awe__park_free(&u->park) > out ? awe__park_free(&u->park) - out : 0;
	if (p->spare > awe__uffd_slack(u))
		p->spare = awe__uffd_slack(u);
	holes = p->spare;
	r = wp ? need_aside(ops, n) : 0;
	if (!r && wp)
		r = need_wp(u, ops, n);
	if (!r && out)
		r = move_out(p, ops, n);
	if (!r && in)
		r = move_in(p, ops, n);
	if (!r && wp)
		r = protect(p, ops, n);
	if (r) {
		awe__uffd_plan_drop(p);
		awe__uffd_plan_end(p);
		return r;
	}
	if (job) {
		/* Held until the job ends: the sources of copies, the holes. */
		p->held = (p->copy ? in : 0) + holes - p->spare;
		u->inflight += p->held;
		j->range = false;
		j->many = true;
		j->o = ops;
		j->n = n;
		return AWE__LATER;
	}
	r = awe__uffd_run(p, &j->stop, &j->done);
	return many_done(p, ops, n, r, j->stop, j->done);
}

int awe__uffd_many_done(struct ujob *j, int r)
{
	return many_done(&j->p, j->o, j->n, r, j->stop, j->done);
}

AWE__HOT int awe__uffd_apply(void *e, struct awe__op *ops, size_t n, unsigned int flags,
			     struct awe__job *job)
{
	struct uffd *u = e;

	if ((flags & AWE_UNMAP_EXCLUSIVE) && awe__uffd_copying(u)) {
		int r = awe__uffd_evict(u, ops, n);

		if (r != -EAGAIN)
			return r;
	}
	if (n == 1 && (ops->old == 0 || ops->new == 0) && ops->oldprot != AWE_PROT_READ &&
	    op_kind(ops) != 0 && ops->old != ops->new)
		return apply_one(e, ops, job);
	return apply_many(e, ops, n, job);
}
