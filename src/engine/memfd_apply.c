/* SPDX-License-Identifier: MIT */
/*
 * The memfd engine's map, unmap and protect: the ops become runs, one
 * mmap() or mprotect() each; a run the kernel fails is rolled back, newest
 * first, and when the kernel refuses an undo too, /proc/self/maps says
 * what holds (engine.h). Every call is checked against the VMA budget
 * (memfd_vma.c) before anything changes.
 */
#include "memfd.h"

#define GAP_PAGES 16u /* empty slots an unmap may carry along */

enum { K_NONE, K_MAP, K_UNMAP, K_PROT };

/* What op @o does to its slot, forwards or (@back) when undone. A replace is
 * a map: MAP_FIXED swaps the page in one call. */
static uint8_t op_kind(const struct awe__op *o, bool back)
{
	if (o->old == o->new)
		return o->oldprot != o->newprot ? K_PROT : K_NONE;
	return (back ? o->old : o->new) ? K_MAP : K_UNMAP;
}

static uint32_t target(const struct awe__op *o, bool back)
{
	return back ? o->old : o->new;
}

static uint8_t target_prot(const struct awe__op *o, bool back)
{
	return back ? o->oldprot : o->newprot;
}

/* Can the run that ends with op @a take @b too, in one system call? */
static bool joins(const struct mfd *m, const struct awe__op *a, const struct awe__op *b, bool back)
{
	uint8_t k = op_kind(a, back);

	if (k == K_NONE || op_kind(b, back) != k || a->win != b->win)
		return false;
	if (k == K_UNMAP) {
		/* Empty slots in between are reservation already: carrying a
		 * few along costs less than another call. */
		size_t s = awe__ewin_slot(a->win, a->va, m->sh),
		       t = awe__ewin_slot(b->win, b->va, m->sh);

		if (t - s - 1 > GAP_PAGES)
			return false;
		while (++s < t)
			if (shown_at(a->win, s))
				return false;
		return true;
	}
	if (b->va != a->va + m->page || target_prot(a, back) != target_prot(b, back))
		return false;
	return k == K_PROT || target(b, back) == target(a, back) + 1;
}

/* Carry out ops[i..j-1], one run, forwards or (@back) undone. */
static int run(const struct mfd *m, const struct awe__op *ops, size_t i, size_t j, bool back)
{
	const struct awe__op *a = &ops[i];
	size_t len = ops[j - 1].va + m->page - a->va;
	int r;

	if (!back && AWE__INJECT(fail_move))
		return -ENOMEM;
	if (back && AWE__INJECT_STICKY(fail_undo))
		return -EBUSY;
	switch (op_kind(a, back)) {
	case K_MAP:
		r = awe__mfd_show(m, a->va, len, target_prot(a, back), target(a, back) - 1);
		break;
	case K_UNMAP:
		r = awe__mfd_reserve(a->va, len);
		break;
	default:
		r = awe__sys_mprotect(a->va, len, target_prot(a, back));
		break;
	}
	return r ? awe__kerr(r) : 0;
}

/* What holds for an op after a rollback (in its scratch @kind). */
enum { BEFORE, AFTER, EMPTIED };

/* Whether op @o's slot is as before the call, as after, or neither. */
static int what_holds(const struct mfd *m, const struct awe__op *o)
{
	uint32_t k;
	int prot;

	if (awe__mfd_shown(m, o->va, &k, &prot))
		return -1;
	if (k == o->old && (!k || prot == o->oldprot))
		return BEFORE;
	if (k == o->new && (!k || prot == o->newprot))
		return AFTER;
	return -1;
}

/* A run the kernel would not undo, op by op: back where it can be, else
 * whatever the maps say holds. When they cannot tell, an op of a run that
 * was done stays done, and one of the run that failed (@fail on) is done
 * again or, failing that, emptied. Returns whether all came back. */
static bool undo_each(const struct mfd *m, struct awe__op *ops, size_t i, size_t j, size_t fail)
{
	bool whole = true;

	for (size_t k = i; k < j; k++) {
		struct awe__op *o = &ops[k];
		int h;

		if (op_kind(o, true) == K_NONE || run(m, ops, k, k + 1, true) == 0)
			continue;
		h = what_holds(m, o);
		if (h < 0 && (k < fail || run(m, ops, k, k + 1, false) == 0))
			h = AFTER;
		if (h < 0)
			h = awe__mfd_reserve(o->va, m->page) == 0 ? EMPTIED : AFTER;
		o->kind = (uint8_t)h;
		whole &= h == BEFORE;
	}
	return whole;
}

/* Undo ops[0..end-1], newest run first; ops[fail..end) is the run that
 * failed, undone too: a failed MAP_FIXED mmap may have unmapped the old
 * pages (older kernels do) and mprotect may stop part of the way. Every
 * state on the way back is a mix of before and after, so it fits the VMA
 * budget. The kernel may refuse an undo too: returns whether everything
 * came back, each op's @kind saying what holds. */
