// SPDX-License-Identifier: MIT
/*
 * awe-bench's rounds: each contender set up for a group of modes, the cases
 * run round by round, the contenders taking turns (paired) where they all
 * fit in memory at once and one after another where not, a failed case's
 * contender set up afresh, the progress lines, and the extra runs that
 * follow the timed cases.
 */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <awe.h>

#include "bench.h"
#include "run.h"

static size_t case_cap;

static struct result *new_case(void)
{
	rp.cases = xgrow(rp.cases, &case_cap, rp.ncases + 1, sizeof(*rp.cases), 256);
	memset(&rp.cases[rp.ncases], 0, sizeof(*rp.cases));
	return &rp.cases[rp.ncases++];
}

/* The case of @c, @w and the @m-th mode of @g: of an earlier round, or a
 * fresh one. */
static struct result *case_for(const struct contender *c, const struct workload *w,
			       const struct group *g, size_t m, size_t size)
{
	enum mode mode = g->modes[m];
	unsigned int nthreads = mode == MODE_THREADS ? g->nthreads : 1;
	struct result *r;

	for (size_t i = 0; i < rp.ncases; i++) {
		r = &rp.cases[i];
		if (r->c == c && r->w == w && r->mode == mode && r->nthreads == nthreads &&
		    r->size == size)
			return r;
	}
	r = new_case();
	*r = (struct result){.c = c, .w = w, .mode = mode, .nthreads = nthreads, .size = size};
	return r;
}

static size_t need_bytes(const struct contender *c, size_t size)
{
	/* The copy window is as large as the frames, and resident. */
	return (c == &contender_copy ? 2 : 1) * size + size / 8 + (256u << 20);
}

bool fits(size_t bytes, char *why, size_t len)
{
	struct awe_probe p;
	char a[32], b[32];

	if (awe_probe(&p) != 0 || p.mem_available >= bytes)
		return true;
	fmt_size(a, sizeof(a), bytes & ~((1ull << 20) - 1));
	fmt_size(b, sizeof(b), (size_t)p.mem_available & ~((1ull << 20) - 1));
	snprintf(why, len, "needs about %s, %s of memory available", a, b);
	return false;
}

void progress(const struct config *cf, const char *fmt, ...)
{
	va_list ap;

	if (cf->quiet)
		return;
	fprintf(stderr, "awe-bench: [%5.1f s] ", (double)(now_ns() - start_ns) / 1e9);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
}

static void skip_cases(const struct config *cf, const struct contender *c, size_t size,
		       const struct group *g, const char *why)
{
	for (size_t w = 0; w < nworkloads; w++)
		for (size_t m = 0; m < g->nmodes && listed(cf->workload_list, workloads[w]->name);
		     m++) {
			struct result *r = case_for(c, workloads[w], g, m, size);

			r->status = ST_SKIP;
			snprintf(r->msg, sizeof(r->msg), "%s", why);
		}
}

/* A contender set up for a group, or why it could not be. */
struct slot {
	struct bench_target tg;
	int rc;
	char err[256];
};

static void slot_setup(struct slot *sl, const struct contender *c, size_t size,
		       unsigned int windows)
{
	size_t frames = size / opts.page;
	struct setup_args a = {
		.frames = frames,
		.windows = windows,
		.window_pages = frames / windows,
	};

	sl->tg = (struct bench_target){
		.c = c,
		.nframes = frames,
		.nwindows = windows,
		.window_pages = frames / windows,
		.handles = xcalloc(frames, sizeof(*sl->tg.handles)),
		.bases = xcalloc(windows, sizeof(*sl->tg.bases)),
	};
	a.handles = sl->tg.handles;
	a.bases = sl->tg.bases;
	sl->rc = c->setup(&sl->tg.st, &a);
	/* Kept now: setting up the next contender overwrites the message. */
	snprintf(sl->err, sizeof(sl->err), "setup: %s", sl->rc ? bench_errmsg() : "");
}

static void slot_teardown(struct slot *sl)
{
	if (sl->tg.st)
		sl->tg.c->teardown(sl->tg.st);
	free(sl->tg.handles);
	free(sl->tg.bases);
	sl->tg = (struct bench_target){0};
}

