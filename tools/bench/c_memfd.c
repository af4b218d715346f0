// SPDX-License-Identifier: MIT
/*
 * Contender "memfd": the remapper emulators and garbage collectors write by
 * hand (yuzu's HostMemory, Dolphin's MemArena, ZGC). Frames are offsets of
 * one memfd; a window is a PROT_NONE reservation; mapping is
 * mmap(MAP_SHARED | MAP_FIXED) of the frame's offset over the slot, and
 * unmapping puts an anonymous PROT_NONE mapping back over it. Consecutive
 * slots holding consecutive offsets go in one mmap, as such remappers do.
 *
 * Pages are populated by the first touch (a page fault), as a user of such a
 * remapper gets them, unless --memfd-populate adds MAP_POPULATE.
 */
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "bench.h"

struct memfd_st {
	int fd;
	size_t nframes;
	char *res;
	size_t res_len;
	/* Scratch file ranges for alloc+free, one per thread at a time. */
	pthread_mutex_t lock;
	bool busy[BENCH_MAX_THREADS];
};

#define PG (opts.page)

static const char *memfd_probe(void)
{
	static char why[128];
	int fd = memfd_create("awe-bench-probe", MFD_CLOEXEC);

	if (fd < 0) {
		snprintf(why, sizeof(why), "memfd_create: %s", strerror(errno));
		return why;
	}
	close(fd);
	return NULL;
}

static void memfd_teardown(void *p)
{
	struct memfd_st *s = p;

	if (s->res)
		munmap(s->res, s->res_len);
	if (s->fd >= 0)
		close(s->fd);
	pthread_mutex_destroy(&s->lock);
	free(s);
}

static int memfd_setup(void **out, const struct setup_args *a)
{
	struct memfd_st *s = xcalloc(1, sizeof(*s));
	void *res;
	int rc = 0;

	pthread_mutex_init(&s->lock, NULL);
	s->nframes = a->frames;
	s->fd = memfd_create("awe-bench", MFD_CLOEXEC);
	if (s->fd < 0)
		rc = bench_err(-errno, "memfd_create: %s", strerror(errno));
	else if (ftruncate(s->fd, (off_t)(a->frames * PG)) != 0)
		rc = bench_err(-errno, "ftruncate: %s", strerror(errno));
	/* Frames exist before they are mapped, as AWE frames do. */
	else if (!a->lazy && fallocate(s->fd, 0, 0, (off_t)(a->frames * PG)) != 0)
		rc = bench_err(-errno, "fallocate: %s", strerror(errno));
	if (!rc) {
		s->res_len = (size_t)a->windows * a->window_pages * PG;
		res = mmap(NULL, s->res_len, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE,
			   -1, 0);
		if (res == MAP_FAILED)
			rc = bench_err(-errno, "mmap(reservation): %s", strerror(errno));
		else
			s->res = res;
	}
	if (rc) {
		memfd_teardown(s);
		return rc;
	}
	index_layout(a, s->res);
	*out = s;
	return 0;
}

static int map_one(struct memfd_st *s, char *addr, uint64_t frame, size_t n)
{
	int flags = MAP_SHARED | MAP_FIXED | (opts.memfd_populate ? MAP_POPULATE : 0);

	bench_syscalls++;
	if (mmap(addr, n * PG, PROT_READ | PROT_WRITE, flags, s->fd, (off_t)(frame * PG)) ==
	    MAP_FAILED)
		return bench_err(-errno, "mmap(MAP_SHARED | MAP_FIXED): %s", strerror(errno));
	return 0;
}

static int unmap_one(char *addr, size_t n)
{
	bench_syscalls++;
	if (mmap(addr, n * PG, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED | MAP_NORESERVE,
		 -1, 0) == MAP_FAILED)
		return bench_err(-errno, "mmap(PROT_NONE | MAP_FIXED): %s", strerror(errno));
	return 0;
}

