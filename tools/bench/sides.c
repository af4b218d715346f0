// SPDX-License-Identifier: MIT
/*
 * The large-frame runs' rounds. Every side of a run is set up at once and
 * the sides take turns, a round each, each round starting with the next
 * side, as the contenders do in run_paired() (rounds.c): a ratio of two
 * sides then pairs their rounds. Where the touch run's sides do not fit in
 * memory together, they run one after another, and a note says so. A round
 * is a warm-up and opts.reps timed repetitions of about opts.rep_ns, one
 * thread; its result is a struct result whose time "per page" is per unit
 * of the side's work (an operation, a touch), folded in with
 * result_merge().
 *
 * A side that cannot run here (no huge pages to be had) is a skip, with
 * its reason, and the goals that need it say "not run" with that reason.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>

#include <awe.h>

#include "bench.h"
#include "large.h"
#include "run.h"

#define LARGE_POOL (64u << 20)	     /* the large run's frames, of each side */
#define LARGE_POOL_QUICK (8u << 20)  /* the same with --quick */
#define TOUCH_SIZE (4ull << 30)	     /* the touch run's, without --sizes */
#define TOUCH_SIZE_QUICK (64u << 20) /* the same with --quick */
#define MAX_SIDES 4

const struct workload wl_large = {
	.name = "large",
	.what = "map, touch and unmap frames of a pool at random slots: one 2 MiB frame, 512 "
		"frames of 4 KiB, one 4 KiB frame (per operation)",
};

const struct workload wl_touch = {
	.name = "touch",
	.what = "random 8-byte reads and writes, one per random cache line of a random 4 KiB "
		"page, over frames mapped once",
};

static const struct side *const large_sides[] = {&side_awe_2m, &side_awe_512x4k, &side_memfd_2m,
						 &side_awe_4k};
static const struct side *const touch_sides[] = {&side_touch_4k, &side_touch_2m};

/* A side of a run: its state once set up, and its result's index in
 * rp.large (which a new result may move). */
struct side_slot {
	const struct side *s;
	void *st;
	size_t ri;
};

static size_t large_cap;

static size_t new_result(const struct side *s, const struct workload *w, size_t size)
{
	rp.large = xgrow(rp.large, &large_cap, rp.nlarge + 1, sizeof(*rp.large), 16);
	rp.large[rp.nlarge] = (struct result){
		.c = &s->c, .w = w, .mode = MODE_ONE, .nthreads = 1, .size = size, .huge_pct = -1};
	return rp.nlarge++;
}

static uint64_t thread_faults(void)
{
	struct rusage ru;

	if (getrusage(RUSAGE_THREAD, &ru) != 0)
		return 0;
	return (uint64_t)ru.ru_minflt + (uint64_t)ru.ru_majflt;
}

/* Operations per repetition, from a warm-up of opts.warm_ns (one at least). */
static int warm_up(const struct side *s, void *st, size_t *ops)
{
	uint64_t t0 = now_ns(), el = 0, units = 0;
	size_t n = 0;
	double per, k;
	int rc = 0;

	while (!rc && (!n || el < opts.warm_ns)) {
		rc = s->op(st, &units);
		n++;
		el = now_ns() - t0;
	}
	per = (double)el / (double)n;
	k = opts.rep_ns / (per > 1 ? per : 1);
	*ops = k < 1 ? 1 : k > 1e7 ? 10000000 : (size_t)k;
	return rc;
}

