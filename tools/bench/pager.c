// SPDX-License-Identifier: MIT
/*
 * The pager run: a user-mode pager, the way AWE is used. A virtual space of
 * 4x as many pages as there are frames; faulting threads touch random pages
 * of it, and a touch of an unmapped page is caught as the access violation
 * (SIGBUS with libawe's default engine, SIGSEGV with its memfd engine and the
 * memfd remapper), whose handler maps a frame there: from a free list, or,
 * when that is empty, one it takes back from the oldest mapped pages itself.
 * A trimmer thread keeps the free list topped up, unmapping the oldest mapped
 * pages in batches of 64 with one scatter call each: the evictor's unmap
 * (contender_evict(): AWE_UNMAP_EXCLUSIVE for libawe).
 *
 * The latches that make the evictor's promise true, one 32-bit word a page:
 *
 *   bits 0-29  PIN      touching threads hold a pin around every access
 *   bit 30     MAPPING  a thread is mapping the page (its access faults in)
 *   bit 31     EXCL     an evictor holds the page: no pin, no access
 *
 * A toucher pins with a CAS that fails while EXCL is set (it waits for the
 * evictor, then faults the page back in); an evictor takes EXCL with a CAS
 * from 0, so only when nobody pins the page, and skips pages it cannot take.
 * A page cannot be unmapped under a pin, so no other thread reads or writes
 * a page while it is being unmapped: what AWE_UNMAP_EXCLUSIVE asks. A
 * toucher that finds its page unmapped (no tag published) takes MAPPING,
 * or waits for the thread that has it and finds the page mapped, and only
 * then touches it: its access faults, and its own handler maps the page.
 * So no thread reads a page while another maps it either. What a handler
 * does is async-signal-safe in practice: atomics, a spinlock that nobody
 * holds while touching a page, system calls.
 *
 * The data is checked, so that a pager bug or a lost frame is a failure, not
 * a number. Word 0 of a page is its tag (page number and a generation,
 * bumped at every map), written when it is mapped; word 1 counts the
 * touches, which are also counted aside. A touch checks the tag; an eviction
 * checks both words and records them as the frame's contents; the next map
 * of that frame, anywhere, checks that it still holds them (a fresh frame
 * holds zeros); at the end every mapped page is checked and every frame
 * must be mapped once or free.
 *
 * Unlike the other extra runs it runs in the benchmark's own process, its
 * signal handlers installed for the run only: libawe's lock, inherited
 * locked through fork() and set up anew in the child, is one that
 * ThreadSanitizer (./dev test runs awe-bench --quick under it) takes for
 * still locked once the child's threads contend for it.
 */
#include <errno.h>
#include <pthread.h>
#include <sched.h>
#include <semaphore.h>
#include <signal.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "bench.h"

#define PG (opts.page)

#define MAPPING (1u << 30)
#define EXCL (1u << 31)

#define NO_FRAME UINT32_MAX
#define NO_PAGE UINT32_MAX
#define NO_TAG UINT64_MAX /* no page holds it: the page is not mapped */

struct pg_page {
	_Atomic uint32_t latch;
	uint32_t frame; /* NO_FRAME when unmapped; changed under MAPPING or EXCL */
	uint32_t gen;
	_Atomic uint64_t expect; /* the tag word 0 holds, NO_TAG when unmapped */
	_Atomic uint64_t count;	 /* touches since it was mapped */
};

/* What a frame held when it was unmapped. */
struct pg_saved {
	uint64_t tag, count;
};

/* A faulting thread's counters, read by the main thread while it runs. */
struct pg_counts {
	_Atomic uint64_t touches, faults, direct, waits;
};

struct pg_thread {
	_Alignas(64) struct pg_counts n;
	pthread_t tid;
	unsigned int id;
	uint64_t rng;
	uint32_t mapping; /* the page whose MAPPING it holds, for its handler */
};

struct pager {
	const struct contender *c;
	void *st;
	uint64_t *handles;
	char *bases[PAGER_WINDOWS];
	size_t nframes, npages, wpages; /* wpages: slots per window */
	struct pg_page *pages;
	struct pg_saved *saved;

