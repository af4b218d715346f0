/* SPDX-License-Identifier: MIT */
/*
 * Map, scatter and protect: check every argument, turn the request into one
 * op per changed slot, let the engine carry it out all-or-nothing, then
 * update the tables.
 */
#include <errno.h>
#include <stdlib.h>

#include "engine.h"
#include "internal.h"

int awe__commit(struct awe__ctx *c, struct awe__op *ops, size_t n)
{
	int r = n ? c->eng->apply(c, ops, n) : 0;

	if (r)
		return r;
	for (size_t i = 0; i < n; i++) {
		struct awe__op *o = &ops[i];
		uint32_t *slot = &o->win->slot[awe__slot_of(c, o->win, o->va)];

		if (o->old == o->new) {
			c->frames[o->old - 1].prot = o->newprot;
			continue;
		}
		if (o->old) {
			c->frames[o->old - 1].va = 0;
			c->frames[o->old - 1].prot = 0;
			o->win->nmapped--;
			c->mapped--;
		}
		*slot = o->new;
		if (o->new) {
			c->frames[o->new - 1].va = o->va;
			c->frames[o->new - 1].prot = AWE_PROT_READWRITE;
			o->win->nmapped++;
			c->mapped++;
		}
	}
	return 0;
}

/* Find the window holding [va, va + count pages). */
static int range_window(struct awe__ctx *c, uintptr_t va, size_t count, struct awe__window **out)
{
	struct awe__window *w = awe__window_find(c, va);

	if (!w || count > w->npages - awe__slot_of(c, w, va))
		return -EINVAL;
	*out = w;
	return 0;
}

static void unmark(struct awe__ctx *c, const awe_frame_t *frames, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		struct awe__frame *f = awe__frame_get(c, frames[i], NULL);

		if (f)
			f->mark = 0;
	}
}

/* The claim pass: every non-zero entry must be an owned, unmapped frame,
 * listed once. Frames are marked while checked so that a duplicate is seen;
 * the marks are gone again on return. @zero_ok: 0 means "unmap" (scatter). */
static int claim(struct awe__ctx *c, const awe_frame_t *frames, size_t n, bool zero_ok)
{
	size_t i;
	int r = 0;

	for (i = 0; i < n; i++) {
		struct awe__frame *f;

		if (zero_ok && frames[i] == 0)
			continue;
		f = awe__frame_get(c, frames[i], NULL);
		if (!f) {
			r = -ENOENT;
			break;
		}
		if (f->va || f->mark) {
			r = -EBUSY;
			break;
		}
		f->mark = 1;
	}
	unmark(c, frames, i);
	return r;
}

static uint32_t frame_key(struct awe__ctx *c, awe_frame_t f)
{
	uint32_t k;

	return f && awe__frame_get(c, f, &k) ? k + 1 : 0;
}

static struct awe__op slot_op(struct awe__ctx *c, struct awe__window *w, uintptr_t va, uint32_t new)
{
	uint32_t old = w->slot[awe__slot_of(c, w, va)];

	return (struct awe__op){
		.va = va,
		.win = w,
		.old = old,
		.new = new,
		.oldprot = old ? c->frames[old - 1].prot : 0,
		.newprot = new ? AWE_PROT_READWRITE : 0,
	};
}

/* One map, scatter or protect request. */
struct req {
	uintptr_t va;	    /* awe_map(), awe_protect() */
	void *const *addrs; /* awe_map_scatter() */
	size_t count;
	const awe_frame_t *frames;
	int prot;
	int first; /* awe_protect(): the first slot's protection before the call */
	/* Most calls change a slot or a few: no malloc for them. */
	struct awe__op small[8];
};

/* Turn a request into ops in *@ops (allocated; address order, one per slot)
 * after checking it, or fail without having changed anything. */
typedef int planner(struct awe__ctx *c, struct req *q, struct awe__op **ops, size_t *n);

/* Room for @n ops: the request's own array when it fits. */
static struct awe__op *ops_alloc(struct req *q, size_t n)
{
	if (n <= sizeof(q->small) / sizeof(q->small[0]))
		return q->small;
	return malloc(n * sizeof(struct awe__op));
}

/* Plan under the lock, then let the engine carry it out. */
static int run(planner *plan, struct req *q)
{
	struct awe__ctx *c;
	struct awe__op *ops = NULL;
	size_t n = 0;
	int r = awe__enter(&c);

	if (r)
		return awe__ret(r);
	r = plan(c, q, &ops, &n);
	if (!r)
		r = awe__commit(c, ops, n);
	awe__leave();
	if (ops != q->small)
		free(ops);
	return awe__ret(r);
}

