/* SPDX-License-Identifier: MIT */
/*
 * The UFFDIO_MOVE engine (Linux 6.8+).
 *
 * Frames are private anonymous pages with no fixed home: a page sits either
 * in a window slot or in parking space, and mapping or unmapping moves the
 * page table entry with UFFDIO_MOVE, without copying and without creating
 * VMAs, so vm.max_map_count never limits how scattered mappings are.
 *
 * What the kernel requires (mm/userfaultfd.c) and how it is met:
 *  - both ranges private anonymous, writable, equally protected, and the
 *    destination registered with our userfaultfd: windows and parking are
 *    all plain read-write mappings registered with one descriptor, and
 *    protection is done without mprotect (write-protect bits for read-only,
 *    parking the page for no-access);
 *  - the page exclusive to the process: MADV_DONTFORK everywhere;
 *  - both VMAs mlocked or neither: locked mode locks every range with
 *    MLOCK_ONFAULT, which does not populate (plain mlock would fill the
 *    windows and make every later move fail with EEXIST);
 *  - an empty destination: replacing is "move out, then move in".
 * With UFFD_FEATURE_SIGBUS a touch of an empty window slot raises SIGBUS
 * instead of waiting for a handler, so nobody reads the descriptor. At start
 * each ioctl used is tried once (uffd_probe.c): a seccomp filter may allow
 * userfaultfd(2) and refuse one of them.
 */
#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <stdlib.h>
#include <string.h>

#include "engine.h"
#include "park.h"
#include "sys.h"
#include "uffd_probe.h"

#define NEED_FEATURES (UFFD_FEATURE_MOVE | UFFD_FEATURE_SIGBUS | UFFD_FEATURE_PAGEFAULT_FLAG_WP)
#define ZERO_LEN (2u << 20)   /* source of zero pages for UFFDIO_COPY */
#define ARENA_MIN_PAGES 4096u /* 16 MiB of 4 KiB pages */
#define CHUNK_PAGES 512u      /* arenas are whole 2 MiB page-table spans */
#define GAP_PAGES 16u	      /* empty slots a bulk move may carry along */
#define EAGAIN_RETRIES 1000

struct uffd {
	int fd;
	size_t page;
	struct awe__park park;
	size_t nframes; /* frames with a page here: parking holds them all */
	uintptr_t zero;
	size_t zero_len;
};

enum { ACT_MOVE, ACT_WP, ACT_UNWP };

struct act {
	int type;
	uintptr_t dst, src; /* ACT_WP/ACT_UNWP use dst only */
	size_t len;	    /* bytes */
	bool reserved;	    /* dst is parking reserved by this call */
};

struct plan {
	struct awe__ctx *c;
	struct uffd *u;
	struct act *log;
	size_t nlog, cap;
	size_t spare; /* parking slots bulk moves may spend on holes */
	size_t nout;  /* ops taking a page off its slot */
	size_t nin;   /* ops putting a parked page on its slot */
	size_t nfix;  /* ops whose frames change loc other than by going out */
	struct act small_log[8];
};

/*
 * Bytes from the start of [dst, dst + len) that UFFDIO_MOVE moved although it
 * did not count them. Linux 6.18 does that when a page it moves is being
 * migrated (compaction migrates mlocked pages too): the move goes through,
 * then the ioctl fails with EEXIST at that very page, moved = -EEXIST. Our
 * destinations are always empty, so a page now at the destination and gone
 * from the source was moved by this call; mincore() tells, page by page.
 */
static size_t moved_uncounted(struct uffd *u, uintptr_t dst, uintptr_t src, size_t len, bool holes)
{
	enum { BATCH = 64 };
	unsigned char in[BATCH], out[BATCH];
	size_t pages = len / u->page, n = 0;

	while (n < pages) {
		size_t k = pages - n < BATCH ? pages - n : BATCH;

		if (awe__sys_mincore(dst + n * u->page, k * u->page, in) ||
		    awe__sys_mincore(src + n * u->page, k * u->page, out))
			break;
		for (size_t i = 0; i < k; i++, n++)
			if ((out[i] & 1) || (!(in[i] & 1) && !holes))
				return n * u->page;
	}
	return n * u->page;
}

AWE__HOT static int move_pages(struct uffd *u, uintptr_t dst, uintptr_t src, size_t len, bool holes,
			       size_t *done)
{
	int tries = 0;

	*done = 0;
	if (awe__inject(&awe__test_fail_move)) {
		size_t half = (len / 2) & ~(u->page - 1);
		int r = half ? move_pages(u, dst, src, half, holes, done) : 0;

		return r ? r : -ENOMEM;
	}
	while (*done < len) {
		struct uffdio_move m = {
			.dst = dst + *done,
			.src = src + *done,
			.len = len - *done,
			.mode = holes ? UFFDIO_MOVE_MODE_ALLOW_SRC_HOLES : 0,
		};
		int r = awe__sys_ioctl(u->fd, UFFDIO_MOVE, &m);

		if (r == 0 && awe__inject(&awe__test_misreport_move)) {
			r = -EEXIST;
			m.move = -EEXIST;
		}
		if (r == 0) {
			*done = len;
			break;
		}
		if (m.move > 0)
			*done += (size_t)m.move;
		if (r == -EEXIST || r == -ENOENT) {
			size_t more =
				moved_uncounted(u, dst + *done, src + *done, len - *done, holes);

			if (!more)
				return r;
			*done += more;
			continue;
		}
		/* EAGAIN: a page was busy (its folio lock was contended). */
		if (r != -EAGAIN || ++tries > EAGAIN_RETRIES)
			return r;
		sched_yield();
	}
	return 0;
}

static int write_protect(struct uffd *u, uintptr_t va, size_t len, bool on)
{
	struct uffdio_writeprotect wp = {
		.range = {.start = va, .len = len},
		.mode = on ? UFFDIO_WRITEPROTECT_MODE_WP : 0,
	};

	return awe__sys_ioctl(u->fd, UFFDIO_WRITEPROTECT, &wp);
}

/* Register [base, base + len) with the userfaultfd: missing pages always
 * (SIGBUS on an empty slot), write-protection with @wp. Registering a range
 * again only changes its modes. */
