// SPDX-License-Identifier: MIT
/*
 * awe-bench's command line: the usage text, the options read with
 * getopt_long (a value as the next argument or after '=', a long option
 * shortened to a unique prefix) and checked as they are read, each error
 * naming its option; and the defaults that fill in what the options left
 * open (those that depend on --quick, the machine's CPUs and its page
 * size).
 */
#include <errno.h>
#include <getopt.h>
#include <stdint.h>
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
		"An option's value follows it as the next argument or after '=' (--sizes=4M).\n"
		"\n"
		"  --quick           smoke run: smallest size, few iterations (a few seconds)\n"
		"  --sizes LIST      sizes of frames, e.g. 4M,64M,1G,4G (the default; touch: 4G)\n"
		"  --threads LIST    thread counts of the N-thread mode, e.g. 2,8 (default: 2\n"
		"                    and the CPUs' count when more; 1: no such mode)\n"
		"  --workload LIST   of scatter,sweep,batch64,evict64,replace,alloc,maxmap,memory,\n"
		"                    churn,pager,large,touch (also --workloads)\n"
		"  --contender LIST  of awe,win32,memfd,raw,rawcopy,copy (also --contenders)\n"
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
		"  --markdown        print the summary tables in Markdown (for doc/performance.md)\n"
		"  --plot FILE       also write a chart of ns/page, FILE.png or FILE.svg (gnuplot)\n"
		"  --plot-script FILE  also write the chart's gnuplot script, its data inline, to\n"
		"                    FILE (no gnuplot needed; `gnuplot FILE` draws the --plot\n"
		"                    file, or FILE with its extension replaced by .png)\n"
		"  --json-out FILE   also write the JSON report to FILE\n"
		"  --markdown-out FILE  also write the Markdown tables to FILE\n"
		"  --quiet           no progress lines on stderr\n"
		"  --version         the version of the libawe library loaded\n"
		"  -h, --help        this text\n");
}

static bool parse_size(const char *s, size_t *out)
{
	unsigned int shift = 0;
	char *end;
	unsigned long long v;

	if (*s < '0' || *s > '9')
		return false;
	errno = 0;
	v = strtoull(s, &end, 10);
	if (errno || v == 0)
		return false;
	switch (*end) {
	case 'k':
	case 'K':
		shift = 10;
		end++;
		break;
	case 'm':
	case 'M':
		shift = 20;
		end++;
		break;
	case 'g':
	case 'G':
		shift = 30;
		end++;
		break;
	default:
		break;
	}
	if (*end == 'i' && end[1] == 'B')
		end += 2;
	else if (*end == 'B')
		end++;
	if (*end || v > (SIZE_MAX >> shift))
		return false;
	*out = (size_t)v << shift;
	return true;
}

