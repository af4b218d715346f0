/* SPDX-License-Identifier: MIT */
/* Concurrency: process-wide state shared by threads, and races on one frame. */
#include "helpers.h"
#include "helpers_thread.h"

enum { ROUNDS = 20000 };

struct race {
	pthread_barrier_t start, done, next;
	char *a, *b;
	awe_frame_t frame[2]; /* frame[t]: what thread t maps */
	void *target[2];      /* where thread t maps this round */
	int res[2], err[2];
	int judged; /* rounds the main thread checked */
};

struct racer {
	struct race *r;
	int id;
};

/* Both threads map in the same instant; thread 0 then checks and cleans up. */
static void *racer(void *arg)
{
	struct racer *me = arg;
	struct race *r = me->r;

	for (int round = 0; round < ROUNDS && !atomic_load(&failed); round++) {
		pthread_barrier_wait(&r->start);
		errno = 0;
		r->res[me->id] = awe_map(r->target[me->id], 1, &r->frame[me->id]);
		r->err[me->id] = errno;
		pthread_barrier_wait(&r->done);
		/* Thread 1 waits while thread 0 judges the round. */
		pthread_barrier_wait(&r->next);
	}
	return NULL;
}

static void race_init(struct race *r, struct racer rc[2])
{
	memset(r, 0, sizeof(*r));
	cr_assert_eq(pthread_barrier_init(&r->start, NULL, 3), 0);
	cr_assert_eq(pthread_barrier_init(&r->done, NULL, 3), 0);
	cr_assert_eq(pthread_barrier_init(&r->next, NULL, 3), 0);
	r->a = window_new(8);
	r->b = window_new(8);
	for (int i = 0; i < 2; i++) {
		rc[i].r = r;
		rc[i].id = i;
	}
}

/* Runs ROUNDS rounds; @judge checks each one from the main thread. */
static void race_run(struct race *r, struct racer rc[2], void (*aim)(struct race *, int),
		     void (*judge)(struct race *, int))
{
	pthread_t t[2];

	spawn(t, 2, racer, rc, sizeof(rc[0]));
	for (int round = 0; round < ROUNDS; round++) {
		aim(r, round);
		pthread_barrier_wait(&r->start);
		pthread_barrier_wait(&r->done);
		if (!atomic_load(&failed)) {
			judge(r, round);
			r->judged++;
		}
		pthread_barrier_wait(&r->next);
		if (atomic_load(&failed))
			break;
	}
	join(t, 2);
	assert_no_thread_failure();
	cr_assert_eq(r->judged, ROUNDS);
}

/* Same frame, different addresses: alternately the same window and two windows. */
static void aim_same_frame(struct race *r, int round)
{
	r->frame[1] = r->frame[0];
	r->target[0] = slot(r->a, round % 4);
	r->target[1] = round % 2 ? slot(r->b, round % 8) : slot(r->a, 4 + round % 4);
}

static void judge_same_frame(struct race *r, int round)
{
	int winner = r->res[0] == 0 ? 0 : 1, loser = 1 - winner;
	void *where = NULL;

	if (r->res[winner] != 0 || r->res[loser] != -EBUSY || r->err[loser] != EBUSY) {
		fail("round %d: results %d/%d errno %d/%d, expected one 0 and one -EBUSY", round,
		     r->res[0], r->res[1], r->err[0], r->err[1]);
		return;
	}
	if (awe_frame_addr(r->frame[0], &where) || where != r->target[winner]) {
		fail("round %d: frame at %p, winner mapped at %p", round, where, r->target[winner]);
		return;
	}
	if (awe_map(where, 1, NULL))
		fail("round %d: unmap failed", round);
}

Test(threads, same_frame_two_addresses)
{
	struct racer rc[2];
	struct race r;

	race_init(&r, rc);
	alloc_exact(r.frame, 1);
	race_run(&r, rc, aim_same_frame, judge_same_frame);
	assert_parked(r.frame[0]);
	cr_assert_eq(get_stats().frames_mapped, 0);
}

