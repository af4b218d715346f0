/* SPDX-License-Identifier: MIT */
/*
 * Internal state shared by the per-concern sources. Everything here runs
 * under the process-wide lock taken by awe__enter().
 */
#ifndef AWE_INTERNAL_H
#define AWE_INTERNAL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "awe.h"

#define AWE__HIDDEN __attribute__((visibility("hidden")))

struct awe__engine;

enum {
	AWE__FRAME_FREE = 0,	/* index on the free list */
	AWE__FRAME_OWNED = 1,	/* allocated */
	AWE__FRAME_RETIRED = 2, /* generation exhausted: never handed out again */
};

/* One frame. A frame has no fixed home: the engine records in @loc where its
 * page is now, which for the UFFDIO_MOVE engine is either the slot it is
 * mapped at or a parking address. */
struct awe__frame {
	uintptr_t loc; /* on the free list: index + 1 of the next free slot */
	uintptr_t va;  /* slot address while mapped, 0 otherwise */
	uint32_t gen;  /* upper half of the frame number */
	uint8_t state;
	uint8_t prot; /* AWE_PROT_* while mapped */
	uint8_t mark; /* claimed by the map call being checked */
	uint8_t pad;
};

struct awe__window {
	uintptr_t base;
	size_t npages;
	uint32_t *slot; /* frame index + 1 per slot, 0 when empty */
	size_t nmapped;
};

/* One slot change handed to the engine. @old/@new are frame index + 1 (0 for
 * none). old == new != 0 is a protection change of a mapped frame. */
struct awe__op {
	uintptr_t va;
	struct awe__window *win;
	uint32_t old, new;
	uint8_t oldprot, newprot;
	size_t seq; /* position in the caller's array (scatter) */
};

struct awe__ctx {
	unsigned int flags;
	bool locked;
	uint64_t memlock_limit; /* bytes, UINT64_MAX when unlimited */
	size_t page;
	unsigned int page_shift;
	const struct awe__engine *eng;
	void *edata;

	struct awe__frame *frames;
	uint32_t nframes, frames_cap; /* table slots in use / allocated */
	uint32_t free_head;	      /* index + 1 of the first reusable slot */
	uint64_t allocated, mapped;
	uint64_t avail_pages; /* allocatable pages at avail_stamp (seconds) */
	int64_t avail_stamp;

	struct awe__window **win; /* sorted by base */
	size_t nwin, win_cap;
	uint64_t window_bytes;
};

/* ctx.c: the lock and lazy initialisation. */
AWE__HIDDEN int awe__enter(struct awe__ctx **c);
AWE__HIDDEN void awe__leave(void);
AWE__HIDDEN int awe__ret(int r);
AWE__HIDDEN uint64_t awe__memlock_limit(void);
AWE__HIDDEN uint64_t awe__memlock_used(void);

/* error.c */
AWE__HIDDEN void awe__set_detail(int err, const char *detail);

/* frames.c */
AWE__HIDDEN struct awe__frame *awe__frame_get(struct awe__ctx *c, awe_frame_t f, uint32_t *idx);
AWE__HIDDEN awe_frame_t awe__frame_number(const struct awe__ctx *c, uint32_t idx);
AWE__HIDDEN void awe__frames_fini(struct awe__ctx *c);

/* windows.c */
AWE__HIDDEN struct awe__window *awe__window_find(const struct awe__ctx *c, uintptr_t va);
AWE__HIDDEN void awe__windows_fini(struct awe__ctx *c);

/* map.c: apply validated ops, then update the tables. */
AWE__HIDDEN int awe__commit(struct awe__ctx *c, struct awe__op *ops, size_t n);

static inline uintptr_t awe__page_down(const struct awe__ctx *c, uintptr_t va)
{
	return va & ~(uintptr_t)(c->page - 1);
}

static inline size_t awe__slot_of(const struct awe__ctx *c, const struct awe__window *w,
				  uintptr_t va)
{
	return (va - w->base) >> c->page_shift;
}

/* Whether the frame's page sits in its slot's page table entry (a frame
 * protected with AWE_PROT_NONE is kept off the window so that every access
 * faults). */
static inline bool awe__frame_present(const struct awe__frame *f)
{
	return f->va && f->prot != AWE_PROT_NONE;
}

#endif
