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
/* The path of a map call: kept together in .text.hot. A UFFDIO_MOVE call
 * costs user space its cached translations, so every distinct page a call
 * touches after the move costs a page walk; on a single-page map+unmap pair
 * spreading the path over six pages of code cost 3 %. */
#define AWE__HOT __attribute__((hot))

struct awe__engine;
struct awe_stats;

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

/* Bits of a page number: addresses below 2^50 with 4 KiB pages, more than
 * any x86-64 or arm64 user address space without 5-level tables. */
#define AWE__LOC_BITS 38
/* Bits of the generation, the upper half of a frame number. A table slot
 * whose generation is used up is retired, not reused. */
#define AWE__GEN_BITS 19

/* One frame, 8 bytes: the table is the library's main memory cost and is
 * touched at random by scatter calls, so it is kept as small as the cache
 * likes it. A frame has no fixed home; @loc says where its page is.
 *
 * A frame of an AWE section (@sec) may be shown at several slots at once:
 * its windows keep the protection per slot, @mapped and @prot stay 0, and
 * @loc holds the section's id. Its page is in the section's memfd at
 * index << page shift, as the page of every frame of a memfd instance is. */
struct awe__frame {
	/* Page number (address >> page shift) of the slot while mapped;
	 * otherwise where the engine keeps the page; on the free list, index + 1
	 * of the next free table slot. */
	uint64_t loc : AWE__LOC_BITS;
	uint64_t gen : AWE__GEN_BITS;
	uint64_t sec : 1;    /* frame of an AWE section */
	uint64_t state : 2;  /* AWE__FRAME_* */
	uint64_t prot : 2;   /* AWE_PROT_* while mapped */
	uint64_t mark : 1;   /* claimed by the map call being checked */
	uint64_t mapped : 1; /* shown in a window slot (perhaps AWE_PROT_NONE) */
};
_Static_assert(sizeof(struct awe__frame) == 8, "struct awe__frame must stay 8 bytes");

/* An AWE section (Windows 10's AWE section object): frames of its own, in a
 * memfd instance of its own, shown in windows tied to it. */
struct awe__section {
	uint32_t id;	 /* the handle: never 0, never reused */
	bool closed;	 /* handle closed: goes away with its last window */
	size_t nwindows; /* windows tied to it */
	uint64_t nframes;
	struct awe__eng eng;
};

struct awe__window {
	uintptr_t base;
	size_t npages;
	struct awe__eng *eng;	  /* the default instance, or sec's */
	struct awe__section *sec; /* NULL: a plain window */
	uint32_t *slot;		  /* frame index + 1 per slot, 0 when empty */
	uint8_t *sprot;		  /* section windows: AWE_PROT_* per slot */
	/* One word per slot for the engine, allocated when it first needs one
	 * (the UFFDIO_MOVE engine: where the page of an AWE_PROT_NONE frame is
	 * parked). */
	uintptr_t *aside;
	size_t nmapped;
	bool wp;	   /* the engine has readied it for AWE_PROT_READ */
	unsigned int busy; /* calls moving pages of it without the lock */
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
	struct awe__eng eng;	   /* the default engine instance */
	const char *engine_reason; /* why that engine */
	char reason_buf[200];
	/* memfd instances: most VMAs their windows can come to by unmapping,
	 * kept below vm.max_map_count (see engine_memfd.c) */
	uint64_t vma_worst;
	uint64_t max_map_count;

	struct awe__frame *frames;
	uint32_t nframes, frames_cap; /* table slots in use / allocated */
	uint32_t free_head;	      /* index + 1 of the first reusable slot */
	uint64_t allocated, mapped;
	uint64_t avail_pages; /* allocatable pages at avail_stamp (seconds) */
	int64_t avail_stamp;

	struct awe__section **sec; /* sorted by id */
	size_t nsec, sec_cap;
	uint32_t last_sec_id;

	unsigned int moving; /* calls moving pages without the lock (ctx.c) */

	struct awe__window **win;     /* sorted by base */
	struct awe__window *last_win; /* the window found last */
	size_t nwin, win_cap;
	uint64_t window_bytes;
};

/* lock.c: the process-wide lock, biased towards a thread that uses the
 * library alone. awe__lock_shared(): some thread once had to wait for it
 * and the holder is not the bias owner (map calls then let go of it during
 * their moves). awe__lock_wait() and awe__lock_wake_all(): a condition on
 * it, for calls that let go of it. */
AWE__HIDDEN void awe__lock(void);
AWE__HIDDEN void awe__unlock(void);
AWE__HIDDEN bool awe__lock_shared(void);
AWE__HIDDEN void awe__lock_wait(void);
AWE__HIDDEN void awe__lock_wake_all(void);
/* fork(): the prepare handler takes the lock by the mutex; the child starts
 * the lock over. */
AWE__HIDDEN void awe__lock_fork_prepare(void);
AWE__HIDDEN void awe__lock_fork_parent(void);
AWE__HIDDEN void awe__lock_fork_child(void);
/* Test hooks: the holder took the lock by its bias; the streak of lone
 * mutex calls that earns a thread the bias (0: the real policy). */
AWE__HIDDEN bool awe__test_lock_biased(void);
extern AWE__HIDDEN unsigned int awe__test_bias_streak;

/* Test hooks (tests link the static library): when set, called at the named
 * points of slow paths, so that a test can stop a thread there and provoke
 * an interleaving deterministically instead of by luck. */
