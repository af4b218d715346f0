// SPDX-License-Identifier: MIT
/*
 * awe-bench output: the full table, the summary, Markdown and JSON.
 */
#include <inttypes.h>
#include <math.h>
#include <stdio.h>
#include <string.h>

#include <awe.h>

#include "bench.h"

/* Where the report being written goes. */
static FILE *out;

static const enum mode all_modes[] = {MODE_ONE, MODE_BUSY, MODE_THREADS};
static const char *const baselines[] = {"raw", "memfd", "copy"};

const char *mode_name(enum mode m, unsigned int nthreads, char *buf, size_t len)
{
	if (m == MODE_ONE)
		snprintf(buf, len, "1 thread");
	else if (m == MODE_BUSY)
		snprintf(buf, len, "1 + busy");
	else
		snprintf(buf, len, "%u threads", nthreads);
	return buf;
}

const char *status_name(enum status s)
{
	static const char *const names[] = {"ok", "skipped", "limit", "error"};

	return names[s];
}

const struct result *find_result(const struct report *rp, const char *contender,
				 const struct workload *w, enum mode mode, size_t size)
{
	for (size_t i = 0; i < rp->ncases; i++) {
		const struct result *r = &rp->cases[i];

		if (r->w == w && r->mode == mode && r->size == size &&
		    !strcmp(r->c->name, contender))
			return r->status == ST_OK && r->ns_page > 0 ? r : NULL;
	}
	return NULL;
}

/* Which clock a per-page time or a ratio is read from. */
enum timing { WALL, CPU };

static const char *const timing_names[] = {"wall", "cpu"};

static double per_page(const struct result *r, enum timing t)
{
	return t == CPU ? r->cpu_page : r->ns_page;
}

static double per_round(const struct result *r, enum timing t, unsigned int i)
{
	return t == CPU ? r->round_cpu[i] : r->round_ns[i];
}

/* x/y: x's time per page over y's; NAN when there is none. */
struct ratio {
	double v;
	unsigned int n; /* rounds paired; 0: not paired, v is of the medians */
	double round[BENCH_MAX_ROUNDS];
	double lo, hi; /* the range of round[] */
};

/* Whether round i of @x ran in turns with round i of @y, for every i. */
static bool paired(const struct result *x, const struct result *y, enum timing t)
{
	if (!x->interleaved || !y->interleaved || !x->nrounds || x->nrounds != y->nrounds)
		return false;
	for (unsigned int i = 0; i < x->nrounds; i++)
		if (!(per_round(x, t, i) > 0 && per_round(y, t, i) > 0))
			return false;
	return true;
}

/*
 * Paired, the median over rounds of the rounds' ratios: a slow spell of the
 * machine lasts seconds, about as long as a round of every contender, so it
 * weighs on both sides of a round's ratio, where it would land on one side
 * of a ratio of medians taken minutes apart.
 */
static struct ratio ratio_of(const struct result *x, const struct result *y, enum timing t)
{
	struct ratio q = {.v = NAN};

	if (!(per_page(y, t) > 0))
		return q;
	if (!paired(x, y, t)) {
		q.v = per_page(x, t) / per_page(y, t);
		return q;
	}
	q.n = x->nrounds;
	for (unsigned int i = 0; i < q.n; i++)
		q.round[i] = per_round(x, t, i) / per_round(y, t, i);
	q.v = median(q.round, q.n);
	q.lo = q.hi = q.round[0];
	for (unsigned int i = 1; i < q.n; i++) {
		q.lo = q.round[i] < q.lo ? q.round[i] : q.lo;
		q.hi = q.round[i] > q.hi ? q.round[i] : q.hi;
	}
	return q;
}

static struct ratio ratio(const struct report *rp, const struct result *r, const char *base,
			  enum timing t)
{
	const struct result *b = find_result(rp, base, r->w, r->mode, r->size);
	struct ratio none = {.v = NAN};

	return b && r->status == ST_OK ? ratio_of(r, b, t) : none;
}

const char *fmt_ns(char *buf, size_t len, double ns)
{
	if (!(ns > 0))
		snprintf(buf, len, "-");
	else if (ns >= 100)
		snprintf(buf, len, "%.0f", ns);
	else
		snprintf(buf, len, "%.1f", ns);
	return buf;
}

static const char *fmt_ratio(char *buf, size_t len, double x)
{
	if (isnan(x))
		snprintf(buf, len, "-");
	else if (x >= 10)
		snprintf(buf, len, "%.0f", x);
	else
		snprintf(buf, len, "%.2f", x);
	return buf;
}

static const char *fmt_rate(char *buf, size_t len, double v)
{
	if (!(v > 0))
		snprintf(buf, len, "-");
	else if (v >= 1e6)
		snprintf(buf, len, "%.2f M", v / 1e6);
	else if (v >= 1e3)
		snprintf(buf, len, "%.0f K", v / 1e3);
	else
		snprintf(buf, len, "%.0f", v);
	return buf;
}

/* Half the range of the repetitions, relative to the median: how far to
 * trust the digits. */
static double spread(const struct result *r)
{
	double lo = r->ns_page, hi = r->ns_page;

	for (unsigned int i = 0; i < r->nreps; i++) {
		lo = r->rep[i] < lo ? r->rep[i] : lo;
		hi = r->rep[i] > hi ? r->rep[i] : hi;
	}
	return r->ns_page > 0 ? (hi - lo) / 2 / r->ns_page * 100 : 0;
}

