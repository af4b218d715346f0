/* SPDX-License-Identifier: MIT */
/*
 * Slot changes: map, scatter and protect check every argument, turn the
 * request into one op per changed slot (or a whole range), let the engine
 * carry it out all or nothing, then record what it reports. The one place
 * the core lets go of its lock: while an engine's job moves pages, its
 * window is busy and every other call waits or works elsewhere.
 */
#include <errno.h>
#include <stdlib.h>

#include "internal.h"
#include "uaddr.h"

/* Frames claimed by ops carry a mark until the call ends. */
AWE__HOT static void unmark(struct awe__ctx *c, const struct awe__op *ops, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (ops[i].claim)
			c->frames[ops[i].claim - 1].mark = 0;
}

/* Mark the windows of @ops (sorted by address, so each window's ops are
 * together) busy, @d = 1, or no longer, @d = -1. */
static void busy(const struct awe__op *ops, size_t n, int d)
{
	for (size_t i = 0; i < n; i++)
		if (!i || ops[i].win != ops[i - 1].win)
			awe__window_of(ops[i].win)->busy += d;
}

/* An engine's job (engine.h): its moves without the lock, the windows it
 * changes (those of @ops, or @w) busy meanwhile; waiting calls are woken
 * after. */
AWE__HOT static int run_job(struct awe__ctx *c, struct awe__eng *e, struct awe__window *w,
			    const struct awe__op *ops, size_t n, struct awe__job *job)
{
	int moved;

	if (ops)
		busy(ops, n, 1);
	else
		w->busy++;
	c->moving++;
	awe__unlock();
	awe__hook(AWE__HOOK_MOVING);
	moved = e->ops->move(e->data, job);
	awe__lock();
	if (ops)
		busy(ops, n, -1);
	else
		w->busy--;
	c->moving--;
	awe__lock_wake_all();
	return e->ops->finish(e->data, job, moved);
}

/* apply() with a job, for when other threads wait. Apart, so that the job's
 * space is not on the stack of the single-threaded path (see AWE__HOT). */
AWE__HOT static __attribute__((noinline)) int apply_shared(struct awe__ctx *c, struct awe__eng *e,
							   struct awe__op *ops, size_t n,
							   unsigned int flags)
{
	struct awe__job job;
	int r = e->ops->apply(e->data, ops, n, flags, &job);

	return r == AWE__LATER ? run_job(c, e, NULL, ops, n, &job) : r;
}

