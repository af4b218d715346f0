/* SPDX-License-Identifier: MIT */
/*
 * The memfd engine: every kernel has it, and AWE sections need it.
 *
 * Frames are pages of one memfd per instance: the page of the frame with
 * table index i is at file offset i << page shift, so a frame needs no home
 * of its own and the file is sparse. A window is an anonymous PROT_NONE
 * reservation; mapping a frame mmap()s its page over the slot (MAP_SHARED |
 * MAP_FIXED), unmapping puts the reservation back, protection is mprotect().
 * Shared pages can be shown at several slots at once, which is why AWE
 * sections always use this engine.
 *
 * A touch of an empty slot raises SIGSEGV here (the reservation is
 * PROT_NONE), where the UFFDIO_MOVE engine raises SIGBUS.
 *
 * The price is one VMA per mapped run, and the kernel refuses VMAs beyond
 * vm.max_map_count: even an unmap, which splits a VMA, then fails with
 * ENOMEM. So maps are refused while they could later make an unmap fail.
 * In a window, empty neighbours always merge into one reservation VMA, so
 * by unmapping alone a window can come to at most npages - E VMAs, E being
 * its adjacent slot pairs that are both empty. c->vma_worst sums that over
 * all windows of all memfd instances; a map that takes empty pairs away is
 * allowed only while vma_worst, the VMAs of the rest of the process and a
 * margin for the program's own mappings fit under max_map_count.
 *
 * Pages are locked like Windows' AWE pages: in locked mode a "pool", a
 * MAP_SHARED view of the used part of the file mlocked on fault, faults in
 * every page as it is allocated, so the page stays resident and locked
 * wherever it is mapped. Unlocked, fallocate() merely makes it exist.
 */
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#include "engine.h"
#include "sys.h"
#include "sysfacts.h"

#define MIN_PAGES 512u	/* file and pool grow by at least 2 MiB of 4 KiB pages */
#define GAP_PAGES 16u	/* empty slots an unmap may carry along */
#define RECOUNT_MS 100	/* a count of the process's VMAs is trusted this long... */
#define RECOUNT_COST 20 /* ...or this many times what counting took */
#define MAPS_BUF 8192

_Static_assert(AWE_PROT_NONE == PROT_NONE && AWE_PROT_READ == PROT_READ &&
		       AWE_PROT_READWRITE == (PROT_READ | PROT_WRITE),
	       "AWE_PROT_* must be the PROT_* values");
_Static_assert(sizeof(off_t) >= 8, "frame offsets need a 64-bit off_t");

struct mfd {
	int fd;
	uint64_t pages;	   /* file size in pages */
	uintptr_t pool;	   /* locked mode: view of the file's first pool_pages */
	size_t pool_pages; /* 0: no pool */
	bool no_populate;  /* the kernel lacks MADV_POPULATE_WRITE (before 5.14) */
	unsigned long ino; /* the file's inode, as /proc/self/maps shows it */
	size_t live;	   /* frames with a page in the file */
};

/* VMAs of the process outside memfd windows at the last count, and when
 * (CLOCK_MONOTONIC_COARSE, ms). Process-wide, like the limit; everything
 * runs under the library's lock. The process's /proc/self/maps stays open
 * while a memfd instance lives, so that counting needs no free descriptor
 * (a process that has run out of them must not be counted stale). */
static uint64_t other_vmas;
static int64_t other_stamp, other_cost;
static int maps_fd = -1;
static unsigned int live; /* memfd instances */

static int64_t now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC_COARSE, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static bool is_memfd_window(const struct awe__window *w)
{
	return w->eng->ops == &awe__engine_memfd;
}

/* Whether [lo, hi) lies in memfd windows (adjacent ones may share a
 * reservation VMA). @wi walks the sorted windows along with the sorted
 * lines. A VMA that reaches out of them is the rest of the process's:
 * counting it there too only errs on the safe side. Windows of the
 * UFFDIO_MOVE engine are not in vma_worst, so their VMAs count here. */
