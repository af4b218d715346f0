/* SPDX-License-Identifier: MIT */
/*
 * The core's state and the functions its files share: the frame, window
 * and section tables, and the process context that holds them. Everything
 * here runs under the process-wide lock taken by awe__enter(). The core
 * stands on the engines (engine.h) and never the other way round.
 */
#ifndef AWE_INTERNAL_H
#define AWE_INTERNAL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "awe.h"
#include "common.h"
#include "engine.h"
#include "hooks.h"
#include "huge.h"
#include "lock.h"

/* An engine instance (engine.h): the process's default one, or an AWE
 * section's. */
struct awe__eng {
	const struct awe__engine *ops;
	void *data;
};

enum {
	AWE__FRAME_FREE = 0,	/* index on the free list */
	AWE__FRAME_OWNED = 1,	/* allocated */
	AWE__FRAME_RETIRED = 2, /* generation exhausted: never handed out again */
};

/* Bits of the generation, the upper half of a frame number. A table slot
 * whose generation is used up is retired, not reused. */
#define AWE__GEN_BITS 17

/* One frame, 8 bytes: the table is the library's main memory cost and is
 * touched at random by scatter calls, so it is kept as small as the cache
 * likes it. A frame has no fixed home; @loc says where its page is.
 *
 * A frame of an AWE section (@sec) may be shown at several slots at once:
 * its windows keep the protection per slot, @mapped and @prot stay 0, and
 * @loc holds the section's id. */
struct awe__frame {
	/* Page number (address >> page shift) of the slot while mapped;
	 * otherwise its home, where the engine keeps the page (engine.h); on
	 * the free list, index + 1 of the next free table slot. */
	uint64_t loc : AWE__HOME_BITS;
	uint64_t gen : AWE__GEN_BITS;
	uint64_t large : 1;  /* a large frame (AWE_FRAME_LARGE in its number) */
	uint64_t placed : 1; /* allocated for a NUMA node of several: never copied */
	uint64_t sec : 1;    /* frame of an AWE section */
	uint64_t state : 2;  /* AWE__FRAME_* */
	uint64_t prot : 2;   /* AWE_PROT_* while mapped */
	uint64_t mark : 1;   /* claimed by a map call that has not ended */
	uint64_t mapped : 1; /* shown in a window slot (perhaps AWE_PROT_NONE) */
};
_Static_assert(sizeof(struct awe__frame) == 8, "struct awe__frame must stay 8 bytes");

/* An AWE section (Windows 10's AWE section object): frames of its own, in a
 * memfd instance of its own, shown in windows tied to it. */
struct awe__section {
	uint32_t id;	 /* the handle: never 0, never reused */
	bool closed;	 /* handle closed: goes away with its last window */
	bool large;	 /* AWE_SECTION_LARGE: large frames and slots */
	size_t nwindows; /* windows tied to it */
	uint64_t nframes;
	struct awe__eng eng;
};

struct awe__window {
	struct awe__ewin ew;	  /* first: what the engine sees (base, npages) */
	struct awe__eng *eng;	  /* the default instance, or sec's */
	struct awe__section *sec; /* NULL: a plain window */
	unsigned int sh;	  /* slot shift: the page's, or a large page's */
	bool large;		  /* slots for large frames */
	uint32_t *slot;		  /* frame index + 1 per slot, 0 when empty */
	uint8_t *sprot;		  /* section windows: AWE_PROT_* per slot */
	size_t nmapped;
	unsigned int busy; /* calls moving pages of it without the lock */
};

static inline struct awe__window *awe__window_of(struct awe__ewin *ew)
{
	return (struct awe__window *)ew;
}

struct awe__ctx {
	unsigned int flags;
	bool locked;
	uint64_t memlock_limit; /* bytes, UINT64_MAX when unlimited */
	size_t page;
	unsigned int page_shift;
	struct awe__eng eng; /* the default engine instance */
	/* The instance of large frames not in a section: the default engine's
	 * kind, started with their first window or allocation (ops NULL
	 * until then). */
	struct awe__eng large;
	/* More than one NUMA node (a node asked for binds): 0 not looked at
	 * yet (only a call that asks for a node needs to), 1 no, 2 yes. */
	uint8_t numa_multi;
	char engine_reason[200]; /* why that engine */

	struct awe__frame *frames;
	uint32_t nframes, frames_cap; /* table slots in use / allocated */
	uint32_t free_head;	      /* index + 1 of the first reusable slot */
	uint64_t allocated, mapped;
	uint64_t avail_pages; /* allocatable pages at avail_stamp (seconds) */
	int64_t avail_stamp;

	struct awe__section **sec; /* sorted by id */
	size_t nsec, sec_cap;
	uint32_t last_sec_id;

	unsigned int moving; /* calls moving pages without the lock (map.c) */

	struct awe__window **win;     /* sorted by base */
	struct awe__window *last_win; /* the window found last */
	size_t nwin, win_cap;
	uint64_t window_bytes;
};

