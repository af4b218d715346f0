/* SPDX-License-Identifier: MIT */
/*
 * The UFFDIO_MOVE engine (Linux 6.8+): the instance, its windows and its
 * parking.
 *
 * Frames are private anonymous pages with no fixed home: a page sits either
 * in a window slot or in parking space, and mapping or unmapping moves the
 * page table entry with UFFDIO_MOVE, without copying and without creating
 * VMAs, so vm.max_map_count never limits how scattered mappings are. A
 * frame's home is the page number of its parking slot. What the kernel
 * requires of the ranges, and how it is met, is in uffd.h; moving is in
 * uffd_move.c. At start each ioctl used is tried once (uffd_probe.c): a
 * seccomp filter may allow userfaultfd(2) and refuse one of them.
 */
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>

#include "sysfacts.h"
#include "table.h"
#include "uffd.h"
#include "uffd_probe.h"

#define NEED_FEATURES (UFFD_FEATURE_MOVE | UFFD_FEATURE_SIGBUS | UFFD_FEATURE_PAGEFAULT_FLAG_WP)
#define ZERO_LEN (2u << 20) /* source of zero pages for UFFDIO_COPY */
#define ARENA_MIN_BYTES (16u << 20)
#define CHUNK_BYTES (2u << 20) /* arenas are whole 2 MiB page-table spans */
/* In the instance's pages (a large frame's page is a whole span). */
#define ARENA_MIN_PAGES ((size_t)(ARENA_MIN_BYTES >> u->sh))
#define CHUNK_PAGES (CHUNK_BYTES > u->page ? (size_t)(CHUNK_BYTES >> u->sh) : 1)

/* Make a fresh range usable as a window or as parking. */
int awe__uffd_setup_range(struct uffd *u, uintptr_t base, size_t len)
{
	int r;

	r = awe__sys_madvise(base, len, MADV_DONTFORK);
	if (r)
		return r;
	/* Huge pages would have to be split by every single-page move, and KSM
	 * merging (prctl PR_SET_MEMORY_MERGE) would make pages shared, which
	 * UFFDIO_MOVE refuses. Both are only hints, so errors do not matter.
	 * Large frames are huge pages: their ranges say so. */
	awe__sys_madvise(base, len, u->large ? MADV_HUGEPAGE : MADV_NOHUGEPAGE);
	awe__sys_madvise(base, len, MADV_UNMERGEABLE);
	/* Not for write-protection yet: a window registered for it makes every
	 * move into or out of it slower (about 5 % of a single-page map+unmap
	 * pair on Linux 6.18), so that waits for its first read-only page. */
	r = awe__uffd_register(u, base, len, false);
	if (r)
		return r;
	return u->locked ? awe__sys_lock_on_fault(base, len) : 0;
}

static int uffd_window_reserve(void *e, uintptr_t hint, size_t len, size_t align, bool fixed,
			       struct awe__ewin *w)
{
	struct uffd *u = e;
	struct uwin *uw = calloc(1, sizeof(*uw));
	int r;

	if (!uw ||
	    awe__table_room((void **)&u->win, &u->win_cap, u->nwin + 1, sizeof(*u->win), 16)) {
		free(uw);
		return -ENOMEM;
	}
	r = awe__sys_reserve(hint, len, align, fixed, PROT_READ | PROT_WRITE, &w->base);
	if (!r) {
		r = awe__uffd_setup_range(u, w->base, len);
		if (r)
			awe__sys_munmap(w->base, len);
		if (r && r != -EPERM)
			r = -ENOMEM;
	}
	if (r) {
		free(uw);
		return r;
	}
	w->npages = len >> u->sh;
	w->priv = uw;
	u->win[u->nwin++] = w;
	return 0;
}

static void uffd_window_release(void *e, struct awe__ewin *w)
{
	struct uffd *u = e;
	struct uwin *uw = uwin_of(w);

	awe__sys_munmap(w->base, w->npages << u->sh);
	for (size_t i = 0; i < u->nwin; i++)
		if (u->win[i] == w)
			u->win[i] = u->win[--u->nwin];
	free(uw->aside);
	free(uw);
	w->priv = NULL;
}

