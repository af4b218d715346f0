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
#include "uaddr.h"

/* Frames claimed by ops carry a mark until the call ends. */
AWE__HOT static void unmark(struct awe__ctx *c, const struct awe__op *ops, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (ops[i].new &&ops[i].new != ops[i].old)
			c->frames[ops[i].new - 1].mark = 0;
}

AWE__HOT int awe__commit(struct awe__ctx *c, struct awe__op *ops, size_t n)
{
	struct awe__eng *e = n ? ops[0].win->eng : NULL;
	int r = n ? e->ops->apply(c, e->data, ops, n) : 0;

	/* -ENOTRECOVERABLE: the engine could not undo all of a failed call and
	 * rewrote the ops to what holds (engine.h); that is recorded too. */
	if (r && r != -ENOTRECOVERABLE) {
		unmark(c, ops, n);
		return r;
	}
	/* The engine has recorded where each page is (loc); the rest is ours.
	 * Locals, because frame stores could alias the counters and the
	 * compiler would reload them on every op of a 512-page call. */
	struct awe__frame *fr = c->frames;
	struct awe__window *w = NULL;
	int64_t delta = 0, wdelta = 0;

	for (size_t i = 0; i < n; i++) {
		struct awe__op *o = &ops[i];
		struct awe__frame f;

		if (o->win->sprot) {
			/* Section windows: the protection is the slot's, and a
			 * frame may be shown in several places. */
			size_t s = awe__slot_of(c, o->win, o->va);

			o->win->sprot[s] = o->newprot;
			if (o->old != o->new) {
				o->win->slot[s] = o->new;
				o->win->nmapped += (size_t)(!!o->new - !!o->old);
				delta += !!o->new - !!o->old;
			}
			continue;
		}
		if (o->old == o->new) {
			fr[o->old - 1].prot = o->newprot;
			continue;
		}
		if (o->win != w) {
			if (w)
				w->nmapped += (size_t)wdelta;
			delta += wdelta;
			wdelta = 0;
			w = o->win;
		}
		if (o->old) {
			f = fr[o->old - 1];
			f.mapped = 0;
			f.prot = 0;
			fr[o->old - 1] = f;
			wdelta--;
		}
		w->slot[awe__slot_of(c, w, o->va)] = o->new;
		if (o->new) {
			f = fr[o->new - 1];
			f.mapped = 1;
			f.mark = 0;
			f.prot = AWE_PROT_READWRITE;
			fr[o->new - 1] = f;
			wdelta++;
		}
	}
	if (w)
		w->nmapped += (size_t)wdelta;
	delta += wdelta;
	c->mapped += (uint64_t)delta;
	return r;
}

static int op_cmp(const void *a, const void *b);