	atomic_flag lock; /* the free list and the age queue */
	uint32_t *free;
	size_t nfree, low, high;
	uint32_t *queue; /* mapped pages, oldest first (a ring of nframes) */
	size_t qhead, qlen;

	sem_t wake; /* the trimmer's */
	atomic_bool wake_posted, stop;
	_Atomic uint64_t evicted, batches;
	atomic_bool failed;
	char msg[140]; /* and "data check: " makes a struct pager_run's */
};

static struct pager *cur;	      /* for the handler */
static __thread struct pg_thread *me; /* the faulting thread's, for the handler */

static void relax(unsigned int *spins)
{
	if (++*spins >= 64)
		sched_yield(); /* the holder may be waiting for this CPU */
#if defined(__x86_64__) || defined(__i386__)
	else
		__builtin_ia32_pause();
#endif
}

static void lock(struct pager *pg)
{
	unsigned int spins = 0;

	while (atomic_flag_test_and_set_explicit(&pg->lock, memory_order_acquire))
		relax(&spins);
}

static void unlock(struct pager *pg)
{
	atomic_flag_clear_explicit(&pg->lock, memory_order_release);
}

static void bump(_Atomic uint64_t *n, uint64_t by)
{
	atomic_store_explicit(n, atomic_load_explicit(n, memory_order_relaxed) + by,
			      memory_order_relaxed);
}