static int register_range(struct uffd *u, uintptr_t base, size_t len, bool wp)
{
	struct uffdio_register reg = {
		.range = {.start = base, .len = len},
		.mode = UFFDIO_REGISTER_MODE_MISSING | (wp ? UFFDIO_REGISTER_MODE_WP : 0),
	};

	return awe__sys_ioctl(u->fd, UFFDIO_REGISTER, &reg);
}

/* Make a fresh range usable as a window or as parking. */
static int setup_range(struct awe__ctx *c, struct uffd *u, uintptr_t base, size_t len)
{
	int r;

	r = awe__sys_madvise(base, len, MADV_DONTFORK);
	if (r)
		return r;
	/* Huge pages would have to be split by every single-page move, and KSM
	 * merging (prctl PR_SET_MEMORY_MERGE) would make pages shared, which
	 * UFFDIO_MOVE refuses. Both are only hints, so errors do not matter. */
	awe__sys_madvise(base, len, MADV_NOHUGEPAGE);
	awe__sys_madvise(base, len, MADV_UNMERGEABLE);
	/* Not for write-protection yet: a window registered for it makes every
	 * move into or out of it slower (about 5 % of a single-page map+unmap
	 * pair on Linux 6.18), so that waits for its first read-only page. */
	r = register_range(u, base, len, false);
	if (r)
		return r;
	if (c->locked) {
		r = awe__sys_mlock2(base, len, MLOCK_ONFAULT);
		/* Over RLIMIT_MEMLOCK the kernel says ENOMEM (EPERM when the limit
		 * is 0); both mean "not allowed to lock", not "out of memory". */
		if (r == -ENOMEM || r == -EPERM || r == -EAGAIN)
			r = -EPERM;
	}
	return r;
}

static size_t parking_spare(const struct uffd *u);
static void trim_parking(struct awe__ctx *c, struct uffd *u, size_t floor);

static int uffd_window_reserve(struct awe__ctx *c, void *e, uintptr_t hint, size_t len, bool fixed,
			       uintptr_t *base)
{
	int flags = MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE;
	int r;

	if (fixed)
		flags |= MAP_FIXED_NOREPLACE;
	r = awe__sys_mmap(hint, len, PROT_READ | PROT_WRITE, flags, base);
	if (r)
		return r == -EEXIST ? r : -ENOMEM;
	/* Kernels before 4.17 ignore MAP_FIXED_NOREPLACE and treat it as a hint. */
	if (fixed && *base != hint) {
		awe__sys_munmap(*base, len);
		return -EEXIST;
	}
	r = setup_range(c, e, *base, len);
	if (r == -EPERM && parking_spare(e)) {
		/* Spare parking holds locked room the window may have. */
		trim_parking(c, e, 0);
		r = setup_range(c, e, *base, len);
	}
	if (r) {
		awe__sys_munmap(*base, len);
		return r == -EPERM ? r : -ENOMEM;
	}
	return 0;
}

static void uffd_window_release(struct awe__ctx *c, void *e, uintptr_t base, size_t len)
{
	(void)c;
	(void)e;
	awe__sys_munmap(base, len);
}

static int add_arena(struct awe__ctx *c, struct uffd *u, size_t pages)
{
	size_t len = pages << c->page_shift;
	uintptr_t base;
	int r;

	r = awe__sys_mmap(0, len, PROT_READ | PROT_WRITE,
			  MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, &base);
	if (r)
		return -ENOMEM;
	r = setup_range(c, u, base, len);
	if (!r)
		r = awe__park_add(&u->park, base, pages);
	if (r)
		awe__sys_munmap(base, len);
	return r;
}

/* Add parking for at least @need more pages, as much as allowed. Arenas grow
 * geometrically so that their number stays small; under a finite
 * RLIMIT_MEMLOCK only what the limit still allows is taken. */
static int grow_parking(struct awe__ctx *c, struct uffd *u, size_t need)
{
	size_t pages = u->park.total > need ? u->park.total : need;
	int r;

	if (pages < ARENA_MIN_PAGES)
		pages = ARENA_MIN_PAGES;
	pages = (pages + CHUNK_PAGES - 1) & ~(size_t)(CHUNK_PAGES - 1);
	r = add_arena(c, u, pages);
	if (r != -EPERM)
		return r;
	r = add_arena(c, u, need);
	if (r == -EPERM && c->memlock_limit != UINT64_MAX) {
		size_t fit = (size_t)(awe__memlock_room(c) >> c->page_shift);

		if (fit && fit < need)
			r = add_arena(c, u, fit);
	}
	return r;
}

/* Ranges at least this long get a whole parking run (take_run). */
#define RUN_MIN_PAGES 16u

/* Reserve parking for a range of @pages going out, in one run if at all
 * possible. Pieces are the trap: a range parked in pieces comes back in
 * pieces, a move each, and when parking is full its only free slots are the
 * scattered ones its frames left, so it never gets whole again. That is
 * what random single pages from two threads leave behind. So grow parking
 * rather than fragment a range, while it is at most twice the frames. */
static size_t take_run(struct awe__ctx *c, struct uffd *u, size_t pages, uintptr_t *at)
{
	size_t got = awe__park_take(&u->park, pages, 1, at);

	if (got == pages || pages < RUN_MIN_PAGES || u->park.total >= 2 * u->nframes)
		return got;
	if (got)
		awe__park_release(&u->park, *at, got);
	/* Failing to grow (RLIMIT_MEMLOCK) leaves the pieces. */
	grow_parking(c, u, pages);
	return awe__park_take(&u->park, pages, 1, at);
}

static ssize_t fill_zero(struct awe__ctx *c, struct uffd *u, uintptr_t dst, size_t pages)
{
	size_t len = pages << c->page_shift, done = 0;

	while (done < len) {
		size_t n = len - done < u->zero_len ? len - done : u->zero_len;
		struct uffdio_copy cp = {.dst = dst + done, .src = u->zero, .len = n};
		int r = awe__sys_ioctl(u->fd, UFFDIO_COPY, &cp);

		if (cp.copy > 0)
			done += (size_t)cp.copy;
		else if (r == 0)
			done += n;
		if (r && r != -EAGAIN)
			break;
	}
	return (ssize_t)(done >> c->page_shift);
}

