/* SPDX-License-Identifier: MIT */
/*
 * Parking: address space that holds the pages of frames not shown in any
 * window. It is pure bookkeeping (one bit per page slot, set while a page
 * sits there); the engine creates the arenas and moves the pages.
 */
#ifndef AWE_PARK_H
#define AWE_PARK_H

#include <stddef.h>
#include <stdint.h>

#include "common.h"

struct awe__arena {
	uintptr_t base;
	size_t npages;
	uint64_t *bits;
	size_t used;   /* slots set in @bits */
	bool draining; /* being emptied: takes no new pages */
};

#define AWE__PARK_RECENT 4

struct awe__park {
	struct awe__arena *a; /* sorted by base */
	size_t n, cap;
	size_t cur_arena, cur_bit; /* next-fit cursor */
	size_t total, used;	   /* pages */
	bool no_runs;		   /* a whole-run search failed since the last release */
	unsigned int page_shift;
	/* Slots given back one at a time, free but still set in the bitmap
	 * (awe__park_put_one). */
	uintptr_t recent[AWE__PARK_RECENT];
	unsigned int nrecent;
};

AWE__HIDDEN void awe__park_init(struct awe__park *p, unsigned int page_shift);
AWE__HIDDEN void awe__park_fini(struct awe__park *p);
/* Add an arena of @npages empty slots at @base. */
AWE__HIDDEN int awe__park_add(struct awe__park *p, uintptr_t base, size_t npages);
/* Reserve the first run of at least @min (at most @want) free consecutive
 * slots at or after the cursor; returns its length (0: none) and its
 * address in *@addr. */
AWE__HIDDEN size_t awe__park_take(struct awe__park *p, size_t want, size_t min, uintptr_t *addr);
/* Give back @n slots starting at @addr. */
AWE__HIDDEN void awe__park_release(struct awe__park *p, uintptr_t addr, size_t n);
/* Give back the one slot @addr, lazily. A scatter call maps a parked frame
 * and a later one unmaps it again; awe__park_take_one() then hands back the
 * very slot it left, and neither touches the bitmap, whose word for a
 * random frame is a cache miss on every call. */
AWE__HIDDEN void awe__park_put_one(struct awe__park *p, uintptr_t addr);
/* Reserve one slot, a lazily given back one first; false when full. */
AWE__HIDDEN bool awe__park_take_one(struct awe__park *p, uintptr_t *addr);
/* Clear the lazily given back slots in the bitmap (searches and the
 * arenas' @used read it). */
AWE__HIDDEN void awe__park_flush(struct awe__park *p);
/* Forget arena @i, which must be empty; the caller unmaps it. */
AWE__HIDDEN void awe__park_remove(struct awe__park *p, size_t i);
/* The arena holding @addr, or NULL. */
AWE__HIDDEN const struct awe__arena *awe__park_arena(const struct awe__park *p, uintptr_t addr);

static inline size_t awe__park_free(const struct awe__park *p)
{
	return p->total - p->used;
}

#endif
