/* SPDX-License-Identifier: MIT */
/*
 * awe-bench output: what report.c, report_tables.c, report_goals.c and
 * report_json.c share, and nothing else includes. The entry points
 * (report_text(), report_markdown(), report_json()) are in bench.h.
 */
#ifndef AWE_BENCH_REPORT_H
#define AWE_BENCH_REPORT_H

#include <stdbool.h>
#include <stdio.h>

#include "bench.h"

/* Where the report being written goes: set by each entry point. */
extern FILE *report_out;

/* The JSON's names of the modes: "one", "busy", "threads". */
extern const char *const mode_ids[3];

/* The contenders the full table and the JSON divide by: raw, memfd, copy. */
extern const char *const baselines[3];

/* Which clock a per-page time or a ratio is read from. */
enum timing { WALL, CPU };

/* x/y: x's time per page over y's; NAN when there is none. */
struct ratio {
	double v;
	unsigned int n; /* rounds paired; 0: not paired, v is of the medians */
	double round[BENCH_MAX_ROUNDS];
	double lo, hi; /* the range of round[] */
};

/* @x's time per page over @y's: paired when they ran in turns (see
 * struct result), else the ratio of their medians. */
struct ratio ratio_of(const struct result *x, const struct result *y, enum timing t);
/* @r's time per page over the @base contender's in the same case: paired,
 * the median over rounds of the rounds' ratios. */
struct ratio ratio(const struct report *rp, const struct result *r, const char *base,
		   enum timing t);
/* The pager: @r's touches per second over the @base contender's with as
 * many faulting threads, paired by round (above 1: @r is faster). */
struct ratio pager_ratio(const struct report *rp, const struct pager_result *r, const char *base);
/* Half the range of the repetitions, in percent of the median. */
double spread(const struct result *r);
/* Whether @r's contender counted the system calls of its calls. */
bool counts_syscalls(const struct result *r);
/* VmPTE at the end of a churn run, in percent of the frames' memory. */
double churn_pte_pct(const struct churn_result *ch);

/* The goals table, text or Markdown (report_goals.c); left out when none
 * of the goals' inputs ran. */
void goals_text(const struct report *rp, bool md);
/* The JSON report's "goals" (report_goals.c). */
void json_goals(const struct report *rp);

/* The large-frame runs (report_large.c): their tables, text or Markdown;
 * their JSON entries ("large_frames"); the result of side @side of run
 * @run ("large", "touch") at @size bytes, NULL when it has none. */
void large_tables(const struct report *rp, bool md);
void json_large(const struct report *rp);
const struct result *large_result(const struct report *rp, const char *run, const char *side,
				  size_t size);

/* JSON values (report.c): a string, a number (NaN and infinity are
 * null), a ratio's per-round values (null when not paired); a result's
 * times as members ns_per_@unit, spread_pct, cpu_ns_per_@unit,
 * @units_per_s and interleaved. */
void json_str(const char *s);
void json_num(double v);
void json_times(const struct result *r, const char *unit);
void json_nums(const double *v, unsigned int n);
void json_rounds(const struct ratio *q);

#endif