/* Different frames, same slot: both succeed, one replaces the other. */
static void aim_same_slot(struct race *r, int round)
{
	r->target[0] = r->target[1] = slot(round % 2 ? r->a : r->b, round % 8);
}

static void judge_same_slot(struct race *r, int round)
{
	struct awe_page_info pi;
	void *w0 = NULL, *w1 = NULL;

	if (r->res[0] || r->res[1]) {
		fail("round %d: results %d/%d, expected both 0", round, r->res[0], r->res[1]);
		return;
	}
	if (awe_query(r->target[0], &pi) || (pi.frame != r->frame[0] && pi.frame != r->frame[1])) {
		fail("round %d: slot holds %#" PRIx64, round, pi.frame);
		return;
	}
	awe_frame_addr(r->frame[0], &w0);
	awe_frame_addr(r->frame[1], &w1);
	/* Exactly one of them is at the slot, the other detached. */
	if (!((w0 == r->target[0] && !w1) || (w1 == r->target[0] && !w0))) {
		fail("round %d: frames at %p and %p, slot %p", round, w0, w1, r->target[0]);
		return;
	}
	if (awe_map(r->target[0], 1, NULL))
		fail("round %d: unmap failed", round);
}

Test(threads, two_frames_same_slot)
{
	struct racer rc[2];
	struct race r;

	race_init(&r, rc);
	alloc_exact(r.frame, 2);
	race_run(&r, rc, aim_same_slot, judge_same_slot);
	cr_assert_eq(get_stats().frames_mapped, 0);
	cr_assert_eq(get_stats().frames_allocated, 2);
}

/*
 * Stress: every worker owns frames and a slot range of one shared window and
 * keeps a model of them; a churn thread allocates, frees, creates and
 * destroys meanwhile. Each worker checks its own slots against its model.
 */
enum { WORKERS = 4, FRAMES = 32, SLOTS = 64, ITERS = 100000 };

struct worker {
	char *w; /* the shared window */
	size_t first;
	uint64_t seed;
	awe_frame_t f[FRAMES];
	int at[FRAMES];	  /* slot of f[i] relative to first, -1 when parked */
	int holds[SLOTS]; /* index of the frame at each slot, -1 when empty */
	size_t mapped;
	size_t moves; /* successful map and scatter calls */
};

static void model_detach(struct worker *k, int s)
{
	if (k->holds[s] >= 0) {
		k->at[k->holds[s]] = -1;
		k->holds[s] = -1;
		k->mapped--;
	}
}

static void model_attach(struct worker *k, int s, int i)
{
	model_detach(k, s);
	k->holds[s] = i;
	k->at[i] = s;
	k->mapped++;
}

static bool worker_verify(struct worker *k)
{
	for (int s = 0; s < SLOTS; s++) {
		char *a = slot(k->w, k->first + s);
		struct awe_page_info pi;
		awe_frame_t want = k->holds[s] < 0 ? 0 : k->f[k->holds[s]];

		if (awe_query(a, &pi) || pi.frame != want) {
			fail("slot %p holds %#" PRIx64 ", model says %#" PRIx64, (void *)a,
			     pi.frame, want);
			return false;
		}
		if (want && *(uint64_t *)a != want) {
			fail("slot %p: stamp %#" PRIx64 ", frame %#" PRIx64, (void *)a,
			     *(uint64_t *)a, want);
			return false;
		}
	}
	return true;
}