static bool in_windows(const struct awe__ctx *c, size_t *wi, uintptr_t lo, uintptr_t hi)
{
	uintptr_t at = lo;

	while (*wi < c->nwin && c->win[*wi]->base + (c->win[*wi]->npages << c->page_shift) <= lo)
		(*wi)++;
	for (size_t k = *wi; k < c->nwin; k++) {
		const struct awe__window *w = c->win[k];

		if (w->base > at || !is_memfd_window(w))
			return false;
		at = w->base + (w->npages << c->page_shift);
		if (at >= hi)
			return true;
	}
	return false;
}

static int hexval(char ch)
{
	if (ch >= '0' && ch <= '9')
		return ch - '0';
	if (ch >= 'a' && ch <= 'f')
		return ch - 'a' + 10;
	return -1;
}

/* Read up to @len bytes at @off of the maps file: raw system calls, neither
 * a cancellation point nor touching errno. */
static ssize_t maps_read(char *buf, size_t len, uint64_t off)
{
	if (maps_fd < 0) {
		int fd = (int)awe__syscall4(SYS_openat, AT_FDCWD, (long)"/proc/self/maps",
					    O_RDONLY | O_CLOEXEC, 0);

		if (fd < 0)
			return fd;
		maps_fd = fd;
	}
	return awe__syscall4(SYS_pread64, maps_fd, (long)buf, (long)len, (long)off);
}

/* Call @fn on each line of /proc/self/maps until it returns true; a line is
 * cut after its first 160 bytes (what follows is the path, which nothing
 * here reads). 0, or -errno when the maps cannot be read. */
static int maps_each(bool (*fn)(const char *line, void *arg), void *arg)
{
	char buf[MAPS_BUF], line[160];
	size_t len = 0;
	uint64_t off = 0;
	ssize_t got;

	while ((got = maps_read(buf, sizeof(buf), off)) != 0) {
		if (got == -EINTR)
			continue;
		if (got < 0)
			return (int)got;
		off += (uint64_t)got;
		for (ssize_t i = 0; i < got; i++) {
			if (buf[i] != '\n') {
				if (len < sizeof(line) - 1)
					line[len++] = buf[i];
				continue;
			}
			line[len] = 0;
			len = 0;
			if (fn(line, arg))
				return 0;
		}
	}
	return 0;
}

/* The "lo-hi" a maps line starts with. */
static const char *maps_range(const char *s, uintptr_t *lo, uintptr_t *hi)
{
	for (*lo = 0; *s && *s != '-'; s++)
		*lo = (*lo << 4) | (uintptr_t)(hexval(*s) & 15);
	for (*hi = 0, s += *s == '-'; *s && *s != ' '; s++)
		*hi = (*hi << 4) | (uintptr_t)(hexval(*s) & 15);
	return s;
}

struct other_count {
	const struct awe__ctx *c;
	size_t wi;
	uint64_t n;
};

static bool count_line(const char *line, void *arg)
{
	struct other_count *oc = arg;
	uintptr_t lo, hi;

	maps_range(line, &lo, &hi);
	oc->n += !in_windows(oc->c, &oc->wi, lo, hi);
	return false;
}

/* Count the lines of /proc/self/maps outside memfd windows into other_vmas,
 * and read vm.max_map_count again: it may have been lowered. Returns false
 * when the maps could not be read; the last count then stays. */
static bool count_other(struct awe__ctx *c)
{
	struct other_count oc = {c, 0, 0};
	int64_t start = now_ms();

	if (maps_each(count_line, &oc))
		return false;
	other_vmas = oc.n;
	other_stamp = now_ms();
	other_cost = other_stamp - start;
	awe__max_map_count(&c->max_map_count); /* unreadable: the last value stays */
	return true;
}

/* VMAs left to the program for mappings of its own: 1/16 of the limit. */
static uint64_t margin(const struct awe__ctx *c)
{
	uint64_t m = c->max_map_count / 16;

	return m > 256 ? m : 256;
}

/* May the worst case grow by @more VMAs? The rest of the process is
 * counted again, and the limit read again (it may have been lowered),
 * before refusing, so that a refusal is exact; when the last count is old;
 * and, when the answer is close (within another margin: the program may
 * have used up the first since the last count), as often as the cost
 * allows, so that a grant is not made on stale numbers. Reading
 * /proc/self/maps costs ~0.3 us per VMA: at most 1/RECOUNT_COST of the time
 * goes to it however many there are. When the count cannot be taken, a
 * close answer is no. */
