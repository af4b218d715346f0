/* SPDX-License-Identifier: MIT */
/*
 * The UFFDIO_MOVE engine's move log: every move and write-protection change
 * of a call is logged as it happens, before the next, so that a call the
 * kernel fails part of the way is undone newest first, and what the kernel
 * refuses to undo stays in the log as what holds.
 */
#include <stdlib.h>
#include <string.h>

#include "uffd.h"

void awe__uffd_plan_start(struct plan *p, struct uffd *u)
{
	p->u = u;
	p->nlog = 0;
	/* Small calls, the common case, stay off the heap. */
	p->log = p->small_log;
	p->cap = sizeof(p->small_log) / sizeof(p->small_log[0]);
}

void awe__uffd_plan_end(struct plan *p)
{
	if (p->log != p->small_log)
		free(p->log);
}

/* Room for one more entry in the log, made before the action it records:
 * an action done cannot go unrecorded for want of memory. */
int awe__uffd_log_room(struct plan *p)
{
	if (p->nlog == p->cap) {
		size_t cap = p->cap * 2;
		struct act *l = AWE__INJECT(fail_alloc)	 ? NULL
				: p->log == p->small_log ? malloc(cap * sizeof(*l))
							 : realloc(p->log, cap * sizeof(*l));

		if (!l)
			return -ENOMEM;
		if (p->log == p->small_log)
			memcpy(l, p->small_log, sizeof(p->small_log));
		p->log = l;
		p->cap = cap;
	}
	return 0;
}

/* Undo one logged action; the bytes from its start that are back. */
static size_t undo(struct plan *p, const struct act *a)
{
	size_t back = 0;

	if (AWE__INJECT_STICKY(fail_undo))
		return 0;
	if (a->type == ACT_MOVE)
		awe__uffd_move(p->u, a->src, a->dst, a->len, true, &back);
	else if (a->type == ACT_COPY)
		back = awe__sys_madvise(a->dst, a->len, MADV_DONTNEED_LOCKED) ? 0 : a->len;
	else if (!awe__uffd_wp(p->u, a->dst, a->len, a->type == ACT_UNWP))
		back = a->len;
	return back;
}

/* Undo the logged actions, newest first, checking each: the kernel may
 * refuse to put a page back (EBUSY when something pinned it since it
 * moved, EAGAIN after the retries). What came back gives back its reserved
 * parking; an action that did not come back entirely keeps in the log the
 * part that stays done. Returns whether everything came back. */
bool awe__uffd_rollback(struct plan *p)
{
	unsigned int sh = p->u->sh;
	bool whole = true;

	for (size_t i = p->nlog; i-- > 0;) {
		struct act *a = &p->log[i];
		size_t back = undo(p, a);

		if (a->reserved && back)
			awe__park_release(&p->u->park, a->dst, back >> sh);
		a->src += back;
		a->dst += back;
		a->len -= back;
		whole &= a->len == 0;
	}
	if (whole)
		p->nlog = 0;
	return whole;
}

/* Is @va still moved by a logged action that was not undone: the source of
 * a move out (@out), the destination of a move in, or (@wp) a
 * write-protection change? */
bool awe__uffd_still_done(const struct plan *p, uintptr_t va, bool out, bool wp)
{
	for (size_t i = 0; i < p->nlog; i++) {
		const struct act *a = &p->log[i];
		uintptr_t at = out ? a->src : a->dst;

		bool is_wp = a->type == ACT_WP || a->type == ACT_UNWP;

		if (a->len && is_wp == wp && (wp || a->reserved == out) && va - at < a->len)
			return true;
	}
	return false;
}

int awe__uffd_plan_add(struct plan *p, struct act a)
{
	int r = awe__uffd_log_room(p);

	if (r) {
		if (a.reserved)
			awe__park_release(&p->u->park, a.dst, a.len >> p->u->sh);
		return r;
	}
	p->log[p->nlog++] = a;
	return 0;
}

void awe__uffd_plan_drop(struct plan *p)
{
	for (size_t l = 0; l < p->nlog; l++)
		if (p->log[l].reserved)
			awe__park_release(&p->u->park, p->log[l].dst, p->log[l].len >> p->u->sh);
	p->nlog = 0;
}

/* One action; *@done: the bytes from its start that were done. */
static int act(struct uffd *u, const struct act *a, size_t *done)
{
	int r;

	switch (a->type) {
	case ACT_MOVE:
		return awe__uffd_move(u, a->dst, a->src, a->len, a->holes, done);
	case ACT_COPY:
		return awe__uffd_copy(u, a->dst, a->src, a->len, false, done);
	default:
		/* Counted as done even when refused: the kernel may have changed
		 * part of the range, and undoing what did not change is
		 * harmless. */
		r = awe__uffd_wp(u, a->dst, a->len, a->type == ACT_WP);
		*done = a->len;
		return r;
	}
}

AWE__HOT int awe__uffd_run(struct plan *p, size_t *stop, size_t *done)
{
	int r = 0;

	for (*stop = 0; *stop < p->nlog; ++*stop) {
		r = act(p->u, &p->log[*stop], done);
		if (r)
			break;
	}
	return r;
}

void awe__uffd_log_cut(struct plan *p, size_t stop, size_t done)
{
	unsigned int sh = p->u->sh;

	for (size_t m = stop; m < p->nlog; m++) {
		struct act *a = &p->log[m];
		size_t keep = m == stop ? done : 0;

		if (a->reserved && a->len > keep)
			awe__park_release(&p->u->park, a->dst + keep, (a->len - keep) >> sh);
		a->len = keep;
	}
	p->nlog = stop + 1;
}