/* Apply validated ops, then update the tables. */
AWE__HOT static int commit(struct awe__ctx *c, struct awe__op *ops, size_t n, unsigned int flags)
{
	struct awe__eng *e = n ? awe__window_of(ops[0].win)->eng : NULL;
	int r = !n		     ? 0
		: awe__lock_shared() ? apply_shared(c, e, ops, n, flags)
				     : e->ops->apply(e->data, ops, n, flags, NULL);

	/* The claims of a failed call go. -ENOTRECOVERABLE: the engine could
	 * not undo all of it and rewrote the ops to what holds (engine.h); that
	 * is recorded too. */
	if (r)
		unmark(c, ops, n);
	if (r && r != -ENOTRECOVERABLE)
		return r;
	/* Locals, because frame stores could alias the counters and the
	 * compiler would reload them on every op of a 512-page call. */
	struct awe__frame *fr = c->frames;
	struct awe__window *w = NULL;
	int64_t delta = 0, wdelta = 0;

	for (size_t i = 0; i < n; i++) {
		struct awe__op *o = &ops[i];
		struct awe__window *ow = awe__window_of(o->win);
		struct awe__frame f;

		if (ow->sprot) {
			/* Section windows: the protection is the slot's, and a
			 * frame may be shown in several places. */
			size_t s = awe__slot_of(c, ow, o->va);

			ow->sprot[s] = o->newprot;
			if (o->old != o->new) {
				ow->slot[s] = o->new;
				ow->nmapped += (size_t)(!!o->new - !!o->old);
				delta += !!o->new - !!o->old;
			}
			continue;
		}
		if (o->old == o->new) {
			fr[o->old - 1].prot = o->newprot;
			continue;
		}
		if (ow != w) {
			if (w)
				w->nmapped += (size_t)wdelta;
			delta += wdelta;
			wdelta = 0;
			w = ow;
		}
		if (o->old) {
			f = fr[o->old - 1];
			f.mapped = 0;
			f.prot = 0;
			f.loc = o->home;
			fr[o->old - 1] = f;
			wdelta--;
		}
		w->slot[awe__slot_of(c, w, o->va)] = o->new;
		if (o->new) {
			f = fr[o->new - 1];
			f.mapped = 1;
			f.mark = 0;
			f.prot = AWE_PROT_READWRITE;
			f.loc = o->va >> c->page_shift;
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

static int op_cmp(const void *a, const void *b)
{
	const struct awe__op *x = a, *y = b;

	if (x->va != y->va)
		return x->va < y->va ? -1 : 1;
	return x->seq < y->seq ? -1 : x->seq > y->seq;
}

/* The op that takes slot @s of @w off. */
static struct awe__op unmap_op(const struct awe__ctx *c, struct awe__window *w, size_t s)
{
	return (struct awe__op){
		.va = w->ew.base + (s << w->sh),
		.win = &w->ew,
		.old = w->slot[s],
		.oldprot = (uint8_t)awe__slot_prot(c, w, s),
	};
}

#define SMALL_OPS 8

/* Room for @n ops, or NULL: @small when they fit. Most calls change a slot
 * or a few, and need no malloc, which at vm.max_map_count may need a
 * mapping the process can no longer have. */
static struct awe__op *ops_new(size_t n, struct awe__op *small)
{
	if (small && n <= SMALL_OPS)
		return small;
	return AWE__INJECT(fail_alloc) ? NULL : malloc(n * sizeof(struct awe__op));
}

static void ops_free(struct awe__op *ops, struct awe__op *small)
{
	if (ops != small)
		free(ops);
}

/* Take off every slot of @w whose frame is marked (@marked) or any. */
static int unmap_in(struct awe__ctx *c, struct awe__window *w, bool marked)
{
	struct awe__op small[SMALL_OPS], *ops;
	size_t n = 0;
	int r;

	if (!w->nmapped)
		return 0;
	ops = ops_new(w->nmapped, small);
	if (!ops)
		return -ENOMEM;
	for (size_t s = 0; s < w->ew.npages; s++)
		if (w->slot[s] && (!marked || c->frames[w->slot[s] - 1].mark))
			ops[n++] = unmap_op(c, w, s);
	r = commit(c, ops, n, 0);
	ops_free(ops, small);
	return r;
}

int awe__unmap_window(struct awe__ctx *c, struct awe__window *w)
{
	return unmap_in(c, w, false);
}

/* Frames of the default instance are shown at one slot each, which their
 * loc names: one call for all. A section's may be shown anywhere in its
 * windows, which are searched with the frames marked, one call a window. */
int awe__unmap_frames(struct awe__ctx *c, struct awe__section *sec, const uint32_t *idx, size_t n)
{
	struct awe__op small[SMALL_OPS], *ops;
	size_t k = 0;
	int r = 0;

	if (sec) {
		for (size_t i = 0; i < n; i++)
			c->frames[idx[i]].mark = 1;
		for (size_t wi = 0; wi < c->nwin && !r; wi++)
			if (c->win[wi]->sec == sec)
				r = unmap_in(c, c->win[wi], true);
		for (size_t i = 0; i < n; i++)
			c->frames[idx[i]].mark = 0;
		return r;
	}
	for (size_t i = 0; i < n; i++)
		k += c->frames[idx[i]].mapped;
	if (!k)
		return 0;
	ops = ops_new(k, small);
	if (!ops)
		return -ENOMEM;
	k = 0;
	for (size_t i = 0; i < n; i++) {
		const struct awe__frame *f = &c->frames[idx[i]];
		struct awe__window *w;

		if (!f->mapped)
			continue;
		w = awe__window_find(c, awe__frame_va(c, f));
		ops[k++] = unmap_op(c, w, awe__slot_of(c, w, awe__frame_va(c, f)));
	}
	qsort(ops, k, sizeof(*ops), op_cmp);
	r = commit(c, ops, k, 0);
	ops_free(ops, small);
	return r;
}

/* Find the window holding [va, va + count pages). */
static int range_window(struct awe__ctx *c, uintptr_t va, size_t count, struct awe__window **out)
{
	struct awe__window *w = awe__window_find(c, va);

	if (!w || count > w->ew.npages - awe__slot_of(c, w, va))
		return -EINVAL;
	*out = w;
	return 0;
}

/* Claim @frame for op @o of window @w: it must be an owned frame this
 * window can show, unmapped and not yet claimed. Frames are marked so that
 * a duplicate is seen, and so that no other call claims them while this one
 * moves pages without the lock; the call's end clears the marks (unmark(),
 * commit()). A section frame may be shown at several slots, even by one
 * call, so it is not marked. @zero_ok: 0 means "unmap" (scatter). */
AWE__HOT static int claim_one(struct awe__ctx *c, struct awe__op *o, struct awe__window *w,
			      awe_frame_t frame, bool zero_ok)
{
	struct awe__frame *f;
	uint32_t k;

	o->new = 0;
	o->newprot = 0;
	if (zero_ok && frame == 0)
		return 0;
	f = awe__frame_get(c, frame, &k);
	if (!f || f->sec != (w->sec != NULL) || (f->sec && f->loc != w->sec->id))
		return -ENOENT;
	/* A large frame fills a large slot, a small one a small slot. */
	if (f->large != w->large)
		return -EINVAL;
	o->new = k + 1;
	o->newprot = AWE_PROT_READWRITE;
	o->keep = f->placed;
	if (f->sec)
		return 0;
	if (f->mapped || f->mark)
		return -EBUSY;
	/* The home is read before the mark is stored: a load of the whole
	 * entry right after a store to one of its bytes waits for the store
	 * (no store forwarding across sizes). */
	o->home = f->loc;
	o->claim = k + 1;
	f->mark = 1;
	return 0;
}

/* An op for slot @va of @w, taking off whatever is there; returns that. */
AWE__HOT static uint32_t slot_op(struct awe__ctx *c, struct awe__op *o, struct awe__window *w,
				 uintptr_t va)
{
	size_t s = awe__slot_of(c, w, va);
	uint32_t old = w->slot[s];

	o->va = w->ew.base + (s << w->sh);
	o->win = &w->ew;
	o->old = old;
	o->oldprot = old ? (uint8_t)awe__slot_prot(c, w, s) : 0;
	o->new = 0;
	o->newprot = 0;
	o->claim = 0;
	o->keep = 0;
	return old;
}

/* Turn a request into ops in *@ops (address order, one per slot) after
 * checking it, or fail without having changed anything. */
typedef int planner(struct awe__ctx *c, struct awe__req *q, struct awe__op **ops, size_t *n);

/* Room for @n ops: the request's own array when it fits. */
static struct awe__op *ops_alloc(struct awe__req *q, size_t n)
{
	return ops_new(n, q->small);
}

/* A planner's "a window it needs is busy": wait and plan again. */
#define WAIT_BUSY 1

/* Plan under the lock, then let the engine carry it out. */
AWE__HOT static int run(struct awe__ctx *c, planner *plan, struct awe__req *q)
{
	struct awe__op small[SMALL_OPS];
	struct awe__op *ops = NULL;
	size_t n = 0;
	int r;

	q->small = small;
	while ((r = plan(c, q, &ops, &n)) == WAIT_BUSY) {
		if (ops != small)
			free(ops);
		ops = NULL;
		n = 0;
		awe__lock_wait();
	}
	if (!r && !q->done)
		r = commit(c, ops, n, q->flags);
	if (ops != small)
		free(ops);
	return r;
}

/* Ranges this long take the engine's range path when they qualify. */
#define RANGE_MIN 16
#define RANGE_STACK 512

/* The range path's moves, perhaps without the lock (run_job()). */
static int move_range(struct awe__ctx *c, struct awe__window *w, uintptr_t va, uint64_t *home,
		      size_t n, bool in, unsigned int flags)
{
	struct awe__eng *e = w->eng;
	struct awe__job job;
	int r;

	if (!awe__lock_shared())
		return e->ops->move_range(e->data, va, home, n, in, flags, NULL);
	r = e->ops->move_range(e->data, va, home, n, in, flags, &job);
	return r == AWE__LATER ? run_job(c, e, w, NULL, 0, &job) : r;
}

/*
 * awe_map() of a whole range in the common shapes: frames into empty slots,
 * or every slot of a fully mapped read-write range emptied. Each page then
 * costs one pass to check and one to record, where the op path spends five
 * (plan, classify, move, settle, commit) on a 512-page sweep. Anything else,
 * errors included, returns -EAGAIN before changing anything, and the op path
 * handles it: so this path never decides an error code.
 */
static int map_range(struct awe__ctx *c, struct awe__req *q, struct awe__window *w, uintptr_t va)
{
	uint32_t small[RANGE_STACK], *idx = small;
	uint64_t small_home[RANGE_STACK], *home = small_home;
	size_t s = awe__slot_of(c, w, va), i, moved = 0;
	/* The engine's page numbers are in slots; the table's in small pages. */
	uint64_t epn = va >> w->sh;
	unsigned int step = w->sh - c->page_shift;
	bool in = q->frames != NULL;
	int r = -EAGAIN;

	if (w->sec || !w->eng->ops->move_range || q->count < RANGE_MIN || q->count > UINT32_MAX)
		return -EAGAIN;
	if (q->count > RANGE_STACK) {
		idx = malloc(q->count * sizeof(*idx));
		home = idx ? malloc(q->count * sizeof(*home)) : NULL;
		if (!home)
			goto out;
	}
	for (i = 0; i < q->count; i++) {
		struct awe__frame *f;
		uint32_t k = w->slot[s + i];

		if (in) {
			/* Marked, as claim_one() does, so that a duplicate shows. */
			f = k ? NULL : awe__frame_get(c, q->frames[i], &idx[i]);
			if (!f || f->sec || f->mapped || f->mark || f->large != w->large)
				break;
			home[i] = f->loc; /* before the mark: see claim_one() */
			f->mark = 1;
		} else {
			/* Out: the engine writes the homes. */
			if (!k || c->frames[k - 1].prot != AWE_PROT_READWRITE)
				break;
			idx[i] = k - 1;
		}
	}
	if (i == q->count)
		r = move_range(c, w, va, home, q->count, in, q->flags);
	if (r && r != -ENOTRECOVERABLE) {
		for (size_t j = 0; in && j < i; j++)
			c->frames[idx[j]].mark = 0;
		goto out;
	}
	/* A rollback the kernel refused in part left some pages moved: a page
	 * is at its slot exactly when its home is the slot (engine.h). */
	for (i = 0; i < q->count; i++) {
		struct awe__frame f = c->frames[idx[i]];

		f.mark = 0;
		if (!r || (home[i] == epn + i) == in) {
			f.mapped = in;
			f.prot = in ? AWE_PROT_READWRITE : 0;
			f.loc = in ? (epn + i) << step : home[i];
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
	if (idx != small) {
		free(idx);
		free(home);
	}
	return r;
}

static int plan_map(struct awe__ctx *c, struct awe__req *q, struct awe__op **ops, size_t *n)
{
	uintptr_t va = awe__page_down(c, q->va);
	struct awe__window *w;
	int r = range_window(c, va, q->count, &w);

	if (r)
		return r;
	va = w->ew.base + (awe__slot_of(c, w, va) << w->sh);
	/* Here, with libawe started: no once-check. */
	if (q->frames && !awe__uaddr_array_ok(q->frames, q->count, sizeof(*q->frames)))
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
				slot_op(c, &(*ops)[(*n)++], w, va + (i << w->sh));
		return 0;
	}
	for (size_t i = 0; i < q->count; i++) {
		slot_op(c, &(*ops)[i], w, va + (i << w->sh));
		r = claim_one(c, &(*ops)[i], w, q->frames[i], false);
		if (r) {
			unmark(c, *ops, i);
			return r;
		}
	}
	*n = q->count;
	return 0;
}

int awe__map(struct awe__ctx *c, struct awe__req *q)
{
	return run(c, plan_map, q);
}

AWE__HOT static int plan_scatter(struct awe__ctx *c, struct awe__req *q, struct awe__op **ops,
				 size_t *n)
{
	uint32_t old0 = 0; /* the last slot's frame: the only one when count is 1 */
	struct awe__window *w0 = NULL;
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
		if (!w || (i && w->eng != w0->eng))
			return -EINVAL;
		if (w->busy)
			return WAIT_BUSY;
		w0 = i ? w0 : w;
		old0 = slot_op(c, &(*ops)[i], w, va);
		(*ops)[i].seq = (uint32_t)i;
	}
	for (i = 0; q->frames && i < q->count; i++) {
		r = claim_one(c, &(*ops)[i], awe__window_of((*ops)[i].win), q->frames[i], true);
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

AWE__HOT int awe__map_scatter(struct awe__ctx *c, struct awe__req *q)
{
	return run(c, plan_scatter, q);
}

static int plan_protect(struct awe__ctx *c, struct awe__req *q, struct awe__op **ops, size_t *n)
{
	uintptr_t va = awe__page_down(c, q->va);
	struct awe__window *w;
	uint32_t first;
	int r = range_window(c, va, q->count, &w);

	if (r)
		return r;
	va = w->ew.base + (awe__slot_of(c, w, va) << w->sh);
	*ops = ops_alloc(q, q->count < w->nmapped ? q->count : w->nmapped);
	if (!*ops)
		return -ENOMEM;
	for (size_t i = 0; i < q->count; i++) {
		uintptr_t s = va + (i << w->sh);
		uint32_t k = w->slot[awe__slot_of(c, w, s)];

		if (k && awe__slot_prot(c, w, awe__slot_of(c, w, s)) != q->prot) {
			struct awe__op *o = &(*ops)[(*n)++];

			slot_op(c, o, w, s);
			o->new = k;
			o->newprot = (uint8_t)q->prot;
			o->keep = !w->sec && c->frames[k - 1].placed;
		}
	}
	first = w->slot[awe__slot_of(c, w, va)];
	q->first = first ? awe__slot_prot(c, w, awe__slot_of(c, w, va)) : AWE_PROT_NONE;
	return 0;
}

int awe__protect(struct awe__ctx *c, struct awe__req *q)
{
	return run(c, plan_protect, q);
}
