/* SPDX-License-Identifier: MIT */
/*
 * The UFFDIO_MOVE engine when the process has other threads running.
 *
 * A move clears a present page-table entry (the parking one on the way in,
 * the window one on the way out) and flushes it from the TLB of every CPU
 * that runs the process: a cross-CPU shootdown, 10-25 us on the virtual
 * machines measured, where the move itself costs under a microsecond.
 * Windows flushes only entries that were valid, once per call. So, while
 * other threads run:
 *
 *  - a page comes into an empty slot by UFFDIO_COPY, which installs a new
 *    entry and flushes nothing. The parking page it was copied from stays
 *    behind as a spare: a taken slot holding a stale page;
 *  - spares go back to the kernel SPARE_MAX / 2 at a time, in one
 *    process_madvise() call and one shootdown, or are reused;
 *  - an unmap with AWE_UNMAP_EXCLUSIVE (nobody touches those pages during
 *    the call) copies each page into a spare, or into a free slot by
 *    UFFDIO_COPY, then drops the batch of window pages in one call: one
 *    shootdown per EVICT_BATCH pages;
 *  - any other unmap still moves each page out, a shootdown each: another
 *    thread may be writing to the page, and only a move keeps a write that
 *    lands through a stale TLB entry (it lands in the page, wherever the
 *    page is by then), as Windows keeps it in the physical page.
 *
 * Alone, a move is cheaper than a copy (0.9 us against 1.2 us, plus the
 * drop), so pages are copied only while /proc/self/stat counts other
 * threads; the engine looks every LOOK_CALLS maps, at most every LOOK_NS.
 */
#include <string.h>
#include <sys/uio.h>
#include <time.h>

#include "sysfacts.h"
#include "uffd_copy.h"

#define LOOK_NS (20u * 1000 * 1000)
#define EVICT_BATCH 256u /* window pages dropped per call (4 KiB of iovecs) */

void awe__uffd_look(struct uffd *u)
{
	bool was = u->copying;
	int forced = AWE__TEST_THREADS();
	struct timespec ts;
	uint64_t now, n;

	/* A large frame copied in would be small pages: large ones always
	 * move, one PMD and one flush for 512 pages' worth. */
	if (u->large) {
		u->copying = false;
	} else if (forced) {
		u->copying = forced > 1;
	} else {
		/* The coarse clock is a read of the vDSO's page, no system call. */
		clock_gettime(CLOCK_MONOTONIC_COARSE, &ts);
		now = (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
		if (u->looked_ns && now - u->looked_ns < LOOK_NS)
			return;
		u->looked_ns = now;
		if (awe__thread_count(&n) == 0)
			u->copying = n > 1;
	}
	if (was && !u->copying)
		awe__uffd_spares_drop(u, 0); /* nothing reuses them alone */
	if (!was && u->copying)
		awe__uffd_headroom(u, 0);
}

bool awe__uffd_copy_room(struct uffd *u, size_t k)
{
	size_t need = u->nframes + u->nspare + u->inflight + k;

	if (u->park.total >= need)
		return true;
	if (u->nspare) {
		awe__uffd_spares_drop(u, 0);
		need = u->nframes + u->nspare + u->inflight + k;
		if (u->park.total >= need)
			return true;
	}
	awe__uffd_headroom(u, u->nspare + u->inflight + k);
	return u->park.total >= need;
}

/* The page at slot @va into parking, its place in *@at: a spare already
 * holds a page, so a plain copy does without a fault; a free slot is
 * empty, and only UFFDIO_COPY may fill it (a touch would raise SIGBUS). */
static int save(struct uffd *u, uintptr_t va, uintptr_t *at)
{
	size_t done;
	int r;

	if (u->nspare) {
		*at = u->spare[--u->nspare];
		memcpy((void *)*at, (const void *)va, u->page);
		return 0;
	}
	if (!awe__park_take_one(&u->park, at))
		return -ENOMEM; /* cannot happen: parking has a slot per frame */
	r = awe__uffd_copy(u, *at, va, u->page, false, &done);
	if (r)
		awe__park_release(&u->park, *at, 1);
	return r ? awe__kerr(r) : 0;
}

/* Put back the page of op @o, saved at its home, on its emptied slot;
 * whether it came back (else the op is done: its page is at its home). */
static bool restore(struct uffd *u, struct awe__op *o)
{
	uintptr_t at = (uintptr_t)o->home << u->sh;
	size_t done;

	if (AWE__INJECT_STICKY(fail_undo) ||
	    awe__uffd_copy(u, o->va, at, u->page, o->oldprot == AWE_PROT_READ, &done))
		return false;
	awe__uffd_spare_put(u, at);
	return true;
}

/* After a failure at the batch from @first on (@saved of its ops saved,
 * the drop failed when @dropping): every op back as it was, or done. */
static int evict_failed(struct uffd *u, struct awe__op *ops, size_t n, size_t first, size_t saved,
			bool dropping, int r)
{
	bool whole = true;

	for (size_t i = 0; i < n; i++) {
		struct awe__op *o = &ops[i];
		bool gone;

		if (o->oldprot == AWE_PROT_NONE || i >= saved) {
			gone = false;
		} else if (i < first || (dropping && !awe__uffd_present(u, o->va))) {
			gone = !restore(u, o); /* an earlier batch, or dropped anyway */
		} else {
			gone = false; /* still at its slot: the copy is a spare */
			awe__uffd_spare_put(u, (uintptr_t)o->home << u->sh);
		}
		if (gone) {
			whole = false;
			continue;
		}
		o->new = o->old;
		o->newprot = o->oldprot;
	}
	/* Copies into free slots became spares: more than parking's room
	 * for them (awe__uffd_copy_room()) goes now. */
	if (u->park.total < u->nframes + u->nspare + u->inflight)
		awe__uffd_spares_drop(u, 0);
	return whole ? r : -ENOTRECOVERABLE;
}

int awe__uffd_evict(struct uffd *u, struct awe__op *ops, size_t n)
{
	struct iovec iov[EVICT_BATCH];
	uintptr_t va[EVICT_BATCH];
	size_t i = 0;

	for (size_t j = 0; j < n; j++)
		if (ops[j].new || ops[j].old == ops[j].new)
			return -EAGAIN;
	while (i < n) {
		size_t first = i, k = 0;
		int r = 0;

		for (; i < n && k < EVICT_BATCH; i++) {
			uintptr_t at;

			if (ops[i].oldprot == AWE_PROT_NONE)
				continue; /* hidden: parked aside already */
			r = save(u, ops[i].va, &at);
			if (r)
				return evict_failed(u, ops, n, first, i, false, r);
			ops[i].home = at >> u->sh;
			va[k++] = ops[i].va;
		}
		r = awe__uffd_drop(u, va, k, iov, true);
		if (r)
			return evict_failed(u, ops, n, first, i, true, awe__kerr(r));
	}
	for (i = 0; i < n; i++) {
		struct awe__op *o = &ops[i];

		/* A hidden frame leaves its window: its page is parked already. */
		if (o->oldprot == AWE_PROT_NONE) {
			o->home = *aside_of(u, o) >> u->sh;
			*aside_of(u, o) = 0;
		}
	}
	return 0;
}