/*
 * One round of @r's case on the slot's contender, folded into @r. Returns
 * the round's own ns/page, or 0 when it failed (@r says why); a failure may
 * leave frames mapped, so the contender is set up afresh for the next case.
 */
static double run_round(struct slot *sl, struct result *r)
{
	struct result t = {.c = r->c,
			   .w = r->w,
			   .mode = r->mode,
			   .nthreads = r->nthreads,
			   .size = r->size,
			   .interleaved = r->interleaved};

	if (sl->rc) {
		r->status = ST_ERROR;
		snprintf(r->msg, sizeof(r->msg), "%s", sl->err);
		return 0;
	}
	run_case(&sl->tg, r->w, r->mode, r->nthreads, &t);
	if (!r->nrounds)
		*r = t;
	else
		result_merge(r, &t);
	if (t.status == ST_LIMIT || t.status == ST_ERROR) {
		const struct contender *c = sl->tg.c;
		unsigned int windows = sl->tg.nwindows;

		slot_teardown(sl);
		slot_setup(sl, c, r->size, windows);
	}
	return t.status == ST_OK ? t.ns_page : 0;
}

/*
 * Appends "name ns" (or "name status") to the progress line of a round,
 * whose head names the case; a failure gets a line of its own with the
 * message, once.
 */
static size_t round_progress(const struct config *cf, char *line, size_t len, size_t n,
			     const struct result *r, unsigned int round, double ns)
{
	char mname[32], sz[32], v[32];

	if (!n) {
		fmt_size(sz, sizeof(sz), r->size);
		n = (size_t)snprintf(line, len, "%s %s %s, round %u of %u, ns/page:", sz,
				     r->w->name,
				     mode_name(r->mode, r->nthreads, mname, sizeof(mname)),
				     round + 1, opts.rounds);
	}
	if (r->status != ST_OK && r->status != ST_SKIP)
		progress(cf, "  %s %s %s: %s: %s", r->c->name, r->w->name,
			 mode_name(r->mode, r->nthreads, mname, sizeof(mname)),
			 status_name(r->status), r->msg);
	if (n < len)
		n += (size_t)snprintf(line + n, len - n, " %s %s", r->c->name,
				      r->status == ST_OK ? fmt_ns(v, sizeof(v), ns)
							 : status_name(r->status));
	return n;
}

/* The contender-major order: every case of one contender, in one setup. */
static void run_group(const struct config *cf, const struct contender *c, size_t size,
		      const struct group *g, unsigned int round)
{
	struct slot sl;
	char why[200], line[256];

	if (!fits(need_bytes(c, size), why, sizeof(why))) {
		skip_cases(cf, c, size, g, why);
		return;
	}
	slot_setup(&sl, c, size, g->nthreads);
	for (size_t w = 0; w < nworkloads; w++) {
		if (!listed(cf->workload_list, workloads[w]->name))
			continue;
		for (size_t m = 0; m < g->nmodes; m++) {
			struct result *r = case_for(c, workloads[w], g, m, size);
			double ns;

			if (r->status != ST_OK)
				continue;
			ns = run_round(&sl, r);
			round_progress(cf, line, sizeof(line), 0, r, round, ns);
			progress(cf, "%s", line);
		}
	}
	slot_teardown(&sl);
}

/*
 * The paired order: every contender set up at once, then case by case, the
 * contenders take turns, one round each, so that their measurements of a
 * case are seconds apart and a slow spell of the machine (a VM's neighbours)
 * falls on all of them. Each round starts with the next contender, so that
 * none always runs right after the same other one (memfd, say, leaves the
 * kernel freeing shared memory).
 */