static int add_arena(struct uffd *u, size_t pages)
{
	size_t len = pages << u->sh;
	uintptr_t base;
	int r;

	/* Large frames' slots are aligned to their size, or no PMD moves. */
	r = awe__sys_reserve(0, len, u->large ? u->page : 0, false, PROT_READ | PROT_WRITE, &base);
	if (r)
		return -ENOMEM;
	r = awe__uffd_setup_range(u, base, len);
	if (!r)
		r = awe__park_add(&u->park, base, pages);
	if (r)
		awe__sys_munmap(base, len);
	return r;
}

/* Add parking for at least @need more pages, as much as allowed. Arenas grow
 * geometrically so that their number stays small; under a finite
 * RLIMIT_MEMLOCK only what the limit still allows is taken. */
static int grow_parking(struct uffd *u, size_t need)
{
	size_t pages = u->park.total > need ? u->park.total : need;
	int r;

	if (pages < ARENA_MIN_PAGES)
		pages = ARENA_MIN_PAGES;
	pages = (pages + CHUNK_PAGES - 1) & ~(size_t)(CHUNK_PAGES - 1);
	r = add_arena(u, pages);
	if (r != -EPERM)
		return r;
	r = add_arena(u, need);
	if (r == -EPERM && u->memlock_limit != UINT64_MAX) {
		size_t fit = (size_t)(awe__memlock_room(u->memlock_limit) >> u->sh);

		if (fit && fit < need)
			r = add_arena(u, fit);
	}
	return r;
}

/* Room for SPARE_MAX spares beyond a slot per frame and @n more, while
 * copying (uffd_copy.c): without it every unmap that needs a free slot
 * would drop the spare the map before it left, a shootdown each. */
void awe__uffd_headroom(struct uffd *u, size_t n)
{
	if (u->park.total < u->nframes + n + SPARE_MAX)
		grow_parking(u, u->nframes + n + SPARE_MAX - u->park.total);
}

/* Ranges at least this long get a whole parking run. */
#define RUN_MIN_PAGES 16u

/* Reserve parking for a range of @pages going out, in one run if at all
 * possible. Pieces are the trap: a range parked in pieces comes back in
 * pieces, a move each, and when parking is full its only free slots are the
 * scattered ones its frames left, so it never gets whole again. That is
 * what random single pages from two threads leave behind. So grow parking
 * rather than fragment a range, while it is at most twice the frames. */
size_t awe__uffd_take_run(struct uffd *u, size_t pages, uintptr_t *at)
{
	size_t got = awe__park_take(&u->park, pages, 1, at);

	if (got == pages || pages < RUN_MIN_PAGES || u->park.total >= 2 * u->nframes)
		return got;
	if (got)
		awe__park_release(&u->park, *at, got);
	/* Failing to grow (RLIMIT_MEMLOCK) leaves the pieces. */
	grow_parking(u, pages);
	return awe__park_take(&u->park, pages, 1, at);
}

