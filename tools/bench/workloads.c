// SPDX-License-Identifier: MIT
/*
 * The workloads, written once against struct contender, and the runner that
 * times them: warm-up, repetitions, medians, busy thread, N threads.
 *
 * Every mapped page is touched (one byte written) before it is unmapped:
 * a program maps a page to use it, and a remapper that defers work to the
 * first touch (memfd's page fault) must pay for it here.
 */
#include <errno.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>

#include "bench.h"

struct run_ctl {
	pthread_barrier_t bar;
	const struct workload *w;
	atomic_int failed; /* the first failure's error, 0 while none */
	char msg[256];
	size_t ops;	/* per repetition and thread, from thread 0's warm-up */
	bool go;	/* thread 0's decision for the next repetition */
	uint64_t start; /* thread 0's clock at the start of a repetition */
	unsigned int reps;
	double rep_ns[BENCH_MAX_REPS]; /* per page and thread */
	uint64_t elapsed;	       /* of all repetitions */
	/* Per repetition, summed over the worker threads, each adding its own
	 * when its op loop ends. */
	_Atomic uint64_t cpu_ns[BENCH_MAX_REPS], cpu_pages[BENCH_MAX_REPS];
};

struct wl_thread {
	struct run_ctl *ctl;
	const struct contender *c;
	void *st;
	unsigned int id;
	unsigned int nwindows; /* of the target: they share the mapping budget */
	char *win;
	size_t nslots;
	uint64_t *frames;
	size_t nframes;
	uint64_t seed;

	/* Random order of frames and slots (or of runs, for the sweep). */
	uint32_t *fperm, *sperm;
	size_t nf, ns, fpos, spos;
	size_t batch, run;

	/* Replace: which frame each band slot holds, and the unmapped ones. */
	size_t band;
	uint32_t *slot_frame, *spare;
	size_t nspare, spare_pos;

	uint64_t *abuf; /* alloc */
	size_t achunk;

	uint64_t calls, pages;			 /* running */
	uint64_t t_calls, t_pages, t_sys, t_flt; /* in the timed repetitions */

	void *addrs[BENCH_BATCH];
	uint64_t fr[BENCH_BATCH];
};

#define PG (opts.page)

static void touch(char *p)
{
	*(volatile char *)p = 1;
}

static size_t next(size_t *pos, size_t n)
{
	size_t v = *pos;

	*pos = v + 1 == n ? 0 : v + 1;
	return v;
}

static size_t min_size(size_t a, size_t b)
{
	return a < b ? a : b;
}

static void perms(struct wl_thread *t, size_t nf, size_t ns)
{
	t->nf = nf;
	t->ns = ns;
	t->fperm = perm_new(nf, t->seed);
	t->sperm = perm_new(ns, t->seed ^ 0x5bd1e995u);
}

/* ---- scatter: one random frame at one random slot, touched, unmapped ---- */

static int scatter_prepare(struct wl_thread *t)
{
	perms(t, t->nframes, t->nslots);
	return 0;
}

static int scatter_op(struct wl_thread *t)
{
	uint64_t f = t->frames[t->fperm[next(&t->fpos, t->nf)]];
	void *a = t->win + (size_t)t->sperm[next(&t->spos, t->ns)] * PG;
	int rc = t->c->map(t->st, &a, &f, 1);

	if (rc)
		return rc;
	touch(a);
	t->calls += 2;
	t->pages++;
	return t->c->unmap(t->st, &a, 1);
}

/* ---- batch: 64 random frames at 64 random slots per call ------------------ */

static int batch_prepare(struct wl_thread *t)
{
	perms(t, t->nframes, t->nslots);
	t->batch = min_size(BENCH_BATCH, min_size(t->nframes, t->nslots));
	return 0;
}

/* Consecutive positions of a permutation are distinct, so one call never
 * names a frame or a slot twice. @evict: the unmap is an evictor's, whose
 * thread holds the pages (it alone touches them). */
