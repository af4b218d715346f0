/* SPDX-License-Identifier: MIT */
/*
 * uffd_copy.c's part of the UFFDIO_MOVE engine, for the files above
 * uffd.c that map and unmap (uffd_move.c): whether pages come in by
 * copying, room for copies, exclusive unmaps.
 */
#ifndef AWE_UFFD_COPY_H
#define AWE_UFFD_COPY_H

#include "uffd.h"

AWE__HIDDEN void awe__uffd_look(struct uffd *u);
/* Whether pages come in by copying: other threads run (see uffd_copy.c).
 * Looks again now and then; inline, since every map asks. */
static inline bool awe__uffd_copying(struct uffd *u)
{
	if (__builtin_expect(++u->calls % LOOK_CALLS == 0 || AWE__TEST_THREADS(), 0))
		awe__uffd_look(u);
	return u->copying;
}
/* Parking slots no frame, spare or job will need. */
static inline size_t awe__uffd_slack(const struct uffd *u)
{
	size_t held = u->nframes + u->nspare + u->inflight;

	return u->park.total > held ? u->park.total - held : 0;
}
/* Whether @k pages may come in by copying: their sources stay taken until
 * they are dropped, and parking must keep a free slot for every shown
 * frame (unmaps need them), so it must hold every frame, every spare and
 * every source in flight. Drops spares or grows parking to make room;
 * false when it cannot (RLIMIT_MEMLOCK): those pages are moved instead. */
AWE__HIDDEN bool awe__uffd_copy_room(struct uffd *u, size_t k);
/* AWE_UNMAP_EXCLUSIVE with other threads running: the unmaps @ops copied
 * out and dropped in batches. -EAGAIN when the ops are not all unmaps. */
AWE__HIDDEN int awe__uffd_evict(struct uffd *u, struct awe__op *ops, size_t n);

#endif
