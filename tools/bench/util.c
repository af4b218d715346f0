// SPDX-License-Identifier: MIT
/*
 * awe-bench helpers: clocks, /proc readers, CPU pinning, randomness. What
 * libawe itself judges by (memory available, vm.max_map_count, the lock
 * limit) comes from awe_probe() instead, where it is used.
 */
#include <errno.h>
#include <pthread.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "bench.h"

__thread uint64_t bench_syscalls;
static __thread char errmsg[256];

int bench_err(int err, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(errmsg, sizeof(errmsg), fmt, ap);
	va_end(ap);
	return err;
}

const char *bench_errmsg(void)
{
	return errmsg;
}

static uint64_t clock_ns(clockid_t id)
{
	struct timespec ts;

	clock_gettime(id, &ts);
	return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

uint64_t now_ns(void)
{
	return clock_ns(CLOCK_MONOTONIC);
}

uint64_t thread_cpu_ns(void)
{
	return clock_ns(CLOCK_THREAD_CPUTIME_ID);
}

/* /proc/self/status in one read: the fields change while we parse otherwise. */
int read_proc_mem(struct proc_mem *m)
{
	FILE *f = fopen("/proc/self/status", "re");
	char line[256];

	memset(m, 0, sizeof(*m));
	if (!f)
		return -errno;
	while (fgets(line, sizeof(line), f)) {
		sscanf(line, "RssAnon: %ld", &m->rss_anon_kb);
		sscanf(line, "RssShmem: %ld", &m->rss_shmem_kb);
		sscanf(line, "VmPTE: %ld", &m->pte_kb);
		sscanf(line, "VmLck: %ld", &m->lck_kb);
	}
	fclose(f);
	return 0;
}

long count_maps(void)
{
	FILE *f = fopen("/proc/self/maps", "re");
	char buf[65536];
	long n = 0;
	size_t got;

	if (!f)
		return -1;
	while ((got = fread(buf, 1, sizeof(buf), f)) > 0)
		for (size_t i = 0; i < got; i++)
			n += buf[i] == '\n';
	fclose(f);
	return n;
}

void cpu_model(char *buf, size_t len)
{
	FILE *f = fopen("/proc/cpuinfo", "re");
	char line[512];

	snprintf(buf, len, "unknown CPU");
	if (!f)
		return;
	while (fgets(line, sizeof(line), f)) {
		char *colon = strchr(line, ':');

		if (strncmp(line, "model name", 10) != 0 || !colon)
			continue;
		colon += 1 + strspn(colon + 1, " \t");
		colon[strcspn(colon, "\n")] = '\0';
		snprintf(buf, len, "%s", colon);
		break;
	}
	fclose(f);
}

static unsigned int cpus[CPU_SETSIZE];
static unsigned int ncpus;

/* Pinning only among the CPUs we were given: a cpuset may exclude CPU 0. */
unsigned int ncpus_allowed(void)
{
	cpu_set_t set;

	if (ncpus)
		return ncpus;
	if (sched_getaffinity(0, sizeof(set), &set) == 0)
		for (unsigned int i = 0; i < CPU_SETSIZE; i++)
			if (CPU_ISSET(i, &set))
				cpus[ncpus++] = i;
	if (!ncpus)
		ncpus = 1; /* unknown: never pin */
	return ncpus;
}

void pin_thread(unsigned int i)
{
	cpu_set_t set;

	if (ncpus_allowed() < 2)
		return;
	CPU_ZERO(&set);
	CPU_SET(cpus[i % ncpus], &set);
	pthread_setaffinity_np(pthread_self(), sizeof(set), &set);
}

void pin_any(void)
{
	cpu_set_t set;

	if (ncpus_allowed() < 2)
		return;
	CPU_ZERO(&set);
	for (unsigned int i = 0; i < ncpus_allowed(); i++)
		CPU_SET(cpus[i], &set);
	pthread_setaffinity_np(pthread_self(), sizeof(set), &set);
}

/* splitmix64: seeds the same sequence for every contender. */
static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return (x > y) - (x < y);
}

double median(const double *v, unsigned int n)
{
	double sorted[BENCH_MAX_REPS];

	if (!n)
		return 0;
	memcpy(sorted, v, n * sizeof(*v));
	qsort(sorted, n, sizeof(*sorted), cmp_double);
	return n % 2 ? sorted[n / 2] : (sorted[n / 2 - 1] + sorted[n / 2]) / 2;
}

uint64_t rng_next(uint64_t *s)
{
	uint64_t z = (*s += 0x9e3779b97f4a7c15ull);

	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
	return z ^ (z >> 31);
}

void shuffle(uint32_t *a, size_t n, uint64_t *rng)
{
	for (size_t i = n; i > 1; i--) {
		size_t j = rng_next(rng) % i;
		uint32_t t = a[i - 1];

		a[i - 1] = a[j];
		a[j] = t;
	}
}

uint32_t *perm_new(size_t n, uint64_t seed)
{
	uint32_t *a = xcalloc(n ? n : 1, sizeof(*a));

	for (size_t i = 0; i < n; i++)
		a[i] = (uint32_t)i;
	shuffle(a, n, &seed);
	return a;
}

void index_layout(const struct setup_args *a, char *region)
{
	for (size_t i = 0; i < a->frames; i++)
		a->handles[i] = i;
	for (unsigned int i = 0; i < a->windows; i++)
		a->bases[i] = region + i * a->window_pages * opts.page;
}

void fmt_size(char *buf, size_t len, size_t bytes)
{
	if (bytes >= (1ull << 30) && bytes % (1ull << 30) == 0)
		snprintf(buf, len, "%zu GiB", bytes >> 30);
	else if (bytes >= (1ull << 20) && bytes % (1ull << 20) == 0)
		snprintf(buf, len, "%zu MiB", bytes >> 20);
	else if (bytes >= (1ull << 10) && bytes % (1ull << 10) == 0)
		snprintf(buf, len, "%zu KiB", bytes >> 10);
	else
		snprintf(buf, len, "%zu B", bytes);
}

/* The benchmark's own bookkeeping: running out of it is not a result. */
void *xgrow(void *p, size_t *cap, size_t need, size_t size, size_t first)
{
	size_t n = *cap ? *cap : first;

	if (need <= *cap)
		return p;
	while (n < need)
		n *= 2;
	p = realloc(p, n * size);
	if (!p) {
		fprintf(stderr, "awe-bench: out of memory (%zu x %zu bytes)\n", n, size);
		exit(1);
	}
	*cap = n;
	return p;
}

void *xcalloc(size_t n, size_t size)
{
	void *p = calloc(n ? n : 1, size);

	if (!p) {
		fprintf(stderr, "awe-bench: out of memory (%zu x %zu bytes)\n", n, size);
		exit(1);
	}
	return p;
}

const char *md_escape(const char *s, char *buf, size_t len)
{
	size_t n = 0;

	for (; *s && n + 3 < len; s++) {
		if (*s == '|')
			buf[n++] = '\\';
		buf[n++] = *s;
	}
	buf[n] = '\0';
	return buf;
}
