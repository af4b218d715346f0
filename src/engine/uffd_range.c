/* SPDX-License-Identifier: MIT */
/*
 * The UFFDIO_MOVE engine's range path and its jobs: a whole range of a
 * window mapped or unmapped in as few moves as parking allows, planned
 * under the core's lock and, when other threads wait, moved without it
 * (engine.h, struct awe__job).
 */
#include "uffd.h"

/* The range path after a rollback the kernel refused in part: the pages
 * that did not come back are where the log says. In, such a page is at its
 * slot and its parking slot is free; out, it is in the parking its move
 * reserved. home[] says which moved (engine.h). */
static void range_settle_failed(struct plan *p, uintptr_t va, uint64_t *home, bool in)
{
	struct uffd *u = p->u;
	unsigned int sh = u->sh;

	for (size_t l = 0; l < p->nlog; l++) {
		const struct act *a = &p->log[l];

		for (size_t m = 0; m < a->len >> sh; m++) {
			uintptr_t slot = (in ? a->dst : a->src) + (m << sh);
			uint64_t *h = &home[(slot - va) >> sh];

			if (in) {
				awe__park_release(&u->park, a->src + (m << sh), 1);
				*h = slot >> sh;
			} else {
				*h = (a->dst >> sh) + m;
			}
		}
	}
}

/* The range path after its moves (@r: how they went; @stop, @done: the log
 * entry they stopped at and how much of it moved). */
static int range_done(struct ujob *j, int r)
{
	struct plan *p = &j->p;
	struct uffd *u = p->u;
	unsigned int sh = u->sh;
	size_t k = 0;

	if (r) {
		awe__uffd_log_cut(p, j->stop, j->done);
		r = awe__kerr(r);
		if (!awe__uffd_rollback(p)) {
			range_settle_failed(p, j->va, j->home, j->in);
			r = -ENOTRECOVERABLE;
		}
	} else if (j->in) {
		struct span rel = {0, 0};

		for (size_t i = 0; i < j->n; i++)
			span_add(&u->park, &rel, (uintptr_t)j->home[i] << sh, u->page);
		if (rel.n)
			awe__park_release(&u->park, rel.start, rel.n);
	} else {
		/* The log holds the parking runs, in the range's order. */
		for (size_t l = 0; l < p->nlog; l++)
			for (size_t m = 0; m < p->log[l].len >> sh; m++)
				j->home[k++] = (p->log[l].dst >> sh) + m;
	}
	awe__uffd_plan_end(p);
	return r;
}

/* The range path (engine.h). In: each run of pages parked at consecutive
 * slots of one arena moves in one ioctl, as move_in() would; out: the range
 * goes to as few parking runs as parking has. The runs are planned here,
 * under the core's lock; with a job, the core runs the moves without it. */
int awe__uffd_move_range(void *e, uintptr_t va, uint64_t *home, size_t n, bool in,
			 unsigned int flags, struct awe__job *job)
{
	/* A range goes out a 2 MiB span per move and shootdown already:
	 * AWE_UNMAP_EXCLUSIVE has nothing to save here. */
	(void)flags;
	struct uffd *u = e;
	struct ujob own, *j = job ? (struct ujob *)job : &own;
	struct plan *p = &j->p;
	unsigned int sh = u->sh;
	size_t i, k;
	int r = 0;

	awe__uffd_plan_start(p, u);
	if (!in)
		awe__uffd_room(u, n);
	for (i = 0; !r && i < n; i = k) {
		struct act a = {ACT_MOVE, 0, 0, 0, !in, false};
		const struct awe__arena *ar;
		uintptr_t end;

		if (!in) {
			k = i + awe__uffd_take_run(u, n - i, &a.dst);
			a.src = va + (i << sh);
			/* Cannot fail: parking has a slot for every frame. */
			if (k == i) {
				r = -ENOMEM;
				break;
			}
		} else {
			a.dst = va + (i << sh);
			a.src = (uintptr_t)home[i] << sh;
			ar = awe__park_arena(&u->park, a.src);
			end = ar ? ar->base + (ar->npages << sh) : a.src + u->page;
			for (k = i + 1; k < n; k++) {
				uintptr_t next = a.src + ((k - i) << sh);

				if (next >= end || ((uintptr_t)home[k] << sh) != next)
					break;
			}
		}
		a.len = (k - i) << sh;
		r = awe__uffd_log_room(p);
		if (r && a.reserved)
			awe__park_release(&u->park, a.dst, k - i);
		if (!r)
			p->log[p->nlog++] = a;
	}
	if (r) {
		/* Nothing moved yet: give back what was reserved, and nothing
		 * to undo (undoing moves that never happened would move pages
		 * that are not ours to move). */
		awe__uffd_plan_drop(p);
		awe__uffd_plan_end(p);
		return r;
	}
	j->range = true;
	j->many = false;
	j->va = va;
	j->home = home;
	j->n = n;
	j->in = in;
	if (job)
		return AWE__LATER;
	return range_done(j, awe__uffd_run(p, &j->stop, &j->done));
}

AWE__HOT int awe__uffd_job_move(void *e, struct awe__job *job)
{
	struct ujob *j = (struct ujob *)job;
	size_t done;

	if (j->range || j->many)
		return awe__uffd_run(&j->p, &j->stop, &j->done);
	if (j->copy)
		return awe__uffd_copy(e, j->dst, j->src, ((struct uffd *)e)->page, false, &done);
	return awe__uffd_move(e, j->dst, j->src, ((struct uffd *)e)->page, false, &done);
}

AWE__HOT int awe__uffd_job_finish(void *e, struct awe__job *job, int moved)
{
	struct ujob *j = (struct ujob *)job;

	if (j->range)
		return range_done(j, moved);
	if (j->many)
		return awe__uffd_many_done(j, moved);
	((struct uffd *)e)->inflight -= j->copy;
	return awe__uffd_one_done(e, j->o, j->dst, j->src, j->copy, moved);
}