static bool room_for(struct awe__ctx *c, uint64_t more)
{
	int64_t age = now_ms() - other_stamp;
	bool close = c->vma_worst + more + 2 * margin(c) + other_vmas > c->max_map_count;
	bool refuse = c->vma_worst + more + margin(c) + other_vmas > c->max_map_count;

	if ((refuse || (close && age > other_cost * RECOUNT_COST) || age >= RECOUNT_MS) &&
	    !count_other(c) && close)
		return false;
	return c->vma_worst + more + margin(c) + other_vmas <= c->max_map_count;
}

/* A fresh reservation over [va, va + len): what an empty slot is. A
 * MAP_FIXED mapping gets fresh VMA flags, so DONTFORK again (which also lets
 * it merge with the empty slots around it). */
static int reserve(uintptr_t va, size_t len)
{
	uintptr_t got;
	int r = awe__sys_mmap(va, len, PROT_NONE,
			      MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE | MAP_FIXED, &got);

	return r ? r : awe__sys_madvise(va, len, MADV_DONTFORK);
}

/* Show the pages of frames idx, idx + 1, ... at [va, va + len). */
static int show(const struct awe__ctx *c, const struct mfd *m, uintptr_t va, size_t len, int prot,
		uint32_t idx)
{
	uintptr_t got;
	int r = awe__sys_mmap_fd(va, len, prot, MAP_SHARED | MAP_FIXED, m->fd,
				 (uint64_t)idx << c->page_shift, &got);

	return r ? r : awe__sys_madvise(va, len, MADV_DONTFORK);
}

static int memfd_window_reserve(struct awe__ctx *c, void *e, uintptr_t hint, size_t len, bool fixed,
				uintptr_t *base)
{
	int flags = MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE;
	int r;

	(void)e;
	if (!room_for(c, 1))
		return -ENOMEM;
	if (fixed)
		flags |= MAP_FIXED_NOREPLACE;
	r = awe__sys_mmap(hint, len, PROT_NONE, flags, base);
	if (r == -ENOMEM)
		count_other(c); /* see memfd_apply() */
	if (r)
		return r == -EEXIST ? r : -ENOMEM;
	/* Kernels before 4.17 ignore MAP_FIXED_NOREPLACE and treat it as a hint. */
	if (fixed && *base != hint) {
		awe__sys_munmap(*base, len);
		return -EEXIST;
	}
	/* AWE memory is not inherited by fork() children, as on Windows. */
	r = awe__sys_madvise(*base, len, MADV_DONTFORK);
	if (r) {
		awe__sys_munmap(*base, len);
		return -ENOMEM;
	}
	c->vma_worst++; /* an empty window is one VMA */
	return 0;
}

static void memfd_window_release(struct awe__ctx *c, void *e, uintptr_t base, size_t len)
{
	(void)e;
	awe__sys_munmap(base, len);
	c->vma_worst--;
}

/* Set the file, and in locked mode the pool, to @pages. The pool is mlocked
 * on fault (plain mlock would fault in the whole file, holes too); the kernel
 * counts all of it against RLIMIT_MEMLOCK, and says ENOMEM, EPERM or EAGAIN
 * over the limit: all mean "not allowed to lock", hence -EPERM. */
static int resize(struct awe__ctx *c, struct mfd *m, size_t pages)
{
	size_t len = pages << c->page_shift;
	uintptr_t at = 0;
	int r;

	if (pages > m->pages) {
		r = awe__sys_ftruncate(m->fd, len);
		if (r)
			return -ENOMEM;
		m->pages = pages;
	}
	if (!c->locked || pages <= m->pool_pages)
		return 0;
	if (m->pool) {
		/* A locked mapping keeps its flags when it grows: locked on
		 * fault, DONTFORK. */
		r = awe__sys_mremap(m->pool, m->pool_pages << c->page_shift, len, &at);
		if (r)
			return r == -EAGAIN ? -EPERM : -ENOMEM;
	} else {
		r = awe__sys_mmap_fd(0, len, PROT_READ | PROT_WRITE, MAP_SHARED, m->fd, 0, &at);
		if (r)
			return -ENOMEM;
		r = awe__sys_madvise(at, len, MADV_DONTFORK);
		if (!r) {
			r = awe__sys_mlock2(at, len, MLOCK_ONFAULT);
			if (r == -ENOMEM || r == -EPERM || r == -EAGAIN)
				r = -EPERM;
		}
		if (r) {
			awe__sys_munmap(at, len);
			return r == -EPERM ? r : -ENOMEM;
		}
		other_vmas++;
	}
	m->pool = at;
	m->pool_pages = pages;
	return 0;
}

