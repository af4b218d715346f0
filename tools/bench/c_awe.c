// SPDX-License-Identifier: MIT
/*
 * Contender "awe": libawe through its native API, one call per operation.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>

#include <awe.h>

#include "bench.h"

struct awe_st {
	uint64_t *frames;
	size_t nframes;
	void **wins;
	unsigned int nwins;
};

static const char *probe_awe(void)
{
	static char why[256];
	struct awe_stats st;
	int rc = awe_stats(&st);

	if (!rc)
		return NULL;
	snprintf(why, sizeof(why), "libawe cannot run here: %s", awe_strerror(rc));
	return why;
}

static int fail(int rc, const char *call)
{
	return bench_err(rc < 0 ? rc : -EIO, "%s: %s", call, awe_strerror(rc));
}

static void awe_teardown(void *p)
{
	struct awe_st *s = p;

	for (unsigned int i = 0; i < s->nwins; i++)
		if (s->wins[i])
			awe_window_destroy(s->wins[i]);
	if (s->nframes)
		awe_free(s->frames, s->nframes, NULL);
	free(s->wins);
	free(s);
}

/* awe_alloc() may return fewer frames than asked; a benchmark needs them all. */
static int alloc_all(uint64_t *frames, size_t n, size_t *got)
{
	ssize_t r;

	*got = 0;
	while (*got < n) {
		r = awe_alloc(frames + *got, n - *got);
		if (r <= 0)
			return fail(r < 0 ? (int)r : -ENOMEM, "awe_alloc");
		*got += (size_t)r;
	}
	return 0;
}

static int awe_setup(void **out, const struct setup_args *a)
{
	struct awe_st *s = xcalloc(1, sizeof(*s));
	int rc;

	s->frames = a->handles;
	s->wins = xcalloc(a->windows, sizeof(*s->wins));
	rc = alloc_all(a->handles, a->frames, &s->nframes);
	for (unsigned int i = 0; !rc && i < a->windows; i++, s->nwins++) {
		rc = awe_window_create(a->window_pages * opts.page, NULL, 0, &s->wins[i]);
		if (rc)
			rc = fail(rc, "awe_window_create");
		else
			a->bases[i] = s->wins[i];
	}
	if (rc) {
		awe_teardown(s);
		return rc;
	}
	*out = s;
	return 0;
}

static int awe_map_op(void *st, void *const *addrs, const uint64_t *frames, size_t n)
{
	int rc = awe_map_scatter(addrs, n, frames);

	(void)st;
	return rc ? fail(rc, "awe_map_scatter") : 0;
}

static int awe_unmap_op(void *st, void *const *addrs, size_t n)
{
	int rc = awe_map_scatter(addrs, n, NULL);

	(void)st;
	return rc ? fail(rc, "awe_map_scatter(NULL)") : 0;
}

/* The evictor's promise (awe.h): the workload's own thread is the only one
 * touching these pages, so it may make it. */
static int awe_unmap_excl(void *st, void *const *addrs, size_t n)
{
	int rc = awe_unmap_scatter(addrs, n, AWE_UNMAP_EXCLUSIVE);

	(void)st;
	return rc ? fail(rc, "awe_unmap_scatter(AWE_UNMAP_EXCLUSIVE)") : 0;
}

static int awe_map_range(void *st, char *addr, const uint64_t *frames, size_t n)
{
	int rc = awe_map(addr, n, frames);

	(void)st;
	return rc ? fail(rc, "awe_map") : 0;
}

static int awe_unmap_range(void *st, char *addr, size_t n)
{
	int rc = awe_map(addr, n, NULL);

	(void)st;
	return rc ? fail(rc, "awe_map(NULL)") : 0;
}

static int awe_alloc_op(void *st, uint64_t *frames, size_t n)
{
	size_t got;
	int rc = alloc_all(frames, n, &got);

	(void)st;
	if (rc && got)
		awe_free(frames, got, NULL);
	return rc;
}

static int awe_free_op(void *st, uint64_t *frames, size_t n)
{
	int rc = awe_free(frames, n, NULL);

	(void)st;
	return rc ? fail(rc, "awe_free") : 0;
}

static void awe_note(void *st, char *buf, size_t len)
{
	struct awe_stats s;

	(void)st;
	if (awe_stats(&s) == 0)
		snprintf(buf, len, "engine %s, parking %.0f MiB", s.engine,
			 (double)s.parking_bytes / (1 << 20));
}

const struct contender contender_awe = {
	.name = "awe",
	.what = "libawe, native API (awe_map_scatter, awe_map; evict64: awe_unmap_scatter)",
	.alloc_what = "awe_alloc+awe_free",
	.flags = C_MAPS | C_CHURN | C_PAGER,
	.probe = probe_awe,
	.setup = awe_setup,
	.teardown = awe_teardown,
	.map = awe_map_op,
	.unmap = awe_unmap_op,
	.unmap_excl = awe_unmap_excl,
	.map_range = awe_map_range,
	.unmap_range = awe_unmap_range,
	.alloc = awe_alloc_op,
	.free = awe_free_op,
	.note = awe_note,
};