/* ctx.c: the context and the way in. awe__enter() takes the lock once no
 * call is moving pages without it; awe__enter_map() takes it at once, for
 * map calls, which wait only for the windows they use. -EDEADLK when the
 * thread is inside a call already (a signal handler). */
AWE__HIDDEN int awe__enter(struct awe__ctx **c);
AWE__HIDDEN int awe__enter_map(struct awe__ctx **c);
AWE__HIDDEN void awe__leave(void);
/* Whether @p can be an array of @n elements of @size bytes in user memory
 * (uaddr.h); arguments outside it fail with -EFAULT before anything. */
AWE__HIDDEN bool awe__ptr_ok(const void *p, size_t n, size_t size);
/* Enter without starting: *@c is NULL when libawe has not started. */
AWE__HIDDEN int awe__enter_bare(struct awe__ctx **c);
/* AWE_INIT_UNLOCKED when the environment asks for it (LIBAWE_UNLOCKED=1). */
AWE__HIDDEN unsigned int awe__env_flags(void);
/* awe_init() */
AWE__HIDDEN int awe__start(unsigned int flags);

/* probe.c: awe_probe() inside the lock; @c NULL when libawe has not
 * started. */
AWE__HIDDEN int awe__probe(struct awe__ctx *c, struct awe_probe *p);

/* frames.c: the frame table. */
/* Read how much memory may still be allocated into c->avail_pages. Context
 * creation primes it, so that a process that runs out of descriptors later
 * still has an honest number. */
AWE__HIDDEN int awe__frames_measure(struct awe__ctx *c);
AWE__HIDDEN void awe__frames_fini(struct awe__ctx *c);
/* Allocate up to @count frames of the default instance (@sec NULL) or of
 * @sec into @frames; free them in order (awe_free()). */
AWE__HIDDEN ssize_t awe__frames_alloc(struct awe__ctx *c, struct awe__section *sec,
				      awe_frame_t *frames, size_t count, int node, bool large);

AWE__HIDDEN int awe__frames_free(struct awe__ctx *c, struct awe__section *sec,
				 const awe_frame_t *frames, size_t count, size_t *freed);
/* Forget frame @i, whose page is gone: its number becomes invalid. */
AWE__HIDDEN void awe__frame_forget(struct awe__ctx *c, uint32_t i);
/* Let @e give back spare room (engine.h trim()), with @all everything it
 * can; whether it did anything. */
AWE__HIDDEN bool awe__frames_trim(struct awe__ctx *c, struct awe__eng *e, bool all);

/* windows.c: the window table. */
AWE__HIDDEN struct awe__window *awe__window_find(struct awe__ctx *c, uintptr_t va);
AWE__HIDDEN int awe__window_create(struct awe__ctx *c, struct awe__section *sec, size_t size,
				   void *hint, size_t align, bool fixed, bool large, void **base);
/* Release @w, which shows no frame any more, and forget it. */
AWE__HIDDEN void awe__window_remove(struct awe__ctx *c, struct awe__window *w);
AWE__HIDDEN void awe__windows_fini(struct awe__ctx *c);

/* section.c: the section table. */
AWE__HIDDEN int awe__section_create(struct awe__ctx *c, bool large, awe_section_t *id);
/* The open section @id, or NULL. */
AWE__HIDDEN struct awe__section *awe__section_find(struct awe__ctx *c, awe_section_t id);
/* The section @id, closed or not, or NULL. */
AWE__HIDDEN struct awe__section *awe__section_any(struct awe__ctx *c, uint32_t id);
/* Close @s: it goes when no window is tied to it any more. */
AWE__HIDDEN void awe__section_close(struct awe__ctx *c, struct awe__section *s);
/* A window of @s went: a closed section goes with its last one. */
AWE__HIDDEN void awe__section_window_gone(struct awe__ctx *c, struct awe__section *s);
AWE__HIDDEN void awe__sections_fini(struct awe__ctx *c, bool forked);
/* In a fork() child: close the sections' descriptors (engine.h). */
AWE__HIDDEN void awe__sections_fork_child(struct awe__ctx *c);

/* map.c: slot changes. */
/* A map, scatter or protect request (awe_map(), awe_map_scatter(),
 * awe_protect()), checked and carried out all or nothing under the lock
 * taken by awe__enter_map() (map calls) or awe__enter(). */
struct awe__req {
	uintptr_t va;	    /* awe_map(), awe_protect() */
	void *const *addrs; /* awe_map_scatter() */
	size_t count;
	const awe_frame_t *frames;
	int prot;
	unsigned int flags; /* awe_unmap*(): AWE_UNMAP_* */
	int first;	    /* awe_protect(): the first slot's protection before the call */
	/* map.c's: most calls change a slot or a few, and their ops then need
	 * no malloc (left uninitialised: clearing costs more than the call's
	 * own work); whether the range path carried the request out. */
	struct awe__op *small;
	bool done;
};
AWE__HIDDEN int awe__map(struct awe__ctx *c, struct awe__req *q);
AWE__HIDDEN int awe__map_scatter(struct awe__ctx *c, struct awe__req *q);
AWE__HIDDEN int awe__protect(struct awe__ctx *c, struct awe__req *q);
/* Take the frames idx[0..n-1] of the default instance (@sec NULL) or of
 * @sec off every slot they are shown at, all or nothing per window. */