static int batch_run(struct wl_thread *t, bool evict)
{
	int rc;

	for (size_t i = 0; i < t->batch; i++) {
		t->fr[i] = t->frames[t->fperm[next(&t->fpos, t->nf)]];
		t->addrs[i] = t->win + (size_t)t->sperm[next(&t->spos, t->ns)] * PG;
	}
	rc = t->c->map(t->st, t->addrs, t->fr, t->batch);
	if (rc)
		return rc;
	for (size_t i = 0; i < t->batch; i++)
		touch(t->addrs[i]);
	t->calls += 2;
	t->pages += t->batch;
	if (evict)
		return contender_evict(t->c, t->st, t->addrs, t->batch);
	return t->c->unmap(t->st, t->addrs, t->batch);
}

static int batch_op(struct wl_thread *t)
{
	return batch_run(t, false);
}

/* ---- evict64: batch64 whose unmap is an evictor's ----------------------------- */

static int evict_op(struct wl_thread *t)
{
	return batch_run(t, true);
}

/* ---- sweep: 512 consecutive frames at 512 consecutive slots --------------- */

static int sweep_prepare(struct wl_thread *t)
{
	t->run = min_size(BENCH_SWEEP_PAGES, min_size(t->nframes, t->nslots));
	perms(t, t->nframes / t->run, t->nslots / t->run);
	return 0;
}

static int sweep_op(struct wl_thread *t)
{
	uint64_t *f = t->frames + (size_t)t->fperm[next(&t->fpos, t->nf)] * t->run;
	char *a = t->win + (size_t)t->sperm[next(&t->spos, t->ns)] * t->run * PG;
	int rc = t->c->map_range(t->st, a, f, t->run);

	if (rc)
		return rc;
	for (size_t i = 0; i < t->run; i++)
		touch(a + i * PG);
	t->calls += 2;
	t->pages += t->run;
	return t->c->unmap_range(t->st, a, t->run);
}

/* ---- replace: map a spare frame over a mapped slot -------------------------- */

/*
 * A band of mapped slots, each replacement leaving the old frame spare. The
 * band is kept small enough that the memfd remapper, whose every replaced
 * slot becomes a mapping of its own, stays under vm.max_map_count; the
 * mapping-count run shows what happens past it.
 */
static int replace_prepare(struct wl_thread *t)
{
	long budget = opts.max_map_count > 0 ? opts.max_map_count / 2 : 32765;
	int rc;

	t->band = min_size(t->nframes / 2, t->nslots);
	t->band = min_size(t->band, (size_t)budget / t->nwindows);
	if (!t->band)
		t->band = 1;
	t->nspare = t->nframes - t->band;
	t->slot_frame = xcalloc(t->band, sizeof(*t->slot_frame));
	t->spare = xcalloc(t->nspare, sizeof(*t->spare));
	for (size_t i = 0; i < t->band; i++)
		t->slot_frame[i] = (uint32_t)i;
	for (size_t i = 0; i < t->nspare; i++)
		t->spare[i] = (uint32_t)(t->band + i);
	shuffle(t->spare, t->nspare, &t->seed);
	perms(t, 0, t->band);
	rc = t->c->map_range(t->st, t->win, t->frames, t->band);
	for (size_t i = 0; !rc && i < t->band; i++)
		touch(t->win + i * PG);
	return rc;
}

static int replace_op(struct wl_thread *t)
{
	size_t s = t->sperm[next(&t->spos, t->ns)];
	uint32_t *spare = &t->spare[next(&t->spare_pos, t->nspare)];
	void *a = t->win + s * PG;
	uint32_t old = t->slot_frame[s];
	int rc = t->c->map(t->st, &a, &t->frames[*spare], 1);

	if (rc)
		return rc;
	touch(a);
	t->slot_frame[s] = *spare;
	*spare = old;
	t->calls++;
	t->pages++;
	return 0;
}

static int replace_finish(struct wl_thread *t)
{
	return t->c->unmap_range(t->st, t->win, t->band);
}

/* ---- alloc: allocate frames and free them again ----------------------------- */

static int alloc_prepare(struct wl_thread *t)
{
	t->achunk = min_size(t->nframes, BENCH_ALLOC_CHUNK);
	t->abuf = xcalloc(t->achunk, sizeof(*t->abuf));
	return 0;
}

