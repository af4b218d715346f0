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
void goals_text(const struct report *rp, bool md)
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
		fprintf(report_out, md ? "| %-*s | %s |\n" : "%-*s %s\n", w, label, measured);
	}
}

static const char *json_verdict(const struct goal *g, const struct goal_value *gv, double v)
{
	if (!gv->ran)
		return "null";
	return goal_met(g, gv, v) ? "true" : "false";
}

/* A ratio goal's values are "wall" and "cpu", each with "wall_met" and
 * "cpu_met"; another goal's is "value", with "met". */
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
		fprintf(report_out, ", \"scope\": ");
		json_str(g->scope);
		fprintf(report_out,
			", \"at_most\": %s, \"limit\": ", g->at_most ? "true" : "false");
		json_num(gv.limit);
		fprintf(report_out, ", \"unit\": ");
		json_str(g->unit);
		fprintf(report_out, ", \"ran\": %s", gv.ran ? "true" : "false");
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
