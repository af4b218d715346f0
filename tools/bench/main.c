// SPDX-License-Identifier: MIT
/*
 * awe-bench - measure libawe against the other ways of putting any page at
 * any address on Linux, in one process run: libawe's native API, its Win32
 * layer, a memfd remapper, the bare UFFDIO_MOVE floor and a copy window.
 *
 * This file: the run from start to end (probing the contenders, the rounds,
 * the reports, the exit status); the state its parts share is in state.c,
 * the options are read in options.c, the cases run in rounds.c, the report
 * printed by report.c and its neighbours.
 *
 * Exit status: 0 when every case ran (a contender failing at a documented
 * limit, like memfd at vm.max_map_count, is a result), 1 on an unexpected
 * failure, 2 on bad usage, 77 when libawe cannot run here at all.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/utsname.h>
#include <unistd.h>

#include <awe.h>

#include "bench.h"
#include "run.h"

/*
 * Without CAP_IPC_LOCK, the default 8 MiB RLIMIT_MEMLOCK cannot hold the
 * windows, and libawe would refuse to run: measure unlocked frames then, and
 * say so. Must happen before anything starts libawe; awe_probe() does not
 * (its memlock_limit is unlimited with CAP_IPC_LOCK or no limit).
 */
static void choose_locking(void)
{
	struct awe_probe p;

	if (getenv("LIBAWE_UNLOCKED"))
		return;
	if (awe_probe(&p) == 0 && p.memlock_limit == UINT64_MAX)
		return;
	setenv("LIBAWE_UNLOCKED", "1", 0);
	add_note("no CAP_IPC_LOCK and a limited RLIMIT_MEMLOCK: libawe runs with unlocked frames "
		 "(LIBAWE_UNLOCKED=1)");
}

static void machine_info(void)
{
	struct utsname u;
	struct awe_probe p;

	uname(&u);
	cpu_model(rp.cpu, sizeof(rp.cpu));
	snprintf(rp.kernel, sizeof(rp.kernel), "%s %s", u.release, u.machine);
	rp.cpus = (unsigned int)sysconf(_SC_NPROCESSORS_ONLN);
	/* Whether the frames are locked, without starting libawe for it. */
	rp.locked = awe_probe(&p) == 0 && p.engine && p.locked;
}

/* The size of the summary, the Markdown tables and the chart: 1 GiB when it
 * ran (large enough to leave the caches, small enough for any machine),
 * else the largest size below it, else the smallest. */
static size_t pick_summary_size(const struct config *cf)
{
	size_t best = 0, smallest = SIZE_MAX;

	for (size_t i = 0; i < cf->nsizes; i++) {
		if (cf->sizes[i] <= (1u << 30) && cf->sizes[i] > best)
			best = cf->sizes[i];
		if (cf->sizes[i] < smallest)
			smallest = cf->sizes[i];
	}
	return best ? best : smallest;
}

static FILE *open_out(const char *path)
{
	FILE *f = fopen(path, "we");

	if (!f)
		fprintf(stderr, "awe-bench: %s: %s\n", path, strerror(errno));
	return f;
}

static bool close_out(FILE *f, const char *path)
{
	bool ok = !ferror(f);

	ok &= fclose(f) == 0;
	if (!ok)
		fprintf(stderr, "awe-bench: writing %s failed\n", path);
	return ok;
}

static int exit_status(void)
{
	for (size_t i = 0; i < rp.ncases; i++)
		if (rp.cases[i].status == ST_ERROR)
			return 1;
	for (size_t i = 0; i < rp.nmaxmap; i++)
		if (rp.maxmap[i].status == ST_ERROR)
			return 1;
	for (size_t i = 0; i < rp.nmemory; i++)
		if (rp.memory[i].status == ST_ERROR)
			return 1;
	for (size_t i = 0; i < rp.nchurn; i++)
		if (rp.churn[i].status == ST_ERROR)
			return 1;
	for (size_t i = 0; i < rp.npager; i++)
		if (rp.pager[i].status == ST_ERROR)
			return 1;
	for (size_t i = 0; i < rp.nlarge; i++)
		if (rp.large[i].status == ST_ERROR)
			return 1;
	return 0;
}