static bool counts_syscalls(const struct result *r)
{
	return (r->c->flags & C_COUNTS_SYSCALLS) && r->calls;
}

/* Sizes in the order they ran. */
static size_t sizes_run(const struct report *rp, size_t *out, size_t cap)
{
	size_t n = 0;

	for (size_t i = 0; i < rp->ncases; i++) {
		size_t k;

		for (k = 0; k < n && out[k] != rp->cases[i].size; k++)
			;
		if (k == n && n < cap)
			out[n++] = rp->cases[i].size;
	}
	return n;
}

static const struct result *case_of(const struct report *rp, const struct contender *c,
				    const struct workload *w, enum mode m, size_t size)
{
	for (size_t i = 0; i < rp->ncases; i++) {
		const struct result *r = &rp->cases[i];

		if (r->c == c && r->w == w && r->mode == m && r->size == size)
			return r;
	}
	return NULL;
}

static void header(const struct report *rp)
{
	char a[64];

	fprintf(out, "awe-bench (libawe %d.%d.%d): %s, %u CPUs, Linux %s, vm.max_map_count %ld\n",
		AWE_VERSION_MAJOR, AWE_VERSION_MINOR, AWE_VERSION_PATCH, rp->cpu, rp->cpus,
		rp->kernel, opts.max_map_count);
	fprintf(out,
		"libawe frames %s; page %zu bytes; per case %u round%s of %u repetitions of ~%.0f ms,\n"
		"  the contenders set up at once and taking turns, a round each\n",
		rp->locked ? "locked" : "unlocked", opts.page, opts.rounds,
		opts.rounds > 1 ? "s" : "", opts.reps, opts.rep_ns / 1e6);
	for (size_t i = 0; i < rp->ncontenders; i++)
		fprintf(out, "  %-6s %s\n", rp->contenders[i]->name, rp->contenders[i]->what);
	for (size_t i = 0; i < rp->nskipped; i++)
		fprintf(out, "  not run: %s\n", rp->skipped[i]);
	for (size_t i = 0; i < rp->nnotes; i++)
		fprintf(out, "  note: %s\n", rp->notes[i]);
	fmt_size(a, sizeof(a), rp->summary_size);
	fprintf(out,
		"ns/page: time per page and thread (map + touch + unmap; replace: one replacement;\n"
		"  alloc: one frame allocated and freed), median of all repetitions.\n"
		"  pages/s: all threads together.\n"
		"+-: half the range of the repetitions, in %% of the median.\n"
		"/raw /memfd /copy: ns/page divided by that contender's (above 1: slower), paired:\n"
		"  the median over rounds of the ratio of the two contenders' medians in that round,\n"
		"  which ran seconds apart, so that a slow spell of the machine weighs on both. Where\n"
		"  a note says the contenders ran one after another: the ratio of the medians.\n"
		"cpu/page: CPU time of the working threads per page. It leaves out time a thread\n"
		"  waited (a sleep on a lock), so it hides lock waits: read both; it does not leave\n"
		"  out a slower machine (on a VM, time the host runs its other guests may count).\n"
		"cpu/raw: cpu/page divided by raw's, paired the same way.\n"
		"sys/call: system calls per contender call, as counted by the contender ('-':\n"
		"  libawe does not expose its own). flt/page: page faults per page.\n"
		"VmPTE: page-table growth over the case.\n");
}

static void text_row(const struct report *rp, const struct result *r, const char *size,
		     const char *mode)
{
	char ns[24], cpu[24], cpu_raw[24], rate[24], x[3][24], sys[24];

	if (r->status != ST_OK) {
		fprintf(out, "%-8s %-10s %-6s %s: %s\n", size, mode, r->c->name,
			status_name(r->status), r->msg);
		return;
	}
	for (size_t i = 0; i < ARRAY_SIZE(baselines); i++)
		fmt_ratio(x[i], sizeof(x[i]), ratio(rp, r, baselines[i], WALL).v);
	fmt_ratio(cpu_raw, sizeof(cpu_raw), ratio(rp, r, "raw", CPU).v);
	if (counts_syscalls(r))
		snprintf(sys, sizeof(sys), "%.2f", (double)r->sys / (double)r->calls);
	else
		snprintf(sys, sizeof(sys), "-");
	fprintf(out, "%-8s %-10s %-6s %9s %4.0f%% %8s %9s %6s %7s %6s %6s %8s %8.2f %+7ld kB\n",
		size, mode, r->c->name, fmt_ns(ns, sizeof(ns), r->ns_page), spread(r),
		fmt_ns(cpu, sizeof(cpu), r->cpu_page), fmt_rate(rate, sizeof(rate), r->pages_s),
		x[0], cpu_raw, x[1], x[2], sys,
		r->pages ? (double)r->faults / (double)r->pages : 0.0, r->pte_kb);
}