static bool parse_sizes(const char *list, struct config *cf)
{
	cf->nsizes = 0;
	for (const char *p = list;; p++) {
		size_t len = strcspn(p, ",");
		char tok[32];

		if (!len || len >= sizeof(tok) || cf->nsizes == ARRAY_SIZE(cf->sizes))
			return false;
		snprintf(tok, sizeof(tok), "%.*s", (int)len, p);
		if (!parse_size(tok, &cf->sizes[cf->nsizes++]))
			return false;
		p += len;
		if (!*p)
			return true;
	}
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

/* A whole number from @min to @max, digits only (strtoull would take a
 * sign, and wrap "-1" around). */
static bool parse_uint(const char *s, unsigned long long min, unsigned long long max,
		       unsigned long long *out)
{
	char *end;

	if (*s < '0' || *s > '9')
		return false;
	errno = 0;
	*out = strtoull(s, &end, 10);
	return !errno && !*end && *out >= min && *out <= max;
}

static bool parse_counts(const char *list)
{
	opts.nthread_counts = 0;
	for (const char *p = list;; p++) {
		size_t len = strcspn(p, ",");
		unsigned long long n;
		char num[16];

		if (!len || len >= sizeof(num))
			return false;
		snprintf(num, sizeof(num), "%.*s", (int)len, p);
		if (!parse_uint(num, 1, BENCH_MAX_THREADS, &n))
			return false;
		add_count((unsigned int)n);
		p += len;
		if (!*p)
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

static const char *name_of(bool workloads_too, size_t i)
{
	if (!workloads_too)
		return i < ARRAY_SIZE(all_contenders) ? all_contenders[i]->name : NULL;
	if (i < nworkloads)
		return workloads[i]->name;
	return i - nworkloads < ARRAY_SIZE(extras) ? extras[i - nworkloads] : NULL;
}

/* Whether every name of @list is a workload (or a contender), else says
 * which is not, naming @opt and what it takes. */
static bool known_names(const char *opt, const char *list, bool workloads_too)
{
	const char *p = list, *n;

	for (;; p++) {
		size_t len = strcspn(p, ",");
		bool ok = false;

		for (size_t i = 0; len && (n = name_of(workloads_too, i)); i++)
			ok |= strlen(n) == len && strncmp(p, n, len) == 0;
		if (!ok)
			break;
		p += len;
		if (!*p)
			return true;
	}
	if (*p == ',' || !*p)
		fprintf(stderr, "awe-bench: %s: an empty name in '%s'", opt, list);
	else
		fprintf(stderr, "awe-bench: %s: unknown %s '%.*s'", opt,
			workloads_too ? "workload" : "contender", (int)strcspn(p, ","), p);
	for (size_t i = 0; (n = name_of(workloads_too, i)); i++)
		fprintf(stderr, "%s%s", i ? "," : " (one of ", n);
	fprintf(stderr, ")\n");
	return false;
}

/* Long-only options: values beyond any character. */
enum {
	OPT_QUICK = 256,
	OPT_SIZES,
	OPT_THREADS,
	OPT_WORKLOAD,
	OPT_CONTENDER,
	OPT_ROUNDS,
	OPT_REPS,
	OPT_REP_MS,
	OPT_CHURN_OPS,
	OPT_MAXMAP,
	OPT_MEMFD_POPULATE,
	OPT_JSON,
	OPT_MARKDOWN,
	OPT_PLOT,
	OPT_PLOT_SCRIPT,
	OPT_JSON_OUT,
	OPT_MARKDOWN_OUT,
	OPT_QUIET,
	OPT_VERSION,
};

/* An alias shares its option's value, so that getopt_long does not find
 * an abbreviation of both (--work) ambiguous. */
static const struct option longopts[] = {
	{"quick", no_argument, NULL, OPT_QUICK},
	{"sizes", required_argument, NULL, OPT_SIZES},
	{"threads", required_argument, NULL, OPT_THREADS},
	{"workload", required_argument, NULL, OPT_WORKLOAD},
	{"workloads", required_argument, NULL, OPT_WORKLOAD},
	{"contender", required_argument, NULL, OPT_CONTENDER},
	{"contenders", required_argument, NULL, OPT_CONTENDER},
	{"rounds", required_argument, NULL, OPT_ROUNDS},
	{"reps", required_argument, NULL, OPT_REPS},
	{"rep-ms", required_argument, NULL, OPT_REP_MS},
	{"churn-ops", required_argument, NULL, OPT_CHURN_OPS},
	{"maxmap", required_argument, NULL, OPT_MAXMAP},
	{"memfd-populate", no_argument, NULL, OPT_MEMFD_POPULATE},
	{"json", no_argument, NULL, OPT_JSON},
	{"markdown", no_argument, NULL, OPT_MARKDOWN},
	{"plot", required_argument, NULL, OPT_PLOT},
	{"plot-script", required_argument, NULL, OPT_PLOT_SCRIPT},
	{"json-out", required_argument, NULL, OPT_JSON_OUT},
	{"markdown-out", required_argument, NULL, OPT_MARKDOWN_OUT},
	{"quiet", no_argument, NULL, OPT_QUIET},
	{"version", no_argument, NULL, OPT_VERSION},
	{"help", no_argument, NULL, 'h'},
	{NULL, 0, NULL, 0},
};

/* The option whose getopt_long value is @val, as "--name". */
static const char *long_name(int val, char *buf, size_t len)
{
	for (const struct option *o = longopts; o->name; o++)
		if (o->val == val) {
			snprintf(buf, len, "--%s", o->name);
			return buf;
		}
	snprintf(buf, len, "-%c", val);
	return buf;
}

/* An option getopt_long did not take, with the element @arg it was in:
 * unknown, an abbreviation of several, a value it does not take, or a
 * short one. */
static void bad_option(const char *arg, int optopt_val)
{
	size_t len;
	char name[64];
	int n = 0, last = -1;

	if (strncmp(arg, "--", 2) != 0) {
		fprintf(stderr, "awe-bench: unknown option '-%c' (awe-bench --help lists them)\n",
			optopt_val);
		return;
	}
	if (optopt_val) {
		fprintf(stderr, "awe-bench: option '%s' takes no value\n",
			long_name(optopt_val, name, sizeof(name)));
		return;
	}
	len = strcspn(arg + 2, "=");
	for (const struct option *o = longopts; o->name; o++)
		if (!strncmp(o->name, arg + 2, len) && o->val != last) {
			last = o->val;
			n++;
		}
	if (n < 2) {
		fprintf(stderr, "awe-bench: unknown option '%.*s' (awe-bench --help lists them)\n",
			(int)len + 2, arg);
		return;
	}
	fprintf(stderr, "awe-bench: ambiguous option '%.*s': ", (int)len + 2, arg);
	last = -1;
	n = 0;
	for (const struct option *o = longopts; o->name; o++)
		if (!strncmp(o->name, arg + 2, len) && o->val != last) {
			last = o->val;
			fprintf(stderr, "%s--%s", n++ ? ", " : "", o->name);
		}
	fputc('\n', stderr);
}

int parse_args(int argc, char **argv, struct config *cf)
{
	unsigned long long n;
	char name[64];
	char *end;
	int c;

	/* Our own messages, naming awe-bench rather than argv[0]. '+': no
	 * reordering, so that the element an error is in is argv[at]; ':':
	 * a missing value is told apart from an unknown option. */
	opterr = 0;
	for (;;) {
		int at = optind;

		c = getopt_long(argc, argv, "+:h", longopts, NULL);
		if (c == -1)
			break;
		switch (c) {
		case 'h':
			usage(stdout);
			exit(0);
		case OPT_VERSION:
			/* The library measured, not the headers built with. */
			printf("awe-bench (libawe) %s\n", awe_version());
			exit(0);
		case OPT_QUICK:
			opts.quick = true;
			break;
		case OPT_JSON:
			cf->out = OUT_JSON;
			break;
		case OPT_MARKDOWN:
			cf->out = OUT_MARKDOWN;
			break;
		case OPT_MEMFD_POPULATE:
			opts.memfd_populate = true;
			break;
		case OPT_QUIET:
			cf->quiet = true;
			break;
		case OPT_SIZES:
			if (!parse_sizes(optarg, cf))
				goto bad;
			cf->size_given = true;
			break;
		case OPT_THREADS:
			if (!parse_counts(optarg))
				goto bad;
			cf->threads_given = true;
			break;
		case OPT_WORKLOAD:
			if (!known_names("--workload", optarg, true))
				return 2;
			cf->workload_list = optarg;
			break;
		case OPT_CONTENDER:
			if (!known_names("--contender", optarg, false))
				return 2;
			cf->contender_list = optarg;
			break;
		case OPT_PLOT:
			cf->plot = optarg;
			break;
		case OPT_PLOT_SCRIPT:
			cf->plot_script = optarg;
			break;
		case OPT_JSON_OUT:
			cf->json_out = optarg;
			break;
		case OPT_MARKDOWN_OUT:
			cf->markdown_out = optarg;
			break;
		case OPT_ROUNDS:
			if (!parse_uint(optarg, 1, BENCH_MAX_ROUNDS, &n))
				goto bad;
			opts.rounds = (unsigned int)n;
			break;
		case OPT_REPS:
			if (!parse_uint(optarg, 1, BENCH_MAX_REPS, &n))
				goto bad;
			opts.reps = (unsigned int)n;
			break;
		case OPT_REP_MS:
			errno = 0;
			opts.rep_ns = strtod(optarg, &end) * 1e6;
			if (end == optarg || *end || errno || !(opts.rep_ns > 0) ||
			    !(opts.rep_ns < 3.6e12))
				goto bad;
			break;
		case OPT_CHURN_OPS:
			if (!parse_uint(optarg, 1, UINT64_MAX, &n))
				goto bad;
			opts.churn_ops = n;
			break;
		case OPT_MAXMAP:
			if (!parse_uint(optarg, 2, SIZE_MAX, &n))
				goto bad;
			opts.maxmap_count = (size_t)n;
			break;
		case ':':
			fprintf(stderr, "awe-bench: option '%s' needs a value\n",
				long_name(optopt, name, sizeof(name)));
			return 2;
		default:
			bad_option(argv[at], optopt);
			return 2;
		}
		continue;
bad:
		fprintf(stderr, "awe-bench: %s: bad value '%s'", long_name(c, name, sizeof(name)),
			optarg);
		switch (c) {
		case OPT_SIZES:
			fprintf(stderr, " (sizes such as 4M,64M,1G; at most %zu)\n",
				ARRAY_SIZE(cf->sizes));
			break;
		case OPT_THREADS:
			fprintf(stderr, " (thread counts such as 2,8; at most %d)\n",
				BENCH_MAX_THREADS);
			break;
		case OPT_ROUNDS:
			fprintf(stderr, " (1 to %d)\n", BENCH_MAX_ROUNDS);
			break;
		case OPT_REPS:
			fprintf(stderr, " (1 to %d)\n", BENCH_MAX_REPS);
			break;
		case OPT_REP_MS:
			fprintf(stderr, " (milliseconds, above 0)\n");
			break;
		case OPT_MAXMAP:
			fprintf(stderr, " (a whole number, at least 2)\n");
			break;
		default:
			fprintf(stderr, " (a whole number, at least 1)\n");
			break;
		}
		return 2;
	}
	if (optind < argc) {
		fprintf(stderr,
			"awe-bench: unexpected argument '%s' (awe-bench --help lists the "
			"options)\n",
			argv[optind]);
		return 2;
	}
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
