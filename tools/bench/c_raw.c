// SPDX-License-Identifier: MIT
/*
 * Contender "raw": the UFFDIO_MOVE floor. The same operations as libawe,
 * issued as bare ioctls with just enough bookkeeping to know where a frame
 * is: frame i lives at parking page i when unmapped, and a plain array says
 * which frame each slot holds. One ioctl per page for scatter, one per run
 * of consecutive frames (a whole sweep in, a whole sweep out). No argument
 * checks, no rollback, no locking, no coalescing beyond what is free: what
 * user space cannot go below with this kernel interface.
 *
 * Its alloc+free is the plain mmap(MAP_POPULATE) + munmap baseline.
 *
 * Contender "rawcopy": the floor of libawe's design for a process whose
 * other threads run (src/engine/uffd_copy.c), bare the same way. A page
 * comes in by UFFDIO_COPY, which flushes no TLB, and goes out by
 * UFFDIO_MOVE (one shootdown: the only way to keep a write another CPU
 * makes through a stale TLB entry). Each frame has two homes, one per half
 * of parking: it goes out to the half it did not come in from, which is
 * empty unless its last copy's source is still waiting to be dropped; the
 * sources are dropped 256 at a time, one process_madvise() call each.
 * Ranges go page by page.
 */
#include <errno.h>
#include <fcntl.h>
#include <linux/userfaultfd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <sys/uio.h>
#include <unistd.h>

#include "bench.h"

#include "linux_abi.h"

struct raw_st {
	int fd;
	char *park;
	size_t park_len;
	char *win;
	size_t win_len;
	uint32_t *slot; /* frame + 1 per slot of all windows, 0 when empty */
	/* rawcopy: per frame, its home's half (bit 0) and which half holds a
	 * source still to drop (bits 1, 2). */
	bool copy;
	size_t frames;
	uint8_t *side;
	int pidfd;
	unsigned long gen; /* which setup this is: a new one may reuse the address */
};

static unsigned long setups;

/* rawcopy: the sources each thread has to drop (threads work on frames of
 * their own), for the setup @gen. */
static __thread struct {
	unsigned long gen;
	size_t n;
	char *at[256];
} stale;

#define PG (opts.page)

static int open_uffd(char *why, size_t len)
{
	/* SIGBUS: a stray touch of an empty slot must not hang the benchmark. */
	struct uffdio_api api = {.api = UFFD_API,
				 .features = UFFD_FEATURE_MOVE | UFFD_FEATURE_SIGBUS};
	int fd = (int)syscall(SYS_userfaultfd, O_CLOEXEC | O_NONBLOCK | UFFD_USER_MODE_ONLY);

	if (fd < 0) {
		snprintf(why, len, "userfaultfd: %s", strerror(errno));
		return -errno;
	}
	if (ioctl(fd, UFFDIO_API, &api) != 0) {
		snprintf(why, len,
			 "UFFDIO_API with UFFD_FEATURE_MOVE: %s (Linux 6.8 or later needed)",
			 strerror(errno));
		close(fd);
		return -EOPNOTSUPP;
	}
	return fd;
}

static const char *raw_probe(void)
{
	static char why[160];
	int fd = open_uffd(why, sizeof(why));

	if (fd < 0)
		return why;
	close(fd);
	return NULL;
}

static void raw_teardown(void *p)
{
	struct raw_st *s = p;

	if (s->win)
		munmap(s->win, s->win_len);
	if (s->park)
		munmap(s->park, s->park_len);
	if (s->fd >= 0)
		close(s->fd);
	if (s->copy && s->pidfd >= 0)
		close(s->pidfd);
	free(s->side);
	free(s->slot);
	free(s);
}

