// SPDX-License-Identifier: MIT
/*
 * awe-bench output of the large-frame runs (sides.c): the large run's and
 * the touch run's tables, as text or Markdown, and their JSON entries.
 */
#include <inttypes.h>
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "bench.h"
#include "large.h"
#include "report.h"

const struct result *large_result(const struct report *rp, const char *run, const char *side,
				  size_t size)
{
	for (size_t i = 0; i < rp->nlarge; i++) {
		const struct result *r = &rp->large[i];

		if (!strcmp(r->w->name, run) && !strcmp(r->c->name, side) && r->size == size)
			return r;
	}
	return NULL;
}

static bool ok(const struct result *r)
{
	return r && r->status == ST_OK && r->ns_page > 0;
}

/* @r's time per unit over its run's reference side's (awe-4K, at the same
 * size), paired by round; NAN when either is missing. */
static double vs_4k(const struct report *rp, const struct result *r, enum timing t, bool inverse)
{
	const struct result *ref = large_result(rp, r->w->name, "awe-4K", r->size);

	if (!ok(r) || !ok(ref))
		return NAN;
	return inverse ? ratio_of(ref, r, t).v : ratio_of(r, ref, t).v;
}

static const char *fmt_x(char *buf, size_t len, double x)
{
	if (isnan(x))
		snprintf(buf, len, "-");
	else
		snprintf(buf, len, x >= 10 ? "%.0f" : "%.2f", x);
	return buf;
}

static const char *fmt_huge(char *buf, size_t len, double pct)
{
	if (pct < 0)
		snprintf(buf, len, "-");
	else
		snprintf(buf, len, "%.0f%%", pct);
	return buf;
}

/* @r's message (why it did not run, or its note), escaped for a Markdown
 * cell when @md. */
static const char *msg(const struct result *r, bool md, char *buf, size_t len)
{
	return md ? md_escape(r->msg, buf, len) : r->msg;
}

static bool any_of(const struct report *rp, const struct workload *w)
{
	for (size_t i = 0; i < rp->nlarge; i++)
		if (rp->large[i].w == w)
			return true;
	return false;
}

static void sides_key(const struct report *rp, const struct workload *w, bool md)
{
	const struct contender *seen[8];
	size_t n = 0;

	for (size_t i = 0; i < rp->nlarge && n < ARRAY_SIZE(seen); i++) {
		const struct contender *c = rp->large[i].c;
		size_t k;

		if (rp->large[i].w != w)
			continue;
		for (k = 0; k < n && seen[k] != c; k++)
			;
		if (k < n)
			continue;
		seen[n++] = c;
		fprintf(report_out, md ? "- %s: %s\n" : "  %-10s %s\n", c->name, c->what);
	}
	if (md)
		fprintf(report_out, "\n");
}