static ssize_t uffd_alloc(struct awe__ctx *c, void *e, const uint32_t *idx, size_t n, int node)
{
	struct uffd *u = e;
	struct awe__node_saved saved;
	int err = 0;
	size_t done = 0;

	/* Parking must be able to hold every frame at once, mapped ones too:
	 * unmapping must never need more of it. Slots that mapped frames left
	 * free do not count. */
	if (u->park.total < u->nframes + n)
		err = grow_parking(c, u, u->nframes + n - u->park.total);
	if (u->park.total < u->nframes + n)
		n = u->park.total > u->nframes ? u->park.total - u->nframes : 0;
	awe__node_prefer(node, &saved);
	while (done < n) {
		uintptr_t at;
		size_t run = awe__park_take(&u->park, n - done, 1, &at);
		size_t got = (size_t)fill_zero(c, u, at, run);

		for (size_t i = 0; i < got; i++)
			c->frames[idx[done + i]].loc = (at >> c->page_shift) + i;
		done += got;
		if (got < run) {
			awe__park_release(&u->park, at + (got << c->page_shift), run - got);
			err = -ENOMEM;
			break;
		}
	}
	awe__node_restore(&saved);
	u->nframes += done;
	if (done == 0)
		return err ? err : -ENOMEM;
	return (ssize_t)done;
}

/*
 * Giving parking back. Parking is needed for every frame, but no more: when
 * frames are freed, what they leave is returned to the kernel (its address
 * space, page tables and, in locked mode, its room under RLIMIT_MEMLOCK,
 * which a later window or allocation may need), arena by arena. Only once
 * the spare part is worth it, above trim_floor(), so that allocation churn
 * does not map and unmap arenas call after call. An arena still holding a
 * few pages is emptied first, its pages moved to free slots of the others.
 */

/* Parking slots no frame needs. */
static size_t parking_spare(const struct uffd *u)
{
	return u->park.total > u->nframes ? u->park.total - u->nframes : 0;
}

/* Spare parking kept: as much as the frames use, at least an arena's worth,
 * or with a finite RLIMIT_MEMLOCK, a sixteenth of it. */
static size_t trim_floor(const struct awe__ctx *c, const struct uffd *u)
{
	size_t floor = ARENA_MIN_PAGES;

	if (c->locked && c->memlock_limit != UINT64_MAX &&
	    (c->memlock_limit >> c->page_shift) / 16 < floor)
		floor = (size_t)((c->memlock_limit >> c->page_shift) / 16);
	return u->nframes > floor ? u->nframes : floor;
}

/* Move the page at parking slot *@at to a slot of another arena. */
static bool rehome(struct awe__ctx *c, struct uffd *u, uintptr_t *at)
{
	uintptr_t to;
	size_t done;

	if (!awe__park_take_one(&u->park, &to))
		return false;
	if (move_pages(u, to, *at, c->page, false, &done)) {
		awe__park_release(&u->park, to, 1);
		return false;
	}
	awe__park_release(&u->park, *at, 1);
	*at = to;
	return true;
}

/* Move every page out of arena @ai: the parked frames' and those of frames
 * hidden behind AWE_PROT_NONE (their window's aside table says where).
 * Returns whether it is empty now. */
static bool evacuate(struct awe__ctx *c, struct uffd *u, size_t ai)
{
	uintptr_t lo = u->park.a[ai].base, hi = lo + (u->park.a[ai].npages << c->page_shift);
	bool ok = true;

	u->park.a[ai].draining = true;
	for (uint32_t i = 0; ok && i < c->nframes; i++) {
		struct awe__frame *f = &c->frames[i];
		uintptr_t at = awe__loc_addr(c, f);

		if (f->state != AWE__FRAME_OWNED || f->sec || f->mapped || at < lo || at >= hi)
			continue;
		ok = rehome(c, u, &at);
		f->loc = at >> c->page_shift;
	}
	for (size_t wi = 0; ok && wi < c->nwin; wi++) {
		struct awe__window *w = c->win[wi];

		for (size_t s = 0; ok && w->aside && !w->sec && s < w->npages; s++) {
			uint32_t k = w->slot[s];

			if (k && c->frames[k - 1].prot == AWE_PROT_NONE && w->aside[s] >= lo &&
			    w->aside[s] < hi)
				ok = rehome(c, u, &w->aside[s]);
		}
	}
	u->park.a[ai].draining = false;
	return ok && u->park.a[ai].used == 0;
}

static void drop_arena(struct awe__ctx *c, struct uffd *u, size_t ai)
{
	awe__sys_munmap(u->park.a[ai].base, u->park.a[ai].npages << c->page_shift);
	awe__park_remove(&u->park, ai);
}

/* The arena to give back next: empty ones first, the largest first, then
 * the least used; one whose pages the others have room for. */
static size_t trim_victim(const struct uffd *u)
{
	const struct awe__park *p = &u->park;
	size_t best = SIZE_MAX;

	for (size_t i = 0; i < p->n; i++) {
		const struct awe__arena *a = &p->a[i];

		if (p->total - a->npages < u->nframes ||
		    p->total - a->npages - (p->used - a->used) < a->used)
			continue;
		if (best == SIZE_MAX || a->used < p->a[best].used ||
		    (a->used == p->a[best].used && a->npages > p->a[best].npages))
			best = i;
	}
	return best;
}

/* Give back arenas until no more than @floor slots are spare (or none can
 * go). A big arena holding a few pages, with no room for them elsewhere,
 * has them moved to a small new one, once per call. */
static void trim_parking(struct awe__ctx *c, struct uffd *u, size_t floor)
{
	struct awe__park *p = &u->park;
	bool added = false;

	awe__park_flush(p);
	while (parking_spare(u) > floor) {
		size_t best = trim_victim(u);

		if (best == SIZE_MAX && !added && p->n) {
			size_t big = 0;
			uintptr_t at;

			for (size_t i = 1; i < p->n; i++)
				big = p->a[i].npages > p->a[big].npages ? i : big;
			added = true;
			at = p->a[big].base;
			if (4 * p->a[big].used > p->a[big].npages ||
			    add_arena(c, u,
				      (p->a[big].used + CHUNK_PAGES - 1) &
					      ~(size_t)(CHUNK_PAGES - 1)))
				return;
			/* Arenas are sorted by address: find it again. */
			best = (size_t)(awe__park_arena(p, at) - p->a);
		}
		if (best == SIZE_MAX || (p->a[best].used && !evacuate(c, u, best)))
			return;
		drop_arena(c, u, best);
	}
}

