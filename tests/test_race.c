/* SPDX-License-Identifier: MIT */
/*
 * Frames keep their contents (issue 14). Without AWE_UNMAP_EXCLUSIVE, a
 * write by another thread that completes without a fault is in the frame
 * afterwards, also when it races with the unmap of its page: it lands
 * before the unmap, or it faults after it, and it is never dropped (on
 * Windows the frame is the physical page, and a late write through a stale
 * TLB entry still lands in it). An unmap that copied a page out and then
 * dropped it would lose the writes in between.
 *
 * Writer threads store increasing numbers into words of their own in every
 * page of a window, and publish each number once its store has retired
 * without a fault; a store that faults (the engine's signal, caught and
 * jumped out of) does not count. A checker unmaps one page or a batch under
 * them, with each unmap call there is, and waits until every writer has
 * seen that it did: from then on a writer's last completed store is final.
 * It shows the frames at other slots and checks that every word holds
 * exactly its writer's last completed number (less: a write was lost; more:
 * a store that faulted landed), maps them back and lets the writers go on.
 *
 * Each test runs AWE_RACE_SECONDS (default 0.8) and at least MIN_ROUNDS
 * rounds; how many rounds fit varies, what each round checks does not.
 */
#include "helpers.h"
#include "helpers_thread.h"

#include <sched.h>
#include <setjmp.h>
#include <time.h>

/*
 * ThreadSanitizer: Criterion programs do not run under it at all (see
 * README, Snaipe/Criterion#274), and jumping out of a fault handler with
 * siglongjmp leaves TSan's per-thread signal state behind (it then reports
 * every later malloc as "signal-unsafe call inside of a signal", or fails
 * its own checks: llvm/llvm-project#94207, google/sanitizers#1759). The
 * writers do exactly that, so this program skips under TSan.
 */
#if defined(__SANITIZE_THREAD__)
#define TSAN 1
#elif defined(__has_feature)
#if __has_feature(thread_sanitizer)
#define TSAN 1
#endif
#endif
#ifndef TSAN
#define TSAN 0
#endif

enum { WRITERS = 3, PAGES = 32, MIN_ROUNDS = 20 };
_Static_assert(PAGES <= 64, "a writer keeps a bit per page");

struct race {
	char *w;	      /* slots 0..PAGES-1: the writers'; the rest spare */
	char *v;	      /* another window, where the checker looks on odd rounds */
	awe_frame_t f[PAGES]; /* f[i] at slot i whenever the writers run */
	size_t page;
	int sig; /* the engine's fault signal */
	/* Each writer's last completed store in each page. */
	_Atomic uint64_t last[WRITERS][PAGES];
	atomic_bool doomed[PAGES]; /* pages the checker is unmapping */
	/* The handshake: the checker bumps epoch after an unmap; each writer,
	 * seeing it, meets the checker at @held, then waits at @go while the
	 * checker looks. Asleep, not spinning: the checker needs the CPU. */
	atomic_uint epoch;
	atomic_int stop;
	pthread_barrier_t held, go;
	_Atomic uint64_t stores[WRITERS]; /* completed stores */
	uint64_t faults[WRITERS];	  /* stores that faulted */
};

struct writer {
	struct race *r;
	int id;
};

/* Writer @k's word in page @i: a cache line of its own, at a place that
 * differs from page to page. */
static size_t word_off(const struct race *r, size_t i, int k)
{
	return ((i * 5 + (size_t)k) % (r->page / 64)) * 64;
}

static volatile uint64_t *word_at(const struct race *r, char *page, size_t i, int k)
{
	return (volatile uint64_t *)(page + word_off(r, i, k));
}

/* --- the writers' stores and their faults -------------------------------- */

static _Thread_local sigjmp_buf store_env;
static _Thread_local volatile sig_atomic_t store_armed;
static _Thread_local volatile int fault_sig;
static _Thread_local void *volatile fault_addr;

static void store_fault(int sig, siginfo_t *si, void *uc)
{
	(void)uc;
	if (!store_armed) {
		/* Not a writer's store: let it fault as if nobody caught it. */
		signal(sig, SIG_DFL);
		return;
	}
	fault_sig = sig;
	fault_addr = si->si_addr;
	siglongjmp(store_env, 1);
}

