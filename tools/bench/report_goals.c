// SPDX-License-Identifier: MIT
/*
 * awe-bench output: libawe's goals, each judged on this run at the summary
 * size, as a table (text or Markdown) and as the JSON report's "goals".
 */
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "bench.h"
#include "report.h"

static const char *const timing_names[] = {"wall", "cpu"};

/* What a goal's inputs gave: a wall-clock and a CPU value for a ratio, else
 * one value. */
struct goal_value {
	bool ran;
	unsigned int n;
	double v[2];
	struct ratio q[2]; /* a ratio's, by timing */
	double limit;
	const char *why; /* when it did not run: why, if known */
	size_t size;	 /* a large-frame run's size, when its label names it */
};

/*
 * One of libawe's performance goals, judged on this run at the summary size.
 * A ratio goal (no @what) divides @num's time per page by @den's in the
 * @scope workload and @mode, by wall clock and by CPU time, each judged on
 * its own; a ratio across modes (@den_mode.nthreads set) divides @num's in
 * @mode by @num's own in @den_mode. The others read @num's @what from the
 * @scope extra run.
 */
struct goal {
	const char *scope;
	struct mode_key mode;
	const char *num, *den;
	struct mode_key den_mode;
	const char *what;
	bool at_most; /* the value must be <= limit, else >= */
	double limit;
	int decimals;
	const char *unit; /* "" or a unit, printed after a space */
	void (*measure)(const struct report *rp, const struct goal *g, struct goal_value *gv);
	bool sized; /* the label names the size it was judged at */
};

static const struct workload *workload_named(const char *name)
{
	for (size_t i = 0; i < nworkloads; i++)
		if (!strcmp(workloads[i]->name, name))
			return workloads[i];
	return NULL;
}

static bool across_modes(const struct goal *g)
{
	return g->den_mode.nthreads != 0;
}

/* Modes that ran in setups of their own are not paired (ratio_of()): such a
 * ratio is of the two medians. */