static void run_paired(const struct config *cf, const struct contender *const *cs, size_t ncs,
		       size_t size, const struct group *g)
{
	struct slot sl[ARRAY_SIZE(all_contenders)];
	/* Indexes: a new case may move the table (realloc), and with it every
	 * pointer into it. */
	size_t ri[ARRAY_SIZE(all_contenders)];
	char line[512];

	for (size_t k = 0; k < ncs; k++)
		slot_setup(&sl[k], cs[k], size, g->nthreads);
	for (size_t w = 0; w < nworkloads; w++) {
		if (!listed(cf->workload_list, workloads[w]->name))
			continue;
		for (size_t m = 0; m < g->nmodes; m++) {
			for (size_t k = 0; k < ncs; k++)
				ri[k] = (size_t)(case_for(cs[k], workloads[w], g, m, size) -
						 rp.cases);
			for (size_t k = 0; k < ncs; k++)
				rp.cases[ri[k]].interleaved = true;
			for (unsigned int round = 0; round < opts.rounds; round++) {
				size_t n = 0;

				for (size_t j = 0; j < ncs; j++) {
					size_t k = (j + round) % ncs;
					struct result *r = &rp.cases[ri[k]];
					double ns;

					if (r->status != ST_OK)
						continue;
					ns = run_round(&sl[k], r);
					n = round_progress(cf, line, sizeof(line), n, r, round, ns);
				}
				if (n)
					progress(cf, "%s", line);
			}
		}
	}
	for (size_t k = 0; k < ncs; k++)
		slot_teardown(&sl[k]);
}

/* Paired when all contenders fit in memory at once, else one after another. */
void run_size(const struct config *cf, const struct contender *const *cs, size_t ncs, size_t size,
	      const struct group *groups, size_t ngroups)
{
	size_t need = 0;
	char why[200], sz[32];

	for (size_t k = 0; k < ncs; k++)
		need += need_bytes(cs[k], size);
	fmt_size(sz, sizeof(sz), size);
	if (fits(need, why, sizeof(why))) {
		progress(cf, "%s of frames: %zu contenders in turns, %u round%s", sz, ncs,
			 opts.rounds, opts.rounds > 1 ? "s" : "");
		for (size_t g = 0; g < ngroups; g++)
			run_paired(cf, cs, ncs, size, &groups[g]);
		return;
	}
	if (ncs > 1)
		add_note("%s of frames: the contenders ran one after another, not in turns (all "
			 "of them at once: %s), so the ratios there are of overall medians, not "
			 "paired",
			 sz, why);
	for (unsigned int round = 0; round < opts.rounds; round++)
		for (size_t j = 0; j < ncs; j++) {
			size_t k = (j + round) % ncs;

			progress(cf, "%s of frames, round %u of %u: %s alone", sz, round + 1,
				 opts.rounds, cs[k]->name);
			for (size_t g = 0; g < ngroups; g++)
				run_group(cf, cs[k], size, &groups[g], round);
		}
}

/* The pager's frames: as many as the summary size has, up to PAGER_FRAMES,
 * and few enough that the memfd remapper, each of whose scattered pages is
 * a mapping or two, stays well under vm.max_map_count. */
static size_t pager_frames(void)
{
	size_t n = rp.summary_size / opts.page;
	size_t cap = opts.max_map_count > 0 ? (size_t)opts.max_map_count / 3 : PAGER_FRAMES;

	n = n < PAGER_FRAMES ? n : PAGER_FRAMES;
	n = n < cap ? n : cap;
	return n - n % BENCH_BATCH;
}

static void pager_merge(struct pager_result *r, const struct pager_run *run)
{
	struct pager_run *t = &r->total;

	if (run->status != ST_OK && r->status == ST_OK) {
		r->status = run->status;
		memcpy(r->msg, run->msg, sizeof(r->msg));
	}
	if (run->status != ST_OK || !(run->secs > 0) || r->nrounds == BENCH_MAX_ROUNDS)
		return;
	r->touch_s[r->nrounds] = (double)run->touches / run->secs;
	r->fault_s[r->nrounds++] = (double)run->faults / run->secs;
	t->secs += run->secs;
	t->touches += run->touches;
	t->faults += run->faults;
	t->direct += run->direct;
	t->waits += run->waits;
	t->evicted += run->evicted;
	t->batches += run->batches;
}

/*
 * The pager: every contender that can page, with 1, 2 and 4 faulting
 * threads, round after round, the contenders taking turns as in
 * run_paired(), so that a ratio of two contenders can pair their rounds.
 */