/* Parked frames' pages go, a run of consecutive parking slots per call. */
static size_t uffd_discard(struct awe__ctx *c, void *e, const uint32_t *idx, size_t n)
{
	struct uffd *u = e;
	size_t i = 0, j, floor;

	for (; i < n; i = j) {
		uintptr_t start = awe__loc_addr(c, &c->frames[idx[i]]);

		for (j = i + 1; j < n && awe__loc_addr(c, &c->frames[idx[j]]) ==
						 start + ((j - i) << c->page_shift);
		     j++)
			;
		/* DONTNEED_LOCKED (5.18) also drops pages of mlocked ranges, which
		 * plain DONTNEED refuses; every kernel with UFFDIO_MOVE has it. */
		if (awe__inject(&awe__test_fail_discard))
			break;
		if (awe__sys_madvise(start, (j - i) << c->page_shift, MADV_DONTNEED_LOCKED))
			break;
		awe__park_release(&u->park, start, j - i);
		u->nframes -= j - i;
	}
	floor = trim_floor(c, u);
	if (parking_spare(u) > floor)
		trim_parking(c, u, floor);
	return i;
}

static uint64_t uffd_parking_bytes(struct awe__ctx *c, void *e)
{
	return (uint64_t)((struct uffd *)e)->park.total << c->page_shift;
}

/* Room for one more entry in the log, made before the action it records:
 * an action done cannot go unrecorded for want of memory. */