static void goal_ratio(const struct report *rp, const struct goal *g, struct goal_value *gv)
{
	const struct workload *w = workload_named(g->scope);
	const struct result *r = find_result(rp, g->num, w, g->mode, rp->summary_size);
	const struct result *d = across_modes(g)
					 ? find_result(rp, g->num, w, g->den_mode, rp->summary_size)
					 : find_result(rp, g->den, w, g->mode, rp->summary_size);

	if (!r || !d)
		return;
	gv->ran = true;
	for (enum timing t = WALL; t <= CPU; t++) {
		gv->q[t] = ratio_of(r, d, t);
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

/*
 * A large-frame run's sides (sides.c): x/y of their times per unit, paired
 * by round, at the run's largest size where both ran; when a side could not
 * run (no huge pages), why.
 */
static void goal_sides(const struct report *rp, const struct goal *g, struct goal_value *gv)
{
	const struct result *x = NULL, *y = NULL;

	for (size_t i = 0; i < rp->nlarge; i++) {
		const struct result *r = &rp->large[i], *d;

		if (strcmp(r->w->name, g->scope) || strcmp(r->c->name, g->num))
			continue;
		d = large_result(rp, g->scope, g->den, r->size);
		if (!x || (r->status == ST_OK && r->size > x->size) || x->status != ST_OK) {
			x = r;
			y = d;
		}
	}
	if (!x || !y)
		return;
	if (x->status != ST_OK || y->status != ST_OK || !(x->ns_page > 0) || !(y->ns_page > 0)) {
		gv->why = x->status != ST_OK ? x->msg : y->msg;
		return;
	}
	gv->ran = true;
	gv->size = g->sized ? x->size : 0;
	for (enum timing t = WALL; t <= CPU; t++) {
		gv->q[t] = ratio_of(x, y, t);
		gv->v[t] = gv->q[t].v;
	}
}

/* x/y in workload @wl and mode @m (of @n threads). */
#define RATIO_GOAL_N(wl, m, n, a, b, most, lim)                                                    \
	{                                                                                          \
		.scope = wl, .mode = {m, n}, .num = a, .den = b, .at_most = most, .limit = lim,    \
		.decimals = 2, .unit = "", .measure = goal_ratio                                   \
	}
#define RATIO_GOAL(wl, m, a, b, most, lim) RATIO_GOAL_N(wl, m, 1, a, b, most, lim)
#define THREADS_GOAL(wl, n, a, b, most, lim) RATIO_GOAL_N(wl, MODE_THREADS, n, a, b, most, lim)
/* @a's time per page in mode @m (of @n threads) over its own in mode @dm. */
#define MODES_GOAL(wl, a, m, n, dm, dn, most, lim)                                                 \
	{                                                                                          \
		.scope = wl, .mode = {m, n}, .num = a, .den = a, .den_mode = {dm, dn},             \
		.at_most = most, .limit = lim, .decimals = 2, .unit = "", .measure = goal_ratio    \
	}
/* Threads (issue 14): 1 + busy thread and 2 threads on windows of their own,
 * where every moved page costs a cross-CPU TLB shootdown. */
#define BUSY_GOALS(wl)                                                                             \
	RATIO_GOAL(wl, MODE_BUSY, "memfd", "awe", false, 1.3),                                     \
		RATIO_GOAL(wl, MODE_BUSY, "raw", "awe", false, 1.8),                               \
		THREADS_GOAL(wl, 2, "memfd", "awe", false, 1.3),                                   \
		MODES_GOAL(wl, "awe", MODE_THREADS, 2, MODE_BUSY, 1, true, 1.3)
/* An evictor's batch: one shootdown round for the call. */
#define EVICT_GOALS(m, n)                                                                          \
	RATIO_GOAL_N("evict64", m, n, "memfd", "awe", false, 3),                                   \
		RATIO_GOAL_N("evict64", m, n, "raw", "awe", false, 3)

static const struct goal goals[] = {
	RATIO_GOAL("scatter", MODE_ONE, "awe", "raw", true, 1.15),
	RATIO_GOAL("scatter", MODE_ONE, "memfd", "awe", false, 5),
	/* Stricter than BUSY_GOALS' 1.3, which is issue 14's bar. */
	RATIO_GOAL("scatter", MODE_BUSY, "memfd", "awe", false, 1.5),
	RATIO_GOAL("sweep", MODE_ONE, "awe", "raw", true, 1.2),
	RATIO_GOAL("sweep", MODE_ONE, "memfd", "awe", false, 3.5),
	RATIO_GOAL("sweep", MODE_BUSY, "awe", "raw", true, 1.2),
	RATIO_GOAL("sweep", MODE_BUSY, "memfd", "awe", false, 3.5),
	/* Times per page inverted: awe's throughput against raw's. */
	RATIO_GOAL("alloc", MODE_ONE, "raw", "awe", false, 0.9),
	BUSY_GOALS("scatter"),
	BUSY_GOALS("batch64"),
	BUSY_GOALS("replace"),
	EVICT_GOALS(MODE_BUSY, 1),
	EVICT_GOALS(MODE_THREADS, 2),
	/* Large frames (issue 15): a 2 MiB frame's map+touch+unmap within twice
	 * a 4 KiB frame's, and random access over 4 GiB at least 1.3 times as
	 * fast with them (time per touch of 4 KiB frames over 2 MiB frames'). */
	{.scope = "large",
	 .mode = {MODE_ONE, 1},
	 .num = "awe-2M",
	 .den = "awe-4K",
	 .at_most = true,
	 .limit = 2,
	 .decimals = 2,
	 .unit = "",
	 .measure = goal_sides},
	{.scope = "touch",
	 .mode = {MODE_ONE, 1},
	 .num = "awe-4K",
	 .den = "awe-2M",
	 .limit = 1.3,
	 .decimals = 2,
	 .unit = "",
	 .measure = goal_sides,
	 .sized = true},
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
	"  awe's throughput against raw's. awe 2 threads / awe 1 + busy: awe's time per page\n"
	"  and thread in one mode over its own in the other, which ran in a setup of its own:\n"
	"  the ratio of the medians, not paired. maxmap: the fewer of its two patterns.\n"
	"  large: awe-2M/awe-4K: the time to map, touch and unmap one 2 MiB frame over one\n"
	"  4 KiB frame's. touch: awe-4K/awe-2M: time per random touch with 4 KiB frames over\n"
	"  2 MiB frames', i.e. the large frames' throughput over the small ones', at the size\n"
	"  named (the largest that ran).\n";

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

static const char *goal_label(const struct goal *g, const struct goal_value *gv, char *buf,
			      size_t len)
{
	const char *op = g->at_most ? "<=" : ">=";
	char mn[32], dn[32];

	if (g->what)
		snprintf(buf, len, "%s: %s %s %s %.10g%s%s", g->scope, g->num, g->what, op,
			 gv->limit, *g->unit ? " " : "", g->unit);
	else if (across_modes(g))
		snprintf(buf, len, "%s: %s %s / %s %s %s %.10g", g->scope, g->num,
			 mode_name(g->mode.mode, g->mode.nthreads, mn, sizeof(mn)), g->num,
			 mode_name(g->den_mode.mode, g->den_mode.nthreads, dn, sizeof(dn)), op,
			 gv->limit);
	else {
		char sz[32] = "";

		if (gv->size) {
			sz[0] = ' ';
			fmt_size(sz + 1, sizeof(sz) - 1, gv->size);
		}
		snprintf(buf, len, "%s%s, %s: %s/%s %s %.10g", g->scope, sz,
			 mode_name(g->mode.mode, g->mode.nthreads, mn, sizeof(mn)), g->num, g->den,
			 op, gv->limit);
	}
	return buf;
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

	if (gv->why && gv->why[0])
		snprintf(buf, len, "not run (%s)", gv->why);
	else
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

/* Left out when none of the goals' inputs ran (or said why not). */
void goals_text(const struct report *rp, bool md)
{
	char sz[32], label[128], measured[512], esc[600];
	bool any = false;
	int w = 0; /* the longest label, in text */

	for (size_t i = 0; i < ARRAY_SIZE(goals); i++) {
		struct goal_value gv = goal_eval(rp, &goals[i]);
		int n = (int)strlen(goal_label(&goals[i], &gv, label, sizeof(label)));

		any |= gv.ran || gv.why;
		w = md || n < w ? w : n;
	}
	if (!any)
		return;
	fmt_size(sz, sizeof(sz), rp->summary_size);
	if (md)
		fprintf(report_out,
			"\nlibawe's goals, judged on this run at %s of frames. %s\n"
			"| goal | measured |\n|---|---|\n",
			sz, goals_key);
	else
		fprintf(report_out,
			"\n== goals: libawe's targets, judged on this run at %s of frames ==\n"
			"%s%-*s %s\n",
			sz, goals_key, w, "goal", "measured");
	for (size_t i = 0; i < ARRAY_SIZE(goals); i++) {
		struct goal_value gv = goal_eval(rp, &goals[i]);

		goal_label(&goals[i], &gv, label, sizeof(label));
		goal_measured(&goals[i], &gv, measured, sizeof(measured));
		fprintf(report_out, md ? "| %-*s | %s |\n" : "%-*s %s\n", w, label,
			md ? md_escape(measured, esc, sizeof(esc)) : measured);
	}
}

static const char *json_verdict(const struct goal *g, const struct goal_value *gv, double v)
{
	if (!gv->ran)
		return "null";
	return goal_met(g, gv, v) ? "true" : "false";
}

static void json_side(const char *name, const char *who, struct mode_key m)
{
	fprintf(report_out, ", \"%s\": {\"contender\": ", name);
	json_str(who);
	fprintf(report_out, ", \"mode\": \"%s\", \"threads\": %u}", mode_ids[m.mode], m.nthreads);
}

/* A ratio goal's values are "wall" and "cpu", each with "wall_met" and
 * "cpu_met", and its two sides "num" and "den" (contender, mode, threads);
 * another goal's is "value", with "met". "kind": "ratio" (two contenders in
 * one mode), "modes" (one contender in two modes) or "value". */
void json_goals(const struct report *rp)
{
	fprintf(report_out, "  \"goals\": [\n");
	for (size_t i = 0; i < ARRAY_SIZE(goals); i++) {
		const struct goal *g = &goals[i];
		struct goal_value gv = goal_eval(rp, g);
		char label[128];

		goal_label(g, &gv, label, sizeof(label));
		fprintf(report_out, "    {\"goal\": ");
		json_str(label);
		fprintf(report_out, ", \"kind\": \"%s\", \"scope\": ",
			g->what		  ? "value"
			: across_modes(g) ? "modes"
					  : "ratio");
		json_str(g->scope);
		if (!g->what) {
			json_side("num", g->num, g->mode);
			json_side("den", g->den, across_modes(g) ? g->den_mode : g->mode);
		}
		fprintf(report_out,
			", \"at_most\": %s, \"limit\": ", g->at_most ? "true" : "false");
		json_num(gv.limit);
		fprintf(report_out, ", \"unit\": ");
		json_str(g->unit);
		fprintf(report_out, ", \"ran\": %s", gv.ran ? "true" : "false");
		if (!gv.ran && gv.why && gv.why[0]) {
			fprintf(report_out, ", \"reason\": ");
			json_str(gv.why);
		}
		if (gv.size)
			fprintf(report_out, ", \"size_bytes\": %zu", gv.size);
		for (unsigned int k = 0; k < gv.n; k++) {
			const char *name = gv.n > 1 ? timing_names[k] : "value";

			fprintf(report_out, ", \"%s\": ", name);
			json_num(gv.ran ? gv.v[k] : NAN);
			fprintf(report_out, ", \"%s%s\": %s", gv.n > 1 ? name : "",
				gv.n > 1 ? "_met" : "met", json_verdict(g, &gv, gv.v[k]));
			if (gv.n > 1) {
				fprintf(report_out, ", \"%s_rounds\": ", name);
				json_rounds(&gv.q[k]);
			}
		}
		fprintf(report_out, "}%s\n", i + 1 < ARRAY_SIZE(goals) ? "," : "");
	}
	fprintf(report_out, "  ]\n");
}