static void large_table(const struct report *rp, bool md)
{
	char sz[32], ns[24], cpu[24], per[24], x[2][24], sys[24], huge[16], esc[400];

	if (!any_of(rp, &wl_large))
		return;
	fmt_size(sz, sizeof(sz), rp->large[0].size);
	for (size_t i = 0; i < rp->nlarge; i++)
		if (rp->large[i].w == &wl_large)
			fmt_size(sz, sizeof(sz), rp->large[i].size);
	fprintf(report_out,
		md ? "\nLarge frames, map+touch+unmap: frames of a pool of %s for each side mapped at "
		     "random slots, touched (a byte per page) and unmapped, one operation at a "
		     "time, 1 thread; /awe-4K: time per operation over one 4 KiB frame's, paired by "
		     "round; huge: share of a mapped frame mapped by a huge page:\n\n"
		   : "\n== large: map, touch, unmap frames of a pool of %s (each side) at random "
		     "slots, 1 thread ==\n",
		sz);
	sides_key(rp, &wl_large, md);
	if (md)
		fprintf(report_out,
			"| side | ns/op | cpu/op | ns per 4 KiB | /awe-4K | cpu /awe-4K "
			"| sys/op | flt/op | huge | note |\n"
			"|---|--:|--:|--:|--:|--:|--:|--:|--:|---|\n");
	else
		fprintf(report_out,
			"  ns/op: one operation; /awe-4K: its time over one 4 KiB frame's, paired by "
			"round;\n  huge: share of a mapped frame that page tables map with a huge "
			"page\n%-10s %9s %5s %9s %8s %7s %7s %7s %7s %5s  %s\n",
			"who", "ns/op", "+-", "cpu/op", "ns/4KiB", "/awe-4K", "cpu/4K", "sys/op",
			"flt/op", "huge", "note");
	for (size_t i = 0; i < rp->nlarge; i++) {
		const struct result *r = &rp->large[i];
		const struct side *s = (const struct side *)r->c;
		double pages = s->unit_large ? (double)pages_per_large() : 1;

		if (r->w != &wl_large)
			continue;
		if (r->status != ST_OK) {
			fprintf(report_out,
				md ? "| %s | %s: %s | | | | | | | | |\n" : "%-10s %s: %s\n",
				r->c->name, status_name(r->status), msg(r, md, esc, sizeof(esc)));
			continue;
		}
		if (counts_syscalls(r))
			snprintf(sys, sizeof(sys), "%.2f", (double)r->sys / (double)r->calls);
		else
			snprintf(sys, sizeof(sys), "-");
		fmt_ns(ns, sizeof(ns), r->ns_page);
		fmt_ns(cpu, sizeof(cpu), r->cpu_page);
		fmt_ns(per, sizeof(per), r->ns_page / pages);
		fmt_x(x[0], sizeof(x[0]), vs_4k(rp, r, WALL, false));
		fmt_x(x[1], sizeof(x[1]), vs_4k(rp, r, CPU, false));
		fmt_huge(huge, sizeof(huge), r->huge_pct);
		if (md)
			fprintf(report_out,
				"| %s | %s | %s | %s | %s | %s | %s | %.2f | %s | %s |\n",
				r->c->name, ns, cpu, per, x[0], x[1], sys,
				r->pages ? (double)r->faults / (double)r->pages : 0.0, huge,
				msg(r, md, esc, sizeof(esc)));
		else
			fprintf(report_out, "%-10s %9s %4.0f%% %9s %8s %7s %7s %7s %7.2f %5s  %s\n",
				r->c->name, ns, spread(r), cpu, per, x[0], x[1], sys,
				r->pages ? (double)r->faults / (double)r->pages : 0.0, huge,
				r->msg);
	}
}

static const char *fmt_mrate(char *buf, size_t len, double v)
{
	if (!(v > 0))
		snprintf(buf, len, "-");
	else
		snprintf(buf, len, "%.1f M", v / 1e6);
	return buf;
}

static void touch_table(const struct report *rp, bool md)
{
	char sz[32], rate[24], ns[24], cpu[24], x[2][24], huge[16], esc[400];

	if (!any_of(rp, &wl_touch))
		return;
	fprintf(report_out,
		md ? "\nLarge frames, random access: %s, 1 thread; vs awe-4K: touches/s over "
		     "awe-4K's, paired by round (by CPU time: cpu vs awe-4K); huge: share of the "
		     "frames mapped by huge pages:\n\n"
		   : "\n== touch: %s, 1 thread ==\n",
		wl_touch.what);
	sides_key(rp, &wl_touch, md);
	if (md)
		fprintf(report_out,
			"| size | side | touches/s | ns/touch | cpu/touch | vs awe-4K | "
			"cpu vs awe-4K | faults/Mtouch | huge | note |\n"
			"|---|---|--:|--:|--:|--:|--:|--:|--:|---|\n");
	else
		fprintf(report_out,
			"  vs awe-4K: touches/s over awe-4K's, paired by round (cpu: by CPU time); "
			"huge: share of the\n  frames that page tables map with huge pages\n"
			"%-8s %-10s %10s %8s %5s %9s %9s %7s %9s %5s  %s\n",
			"size", "who", "touches/s", "ns/touch", "+-", "cpu/touch", "vs awe-4K",
			"cpu", "flt/Mtch", "huge", "note");
	for (size_t i = 0; i < rp->nlarge; i++) {
		const struct result *r = &rp->large[i];
		double flt;

		if (r->w != &wl_touch)
			continue;
		fmt_size(sz, sizeof(sz), r->size);
		if (r->status != ST_OK) {
			fprintf(report_out,
				md ? "| %s | %s | %s: %s | | | | | | | |\n" : "%-8s %-10s %s: %s\n",
				sz, r->c->name, status_name(r->status),
				msg(r, md, esc, sizeof(esc)));
			continue;
		}
		flt = r->pages ? (double)r->faults * 1e6 / (double)r->pages : 0.0;
		fmt_mrate(rate, sizeof(rate), r->pages_s);
		fmt_ns(ns, sizeof(ns), r->ns_page);
		fmt_ns(cpu, sizeof(cpu), r->cpu_page);
		fmt_x(x[0], sizeof(x[0]), vs_4k(rp, r, WALL, true));
		fmt_x(x[1], sizeof(x[1]), vs_4k(rp, r, CPU, true));
		fmt_huge(huge, sizeof(huge), r->huge_pct);
		if (md)
			fprintf(report_out,
				"| %s | %s | %s | %s | %s | %s | %s | %.1f | %s | %s |\n", sz,
				r->c->name, rate, ns, cpu, x[0], x[1], flt, huge,
				msg(r, md, esc, sizeof(esc)));
		else
			fprintf(report_out,
				"%-8s %-10s %10s %8s %4.0f%% %9s %9s %7s %9.1f %5s  %s\n", sz,
				r->c->name, rate, ns, spread(r), cpu, x[0], x[1], flt, huge,
				r->msg);
	}
}