/* What the kernel requires of both ranges (see engine.md §2), nothing more. */
static int prepare_range(struct raw_st *s, char **out, size_t len, size_t populate)
{
	struct uffdio_register reg = {.mode = UFFDIO_REGISTER_MODE_MISSING};
	void *p = mmap(NULL, len, PROT_READ | PROT_WRITE,
		       MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);

	if (p == MAP_FAILED)
		return bench_err(-errno, "mmap: %s", strerror(errno));
	*out = p;
	if (madvise(p, len, MADV_DONTFORK) != 0)
		return bench_err(-errno, "madvise(MADV_DONTFORK): %s", strerror(errno));
	/* A single-page move would split a huge page first. */
	madvise(p, len, MADV_NOHUGEPAGE);
	if (populate && madvise(p, populate, MADV_POPULATE_WRITE) != 0)
		for (size_t off = 0; off < populate; off += PG)
			((volatile char *)p)[off] = 0;
	reg.range.start = (uintptr_t)p;
	reg.range.len = len;
	if (ioctl(s->fd, UFFDIO_REGISTER, &reg) != 0)
		return bench_err(-errno, "UFFDIO_REGISTER: %s", strerror(errno));
	return 0;
}

static int setup(void **out, const struct setup_args *a, bool copy)
{
	struct raw_st *s = xcalloc(1, sizeof(*s));
	char why[160];
	size_t slots = (size_t)a->windows * a->window_pages;
	int rc;

	s->fd = open_uffd(why, sizeof(why));
	s->slot = xcalloc(slots, sizeof(*s->slot));
	s->copy = copy;
	s->frames = a->frames;
	s->gen = __atomic_add_fetch(&setups, 1, __ATOMIC_RELAXED);
	s->pidfd = -1;
	if (copy) {
		s->side = xcalloc(a->frames, 1);
		s->pidfd = (int)syscall(SYS_pidfd_open, getpid(), 0);
	}
	/* rawcopy: a second half, empty, for the frames' other homes. */
	s->park_len = a->frames * PG * (copy ? 2 : 1);
	s->win_len = slots * PG;
	rc = s->fd < 0 ? bench_err(s->fd, "%s", why) : 0;
	if (!rc)
		rc = prepare_range(s, &s->park, s->park_len, a->frames * PG);
	if (!rc)
		rc = prepare_range(s, &s->win, s->win_len, 0);
	if (rc) {
		raw_teardown(s);
		return rc;
	}
	index_layout(a, s->win);
	*out = s;
	return 0;
}

static int raw_setup(void **out, const struct setup_args *a)
{
	return setup(out, a, false);
}

static int rawcopy_setup(void **out, const struct setup_args *a)
{
	return setup(out, a, true);
}

/* Pages at the start of the move that went through uncounted: Linux 6.18
 * can move a page that is being migrated (compaction) and still fail with
 * EEXIST (see moved_uncounted() in src/engine/uffd_ioctl.c). Error path only. */
static size_t moved_anyway(const struct uffdio_move *m)
{
	unsigned char in, out;
	size_t n = 0;

	while (n < m->len && mincore((void *)(uintptr_t)(m->dst + n), PG, &in) == 0 &&
	       mincore((void *)(uintptr_t)(m->src + n), PG, &out) == 0 && (in & 1) && !(out & 1))
		n += PG;
	return n;
}

static int move(struct raw_st *s, char *dst, char *src, size_t len)
{
	struct uffdio_move m = {.dst = (uintptr_t)dst, .src = (uintptr_t)src, .len = len};

	for (;;) {
		int err;
		size_t more = 0;

		bench_syscalls++;
		/* As libawe issues it (linux_abi.h): the floor must not pay
		 * for libc's wrapper when the library does not. */
		err = (int)-awe__syscall3(SYS_ioctl, s->fd, (long)UFFDIO_MOVE, (long)(uintptr_t)&m);
		if (!err)
			return 0;
		/* EAGAIN: a busy page; the kernel moved what it could. Any other
		 * error but EEXIST (see moved_anyway()) ends the move. */
		if (m.move > 0 && (err == EAGAIN || err == EEXIST))
			more = (size_t)m.move;
		else if (err == EEXIST)
			more = moved_anyway(&m);
		if (err != EAGAIN && !more)
			return bench_err(-err, "UFFDIO_MOVE: %s", strerror(err));
		m.dst += more;
		m.src += more;
		m.len -= more;
		m.move = 0;
		if (!m.len)
			return 0;
	}
}