/* Make the file (and pool) cover @need pages, growing geometrically so that
 * resizes stay rare, or exactly when that much is not allowed. */
static int cover(struct awe__ctx *c, struct mfd *m, size_t need)
{
	size_t have = c->locked ? m->pool_pages : (size_t)m->pages;
	size_t want = have * 2 > need ? have * 2 : need;
	int r;

	if (need <= have)
		return 0;
	if (want < MIN_PAGES)
		want = MIN_PAGES;
	r = resize(c, m, want);
	if (r && want > need)
		r = resize(c, m, need);
	return r;
}

/* One past the highest of idx[0..n-1]. */
static size_t top(const uint32_t *idx, size_t n)
{
	size_t hi = 0;

	for (size_t i = 0; i < n; i++)
		if (idx[i] >= hi)
			hi = (size_t)idx[i] + 1;
	return hi;
}

/* Under a finite RLIMIT_MEMLOCK: how many of idx[] the pool can still be
 * grown to hold. */
static size_t fitting(struct awe__ctx *c, const struct mfd *m, const uint32_t *idx, size_t n)
{
	uint64_t fit = m->pool_pages + (awe__memlock_room(c) >> c->page_shift);
	size_t k = 0;

	while (k < n && idx[k] < fit)
		k++;
	return k;
}

/* Give the file's pages [off, off + len) back: freed, and read as zeros by
 * whoever gets these indices next. */
static int punch(const struct mfd *m, uint64_t off, uint64_t len)
{
	return awe__sys_fallocate(m->fd, FALLOC_FL_PUNCH_HOLE | FALLOC_FL_KEEP_SIZE, off, len);
}

/* Fault in [off, off + len) of the file through the pool, which locks it. */
static int fault_in(struct mfd *m, uint64_t off, size_t len, size_t page)
{
	if (!m->no_populate) {
		int r = awe__sys_madvise(m->pool + off, len, MADV_POPULATE_WRITE);

		if (r != -EINVAL)
			return r;
		m->no_populate = true;
	}
	/* Holes read as zeros, so writing back what is read changes nothing. */
	for (size_t i = 0; i < len; i += page) {
		volatile char *p = (volatile char *)(m->pool + off + i);

		*p = *p;
	}
	return 0;
}

/* Give pages to idx[0..n-1], a run of consecutive indices per system call;
 * returns how many of the prefix got one. */
static size_t populate(struct awe__ctx *c, struct mfd *m, const uint32_t *idx, size_t n)
{
	size_t i = 0, j;

	for (; i < n; i = j) {
		uint64_t off = (uint64_t)idx[i] << c->page_shift;
		size_t len;
		int r;

		for (j = i + 1; j < n && idx[j] == idx[j - 1] + 1; j++)
			;
		len = (j - i) << c->page_shift;
		r = c->locked ? fault_in(m, off, len, c->page)
			      : awe__sys_fallocate(m->fd, 0, off, len);
		if (r) {
			/* Some of the run may have pages: not handed out, they
			 * must not stay behind. */
			punch(m, off, len);
			break;
		}
	}
	return i;
}

static ssize_t memfd_alloc(struct awe__ctx *c, void *e, const uint32_t *idx, size_t n, int node)
{
	struct mfd *m = e;
	struct awe__node_saved saved;
	size_t done;
	int r = cover(c, m, top(idx, n));

	/* Over a finite RLIMIT_MEMLOCK, allocate what still fits. */
	if (r == -EPERM && c->memlock_limit != UINT64_MAX) {
		n = fitting(c, m, idx, n);
		r = n ? resize(c, m, top(idx, n)) : -EPERM;
	}
	if (r)
		return r;
	awe__node_prefer(node, &saved);
	done = populate(c, m, idx, n);
	awe__node_restore(&saved);
	m->live += done;
	return done ? (ssize_t)done : -ENOMEM;
}