static int log_room(struct plan *p)
{
	if (p->nlog == p->cap) {
		size_t cap = p->cap * 2;
		struct act *l = awe__inject(&awe__test_fail_alloc) ? NULL
				: p->log == p->small_log	   ? malloc(cap * sizeof(*l))
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

	if (awe__inject_sticky(&awe__test_fail_undo))
		return 0;
	if (a->type == ACT_MOVE)
		move_pages(p->u, a->src, a->dst, a->len, true, &back);
	else if (!write_protect(p->u, a->dst, a->len, a->type == ACT_UNWP))
		back = a->len;
	return back;
}

/* Undo the logged actions, newest first, checking each: the kernel may
 * refuse to put a page back (EBUSY when something pinned it since it
 * moved, EAGAIN after the retries). What came back gives back its reserved
 * parking; an action that did not come back entirely keeps in the log the
 * part that stays done. Returns whether everything came back. */
static bool rollback(struct plan *p)
{
	unsigned int sh = p->c->page_shift;
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
static bool still_done(const struct plan *p, uintptr_t va, bool out, bool wp)
{
	for (size_t i = 0; i < p->nlog; i++) {
		const struct act *a = &p->log[i];
		uintptr_t at = out ? a->src : a->dst;

		if (a->len && (a->type != ACT_MOVE) == wp && (wp || a->reserved == out) &&
		    va - at < a->len)
			return true;
	}
	return false;
}

/* Move, logging what moved even when the kernel stops part of the way. */
static int logged_move(struct plan *p, uintptr_t dst, uintptr_t src, size_t len, bool holes,
		       bool reserved)
{
	size_t done;
	int r = log_room(p);

	if (r) {
		if (reserved)
			awe__park_release(&p->u->park, dst, len >> p->c->page_shift);
		return r;
	}
	r = move_pages(p->u, dst, src, len, holes, &done);
	if (reserved && done < len)
		awe__park_release(&p->u->park, dst + done, (len - done) >> p->c->page_shift);
	if (done)
		p->log[p->nlog++] = (struct act){ACT_MOVE, dst, src, done, reserved};
	return r ? awe__kerr(r) : 0;
}

static bool physically_empty(struct awe__ctx *c, struct awe__window *w, uintptr_t va)
{
	uint32_t k = w->slot[awe__slot_of(c, w, va)];

	return !k || !awe__frame_present(&c->frames[k - 1]);
}

enum { K_OUT = 1, K_IN = 2 };

/* K_OUT: op @o takes a page off its slot (an unmap or replace of a visible
 * frame, or hiding one behind AWE_PROT_NONE). K_IN: it puts a parked page
 * on its slot. Worked out once per call into o->kind: every phase asks. */
static uint8_t op_kind(const struct awe__op *o)
{
	if (o->old == o->new) {
		if (o->oldprot != AWE_PROT_NONE && o->newprot == AWE_PROT_NONE)
			return K_OUT;
		return o->oldprot == AWE_PROT_NONE && o->newprot != AWE_PROT_NONE ? K_IN : 0;
	}
	return (o->old && o->oldprot != AWE_PROT_NONE ? K_OUT : 0) | (o->new ? K_IN : 0);
}

static bool goes_out(const struct awe__op *o)
{
	return o->kind & K_OUT;
}

static bool comes_in(const struct awe__op *o)
{
	return o->kind & K_IN;
}

/* Can the bulk move that ends at @a carry on to @b, moving the empty slots in
 * between along with it? One ioctl costs about as much as moving a dozen
 * pages, so short gaps are cheaper to carry than to skip. The holes take
 * parking slots, paid from a budget so that the pages themselves always
 * find room. */
static bool out_joins(struct plan *p, const struct awe__op *a, const struct awe__op *b)
{
	struct awe__ctx *c = p->c;
	size_t gap;

	if (a->win != b->win)
		return false;
	gap = ((b->va - a->va) >> c->page_shift) - 1;
	if (gap == 0)
		return true;
	if (gap > GAP_PAGES || gap > p->spare)
		return false;
	for (uintptr_t va = a->va + c->page; va < b->va; va += c->page)
		if (!physically_empty(c, a->win, va))
			return false;
	p->spare -= gap;
	return true;
}

/* Phase 1: every page leaving its slot goes to parking, a span of slots
 * per ioctl whatever holes the span has. */
static int move_out(struct plan *p, const struct awe__op *ops, size_t n)
{
	struct awe__ctx *c = p->c;
	size_t i = 0;

	while (i < n) {
		size_t first, last, pages;
		uintptr_t s;

		if (!goes_out(&ops[i])) {
			i++;
			continue;
		}
		first = last = i;
		for (i++; i < n; i++) {
			if (!goes_out(&ops[i]))
				continue;
			if (!out_joins(p, &ops[last], &ops[i]))
				break;
			last = i;
		}
		s = ops[first].va;
		pages = ((ops[last].va - s) >> c->page_shift) + 1;
		while (pages) {
			uintptr_t dst;
			size_t got = take_run(c, p->u, pages, &dst);
			int r;

			/* Cannot happen: parking has a slot for every frame and
			 * holes are paid from the spare budget. */
			if (!got)
				return -ENOMEM;
			r = logged_move(p, dst, s, got << c->page_shift, true, true);
			if (r)
				return r;
			s += got << c->page_shift;
			pages -= got;
		}
	}
	return 0;
}

static uintptr_t *aside_of(struct awe__ctx *c, const struct awe__op *o)
{
	return &o->win->aside[awe__slot_of(c, o->win, o->va)];
}

/* Where the page that op @o brings in is parked. */
static uintptr_t in_src(struct awe__ctx *c, const struct awe__op *o)
{
	if (o->old == o->new)
		return *aside_of(c, o);
	return awe__loc_addr(c, &c->frames[o->new - 1]);
}

/* Phase 2: parked pages go to their slots; slots and sources both
 * consecutive move in one ioctl, which is the common "map what I allocated"
 * and "remap what I unmapped" case. */
static int move_in(struct plan *p, const struct awe__op *ops, size_t n)
{
	struct awe__ctx *c = p->c;
	size_t i = 0, j;

	while (i < n) {
		const struct awe__arena *a;
		uintptr_t src, end;
		int r;

		if (!comes_in(&ops[i])) {
			i++;
			continue;
		}
		/* One move cannot span two arenas (two VMAs, maybe not adjacent). */
		src = in_src(c, &ops[i]);
		a = awe__park_arena(&p->u->park, src);
		end = a ? a->base + (a->npages << c->page_shift) : src + c->page;
		for (j = i + 1; j < n && comes_in(&ops[j]) && ops[j].win == ops[i].win; j++) {
			uintptr_t d = (j - i) << c->page_shift;

			if (ops[j].va != ops[i].va + d || in_src(c, &ops[j]) != src + d ||
			    src + d >= end)
				break;
		}
		r = logged_move(p, ops[i].va, src, (j - i) << c->page_shift, false, false);
		if (r)
			return r;
		i = j;
	}
	return 0;
}

/* +1: write-protect, -1: lift it, 0: nothing. Read-only is the uffd
 * write-protect bit rather than mprotect, which would split the window's VMA
 * and leave it unfit for moves. */
static int wp_change(const struct awe__op *o)
{
	if (o->old != o->new || o->oldprot == o->newprot)
		return 0;
	if (o->newprot == AWE_PROT_READ)
		return 1;
	return o->oldprot == AWE_PROT_READ && o->newprot == AWE_PROT_READWRITE ? -1 : 0;
}

/* Phase 3: read-only on and off, a run of slots per ioctl. */
static int protect(struct plan *p, const struct awe__op *ops, size_t n)
{
	struct awe__ctx *c = p->c;
	size_t i = 0, j;

	while (i < n) {
		int w = wp_change(&ops[i]), r;

		if (!w) {
			i++;
			continue;
		}
		for (j = i + 1; j < n && wp_change(&ops[j]) == w && ops[j].win == ops[i].win &&
				ops[j].va == ops[i].va + ((j - i) << c->page_shift);
		     j++)
			;
		r = log_room(p);
		if (r)
			return r;
		/* Logged even when refused: the kernel may have changed part of
		 * the range, and undoing what did not change is harmless. */
		p->log[p->nlog++] = (struct act){w > 0 ? ACT_WP : ACT_UNWP, ops[i].va, 0,
						 (j - i) << c->page_shift, false};
		r = write_protect(p->u, ops[i].va, (j - i) << c->page_shift, w > 0);
		if (r)
			return awe__kerr(r);
		i = j;
	}
	return 0;
}

/* Consecutive parking slots gathered into one release. */
struct span {
	uintptr_t start;
	size_t n;
};

static void span_add(struct awe__park *park, struct span *s, uintptr_t at, size_t page)
{
	if (s->n && at == s->start + s->n * page) {
		s->n++;
		return;
	}
	if (s->n)
		awe__park_release(park, s->start, s->n);
	s->start = at;
	s->n = 1;
}

/* Bulk moves out reserved whole spans of parking: record where each page
 * went, and give back the slots of the holes the spans carried along. The
 * log and the ops are both in address order. */
static void settle_out(struct plan *p, const struct awe__op *ops, size_t n)
{
	struct awe__ctx *c = p->c;
	struct awe__park *park = &p->u->park;
	size_t k = 0;

	for (size_t i = 0; i < p->nlog; i++) {
		const struct act *a = &p->log[i];
		uintptr_t next, at;

		if (!a->reserved)
			continue;
		next = a->dst;
		for (; k < n && ops[k].va < a->src + a->len; k++) {
			const struct awe__op *o = &ops[k];

			if (o->va < a->src || !goes_out(o))
				continue;
			at = a->dst + (o->va - a->src);
			if (at > next)
				awe__park_release(park, next, (at - next) >> c->page_shift);
			next = at + c->page;
			if (o->old == o->new)
				*aside_of(c, o) = at;
			else
				c->frames[o->old - 1].loc = at >> c->page_shift;
		}
		if (a->dst + a->len > next)
			awe__park_release(park, next, (a->dst + a->len - next) >> c->page_shift);
	}
}

/* Everything moved: record where each page is now. */
static void settle(struct plan *p, const struct awe__op *ops, size_t n)
{
	struct awe__ctx *c = p->c;
	struct awe__park *park = &p->u->park;
	struct span rel = {0, 0};

	if (p->nout)
		settle_out(p, ops, n);
	for (size_t i = 0; (p->nfix || p->nin) && i < n; i++) {
		const struct awe__op *o = &ops[i];

		if (comes_in(o))
			span_add(park, &rel, in_src(c, o), c->page);
		if (o->old != o->new) {
			if (o->new)
				c->frames[o->new - 1].loc = o->va >> c->page_shift;
			/* A hidden frame leaves its window: its page is parked already. */
			if (o->old && !goes_out(o))
				c->frames[o->old - 1].loc = *aside_of(c, o) >> c->page_shift;
		}
	}
	if (rel.n)
		awe__park_release(park, rel.start, rel.n);
}

/*
 * After a failure: where the rollback left things. Each op is back as it
 * was, still done, or, for a replace whose new page had not come in,
 * emptied (its old page went to parking). A read-only page that went out
 * and came back gets its write-protection again, or stays read-write. The
 * ops are rewritten to what holds, so that the core records exactly that,
 * and the pages are recorded where they are. Returns whether everything is
 * as before the call (the failure was clean).
 */
static bool settle_failed(struct plan *p, struct awe__op *ops, size_t n, bool whole)
{
	struct awe__ctx *c = p->c;
	size_t out = 0, in = 0, fix = 0;
	bool clean = true;

	for (size_t i = 0; i < n; i++) {
		struct awe__op *o = &ops[i];
		bool gone = !whole && goes_out(o) && still_done(p, o->va, true, false);
		bool came = !whole && comes_in(o) && still_done(p, o->va, false, false);
		bool after = o->old == o->new && !whole &&wp_change(o) &&
			     still_done(p, o->va, false, true);

		if (o->old == o->new)
			after |= goes_out(o) ? gone : came;
		else
			after = came;
		if (!after && o->old != o->new && o->new)
			c->frames[o->new - 1].mark = 0; /* its claim goes */
		if (!after && !gone) {
			o->new = o->old;
			o->newprot = o->oldprot;
			if (goes_out(o) && o->oldprot == AWE_PROT_READ &&
			    (awe__inject_sticky(&awe__test_fail_undo) ||
			     write_protect(p->u, o->va, c->page, true)))
				o->newprot = AWE_PROT_READWRITE;
		} else if (!after) {
			o->new = 0; /* emptied: its old page is parked */
			o->newprot = 0;
		}
		clean &= o->old == o->new && o->newprot == o->oldprot;
		o->kind = op_kind(o);
		out += goes_out(o);
		in += comes_in(o);
		fix += o->old != o->new && (o->new || !goes_out(o));
	}
	if (clean)
		return true;
	p->nout = out;
	p->nin = in;
	p->nfix = fix;
	settle(p, ops, n);
	return false;
}

/* A window about to show a page read-only must be registered for
 * write-protection first (see setup_range), before anything changes. */
static int need_wp(struct awe__ctx *c, struct uffd *u, const struct awe__op *ops, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		struct awe__window *w = ops[i].win;
		int r;

		if (w->wp || wp_change(&ops[i]) <= 0)
			continue;
		r = register_range(u, w->base, w->npages << c->page_shift, true);
		if (r)
			return awe__kerr(r);
		w->wp = true;
	}
	return 0;
}

/* A frame about to be hidden needs its window's aside table: allocate it
 * before anything moves, so that failing to is a clean failure. */
static int need_aside(const struct awe__op *ops, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		struct awe__window *w = ops[i].win;

		if (ops[i].old != ops[i].new || !goes_out(&ops[i]) || w->aside)
			continue;
		w->aside = awe__inject(&awe__test_fail_alloc)
				   ? NULL
				   : calloc(w->npages, sizeof(*w->aside));
		if (!w->aside)
			return -ENOMEM;
	}
	return 0;
}

