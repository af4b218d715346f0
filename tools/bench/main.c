// SPDX-License-Identifier: MIT
/*
 * awe-bench - measure libawe against the other ways of putting any page at
 * any address on Linux, in one process run: libawe's native API, its Win32
 * layer, a memfd remapper, the bare UFFDIO_MOVE floor and a copy window.
 *
 * Exit status: 0 when every case ran (a contender failing at a documented
 * limit, like memfd at vm.max_map_count, is a result), 1 on an unexpected
 * failure, 2 on bad usage, 77 when libawe cannot run here at all.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/utsname.h>
#include <unistd.h>

#include <awe.h>

#include "bench.h"

struct bench_opts opts;

static const struct contender *const all_contenders[] = {
	&contender_awe, &contender_win32, &contender_memfd, &contender_raw, &contender_copy,
};

static const char *const extras[] = {"maxmap", "memory", "churn"};

enum output { OUT_TEXT, OUT_JSON, OUT_MARKDOWN };

struct config {
	size_t sizes[16];
	size_t nsizes;
	bool size_given;
	const char *workload_list;
	const char *contender_list;
	enum output out;
	const char *plot;
	const char *json_out, *markdown_out;
	bool quiet;
};

static struct report rp;
static size_t case_cap;
static uint64_t start_ns;

static void usage(FILE *f)
{
	fprintf(f,
		"usage: awe-bench [options]\n"
		"Measure libawe (native and Win32 API) against a memfd remapper, the bare\n"
		"UFFDIO_MOVE floor and a copy window.\n"
		"\n"
		"  --quick           smoke run: smallest size, few iterations (a few seconds)\n"
		"  --sizes LIST      sizes of frames, e.g. 4M,64M,1G,4G (the default)\n"
		"  --threads N       threads of the N-thread mode (default: CPUs, at least 2)\n"
		"  --workload LIST   of scatter,sweep,batch64,replace,alloc,maxmap,memory,churn\n"
		"  --contender LIST  of awe,win32,memfd,raw,copy\n"
		"  --reps N          timed repetitions per case and round (default 5)\n"
		"  --rounds N        passes over all contenders, interleaved in time; the median\n"
		"                    is over every round's repetitions (default 3)\n"
		"  --rep-ms MS       duration of one repetition (default 30)\n"
		"  --churn-ops N     single-page operations of the churn run (default 10000000)\n"
		"  --maxmap N        mappings the mapping-count run attempts (default 1000000)\n"
		"  --memfd-populate  memfd maps with MAP_POPULATE instead of faulting on touch\n"
		"  --json            print JSON instead of tables\n"
		"  --markdown        print the summary tables in Markdown (for README.md)\n"
		"  --plot FILE       also write a chart of ns/page, FILE.png or FILE.svg (gnuplot)\n"
		"  --json-out FILE   also write the JSON report to FILE\n"
		"  --markdown-out FILE  also write the Markdown tables to FILE\n"
		"  --quiet           no progress lines on stderr\n"
		"  --help            this text\n");
}

static bool parse_size(const char *s, size_t *out)
{
	char *end;
	unsigned long long v;

	errno = 0;
	v = strtoull(s, &end, 10);
	if (errno || end == s || v == 0)
		return false;
	switch (*end) {
	case 'k':
	case 'K':
		v <<= 10;
		end++;
		break;
	case 'm':
	case 'M':
		v <<= 20;
		end++;
		break;
	case 'g':
	case 'G':
		v <<= 30;
		end++;
		break;
	default:
		break;
	}
	if (*end == 'i' && end[1] == 'B')
		end += 2;
	else if (*end == 'B')
		end++;
	if (*end)
		return false;
	*out = (size_t)v;
	return true;
}

static bool parse_sizes(const char *list, struct config *cf)
{
	char buf[256], *save = NULL;

	snprintf(buf, sizeof(buf), "%s", list);
	cf->nsizes = 0;
	for (char *tok = strtok_r(buf, ",", &save); tok; tok = strtok_r(NULL, ",", &save)) {
		if (cf->nsizes == ARRAY_SIZE(cf->sizes) || !parse_size(tok, &cf->sizes[cf->nsizes]))
			return false;
		cf->nsizes++;
	}
	return cf->nsizes > 0;
}

/* Whether @name is in the comma-separated @list (NULL: everything is). */
static bool listed(const char *list, const char *name)
{
	size_t n = strlen(name);

	if (!list)
		return true;
	for (const char *p = list; *p;) {
		size_t len = strcspn(p, ",");

		if (len == n && strncmp(p, name, n) == 0)
			return true;
		p += len + (p[len] == ',');
	}
	return false;
}

