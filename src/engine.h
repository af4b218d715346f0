/* SPDX-License-Identifier: MIT */
/*
 * The mapping engine: the only code that knows how a frame's page is put at a
 * slot. The core (frames.c, windows.c, map.c, section.c) validates arguments
 * and keeps the tables; an engine executes already-validated requests and
 * either does all of it or rolls back, so the tables never disagree with the
 * page tables.
 *
 * Two engines exist: UFFDIO_MOVE (engine_uffd.c: pages move, no VMAs, Linux
 * 6.8+) and memfd (engine_memfd.c: pages live in a memfd and are mmap()ed,
 * each run a VMA). A process has one default instance, picked at
 * initialisation; every AWE section has a memfd instance of its own, because
 * its frames may be shown at several addresses, which only shared pages can.
 */
#ifndef AWE_ENGINE_H
#define AWE_ENGINE_H

#include <sys/types.h>

#include "internal.h"

struct awe__engine {
	const char *name;

	/* Start an instance in *@e. Fails with -ENOSYS / -EOPNOTSUPP when the
	 * kernel lacks what the engine needs or the process may not use it
	 * (after awe__set_detail()). */
	int (*init)(struct awe__ctx *c, void **e);
	/* Drop everything. @forked: we are a fork() child, the parent's
	 * mappings are already gone and only memory remains. */
	void (*fini)(struct awe__ctx *c, void *e, bool forked);
	/* In a fork() child, before it runs any code of its own: close the
	 * instance's descriptors, through which the child could reach the
	 * parent's frames (a memfd holds them; a userfaultfd stays bound to
	 * the process that opened it). Async-signal-safe. */
	void (*fork_child)(void *e);

	/* Reserve @len bytes of window at @hint (exactly there if @fixed). */
	int (*window_reserve)(struct awe__ctx *c, void *e, uintptr_t hint, size_t len, bool fixed,
			      uintptr_t *base);
	/* Release a window whose frames have all been taken off it. */
	void (*window_release)(struct awe__ctx *c, void *e, uintptr_t base, size_t len);

	/* Give zero-filled pages to frames idx[0..n-1]; return how many got one
	 * (a prefix of the array), or -errno when none did. */
	ssize_t (*alloc)(struct awe__ctx *c, void *e, const uint32_t *idx, size_t n, int node);
	/* Return the pages of frames idx[0..n-1], none of them mapped, to the
	 * kernel, in order. Returns how many went (a prefix): the kernel may
	 * refuse, and the frames from there on stay whole. */
	size_t (*discard)(struct awe__ctx *c, void *e, const uint32_t *idx, size_t n);

	/* Address space held for frames that are not in a window. */
	uint64_t (*parking_bytes)(struct awe__ctx *c, void *e);

	/* Carry out slot changes sorted by va, one per slot, all in windows of
	 * this instance: all or nothing. The ops' @kind fields are the engine's
	 * scratch. When the kernel fails part of the way and then refuses to
	 * undo part of what was done, returns -ENOTRECOVERABLE with every op
	 * rewritten to what holds (back as it was: old == new and oldprot ==
	 * newprot; done; or emptied: new 0, the old page parked), the claims of
	 * frames that were not mapped cleared, and every page recorded where it
	 * is: the core then records that as for a success. */
	int (*apply)(struct awe__ctx *c, void *e, struct awe__op *ops, size_t n);

	/* Optional, a faster apply() for whole ranges of window @w: with @in,
	 * put parked frames idx[0..n-1] on the empty slots from @va on;
	 * without, take the visible read-write frames idx[0..n-1] off the
	 * slots from @va on, which hold exactly them. All or nothing; records
	 * the frames' loc. -ENOTRECOVERABLE as for apply(): then a frame whose
	 * loc is (in), or is no longer (out), its slot moved. */
	int (*move_range)(struct awe__ctx *c, void *e, struct awe__window *w, uintptr_t va,
			  const uint32_t *idx, size_t n, bool in);

	/* Optional: fill the engine's part of awe_stats. */
	void (*stats)(struct awe__ctx *c, void *e, struct awe_stats *st);
};

/* Kernel errors other than running out of memory mean the kernel refused a
 * page (pinned, shared, ...): one documented code for all of them. */
static inline int awe__kerr(int r)
{
	return r == -ENOMEM ? -ENOMEM : -EIO;
}

AWE__HIDDEN extern const struct awe__engine awe__engine_uffd;
AWE__HIDDEN extern const struct awe__engine awe__engine_memfd;

/* Pick and start the default engine of @c: AWE_ENGINE=uffd|memfd when set,
 * otherwise UFFDIO_MOVE, or memfd when the kernel or a sandbox refuses it;
 * c->engine_reason says why. */
AWE__HIDDEN int awe__engine_select(struct awe__ctx *c);

#endif