static void run_pagers(const struct config *cf, const struct contender *const *cs, size_t ncs)
{
	static const unsigned int counts[] = {1, 2, 4};
	const size_t nn = ARRAY_SIZE(counts);
	const struct contender *pc[ARRAY_SIZE(all_contenders)];
	size_t npc = 0, frames = pager_frames();
	double ns = 10 * opts.rep_ns;
	char line[512], sz[32];

	for (size_t i = 0; i < ncs; i++)
		if (cs[i]->flags & C_PAGER)
			pc[npc++] = cs[i];
	for (size_t k = 0; k < npc; k++)
		for (size_t n = 0; n < nn; n++)
			rp.pager[rp.npager++] = (struct pager_result){
				.c = pc[k], .threads = counts[n], .frames = frames};
	fmt_size(sz, sizeof(sz), frames * opts.page);
	for (unsigned int round = 0; round < opts.rounds && npc; round++) {
		size_t len = (size_t)snprintf(line, sizeof(line),
					      "pager, %s of frames, round %u of %u, touches/s:", sz,
					      round + 1, opts.rounds);

		for (size_t j = 0; j < npc; j++) {
			size_t k = (j + round) % npc;

			for (size_t n = 0; n < nn; n++) {
				struct pager_result *r = &rp.pager[k * nn + n];
				struct pager_run run;

				run_pager(r->c, frames, r->threads, ns, &run);
				pager_merge(r, &run);
				if (run.status != ST_OK)
					progress(cf, "  pager %s, %u threads: %s", r->c->name,
						 r->threads, run.msg);
				if (len < sizeof(line))
					len += (size_t)snprintf(
						line + len, sizeof(line) - len, " %s/%u %.0f K",
						r->c->name, r->threads,
						run.secs > 0 ? (double)run.touches / run.secs / 1e3
							     : 0.0);
			}
		}
		progress(cf, "%s", line);
	}
}

void run_extras(const struct config *cf, const struct contender *const *cs, size_t ncs)
{
	size_t frames = rp.summary_size / opts.page;
	char why[200];

	if (listed(cf->workload_list, "memory"))
		for (size_t i = 0; i < ncs; i++) {
			if (!fits(need_bytes(cs[i], rp.summary_size), why, sizeof(why)))
				continue;
			progress(cf, "memory per frame: %s", cs[i]->name);
			run_memory(cs[i], frames, &rp.memory[rp.nmemory++]);
		}
	if (listed(cf->workload_list, "maxmap")) {
		size_t count = opts.maxmap_count;

		/* Shrink the run to what fits, as long as it still passes the
		 * memfd remapper's limit. */
		while (!fits((size_t)(count * opts.page * 1.15) + (256u << 20), why, sizeof(why)) &&
		       count > 131072)
			count -= count / 4;
		if (count != opts.maxmap_count)
			add_note("mapping count run reduced to %zu mappings to fit in memory",
				 count);
		for (size_t i = 0; i < ncs; i++) {
			if (!(cs[i]->flags & C_MAPS) ||
			    ((cs[i]->flags & C_SAME_ENGINE) && !cf->contender_list))
				continue;
			progress(cf, "mapping count: %s, %zu mappings", cs[i]->name, count);
			run_maxmap(cs[i], count, &rp.maxmap[rp.nmaxmap]);
			rp.nmaxmap += 2;
		}
	}
	if (listed(cf->workload_list, "churn"))
		for (size_t i = 0; i < ncs; i++) {
			bool wanted = cf->contender_list ? (cs[i]->flags & C_MAPS)
							 : (cs[i]->flags & C_CHURN);

			if (!wanted || !fits(need_bytes(cs[i], rp.summary_size), why, sizeof(why)))
				continue;
			progress(cf, "churn: %s, %" PRIu64 " operations", cs[i]->name,
				 opts.churn_ops);
			run_churn(cs[i], frames, opts.churn_ops, &rp.churn[rp.nchurn++]);
		}
	if (listed(cf->workload_list, "pager"))
		run_pagers(cf, cs, ncs);
}