static bool known_names(const char *list, bool workloads_too)
{
	for (const char *p = list; *p;) {
		size_t len = strcspn(p, ",");
		bool ok = false;

		for (size_t i = 0; !workloads_too && i < ARRAY_SIZE(all_contenders); i++)
			ok |= strlen(all_contenders[i]->name) == len &&
			      strncmp(p, all_contenders[i]->name, len) == 0;
		for (size_t i = 0; workloads_too && i < nworkloads; i++)
			ok |= strlen(workloads[i]->name) == len &&
			      strncmp(p, workloads[i]->name, len) == 0;
		for (size_t i = 0; workloads_too && i < ARRAY_SIZE(extras); i++)
			ok |= strlen(extras[i]) == len && strncmp(p, extras[i], len) == 0;
		if (!ok) {
			fprintf(stderr, "awe-bench: unknown %s '%.*s'\n",
				workloads_too ? "workload" : "contender", (int)len, p);
			return false;
		}
		p += len + (p[len] == ',');
	}
	return true;
}

static int parse_args(int argc, char **argv, struct config *cf)
{
	const char *sizes = NULL;

	for (int i = 1; i < argc; i++) {
		const char *a = argv[i];
		const char *v = i + 1 < argc ? argv[i + 1] : NULL;
		bool takes = true;
		char *end;

		if (!strcmp(a, "--help") || !strcmp(a, "-h")) {
			usage(stdout);
			exit(0);
		}
		takes = !strcmp(a, "--sizes") || !strcmp(a, "--threads") ||
			!strcmp(a, "--workload") || !strcmp(a, "--contender") ||
			!strcmp(a, "--reps") || !strcmp(a, "--rounds") || !strcmp(a, "--rep-ms") ||
			!strcmp(a, "--churn-ops") || !strcmp(a, "--maxmap") ||
			!strcmp(a, "--plot") || !strcmp(a, "--json-out") ||
			!strcmp(a, "--markdown-out");
		if (takes && !v) {
			fprintf(stderr, "awe-bench: %s needs a value\n", a);
			return 2;
		}
		errno = 0;
		if (!strcmp(a, "--quick")) {
			opts.quick = true;
		} else if (!strcmp(a, "--json")) {
			cf->out = OUT_JSON;
		} else if (!strcmp(a, "--markdown")) {
			cf->out = OUT_MARKDOWN;
		} else if (!strcmp(a, "--memfd-populate")) {
			opts.memfd_populate = true;
		} else if (!strcmp(a, "--quiet")) {
			cf->quiet = true;
		} else if (!strcmp(a, "--sizes")) {
			sizes = v;
		} else if (!strcmp(a, "--workload")) {
			cf->workload_list = v;
		} else if (!strcmp(a, "--contender")) {
			cf->contender_list = v;
		} else if (!strcmp(a, "--plot")) {
			cf->plot = v;
		} else if (!strcmp(a, "--json-out")) {
			cf->json_out = v;
		} else if (!strcmp(a, "--markdown-out")) {
			cf->markdown_out = v;
		} else if (!strcmp(a, "--threads")) {
			opts.threads = (unsigned int)strtoul(v, &end, 10);
			if (*end || !opts.threads || opts.threads > BENCH_MAX_THREADS)
				goto bad;
		} else if (!strcmp(a, "--rounds")) {
			opts.rounds = (unsigned int)strtoul(v, &end, 10);
			if (*end || !opts.rounds || opts.rounds > 16)
				goto bad;
		} else if (!strcmp(a, "--reps")) {
			opts.reps = (unsigned int)strtoul(v, &end, 10);
			if (*end || !opts.reps || opts.reps > BENCH_MAX_REPS)
				goto bad;
		} else if (!strcmp(a, "--rep-ms")) {
			opts.rep_ns = strtod(v, &end) * 1e6;
			if (*end || !(opts.rep_ns > 0))
				goto bad;
		} else if (!strcmp(a, "--churn-ops")) {
			opts.churn_ops = strtoull(v, &end, 10);
			if (*end || errno)
				goto bad;
		} else if (!strcmp(a, "--maxmap")) {
			opts.maxmap_count = strtoull(v, &end, 10);
			if (*end || errno || opts.maxmap_count < 2)
				goto bad;
		} else {
			fprintf(stderr, "awe-bench: unknown option '%s'\n", a);
			usage(stderr);
			return 2;
		}
		i += takes;
		continue;
bad:
		fprintf(stderr, "awe-bench: bad value '%s' for %s\n", v, a);
		return 2;
	}
	if (sizes && !parse_sizes(sizes, cf)) {
		fprintf(stderr, "awe-bench: bad --sizes '%s' (e.g. 4M,64M,1G)\n", sizes);
		return 2;
	}
	cf->size_given = sizes != NULL;
	if ((cf->workload_list && !known_names(cf->workload_list, true)) ||
	    (cf->contender_list && !known_names(cf->contender_list, false)))
		return 2;
	return 0;
}