static size_t slot_of(struct raw_st *s, const char *addr)
{
	return (size_t)(addr - s->win) / PG;
}

static char *home(struct raw_st *s, uint64_t frame)
{
	return s->park + frame * PG;
}

/* rawcopy: frame @f's home in half @h. */
static char *home_in(struct raw_st *s, uint64_t f, unsigned int h)
{
	return s->park + (h * s->frames + f) * PG;
}

/* rawcopy: drop the sources of past copies, one call for all. */
static int drop_stale(struct raw_st *s)
{
	struct iovec iov[256];
	size_t n = 0;

	for (size_t i = 0; stale.gen == s->gen && i < stale.n; i++) {
		size_t off = (size_t)(stale.at[i] - s->park) / PG;
		uint64_t f = off % s->frames;

		s->side[f] &= (uint8_t) ~(2u << (off / s->frames));
		iov[n++] = (struct iovec){stale.at[i], PG};
	}
	stale.gen = s->gen;
	stale.n = 0;
	bench_syscalls++;
	if (n && syscall(SYS_process_madvise, s->pidfd, iov, n, MADV_DONTNEED_LOCKED, 0) < 0)
		for (size_t i = 0; i < n; i++)
			if (madvise(iov[i].iov_base, PG, MADV_DONTNEED_LOCKED) != 0)
				return bench_err(-errno, "madvise: %s", strerror(errno));
	return 0;
}

/* rawcopy: frame @f into the empty slot @addr. */
static int copy_in(struct raw_st *s, char *addr, uint64_t f)
{
	unsigned int h = s->side[f] & 1;
	struct uffdio_copy c = {
		.dst = (uintptr_t)addr, .src = (uintptr_t)home_in(s, f, h), .len = PG};
	int err;

	if ((stale.gen != s->gen || stale.n == ARRAY_SIZE(stale.at)) && drop_stale(s))
		return -EIO;
	bench_syscalls++;
	err = (int)-awe__syscall3(SYS_ioctl, s->fd, (long)UFFDIO_COPY, (long)(uintptr_t)&c);
	if (err)
		return bench_err(-err, "UFFDIO_COPY: %s", strerror(err));
	stale.at[stale.n++] = home_in(s, f, h);
	s->side[f] |= (uint8_t)(2u << h);
	return 0;
}

/* rawcopy: the page at @addr out to its frame's other home. */
static int move_out(struct raw_st *s, char *addr)
{
	size_t k = slot_of(s, addr);
	uint64_t f = s->slot[k] - 1;
	unsigned int h = !(s->side[f] & 1);
	int rc;

	/* Its last copy's source is still there: drop the waiting ones now;
	 * one a thread of an earlier case left, alone. */
	if ((s->side[f] & (2u << h)) && (rc = drop_stale(s)))
		return rc;
	if (s->side[f] & (2u << h)) {
		bench_syscalls++;
		if (madvise(home_in(s, f, h), PG, MADV_DONTNEED_LOCKED) != 0)
			return bench_err(-errno, "madvise: %s", strerror(errno));
		s->side[f] &= (uint8_t) ~(2u << h);
	}
	rc = move(s, home_in(s, f, h), addr, PG);
	if (!rc) {
		s->side[f] = (uint8_t)((s->side[f] & ~1u) | h);
		s->slot[k] = 0;
	}
	return rc;
}

/* Move whatever is at @addr back home: the destination must be empty. */
static int evict(struct raw_st *s, char *addr)
{
	size_t k = slot_of(s, addr);
	int rc;

	if (!s->slot[k])
		return 0;
	if (s->copy)
		return move_out(s, addr);
	rc = move(s, home(s, s->slot[k] - 1), addr, PG);
	if (!rc)
		s->slot[k] = 0;
	return rc;
}

static int raw_map(void *st, void *const *addrs, const uint64_t *frames, size_t n)
{
	struct raw_st *s = st;
	int rc;

	for (size_t i = 0; i < n; i++) {
		rc = evict(s, addrs[i]);
		if (!rc)
			rc = s->copy ? copy_in(s, addrs[i], frames[i])
				     : move(s, addrs[i], home(s, frames[i]), PG);
		if (rc)
			return rc;
		s->slot[slot_of(s, addrs[i])] = (uint32_t)frames[i] + 1;
	}
	return 0;
}