static void text_cases(const struct report *rp)
{
	size_t sizes[32], ns = sizes_run(rp, sizes, ARRAY_SIZE(sizes));

	for (size_t w = 0; w < nworkloads; w++) {
		bool any = false;

		for (size_t i = 0; i < rp->ncases; i++)
			any |= rp->cases[i].w == workloads[w];
		if (!any)
			continue;
		fprintf(out, "\n== %s: %s ==\n", workloads[w]->name, workloads[w]->what);
		fprintf(out, "%-8s %-10s %-6s %9s %5s %8s %9s %6s %7s %6s %6s %8s %8s %10s\n",
			"size", "threads", "who", "ns/page", "+-", "cpu/page", "pages/s", "/raw",
			"cpu/raw", "/memfd", "/copy", "sys/call", "flt/page", "VmPTE");
		for (size_t s = 0; s < ns; s++)
			for (size_t m = 0; m < ARRAY_SIZE(all_modes); m++) {
				bool first = true;

				for (size_t c = 0; c < rp->ncontenders; c++) {
					const struct result *r = case_of(rp, rp->contenders[c],
									 workloads[w], all_modes[m],
									 sizes[s]);
					char sz[32] = "", mn[32] = "";

					if (!r)
						continue;
					if (first) {
						fmt_size(sz, sizeof(sz), sizes[s]);
						mode_name(r->mode, r->nthreads, mn, sizeof(mn));
					}
					text_row(rp, r, sz, mn);
					first = false;
				}
			}
	}
}

static bool ran(const struct report *rp, const char *name)
{
	for (size_t c = 0; c < rp->ncontenders; c++)
		if (!strcmp(rp->contenders[c]->name, name))
			return true;
	return false;
}

/* The summary's ratio columns: libawe's time per page over a baseline's. */
static const struct {
	const char *base;
	enum timing t;
} summary_ratios[] = {{"raw", WALL}, {"memfd", WALL}, {"raw", CPU}};

/* The summary: one row per workload and mode at the summary size, with
 * libawe's ratios to the raw floor and to the memfd remapper; a Markdown
 * table when @md. */
static void summary(const struct report *rp, bool md)
{
	const char *sep = md ? " | " : "  ";
	size_t cols[ARRAY_SIZE(summary_ratios)], ncols = 0;
	int width[ARRAY_SIZE(summary_ratios)];
	char sz[32], head[32];

	for (size_t i = 0; i < ARRAY_SIZE(summary_ratios) && ran(rp, "awe"); i++)
		if (ran(rp, summary_ratios[i].base))
			cols[ncols++] = i;
	fmt_size(sz, sizeof(sz), rp->summary_size);
	if (md)
		fprintf(out,
			"ns/page at %s of frames (median; lower is better; ratios paired by round; "
			"awe/raw cpu: the same ratio in CPU time of the working threads per "
			"page):\n\n| workload | threads",
			sz);
	else
		fprintf(out, "\n== summary: ns/page at %s of frames ==\n%-8s  %-10s", sz,
			"workload", "threads");
	for (size_t c = 0; c < rp->ncontenders; c++)
		fprintf(out, md ? "%s%s" : "%s%7s", sep, rp->contenders[c]->name);
	for (size_t b = 0; b < ncols; b++) {
		const char *base = summary_ratios[cols[b]].base;
		bool cpu = summary_ratios[cols[b]].t == CPU;

		snprintf(head, sizeof(head), "awe/%s%s", base, cpu ? " cpu" : "");
		width[b] = md ? 0 : strlen(head) > 9 ? (int)strlen(head) : 9;
		fprintf(out, "%s%*s", sep, width[b], head);
	}
	fprintf(out, md ? " |\n|---|---" : "\n");
	for (size_t c = 0; md && c < rp->ncontenders + ncols; c++)
		fprintf(out, "|--:");
	fprintf(out, md ? "|\n" : "");
	for (size_t w = 0; w < nworkloads; w++)
		for (size_t m = 0; m < ARRAY_SIZE(all_modes); m++) {
			const struct result *any = NULL, *r;
			char mn[32], buf[24];

			for (size_t c = 0; c < rp->ncontenders && !any; c++)
				any = case_of(rp, rp->contenders[c], workloads[w], all_modes[m],
					      rp->summary_size);
			if (!any)
				continue;
			mode_name(all_modes[m], any->nthreads, mn, sizeof(mn));
			fprintf(out, md ? "| %s | %s" : "%-8s  %-10s", workloads[w]->name, mn);
			for (size_t c = 0; c < rp->ncontenders; c++) {
				r = find_result(rp, rp->contenders[c]->name, workloads[w],
						all_modes[m], rp->summary_size);
				fprintf(out, md ? "%s%s" : "%s%7s", sep,
					fmt_ns(buf, sizeof(buf), r ? r->ns_page : 0));
			}
			r = find_result(rp, "awe", workloads[w], all_modes[m], rp->summary_size);
			for (size_t b = 0; b < ncols; b++)
				fprintf(out, "%s%*s", sep, width[b],
					fmt_ratio(buf, sizeof(buf),
						  r ? ratio(rp, r, summary_ratios[cols[b]].base,
							    summary_ratios[cols[b]].t)
								  .v
						    : NAN));
			fprintf(out, md ? " |\n" : "\n");
		}
}

static const char *pattern_what(const char *pattern)
{
	return !strcmp(pattern, "isolated")
		       ? "frame i at slot 2i: every mapping between empty slots"
		       : "frame i*p mod n at slot i: neighbours, never "
			 "consecutive frames";
}