static void defaults(struct config *cf)
{
	static const size_t full[] = {4u << 20, 64u << 20, 1u << 30, 4ull << 30};
	unsigned int cpus = ncpus_allowed();

	opts.page = awe_page_size();
	opts.max_map_count = read_long_file("/proc/sys/vm/max_map_count");
	if (!opts.threads)
		opts.threads = cpus < 2 ? 2 : cpus;
	if (!opts.reps)
		opts.reps = opts.quick ? 3 : 5;
	if (!opts.rounds)
		opts.rounds = opts.quick ? 1 : 3;
	if (!(opts.rep_ns > 0))
		opts.rep_ns = opts.quick ? 2e6 : 30e6;
	opts.warm_ns = opts.rep_ns / 4;
	if (!opts.churn_ops)
		opts.churn_ops = opts.quick ? 20000 : 10000000;
	if (!opts.maxmap_count)
		opts.maxmap_count = opts.quick ? 100000 : 1000000;
	if (!cf->nsizes) {
		cf->nsizes = opts.quick ? 1 : ARRAY_SIZE(full);
		memcpy(cf->sizes, full, cf->nsizes * sizeof(full[0]));
	}
	/* Whole frames for every thread, at least 64 each so that every
	 * workload has room. */
	for (size_t i = 0; i < cf->nsizes; i++) {
		size_t unit = opts.page * opts.threads;

		cf->sizes[i] -= cf->sizes[i] % unit;
		if (cf->sizes[i] < 64 * unit)
			cf->sizes[i] = 64 * unit;
	}
}

static bool has_cap_ipc_lock(void)
{
	FILE *f = fopen("/proc/self/status", "re");
	unsigned long long eff = 0;
	char line[256];

	if (!f)
		return false;
	while (fgets(line, sizeof(line), f))
		if (sscanf(line, "CapEff: %llx", &eff) == 1)
			break;
	fclose(f);
	return (eff >> 14) & 1;
}

/*
 * Without CAP_IPC_LOCK, the default 8 MiB RLIMIT_MEMLOCK cannot hold the
 * windows, and libawe would refuse to run: measure unlocked frames then, and
 * say so. Must happen before anything starts libawe.
 */
static void choose_locking(void)
{
	struct rlimit rl;

	if (has_cap_ipc_lock() || getenv("LIBAWE_UNLOCKED"))
		return;
	if (getrlimit(RLIMIT_MEMLOCK, &rl) == 0 && rl.rlim_cur == RLIM_INFINITY)
		return;
	setenv("LIBAWE_UNLOCKED", "1", 0);
	snprintf(rp.notes[rp.nnotes++], sizeof(rp.notes[0]),
		 "no CAP_IPC_LOCK and a limited RLIMIT_MEMLOCK: libawe runs with unlocked frames "
		 "(LIBAWE_UNLOCKED=1)");
}