/* One page into an empty slot, or one visible page off its slot: the
 * scatter call of emulators and caches, where fixed costs are the cost.
 * A single move either happens or not, so there is nothing to roll back. */
AWE__HOT static int apply_one(struct awe__ctx *c, struct uffd *u, const struct awe__op *o)
{
	uint32_t k = (o->new ? o->new : o->old) - 1;
	uintptr_t src, dst;
	size_t done;
	bool unlocked;
	int r;

	if (o->new) {
		src = awe__loc_addr(c, &c->frames[k]);
		dst = o->va;
	} else if (!awe__park_take_one(&u->park, &dst)) {
		return -ENOMEM; /* cannot happen: parking has a slot per frame */
	} else {
		src = o->va;
	}
	unlocked = awe__unlock_for_moves(c, o->win);
	r = move_pages(u, dst, src, c->page, false, &done);
	if (unlocked)
		awe__relock_after_moves(c, o->win);
	if (r) {
		if (!o->new)
			awe__park_put_one(&u->park, dst);
		return awe__kerr(r);
	}
	if (o->new)
		awe__park_put_one(&u->park, src);
	c->frames[k].loc = dst >> c->page_shift;
	return 0;
}

static void plan_start(struct plan *p, struct awe__ctx *c, struct uffd *u)
{
	p->c = c;
	p->u = u;
	p->nlog = 0;
	/* Small calls, the common case, stay off the heap. */
	p->log = p->small_log;
	p->cap = sizeof(p->small_log) / sizeof(p->small_log[0]);
}

static void plan_end(struct plan *p)
{
	if (p->log != p->small_log)
		free(p->log);
}

/* The range path after a rollback the kernel refused in part: the pages
 * that did not come back are where the log says. In, such a frame is at its
 * slot and its parking slot is free; out, it is in the parking its move
 * reserved. The core reads from the frames' loc which moved. */
static void range_settle_failed(struct plan *p, uintptr_t va, const uint32_t *idx, bool in)
{
	struct awe__ctx *c = p->c;
	unsigned int sh = c->page_shift;

	for (size_t l = 0; l < p->nlog; l++) {
		const struct act *a = &p->log[l];

		for (size_t m = 0; m < a->len >> sh; m++) {
			uintptr_t slot = (in ? a->dst : a->src) + (m << sh);
			struct awe__frame *f = &c->frames[idx[(slot - va) >> sh]];

			if (in) {
				awe__park_release(&p->u->park, a->src + (m << sh), 1);
				f->loc = slot >> sh;
			} else {
				f->loc = (a->dst >> sh) + m;
			}
		}
	}
}