/* A Markdown table cell: '|' would end it. */
static const char *md_escape(const char *s, char *buf, size_t len)
{
	size_t n = 0;

	for (; *s && n + 3 < len; s++) {
		if (*s == '|')
			buf[n++] = '\\';
		buf[n++] = *s;
	}
	buf[n] = '\0';
	return buf;
}

/* VmPTE at the end of a churn run, in percent of the frames' memory. */
static double churn_pte_pct(const struct churn_result *ch)
{
	return (double)ch->pte_after_kb * 1024 / (double)(ch->frames * opts.page) * 100;
}

static void extras_text(const struct report *rp, bool md)
{
	const char *row = md ? "| %s | %s | %zu | %s | %ld | %s |\n"
			     : "%-6s %-9s %9zu  %-44s %6ld %7s\n";
	char buf[24], sz[32];

	if (rp->nmaxmap) {
		if (md)
			fprintf(out,
				"\nScattered single-page mappings in one window (vm.max_map_count %ld; "
				"%zu attempted; isolated: %s; adjacent: %s):\n\n"
				"| contender | pattern | mapped | result | mappings (VMAs) added | ns/mapping |\n"
				"|---|---|--:|---|--:|--:|\n",
				opts.max_map_count, rp->maxmap[0].target, pattern_what("isolated"),
				pattern_what("adjacent"));
		else
			fprintf(out,
				"\n== mapping count: %zu scattered single-page mappings in one window, "
				"vm.max_map_count %ld ==\n  isolated: %s\n  adjacent: %s\n"
				"%-6s %-9s %9s  %-44s %6s %7s\n",
				rp->maxmap[0].target, opts.max_map_count, pattern_what("isolated"),
				pattern_what("adjacent"), "who", "pattern", "mapped", "result",
				"VMAs", "ns/map");
		for (size_t i = 0; i < rp->nmaxmap; i++) {
			const struct maxmap_result *m = &rp->maxmap[i];
			char res[320], esc[400];

			if (m->status == ST_OK)
				snprintf(res, sizeof(res), "all mapped");
			else
				snprintf(res, sizeof(res), "%s after %zu: %s%s%s",
					 m->status == ST_LIMIT ? "stops" : "ERROR", m->mapped,
					 m->msg, m->unmap_after[0] ? "; " : "", m->unmap_after);
			fprintf(out, row, m->c->name, m->pattern, m->mapped,
				md ? md_escape(res, esc, sizeof(esc)) : res, m->vmas,
				fmt_ns(buf, sizeof(buf), m->ns_mapping));
		}
	}
	if (rp->nmemory) {
		fmt_size(sz, sizeof(sz), rp->memory[0].frames * opts.page);
		if (md)
			fprintf(out,
				"\nMemory per frame, %s of frames mapped in one window and touched, "
				"each in a fresh process (resident bytes beyond the frame's own "
				"page):\n\n"
				"| contender | bytes/frame | page tables bytes/frame | mappings (VMAs) | note |\n"
				"|---|--:|--:|--:|---|\n",
				sz);
		else
			fprintf(out,
				"\n== memory per frame: %s of frames mapped in one window and touched, "
				"each in a fresh process ==\n"
				"%-6s %12s %12s %6s  %s\n",
				sz, "who", "bytes/frame", "VmPTE/frame", "VMAs", "note");
		for (size_t i = 0; i < rp->nmemory; i++) {
			const struct memory_result *m = &rp->memory[i];

			if (m->status != ST_OK)
				fprintf(out, md ? "| %s | %s: %s | | | |\n" : "%-6s %s: %s\n",
					m->c->name, status_name(m->status), m->msg);
			else
				fprintf(out,
					md ? "| %s | %.1f | %.1f | %ld | %s |\n"
					   : "%-6s %12.1f %12.1f %6ld  %s\n",
					m->c->name, m->bytes_frame, m->pte_frame, m->vmas, m->note);
		}
	}
	if (rp->nchurn) {
		fmt_size(sz, sizeof(sz), rp->churn[0].frames * opts.page);
		if (md)
			fprintf(out,
				"\nChurn: %" PRIu64
				" random single-page operations on %s of frames "
				"(window about half full), each in a fresh process:\n\n"
				"| contender | ns/op | VmPTE at start | VmPTE after | growth | after / frames' memory | note |\n"
				"|---|--:|--:|--:|--:|--:|---|\n",
				opts.churn_ops, sz);
		else
			fprintf(out,
				"\n== churn: %" PRIu64
				" random single-page operations on %s of frames "
				"(window about half full), each in a fresh process ==\n"
				"%-6s %8s %11s %11s %10s %13s  %s\n",
				opts.churn_ops, sz, "who", "ns/op", "VmPTE start", "VmPTE after",
				"growth", "after/frames", "note");
		for (size_t i = 0; i < rp->nchurn; i++) {
			const struct churn_result *ch = &rp->churn[i];

			if (ch->status != ST_OK)
				fprintf(out, md ? "| %s | %s: %s | | | | | |\n" : "%-6s %s: %s\n",
					ch->c->name, status_name(ch->status), ch->msg);
			else
				fprintf(out,
					md ? "| %s | %s | %ld kB | %ld kB | %+ld kB | %.2f %% | %s |\n"
					   : "%-6s %8s %8ld kB %8ld kB %+7ld kB %11.2f %%  %s\n",
					ch->c->name, fmt_ns(buf, sizeof(buf), ch->ns_op),
					ch->pte_before_kb, ch->pte_after_kb,
					ch->pte_after_kb - ch->pte_before_kb, churn_pte_pct(ch),
					ch->note);
		}
	}
}