/* The first failure is the one reported; the run goes on. */
static void pager_fail(struct pager *pg, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
static void pager_fail(struct pager *pg, const char *fmt, ...)
{
	va_list ap;

	if (atomic_exchange(&pg->failed, true))
		return;
	va_start(ap, fmt);
	vsnprintf(pg->msg, sizeof(pg->msg), fmt, ap);
	va_end(ap);
}

/* A map or unmap that fails leaves a faulting access to fault for ever:
 * awe-bench ends, with the reason. */
static void fatal(const char *what)
{
	char buf[300];
	int n = snprintf(buf, sizeof(buf), "awe-bench: pager: %s: %s\n", what, bench_errmsg());

	if (write(STDERR_FILENO, buf, (size_t)n) < 0) {
		/* nowhere left to say it */
	}
	_exit(3);
}

static _Atomic uint64_t *word(struct pager *pg, uint32_t p)
{
	return (_Atomic uint64_t *)(pg->bases[p / pg->wpages] + (size_t)(p % pg->wpages) * PG);
}

static uint64_t tag_of(uint32_t p, uint32_t gen)
{
	return (uint64_t)(p + 1) << 32 | gen;
}

/* ---- Latches ---------------------------------------------------------------- */

/* Waits while any of @busy is set, then adds @add to the latch; returns
 * whether it had to wait. */
static bool latch_add(struct pg_page *pp, uint32_t busy, uint32_t add)
{
	uint32_t v = atomic_load_explicit(&pp->latch, memory_order_relaxed);
	unsigned int spins = 0;

	for (;;) {
		if (v & busy) {
			relax(&spins);
			v = atomic_load_explicit(&pp->latch, memory_order_relaxed);
		} else if (atomic_compare_exchange_weak_explicit(&pp->latch, &v, v + add,
								 memory_order_acquire,
								 memory_order_relaxed)) {
			return spins != 0;
		}
	}
}

/* An evictor holds it: wait, then fault it back in. */
static void pin(struct pg_page *pp, struct pg_thread *t)
{
	if (latch_add(pp, EXCL, 1))
		bump(&t->n.waits, 1);
}

static void unpin(struct pg_page *pp)
{
	atomic_fetch_sub_explicit(&pp->latch, 1, memory_order_release);
}

/* ---- The age queue and the evictor ------------------------------------------ */

static void queue_push(struct pager *pg, uint32_t p)
{
	pg->queue[(pg->qhead + pg->qlen++) % pg->nframes] = p;
}

static uint32_t queue_pop(struct pager *pg)
{
	uint32_t p = pg->queue[pg->qhead];

	pg->qhead = (pg->qhead + 1) % pg->nframes;
	pg->qlen--;
	return p;
}

/*
 * Unmaps up to @max (<= BENCH_BATCH) of the oldest mapped pages that nobody
 * pins, in one call, and stores their frames in @out; returns how many. A
 * pinned page goes to the back of the queue: it is in use.
 */
static size_t evict(struct pager *pg, size_t max, uint32_t *out)
{
	uint32_t pages[BENCH_BATCH];
	void *addrs[BENCH_BATCH];
	size_t n = 0;

	lock(pg);
	for (size_t tries = pg->qlen; n < max && tries; tries--) {
		uint32_t p = queue_pop(pg), zero = 0;

		if (atomic_compare_exchange_strong_explicit(&pg->pages[p].latch, &zero, EXCL,
							    memory_order_acquire,
							    memory_order_relaxed))
			pages[n++] = p;
		else
			queue_push(pg, p);
	}
	unlock(pg);
	for (size_t i = 0; i < n; i++) {
		struct pg_page *pp = &pg->pages[pages[i]];
		_Atomic uint64_t *w = word(pg, pages[i]);
		struct pg_saved *s = &pg->saved[pp->frame];

		s->tag = atomic_load_explicit(&w[0], memory_order_relaxed);
		s->count = atomic_load_explicit(&w[1], memory_order_relaxed);
		if (s->tag != atomic_load_explicit(&pp->expect, memory_order_relaxed) ||
		    s->count != atomic_load_explicit(&pp->count, memory_order_relaxed))
			pager_fail(
				pg,
				"page %u holds tag %#llx after %llu touches, not %#llx after %llu",
				pages[i], (unsigned long long)s->tag, (unsigned long long)s->count,
				(unsigned long long)atomic_load(&pp->expect),
				(unsigned long long)atomic_load(&pp->count));
		atomic_store_explicit(&pp->expect, NO_TAG, memory_order_relaxed);
		addrs[i] = w;
	}
	if (n && contender_evict(pg->c, pg->st, addrs, n))
		fatal("the evictor's unmap failed");
	for (size_t i = 0; i < n; i++) {
		struct pg_page *pp = &pg->pages[pages[i]];

		out[i] = pp->frame;
		pp->frame = NO_FRAME;
		atomic_store_explicit(&pp->latch, 0, memory_order_release);
	}
	return n;
}

/* A frame from the free list, else one taken back from the oldest pages. */
static uint32_t take_frame(struct pager *pg, struct pg_thread *t)
{
	unsigned int spins = 0;
	uint32_t f;

	for (;;) {
		lock(pg);
		if (pg->nfree) {
			bool low = --pg->nfree < pg->low;

			f = pg->free[pg->nfree];
			unlock(pg);
			if (low && !atomic_exchange(&pg->wake_posted, true))
				sem_post(&pg->wake); /* async-signal-safe */
			return f;
		}
		unlock(pg);
		if (evict(pg, 1, &f)) {
			bump(&t->n.direct, 1);
			return f;
		}
		relax(&spins);
	}
}

/* ---- Faults ------------------------------------------------------------------- */

/* The handler's work, for the thread that holds @p's MAPPING (and a pin):
 * a frame, mapped at @p, checked, stamped with the page's new tag. */
static void map_page(struct pager *pg, struct pg_thread *t, uint32_t p)
{
	struct pg_page *pp = &pg->pages[p];
	uint32_t f = take_frame(pg, t);
	_Atomic uint64_t *w = word(pg, p);
	void *a = (void *)w;
	uint64_t tag, got0, got1;

	if (pg->c->map(pg->st, &a, &pg->handles[f], 1))
		fatal("the fault handler's map failed");
	got0 = atomic_load_explicit(&w[0], memory_order_relaxed);
	got1 = atomic_load_explicit(&w[1], memory_order_relaxed);
	if (got0 != pg->saved[f].tag || got1 != pg->saved[f].count)
		pager_fail(pg, "frame %u came back holding %#llx/%llu, not %#llx/%llu", f,
			   (unsigned long long)got0, (unsigned long long)got1,
			   (unsigned long long)pg->saved[f].tag,
			   (unsigned long long)pg->saved[f].count);
	tag = tag_of(p, ++pp->gen);
	atomic_store_explicit(&w[1], 0, memory_order_relaxed);
	atomic_store_explicit(&w[0], tag, memory_order_relaxed);
	atomic_store_explicit(&pp->count, 0, memory_order_relaxed);
	pp->frame = f;
	/* Published: a toucher that sees it may read the page. */
	atomic_store_explicit(&pp->expect, tag, memory_order_release);
	lock(pg);
	queue_push(pg, p);
	unlock(pg);
	bump(&t->n.faults, 1);
}

static long page_of(struct pager *pg, const char *addr)
{
	for (size_t w = 0; w < PAGER_WINDOWS; w++)
		if (addr >= pg->bases[w] && addr < pg->bases[w] + pg->wpages * PG)
			return (long)(w * pg->wpages + (size_t)(addr - pg->bases[w]) / PG);
	return -1;
}

static void on_fault(int sig, siginfo_t *si, void *uc)
{
	struct pager *pg = cur;
	long p = pg && me ? page_of(pg, si->si_addr) : -1;
	int saved = errno;

	(void)uc;
	/* Not the page this thread is mapping: a real crash, by the default
	 * action when the access is tried again. */
	if (p < 0 || (uint32_t)p != me->mapping) {
		signal(sig, SIG_DFL);
		return;
	}
	map_page(pg, me, (uint32_t)p);
	errno = saved;
}

/* ---- The threads -------------------------------------------------------------- */

/*
 * One touch: pin, read and check the tag, count the touch, unpin. A page
 * that is not mapped (no tag published) gets a mapper first: the toucher
 * takes its MAPPING latch (or waits for the thread that holds it, which maps
 * it), and its access then faults, so that its handler maps the page. Every
 * access is thus ordered after the map that made the page: no thread reads a
 * page while another maps it.
 */
static void touch(struct pager *pg, struct pg_thread *t, uint32_t p)
{
	struct pg_page *pp = &pg->pages[p];
	_Atomic uint64_t *w = word(pg, p);
	uint64_t e, v;
	bool mapper = false;

	pin(pp, t);
	e = atomic_load_explicit(&pp->expect, memory_order_acquire);
	if (e == NO_TAG) {
		latch_add(pp, MAPPING, MAPPING);
		e = atomic_load_explicit(&pp->expect, memory_order_acquire);
		mapper = e == NO_TAG;
		if (!mapper)
			atomic_fetch_and_explicit(&pp->latch, ~MAPPING, memory_order_release);
	}
	t->mapping = mapper ? p : NO_PAGE;
	v = atomic_load_explicit(&w[0], memory_order_relaxed); /* a mapper's faults */
	if (mapper) {
		t->mapping = NO_PAGE;
		e = atomic_load_explicit(&pp->expect, memory_order_relaxed);
		atomic_fetch_and_explicit(&pp->latch, ~MAPPING, memory_order_release);
	}
	if (v != e)
		pager_fail(pg, "page %u holds tag %#llx, not %#llx", p, (unsigned long long)v,
			   (unsigned long long)e);
	atomic_fetch_add_explicit(&w[1], 1, memory_order_relaxed);
	atomic_fetch_add_explicit(&pp->count, 1, memory_order_relaxed);
	unpin(pp);
	bump(&t->n.touches, 1);
}

static void *faulter(void *arg)
{
	struct pg_thread *t = arg;
	struct pager *pg = cur;

	pin_thread(t->id);
	me = t;
	while (!atomic_load_explicit(&pg->stop, memory_order_relaxed))
		touch(pg, t, (uint32_t)(rng_next(&t->rng) % pg->npages));
	me = NULL;
	return NULL;
}

static size_t nfree_now(struct pager *pg)
{
	size_t n;

	lock(pg);
	n = pg->nfree;
	unlock(pg);
	return n;
}

/* Sleeps until the free list runs low, then evicts in batches until it is
 * high again. */
static void *trimmer(void *arg)
{
	struct pager *pg = arg;
	uint32_t frames[BENCH_BATCH];
	unsigned int spins = 0;

	pin_any();
	while (!atomic_load(&pg->stop)) {
		while (sem_wait(&pg->wake) != 0 && errno == EINTR)
			;
		atomic_store(&pg->wake_posted, false);
		while (!atomic_load(&pg->stop) && nfree_now(pg) < pg->high) {
			size_t n = evict(pg, BENCH_BATCH, frames);

			if (!n) {
				relax(&spins); /* every old page pinned: rare */
				continue;
			}
			lock(pg);
			memcpy(pg->free + pg->nfree, frames, n * sizeof(*frames));
			pg->nfree += n;
			unlock(pg);
			bump(&pg->evicted, n);
			bump(&pg->batches, 1);
		}
	}
	return NULL;
}

/* ---- The run ------------------------------------------------------------------ */

/* Every mapped page holds its tag and count, and every frame is mapped once
 * or free. */
static void check_all(struct pager *pg)
{
	uint8_t *seen = xcalloc(pg->nframes, 1);
	size_t mapped = 0;

	for (uint32_t p = 0; p < pg->npages; p++) {
		struct pg_page *pp = &pg->pages[p];
		_Atomic uint64_t *w = word(pg, p);

		if (pp->frame == NO_FRAME)
			continue;
		mapped++;
		seen[pp->frame]++;
		if (atomic_load(&w[0]) != atomic_load(&pp->expect) ||
		    atomic_load(&w[1]) != atomic_load(&pp->count))
			pager_fail(pg, "at the end, page %u holds %#llx/%llu, not %#llx/%llu", p,
				   (unsigned long long)atomic_load(&w[0]),
				   (unsigned long long)atomic_load(&w[1]),
				   (unsigned long long)atomic_load(&pp->expect),
				   (unsigned long long)atomic_load(&pp->count));
	}
	for (size_t i = 0; i < pg->nfree; i++)
		seen[pg->free[i]]++;
	for (size_t f = 0; f < pg->nframes; f++)
		if (seen[f] != 1)
			pager_fail(pg, "frame %zu is %s", f, seen[f] ? "in two places" : "lost");
	if (mapped + pg->nfree != pg->nframes)
		pager_fail(pg, "%zu pages mapped and %zu frames free, of %zu", mapped, pg->nfree,
			   pg->nframes);
	free(seen);
}

/* The counters so far, of every thread. */
static void snap(struct pager *pg, const struct pg_thread *th, unsigned int n, struct pager_run *s)
{
	*s = (struct pager_run){
		.evicted = atomic_load_explicit(&pg->evicted, memory_order_relaxed),
		.batches = atomic_load_explicit(&pg->batches, memory_order_relaxed),
	};
	for (unsigned int i = 0; i < n; i++) {
		s->touches += atomic_load_explicit(&th[i].n.touches, memory_order_relaxed);
		s->faults += atomic_load_explicit(&th[i].n.faults, memory_order_relaxed);
		s->direct += atomic_load_explicit(&th[i].n.direct, memory_order_relaxed);
		s->waits += atomic_load_explicit(&th[i].n.waits, memory_order_relaxed);
	}
}

static int pager_setup(struct pager *pg, const struct contender *c, size_t frames)
{
	struct setup_args a = {
		.frames = frames,
		.windows = PAGER_WINDOWS,
		.window_pages = PAGER_SPACE * frames / PAGER_WINDOWS,
		.handles = xcalloc(frames, sizeof(uint64_t)),
		.bases = pg->bases,
	};

	*pg = (struct pager){.c = c, .handles = a.handles, .nframes = frames};
	pg->npages = PAGER_SPACE * frames;
	pg->wpages = a.window_pages;
	pg->pages = xcalloc(pg->npages, sizeof(*pg->pages));
	pg->saved = xcalloc(frames, sizeof(*pg->saved));
	pg->free = xcalloc(frames, sizeof(*pg->free));
	pg->queue = xcalloc(frames, sizeof(*pg->queue));
	for (size_t p = 0; p < pg->npages; p++) {
		pg->pages[p].frame = NO_FRAME;
		atomic_init(&pg->pages[p].expect, NO_TAG);
	}
	/* Taken from the end: frame 0 first. */
	for (size_t f = 0; f < frames; f++)
		pg->free[f] = (uint32_t)(frames - 1 - f);
	pg->nfree = frames;
	/* The trimmer wakes below low free frames and evicts up to high: a
	 * few batches, and never most of the frames. */
	pg->low = frames / 32 > 2 * BENCH_BATCH ? frames / 32 : 2 * BENCH_BATCH;
	pg->low = pg->low < frames / 4 ? pg->low : frames / 4;
	pg->high = 2 * pg->low;
	atomic_flag_clear(&pg->lock);
	sem_init(&pg->wake, 0, 0);
	return c->setup(&pg->st, &a);
}

static void pager_teardown(struct pager *pg)
{
	if (pg->st)
		pg->c->teardown(pg->st);
	sem_destroy(&pg->wake);
	free(pg->handles);
	free(pg->pages);
	free(pg->saved);
	free(pg->free);
	free(pg->queue);
}

/* Until every frame has been used once, the free list is not the steady
 * state: faults then need no eviction. */
static void warm_up(struct pager *pg, const struct pg_thread *th, unsigned int n)
{
	uint64_t t0 = now_ns();
	struct pager_run s;

	do {
		usleep(1000);
		snap(pg, th, n, &s);
	} while (s.faults < pg->nframes && now_ns() - t0 < 2000000000u &&
		 !atomic_load(&pg->failed));
}

static void start(pthread_t *tid, void *(*fn)(void *), void *arg)
{
	int rc = pthread_create(tid, NULL, fn, arg);

	if (rc) {
		bench_err(-rc, "pthread_create: %s", strerror(rc));
		fatal("starting a thread failed");
	}
}

void run_pager(const struct contender *c, size_t frames, unsigned int nthreads, double ns,
	       struct pager_run *out)
{
	static struct pg_thread th[PAGER_MAX_THREADS];
	struct sigaction sa = {.sa_sigaction = on_fault, .sa_flags = SA_SIGINFO}, old[2];
	struct pager pg;
	pthread_t trim;
	struct pager_run s0, s1;
	uint64_t t0, t1;

	*out = (struct pager_run){.status = ST_OK};
	if (pager_setup(&pg, c, frames)) {
		out->status = ST_ERROR;
		snprintf(out->msg, sizeof(out->msg), "setup: %s", bench_errmsg());
		pager_teardown(&pg);
		return;
	}
	cur = &pg;
	sigemptyset(&sa.sa_mask);
	sigaction(SIGBUS, &sa, &old[0]);
	sigaction(SIGSEGV, &sa, &old[1]);
	start(&trim, trimmer, &pg);
	for (unsigned int i = 0; i < nthreads; i++) {
		/* Not a multiple of rng_next()'s increment: streams that are
		 * the same but one step apart would touch what the other just
		 * mapped. */
		th[i] = (struct pg_thread){.id = i, .rng = 0x243f6a8885a308d3ull * (i + 1)};
		start(&th[i].tid, faulter, &th[i]);
	}
	warm_up(&pg, th, nthreads);
	t0 = now_ns();
	snap(&pg, th, nthreads, &s0);
	usleep((useconds_t)(ns / 1000));
	snap(&pg, th, nthreads, &s1);
	t1 = now_ns();
	atomic_store(&pg.stop, true);
	sem_post(&pg.wake);
	for (unsigned int i = 0; i < nthreads; i++)
		pthread_join(th[i].tid, NULL);
	pthread_join(trim, NULL);
	check_all(&pg);

	out->secs = (double)(t1 - t0) / 1e9;
	out->touches = s1.touches - s0.touches;
	out->faults = s1.faults - s0.faults;
	out->direct = s1.direct - s0.direct;
	out->waits = s1.waits - s0.waits;
	out->evicted = s1.evicted - s0.evicted;
	out->batches = s1.batches - s0.batches;
	if (atomic_load(&pg.failed)) {
		out->status = ST_ERROR;
		snprintf(out->msg, sizeof(out->msg), "data check: %s", pg.msg);
	}
	sigaction(SIGBUS, &old[0], NULL);
	sigaction(SIGSEGV, &old[1], NULL);
	cur = NULL;
	pager_teardown(&pg);
}