/* One round of a side into @t: the median of its repetitions, per unit. */
static int measure(const struct side *s, void *st, struct result *t)
{
	uint64_t units = 0, elapsed = 0, sys0, flt0;
	size_t ops;
	int rc = warm_up(s, st, &ops);

	sys0 = bench_syscalls;
	flt0 = thread_faults();
	for (unsigned int rep = 0; !rc && rep < opts.reps; rep++) {
		uint64_t u0 = units, c0 = thread_cpu_ns(), w0 = now_ns(), el, cpu;

		for (size_t i = 0; !rc && i < ops; i++)
			rc = s->op(st, &units);
		el = now_ns() - w0;
		cpu = thread_cpu_ns() - c0;
		if (rc || units == u0)
			break;
		t->rep[t->nreps] = (double)el / (double)(units - u0);
		t->rep_cpu[t->nreps++] = (double)cpu / (double)(units - u0);
		elapsed += el;
		t->calls += ops;
	}
	t->sys = bench_syscalls - sys0;
	t->faults = thread_faults() - flt0;
	t->pages = units;
	t->ns_page = median(t->rep, t->nreps);
	t->cpu_page = median(t->rep_cpu, t->nreps);
	t->round_ns[0] = t->ns_page;
	t->round_cpu[0] = t->cpu_page;
	t->nrounds = 1;
	t->pages_s = elapsed ? (double)units * 1e9 / (double)elapsed : 0;
	return rc;
}

static void side_setup(const struct config *cf, struct side_slot *sl)
{
	struct result *r = &rp.large[sl->ri];
	double huge = -1;
	char sz[32];
	int rc;

	sl->st = NULL;
	if (r->status != ST_OK)
		return;
	fmt_size(sz, sizeof(sz), r->size);
	progress(cf, "%s, %s of frames: setting up %s", r->w->name, sz, r->c->name);
	bench_err(0, "%s", "");
	rc = sl->s->setup(&sl->st, r->size, &huge);
	r->huge_pct = huge;
	if (!rc) {
		/* Its note, if any. */
		snprintf(r->msg, sizeof(r->msg), "%s", bench_errmsg());
		return;
	}
	sl->st = NULL;
	r->status = rc == SIDE_UNAVAILABLE ? ST_SKIP : ST_ERROR;
	snprintf(r->msg, sizeof(r->msg), "%s%s",
		 rc == SIDE_UNAVAILABLE ? "" : "setup: ", bench_errmsg());
	progress(cf, "  %s %s: %s: %s", r->w->name, r->c->name,
		 rc == SIDE_UNAVAILABLE ? "not available" : "error", r->msg);
}

static void side_teardown(struct side_slot *sl)
{
	if (sl->st)
		sl->s->teardown(sl->st);
	sl->st = NULL;
}

/* One round of a side, folded into its result; appends to the progress
 * @line of the round. */
static size_t side_round(const struct config *cf, struct side_slot *sl, char *line, size_t len,
			 size_t n)
{
	struct result *r = &rp.large[sl->ri];
	struct result t = {.c = r->c,
			   .w = r->w,
			   .mode = r->mode,
			   .nthreads = r->nthreads,
			   .size = r->size,
			   .interleaved = r->interleaved,
			   .huge_pct = r->huge_pct};
	char v[32];

	if (r->status == ST_OK && sl->st) {
		if (measure(sl->s, sl->st, &t) == 0) {
			memcpy(t.msg, r->msg, sizeof(t.msg));
			if (!r->nrounds)
				*r = t;
			else
				result_merge(r, &t);
		} else {
			r->status = ST_ERROR;
			snprintf(r->msg, sizeof(r->msg), "%s", bench_errmsg());
			progress(cf, "  %s %s: error: %s", r->w->name, r->c->name, r->msg);
			side_teardown(sl);
		}
	}
	if (n < len)
		n += (size_t)snprintf(line + n, len - n, " %s %s", r->c->name,
				      r->status == ST_OK ? fmt_ns(v, sizeof(v), t.ns_page)
							 : status_name(r->status));
	return n;
}

static size_t round_head(char *line, size_t len, const struct workload *w, size_t size,
			 unsigned int round)
{
	char sz[32];

	fmt_size(sz, sizeof(sz), size);
	return (size_t)snprintf(line, len, "%s, %s of frames, round %u of %u, ns/%s:", w->name, sz,
				round + 1, opts.rounds, w == &wl_touch ? "touch" : "op");
}

