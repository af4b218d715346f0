/* SPDX-License-Identifier: MIT */
/*
 * awe-bench's run: what main.c, options.c and rounds.c share, and nothing
 * else includes. The run's state lives in state.c.
 */
#ifndef AWE_BENCH_RUN_H
#define AWE_BENCH_RUN_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "bench.h"

#define BENCH_NCONTENDERS 6

/* Every contender, in the order they are probed, run and reported. */
extern const struct contender *const all_contenders[BENCH_NCONTENDERS];

enum output { OUT_TEXT, OUT_JSON, OUT_MARKDOWN };

/* What the options asked for, beyond struct bench_opts. */
struct config {
	size_t sizes[16];
	size_t nsizes;
	bool size_given;
	bool threads_given;
	const char *workload_list;
	const char *contender_list;
	enum output out;
	const char *plot, *plot_script;
	const char *json_out, *markdown_out;
	bool quiet;
};

/* Modes that share a window layout, and so one setup: one window for the
 * single thread (alone or with a busy thread), one per thread for N. */
struct group {
	const enum mode *modes;
	size_t nmodes;
	unsigned int nthreads;
};

/* What the run found so far, printed at the end. */
extern struct report rp;
/* When the run started, for the progress lines. */
extern uint64_t start_ns;

/* A line for the report's notes; dropped when they are full. */
void add_note(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/* rounds.c: a progress line on stderr (unless --quiet), with the time
 * since the start. */
void progress(const struct config *cf, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* Whether @bytes fit in the memory libawe finds available (awe_probe():
 * the host's and every memory cgroup level's room), whoever takes it; if
 * not, @why says how far off. */
bool fits(size_t bytes, char *why, size_t len);

/* options.c */

/* 0, or the exit status: 2 on bad usage (--help exits here). */
int parse_args(int argc, char **argv, struct config *cf);
/* Fills in what the options left open; false when they do not go together. */
bool defaults(struct config *cf);
/* Whether @name is in the comma-separated @list (NULL: everything is). */
bool listed(const char *list, const char *name);

/* rounds.c */

/* Every case of every group at one size of frames, each in opts.rounds
 * rounds: the contenders taking turns when they all fit in memory. */
void run_size(const struct config *cf, const struct contender *const *cs, size_t ncs, size_t size,
	      const struct group *groups, size_t ngroups);
/* The extra runs the workload list asks for: memory, maxmap, churn, pager,
 * large, touch. */
void run_extras(const struct config *cf, const struct contender *const *cs, size_t ncs);

/* sides.c: the large-frame runs (large.c, touch.c). "large": map, touch
 * and unmap one frame of a pool, 2 MiB against 4 KiB frames; "touch":
 * random touches over frames mapped once, at each size of --sizes (4 GiB
 * by default, 64 MiB with --quick). Only the sides of the contenders in
 * @cs run. */
void run_large(const struct config *cf, const struct contender *const *cs, size_t ncs);
void run_touch(const struct config *cf, const struct contender *const *cs, size_t ncs);

#endif