/* One random operation on the worker's own frames and slots. */
static bool worker_step(struct worker *k)
{
	int s = rng_next(&k->seed) % SLOTS, i = rng_next(&k->seed) % FRAMES;
	char *a = slot(k->w, k->first + s);
	int r;

	switch (rng_next(&k->seed) % 4) {
	case 0: /* map one frame, which may already be mapped */
		r = awe_map(a, 1, &k->f[i]);
		if (k->at[i] >= 0) {
			if (r != -EBUSY) {
				fail("mapping a mapped frame returned %d", r);
				return false;
			}
			return true;
		}
		if (r) {
			fail("awe_map: %d", r);
			return false;
		}
		model_attach(k, s, i);
		*(uint64_t *)a = k->f[i];
		k->moves++;
		return true;
	case 1: { /* unmap a short run */
		int n = 1 + rng_next(&k->seed) % 4;

		if (s + n > SLOTS)
			n = SLOTS - s;
		if ((r = awe_map(a, n, NULL))) {
			fail("unmap: %d", r);
			return false;
		}
		for (int j = 0; j < n; j++)
			model_detach(k, s + j);
		return true;
	}
	case 2: { /* scatter a parked frame to a slot and unmap another slot */
		int s2 = (s + 1 + rng_next(&k->seed) % (SLOTS - 1)) % SLOTS;
		void *addrs[2] = {slot(k->w, k->first + s2), a};
		awe_frame_t fr[2] = {0, k->f[i]};

		if (k->at[i] >= 0 && k->at[i] != s2)
			return true;
		if ((r = awe_map_scatter(addrs, 2, fr))) {
			if (k->at[i] == s2 && r == -EBUSY)
				return true;
			fail("scatter: %d", r);
			return false;
		}
		model_detach(k, s2);
		model_attach(k, s, i);
		*(uint64_t *)a = k->f[i];
		k->moves++;
		return true;
	}
	default: /* protect round trip, then check everything */
		if (awe_protect(a, 1, AWE_PROT_READ, NULL) ||
		    awe_protect(a, 1, AWE_PROT_READWRITE, NULL)) {
			fail("protect failed");
			return false;
		}
		return worker_verify(k);
	}
}

static void *worker_main(void *arg)
{
	struct worker *k = arg;

	for (int it = 0; it < ITERS && !atomic_load(&failed); it++)
		if (!worker_step(k))
			break;
	worker_verify(k);
	return NULL;
}

static atomic_int churn_stop;

/* Unrelated activity in the same process: allocations and windows come and go. */
static void *churn_main(void *arg)
{
	awe_frame_t f[8];
	void *base;

	(void)arg;
	while (!atomic_load(&churn_stop) && !atomic_load(&failed)) {
		if (awe_alloc(f, 8) != 8 || awe_window_create(8 * pg(), NULL, 0, &base)) {
			fail("churn: allocation failed");
			break;
		}
		if (awe_map(base, 8, f) || awe_window_destroy(base) || awe_free(f, 8, NULL)) {
			fail("churn: map/destroy/free failed");
			break;
		}
	}
	return NULL;
}

Test(threads, stress_distinct_frames, .timeout = 120)
{
	static struct worker k[WORKERS];
	char *w = window_new(WORKERS * SLOTS);
	pthread_t t[WORKERS], churn;
	size_t mapped = 0, moves = 0;
	struct awe_stats st;

	for (size_t j = 0; j < WORKERS; j++) {
		k[j].w = w;
		k[j].first = j * SLOTS;
		k[j].seed = 1000 + j;
		alloc_exact(k[j].f, FRAMES);
		memset(k[j].at, -1, sizeof(k[j].at));
		memset(k[j].holds, -1, sizeof(k[j].holds));
	}
	cr_assert_eq(pthread_create(&churn, NULL, churn_main, NULL), 0);
	spawn(t, WORKERS, worker_main, k, sizeof(k[0]));
	join(t, WORKERS);
	atomic_store(&churn_stop, 1);
	join(&churn, 1);
	assert_no_thread_failure();

	st = get_stats();
	for (size_t j = 0; j < WORKERS; j++) {
		mapped += k[j].mapped;
		moves += k[j].moves;
	}
	/* The random walk really mapped things (about a third of the steps). */
	cr_assert_gt(moves, WORKERS * ITERS / 8, "only %zu successful maps", moves);
	cr_assert_eq(st.frames_mapped, mapped);
	cr_assert_eq(st.frames_allocated, WORKERS * FRAMES);
	cr_assert_eq(st.windows, 1);
	for (size_t j = 0; j < WORKERS; j++)
		AWE_OK(awe_free(k[j].f, FRAMES, NULL));
	st = get_stats();
	cr_assert_eq(st.frames_allocated, 0);
	cr_assert_eq(st.frames_mapped, 0);
}