static int alloc_op(struct wl_thread *t)
{
	int rc = t->c->alloc(t->st, t->abuf, t->achunk);

	if (rc)
		return rc;
	t->calls += 2;
	t->pages += t->achunk;
	return t->c->free(t->st, t->abuf, t->achunk);
}

static const struct workload wl_scatter = {
	.name = "scatter",
	.what = "random single-page map, touch, unmap (2 calls per page)",
	.prepare = scatter_prepare,
	.op = scatter_op,
};

static const struct workload wl_sweep = {
	.name = "sweep",
	.what = "map 512 consecutive frames at 512 consecutive slots, touch each, unmap the range",
	.prepare = sweep_prepare,
	.op = sweep_op,
};

static const struct workload wl_batch = {
	.name = "batch64",
	.what = "random scatter in calls of 64 pages: map, touch each, unmap",
	.prepare = batch_prepare,
	.op = batch_op,
};

/* The same sequence of frames and slots as batch64 (the seed is batch64's),
 * so the two differ only by the unmap. */
static const struct workload wl_evict = {
	.name = "evict64",
	.what = "batch64 whose unmap is an evictor's: awe_unmap_scatter(AWE_UNMAP_EXCLUSIVE) for "
		"awe, the ordinary unmap for the others",
	.seed = "batch64",
	.prepare = batch_prepare,
	.op = evict_op,
};

static const struct workload wl_replace = {
	.name = "replace",
	.what = "map a spare frame over a random mapped slot, touch (1 call per page)",
	.prepare = replace_prepare,
	.op = replace_op,
	.finish = replace_finish,
};

static const struct workload wl_alloc = {
	.name = "alloc",
	.what = "allocate up to 16384 frames in one call, free them in one call",
	.needs_alloc = true,
	.prepare = alloc_prepare,
	.op = alloc_op,
};

const struct workload *const workloads[] = {&wl_scatter, &wl_sweep,   &wl_batch,
					    &wl_evict,	 &wl_replace, &wl_alloc};
const size_t nworkloads = ARRAY_SIZE(workloads);

/* ---- The runner --------------------------------------------------------------- */

/* Not inlined: GCC 12 with -fsanitize=address reports a bogus
 * -Wstringop-overflow on the atomic load once it is inlined into worker(). */
static __attribute__((noinline)) bool failed(struct run_ctl *ctl)
{
	return atomic_load_explicit(&ctl->failed, memory_order_relaxed) != 0;
}

static void note_failure(struct run_ctl *ctl, int rc)
{
	int none = 0;

	if (atomic_compare_exchange_strong(&ctl->failed, &none, rc ? rc : -EIO))
		snprintf(ctl->msg, sizeof(ctl->msg), "%s", bench_errmsg());
}

static uint64_t thread_faults(void)
{
	struct rusage ru;

	if (getrusage(RUSAGE_THREAD, &ru) != 0)
		return 0;
	return (uint64_t)ru.ru_minflt + (uint64_t)ru.ru_majflt;
}

/* A barrier wait that ignores PTHREAD_BARRIER_SERIAL_THREAD. */
static void sync_all(struct run_ctl *ctl)
{
	pthread_barrier_wait(&ctl->bar);
}

/* Thread 0 decides for everybody, between two barriers, so that all threads
 * take the same branch: a thread that failed still shows up at each wait. */
static void warm_up(struct wl_thread *t)
{
	struct run_ctl *ctl = t->ctl;
	uint64_t t0 = now_ns(), el = 0;
	size_t n = 0;
	int rc;

	while (!failed(ctl) && el < opts.warm_ns) {
		rc = ctl->w->op(t);
		if (rc)
			note_failure(ctl, rc);
		n++;
		el = now_ns() - t0;
	}
	if (t->id == 0) {
		double per_op = n ? (double)el / (double)n : opts.rep_ns;
		double ops = opts.rep_ns / (per_op > 1 ? per_op : 1);

		ctl->ops = ops < 1 ? 1 : ops > 1e7 ? 10000000 : (size_t)ops;
	}
}

