/* SPDX-License-Identifier: MIT */
/*
 * The mapping engine: the only code that knows how a frame's page is put at a
 * slot. The core (frames.c, windows.c, map.c) validates arguments and keeps
 * the tables; an engine executes already-validated requests and either does
 * all of it or rolls back, so the tables never disagree with the page tables.
 */
#ifndef AWE_ENGINE_H
#define AWE_ENGINE_H

#include <sys/types.h>

#include "internal.h"

struct awe__engine {
	const char *name;

	/* Set up c->edata. Fails with -ENOSYS / -EOPNOTSUPP when the kernel
	 * lacks what the engine needs (after awe__set_detail()). */
	int (*init)(struct awe__ctx *c);
	/* Drop everything. @forked: we are a fork() child, the parent's
	 * mappings are already gone and only descriptors and memory remain. */
	void (*fini)(struct awe__ctx *c, bool forked);

	/* Reserve @len bytes of window at @hint (exactly there if @fixed). */
	int (*window_reserve)(struct awe__ctx *c, uintptr_t hint, size_t len, bool fixed,
			      uintptr_t *base);
	/* Release a window whose frames have all been taken off it. */
	void (*window_release)(struct awe__ctx *c, uintptr_t base, size_t len);

	/* Give zero-filled pages to frames idx[0..n-1]; return how many got one
	 * (a prefix of the array), or -errno when none did. */
	ssize_t (*alloc)(struct awe__ctx *c, const uint32_t *idx, size_t n, int node);
	/* Return the pages of frames idx[0..n-1] (mapped or not) to the kernel. */
	void (*discard)(struct awe__ctx *c, const uint32_t *idx, size_t n);

	/* Address space held for frames that are not in a window. */
	uint64_t (*parking_bytes)(struct awe__ctx *c);

	/* Carry out slot changes sorted by va, one per slot: all or nothing.
	 * The ops' @kind fields are the engine's scratch. */
	int (*apply)(struct awe__ctx *c, struct awe__op *ops, size_t n);
};

AWE__HIDDEN extern const struct awe__engine awe__engine_uffd;

/* Pick and start the engine for @c. */
AWE__HIDDEN int awe__engine_select(struct awe__ctx *c);

#endif