/* Stores @v at @p; false when the store faulted, so did not happen. Out of
 * line, so that no local lives across the sigsetjmp, and without saving the
 * signal mask (a system call per store): the handler runs with SA_NODEFER,
 * so jumping out of it leaves the mask as it was. */
static __attribute__((noinline)) bool store_word(volatile uint64_t *p, uint64_t v)
{
	if (sigsetjmp(store_env, 0))
		return false;
	*p = v;
	return true;
}

/* A store faulted: it must be the engine's fault, at the word, in a page
 * the checker is unmapping (which it marked before its call, so that the
 * mark is seen at once; the retries only spare a false alarm). */
static void check_fault(struct race *r, size_t i, int k, volatile uint64_t *p)
{
	bool doomed = false;

	if (fault_sig != r->sig || fault_addr != (void *)p)
		fail("writer %d: store to %p raised signal %d at %p, expected %s there", k,
		     (void *)p, fault_sig, fault_addr, strsignal(r->sig));
	for (int t = 0; t < 1000 && !(doomed = atomic_load(&r->doomed[i])); t++)
		sched_yield();
	if (!doomed)
		fail("writer %d: store to page %zu faulted, which nobody unmapped", k, i);
}

static void *writer_main(void *arg)
{
	struct writer *me = arg;
	struct race *r = me->r;
	unsigned int seen = 0;
	uint64_t seq = 0, done = 0, gone = 0; /* gone: pages that faulted since */
	size_t i = (size_t)me->id;

	store_armed = 1;
	for (;;) {
		unsigned int e = atomic_load_explicit(&r->epoch, memory_order_relaxed);
		volatile uint64_t *p;

		if (e != seen) {
			/* The checker has unmapped pages. Every store that
			 * completed is published: hold still while it looks. */
			seen = e;
			gone = 0;
			pthread_barrier_wait(&r->held);
			pthread_barrier_wait(&r->go);
			if (atomic_load(&r->stop))
				break;
			continue;
		}
		i = (i + 1) % PAGES;
		/* A page that faulted stays unmapped until the checker has
		 * looked: another fault there would only slow the round. */
		if (gone >> i & 1)
			continue;
		p = word_at(r, r->w + i * r->page, i, me->id);
		if (!store_word(p, ++seq)) {
			r->faults[me->id]++;
			gone |= (uint64_t)1 << i;
			check_fault(r, i, me->id, p);
			continue;
		}
		/* Published only now that the store has retired. */
		atomic_signal_fence(memory_order_seq_cst);
		atomic_store_explicit(&r->last[me->id][i], seq, memory_order_relaxed);
		atomic_store_explicit(&r->stores[me->id], ++done, memory_order_relaxed);
	}
	store_armed = 0;
	return NULL;
}

/* --- the checker ---------------------------------------------------------- */

enum kind {
	RANGE_ONE,    /* awe_map(a, 1, NULL), awe_unmap(a, 1, 0) */
	RANGE_MANY,   /* the same over a run of pages */
	SCATTER_ONE,  /* awe_map_scatter(&a, 1, NULL), awe_unmap_scatter(&a, 1, 0) */
	SCATTER_MANY, /* the same over random pages in random order */
};

/* This round's pages: idx[j] is at[j] = slot idx[j], and goes to to[j]. */
struct round {
	size_t m, idx[PAGES];
	void *at[PAGES], *to[PAGES];
	awe_frame_t f[PAGES];
	bool range; /* idx[] is a run, unmapped and mapped back as a range */
};

static uint64_t stores_so_far(struct race *r)
{
	uint64_t n = 0;

	for (int k = 0; k < WRITERS; k++)
		n += atomic_load_explicit(&r->stores[k], memory_order_relaxed);
	return n;
}

static double now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* Returns whether a writer is storing on another CPU right now (its count
 * moves while this thread watches), so that the unmap to come lands among
 * its stores; waits up to 20 ms for that, then gives up (a busy machine). */
static bool let_writers_run(struct race *r)
{
	double until = now() + 0.02;

	do {
		uint64_t before = stores_so_far(r);
		double t = now() + 5e-6;

		while (now() < t)
			;
		if (stores_so_far(r) > before)
			return true;
		sched_yield();
	} while (now() < until);
	return false;
}

