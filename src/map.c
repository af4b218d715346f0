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

/* Room for @n ops; never a zero-size request, whose NULL would look like
 * a failure. */
static struct awe__op *ops_alloc(size_t n)
{
	return malloc((n ? n : 1) * sizeof(struct awe__op));
}

int awe_map(void *addr, size_t count, const awe_frame_t *frames)
{
	struct awe__ctx *c;
	struct awe__window *w;
	struct awe__op *ops = NULL;
	uintptr_t va;
	size_t n = 0;
	int r;

	if (count == 0)
		return 0;
	if (!addr)
		return awe__ret(-EFAULT);
	r = awe__enter(&c);
	if (r)
		return awe__ret(r);
	va = awe__page_down(c, (uintptr_t)addr);
	r = range_window(c, va, count, &w);
	if (!r && frames)
		r = claim(c, frames, count, false);
	if (r)
		goto out;
	r = -ENOMEM;
	ops = ops_alloc(frames || count < w->nmapped ? count : w->nmapped);
	if (!ops)
		goto out;
	for (size_t i = 0; i < count; i++) {
		uintptr_t s = va + (i << c->page_shift);

		if (frames)
			ops[n++] = slot_op(c, w, s, frame_key(c, frames[i]));
		else if (w->slot[awe__slot_of(c, w, s)])
			ops[n++] = slot_op(c, w, s, 0);
	}
	r = awe__commit(c, ops, n);
out:
	awe__leave();
	free(ops);
	return awe__ret(r);
}

static int op_cmp(const void *a, const void *b)
{
	const struct awe__op *x = a, *y = b;

	if (x->va != y->va)
		return x->va < y->va ? -1 : 1;
	return x->seq < y->seq ? -1 : x->seq > y->seq;
}

int awe_map_scatter(void *const *addrs, size_t count, const awe_frame_t *frames)
{
	struct awe__ctx *c;
	struct awe__op *ops = NULL;
	size_t i, n = 0;
	int r;

	if (count == 0)
		return 0;
	if (!addrs)
		return awe__ret(-EFAULT);
	r = awe__enter(&c);
	if (r)
		return awe__ret(r);
	/* Windows checks every address before it looks at any frame. */
	for (i = 0; i < count && !r; i++) {
		if (!addrs[i])
			r = -EFAULT;
		else if (!awe__window_find(c, (uintptr_t)addrs[i]))
			r = -EINVAL;
	}
	if (!r && frames)
		r = claim(c, frames, count, true);
	if (r)
		goto out;
	r = -ENOMEM;
	ops = ops_alloc(count);
	if (!ops)
		goto out;
	for (i = 0; i < count; i++) {
		uintptr_t va = awe__page_down(c, (uintptr_t)addrs[i]);

		ops[i] = slot_op(c, awe__window_find(c, va), va,
				 frames ? frame_key(c, frames[i]) : 0);
		ops[i].seq = i;
	}
	/* Applying in array order leaves each slot with its last entry, and a
	 * frame an earlier entry put there unmapped again; so keep only the last
	 * entry per slot, drop no-ops, and hand the engine address order, which
	 * is what lets it coalesce runs. */
	qsort(ops, count, sizeof(*ops), op_cmp);
	for (i = 0; i < count; i++) {
		if (i + 1 < count && ops[i + 1].va == ops[i].va)
			continue;
		if (ops[i].old || ops[i].new)
			ops[n++] = ops[i];
	}
	r = awe__commit(c, ops, n);
out:
	awe__leave();
	free(ops);
	return awe__ret(r);
}

int awe_protect(void *addr, size_t count, int prot, int *old)
{
	struct awe__ctx *c;
	struct awe__window *w;
	struct awe__op *ops = NULL;
	uintptr_t va;
	uint32_t first;
	size_t n = 0;
	int r;

	if (prot != AWE_PROT_NONE && prot != AWE_PROT_READ && prot != AWE_PROT_READWRITE)
		return awe__ret(-EINVAL);
	if (count == 0)
		return 0;
	if (!addr)
		return awe__ret(-EFAULT);
	r = awe__enter(&c);
	if (r)
		return awe__ret(r);
	va = awe__page_down(c, (uintptr_t)addr);
	r = range_window(c, va, count, &w);
	if (r)
		goto out;
	r = -ENOMEM;
	ops = ops_alloc(count < w->nmapped ? count : w->nmapped);
	if (!ops)
		goto out;
	for (size_t i = 0; i < count; i++) {
		uintptr_t s = va + (i << c->page_shift);
		uint32_t k = w->slot[awe__slot_of(c, w, s)];

		if (k && c->frames[k - 1].prot != prot) {
			ops[n] = slot_op(c, w, s, k);
			ops[n++].newprot = (uint8_t)prot;
		}
	}
	first = w->slot[awe__slot_of(c, w, va)];
	first = first ? c->frames[first - 1].prot : AWE_PROT_NONE;
	r = awe__commit(c, ops, n);
	if (!r && old)
		*old = (int)first;
out:
	awe__leave();
	free(ops);
	return awe__ret(r);
}