/* ---- Goals ------------------------------------------------------------------- */

/* What a goal's inputs gave: a wall-clock and a CPU value for a ratio, else
 * one value. */
struct goal_value {
	bool ran;
	unsigned int n;
	double v[2];
	struct ratio q[2]; /* a ratio's, by timing */
	double limit;
};

/*
 * One of libawe's performance goals, judged on this run at the summary size.
 * A ratio goal (no @what) divides @num's time per page by @den's in the
 * @scope workload and @mode, by wall clock and by CPU time, each judged on
 * its own; the others read @num's @what from the @scope extra run.
 */
struct goal {
	const char *scope;
	enum mode mode;
	const char *num, *den;
	const char *what;
	bool at_most; /* the value must be <= limit, else >= */
	double limit;
	int decimals;
	const char *unit; /* "" or a unit, printed after a space */
	void (*measure)(const struct report *rp, const struct goal *g, struct goal_value *gv);
};

static const struct workload *workload_named(const char *name)
{
	for (size_t i = 0; i < nworkloads; i++)
		if (!strcmp(workloads[i]->name, name))
			return workloads[i];
	return NULL;
}

static void goal_ratio(const struct report *rp, const struct goal *g, struct goal_value *gv)
{
	const struct workload *w = workload_named(g->scope);
	const struct result *r = find_result(rp, g->num, w, g->mode, rp->summary_size);

	if (!r || !find_result(rp, g->den, w, g->mode, rp->summary_size))
		return;
	gv->ran = true;
	for (enum timing t = WALL; t <= CPU; t++) {
		gv->q[t] = ratio(rp, r, g->den, t);
		gv->v[t] = gv->q[t].v;
	}
}

/* The target is what the run attempted (less than asked when memory was
 * short); the value is the fewer mappings made of the two patterns. */
static void goal_maxmap(const struct report *rp, const struct goal *g, struct goal_value *gv)
{
	gv->limit = (double)opts.maxmap_count;
	for (size_t i = 0; i < rp->nmaxmap; i++) {
		const struct maxmap_result *m = &rp->maxmap[i];

		if (strcmp(m->c->name, g->num))
			continue;
		if (!gv->ran || (double)m->mapped < gv->v[0])
			gv->v[0] = (double)m->mapped;
		gv->limit = (double)m->target;
		gv->ran = true;
	}
}

static void goal_memory(const struct report *rp, const struct goal *g, struct goal_value *gv)
{
	for (size_t i = 0; i < rp->nmemory; i++)
		if (rp->memory[i].status == ST_OK && !strcmp(rp->memory[i].c->name, g->num)) {
			gv->v[0] = rp->memory[i].bytes_frame;
			gv->ran = true;
		}
}

static void goal_churn(const struct report *rp, const struct goal *g, struct goal_value *gv)
{
	for (size_t i = 0; i < rp->nchurn; i++)
		if (rp->churn[i].status == ST_OK && !strcmp(rp->churn[i].c->name, g->num)) {
			gv->v[0] = churn_pte_pct(&rp->churn[i]);
			gv->ran = true;
		}
}

#define RATIO_GOAL(wl, m, a, b, most, lim)                                                         \
	{                                                                                          \
		.scope = wl, .mode = m, .num = a, .den = b, .at_most = most, .limit = lim,         \
		.decimals = 2, .unit = "", .measure = goal_ratio                                   \
	}

static const struct goal goals[] = {
	RATIO_GOAL("scatter", MODE_ONE, "awe", "raw", true, 1.15),
	RATIO_GOAL("scatter", MODE_ONE, "memfd", "awe", false, 5),
	RATIO_GOAL("scatter", MODE_BUSY, "memfd", "awe", false, 1.5),
	RATIO_GOAL("sweep", MODE_ONE, "awe", "raw", true, 1.2),
	RATIO_GOAL("sweep", MODE_ONE, "memfd", "awe", false, 3.5),
	RATIO_GOAL("sweep", MODE_BUSY, "awe", "raw", true, 1.2),
	RATIO_GOAL("sweep", MODE_BUSY, "memfd", "awe", false, 3.5),
	/* Times per page inverted: awe's throughput against raw's. */
	RATIO_GOAL("alloc", MODE_ONE, "raw", "awe", false, 0.9),
	{.scope = "maxmap",
	 .num = "awe",
	 .what = "mappings made",
	 .limit = 0, /* the run's own count */
	 .decimals = 0,
	 .unit = "",
	 .measure = goal_maxmap},
	{.scope = "memory",
	 .num = "awe",
	 .what = "bytes/frame",
	 .at_most = true,
	 .limit = 16,
	 .decimals = 1,
	 .unit = "",
	 .measure = goal_memory},
	{.scope = "churn",
	 .num = "awe",
	 .what = "VmPTE after / frames' memory",
	 .at_most = true,
	 .limit = 1,
	 .decimals = 2,
	 .unit = "%",
	 .measure = goal_churn},
};