AWE__HIDDEN int awe__unmap_frames(struct awe__ctx *c, struct awe__section *sec, const uint32_t *idx,
				  size_t n);
/* Take every frame off @w. */
AWE__HIDDEN int awe__unmap_window(struct awe__ctx *c, struct awe__window *w);

/* The size of a large frame and its shift; 0 when the kernel has no huge
 * pages (huge.c reads it once, when first asked). */
static inline size_t awe__large_page(void)
{
	return (size_t)awe__large_size();
}

static inline unsigned int awe__large_shift(void)
{
	return awe__large_page() ? (unsigned int)__builtin_ctzl(awe__large_page()) : 0;
}

/* What an engine instance of @c is told when it starts: one of small
 * frames or, with @large, of large ones. */
static inline void awe__ctx_conf(const struct awe__ctx *c, bool large, struct awe__eng_conf *conf)
{
	*conf = (struct awe__eng_conf){
		.page = large ? awe__large_page() : c->page,
		.page_shift = large ? awe__large_shift() : c->page_shift,
		.large = large,
		.base_page = c->page,
		.locked = c->locked,
		.memlock_limit = c->memlock_limit,
	};
}

/* large.c: the instance of the process's large frames, started if need
 * be: -EOPNOTSUPP when the kernel has no huge pages. */
AWE__HIDDEN int awe__large_eng(struct awe__ctx *c, struct awe__eng **e);

/* The frame number of table index @idx. */
static inline awe_frame_t awe__frame_number(const struct awe__ctx *c, uint32_t idx)
{
	const struct awe__frame *f = &c->frames[idx];

	return ((awe_frame_t)f->gen << 32) | (f->large ? AWE_FRAME_LARGE : 0) | (idx + 1);
}

/* The frame named @f if it is allocated (its index in *@idx), else NULL.
 * Inline: every frame of every map call goes through here. */
static inline struct awe__frame *awe__frame_get(struct awe__ctx *c, awe_frame_t f, uint32_t *idx)
{
	uint32_t lo = (uint32_t)f;
	struct awe__frame *fr;

	if (lo == 0 || lo > c->nframes)
		return NULL;
	fr = &c->frames[lo - 1];
	if (fr->state != AWE__FRAME_OWNED || awe__frame_number(c, lo - 1) != f)
		return NULL;
	if (idx)
		*idx = lo - 1;
	return fr;
}

/* Start loading the entry of frame @f: a scatter call's frames are random,
 * and their entries are cache misses best taken side by side. */
static inline void awe__frame_prefetch(const struct awe__ctx *c, awe_frame_t f)
{
	uint32_t lo = (uint32_t)f;

	if (lo - 1 < c->nframes)
		__builtin_prefetch(&c->frames[lo - 1], 1);
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
	return ((base + len - 1) >> c->page_shift) < ((uint64_t)1 << AWE__HOME_BITS);
}

/* The protection slot @s of @w shows its frame with. */
static inline int awe__slot_prot(const struct awe__ctx *c, const struct awe__window *w, size_t s)
{
	if (w->sprot)
		return w->sprot[s];
	return w->slot[s] ? c->frames[w->slot[s] - 1].prot : AWE_PROT_NONE;
}

static inline uintptr_t awe__page_down(const struct awe__ctx *c, uintptr_t va)
{
	return va & ~(uintptr_t)(c->page - 1);
}

static inline size_t awe__slot_of(const struct awe__ctx *c, const struct awe__window *w,
				  uintptr_t va)
{
	(void)c;
	return (va - w->ew.base) >> w->sh;
}

/* Where the engine keeps the page of frame @i while it is not shown: its
 * home. A section frame's loc holds its section's id; its home is its
 * index, its page's place in the section's file. */
static inline uint64_t awe__frame_home(const struct awe__ctx *c, uint32_t i)
{
	return c->frames[i].sec ? i : c->frames[i].loc;
}

/* The instance a frame of the process (not of a section) lives in. */
static inline struct awe__eng *awe__own_eng(struct awe__ctx *c, const struct awe__frame *f)
{
	return f->large ? &c->large : &c->eng;
}

/* Whether the frame's page sits in its slot's page table entry (a frame
 * protected with AWE_PROT_NONE is kept off the window so that every access
 * faults). */
static inline bool awe__frame_present(const struct awe__frame *f)
{
	return f->mapped && f->prot != AWE_PROT_NONE;
}

#endif