/* The checker on one CPU, the writers on the others (when there are
 * others): they never take the checker's CPU, and while it unmaps, one of
 * them is storing on another CPU. A restricted machine keeps its setting. */
static void pin(pthread_t *writers)
{
	cpu_set_t all, mine, theirs;
	int first = -1;

	if (sched_getaffinity(0, sizeof(all), &all) || CPU_COUNT(&all) < 2)
		return;
	CPU_ZERO(&mine);
	theirs = all;
	for (int c = 0; c < CPU_SETSIZE && first < 0; c++)
		if (CPU_ISSET(c, &all))
			first = c;
	CPU_SET(first, &mine);
	CPU_CLR(first, &theirs);
	if (sched_setaffinity(0, sizeof(mine), &mine))
		return;
	for (int k = 0; k < WRITERS; k++)
		pthread_setaffinity_np(writers[k], sizeof(theirs), &theirs);
}

static void pick(struct race *r, enum kind kind, uint64_t *seed, int round, struct round *b)
{
	size_t perm[PAGES], spare[PAGES];

	memset(b, 0, sizeof(*b));
	shuffle(perm, PAGES, rng_next(seed));
	shuffle(spare, PAGES, rng_next(seed));
	b->range = kind == RANGE_ONE || kind == RANGE_MANY;
	b->m = kind == RANGE_ONE || kind == SCATTER_ONE ? 1 : 2 + rng_next(seed) % (PAGES - 1);
	for (size_t j = 0; j < b->m; j++) {
		/* A range: a run from a random start; else the first pages of
		 * a random order. */
		b->idx[j] = b->range ? (perm[0] % (PAGES - b->m + 1)) + j : perm[j];
		b->at[j] = r->w + b->idx[j] * r->page;
		b->f[j] = r->f[b->idx[j]];
		/* Elsewhere: the window's spare slots, or the other window. */
		b->to[j] = round % 2 ? slot(r->v, spare[j]) : slot(r->w, PAGES + spare[j]);
	}
}

/* Without the flag, by the old call and the new one in turn. */
static void unmap_round(const struct round *b, int round)
{
	if (b->range && round % 4 < 2)
		AWE_OK(awe_map(b->at[0], b->m, NULL));
	else if (b->range)
		AWE_OK(awe_unmap(b->at[0], b->m, 0));
	else if (round % 4 < 2)
		AWE_OK(awe_map_scatter(b->at, b->m, NULL));
	else
		AWE_OK(awe_unmap_scatter(b->at, b->m, 0));
}

/* Page @i, shown at @p while the writers hold still: each writer's word is
 * its last completed store, every other byte is zero. */
static void check_page(struct race *r, const char *p, size_t i, int round)
{
	const uint64_t *q = (const uint64_t *)p;
	size_t words = r->page / sizeof(*q);
	bool mine[512] = {0};

	cr_assert_leq(words, 512);
	for (int k = 0; k < WRITERS; k++) {
		uint64_t want = atomic_load_explicit(&r->last[k][i], memory_order_relaxed);
		uint64_t got = q[word_off(r, i, k) / sizeof(*q)];

		mine[word_off(r, i, k) / sizeof(*q)] = true;
		cr_assert_geq(got, want,
			      "round %d, page %zu, writer %d: the frame holds %" PRIu64
			      ", but the writer's store of %" PRIu64
			      " completed without a fault: a write was lost (%s engine)",
			      round, i, k, got, want, engine_label());
		cr_assert_eq(got, want,
			     "round %d, page %zu, writer %d: the frame holds %" PRIu64
			     ", the writer's last completed store was %" PRIu64
			     ": a store that faulted landed",
			     round, i, k, got, want);
	}
	for (size_t x = 0; x < words; x++)
		if (!mine[x] && q[x])
			cr_assert_fail("round %d, page %zu: word %zu is %#" PRIx64, round, i, x,
				       q[x]);
}

