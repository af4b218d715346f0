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
		"  --rounds N        rounds per case (default 5, quick 1): all contenders are set\n"
		"                    up at once and take turns, a round each, case by case; a\n"
		"                    ratio is the median over rounds of the rounds' ratios\n"
		"                    (where they do not fit in memory together, they run one\n"
		"                    after another and a ratio is of overall medians)\n"
		"  --reps N          timed repetitions per case and round (default 3)\n"
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
			if (*end || !opts.rounds || opts.rounds > BENCH_MAX_ROUNDS)
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

static bool defaults(struct config *cf)
{
	static const size_t full[] = {4u << 20, 64u << 20, 1u << 30, 4ull << 30};
	unsigned int cpus = ncpus_allowed();

	opts.page = awe_page_size();
	opts.max_map_count = read_long_file("/proc/sys/vm/max_map_count");
	if (!opts.threads)
		opts.threads = cpus < 2 ? 2 : cpus;
	if (!opts.reps)
		opts.reps = 3;
	if (!opts.rounds)
		opts.rounds = opts.quick ? 1 : 5;
	if (opts.reps * opts.rounds > BENCH_MAX_REPS) {
		fprintf(stderr,
			"awe-bench: --reps %u times --rounds %u is more than %d repetitions\n",
			opts.reps, opts.rounds, BENCH_MAX_REPS);
		return false;
	}
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
	return true;
}

static void add_note(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static void add_note(const char *fmt, ...)
{
	va_list ap;

	if (rp.nnotes == ARRAY_SIZE(rp.notes))
		return;
	va_start(ap, fmt);
	vsnprintf(rp.notes[rp.nnotes++], sizeof(rp.notes[0]), fmt, ap);
	va_end(ap);
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
	add_note("no CAP_IPC_LOCK and a limited RLIMIT_MEMLOCK: libawe runs with unlocked frames "
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

/* Modes that share a window layout, and so one setup: one window for the
 * single thread (alone or with a busy thread), one per thread for N. */
struct group {
	const enum mode *modes;
	size_t nmodes;
	unsigned int nthreads;
};

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
	struct result *r[ARRAY_SIZE(all_contenders)];
	char line[512];

	for (size_t k = 0; k < ncs; k++)
		slot_setup(&sl[k], cs[k], size, g->nthreads);
	for (size_t w = 0; w < nworkloads; w++) {
		if (!listed(cf->workload_list, workloads[w]->name))
			continue;
		for (size_t m = 0; m < g->nmodes; m++) {
			for (size_t k = 0; k < ncs; k++) {
				r[k] = case_for(cs[k], workloads[w], g, m, size);
				r[k]->interleaved = true;
			}
			for (unsigned int round = 0; round < opts.rounds; round++) {
				size_t n = 0;

				for (size_t j = 0; j < ncs; j++) {
					size_t k = (j + round) % ncs;
					double ns;

					if (r[k]->status != ST_OK)
						continue;
					ns = run_round(&sl[k], r[k]);
					n = round_progress(cf, line, sizeof(line), n, r[k], round,
							   ns);
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
static void run_size(const struct config *cf, const struct contender *const *cs, size_t ncs,
		     size_t size, const struct group *groups, size_t ngroups)
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
	struct group groups[] = {
		{single, ARRAY_SIZE(single), 1},
		{multi, ARRAY_SIZE(multi), 0},
	};
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
	if (!defaults(&cf))
		return 2;
	machine_info();
	groups[1].nthreads = opts.threads;

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

	for (size_t s = 0; s < cf.nsizes; s++)
		run_size(&cf, cs, ncs, cf.sizes[s], groups, opts.threads > 1 ? 2 : 1);
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