static void machine_info(void)
{
	struct utsname u;
	struct awe_stats st;

	uname(&u);
	cpu_model(rp.cpu, sizeof(rp.cpu));
	snprintf(rp.kernel, sizeof(rp.kernel), "%s %s", u.release, u.machine);
	rp.cpus = (unsigned int)sysconf(_SC_NPROCESSORS_ONLN);
	rp.locked = awe_stats(&st) == 0 && st.locked;
}

static struct result *new_case(void)
{
	if (rp.ncases == case_cap) {
		case_cap = case_cap ? 2 * case_cap : 256;
		rp.cases = realloc(rp.cases, case_cap * sizeof(*rp.cases));
		if (!rp.cases) {
			fprintf(stderr, "awe-bench: out of memory\n");
			exit(1);
		}
	}
	memset(&rp.cases[rp.ncases], 0, sizeof(*rp.cases));
	return &rp.cases[rp.ncases++];
}

/* The case of an earlier round with this key, or a fresh one (*@fresh). */
static struct result *case_for(const struct contender *c, const struct workload *w, enum mode mode,
			       unsigned int nthreads, size_t size, bool *fresh)
{
	struct result *r;

	for (size_t i = 0; i < rp.ncases; i++) {
		r = &rp.cases[i];
		if (r->c == c && r->w == w && r->mode == mode && r->nthreads == nthreads &&
		    r->size == size) {
			*fresh = false;
			return r;
		}
	}
	r = new_case();
	*r = (struct result){.c = c, .w = w, .mode = mode, .nthreads = nthreads, .size = size};
	*fresh = true;
	return r;
}

static size_t need_bytes(const struct contender *c, size_t size)
{
	/* The copy window is as large as the frames, and resident. */
	return (c == &contender_copy ? 2 : 1) * size + size / 8 + (256u << 20);
}

static bool fits(size_t bytes, char *why, size_t len)
{
	long avail = mem_available_kb();
	char a[32], b[32];

	if (avail < 0 || (size_t)avail * 1024 >= bytes)
		return true;
	fmt_size(a, sizeof(a), bytes & ~((1ull << 20) - 1));
	fmt_size(b, sizeof(b), ((size_t)avail * 1024) & ~((1ull << 20) - 1));
	snprintf(why, len, "needs about %s, MemAvailable is %s", a, b);
	return false;
}

static void progress(const struct config *cf, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
static void progress(const struct config *cf, const char *fmt, ...)
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
		       const enum mode *modes, size_t nmodes, unsigned int nthreads,
		       const char *why)
{
	for (size_t w = 0; w < nworkloads; w++)
		for (size_t m = 0; m < nmodes && listed(cf->workload_list, workloads[w]->name);
		     m++) {
			bool fresh;
			struct result *r = case_for(c, workloads[w], modes[m],
						    modes[m] == MODE_THREADS ? nthreads : 1, size,
						    &fresh);

			r->status = ST_SKIP;
			snprintf(r->msg, sizeof(r->msg), "%s", why);
		}
}

static int target_setup(struct bench_target *tg, const struct contender *c, size_t frames,
			unsigned int windows)
{
	struct setup_args a = {
		.frames = frames,
		.windows = windows,
		.window_pages = frames / windows,
	};

	*tg = (struct bench_target){
		.c = c,
		.nframes = frames,
		.nwindows = windows,
		.window_pages = frames / windows,
	};
	tg->handles = xcalloc(frames, sizeof(*tg->handles));
	tg->bases = xcalloc(windows, sizeof(*tg->bases));
	a.handles = tg->handles;
	a.bases = tg->bases;
	return c->setup(&tg->st, &a);
}

static void target_teardown(struct bench_target *tg)
{
	if (tg->st)
		tg->c->teardown(tg->st);
	free(tg->handles);
	free(tg->bases);
	tg->st = NULL;
	tg->handles = NULL;
	tg->bases = NULL;
}

/* One setup per group of modes that share a window layout: one window for
 * the single thread (alone or with a busy thread), one per thread for N. */