static bool rollback(const struct mfd *m, struct awe__op *ops, size_t fail, size_t end)
{
	size_t i, j = end;
	bool whole = true;

	for (i = 0; i < end; i++)
		ops[i].kind = BEFORE;
	while (j > 0) {
		i = j - 1;
		if (op_kind(&ops[i], true) != K_NONE) {
			while (i > 0 && joins(m, &ops[i - 1], &ops[i], true))
				i--;
			if (run(m, ops, i, j, true))
				whole &= undo_each(m, ops, i, j, fail);
		}
		j = i;
	}
	return whole;
}

/* Rewrite the ops of a call whose rollback the kernel refused in part to
 * what holds (engine.h). */
static void rewrite_failed(struct awe__op *ops, size_t n, size_t end)
{
	for (size_t i = 0; i < n; i++) {
		struct awe__op *o = &ops[i];
		int k = i < end ? o->kind : BEFORE;

		if (k == AFTER)
			continue;
		o->new = k == EMPTIED ? 0 : o->old;
		o->newprot = k == EMPTIED ? 0 : o->oldprot;
	}
}

/* Is slot @s of @w empty before (@after false) or after the call? @o is the
 * call's op for that slot, or NULL. */
static bool empty_at(const struct awe__ewin *w, size_t s, const struct awe__op *o, bool after)
{
	if (!o)
		return !shown_at(w, s);
	return !(after ? o->new : o->old);
}

/* ops[k] if it is for a slot next to that of ops[i] (ops are sorted by
 * address, one per slot), else NULL; k may be out of range. */
static const struct awe__op *next_to(const struct mfd *m, const struct awe__op *ops, size_t n,
				     size_t i, size_t k)
{
	const struct awe__op *a, *b;

	if (k >= n)
		return NULL;
	a = &ops[i < k ? i : k];
	b = &ops[i < k ? k : i];
	return a->win == b->win && b->va - a->va == m->page ? &ops[k] : NULL;
}

/* The empty-empty slot pairs the call takes away (@loss) and creates
 * (@gain). Each pair is counted once: by its left slot's op, or by its right
 * slot's op when the left slot has none. */
static void pair_changes(const struct mfd *m, const struct awe__op *ops, size_t n, uint64_t *loss,
			 uint64_t *gain)
{
	*loss = *gain = 0;
	for (size_t i = 0; i < n; i++) {
		const struct awe__op *o = &ops[i];
		const struct awe__ewin *w = o->win;
		size_t s = awe__ewin_slot(w, o->va, m->sh);
		const struct awe__op *left = next_to(m, ops, n, i, i - 1);
		const struct awe__op *right = next_to(m, ops, n, i, i + 1);
		bool was = !o->old, now = !o->new;

		if (s > 0 && !left) {
			bool b = was && !shown_at(w, s - 1), a = now && !shown_at(w, s - 1);

			*loss += b && !a;
			*gain += a && !b;
		}
		if (s + 1 < w->npages) {
			bool b = was && empty_at(w, s + 1, right, false);
			bool a = now && empty_at(w, s + 1, right, true);

			*loss += b && !a;
			*gain += a && !b;
		}
	}
}

/* The whole call under the core's lock: a job would not spare it anything,
 * as mmap() takes the process's mmap lock for writing anyway. */
int awe__mfd_apply(void *e, struct awe__op *ops, size_t n, unsigned int flags, struct awe__job *job)
{
	struct mfd *m = e;

	/* AWE_UNMAP_EXCLUSIVE gains nothing here: an unmap replaces the
	 * slot's mapping, which drops its TLB entries in the same call. */
	(void)flags;
	uint64_t loss, gain;
	size_t i, j;
	int r = 0;
	bool whole;

	(void)job;
	/* Every state the call passes through, and every state unmapping can
	 * lead to afterwards, has at most vma_worst + loss VMAs: refuse before
	 * anything changes. Unmaps and protection changes never lose pairs,
	 * so they are never refused. */
	pair_changes(m, ops, n, &loss, &gain);
	if (loss && !awe__mfd_room_for(loss))
		return -ENOMEM;
	for (i = 0; i < n; i = j) {
		j = i + 1;
		if (op_kind(&ops[i], false) == K_NONE)
			continue;
		while (j < n && joins(m, &ops[j - 1], &ops[j], false))
			j++;
		r = run(m, ops, i, j, false);
		if (!r)
			continue;
		whole = rollback(m, ops, i, j);
		/* The kernel out of mappings means our numbers are off: the
		 * program used up its margin, or the limit was lowered. Count
		 * again, as things are now, for the next call. */
		if (r == -ENOMEM)
			awe__mfd_recount();
		if (whole)
			return r;
		rewrite_failed(ops, n, j);
		pair_changes(m, ops, n, &loss, &gain);
		r = -ENOTRECOVERABLE;
		break;
	}
	awe__mfd_budget_add((int64_t)loss - (int64_t)gain, 0);
	/* A page leaving its slot stays where it always is, in the file. */
	for (i = 0; i < n; i++) {
		struct awe__op *o = &ops[i];

		if (o->old != o->new && o->old)
			o->home = o->old - 1;
	}
	return r;
}