enum awe__hook_point {
	AWE__HOOK_LOCK_TRADE,	 /* awe__lock_wait(): a holder by bias trades it */
	AWE__HOOK_LOCK_REVOKING, /* the mutex is held, the bias not yet revoked */
	AWE__HOOK_LOCK_GRANT,	 /* the lock considers giving a thread the bias */
	AWE__HOOK_FRAME_ADDR,	 /* awe_frame_addr() has let go of the lock */
	AWE__HOOK_STATS,	 /* awe_stats() holds the lock */
	AWE__HOOK_MOVING,	 /* a call let go of the lock for its moves */
};
extern AWE__HIDDEN void (*awe__test_hook)(enum awe__hook_point p);

/* hooks.c: fault injection counters of the test suite, and whether the
 * current call of a kind is to fail (once, or from then on). */
extern AWE__HIDDEN int awe__test_fail_move, awe__test_misreport_move, awe__test_fail_discard,
	awe__test_fail_undo, awe__test_fail_alloc;
AWE__HIDDEN bool awe__inject_sticky(int *counter);

/* Inline: it guards every UFFDIO_MOVE, and a call into hooks.c after the
 * move would cost the hot path a page of code (see AWE__HOT). */
static inline bool awe__inject(int *counter)
{
	return __builtin_expect(*counter > 0, 0) && --*counter == 0;
}

static inline void awe__hook(enum awe__hook_point p)
{
	if (__builtin_expect(awe__test_hook != NULL, 0))
		awe__test_hook(p);
}

/* ctx.c: lazy initialisation. awe__enter() takes the lock once
 * no call is moving pages without it; awe__enter_map() takes it at once, for
 * map calls, which wait only for the windows they use (awe__wait_moves()
 * while one is busy, then look again: the lock was let go meanwhile). */
AWE__HIDDEN int awe__enter(struct awe__ctx **c);
AWE__HIDDEN int awe__enter_map(struct awe__ctx **c);
AWE__HIDDEN void awe__leave(void);
AWE__HIDDEN void awe__wait_moves(void);
/* Let go of the lock for the moves of a call in window @w, which must leave
 * the tables and parking alone until awe__relock_after_moves(); false when
 * it was kept (no other thread has used the library concurrently). */
AWE__HIDDEN bool awe__unlock_for_moves(struct awe__ctx *c, struct awe__window *w);
AWE__HIDDEN void awe__relock_after_moves(struct awe__ctx *c, struct awe__window *w);
AWE__HIDDEN int awe__ret(int r);
/* Whether @p can be an array of @n elements of @size bytes in user memory
 * (uaddr.h); arguments outside it fail with -EFAULT before anything. */
AWE__HIDDEN bool awe__ptr_ok(const void *p, size_t n, size_t size);
AWE__HIDDEN uint64_t awe__memlock_limit(void);
/* Bytes that may still be locked under c->memlock_limit (finite): none when
 * what is locked already cannot be read. */
AWE__HIDDEN uint64_t awe__memlock_room(const struct awe__ctx *c);

/* error.c */
AWE__HIDDEN void awe__set_detail(int err, const char *detail);

/* frames.c */
AWE__HIDDEN awe_frame_t awe__frame_number(const struct awe__ctx *c, uint32_t idx);
/* Read how much memory may still be allocated into c->avail_pages. Context
 * creation primes it, so that a process that runs out of descriptors later
 * still has an honest number. */
AWE__HIDDEN int awe__frames_measure(struct awe__ctx *c);
AWE__HIDDEN void awe__frames_fini(struct awe__ctx *c);

/* frames.c: awe_alloc_node() and awe_free(), or with @in_section their
 * awe_section_*() counterparts for @section. */
AWE__HIDDEN ssize_t awe__alloc_call(bool in_section, awe_section_t section, awe_frame_t *frames,
				    size_t count, int node);
AWE__HIDDEN int awe__free_call(bool in_section, awe_section_t section, const awe_frame_t *frames,
			       size_t count, size_t *freed);
AWE__HIDDEN void awe__frame_forget(struct awe__ctx *c, uint32_t i);

/* windows.c */
AWE__HIDDEN struct awe__window *awe__window_find(struct awe__ctx *c, uintptr_t va);
AWE__HIDDEN int awe__window_create_call(bool in_section, awe_section_t section, size_t size,
					void *hint, unsigned int flags, void **base);
AWE__HIDDEN int awe__window_destroy(struct awe__ctx *c, struct awe__window *w);
AWE__HIDDEN void awe__windows_fini(struct awe__ctx *c);

/* section.c */
/* With @in_section, the open section @section into *@out (-ENOENT when
 * there is none); without, NULL: the process's own frames and windows. */
AWE__HIDDEN int awe__section_lookup(struct awe__ctx *c, bool in_section, awe_section_t section,
				    struct awe__section **out);
AWE__HIDDEN int awe__section_unmap_frames(struct awe__ctx *c, struct awe__section *sec,
					  const uint32_t *idx, size_t n);
AWE__HIDDEN void awe__section_destroy(struct awe__ctx *c, struct awe__section *sec);
AWE__HIDDEN void awe__sections_fini(struct awe__ctx *c, bool forked);
/* In a fork() child: close the sections' descriptors (engine.h). */
AWE__HIDDEN void awe__sections_fork_child(struct awe__ctx *c);

/* map.c: apply validated ops, then update the tables. */
AWE__HIDDEN int awe__commit(struct awe__ctx *c, struct awe__op *ops, size_t n);
/* map.c: take the mapped ones of frames idx[0..n-1] of the default instance
 * off their slots, all or nothing. */
AWE__HIDDEN int awe__unmap_frames(struct awe__ctx *c, const uint32_t *idx, size_t n);

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
	return ((base + len - 1) >> c->page_shift) < ((uint64_t)1 << AWE__LOC_BITS);
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