static const char goals_key[] =
	"x/y: x's time per page over y's, by wall clock (ns/page) and by CPU time (cpu/page),\n"
	"  each judged on its own, paired by round (in brackets: the range of the rounds'\n"
	"  ratios); memfd/awe >= 5: awe at least 5 times as fast as memfd; alloc's raw/awe:\n"
	"  awe's throughput against raw's. maxmap: the fewer of its two patterns.\n";

static struct goal_value goal_eval(const struct report *rp, const struct goal *g)
{
	struct goal_value gv = {.n = g->what ? 1 : 2, .limit = g->limit};

	g->measure(rp, g, &gv);
	return gv;
}

static bool goal_met(const struct goal *g, const struct goal_value *gv, double v)
{
	return g->at_most ? v <= gv->limit : v >= gv->limit;
}

static void goal_label(const struct goal *g, const struct goal_value *gv, char *buf, size_t len)
{
	const char *op = g->at_most ? "<=" : ">=";
	char mn[32];

	if (g->what)
		snprintf(buf, len, "%s: %s %s %s %.10g%s%s", g->scope, g->num, g->what, op,
			 gv->limit, *g->unit ? " " : "", g->unit);
	else
		snprintf(buf, len, "%s, %s: %s/%s %s %.10g", g->scope,
			 mode_name(g->mode, 1, mn, sizeof(mn)), g->num, g->den, op, gv->limit);
}

/* How far to trust a ratio: " (1.02–1.13 over 5 rounds)", " (not paired)", or
 * nothing for a single round. */
static void ratio_range(const struct ratio *q, int decimals, char *buf, size_t len)
{
	if (!q->n)
		snprintf(buf, len, " (not paired)");
	else if (q->n > 1)
		snprintf(buf, len, " (%.*f\u2013%.*f over %u rounds)", decimals, q->lo, decimals,
			 q->hi, q->n);
	else
		buf[0] = '\0';
}

/* "wall 1.08 (1.02–1.13 over 5 rounds) met, cpu 1.21 (…) not met", "8.0 met"
 * or "not run". */
static void goal_measured(const struct goal *g, const struct goal_value *gv, char *buf, size_t len)
{
	size_t n = 0;
	char range[64] = "";

	snprintf(buf, len, "not run");
	for (unsigned int i = 0; gv->ran && i < gv->n && n < len; i++) {
		if (gv->n > 1)
			ratio_range(&gv->q[i], g->decimals, range, sizeof(range));
		n += (size_t)snprintf(buf + n, len - n, "%s%s%s%.*f%s%s%s %s", i ? ", " : "",
				      gv->n > 1 ? timing_names[i] : "", gv->n > 1 ? " " : "",
				      g->decimals, gv->v[i], *g->unit ? " " : "", g->unit, range,
				      goal_met(g, gv, gv->v[i]) ? "met" : "not met");
	}
}

/* Left out when none of the goals' inputs ran. */
static void goals_text(const struct report *rp, bool md)
{
	const int w = md ? 0 : 47; /* the longest label */
	char sz[32], label[128], measured[192];
	bool any = false;

	for (size_t i = 0; i < ARRAY_SIZE(goals); i++)
		any |= goal_eval(rp, &goals[i]).ran;
	if (!any)
		return;
	fmt_size(sz, sizeof(sz), rp->summary_size);
	if (md)
		fprintf(out,
			"\nlibawe's goals, judged on this run at %s of frames. %s\n"
			"| goal | measured |\n|---|---|\n",
			sz, goals_key);
	else
		fprintf(out,
			"\n== goals: libawe's targets, judged on this run at %s of frames ==\n"
			"%s%-*s %s\n",
			sz, goals_key, w, "goal", "measured");
	for (size_t i = 0; i < ARRAY_SIZE(goals); i++) {
		struct goal_value gv = goal_eval(rp, &goals[i]);

		goal_label(&goals[i], &gv, label, sizeof(label));
		goal_measured(&goals[i], &gv, measured, sizeof(measured));
		fprintf(out, md ? "| %-*s | %s |\n" : "%-*s %s\n", w, label, measured);
	}
}

void report_text(const struct report *rp, FILE *f)
{
	out = f;
	header(rp);
	text_cases(rp);
	if (rp->ncases)
		summary(rp, false);
	goals_text(rp, false);
	extras_text(rp, false);
}

void report_markdown(const struct report *rp, FILE *f)
{
	out = f;
	fprintf(out, "Machine: %s, %u CPUs, Linux %s; libawe %d.%d.%d, frames %s.\n\n", rp->cpu,
		rp->cpus, rp->kernel, AWE_VERSION_MAJOR, AWE_VERSION_MINOR, AWE_VERSION_PATCH,
		rp->locked ? "locked" : "unlocked");
	if (rp->ncases)
		summary(rp, true);
	goals_text(rp, true);
	extras_text(rp, true);
}

/* ---- JSON --------------------------------------------------------------------- */

static void json_str(const char *s)
{
	fputc('"', out);
	for (; s && *s; s++) {
		unsigned char ch = (unsigned char)*s;

		if (ch == '"' || ch == '\\')
			fprintf(out, "\\%c", ch);
		else if (ch < 0x20)
			fprintf(out, "\\u%04x", ch);
		else
			fputc(ch, out);
	}
	fputc('"', out);
}

static void json_num(double v)
{
	if (isnan(v) || isinf(v))
		fprintf(out, "null");
	else
		fprintf(out, "%.6g", v);
}