/* The range path (engine.h). In: each run of frames parked at consecutive
 * slots of one arena moves in one ioctl, as move_in() would; out: the range
 * goes to as few parking runs as parking has. The runs are planned under the
 * lock, moved perhaps without it (ctx.c), and recorded under it again. */
static int uffd_move_range(struct awe__ctx *c, void *e, struct awe__window *w, uintptr_t va,
			   const uint32_t *idx, size_t n, bool in)
{
	struct uffd *u = e;
	struct plan p;
	unsigned int sh = c->page_shift;
	size_t i, j, k = 0, l, done = 0;
	bool unlocked;
	int r = 0;

	plan_start(&p, c, u);
	for (i = 0; !r && i < n; i = j) {
		struct act a = {ACT_MOVE, 0, 0, 0, !in};
		const struct awe__arena *ar;
		uintptr_t end;

		if (!in) {
			j = i + take_run(c, u, n - i, &a.dst);
			a.src = va + (i << sh);
			/* Cannot fail: parking has a slot for every frame. */
			if (j == i) {
				r = -ENOMEM;
				break;
			}
		} else {
			a.dst = va + (i << sh);
			a.src = awe__loc_addr(c, &c->frames[idx[i]]);
			ar = awe__park_arena(&u->park, a.src);
			end = ar ? ar->base + (ar->npages << sh) : a.src + c->page;
			for (j = i + 1; j < n; j++) {
				uintptr_t next = a.src + ((j - i) << sh);

				if (next >= end || awe__loc_addr(c, &c->frames[idx[j]]) != next)
					break;
			}
		}
		a.len = (j - i) << sh;
		r = log_room(&p);
		if (r && a.reserved)
			awe__park_release(&u->park, a.dst, j - i);
		if (!r)
			p.log[p.nlog++] = a;
	}
	if (r) {
		/* Nothing moved yet: give back what was reserved, and nothing
		 * to undo (undoing moves that never happened would move pages
		 * that are not ours to move). */
		for (l = 0; l < p.nlog; l++)
			if (p.log[l].reserved)
				awe__park_release(&u->park, p.log[l].dst, p.log[l].len >> sh);
		plan_end(&p);
		return r;
	}
	unlocked = awe__unlock_for_moves(c, w);
	for (l = 0; l < p.nlog; l++) {
		r = move_pages(u, p.log[l].dst, p.log[l].src, p.log[l].len, false, &done);
		if (r)
			break;
	}
	if (unlocked)
		awe__relock_after_moves(c, w);
	if (r) {
		/* Keep in the log only what moved, and give back the parking
		 * reserved for what did not; rollback() undoes the rest. */
		for (size_t m = l; m < p.nlog; m++) {
			struct act *a = &p.log[m];
			size_t keep = m == l ? done : 0;

			if (a->reserved && a->len > keep)
				awe__park_release(&u->park, a->dst + keep, (a->len - keep) >> sh);
			a->len = keep;
		}
		p.nlog = l + 1;
		r = awe__kerr(r);
		if (!rollback(&p)) {
			range_settle_failed(&p, va, idx, in);
			r = -ENOTRECOVERABLE;
		}
	} else if (in) {
		struct span rel = {0, 0};

		for (i = 0; i < n; i++) {
			span_add(&u->park, &rel, awe__loc_addr(c, &c->frames[idx[i]]), c->page);
			c->frames[idx[i]].loc = (va >> sh) + i;
		}
		if (rel.n)
			awe__park_release(&u->park, rel.start, rel.n);
	} else {
		/* The log holds the parking runs, in the range's order. */
		for (l = 0; l < p.nlog; l++)
			for (size_t m = 0; m < p.log[l].len >> sh; m++)
				c->frames[idx[k++]].loc = (p.log[l].dst >> sh) + m;
	}
	plan_end(&p);
	return r;
}

/* Everything else, all-or-nothing through the move log. Not inlined: its
 * frame is half a kilobyte of stack that apply_one() should not touch. */
static __attribute__((noinline)) int apply_many(struct awe__ctx *c, struct uffd *u,
						struct awe__op *ops, size_t n)
{
	struct plan p; /* not cleared: the small log is written before read */
	size_t out = 0, in = 0, wp = 0, fix = 0;
	int r;

	/* Most calls only map or only unmap: skip the phases with nothing to
	 * do, which for a 512-page sweep is most of the bookkeeping. */
	for (size_t i = 0; i < n; i++) {
		uint8_t k = ops[i].kind = op_kind(&ops[i]);
		bool o = k & K_OUT;

		out += o;
		in += (k & K_IN) != 0;
		wp += ops[i].old == ops[i].new;
		fix += ops[i].old != ops[i].new && (ops[i].new || !o);
	}
	plan_start(&p, c, u);
	p.nout = out;
	p.nfix = fix;
	p.nin = in;
	/* Parking holds a slot for every frame (uffd_alloc sees to it), so at
	 * least as many are free as there are visible frames to take out. */
	p.spare = awe__park_free(&p.u->park) > out ? awe__park_free(&p.u->park) - out : 0;
	r = wp ? need_aside(ops, n) : 0;
	if (!r && wp)
		r = need_wp(c, u, ops, n);
	if (r)
		goto out;
	if (out)
		r = move_out(&p, ops, n);
	if (!r && in)
		r = move_in(&p, ops, n);
	if (!r && wp)
		r = protect(&p, ops, n);
	if (!r)
		settle(&p, ops, n);
	else if (!settle_failed(&p, ops, n, rollback(&p)))
		r = -ENOTRECOVERABLE;
out:
	plan_end(&p);
	return r;
}

AWE__HOT static int uffd_apply(struct awe__ctx *c, void *e, struct awe__op *ops, size_t n)
{
	if (n == 1 && (ops->old == 0 || ops->new == 0) && ops->oldprot != AWE_PROT_READ &&
	    op_kind(ops) != 0 && ops->old != ops->new)
		return apply_one(c, e, ops);
	return apply_many(c, e, ops, n);
}