static void *worker(void *arg)
{
	struct wl_thread *t = arg;
	struct run_ctl *ctl = t->ctl;
	uint64_t sys0, flt0, calls0, pages0, p0, cpu0;
	int rc;

	if (t->id)
		pin_thread(t->id);
	rc = ctl->w->prepare ? ctl->w->prepare(t) : 0;
	if (rc)
		note_failure(ctl, rc);
	sync_all(ctl);
	warm_up(t);
	sync_all(ctl);
	sys0 = bench_syscalls;
	flt0 = thread_faults();
	calls0 = t->calls;
	pages0 = t->pages;
	for (unsigned int rep = 0; rep < ctl->reps; rep++) {
		sync_all(ctl);
		if (t->id == 0) {
			ctl->go = !failed(ctl);
			ctl->start = now_ns();
		}
		sync_all(ctl);
		if (!ctl->go)
			break;
		p0 = t->pages;
		cpu0 = thread_cpu_ns();
		for (size_t i = 0; i < ctl->ops && !failed(ctl); i++) {
			rc = ctl->w->op(t);
			if (rc)
				note_failure(ctl, rc);
		}
		atomic_fetch_add_explicit(&ctl->cpu_ns[rep], thread_cpu_ns() - cpu0,
					  memory_order_relaxed);
		atomic_fetch_add_explicit(&ctl->cpu_pages[rep], t->pages - p0,
					  memory_order_relaxed);
		sync_all(ctl);
		if (t->id == 0) {
			uint64_t el = now_ns() - ctl->start;

			ctl->elapsed += el;
			ctl->rep_ns[rep] = t->pages > p0 ? (double)el / (double)(t->pages - p0) : 0;
		}
	}
	t->t_sys = bench_syscalls - sys0;
	t->t_flt = thread_faults() - flt0;
	t->t_calls = t->calls - calls0;
	t->t_pages = t->pages - pages0;
	if (ctl->w->finish && !failed(ctl)) {
		rc = ctl->w->finish(t);
		if (rc)
			note_failure(ctl, rc);
	}
	return NULL;
}

struct busy {
	pthread_t tid;
	atomic_bool stop;
	volatile uint64_t count;
};

/* Another thread of the process running on another CPU: every change to a
 * present page-table entry now needs a cross-CPU TLB shootdown. */
static void *spin(void *arg)
{
	struct busy *b = arg;

	pin_thread(1);
	while (!atomic_load_explicit(&b->stop, memory_order_relaxed))
		b->count++;
	return NULL;
}

static void free_thread(struct wl_thread *t)
{
	free(t->fperm);
	free(t->sperm);
	free(t->slot_frame);
	free(t->spare);
	free(t->abuf);
}

void result_merge(struct result *into, const struct result *from)
{
	double secs = into->pages_s > 0 ? (double)into->pages / into->pages_s : 0;

	if (from->status != ST_OK) {
		into->status = from->status;
		memcpy(into->msg, from->msg, sizeof(into->msg));
		return;
	}
	for (unsigned int i = 0; i < from->nreps && into->nreps < BENCH_MAX_REPS; i++) {
		into->rep[into->nreps] = from->rep[i];
		into->rep_cpu[into->nreps++] = from->rep_cpu[i];
	}
	into->ns_page = median(into->rep, into->nreps);
	into->cpu_page = median(into->rep_cpu, into->nreps);
	if (from->pages_s > 0)
		secs += (double)from->pages / from->pages_s;
	into->calls += from->calls;
	into->sys += from->sys;
	into->pages += from->pages;
	into->faults += from->faults;
	into->pages_s = secs > 0 ? (double)into->pages / secs : 0;
	if (from->pte_kb > into->pte_kb)
		into->pte_kb = from->pte_kb;
	for (unsigned int i = 0; i < from->nrounds && into->nrounds < BENCH_MAX_ROUNDS; i++) {
		into->round_ns[into->nrounds] = from->round_ns[i];
		into->round_cpu[into->nrounds++] = from->round_cpu[i];
	}
}