static bool owner_ran(const char *owner, const struct contender *const *cs, size_t ncs)
{
	for (size_t i = 0; i < ncs; i++)
		if (!strcmp(cs[i]->name, owner))
			return true;
	return false;
}

/*
 * The sides of @sides whose contender is in @cs, on @size bytes of frames
 * each: in turns when they all fit in memory together, else one after
 * another (a note says so), else skipped.
 */
static void run_sides(const struct config *cf, const struct workload *w,
		      const struct side *const *sides, size_t nsides, size_t size,
		      const struct contender *const *cs, size_t ncs)
{
	struct side_slot sl[MAX_SIDES];
	size_t n = 0, len;
	char why[200], sz[32], line[512];
	bool together;

	for (size_t i = 0; i < nsides && n < MAX_SIDES; i++)
		if (owner_ran(sides[i]->owner, cs, ncs))
			sl[n++] = (struct side_slot){.s = sides[i],
						     .ri = new_result(sides[i], w, size)};
	if (!n)
		return;
	fmt_size(sz, sizeof(sz), size);
	together = fits(n * size + size / 8 + (256u << 20), why, sizeof(why));
	if (!together && !fits(size + size / 8 + (256u << 20), why, sizeof(why))) {
		for (size_t k = 0; k < n; k++) {
			rp.large[sl[k].ri].status = ST_SKIP;
			snprintf(rp.large[sl[k].ri].msg, sizeof(rp.large[0].msg), "%s", why);
		}
		return;
	}
	if (!together && n > 1)
		add_note("%s, %s of frames: the sides ran one after another, not in turns (all "
			 "of them at once: %s), so its ratios are of overall medians, not paired",
			 w->name, sz, why);
	for (size_t k = 0; k < n; k++)
		rp.large[sl[k].ri].interleaved = together;
	if (together) {
		for (size_t k = 0; k < n; k++)
			side_setup(cf, &sl[k]);
		for (unsigned int round = 0; round < opts.rounds; round++) {
			len = round_head(line, sizeof(line), w, size, round);
			for (size_t j = 0; j < n; j++)
				len = side_round(cf, &sl[(j + round) % n], line, sizeof(line), len);
			progress(cf, "%s", line);
		}
		for (size_t k = 0; k < n; k++)
			side_teardown(&sl[k]);
		return;
	}
	for (size_t k = 0; k < n; k++) {
		side_setup(cf, &sl[k]);
		for (unsigned int round = 0; round < opts.rounds; round++) {
			len = round_head(line, sizeof(line), w, size, round);
			len = side_round(cf, &sl[k], line, sizeof(line), len);
			progress(cf, "%s", line);
		}
		side_teardown(&sl[k]);
	}
}

void run_large(const struct config *cf, const struct contender *const *cs, size_t ncs)
{
	run_sides(cf, &wl_large, large_sides, ARRAY_SIZE(large_sides),
		  opts.quick ? LARGE_POOL_QUICK : LARGE_POOL, cs, ncs);
}

/* At each size of --sizes, else at 4 GiB (--quick: 64 MiB), in whole
 * large pages. */
void run_touch(const struct config *cf, const struct contender *const *cs, size_t ncs)
{
	size_t unit = pages_per_large() * opts.page;
	size_t dflt = opts.quick ? TOUCH_SIZE_QUICK : TOUCH_SIZE;
	size_t nsizes = cf->size_given ? cf->nsizes : 1;

	for (size_t i = 0; i < nsizes; i++) {
		size_t size = cf->size_given ? cf->sizes[i] : dflt;

		size = (size + unit - 1) / unit * unit;
		run_sides(cf, &wl_touch, touch_sides, ARRAY_SIZE(touch_sides), size, cs, ncs);
	}
}