/* One past the highest page of the pool still in the file (a live frame's:
 * freed ones are holes), looking down from the top, where the pool would
 * shrink: mincore() of a shared mapping tells what is in the page cache. */
static size_t pool_top(const struct awe__ctx *c, const struct mfd *m)
{
	unsigned char vec[4096];
	size_t end = m->pool_pages;

	while (end) {
		size_t k = end < sizeof(vec) ? end : sizeof(vec);

		if (awe__sys_mincore(m->pool + ((end - k) << c->page_shift), k << c->page_shift,
				     vec))
			return m->pool_pages;
		while (k && !(vec[k - 1] & 1))
			k--, end--;
		if (k)
			return end;
	}
	return 0;
}

/* Give the pool back down to the live frames, once most of it no longer
 * holds any: its room under RLIMIT_MEMLOCK (the kernel counts the whole
 * view) and its page tables. Not for a few pages: allocation churn would
 * grow and shrink it call after call. */
static void trim_pool(struct awe__ctx *c, struct mfd *m)
{
	size_t keep;
	uintptr_t at;

	if (!m->pool || m->live * 2 > m->pool_pages)
		return;
	keep = m->live ? pool_top(c, m) : 0;
	if (keep)
		keep = keep < MIN_PAGES ? MIN_PAGES
					: (keep + MIN_PAGES - 1) & ~(size_t)(MIN_PAGES - 1);
	if (keep + MIN_PAGES > m->pool_pages)
		return;
	if (!keep) {
		awe__sys_munmap(m->pool, m->pool_pages << c->page_shift);
		m->pool = 0;
		if (other_vmas)
			other_vmas--;
	} else if (awe__sys_mremap(m->pool, m->pool_pages << c->page_shift, keep << c->page_shift,
				   &at)) {
		return;
	}
	m->pool_pages = keep;
}

/* The frames' pages go, a run of consecutive file pages per call. */
static size_t memfd_discard(struct awe__ctx *c, void *e, const uint32_t *idx, size_t n)
{
	struct mfd *m = e;
	size_t i = 0, j;

	for (; i < n; i = j) {
		for (j = i + 1; j < n && idx[j] == idx[j - 1] + 1; j++)
			;
		if (awe__inject(&awe__test_fail_discard))
			break;
		if (punch(m, (uint64_t)idx[i] << c->page_shift, (uint64_t)(j - i) << c->page_shift))
			break;
		m->live -= j - i;
	}
	trim_pool(c, m);
	return i;
}

static uint64_t memfd_parking_bytes(struct awe__ctx *c, void *e)
{
	return (uint64_t)((struct mfd *)e)->pool_pages << c->page_shift;
}

enum { K_NONE, K_MAP, K_UNMAP, K_PROT };

/* What op @o does to its slot, forwards or (@back) when undone. A replace is
 * a map: MAP_FIXED swaps the page in one call. */
static uint8_t op_kind(const struct awe__op *o, bool back)
{
	if (o->old == o->new)
		return o->oldprot != o->newprot ? K_PROT : K_NONE;
	return (back ? o->old : o->new) ? K_MAP : K_UNMAP;
}

static uint32_t target(const struct awe__op *o, bool back)
{
	return back ? o->old : o->new;
}

static uint8_t target_prot(const struct awe__op *o, bool back)
{
	return back ? o->oldprot : o->newprot;
}

/* Can the run that ends with op @a take @b too, in one system call? */
static bool joins(const struct awe__ctx *c, const struct awe__op *a, const struct awe__op *b,
		  bool back)
{
	uint8_t k = op_kind(a, back);

	if (k == K_NONE || op_kind(b, back) != k || a->win != b->win)
		return false;
	if (k == K_UNMAP) {
		/* Empty slots in between are reservation already: carrying a
		 * few along costs less than another call. */
		size_t s = awe__slot_of(c, a->win, a->va), t = awe__slot_of(c, b->win, b->va);

		if (t - s - 1 > GAP_PAGES)
			return false;
		while (++s < t)
			if (a->win->slot[s])
				return false;
		return true;
	}
	if (b->va != a->va + c->page || target_prot(a, back) != target_prot(b, back))
		return false;
	return k == K_PROT || target(b, back) == target(a, back) + 1;
}