static void check_round(struct race *r, const struct round *b, int round)
{
	bool in[PAGES] = {0};

	AWE_OK(awe_map_scatter(b->to, b->m, b->f));
	for (size_t j = 0; j < b->m; j++) {
		check_page(r, b->to[j], b->idx[j], round);
		in[b->idx[j]] = true;
	}
	/* The pages left mapped, in place. */
	for (size_t i = 0; i < PAGES; i++)
		if (!in[i])
			check_page(r, r->w + i * r->page, i, round);
	AWE_OK(awe_unmap_scatter(b->to, b->m, 0));
	if (b->range)
		AWE_OK(awe_map(b->at[0], b->m, b->f));
	else
		AWE_OK(awe_map_scatter(b->at, b->m, b->f));
}

/* After an unmap: returns once every writer has seen it and stopped. */
static void hold_writers(struct race *r)
{
	atomic_fetch_add_explicit(&r->epoch, 1, memory_order_relaxed);
	pthread_barrier_wait(&r->held);
}

static double race_seconds(void)
{
	const char *s = getenv("AWE_RACE_SECONDS");
	double d = s ? strtod(s, NULL) : 0;

	return d > 0 ? d : 0.8;
}

static void race_run(enum kind kind)
{
	struct sigaction sa, obus, osegv;
	struct writer wr[WRITERS];
	pthread_t t[WRITERS];
	struct race *r;
	uint64_t seed = 14 + (uint64_t)kind, faults = 0;
	double until;
	int round, alongside = 0;

	if (TSAN)
		cr_skip_test("ThreadSanitizer: the writers jump out of fault handlers");
	r = calloc(1, sizeof(*r));
	cr_assert_not_null(r);
	r->page = pg();
	r->sig = fault_signal();
	r->w = window_new(2 * PAGES);
	r->v = window_new(PAGES);
	alloc_exact(r->f, PAGES);
	cr_assert_eq(pthread_barrier_init(&r->held, NULL, WRITERS + 1), 0);
	cr_assert_eq(pthread_barrier_init(&r->go, NULL, WRITERS + 1), 0);
	/* Fresh frames are zero: so is every writer's last store. */
	AWE_OK(awe_map(r->w, PAGES, r->f));

	memset(&sa, 0, sizeof(sa));
	sa.sa_sigaction = store_fault;
	sa.sa_flags = SA_SIGINFO | SA_NODEFER;
	sigemptyset(&sa.sa_mask);
	cr_assert_eq(sigaction(SIGBUS, &sa, &obus), 0);
	cr_assert_eq(sigaction(SIGSEGV, &sa, &osegv), 0);
	for (int k = 0; k < WRITERS; k++)
		wr[k] = (struct writer){r, k};
	spawn(t, WRITERS, writer_main, wr, sizeof(wr[0]));
	pin(t);

	until = now() + race_seconds();
	for (round = 0; !atomic_load(&r->stop); round++) {
		struct round b;

		pick(r, kind, &seed, round, &b);
		alongside += let_writers_run(r);
		for (size_t j = 0; j < b.m; j++)
			atomic_store(&r->doomed[b.idx[j]], true);
		unmap_round(&b, round);
		hold_writers(r);
		check_round(r, &b, round);
		for (size_t j = 0; j < b.m; j++)
			atomic_store(&r->doomed[b.idx[j]], false);
		/* Told while they are held, so that all of them hear it. */
		if ((round + 1 >= MIN_ROUNDS && now() >= until) || atomic_load(&failed))
			atomic_store(&r->stop, 1);
		pthread_barrier_wait(&r->go);
	}
	join(t, WRITERS);
	pthread_barrier_destroy(&r->held);
	pthread_barrier_destroy(&r->go);
	sigaction(SIGBUS, &obus, NULL);
	sigaction(SIGSEGV, &osegv, NULL);
	assert_no_thread_failure();
	for (int k = 0; k < WRITERS; k++)
		faults += r->faults[k];
	cr_log_info("%s engine, kind %d: %d rounds (%d with a writer storing alongside the "
		    "unmap), %" PRIu64 " stores completed, %" PRIu64 " faulted",
		    engine_label(), kind, round, alongside, stores_so_far(r), faults);
	cr_assert_gt(stores_so_far(r), 0, "the writers never wrote");
	free(r);
}

Test(race, range_one_page)
{
	race_run(RANGE_ONE);
}

Test(race, range_of_pages)
{
	race_run(RANGE_MANY);
}

Test(race, scatter_one_page)
{
	race_run(SCATTER_ONE);
}

Test(race, scatter_of_pages)
{
	race_run(SCATTER_MANY);
}