static int raw_unmap(void *st, void *const *addrs, size_t n)
{
	int rc;

	for (size_t i = 0; i < n; i++) {
		rc = evict(st, addrs[i]);
		if (rc)
			return rc;
	}
	return 0;
}

static int raw_map_range(void *st, char *addr, const uint64_t *frames, size_t n)
{
	struct raw_st *s = st;
	size_t i, j, k = slot_of(s, addr);
	int rc;

	if (s->copy) {
		for (i = 0; i < n; i++) {
			void *a = addr + i * PG;

			rc = raw_map(st, &a, &frames[i], 1);
			if (rc)
				return rc;
		}
		return 0;
	}
	for (i = 0; i < n; i++) {
		rc = evict(s, addr + i * PG);
		if (rc)
			return rc;
	}
	for (i = 0; i < n; i = j) {
		j = frame_run_end(frames, i, n);
		rc = move(s, addr + i * PG, home(s, frames[i]), (j - i) * PG);
		if (rc)
			return rc;
		for (size_t m = i; m < j; m++)
			s->slot[k + m] = (uint32_t)frames[m] + 1;
	}
	return 0;
}

static int raw_unmap_range(void *st, char *addr, size_t n)
{
	struct raw_st *s = st;
	size_t i, j, k = slot_of(s, addr);
	int rc;

	for (i = 0; s->copy && i < n; i++) {
		rc = evict(s, addr + i * PG);
		if (rc)
			return rc;
	}
	for (i = 0; i < n; i = j) {
		if (!s->slot[k + i]) {
			j = i + 1;
			continue;
		}
		j = slot_run_end(s->slot + k, i, n);
		rc = move(s, home(s, s->slot[k + i] - 1), addr + i * PG, (j - i) * PG);
		if (rc)
			return rc;
		memset(&s->slot[k + i], 0, (j - i) * sizeof(*s->slot));
	}
	return 0;
}

static int raw_alloc(void *st, uint64_t *frames, size_t n)
{
	char *p;

	(void)st;
	bench_syscalls++;
	p = mmap(NULL, n * PG, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_POPULATE,
		 -1, 0);
	if (p == MAP_FAILED)
		return bench_err(-errno, "mmap(MAP_POPULATE): %s", strerror(errno));
	for (size_t i = 0; i < n; i++)
		frames[i] = (uintptr_t)(p + i * PG);
	return 0;
}

static int raw_free(void *st, uint64_t *frames, size_t n)
{
	(void)st;
	bench_syscalls++;
	if (munmap((void *)(uintptr_t)frames[0], n * PG) != 0)
		return bench_err(-errno, "munmap: %s", strerror(errno));
	return 0;
}

const struct contender contender_raw = {
	.name = "raw",
	.what = "bare UFFDIO_MOVE ioctls, no library bookkeeping (the floor)",
	.alloc_what = "mmap(MAP_POPULATE)+munmap",
	.flags = C_COUNTS_SYSCALLS | C_MAPS | C_CHURN,
	.probe = raw_probe,
	.setup = raw_setup,
	.teardown = raw_teardown,
	.map = raw_map,
	.unmap = raw_unmap,
	.map_range = raw_map_range,
	.unmap_range = raw_unmap_range,
	.alloc = raw_alloc,
	.free = raw_free,
};

const struct contender contender_rawcopy = {
	.name = "rawcopy",
	.what = "bare UFFDIO_COPY in, UFFDIO_MOVE out, sources dropped 256 at a time "
		"(the floor of libawe beside other threads)",
	/* Not C_MAPS: the mapping-count and churn runs say nothing new. */
	.flags = C_COUNTS_SYSCALLS,
	.probe = raw_probe,
	.setup = rawcopy_setup,
	.teardown = raw_teardown,
	.map = raw_map,
	.unmap = raw_unmap,
	.map_range = raw_map_range,
	.unmap_range = raw_unmap_range,
};