static ssize_t uffd_alloc(void *e, const uint32_t *idx, uint64_t *home, size_t n, int node)
{
	struct uffd *u = e;
	struct awe__node_saved saved;
	int err = 0;
	size_t done = 0;

	(void)idx;
	if (u->large) {
		int r = awe__uffd_stage(u);

		if (r)
			return r;
	}
	/* Parking must be able to hold every frame at once, mapped ones too:
	 * unmapping must never need more of it. Slots that mapped frames left
	 * free do not count. */
	if (u->park.total < u->nframes + n)
		err = grow_parking(u, u->nframes + n - u->park.total);
	if (u->copying)
		awe__uffd_headroom(u, n);
	if (u->park.total < u->nframes + n)
		n = u->park.total > u->nframes ? u->park.total - u->nframes : 0;
	awe__uffd_room(u, n);
	awe__node_prefer(node, &saved);
	awe__hook(AWE__HOOK_ALLOC_NODE);
	while (done < n) {
		uintptr_t at;
		size_t run = awe__park_take(&u->park, n - done, 1, &at), got;

		if (!run) { /* cannot happen: room was made above */
			err = -ENOMEM;
			break;
		}
		got = u->large ? awe__uffd_fill_large(u, at, run) : awe__uffd_fill_zero(u, at, run);

		for (size_t i = 0; i < got; i++)
			home[done + i] = (at >> u->sh) + i;
		done += got;
		if (got < run) {
			awe__park_release(&u->park, at + (got << u->sh), run - got);
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

/* The parked pages at [home, home + n) go. DONTNEED_LOCKED (5.18) also
 * drops pages of mlocked ranges, which plain DONTNEED refuses; every kernel
 * with UFFDIO_MOVE has it. */
static int uffd_discard(void *e, uint64_t home, size_t n)
{
	struct uffd *u = e;
	int r = awe__sys_madvise(home << u->sh, n << u->sh, MADV_DONTNEED_LOCKED);

	if (!r) {
		awe__park_release(&u->park, home << u->sh, n);
		u->nframes -= n;
	}
	return r;
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
 * or with a finite RLIMIT_MEMLOCK, a sixteenth of it; none when @all. */
static size_t trim_floor(const struct uffd *u, bool all)
{
	size_t floor = ARENA_MIN_PAGES;

	if (all)
		return 0;
	if (u->locked && u->memlock_limit != UINT64_MAX && (u->memlock_limit >> u->sh) / 16 < floor)
		floor = (size_t)((u->memlock_limit >> u->sh) / 16);
	return u->nframes > floor ? u->nframes : floor;
}

static bool uffd_trim_wanted(void *e, bool all)
{
	struct uffd *u = e;

	return parking_spare(u) > trim_floor(u, all);
}

/* Move the page at parking slot *@at to a slot of another arena. */
static bool rehome(struct uffd *u, uintptr_t *at)
{
	uintptr_t to;
	size_t done;

	if (!awe__park_take_one(&u->park, &to))
		return false;
	if (awe__uffd_move(u, to, *at, u->page, false, &done)) {
		awe__park_release(&u->park, to, 1);
		return false;
	}
	awe__park_release(&u->park, *at, 1);
	*at = to;
	return true;
}

/* Move every page out of arena @ai: the parked frames' (home[0..n-1]) and
 * those of frames hidden behind AWE_PROT_NONE (their window's aside table
 * says where). Returns whether it is empty now. */
static bool evacuate(struct uffd *u, size_t ai, uint64_t *home, size_t n)
{
	uintptr_t lo = u->park.a[ai].base, hi = lo + (u->park.a[ai].npages << u->sh);
	bool ok = true;

	u->park.a[ai].draining = true;
	for (size_t i = 0; ok && i < n; i++) {
		uintptr_t at = home[i] << u->sh;

		if (at < lo || at >= hi)
			continue;
		ok = rehome(u, &at);
		home[i] = at >> u->sh;
	}
	for (size_t wi = 0; ok && wi < u->nwin; wi++) {
		struct uwin *uw = uwin_of(u->win[wi]);

		for (size_t s = 0; ok && uw->aside && s < u->win[wi]->npages; s++)
			if (uw->aside[s] >= lo && uw->aside[s] < hi)
				ok = rehome(u, &uw->aside[s]);
	}
	u->park.a[ai].draining = false;
	return ok && u->park.a[ai].used == 0;
}

static void drop_arena(struct uffd *u, size_t ai)
{
	awe__sys_munmap(u->park.a[ai].base, u->park.a[ai].npages << u->sh);
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

/* Give back arenas until no more than the floor is spare (or none can go).
 * A big arena holding a few pages, with no room for them elsewhere, has
 * them moved to a small new one, once per call. Moving pages needs the
 * homes of the parked frames: without them (@home NULL), returns 1 where
 * they would be needed. */
static int uffd_trim(void *e, bool all, uint64_t *home, size_t n)
{
	struct uffd *u = e;
	struct awe__park *p = &u->park;
	size_t floor = trim_floor(u, all);
	bool added = false;

	awe__uffd_spares_drop(u, 0);
	awe__park_flush(p);
	while (parking_spare(u) > floor) {
		size_t best = trim_victim(u);

		if (best == SIZE_MAX && !added && p->n) {
			size_t big = 0;
			uintptr_t at;

			for (size_t i = 1; i < p->n; i++)
				big = p->a[i].npages > p->a[big].npages ? i : big;
			if (4 * p->a[big].used > p->a[big].npages)
				return 0;
			if (!home)
				return 1;
			added = true;
			at = p->a[big].base;
			if (add_arena(u, (p->a[big].used + CHUNK_PAGES - 1) &
						 ~(size_t)(CHUNK_PAGES - 1)))
				return 0;
			/* Arenas are sorted by address: find it again. */
			best = (size_t)(awe__park_arena(p, at) - p->a);
		}
		if (best == SIZE_MAX)
			return 0;
		if (p->a[best].used && !home)
			return 1;
		if (p->a[best].used && !evacuate(u, best, home, n))
			return 0;
		drop_arena(u, best);
	}
	return 0;
}

static void uffd_stats(void *e, struct awe_stats *st)
{
	struct uffd *u = e;

	st->parking_bytes += (uint64_t)u->park.total << u->sh;
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

static void uffd_fini(void *e, bool forked);

static int uffd_init(const struct awe__eng_conf *conf, void **e)
{
	struct uffd *u = calloc(1, sizeof(*u));
	int r;

	if (!u)
		return -ENOMEM;
	u->pidfd = -1;
	r = open_uffd(&u->fd);
	if (r) {
		free(u);
		return r;
	}
	u->page = conf->page;
	u->sh = conf->page_shift;
	u->base_page = conf->base_page;
	u->large = conf->large;
	u->locked = conf->locked;
	u->memlock_limit = conf->memlock_limit;
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
	awe__park_init(&u->park, u->sh);
	/* A large instance starts beside a default one that probed them. */
	r = u->large ? 0 : probe_ioctls(u);
	if (r) {
		uffd_fini(u, false); /* nothing parked yet */
		return r;
	}
	/* Without one, spares and exclusive unmaps are dropped a range per
	 * madvise(): correct, one shootdown each. */
	r = awe__sys_pidfd_self();
	u->pidfd = r < 0 ? -1 : r;
	*e = u;
	return 0;
}

static void uffd_fork_child(void *e)
{
	struct uffd *u = e;

	awe__sys_close(u->fd);
	u->fd = -1;
	/* It names the parent: process_madvise() would drop the parent's pages. */
	if (u->pidfd >= 0)
		awe__sys_close(u->pidfd);
	u->pidfd = -1;
}

static void uffd_fini(void *e, bool forked)
{
	struct uffd *u = e;

	/* A fork child has none of the parent's windows or parking (they are
	 * MADV_DONTFORK), but does have the zero source. */
	if (!forked)
		for (size_t i = 0; i < u->park.n; i++)
			awe__sys_munmap(u->park.a[i].base, u->park.a[i].npages << u->sh);
	awe__sys_munmap(u->zero, u->zero_len);
	if (!forked)
		awe__uffd_large_fini(u);
	if (u->fd >= 0)
		awe__sys_close(u->fd);
	if (u->pidfd >= 0)
		awe__sys_close(u->pidfd);
	awe__park_fini(&u->park);
	free(u->win);
	free(u);
}

/* A page hidden behind AWE_PROT_NONE is parked aside (uffd_move.c). */
static int uffd_page_node(void *e, uint32_t idx, uint64_t home, const struct awe__ewin *w,
			  uintptr_t va)
{
	struct uffd *u = e;
	uintptr_t at = home << u->sh;

	(void)idx;
	if (w) {
		const uintptr_t *aside = uwin_of(w)->aside;
		size_t s = awe__ewin_slot(w, va, u->sh);

		at = aside && aside[s] ? aside[s] : va;
	}
	return awe__sys_page_node(at);
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
	.trim_wanted = uffd_trim_wanted,
	.trim = uffd_trim,
	.apply = awe__uffd_apply,
	.move_range = awe__uffd_move_range,
	.move = awe__uffd_job_move,
	.finish = awe__uffd_job_finish,
	.page_node = uffd_page_node,
	.stats = uffd_stats,
};