static const char *missing_feature(uint64_t have)
{
	if (!(have & UFFD_FEATURE_MOVE))
		return "the kernel's userfaultfd lacks UFFDIO_MOVE (UFFD_FEATURE_MOVE, Linux 6.8 or "
		       "later); run awe-info for details";
	if (!(have & UFFD_FEATURE_SIGBUS))
		return "the kernel's userfaultfd lacks UFFD_FEATURE_SIGBUS (Linux 4.14 or later)";
	return "the kernel's userfaultfd lacks write-protection of anonymous memory "
	       "(UFFD_FEATURE_PAGEFAULT_FLAG_WP, Linux 5.7 or later on x86-64)";
}

/* Which of the features we need does the kernel lack? Asking needs a fresh
 * descriptor: the UFFDIO_API handshake can be done only once per descriptor. */
static int probe_features(uint64_t *have)
{
	struct uffdio_api api = {.api = UFFD_API};
	int fd = awe__sys_userfaultfd(O_CLOEXEC | O_NONBLOCK | UFFD_USER_MODE_ONLY);
	int r;

	if (fd < 0)
		return fd;
	r = awe__sys_ioctl(fd, UFFDIO_API, &api);
	awe__sys_close(fd);
	*have = api.features;
	return r;
}

static int open_uffd(int *out)
{
	struct uffdio_api api = {.api = UFFD_API, .features = NEED_FEATURES};
	uint64_t have = 0;
	int fd, r;

	/* UFFD_USER_MODE_ONLY needs no privilege, even with
	 * vm.unprivileged_userfaultfd=0, and makes a system call that touches an
	 * empty slot fail with EFAULT instead of waiting for a handler. */
	fd = awe__sys_userfaultfd(O_CLOEXEC | O_NONBLOCK | UFFD_USER_MODE_ONLY);
	if (fd == -ENOSYS) {
		awe__set_detail(ENOSYS, "userfaultfd(2) is not implemented by this kernel "
					"(CONFIG_USERFAULTFD is off) or is blocked by seccomp");
		return -ENOSYS;
	}
	if (fd == -EPERM) {
		awe__set_detail(ENOSYS, "userfaultfd(2) was refused with EPERM: a seccomp filter "
					"or security policy blocks it");
		return -ENOSYS;
	}
	if (fd == -EINVAL) {
		awe__set_detail(EOPNOTSUPP, "userfaultfd(2) rejects UFFD_USER_MODE_ONLY "
					    "(Linux 5.11 or later); UFFDIO_MOVE needs Linux 6.8");
		return -EOPNOTSUPP;
	}
	if (fd < 0)
		return fd;
	r = awe__sys_ioctl(fd, UFFDIO_API, &api);
	if (r == 0 && (api.features & NEED_FEATURES) == NEED_FEATURES) {
		*out = fd;
		return 0;
	}
	awe__sys_close(fd);
	if (r != 0 && r != -EINVAL)
		return r;
	probe_features(&have);
	awe__set_detail(EOPNOTSUPP, missing_feature(have));
	return -EOPNOTSUPP;
}

/* The sentence of a refused ioctl, for awe_strerror(), which hands out the
 * pointer: written only under the library's lock and only when the text
 * changes, in turn into two buffers, so that a text handed out stays as it
 * was at least until the next change. */
static char refusal[2][192];
static int refusal_cur;

/* A kernel with UFFDIO_MOVE may still refuse it, or another ioctl we need,
 * to this process (a seccomp filter that allows userfaultfd(2)); then
 * every map would fail. Trying each once here costs a few system calls and
 * lets engine selection fall back to memfd, as for a missing userfaultfd. */
static int probe_ioctls(struct uffd *u)
{
	char text[sizeof(refusal[0])];
	const char *call;
	int r = awe__uffd_probe(u->fd, u->page, u->zero, &call);

	if (r == 0)
		return 0;
	if (r == -ENOMEM || strcmp(call, "mmap") == 0)
		return -ENOMEM;
	awe__uffd_probe_explain(call, -r, text, sizeof(text));
	if (strcmp(text, refusal[refusal_cur]) != 0) {
		refusal_cur ^= 1;
		memcpy(refusal[refusal_cur], text, sizeof(text));
	}
	awe__set_detail(ENOSYS, refusal[refusal_cur]);
	return -ENOSYS;
}

static void uffd_fini(struct awe__ctx *c, void *e, bool forked);

static int uffd_init(struct awe__ctx *c, void **e)
{
	struct uffd *u = calloc(1, sizeof(*u));
	int r;

	if (!u)
		return -ENOMEM;
	r = open_uffd(&u->fd);
	if (r) {
		free(u);
		return r;
	}
	u->page = c->page;
	/* Reading untouched anonymous memory yields the shared zero page, so
	 * this costs no memory and is always a valid UFFDIO_COPY source. */
	u->zero_len = ZERO_LEN;
	r = awe__sys_mmap(0, u->zero_len, PROT_READ, MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE,
			  &u->zero);
	if (r) {
		awe__sys_close(u->fd);
		free(u);
		return -ENOMEM;
	}
	awe__park_init(&u->park, c->page_shift);
	r = probe_ioctls(u);
	if (r) {
		uffd_fini(c, u, false); /* nothing parked yet */
		return r;
	}
	*e = u;
	return 0;
}

static void uffd_fork_child(void *e)
{
	struct uffd *u = e;

	awe__sys_close(u->fd);
	u->fd = -1;
}

static void uffd_fini(struct awe__ctx *c, void *e, bool forked)
{
	struct uffd *u = e;

	/* A fork child has none of the parent's windows or parking (they are
	 * MADV_DONTFORK), but does have the zero source. */
	if (!forked)
		for (size_t i = 0; i < u->park.n; i++)
			awe__sys_munmap(u->park.a[i].base, u->park.a[i].npages << c->page_shift);
	awe__sys_munmap(u->zero, u->zero_len);
	if (u->fd >= 0)
		awe__sys_close(u->fd);
	awe__park_fini(&u->park);
	free(u);
}

const struct awe__engine awe__engine_uffd = {
	.name = "uffd-move",
	.init = uffd_init,
	.fini = uffd_fini,
	.fork_child = uffd_fork_child,
	.window_reserve = uffd_window_reserve,
	.window_release = uffd_window_release,
	.alloc = uffd_alloc,
	.discard = uffd_discard,
	.parking_bytes = uffd_parking_bytes,
	.apply = uffd_apply,
	.move_range = uffd_move_range,
};