/* Carry out ops[i..j-1], one run, forwards or (@back) undone. */
static int run(const struct awe__ctx *c, const struct mfd *m, const struct awe__op *ops, size_t i,
	       size_t j, bool back)
{
	const struct awe__op *a = &ops[i];
	size_t len = ops[j - 1].va + c->page - a->va;
	int r;

	if (!back && awe__inject(&awe__test_fail_move))
		return -ENOMEM;
	if (back && awe__inject_sticky(&awe__test_fail_undo))
		return -EBUSY;
	switch (op_kind(a, back)) {
	case K_MAP:
		r = show(c, m, a->va, len, target_prot(a, back), target(a, back) - 1);
		break;
	case K_UNMAP:
		r = reserve(a->va, len);
		break;
	default:
		r = awe__sys_mprotect(a->va, len, target_prot(a, back));
		break;
	}
	return r ? awe__kerr(r) : 0;
}

/* What holds for an op after a rollback (in its scratch @kind). */
enum { BEFORE, AFTER, EMPTIED };

struct slot_shown {
	const struct awe__ctx *c;
	const struct mfd *m;
	uintptr_t va;
	uint32_t k;
	int prot;
	bool found;
};

static bool shown_line(const char *line, void *arg)
{
	struct slot_shown *ss = arg;
	unsigned long pgoff, ino;
	unsigned int maj, min;
	uintptr_t lo, hi;
	char perms[5];

	line = maps_range(line, &lo, &hi);
	if (ss->va < lo || ss->va >= hi ||
	    sscanf(line, " %4s %lx %x:%x %lu", perms, &pgoff, &maj, &min, &ino) != 5)
		return false;
	ss->prot = (perms[0] == 'r' ? PROT_READ : 0) | (perms[1] == 'w' ? PROT_WRITE : 0);
	ss->k = perms[3] == 's' && ino == ss->m->ino
			? (uint32_t)((pgoff + (ss->va - lo)) >> ss->c->page_shift) + 1
			: 0;
	ss->found = true;
	return true;
}

/* What slot @va shows, read from /proc/self/maps: a page of @m's file (*@k
 * its frame index + 1) or the reservation of an empty slot (*@k 0), and the
 * protection. The one way to tell after the kernel refused both a call and
 * its undo (a failed mmap or mprotect may have changed part of its range).
 * -errno when the maps cannot be read or nothing is mapped there. */
static int shown(const struct awe__ctx *c, const struct mfd *m, uintptr_t va, uint32_t *k,
		 int *prot)
{
	struct slot_shown ss = {.c = c, .m = m, .va = va};
	int r = maps_each(shown_line, &ss);

	if (r)
		return r;
	if (!ss.found)
		return -ENOENT;
	*k = ss.k;
	*prot = ss.prot;
	return 0;
}

/* Whether op @o's slot is as before the call, as after, or neither. */
static int what_holds(const struct awe__ctx *c, const struct mfd *m, const struct awe__op *o)
{
	uint32_t k;
	int prot;

	if (shown(c, m, o->va, &k, &prot))
		return -1;
	if (k == o->old && (!k || prot == o->oldprot))
		return BEFORE;
	if (k == o->new && (!k || prot == o->newprot))
		return AFTER;
	return -1;
}

/* A run the kernel would not undo, op by op: back where it can be, else
 * whatever the maps say holds. When they cannot tell, an op of a run that
 * was done stays done, and one of the run that failed (@fail on) is done
 * again or, failing that, emptied. Returns whether all came back. */
static bool undo_each(const struct awe__ctx *c, const struct mfd *m, struct awe__op *ops, size_t i,
		      size_t j, size_t fail)
{
	bool whole = true;

	for (size_t k = i; k < j; k++) {
		struct awe__op *o = &ops[k];
		int h;

		if (op_kind(o, true) == K_NONE || run(c, m, ops, k, k + 1, true) == 0)
			continue;
		h = what_holds(c, m, o);
		if (h < 0 && (k < fail || run(c, m, ops, k, k + 1, false) == 0))
			h = AFTER;
		if (h < 0)
			h = reserve(o->va, c->page) == 0 ? EMPTIED : AFTER;
		o->kind = (uint8_t)h;
		whole &= h == BEFORE;
	}
	return whole;
}

