// SPDX-License-Identifier: MIT
/*
 * awe-bench output as tables: the header and the full table of every case
 * (text only), the summary at one size and the extra runs' tables (mapping
 * count, memory per frame, churn), as text or, for doc/performance.md, as Markdown.
 * report_text() and report_markdown() put them together with the goals'
 * table of report_goals.c.
 */
#include <inttypes.h>
#include <math.h>
#include <stdio.h>
#include <string.h>

#include <awe.h>

#include "bench.h"
#include "report.h"

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
				    const struct workload *w, struct mode_key m, size_t size)
{
	for (size_t i = 0; i < rp->ncases; i++) {
		const struct result *r = &rp->cases[i];

		if (r->c == c && r->w == w && r->mode == m.mode && r->nthreads == m.nthreads &&
		    r->size == size)
			return r;
	}
	return NULL;
}

static void header(const struct report *rp)
{
	char a[64];

	fprintf(report_out, "awe-bench (libawe %s): %s, %u CPUs, Linux %s, vm.max_map_count %ld\n",
		awe_version(), rp->cpu, rp->cpus, rp->kernel, opts.max_map_count);
	fprintf(report_out,
		"libawe frames %s; page %zu bytes; per case %u round%s of %u repetitions of ~%.0f ms,\n"
		"  the contenders set up at once and taking turns, a round each\n",
		rp->locked ? "locked" : "unlocked", opts.page, opts.rounds,
		opts.rounds > 1 ? "s" : "", opts.reps, opts.rep_ns / 1e6);
	for (size_t i = 0; i < rp->ncontenders; i++)
		fprintf(report_out, "  %-6s %s\n", rp->contenders[i]->name,
			rp->contenders[i]->what);
	for (size_t i = 0; i < rp->nskipped; i++)
		fprintf(report_out, "  not run: %s\n", rp->skipped[i]);
	for (size_t i = 0; i < rp->nnotes; i++)
		fprintf(report_out, "  note: %s\n", rp->notes[i]);
	fmt_size(a, sizeof(a), rp->summary_size);
	fprintf(report_out,
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
		fprintf(report_out, "%-8s %-10s %-6s %s: %s\n", size, mode, r->c->name,
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
	fprintf(report_out,
		"%-8s %-10s %-6s %9s %4.0f%% %8s %9s %6s %7s %6s %6s %8s %8.2f %+7ld kB\n", size,
		mode, r->c->name, fmt_ns(ns, sizeof(ns), r->ns_page), spread(r),
		fmt_ns(cpu, sizeof(cpu), r->cpu_page), fmt_rate(rate, sizeof(rate), r->pages_s),
		x[0], cpu_raw, x[1], x[2], sys,
		r->pages ? (double)r->faults / (double)r->pages : 0.0, r->pte_kb);
}

static void text_cases(const struct report *rp)
{
	size_t sizes[32], ns = sizes_run(rp, sizes, ARRAY_SIZE(sizes));
	struct mode_key modes[2 + BENCH_MAX_COUNTS];
	size_t nmodes = modes_run(rp, modes, ARRAY_SIZE(modes));

	for (size_t w = 0; w < nworkloads; w++) {
		bool any = false;

		for (size_t i = 0; i < rp->ncases; i++)
			any |= rp->cases[i].w == workloads[w];
		if (!any)
			continue;
		fprintf(report_out, "\n== %s: %s ==\n", workloads[w]->name, workloads[w]->what);
		fprintf(report_out,
			"%-8s %-10s %-6s %9s %5s %8s %9s %6s %7s %6s %6s %8s %8s %10s\n", "size",
			"threads", "who", "ns/page", "+-", "cpu/page", "pages/s", "/raw", "cpu/raw",
			"/memfd", "/copy", "sys/call", "flt/page", "VmPTE");
		for (size_t s = 0; s < ns; s++)
			for (size_t m = 0; m < nmodes; m++) {
				bool first = true;

				for (size_t c = 0; c < rp->ncontenders; c++) {
					const struct result *r = case_of(rp, rp->contenders[c],
									 workloads[w], modes[m],
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
	struct mode_key modes[2 + BENCH_MAX_COUNTS];
	size_t nmodes = modes_run(rp, modes, ARRAY_SIZE(modes));
	size_t cols[ARRAY_SIZE(summary_ratios)], ncols = 0;
	int width[ARRAY_SIZE(summary_ratios)];
	char sz[32], head[32];

	for (size_t i = 0; i < ARRAY_SIZE(summary_ratios) && ran(rp, "awe"); i++)
		if (ran(rp, summary_ratios[i].base))
			cols[ncols++] = i;
	fmt_size(sz, sizeof(sz), rp->summary_size);
	if (md)
		fprintf(report_out,
			"ns/page at %s of frames (median; lower is better; ratios paired by round; "
			"awe/raw cpu: the same ratio in CPU time of the working threads per "
			"page):\n\n| workload | threads",
			sz);
	else
		fprintf(report_out, "\n== summary: ns/page at %s of frames ==\n%-8s  %-10s", sz,
			"workload", "threads");
	for (size_t c = 0; c < rp->ncontenders; c++)
		fprintf(report_out, md ? "%s%s" : "%s%7s", sep, rp->contenders[c]->name);
	for (size_t b = 0; b < ncols; b++) {
		const char *base = summary_ratios[cols[b]].base;
		bool cpu = summary_ratios[cols[b]].t == CPU;

		snprintf(head, sizeof(head), "awe/%s%s", base, cpu ? " cpu" : "");
		width[b] = md ? 0 : strlen(head) > 9 ? (int)strlen(head) : 9;
		fprintf(report_out, "%s%*s", sep, width[b], head);
	}
	fprintf(report_out, md ? " |\n|---|---" : "\n");
	for (size_t c = 0; md && c < rp->ncontenders + ncols; c++)
		fprintf(report_out, "|--:");
	fprintf(report_out, md ? "|\n" : "");
	for (size_t w = 0; w < nworkloads; w++)
		for (size_t m = 0; m < nmodes; m++) {
			const struct result *any = NULL, *r;
			char mn[32], buf[24];

			for (size_t c = 0; c < rp->ncontenders && !any; c++)
				any = case_of(rp, rp->contenders[c], workloads[w], modes[m],
					      rp->summary_size);
			if (!any)
				continue;
			mode_name(modes[m].mode, modes[m].nthreads, mn, sizeof(mn));
			fprintf(report_out, md ? "| %s | %s" : "%-8s  %-10s", workloads[w]->name,
				mn);
			for (size_t c = 0; c < rp->ncontenders; c++) {
				r = find_result(rp, rp->contenders[c]->name, workloads[w], modes[m],
						rp->summary_size);
				fprintf(report_out, md ? "%s%s" : "%s%7s", sep,
					fmt_ns(buf, sizeof(buf), r ? r->ns_page : 0));
			}
			r = find_result(rp, "awe", workloads[w], modes[m], rp->summary_size);
			for (size_t b = 0; b < ncols; b++)
				fprintf(report_out, "%s%*s", sep, width[b],
					fmt_ratio(buf, sizeof(buf),
						  r ? ratio(rp, r, summary_ratios[cols[b]].base,
							    summary_ratios[cols[b]].t)
								  .v
						    : NAN));
			fprintf(report_out, md ? " |\n" : "\n");
		}
}

static const char *pattern_what(const char *pattern)
{
	return !strcmp(pattern, "isolated")
		       ? "frame i at slot 2i: every mapping between empty slots"
		       : "frame i*p mod n at slot i: neighbours, never "
			 "consecutive frames";
}

static void extras_text(const struct report *rp, bool md)
{
	const char *row = md ? "| %s | %s | %zu | %s | %ld | %s |\n"
			     : "%-6s %-9s %9zu  %-44s %6ld %7s\n";
	char buf[24], sz[32];

	if (rp->nmaxmap) {
		if (md)
			fprintf(report_out,
				"\nScattered single-page mappings in one window (vm.max_map_count %ld; "
				"%zu attempted; isolated: %s; adjacent: %s):\n\n"
				"| contender | pattern | mapped | result | mappings (VMAs) added | ns/mapping |\n"
				"|---|---|--:|---|--:|--:|\n",
				opts.max_map_count, rp->maxmap[0].target, pattern_what("isolated"),
				pattern_what("adjacent"));
		else
			fprintf(report_out,
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
			fprintf(report_out, row, m->c->name, m->pattern, m->mapped,
				md ? md_escape(res, esc, sizeof(esc)) : res, m->vmas,
				fmt_ns(buf, sizeof(buf), m->ns_mapping));
		}
	}
	if (rp->nmemory) {
		fmt_size(sz, sizeof(sz), rp->memory[0].frames * opts.page);
		if (md)
			fprintf(report_out,
				"\nMemory per frame, %s of frames mapped in one window and touched, "
				"each in a fresh process (resident bytes beyond the frame's own "
				"page):\n\n"
				"| contender | bytes/frame | page tables bytes/frame | mappings (VMAs) | note |\n"
				"|---|--:|--:|--:|---|\n",
				sz);
		else
			fprintf(report_out,
				"\n== memory per frame: %s of frames mapped in one window and touched, "
				"each in a fresh process ==\n"
				"%-6s %12s %12s %6s  %s\n",
				sz, "who", "bytes/frame", "VmPTE/frame", "VMAs", "note");
		for (size_t i = 0; i < rp->nmemory; i++) {
			const struct memory_result *m = &rp->memory[i];

			if (m->status != ST_OK)
				fprintf(report_out,
					md ? "| %s | %s: %s | | | |\n" : "%-6s %s: %s\n",
					m->c->name, status_name(m->status), m->msg);
			else
				fprintf(report_out,
					md ? "| %s | %.1f | %.1f | %ld | %s |\n"
					   : "%-6s %12.1f %12.1f %6ld  %s\n",
					m->c->name, m->bytes_frame, m->pte_frame, m->vmas, m->note);
		}
	}
	if (rp->nchurn) {
		fmt_size(sz, sizeof(sz), rp->churn[0].frames * opts.page);
		if (md)
			fprintf(report_out,
				"\nChurn: %" PRIu64
				" random single-page operations on %s of frames "
				"(window about half full), each in a fresh process:\n\n"
				"| contender | ns/op | VmPTE at start | VmPTE after | growth | after / frames' memory | note |\n"
				"|---|--:|--:|--:|--:|--:|---|\n",
				opts.churn_ops, sz);
		else
			fprintf(report_out,
				"\n== churn: %" PRIu64
				" random single-page operations on %s of frames "
				"(window about half full), each in a fresh process ==\n"
				"%-6s %8s %11s %11s %10s %13s  %s\n",
				opts.churn_ops, sz, "who", "ns/op", "VmPTE start", "VmPTE after",
				"growth", "after/frames", "note");
		for (size_t i = 0; i < rp->nchurn; i++) {
			const struct churn_result *ch = &rp->churn[i];

			if (ch->status != ST_OK)
				fprintf(report_out,
					md ? "| %s | %s: %s | | | | | |\n" : "%-6s %s: %s\n",
					ch->c->name, status_name(ch->status), ch->msg);
			else
				fprintf(report_out,
					md ? "| %s | %s | %ld kB | %ld kB | %+ld kB | %.2f %% | %s |\n"
					   : "%-6s %8s %8ld kB %8ld kB %+7ld kB %11.2f %%  %s\n",
					ch->c->name, fmt_ns(buf, sizeof(buf), ch->ns_op),
					ch->pte_before_kb, ch->pte_after_kb,
					ch->pte_after_kb - ch->pte_before_kb, churn_pte_pct(ch),
					ch->note);
		}
	}
}

/* The pager's table: throughput per contender and faulting threads. */
static void pager_table(const struct report *rp, bool md)
{
	char sz[32], vsz[32], rate[2][24], vs[24];

	if (!rp->npager)
		return;
	fmt_size(sz, sizeof(sz), rp->pager[0].frames * opts.page);
	fmt_size(vsz, sizeof(vsz), rp->pager[0].frames * PAGER_SPACE * opts.page);
	fprintf(report_out,
		md ? "\nPager: %s of frames, %s of virtual space; faulting threads touch random "
		     "pages, a fault handler maps a frame there (from the free list, or taken "
		     "back from the oldest pages), a trimmer thread unmaps the %d oldest pages "
		     "nobody pins in one call (unmap: exclusive, awe_unmap_scatter(AWE_UNMAP_"
		     "EXCLUSIVE); ordinary, the contender's unmap); every touch checks the "
		     "page's tag; median of %u rounds of %.0f ms; vs memfd: touches/s over "
		     "memfd's, paired by round:\n\n"
		     "| contender | faulting threads | touches/s | faults/s | faults/touch | vs memfd "
		     "| pages/batch | taken back by a handler | unmap |\n"
		     "|---|--:|--:|--:|--:|--:|--:|--:|---|\n"
		   : "\n== pager: %s of frames, %s of virtual space; faulting threads touch random "
		     "pages, a fault handler maps a frame there, a trimmer thread unmaps the %d "
		     "oldest pages in one call; median of %u rounds of %.0f ms ==\n"
		     "  vs memfd: touches/s over memfd's, paired by round; handler: faults whose "
		     "frame the handler\n  took back itself (the free list was empty); unmap: "
		     "exclusive = awe_unmap_scatter(AWE_UNMAP_EXCLUSIVE)\n"
		     "%-6s %7s %10s %10s %12s %8s %11s %8s  %s\n",
		sz, vsz, BENCH_BATCH, opts.rounds, 10 * opts.rep_ns / 1e6, "who", "threads",
		"touches/s", "faults/s", "faults/touch", "vs memfd", "pages/batch", "handler",
		"unmap");
	for (size_t i = 0; i < rp->npager; i++) {
		const struct pager_result *r = &rp->pager[i];
		const struct pager_run *t = &r->total;

		if (r->status != ST_OK) {
			fprintf(report_out,
				md ? "| %s | %u | %s: %s | | | | | | |\n" : "%-6s %7u %s: %s\n",
				r->c->name, r->threads, status_name(r->status), r->msg);
			continue;
		}
		fprintf(report_out,
			md ? "| %s | %u | %s | %s | %.2f | %s | %.1f | %.1f %% | %s |\n"
			   : "%-6s %7u %10s %10s %12.2f %8s %11.1f %6.1f %%  %s\n",
			r->c->name, r->threads,
			fmt_rate(rate[0], sizeof(rate[0]), median(r->touch_s, r->nrounds)),
			fmt_rate(rate[1], sizeof(rate[1]), median(r->fault_s, r->nrounds)),
			t->touches ? (double)t->faults / (double)t->touches : 0.0,
			fmt_ratio(vs, sizeof(vs), pager_ratio(rp, r, "memfd").v),
			t->batches ? (double)t->evicted / (double)t->batches : 0.0,
			t->faults ? 100.0 * (double)t->direct / (double)t->faults : 0.0,
			r->c->unmap_excl ? "exclusive" : "ordinary");
	}
}

void report_text(const struct report *rp, FILE *f)
{
	report_out = f;
	header(rp);
	text_cases(rp);
	if (rp->ncases)
		summary(rp, false);
	goals_text(rp, false);
	extras_text(rp, false);
	pager_table(rp, false);
	large_tables(rp, false);
}

void report_markdown(const struct report *rp, FILE *f)
{
	report_out = f;
	fprintf(report_out, "Machine: %s, %u CPUs, Linux %s; libawe %s, frames %s.\n\n", rp->cpu,
		rp->cpus, rp->kernel, awe_version(), rp->locked ? "locked" : "unlocked");
	if (rp->ncases)
		summary(rp, true);
	goals_text(rp, true);
	extras_text(rp, true);
	pager_table(rp, true);
	large_tables(rp, true);
}