static void summarise(struct run_ctl *ctl, struct wl_thread *th, unsigned int n, struct result *r)
{
	unsigned int k = 0;

	for (unsigned int i = 0; i < n; i++) {
		r->calls += th[i].t_calls;
		r->sys += th[i].t_sys;
		r->pages += th[i].t_pages;
		r->faults += th[i].t_flt;
	}
	/* The threads are joined: relaxed loads see every addition. */
	for (unsigned int i = 0; i < ctl->reps; i++) {
		uint64_t pages = atomic_load_explicit(&ctl->cpu_pages[i], memory_order_relaxed);

		if (ctl->rep_ns[i] > 0 && pages) {
			r->rep[k] = ctl->rep_ns[i];
			r->rep_cpu[k++] = (double)atomic_load_explicit(&ctl->cpu_ns[i],
								       memory_order_relaxed) /
					  (double)pages;
		}
	}
	r->nreps = k;
	r->ns_page = median(r->rep, k);
	r->cpu_page = median(r->rep_cpu, k);
	r->round_ns[0] = r->ns_page;
	r->round_cpu[0] = r->cpu_page;
	r->nrounds = 1;
	if (ctl->elapsed)
		r->pages_s = (double)r->pages * 1e9 / (double)ctl->elapsed;
}

/* FNV-1a: a seed per workload, the same for every contender. */
static uint64_t name_hash(const char *s)
{
	uint64_t h = 0xcbf29ce484222325ull;

	while (*s)
		h = (h ^ (unsigned char)*s++) * 0x100000001b3ull;
	return h;
}

void run_case(const struct bench_target *tg, const struct workload *w, enum mode mode,
	      unsigned int nthreads, struct result *r)
{
	static struct wl_thread th[BENCH_MAX_THREADS];
	pthread_t tids[BENCH_MAX_THREADS];
	struct run_ctl ctl = {.w = w, .reps = opts.reps};
	struct busy busy = {0};
	struct proc_mem m0, m1;
	size_t per = tg->nframes / nthreads;
	int rc;

	r->status = ST_OK;
	if (w->needs_alloc && !tg->c->alloc) {
		r->status = ST_SKIP;
		snprintf(r->msg, sizeof(r->msg),
			 "n/a: its frames are plain memory (raw's alloc is that)");
		return;
	}
	pthread_barrier_init(&ctl.bar, NULL, nthreads);
	for (unsigned int i = 0; i < nthreads; i++)
		th[i] = (struct wl_thread){
			.ctl = &ctl,
			.c = tg->c,
			.st = tg->st,
			.id = i,
			.nwindows = tg->nwindows,
			.win = tg->bases[i],
			.nslots = tg->window_pages,
			.frames = tg->handles + i * per,
			.nframes = per,
			.seed = 0x243f6a8885a308d3ull * (i + 1) ^
				name_hash(w->seed ? w->seed : w->name),
		};
	read_proc_mem(&m0);
	if (mode == MODE_BUSY) {
		rc = pthread_create(&busy.tid, NULL, spin, &busy);
		if (rc) {
			r->status = ST_ERROR;
			snprintf(r->msg, sizeof(r->msg), "pthread_create: %s", strerror(rc));
			pthread_barrier_destroy(&ctl.bar);
			return;
		}
	}
	for (unsigned int i = 1; i < nthreads; i++) {
		rc = pthread_create(&tids[i], NULL, worker, &th[i]);
		if (rc) {
			fprintf(stderr, "awe-bench: pthread_create: %s\n", strerror(rc));
			exit(1); /* the barrier would never open */
		}
	}
	worker(&th[0]);
	for (unsigned int i = 1; i < nthreads; i++)
		pthread_join(tids[i], NULL);
	if (mode == MODE_BUSY) {
		atomic_store(&busy.stop, true);
		pthread_join(busy.tid, NULL);
	}
	read_proc_mem(&m1);
	r->pte_kb = m1.pte_kb - m0.pte_kb;
	summarise(&ctl, th, nthreads, r);
	rc = atomic_load(&ctl.failed);
	if (rc) {
		r->status = rc == -ENOMEM && (tg->c->flags & C_VMA_LIMITED) ? ST_LIMIT : ST_ERROR;
		snprintf(r->msg, sizeof(r->msg), "%s", ctl.msg);
	}
	for (unsigned int i = 0; i < nthreads; i++)
		free_thread(&th[i]);
	pthread_barrier_destroy(&ctl.bar);
}