int main(int argc, char **argv)
{
	static const enum mode single[] = {MODE_ONE, MODE_BUSY}, multi[] = {MODE_THREADS};
	static const struct contender *cs[ARRAY_SIZE(all_contenders)];
	struct group groups[1 + BENCH_MAX_COUNTS] = {{single, ARRAY_SIZE(single), 1}};
	struct config cf = {0};
	FILE *json_f = NULL, *md_f = NULL, *script_f = NULL;
	size_t ncs = 0;
	bool timed = false;
	int rc;

	start_ns = now_ns();
	rc = parse_args(argc, argv, &cf);
	if (rc)
		return rc;
	if (cf.plot && plot_check(cf.plot) != 0)
		return 2;
	/* Opened now: a typo in a path should not cost a whole run. */
	if ((cf.json_out && !(json_f = open_out(cf.json_out))) ||
	    (cf.markdown_out && !(md_f = open_out(cf.markdown_out))) ||
	    (cf.plot_script && !(script_f = open_out(cf.plot_script))))
		return 2;
	choose_locking();
	pin_thread(0);
	if (!defaults(&cf))
		return 2;
	machine_info();
	/* A group, so a setup, per thread count of the N-thread mode. */
	for (unsigned int i = 0; i < opts.nthread_counts; i++)
		groups[1 + i] = (struct group){multi, ARRAY_SIZE(multi), opts.thread_counts[i]};

	for (size_t i = 0; i < ARRAY_SIZE(all_contenders); i++) {
		const struct contender *c = all_contenders[i];
		const char *why;

		if (!listed(cf.contender_list, c->name))
			continue;
		why = c->probe ? c->probe() : NULL;
		if (why) {
			static char lines[ARRAY_SIZE(all_contenders)][300];

			snprintf(lines[rp.nskipped], sizeof(lines[0]), "%s: %s", c->name, why);
			rp.skipped[rp.nskipped] = lines[rp.nskipped];
			rp.nskipped++;
			if (c == &contender_awe) {
				fprintf(stderr, "awe-bench: %s\n", why);
				return 77;
			}
			continue;
		}
		cs[ncs++] = c;
	}
	rp.contenders = cs;
	rp.ncontenders = ncs;
	rp.summary_size = pick_summary_size(&cf);
	rp.maxmap = xcalloc(2 * ncs, sizeof(*rp.maxmap));
	rp.memory = xcalloc(ncs, sizeof(*rp.memory));
	rp.churn = xcalloc(ncs, sizeof(*rp.churn));
	rp.pager = xcalloc(3 * ncs, sizeof(*rp.pager));

	/* Without a timed workload (--workload pager, say), setting every
	 * contender up at every size would be all there is to it. */
	for (size_t w = 0; w < nworkloads; w++)
		timed |= listed(cf.workload_list, workloads[w]->name);
	for (size_t s = 0; timed && s < cf.nsizes; s++)
		run_size(&cf, cs, ncs, cf.sizes[s], groups, 1 + opts.nthread_counts);
	run_extras(&cf, cs, ncs);
	/* The large-frame runs (sides.c), which use rounds.c's helpers. */
	if (listed(cf.workload_list, "large"))
		run_large(&cf, cs, ncs);
	if (listed(cf.workload_list, "touch"))
		run_touch(&cf, cs, ncs);

	if (cf.out == OUT_JSON)
		report_json(&rp, stdout);
	else if (cf.out == OUT_MARKDOWN)
		report_markdown(&rp, stdout);
	else
		report_text(&rp, stdout);
	rc = exit_status();
	if (json_f) {
		report_json(&rp, json_f);
		rc = close_out(json_f, cf.json_out) ? rc : 1;
	}
	if (md_f) {
		report_markdown(&rp, md_f);
		rc = close_out(md_f, cf.markdown_out) ? rc : 1;
	}
	if ((cf.plot || script_f) && plot_write(&rp, cf.plot, script_f, cf.plot_script) != 0)
		rc = 1;
	free(rp.cases);
	free(rp.maxmap);
	free(rp.memory);
	free(rp.churn);
	free(rp.pager);
	free(rp.large);
	return rc;
}
