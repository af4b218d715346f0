// SPDX-License-Identifier: MIT
/*
 * awe-bench's command line: the usage text, the options and their checks,
 * and the defaults that fill in what the options left open (those that
 * depend on --quick, the machine's CPUs and its page size).
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <awe.h>

#include "bench.h"
#include "run.h"

static const char *const extras[] = {"maxmap", "memory", "churn", "pager", "large", "touch"};

static void usage(FILE *f)
{
	fprintf(f,
		"usage: awe-bench [options]\n"
		"Measure libawe (native and Win32 API) against a memfd remapper, the bare\n"
		"UFFDIO_MOVE floor and a copy window, and its large frames against small ones.\n"
		"\n"
		"  --quick           smoke run: smallest size, few iterations (a few seconds)\n"
		"  --sizes LIST      sizes of frames, e.g. 4M,64M,1G,4G (the default; touch: 4G)\n"
		"  --threads LIST    thread counts of the N-thread mode, e.g. 2,8 (default: 2\n"
		"                    and the CPUs' count when more; 1: no such mode)\n"
		"  --workload LIST   of scatter,sweep,batch64,evict64,replace,alloc,maxmap,memory,\n"
		"                    churn,pager,large,touch\n"
		"  --contender LIST  of awe,win32,memfd,raw,rawcopy,copy\n"
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

static int cmp_uint(const void *a, const void *b)
{
	unsigned int x = *(const unsigned int *)a, y = *(const unsigned int *)b;

	return (x > y) - (x < y);
}

/* Adds @n to the thread counts (1 is the one-thread mode, not another). */
static void add_count(unsigned int n)
{
	for (unsigned int i = 0; i < opts.nthread_counts; i++)
		if (opts.thread_counts[i] == n)
			return;
	if (n > 1 && opts.nthread_counts < BENCH_MAX_COUNTS)
		opts.thread_counts[opts.nthread_counts++] = n;
	qsort(opts.thread_counts, opts.nthread_counts, sizeof(opts.thread_counts[0]), cmp_uint);
}

static bool parse_counts(const char *list)
{
	char *end;

	for (const char *p = list;; p = end + 1) {
		unsigned long n = strtoul(p, &end, 10);

		if (end == p || !n || n > BENCH_MAX_THREADS || (*end && *end != ','))
			return false;
		add_count((unsigned int)n);
		if (!*end)
			return true;
	}
}

/* Whether @name is in the comma-separated @list (NULL: everything is). */
bool listed(const char *list, const char *name)
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

int parse_args(int argc, char **argv, struct config *cf)
{
	const char *sizes = NULL, *threads = NULL;

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
			threads = v;
			if (!parse_counts(v))
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
	cf->threads_given = threads != NULL;
	if ((cf->workload_list && !known_names(cf->workload_list, true)) ||
	    (cf->contender_list && !known_names(cf->contender_list, false)))
		return 2;
	return 0;
}

static size_t gcd(size_t a, size_t b)
{
	while (b) {
		size_t r = a % b;

		a = b;
		b = r;
	}
	return a;
}

/* The least common multiple of the thread counts (1 for none). */
static size_t threads_lcm(void)
{
	size_t l = 1;

	for (unsigned int i = 0; i < opts.nthread_counts; i++)
		l = l / gcd(l, opts.thread_counts[i]) * opts.thread_counts[i];
	return l;
}

bool defaults(struct config *cf)
{
	static const size_t full[] = {4u << 20, 64u << 20, 1u << 30, 4ull << 30};
	unsigned int cpus = ncpus_allowed();
	struct awe_probe p;

	opts.page = awe_page_size();
	opts.max_map_count = awe_probe(&p) == 0 && p.max_map_count ? (long)p.max_map_count : -1;
	/* Two threads always (libawe's goals are judged there), and one per
	 * CPU where there are more. */
	if (!cf->threads_given) {
		add_count(2);
		add_count(cpus);
	}
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
	/* Whole frames for every thread of every count, at least 64 each so
	 * that every workload has room. */
	for (size_t i = 0; i < cf->nsizes; i++) {
		size_t unit = opts.page * threads_lcm();

		cf->sizes[i] -= cf->sizes[i] % unit;
		if (cf->sizes[i] < 64 * unit)
			cf->sizes[i] = 64 * unit;
	}
	return true;
}