void large_tables(const struct report *rp, bool md)
{
	large_table(rp, md);
	touch_table(rp, md);
}

static void json_large_one(const struct report *rp, const struct result *r, bool last)
{
	const struct side *s = (const struct side *)r->c;
	bool touch = r->w == &wl_touch;

	fprintf(report_out, "    {\"run\": ");
	json_str(r->w->name);
	fprintf(report_out, ", \"side\": ");
	json_str(r->c->name);
	fprintf(report_out, ", \"description\": ");
	json_str(r->c->what);
	fprintf(report_out, ", \"size_bytes\": %zu, \"status\": \"%s\", \"message\": ", r->size,
		status_name(r->status));
	json_str(r->msg);
	if (r->status != ST_OK) {
		fprintf(report_out, "}%s\n", last ? "" : ",");
		return;
	}
	fprintf(report_out, ", \"unit\": \"%s\"", touch ? "touch" : "operation");
	json_times(r, "unit");
	fprintf(report_out, ", \"pages_per_unit\": ");
	json_num(touch ? NAN : s->unit_large ? (double)pages_per_large() : 1);
	/* Over awe-4K: time (large) or throughput (touch), paired by round. */
	for (enum timing t = WALL; t <= CPU; t++) {
		const struct result *ref = large_result(rp, r->w->name, "awe-4K", r->size);
		struct ratio q = {.v = NAN};

		if (ok(r) && ok(ref))
			q = touch ? ratio_of(ref, r, t) : ratio_of(r, ref, t);
		fprintf(report_out, ", \"%svs_awe_4k\": ", t == CPU ? "cpu_" : "");
		json_num(q.v);
		fprintf(report_out, ", \"%svs_awe_4k_rounds\": ", t == CPU ? "cpu_" : "");
		json_rounds(&q);
	}
	fprintf(report_out, ", \"syscalls_per_unit\": ");
	if (counts_syscalls(r))
		json_num((double)r->sys / (double)r->pages);
	else
		fprintf(report_out, "null");
	fprintf(report_out, ", \"faults_per_unit\": ");
	json_num(r->pages ? (double)r->faults / (double)r->pages : 0);
	fprintf(report_out, ", \"huge_pct\": ");
	json_num(r->huge_pct < 0 ? NAN : r->huge_pct);
	fprintf(report_out, ", \"reps_ns_per_unit\": ");
	json_nums(r->rep, r->nreps);
	fprintf(report_out, ", \"rounds_ns_per_unit\": ");
	json_nums(r->round_ns, r->nrounds);
	fprintf(report_out, ", \"rounds_cpu_ns_per_unit\": ");
	json_nums(r->round_cpu, r->nrounds);
	fprintf(report_out, "}%s\n", last ? "" : ",");
}

void json_large(const struct report *rp)
{
	fprintf(report_out, "  \"large_frames\": [\n");
	for (size_t i = 0; i < rp->nlarge; i++)
		json_large_one(rp, &rp->large[i], i + 1 == rp->nlarge);
	fprintf(report_out, "  ],\n");
}
