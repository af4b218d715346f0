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

/* Bits of a page number: addresses below 2^50 with 4 KiB pages, more than
 * any x86-64 or arm64 user address space without 5-level tables. */
#define AWE__LOC_BITS 38
/* Bits of the generation, the upper half of a frame number. A table slot
 * whose generation is used up is retired, not reused. */
#define AWE__GEN_BITS 20

/* One frame, 8 bytes: the table is the library's main memory cost and is
 * touched at random by scatter calls, so it is kept as small as the cache
 * likes it. A frame has no fixed home; @loc says where its page is. */
struct awe__frame {
	/* Page number (address >> page shift) of the slot while mapped;
	 * otherwise where the engine keeps the page; on the free list, index + 1
	 * of the next free table slot. */
	uint64_t loc : AWE__LOC_BITS;
	uint64_t gen : AWE__GEN_BITS;
	uint64_t state : 2;  /* AWE__FRAME_* */
	uint64_t prot : 2;   /* AWE_PROT_* while mapped */
	uint64_t mark : 1;   /* claimed by the map call being checked */
	uint64_t mapped : 1; /* shown in a window slot (perhaps AWE_PROT_NONE) */
};
_Static_assert(sizeof(struct awe__frame) == 8, "struct awe__frame must stay 8 bytes");

struct awe__window {
	uintptr_t base;
	size_t npages;
	uint32_t *slot; /* frame index + 1 per slot, 0 when empty */
	/* One word per slot for the engine, allocated when it first needs one
	 * (the UFFDIO_MOVE engine: where the page of an AWE_PROT_NONE frame is
	 * parked). */
	uintptr_t *aside;
	size_t nmapped;
};

/* One slot change handed to the engine. @old/@new are frame index + 1 (0 for
 * none). old == new != 0 is a protection change of a mapped frame. */
struct awe__op {
	uintptr_t va;
	struct awe__window *win;
	uint32_t old, new;
	uint32_t seq; /* position in the caller's array (scatter) */
	uint8_t oldprot, newprot;
	uint8_t kind; /* the engine's scratch */
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

	struct awe__window **win;     /* sorted by base */
	struct awe__window *last_win; /* the window found last */
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
AWE__HIDDEN awe_frame_t awe__frame_number(const struct awe__ctx *c, uint32_t idx);
AWE__HIDDEN void awe__frames_fini(struct awe__ctx *c);

/* windows.c */
AWE__HIDDEN struct awe__window *awe__window_find(struct awe__ctx *c, uintptr_t va);
AWE__HIDDEN void awe__windows_fini(struct awe__ctx *c);

/* map.c: apply validated ops, then update the tables. */
AWE__HIDDEN int awe__commit(struct awe__ctx *c, struct awe__op *ops, size_t n);

/* The frame named @f if it is allocated (its index in *@idx), else NULL.
 * Inline: every frame of every map call goes through here. */
static inline struct awe__frame *awe__frame_get(struct awe__ctx *c, awe_frame_t f, uint32_t *idx)
{
	uint32_t lo = (uint32_t)f;
	struct awe__frame *fr;

	if (lo == 0 || lo > c->nframes)
		return NULL;
	fr = &c->frames[lo - 1];
	if (fr->state != AWE__FRAME_OWNED || fr->gen != (f >> 32))
		return NULL;
	if (idx)
		*idx = lo - 1;
	return fr;
}

static inline uintptr_t awe__loc_addr(const struct awe__ctx *c, const struct awe__frame *f)
{
	return (uintptr_t)f->loc << c->page_shift;
}

/* The slot a frame is mapped at, 0 when it is not mapped. */
static inline uintptr_t awe__frame_va(const struct awe__ctx *c, const struct awe__frame *f)
{
	return f->mapped ? awe__loc_addr(c, f) : 0;
}

/* Whether an address range fits in a frame's page number. */
static inline bool awe__loc_fits(const struct awe__ctx *c, uintptr_t base, size_t len)
{
	return ((base + len - 1) >> c->page_shift) < ((uint64_t)1 << AWE__LOC_BITS);
}

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
	return f->mapped && f->prot != AWE_PROT_NONE;
}

#endif
