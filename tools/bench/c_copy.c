// SPDX-License-Identifier: MIT
/*
 * Contender "copy": no remapping at all. Frames live in a backing store and
 * a fixed, resident window receives copies: mapping is memcpy of the frame
 * into the slot, unmapping copies the slot back (the page may have been
 * written). What a program without any remapper does, and the cost a
 * remapper has to beat: a 4 KiB copy.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>

#include "bench.h"

struct copy_st {
	char *store;
	size_t store_len;
	char *win;
	size_t win_len;
	uint32_t *slot; /* frame + 1 per slot, 0 when empty */
};

#define PG (opts.page)

static void copy_teardown(void *p)
{
	struct copy_st *s = p;

	if (s->win)
		munmap(s->win, s->win_len);
	if (s->store)
		munmap(s->store, s->store_len);
	free(s->slot);
	free(s);
}

static char *populated(size_t len, int *rc)
{
	void *p = mmap(NULL, len, PROT_READ | PROT_WRITE,
		       MAP_PRIVATE | MAP_ANONYMOUS | MAP_POPULATE, -1, 0);

	if (p != MAP_FAILED)
		return p;
	*rc = bench_err(-errno, "mmap(MAP_POPULATE): %s", strerror(errno));
	return NULL;
}

/* The window is resident from the start: a copy window is ordinary memory
 * that has been in use for a while, not one that faults on every first copy. */
static int copy_setup(void **out, const struct setup_args *a)
{
	struct copy_st *s = xcalloc(1, sizeof(*s));
	size_t slots = (size_t)a->windows * a->window_pages;
	int rc = 0;

	s->store_len = a->frames * PG;
	s->win_len = slots * PG;
	s->slot = xcalloc(slots, sizeof(*s->slot));
	s->store = populated(s->store_len, &rc);
	if (s->store)
		s->win = populated(s->win_len, &rc);
	if (rc) {
		copy_teardown(s);
		return rc;
	}
	index_layout(a, s->win);
	*out = s;
	return 0;
}

static uint32_t *slot_at(struct copy_st *s, const char *addr)
{
	return &s->slot[(size_t)(addr - s->win) / PG];
}

static void write_back(struct copy_st *s, char *addr)
{
	uint32_t *k = slot_at(s, addr);

	if (*k) {
		memcpy(s->store + (*k - 1) * PG, addr, PG);
		*k = 0;
	}
}

static int copy_map(void *st, void *const *addrs, const uint64_t *frames, size_t n)
{
	struct copy_st *s = st;

	for (size_t i = 0; i < n; i++) {
		write_back(s, addrs[i]);
		memcpy(addrs[i], s->store + frames[i] * PG, PG);
		*slot_at(s, addrs[i]) = (uint32_t)frames[i] + 1;
	}
	return 0;
}

static int copy_unmap(void *st, void *const *addrs, size_t n)
{
	for (size_t i = 0; i < n; i++)
		write_back(st, addrs[i]);
	return 0;
}

static int copy_map_range(void *st, char *addr, const uint64_t *frames, size_t n)
{
	struct copy_st *s = st;
	uint32_t *k = slot_at(s, addr);
	size_t i, j;

	for (i = 0; i < n; i++)
		write_back(s, addr + i * PG);
	for (i = 0; i < n; i = j) {
		j = frame_run_end(frames, i, n);
		memcpy(addr + i * PG, s->store + frames[i] * PG, (j - i) * PG);
	}
	for (i = 0; i < n; i++)
		k[i] = (uint32_t)frames[i] + 1;
	return 0;
}

static int copy_unmap_range(void *st, char *addr, size_t n)
{
	struct copy_st *s = st;
	uint32_t *k = slot_at(s, addr);
	size_t i, j;

	for (i = 0; i < n; i = j) {
		if (!k[i]) {
			j = i + 1;
			continue;
		}
		j = slot_run_end(k, i, n);
		memcpy(s->store + (k[i] - 1) * PG, addr + i * PG, (j - i) * PG);
		memset(&k[i], 0, (j - i) * sizeof(*k));
	}
	return 0;
}

const struct contender contender_copy = {
	.name = "copy",
	.what = "memcpy of frames into and out of a fixed resident window",
	.flags = C_COUNTS_SYSCALLS,
	.setup = copy_setup,
	.teardown = copy_teardown,
	.map = copy_map,
	.unmap = copy_unmap,
	.map_range = copy_map_range,
	.unmap_range = copy_unmap_range,
};