static void json_nums(const double *v, unsigned int n)
{
	fputc('[', out);
	for (unsigned int i = 0; i < n; i++) {
		json_num(v[i]);
		fprintf(out, "%s", i + 1 < n ? ", " : "");
	}
	fputc(']', out);
}

/* A ratio's per-round values, or null when it is not paired. */
static void json_rounds(const struct ratio *q)
{
	if (q->n)
		json_nums(q->round, q->n);
	else
		fprintf(out, "null");
}

static const char *json_verdict(const struct goal *g, const struct goal_value *gv, double v)
{
	if (!gv->ran)
		return "null";
	return goal_met(g, gv, v) ? "true" : "false";
}

/* A ratio goal's values are "wall" and "cpu", each with "wall_met" and
 * "cpu_met"; another goal's is "value", with "met". */
static void json_goals(const struct report *rp)
{
	fprintf(out, "  \"goals\": [\n");
	for (size_t i = 0; i < ARRAY_SIZE(goals); i++) {
		const struct goal *g = &goals[i];
		struct goal_value gv = goal_eval(rp, g);
		char label[128];

		goal_label(g, &gv, label, sizeof(label));
		fprintf(out, "    {\"goal\": ");
		json_str(label);
		fprintf(out, ", \"scope\": ");
		json_str(g->scope);
		fprintf(out, ", \"at_most\": %s, \"limit\": ", g->at_most ? "true" : "false");
		json_num(gv.limit);
		fprintf(out, ", \"unit\": ");
		json_str(g->unit);
		fprintf(out, ", \"ran\": %s", gv.ran ? "true" : "false");
		for (unsigned int k = 0; k < gv.n; k++) {
			const char *name = gv.n > 1 ? timing_names[k] : "value";

			fprintf(out, ", \"%s\": ", name);
			json_num(gv.ran ? gv.v[k] : NAN);
			fprintf(out, ", \"%s%s\": %s", gv.n > 1 ? name : "",
				gv.n > 1 ? "_met" : "met", json_verdict(g, &gv, gv.v[k]));
			if (gv.n > 1) {
				fprintf(out, ", \"%s_rounds\": ", name);
				json_rounds(&gv.q[k]);
			}
		}
		fprintf(out, "}%s\n", i + 1 < ARRAY_SIZE(goals) ? "," : "");
	}
	fprintf(out, "  ]\n");
}

static void json_case(const struct report *rp, const struct result *r, bool last)
{
	static const char *const modes[] = {"one", "busy", "threads"};

	fprintf(out, "    {\"contender\": ");
	json_str(r->c->name);
	fprintf(out, ", \"workload\": ");
	json_str(r->w->name);
	fprintf(out, ", \"mode\": \"%s\", \"threads\": %u, \"size_bytes\": %zu, \"status\": \"%s\"",
		modes[r->mode], r->nthreads, r->size, status_name(r->status));
	if (r->status != ST_OK) {
		fprintf(out, ", \"message\": ");
		json_str(r->msg);
		fprintf(out, "}%s\n", last ? "" : ",");
		return;
	}
	fprintf(out, ", \"ns_per_page\": ");
	json_num(r->ns_page);
	fprintf(out, ", \"spread_pct\": ");
	json_num(spread(r));
	fprintf(out, ", \"cpu_ns_per_page\": ");
	json_num(r->cpu_page);
	fprintf(out, ", \"pages_per_s\": ");
	json_num(r->pages_s);
	fprintf(out, ", \"interleaved\": %s", r->interleaved ? "true" : "false");
	for (enum timing t = WALL; t <= CPU; t++)
		for (size_t i = 0; i < ARRAY_SIZE(baselines); i++) {
			struct ratio q = ratio(rp, r, baselines[i], t);
			const char *cpu = t == CPU ? "cpu_" : "";

			fprintf(out, ", \"%sratio_%s\": ", cpu, baselines[i]);
			json_num(q.v);
			fprintf(out, ", \"%sratio_%s_rounds\": ", cpu, baselines[i]);
			json_rounds(&q);
		}
	fprintf(out, ", \"calls\": %" PRIu64 ", \"syscalls_per_call\": ", r->calls);
	if (counts_syscalls(r))
		json_num((double)r->sys / (double)r->calls);
	else
		fprintf(out, "null");
	fprintf(out, ", \"faults_per_page\": ");
	json_num(r->pages ? (double)r->faults / (double)r->pages : 0);
	fprintf(out, ", \"vmpte_growth_kb\": %ld, \"reps_ns_per_page\": ", r->pte_kb);
	json_nums(r->rep, r->nreps);
	fprintf(out, ", \"reps_cpu_ns_per_page\": ");
	json_nums(r->rep_cpu, r->nreps);
	fprintf(out, ", \"rounds_ns_per_page\": ");
	json_nums(r->round_ns, r->nrounds);
	fprintf(out, ", \"rounds_cpu_ns_per_page\": ");
	json_nums(r->round_cpu, r->nrounds);
	fprintf(out, "}%s\n", last ? "" : ",");
}