static void run_group(const struct config *cf, const struct contender *c, size_t size,
		      const enum mode *modes, size_t nmodes, unsigned int nthreads)
{
	struct bench_target tg;
	size_t frames = size / opts.page;
	char why[200];
	int rc;

	if (!fits(need_bytes(c, size), why, sizeof(why))) {
		skip_cases(cf, c, size, modes, nmodes, nthreads, why);
		return;
	}
	rc = target_setup(&tg, c, frames, nthreads);
	for (size_t w = 0; w < nworkloads; w++) {
		if (!listed(cf->workload_list, workloads[w]->name))
			continue;
		for (size_t m = 0; m < nmodes; m++) {
			bool fresh;
			struct result *r = case_for(c, workloads[w], modes[m],
						    modes[m] == MODE_THREADS ? nthreads : 1, size,
						    &fresh);
			char mname[32];

			if (!fresh && r->status != ST_OK)
				continue;
			if (rc) {
				r->status = ST_ERROR;
				snprintf(r->msg, sizeof(r->msg), "setup: %s", bench_errmsg());
				continue;
			}
			if (fresh) {
				run_case(&tg, workloads[w], modes[m], r->nthreads, r);
			} else {
				struct result t = {.c = r->c,
						   .w = r->w,
						   .mode = r->mode,
						   .nthreads = r->nthreads,
						   .size = r->size};

				run_case(&tg, workloads[w], modes[m], r->nthreads, &t);
				result_merge(r, &t);
			}
			mode_name(modes[m], r->nthreads, mname, sizeof(mname));
			if (r->status == ST_OK)
				progress(cf, "  %-6s %-8s %-10s %10.1f ns/page %10.1f cpu/page",
					 c->name, r->w->name, mname, r->ns_page, r->cpu_page);
			else
				progress(cf, "  %-6s %-8s %-10s %s: %s", c->name, r->w->name, mname,
					 status_name(r->status), r->msg);
			/* A failure may leave frames mapped: start from a clean state. */
			if (r->status == ST_LIMIT || r->status == ST_ERROR) {
				target_teardown(&tg);
				rc = target_setup(&tg, c, frames, nthreads);
			}
		}
	}
	target_teardown(&tg);
}

static void run_extras(const struct config *cf, const struct contender *const *cs, size_t ncs)
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
			snprintf(rp.notes[rp.nnotes++], sizeof(rp.notes[0]),
				 "mapping count run reduced to %zu mappings to fit in memory",
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
	return 0;
}

int main(int argc, char **argv)
{
	static const enum mode single[] = {MODE_ONE, MODE_BUSY}, multi[] = {MODE_THREADS};
	static const struct contender *cs[ARRAY_SIZE(all_contenders)];
	struct config cf = {0};
	FILE *json_f = NULL, *md_f = NULL;
	size_t ncs = 0;
	int rc;

	start_ns = now_ns();
	rc = parse_args(argc, argv, &cf);
	if (rc)
		return rc;
	if (cf.plot && plot_check(cf.plot) != 0)
		return 2;
	/* Opened now: a typo in a path should not cost a whole run. */
	if ((cf.json_out && !(json_f = open_out(cf.json_out))) ||
	    (cf.markdown_out && !(md_f = open_out(cf.markdown_out))))
		return 2;
	choose_locking();
	pin_thread(0);
	defaults(&cf);
	machine_info();

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

	/* Rounds interleave the contenders in time, so that a slow spell of
	 * the machine (a VM's neighbours) does not land on one of them only;
	 * each round starts with the next contender, so that none always runs
	 * right after the same other one (memfd, say, leaves the kernel freeing
	 * a GiB of shared memory). */
	for (unsigned int round = 0; round < opts.rounds; round++)
		for (size_t s = 0; s < cf.nsizes; s++)
			for (size_t k = 0; k < ncs; k++) {
				size_t i = (k + round) % ncs;
				char sz[32];

				fmt_size(sz, sizeof(sz), cf.sizes[s]);
				progress(&cf, "round %u of %u: %s of frames, %s", round + 1,
					 opts.rounds, sz, cs[i]->name);
				run_group(&cf, cs[i], cf.sizes[s], single, ARRAY_SIZE(single), 1);
				if (opts.threads > 1)
					run_group(&cf, cs[i], cf.sizes[s], multi, ARRAY_SIZE(multi),
						  opts.threads);
			}
	run_extras(&cf, cs, ncs);

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
	if (cf.plot && plot_write(&rp, cf.plot) != 0)
		rc = 1;
	free(rp.cases);
	free(rp.maxmap);
	free(rp.memory);
	free(rp.churn);
	return rc;
}