/* Undo ops[0..end-1], newest run first; ops[fail..end) is the run that
 * failed, undone too: a failed MAP_FIXED mmap may have unmapped the old
 * pages (older kernels do) and mprotect may stop part of the way. Every
 * state on the way back is a mix of before and after, so it fits the VMA
 * budget. The kernel may refuse an undo too: returns whether everything
 * came back, each op's @kind saying what holds. */
static bool rollback(const struct awe__ctx *c, const struct mfd *m, struct awe__op *ops,
		     size_t fail, size_t end)
{
	size_t i, j = end;
	bool whole = true;

	for (i = 0; i < end; i++)
		ops[i].kind = BEFORE;
	while (j > 0) {
		i = j - 1;
		if (op_kind(&ops[i], true) != K_NONE) {
			while (i > 0 && joins(c, &ops[i - 1], &ops[i], true))
				i--;
			if (run(c, m, ops, i, j, true))
				whole &= undo_each(c, m, ops, i, j, fail);
		}
		j = i;
	}
	return whole;
}

/* Rewrite the ops of a call whose rollback the kernel refused in part to
 * what holds (engine.h); claims that came to nothing go. */
static void rewrite_failed(struct awe__ctx *c, struct awe__op *ops, size_t n, size_t end)
{
	for (size_t i = 0; i < n; i++) {
		struct awe__op *o = &ops[i];
		int k = i < end ? o->kind : BEFORE;

		if (k == AFTER)
			continue;
		if (o->new && o->new != o->old)
			c->frames[o->new - 1].mark = 0;
		o->new = k == EMPTIED ? 0 : o->old;
		o->newprot = k == EMPTIED ? 0 : o->oldprot;
	}
}

/* Is slot @s of @w empty before (@after false) or after the call? @o is the
 * call's op for that slot, or NULL. */
static bool empty_at(const struct awe__window *w, size_t s, const struct awe__op *o, bool after)
{
	if (!o)
		return !w->slot[s];
	return !(after ? o->new : o->old);
}

/* ops[k] if it is for a slot next to that of ops[i] (ops are sorted by
 * address, one per slot), else NULL; k may be out of range. */
static const struct awe__op *next_to(const struct awe__ctx *c, const struct awe__op *ops, size_t n,
				     size_t i, size_t k)
{
	const struct awe__op *a, *b;

	if (k >= n)
		return NULL;
	a = &ops[i < k ? i : k];
	b = &ops[i < k ? k : i];
	return a->win == b->win && b->va - a->va == c->page ? &ops[k] : NULL;
}

/* The empty-empty slot pairs the call takes away (@loss) and creates
 * (@gain). Each pair is counted once: by its left slot's op, or by its right
 * slot's op when the left slot has none. */
static void pair_changes(const struct awe__ctx *c, const struct awe__op *ops, size_t n,
			 uint64_t *loss, uint64_t *gain)
{
	*loss = *gain = 0;
	for (size_t i = 0; i < n; i++) {
		const struct awe__op *o = &ops[i];
		const struct awe__window *w = o->win;
		size_t s = awe__slot_of(c, w, o->va);
		const struct awe__op *left = next_to(c, ops, n, i, i - 1);
		const struct awe__op *right = next_to(c, ops, n, i, i + 1);
		bool was = !o->old, now = !o->new;

		if (s > 0 && !left) {
			bool b = was && !w->slot[s - 1], a = now && !w->slot[s - 1];

			*loss += b && !a;
			*gain += a && !b;
		}
		if (s + 1 < w->npages) {
			bool b = was && empty_at(w, s + 1, right, false);
			bool a = now && empty_at(w, s + 1, right, true);

			*loss += b && !a;
			*gain += a && !b;
		}
	}
}