static int plan_map(struct awe__ctx *c, struct req *q, struct awe__op **ops, size_t *n)
{
	uintptr_t va = awe__page_down(c, q->va);
	struct awe__window *w;
	int r = range_window(c, va, q->count, &w);

	if (!r && q->frames)
		r = claim(c, q->frames, q->count, false);
	if (r)
		return r;
	/* An unmap needs an op only per mapped slot. */
	*ops = ops_alloc(q, q->frames || q->count < w->nmapped ? q->count : w->nmapped);
	if (!*ops)
		return -ENOMEM;
	for (size_t i = 0; i < q->count; i++) {
		uintptr_t s = va + (i << c->page_shift);

		if (q->frames)
			(*ops)[(*n)++] = slot_op(c, w, s, frame_key(c, q->frames[i]));
		else if (w->slot[awe__slot_of(c, w, s)])
			(*ops)[(*n)++] = slot_op(c, w, s, 0);
	}
	return 0;
}

int awe_map(void *addr, size_t count, const awe_frame_t *frames)
{
	struct req q = {.va = (uintptr_t)addr, .count = count, .frames = frames};

	if (count == 0)
		return 0;
	if (!addr)
		return awe__ret(-EFAULT);
	return run(plan_map, &q);
}

static int op_cmp(const void *a, const void *b)
{
	const struct awe__op *x = a, *y = b;

	if (x->va != y->va)
		return x->va < y->va ? -1 : 1;
	return x->seq < y->seq ? -1 : x->seq > y->seq;
}

static int plan_scatter(struct awe__ctx *c, struct req *q, struct awe__op **ops, size_t *n)
{
	size_t i;

	/* Windows checks every address before it looks at any frame. */
	for (i = 0; i < q->count; i++) {
		if (!q->addrs[i])
			return -EFAULT;
		if (!awe__window_find(c, (uintptr_t)q->addrs[i]))
			return -EINVAL;
	}
	if (q->frames) {
		int r = claim(c, q->frames, q->count, true);

		if (r)
			return r;
	}
	*ops = ops_alloc(q, q->count);
	if (!*ops)
		return -ENOMEM;
	for (i = 0; i < q->count; i++) {
		uintptr_t va = awe__page_down(c, (uintptr_t)q->addrs[i]);

		(*ops)[i] = slot_op(c, awe__window_find(c, va), va,
				    q->frames ? frame_key(c, q->frames[i]) : 0);
		(*ops)[i].seq = i;
	}
	/* Applying in array order leaves each slot with its last entry, and a
	 * frame an earlier entry put there unmapped again; so keep only the last
	 * entry per slot, drop no-ops, and hand the engine address order, which
	 * is what lets it coalesce runs. */
	qsort(*ops, q->count, sizeof(**ops), op_cmp);
	for (i = 0; i < q->count; i++) {
		struct awe__op *o = &(*ops)[i];

		if (i + 1 < q->count && o[1].va == o->va)
			continue;
		if (o->old || o->new)
			(*ops)[(*n)++] = *o;
	}
	return 0;
}

int awe_map_scatter(void *const *addrs, size_t count, const awe_frame_t *frames)
{
	struct req q = {.addrs = addrs, .count = count, .frames = frames};

	if (count == 0)
		return 0;
	if (!addrs)
		return awe__ret(-EFAULT);
	return run(plan_scatter, &q);
}

static int plan_protect(struct awe__ctx *c, struct req *q, struct awe__op **ops, size_t *n)
{
	uintptr_t va = awe__page_down(c, q->va);
	struct awe__window *w;
	uint32_t first;
	int r = range_window(c, va, q->count, &w);

	if (r)
		return r;
	*ops = ops_alloc(q, q->count < w->nmapped ? q->count : w->nmapped);
	if (!*ops)
		return -ENOMEM;
	for (size_t i = 0; i < q->count; i++) {
		uintptr_t s = va + (i << c->page_shift);
		uint32_t k = w->slot[awe__slot_of(c, w, s)];

		if (k && c->frames[k - 1].prot != q->prot) {
			(*ops)[*n] = slot_op(c, w, s, k);
			(*ops)[(*n)++].newprot = (uint8_t)q->prot;
		}
	}
	first = w->slot[awe__slot_of(c, w, va)];
	q->first = first ? c->frames[first - 1].prot : AWE_PROT_NONE;
	return 0;
}

int awe_protect(void *addr, size_t count, int prot, int *old)
{
	struct req q = {.va = (uintptr_t)addr, .count = count, .prot = prot};
	int r;

	if (prot != AWE_PROT_NONE && prot != AWE_PROT_READ && prot != AWE_PROT_READWRITE)
		return awe__ret(-EINVAL);
	if (count == 0)
		return 0;
	if (!addr)
		return awe__ret(-EFAULT);
	r = run(plan_protect, &q);
	/* Reported only on success: a failed call leaves everything alone. */
	if (!r && old)
		*old = q.first;
	return r;
}