int awe__unmap_frames(struct awe__ctx *c, const uint32_t *idx, size_t n)
{
	struct awe__op *ops;
	size_t k = 0;
	int r;

	for (size_t i = 0; i < n; i++)
		k += c->frames[idx[i]].mapped;
	if (!k)
		return 0;
	ops = awe__inject(&awe__test_fail_alloc) ? NULL : malloc(k * sizeof(*ops));
	if (!ops)
		return -ENOMEM;
	k = 0;
	for (size_t i = 0; i < n; i++) {
		const struct awe__frame *f = &c->frames[idx[i]];
		uintptr_t va = awe__frame_va(c, f);

		if (f->mapped)
			ops[k++] = (struct awe__op){
				.va = va,
				.win = awe__window_find(c, va),
				.old = idx[i] + 1,
				.oldprot = f->prot,
			};
	}
	qsort(ops, k, sizeof(*ops), op_cmp);
	r = awe__commit(c, ops, k);
	free(ops);
	return r;
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

/* Claim @frame for op @o: it must be an owned frame this window can show,
 * unmapped and not yet claimed by this call. Frames are marked so that a
 * duplicate is seen; on failure the caller unmarks what it claimed, on
 * success awe__commit() clears the marks. A section frame may be shown at
 * several slots, even by one call, so it is not marked. @zero_ok: 0 means
 * "unmap" (scatter). */
AWE__HOT static int claim_one(struct awe__ctx *c, struct awe__op *o, awe_frame_t frame,
			      bool zero_ok)
{
	struct awe__frame *f;
	uint32_t k;

	o->new = 0;
	o->newprot = 0;
	if (zero_ok && frame == 0)
		return 0;
	f = awe__frame_get(c, frame, &k);
	if (!f || f->sec != (o->win->sec != NULL) || (f->sec && f->loc != o->win->sec->id))
		return -ENOENT;
	o->new = k + 1;
	o->newprot = AWE_PROT_READWRITE;
	if (f->sec)
		return 0;
	if (f->mapped || f->mark)
		return -EBUSY;
	f->mark = 1;
	return 0;
}

/* An op for slot @va of @w, taking off whatever is there; returns that. */
AWE__HOT static uint32_t slot_op(struct awe__ctx *c, struct awe__op *o, struct awe__window *w,
				 uintptr_t va)
{
	uint32_t old = w->slot[awe__slot_of(c, w, va)];

	o->va = va;
	o->win = w;
	o->old = old;
	o->oldprot = old ? (uint8_t)awe__slot_prot(c, w, awe__slot_of(c, w, va)) : 0;
	o->new = 0;
	o->newprot = 0;
	return old;
}

#define SMALL_OPS 8

/* One map, scatter or protect request. */
struct req {
	uintptr_t va;	    /* awe_map(), awe_protect() */
	void *const *addrs; /* awe_map_scatter() */
	size_t count;
	const awe_frame_t *frames;
	int prot;
	int first; /* awe_protect(): the first slot's protection before the call */
	/* Most calls change a slot or a few: no malloc for them. Left
	 * uninitialised: clearing it would cost more than the call's own work. */
	struct awe__op *small;
	bool done; /* the planner carried the request out itself */
};

/* Turn a request into ops in *@ops (allocated; address order, one per slot)
 * after checking it, or fail without having changed anything. */
typedef int planner(struct awe__ctx *c, struct req *q, struct awe__op **ops, size_t *n);

/* Room for @n ops: the request's own array when it fits. */
static struct awe__op *ops_alloc(struct req *q, size_t n)
{
	if (n <= SMALL_OPS)
		return q->small;
	return awe__inject(&awe__test_fail_alloc) ? NULL : malloc(n * sizeof(struct awe__op));
}

/* A planner's "a window it needs is busy": wait and plan again. */
#define WAIT_BUSY 1

/* Plan under the lock, then let the engine carry it out. Map calls (@map)
 * run beside other threads' map calls in other windows (ctx.c). */
AWE__HOT static int run(planner *plan, struct req *q, bool map)
{
	struct awe__op small[SMALL_OPS];
	struct awe__ctx *c;
	struct awe__op *ops = NULL;
	size_t n = 0;
	int r = map ? awe__enter_map(&c) : awe__enter(&c);

	if (r)
		return awe__ret(r);
	q->small = small;
	while ((r = plan(c, q, &ops, &n)) == WAIT_BUSY) {
		if (ops != small)
			free(ops);
		ops = NULL;
		n = 0;
		awe__wait_moves();
	}
	if (!r && !q->done)
		r = awe__commit(c, ops, n);
	awe__leave();
	if (ops != small)
		free(ops);
	return awe__ret(r);
}

/* Ranges this long take the engine's range path when they qualify. */
#define RANGE_MIN 16
#define RANGE_STACK 512

/*
 * awe_map() of a whole range in the common shapes: frames into empty slots,
 * or every slot of a fully mapped read-write range emptied. Each page then
 * costs one pass to check and one to record, where the op path spends five
 * (plan, classify, move, settle, commit) on a 512-page sweep. Anything else,
 * errors included, returns -EAGAIN before changing anything, and the op path
 * handles it: so this path never decides an error code.
 */
static int map_range(struct awe__ctx *c, struct req *q, struct awe__window *w, uintptr_t va)
{
	uint32_t small[RANGE_STACK], *idx = small;
	size_t s = awe__slot_of(c, w, va), i, moved = 0;
	bool in = q->frames != NULL;
	int r = -EAGAIN;

	if (w->sec || !w->eng->ops->move_range || q->count < RANGE_MIN || q->count > UINT32_MAX)
		return -EAGAIN;
	if (q->count > RANGE_STACK && !(idx = malloc(q->count * sizeof(*idx))))
		return -EAGAIN;
	for (i = 0; i < q->count; i++) {
		struct awe__frame *f;
		uint32_t k = w->slot[s + i];

		if (in) {
			/* Marked, as claim_one() does, so that a duplicate shows. */
			f = k ? NULL : awe__frame_get(c, q->frames[i], &idx[i]);
			if (!f || f->sec || f->mapped || f->mark)
				break;
			f->mark = 1;
		} else {
			if (!k || c->frames[k - 1].prot != AWE_PROT_READWRITE)
				break;
			idx[i] = k - 1;
		}
	}
	if (i == q->count)
		r = w->eng->ops->move_range(c, w->eng->data, w, va, idx, q->count, in);
	if (r && r != -ENOTRECOVERABLE) {
		for (size_t j = 0; in && j < i; j++)
			c->frames[idx[j]].mark = 0;
		goto out;
	}
	/* A rollback the kernel refused in part left some frames moved: the
	 * engine recorded where every page is, and a page is moved when its
	 * frame's loc is (in) or is no longer (out) its slot. */
	for (i = 0; i < q->count; i++) {
		struct awe__frame f = c->frames[idx[i]];

		f.mark = 0;
		if (!r || (f.loc == (va >> c->page_shift) + i) == in) {
			f.mapped = in;
			f.prot = in ? AWE_PROT_READWRITE : 0;
			w->slot[s + i] = in ? idx[i] + 1 : 0;
			moved++;
		}
		c->frames[idx[i]] = f;
	}
	/* Locals until here: frame stores could alias the counters. */
	w->nmapped = in ? w->nmapped + moved : w->nmapped - moved;
	c->mapped = in ? c->mapped + moved : c->mapped - moved;
	q->done = true;
out:
	if (idx != small)
		free(idx);
	return r;
}

static int plan_map(struct awe__ctx *c, struct req *q, struct awe__op **ops, size_t *n)
{
	uintptr_t va = awe__page_down(c, q->va);
	struct awe__window *w;
	int r = range_window(c, va, q->count, &w);

	if (r)
		return r;
	if (q->frames && !awe__ptr_ok(q->frames, q->count, sizeof(*q->frames)))
		return -EFAULT;
	if (w->busy)
		return WAIT_BUSY;
	r = map_range(c, q, w, va);
	if (r != -EAGAIN)
		return r;
	/* An unmap needs an op only per mapped slot. */
	*ops = ops_alloc(q, q->frames || q->count < w->nmapped ? q->count : w->nmapped);
	if (!*ops)
		return -ENOMEM;
	if (!q->frames) {
		size_t s = awe__slot_of(c, w, va);

		for (size_t i = 0; i < q->count; i++)
			if (w->slot[s + i])
				slot_op(c, &(*ops)[(*n)++], w, va + (i << c->page_shift));
		return 0;
	}
	for (size_t i = 0; i < q->count; i++) {
		slot_op(c, &(*ops)[i], w, va + (i << c->page_shift));
		r = claim_one(c, &(*ops)[i], q->frames[i], false);
		if (r) {
			unmark(c, *ops, i);
			return r;
		}
	}
	*n = q->count;
	return 0;
}

int awe_map(void *addr, size_t count, const awe_frame_t *frames)
{
	struct req q = {.va = (uintptr_t)addr, .count = count, .frames = frames};

	if (count == 0)
		return 0;
	if (!addr)
		return awe__ret(-EFAULT);
	return run(plan_map, &q, true);
}

static int op_cmp(const void *a, const void *b)
{
	const struct awe__op *x = a, *y = b;

	if (x->va != y->va)
		return x->va < y->va ? -1 : 1;
	return x->seq < y->seq ? -1 : x->seq > y->seq;
}

AWE__HOT static int plan_scatter(struct awe__ctx *c, struct req *q, struct awe__op **ops, size_t *n)
{
	uint32_t old0 = 0; /* the last slot's frame: the only one when count is 1 */
	size_t i;
	int r;

	/* Here, with libawe started: the hot path spares the once check. */
	if (!awe__uaddr_array_ok(q->addrs, q->count, sizeof(*q->addrs)) ||
	    (q->frames && !awe__uaddr_array_ok(q->frames, q->count, sizeof(*q->frames))))
		return -EFAULT;
	*ops = ops_alloc(q, q->count);
	if (!*ops)
		return -ENOMEM;
	/* Windows checks every address before it looks at any frame. */
	for (i = 0; i < q->count; i++) {
		uintptr_t va = awe__page_down(c, (uintptr_t)q->addrs[i]);
		struct awe__window *w;

		if (q->frames)
			awe__frame_prefetch(c, q->frames[i]);
		if (!q->addrs[i])
			return -EFAULT;
		w = awe__window_find(c, va);
		/* One engine instance per call: section windows and plain ones
		 * cannot be changed all-or-nothing together. */
		if (!w || (i && w->eng != (*ops)[0].win->eng))
			return -EINVAL;
		if (w->busy)
			return WAIT_BUSY;
		old0 = slot_op(c, &(*ops)[i], w, va);
		(*ops)[i].seq = (uint32_t)i;
	}
	for (i = 0; q->frames && i < q->count; i++) {
		r = claim_one(c, &(*ops)[i], q->frames[i], true);
		if (r) {
			unmark(c, *ops, i);
			return r;
		}
	}
	if (q->count == 1) {
		/* Not from the op: its old and new were stored apart, and one
		 * load of both would wait for the stores to reach the cache. */
		*n = old0 || (q->frames && q->frames[0]);
		return 0;
	}
	/* Applying in array order leaves each slot with its last entry, and a
	 * frame an earlier entry put there unmapped again; so keep only the last
	 * entry per slot, drop no-ops, and hand the engine address order, which
	 * is what lets it coalesce runs. */
	qsort(*ops, q->count, sizeof(**ops), op_cmp);
	for (i = 0; i < q->count; i++) {
		struct awe__op *o = &(*ops)[i];

		if (i + 1 < q->count && o[1].va == o->va) {
			unmark(c, o, 1);
			continue;
		}
		if (o->old || o->new)
			(*ops)[(*n)++] = *o;
	}
	return 0;
}

AWE__HOT int awe_map_scatter(void *const *addrs, size_t count, const awe_frame_t *frames)
{
	struct req q = {.addrs = addrs, .count = count, .frames = frames};

	if (count == 0)
		return 0;
	/* 2^32 addresses would be 32 GiB of them; the ops' seq is 32 bits. */
	if (count > UINT32_MAX)
		return awe__ret(-EINVAL);
	return run(plan_scatter, &q, true);
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

		if (k && awe__slot_prot(c, w, awe__slot_of(c, w, s)) != q->prot) {
			struct awe__op *o = &(*ops)[(*n)++];

			slot_op(c, o, w, s);
			o->new = k;
			o->newprot = (uint8_t)q->prot;
		}
	}
	first = w->slot[awe__slot_of(c, w, va)];
	q->first = first ? awe__slot_prot(c, w, awe__slot_of(c, w, va)) : AWE_PROT_NONE;
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
	if (!addr || (old && !awe__ptr_ok(old, 1, sizeof(*old))))
		return awe__ret(-EFAULT);
	r = run(plan_protect, &q, false);
	/* Reported only on success: a failed call leaves everything alone. */
	if (!r && old)
		*old = q.first;
	return r;
}