/* Concurrent allocations never hand out the same number twice. */
enum { ALLOCATORS = 4, PER = 2000 };

static void *allocator_main(void *arg)
{
	awe_frame_t *out = arg;

	for (size_t i = 0; i < PER; i += 4)
		if (awe_alloc(out + i, 4) != 4) {
			fail("awe_alloc failed");
			break;
		}
	return NULL;
}

Test(threads, concurrent_alloc_distinct)
{
	static awe_frame_t f[ALLOCATORS * PER];
	pthread_t t[ALLOCATORS];

	spawn(t, ALLOCATORS, allocator_main, f, PER * sizeof(f[0]));
	join(t, ALLOCATORS);
	assert_no_thread_failure();
	assert_distinct_nonzero(f, ALLOCATORS * PER);
	cr_assert_eq(get_stats().frames_allocated, ALLOCATORS * PER);
}

/*
 * Two threads on windows of their own map and unmap random batches of 64
 * frames, with exactly as many frames as parking's first arenas hold. With
 * other threads running the default engine copies pages in and keeps their
 * sources until it drops them, so a batch being copied in by one thread
 * held parking slots the other's unmap needed: the unmap failed with
 * ENOMEM although every frame has a parking slot. Every call must succeed
 * and every frame keep its data.
 */
enum { BATCHERS = 2, BFRAMES = 4096, BATCH = 64, BROUNDS = 300 };

static void *batcher_main(void *arg)
{
	unsigned int seed = (unsigned int)(uintptr_t)arg;
	awe_frame_t *f = calloc(BFRAMES, sizeof(*f)), fr[BATCH];
	void *w = NULL, *a[BATCH];
	int r;

	if (!f || awe_alloc(f, BFRAMES) != BFRAMES ||
	    awe_window_create((size_t)BFRAMES * 4 * pg(), NULL, 0, &w)) {
		fail("setup: %s", strerror(errno));
		goto out;
	}
	for (size_t i = 0; i < BROUNDS && !atomic_load(&failed); i++) {
		for (size_t k = 0; k < BATCH; k++) {
			/* Distinct slots (one per 64-slot group) and frames. */
			a[k] = (char *)w +
			       ((rand_r(&seed) % (4 * BFRAMES / BATCH)) * BATCH + k) * pg();
			fr[k] = f[(i * BATCH + k) % BFRAMES];
		}
		r = awe_map_scatter(a, BATCH, fr);
		if (r) {
			fail("round %zu: map: %s", i, awe_strerror(r));
			break;
		}
		for (size_t k = 0; k < BATCH; k++)
			*(awe_frame_t *)a[k] += fr[k];
		r = awe_map_scatter(a, BATCH, NULL);
		if (r) {
			fail("round %zu: unmap: %s", i, awe_strerror(r));
			break;
		}
	}
	/* Frame j was written (its number added) once per round it was in. */
	for (size_t j = 0; j < BFRAMES && !atomic_load(&failed); j++) {
		awe_frame_t want =
			f[j] * ((BROUNDS * BATCH) / BFRAMES + (j < (BROUNDS * BATCH) % BFRAMES));

		if ((r = awe_map(w, 1, &f[j])) || *(awe_frame_t *)w != want ||
		    (r = awe_map(w, 1, NULL)))
			fail("frame %zu: %s", j, r ? awe_strerror(r) : "lost its data");
	}
out:
	if (w)
		awe_window_destroy(w);
	if (f && f[0])
		awe_free(f, BFRAMES, NULL);
	free(f);
	return NULL;
}

Test(threads, batches_on_own_windows, .timeout = 120)
{
	pthread_t t[BATCHERS];

	for (size_t i = 0; i < BATCHERS; i++)
		cr_assert_eq(pthread_create(&t[i], NULL, batcher_main, (void *)(uintptr_t)(i + 1)),
			     0);
	join(t, BATCHERS);
	assert_no_thread_failure();
	cr_assert_eq(get_stats().frames_allocated, 0);
}