static int memfd_apply(struct awe__ctx *c, void *e, struct awe__op *ops, size_t n)
{
	struct mfd *m = e;
	uint64_t loss, gain;
	size_t i, j;
	int r = 0;
	bool whole;

	/* Every state the call passes through, and every state unmapping can
	 * lead to afterwards, has at most vma_worst + loss VMAs: refuse before
	 * anything changes. Unmaps and protection changes never lose pairs,
	 * so they are never refused. */
	pair_changes(c, ops, n, &loss, &gain);
	if (loss && !room_for(c, loss))
		return -ENOMEM;
	for (i = 0; i < n; i = j) {
		j = i + 1;
		if (op_kind(&ops[i], false) == K_NONE)
			continue;
		while (j < n && joins(c, &ops[j - 1], &ops[j], false))
			j++;
		r = run(c, m, ops, i, j, false);
		if (!r)
			continue;
		whole = rollback(c, m, ops, i, j);
		/* The kernel out of mappings means our numbers are off: the
		 * program used up its margin, or the limit was lowered. Count
		 * again, as things are now, for the next call. */
		if (r == -ENOMEM)
			count_other(c);
		if (whole)
			return r;
		rewrite_failed(c, ops, n, j);
		pair_changes(c, ops, n, &loss, &gain);
		r = -ENOTRECOVERABLE;
		break;
	}
	c->vma_worst = c->vma_worst + loss - gain;
	/* The core finds a mapped frame of the default instance by its slot;
	 * a section frame's loc is its section's id. */
	for (i = 0; i < n; i++) {
		const struct awe__op *o = &ops[i];

		if (o->new != o->old && o->new != 0 && !o->win->sec)
			c->frames[o->new - 1].loc = o->va >> c->page_shift;
	}
	return r;
}

/* A fork() child inherits the memfd (MFD_CLOEXEC acts on exec only), and
 * through it the parent's live frames; and the parent's maps file. */
static void memfd_fork_child(void *e)
{
	struct mfd *m = e;

	awe__sys_close(m->fd);
	m->fd = -1;
	if (maps_fd >= 0) {
		awe__sys_close(maps_fd);
		maps_fd = -1;
	}
}

/* The inode /proc/self/maps names the file by; 0 when it cannot be told. */
static unsigned long file_ino(int fd)
{
	struct stat st;

	return awe__syscall3(SYS_fstat, fd, (long)&st, 0) == 0 ? st.st_ino : 0;
}

static int memfd_init(struct awe__ctx *c, void **e)
{
	struct mfd *m = calloc(1, sizeof(*m));

	if (!m)
		return -ENOMEM;
	m->fd = awe__sys_memfd_create("libawe", MFD_CLOEXEC);
	if (m->fd < 0) {
		int r = m->fd;

		free(m);
		/* EPERM is how container profiles refuse a system call: as
		 * good as missing, as for userfaultfd(2). */
		if (r == -ENOSYS)
			awe__set_detail(ENOSYS, "memfd_create(2) is not implemented by this kernel "
						"(Linux 3.17 or later) or is blocked by seccomp");
		else if (r == -EPERM)
			awe__set_detail(ENOSYS, "memfd_create(2) was refused with EPERM: a seccomp "
						"filter or security policy blocks it");
		return r == -EPERM ? -ENOSYS : r;
	}
	m->ino = file_ino(m->fd);
	live++;
	count_other(c);
	*e = m;
	return 0;
}

static void memfd_fini(struct awe__ctx *c, void *e, bool forked)
{
	struct mfd *m = e;

	/* A fork child has no pool: it is MADV_DONTFORK. */
	if (!forked && m->pool) {
		awe__sys_munmap(m->pool, m->pool_pages << c->page_shift);
		if (other_vmas)
			other_vmas--;
	}
	if (m->fd >= 0)
		awe__sys_close(m->fd);
	if (--live == 0 && maps_fd >= 0) {
		awe__sys_close(maps_fd);
		maps_fd = -1;
	}
	free(m);
}

const struct awe__engine awe__engine_memfd = {
	.name = "memfd",
	.init = memfd_init,
	.fini = memfd_fini,
	.fork_child = memfd_fork_child,
	.window_reserve = memfd_window_reserve,
	.window_release = memfd_window_release,
	.alloc = memfd_alloc,
	.discard = memfd_discard,
	.parking_bytes = memfd_parking_bytes,
	.apply = memfd_apply,
};