void report_json(const struct report *rp, FILE *f)
{
	out = f;
	fprintf(out, "{\n  \"tool\": \"awe-bench\",\n  \"libawe_version\": \"%d.%d.%d\",\n",
		AWE_VERSION_MAJOR, AWE_VERSION_MINOR, AWE_VERSION_PATCH);
	fprintf(out, "  \"machine\": {\"cpu\": ");
	json_str(rp->cpu);
	fprintf(out, ", \"cpus\": %u, \"kernel\": ", rp->cpus);
	json_str(rp->kernel);
	fprintf(out, ", \"max_map_count\": %ld, \"page_size\": %zu},\n", opts.max_map_count,
		opts.page);
	fprintf(out,
		"  \"config\": {\"quick\": %s, \"rounds\": %u, \"reps\": %u, \"rep_ms\": %.3g, "
		"\"threads\": %u, \"memfd_populate\": %s, \"frames_locked\": %s, "
		"\"summary_size_bytes\": %zu},\n",
		opts.quick ? "true" : "false", opts.rounds, opts.reps, opts.rep_ns / 1e6,
		opts.threads, opts.memfd_populate ? "true" : "false", rp->locked ? "true" : "false",
		rp->summary_size);
	fprintf(out, "  \"contenders\": [");
	for (size_t i = 0; i < rp->ncontenders; i++) {
		fprintf(out, "%s{\"name\": ", i ? ", " : "");
		json_str(rp->contenders[i]->name);
		fprintf(out, ", \"description\": ");
		json_str(rp->contenders[i]->what);
		fprintf(out, ", \"alloc\": ");
		if (rp->contenders[i]->alloc_what)
			json_str(rp->contenders[i]->alloc_what);
		else
			fprintf(out, "null");
		fprintf(out, "}");
	}
	fprintf(out, "],\n  \"workloads\": [");
	for (size_t i = 0; i < nworkloads; i++) {
		fprintf(out, "%s{\"name\": ", i ? ", " : "");
		json_str(workloads[i]->name);
		fprintf(out, ", \"description\": ");
		json_str(workloads[i]->what);
		fprintf(out, "}");
	}
	fprintf(out, "],\n  \"not_run\": [");
	for (size_t i = 0; i < rp->nskipped; i++) {
		fprintf(out, "%s", i ? ", " : "");
		json_str(rp->skipped[i]);
	}
	fprintf(out, "],\n  \"notes\": [");
	for (size_t i = 0; i < rp->nnotes; i++) {
		fprintf(out, "%s", i ? ", " : "");
		json_str(rp->notes[i]);
	}
	fprintf(out, "],\n  \"cases\": [\n");
	for (size_t i = 0; i < rp->ncases; i++)
		json_case(rp, &rp->cases[i], i + 1 == rp->ncases);
	fprintf(out, "  ],\n  \"max_mappings\": [\n");
	for (size_t i = 0; i < rp->nmaxmap; i++) {
		const struct maxmap_result *m = &rp->maxmap[i];

		fprintf(out, "    {\"contender\": ");
		json_str(m->c->name);
		fprintf(out,
			", \"pattern\": \"%s\", \"attempted\": %zu, \"mapped\": %zu, "
			"\"status\": \"%s\", \"message\": ",
			m->pattern, m->target, m->mapped, status_name(m->status));
		json_str(m->msg);
		fprintf(out, ", \"unmap_at_limit\": ");
		json_str(m->unmap_after);
		fprintf(out, ", \"vmas_added\": %ld, \"ns_per_mapping\": ", m->vmas);
		json_num(m->ns_mapping);
		fprintf(out, "}%s\n", i + 1 < rp->nmaxmap ? "," : "");
	}
	fprintf(out, "  ],\n  \"memory\": [\n");
	for (size_t i = 0; i < rp->nmemory; i++) {
		const struct memory_result *m = &rp->memory[i];

		fprintf(out, "    {\"contender\": ");
		json_str(m->c->name);
		fprintf(out,
			", \"frames\": %zu, \"status\": \"%s\", \"bytes_per_frame\": ", m->frames,
			status_name(m->status));
		json_num(m->bytes_frame);
		fprintf(out, ", \"vmpte_bytes_per_frame\": ");
		json_num(m->pte_frame);
		fprintf(out, ", \"vmas\": %ld, \"note\": ", m->vmas);
		json_str(m->status == ST_OK ? m->note : m->msg);
		fprintf(out, "}%s\n", i + 1 < rp->nmemory ? "," : "");
	}
	fprintf(out, "  ],\n  \"churn\": [\n");
	for (size_t i = 0; i < rp->nchurn; i++) {
		const struct churn_result *ch = &rp->churn[i];

		fprintf(out, "    {\"contender\": ");
		json_str(ch->c->name);
		fprintf(out,
			", \"frames\": %zu, \"operations\": %" PRIu64 ", \"status\": \"%s\", "
			"\"ns_per_op\": ",
			ch->frames, ch->ops, status_name(ch->status));
		json_num(ch->ns_op);
		fprintf(out,
			", \"vmpte_before_kb\": %ld, \"vmpte_after_kb\": %ld, "
			"\"vmpte_over_frames\": ",
			ch->pte_before_kb, ch->pte_after_kb);
		json_num(churn_pte_pct(ch) / 100);
		fprintf(out, ", \"note\": ");
		json_str(ch->status == ST_OK ? ch->note : ch->msg);
		fprintf(out, "}%s\n", i + 1 < rp->nchurn ? "," : "");
	}
	fprintf(out, "  ],\n");
	json_goals(rp);
	fprintf(out, "}\n");
}