static int memfd_map(void *st, void *const *addrs, const uint64_t *frames, size_t n)
{
	size_t i, j;
	int rc;

	for (i = 0; i < n; i = j) {
		for (j = i + 1; j < n && (char *)addrs[j] == (char *)addrs[j - 1] + PG &&
				frames[j] == frames[j - 1] + 1;
		     j++)
			;
		rc = map_one(st, addrs[i], frames[i], j - i);
		if (rc)
			return rc;
	}
	return 0;
}

static int memfd_unmap(void *st, void *const *addrs, size_t n)
{
	size_t i, j;
	int rc;

	(void)st;
	for (i = 0; i < n; i = j) {
		for (j = i + 1; j < n && (char *)addrs[j] == (char *)addrs[j - 1] + PG; j++)
			;
		rc = unmap_one(addrs[i], j - i);
		if (rc)
			return rc;
	}
	return 0;
}

static int memfd_map_range(void *st, char *addr, const uint64_t *frames, size_t n)
{
	size_t i, j;
	int rc;

	for (i = 0; i < n; i = j) {
		j = frame_run_end(frames, i, n);
		rc = map_one(st, addr + i * PG, frames[i], j - i);
		if (rc)
			return rc;
	}
	return 0;
}

static int memfd_unmap_range(void *st, char *addr, size_t n)
{
	(void)st;
	return unmap_one(addr, n);
}

/* Allocating frames is allocating file pages: fallocate() a free range of
 * the file (past the frames), and free them by punching it out again. */
static int memfd_alloc(void *st, uint64_t *frames, size_t n)
{
	struct memfd_st *s = st;
	size_t r, first;

	pthread_mutex_lock(&s->lock);
	for (r = 0; r < BENCH_MAX_THREADS && s->busy[r]; r++)
		;
	if (r < BENCH_MAX_THREADS)
		s->busy[r] = true;
	pthread_mutex_unlock(&s->lock);
	if (r == BENCH_MAX_THREADS)
		return bench_err(-EBUSY, "memfd: more than %d allocations at once",
				 BENCH_MAX_THREADS);
	first = s->nframes + r * BENCH_ALLOC_CHUNK;
	bench_syscalls++;
	if (fallocate(s->fd, 0, (off_t)(first * PG), (off_t)(n * PG)) != 0) {
		int e = errno;

		pthread_mutex_lock(&s->lock);
		s->busy[r] = false;
		pthread_mutex_unlock(&s->lock);
		return bench_err(-e, "fallocate: %s", strerror(e));
	}
	for (size_t i = 0; i < n; i++)
		frames[i] = first + i;
	return 0;
}

static int memfd_free(void *st, uint64_t *frames, size_t n)
{
	struct memfd_st *s = st;
	size_t r = (frames[0] - s->nframes) / BENCH_ALLOC_CHUNK;
	int rc = 0;

	bench_syscalls++;
	if (fallocate(s->fd, FALLOC_FL_PUNCH_HOLE | FALLOC_FL_KEEP_SIZE, (off_t)(frames[0] * PG),
		      (off_t)(n * PG)) != 0)
		rc = bench_err(-errno, "fallocate(FALLOC_FL_PUNCH_HOLE): %s", strerror(errno));
	pthread_mutex_lock(&s->lock);
	s->busy[r] = false;
	pthread_mutex_unlock(&s->lock);
	return rc;
}

const struct contender contender_memfd = {
	.name = "memfd",
	.what = "memfd + mmap(MAP_SHARED | MAP_FIXED) in a PROT_NONE reservation",
	.alloc_what = "fallocate+fallocate(PUNCH_HOLE)",
	.flags = C_COUNTS_SYSCALLS | C_VMA_LIMITED | C_MAPS | C_PAGER,
	.probe = memfd_probe,
	.setup = memfd_setup,
	.teardown = memfd_teardown,
	.map = memfd_map,
	.unmap = memfd_unmap,
	.map_range = memfd_map_range,
	.unmap_range = memfd_unmap_range,
	.alloc = memfd_alloc,
	.free = memfd_free,
};
