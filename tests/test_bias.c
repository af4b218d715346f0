/* SPDX-License-Identifier: MIT */
/*
 * The process-wide lock's bias (src/lock.c): the first thread takes the lock
 * without the mutex; a second thread revokes that and waits for it; a
 * thread that goes on alone gets it back; fork() children start over.
 * test_bias_hook provokes the races around it with the test hook,
 * test_bias_system has the lock without membarrier and with a real-time
 * revoker.
 */
#include "bias.h"

#include <pthread.h>
#include <sched.h>
#include <stdatomic.h>

Test(bias, first_thread_owns_it)
{
	skip_without_membarrier();
	own_bias();
	cr_assert(lock_n(1));
	cr_assert_not(awe__lock_shared(), "one thread alone never shares the lock");
}

Test(bias, public_calls_take_it)
{
	awe_frame_t f;
	char *w;

	skip_without_membarrier();
	alloc_exact(&f, 1);
	w = window_new(4);
	for (int i = 0; i < 100; i++) {
		map_stamped(w + (size_t)(i % 4) * pg(), &f, 1);
		assert_stamped(w + (size_t)(i % 4) * pg(), &f, 1);
		unmap_range(w + (size_t)(i % 4) * pg(), 1);
	}
	cr_assert(lock_n(1));
}

struct waiter {
	atomic_int started, got;
	int value; /* written by the main thread under the lock, no atomics */
	int seen;
};

static void *wait_for_lock(void *arg)
{
	struct waiter *s = arg;

	atomic_store(&s->started, 1);
	awe__lock();
	s->seen = s->value;
	atomic_store(&s->got, 1);
	awe__unlock();
	return NULL;
}

Test(bias, second_thread_waits_for_the_owner)
{
	struct waiter s = {0};
	pthread_t t;

	skip_without_membarrier();
	own_bias();
	awe__lock();
	cr_assert(awe__test_lock_biased());
	cr_assert_eq(pthread_create(&t, NULL, wait_for_lock, &s), 0);
	while (!atomic_load(&s.started))
		sched_yield();
	usleep(200 * 1000);
	cr_assert_eq(atomic_load(&s.got), 0, "the second thread got in while the owner was inside");
	s.value = 42;
	awe__unlock();
	cr_assert_eq(pthread_join(t, NULL), 0);
	cr_assert_eq(s.seen, 42, "the second thread did not see the owner's write");
	cr_assert(awe__lock_shared(), "the second thread had to wait: the lock is shared now");
	cr_assert_not(lock_n(1), "the bias must not come back at once");
}

/* lock_n() on a thread of its own. */
struct lock_job {
	int n;
	bool got;
};

static void *lock_job_run(void *arg)
{
	struct lock_job *j = arg;

	j->got = lock_n(j->n);
	return NULL;
}

static bool lock_n_elsewhere(int n)
{
	struct lock_job j = {.n = n};
	pthread_t t;

	cr_assert_eq(pthread_create(&t, NULL, lock_job_run, &j), 0);
	cr_assert_eq(pthread_join(t, NULL), 0);
	return j.got;
}

/* Threads that take turns do not pay a barrier every few calls: after a
 * revocation the bias comes back only after a streak, and every revocation
 * makes the next streak longer. */
Test(bias, comes_back_after_a_streak)
{
	int first, second;

	skip_without_membarrier();
	own_bias();
	lock_n_elsewhere(1);
	for (first = 1; first < 100000 && !lock_n(1); first++)
		;
	cr_assert_gt(first, 8, "the bias came back after %d calls: too soon", first);
	cr_assert_lt(first, 100000, "a thread alone never got the bias back");
	lock_n_elsewhere(1);
	for (second = 1; second < 100000 && !lock_n(1); second++)
		;
	cr_assert_gt(second, first, "the second streak (%d) is not longer than the first (%d)",
		     second, first);
}

struct worker {
	char *w;
	awe_frame_t f[8];
	int bad;
	bool biased;
};

static void *map_a_lot(void *arg)
{
	struct worker *k = arg;

	for (int i = 0; i < 2000 && !k->bad; i++)
		for (size_t j = 0; j < 8; j++)
			if (awe_map(k->w + j * pg(), 1, &k->f[j]) ||
			    *(uint64_t *)(k->w + j * pg()) != k->f[j] ||
			    awe_map(k->w + j * pg(), 1, NULL))
				k->bad = 1;
	k->biased = lock_n(1);
	return NULL;
}

/* The common shape: one thread sets up, another does the mapping. */
Test(bias, moves_to_the_thread_that_maps)
{
	struct worker k = {.w = window_new(8)};
	pthread_t t;

	skip_without_membarrier();
	alloc_exact(k.f, 8);
	map_stamped(k.w, k.f, 8);
	unmap_range(k.w, 8);
	cr_assert(lock_n(2), "the setting-up thread should own the bias");
	cr_assert_eq(pthread_create(&t, NULL, map_a_lot, &k), 0);
	cr_assert_eq(pthread_join(t, NULL), 0);
	cr_assert_eq(k.bad, 0, "the mapping thread's pages went wrong");
	cr_assert(k.biased, "the mapping thread did not end up with the bias");
}

/* The bias changing hands all the time (a streak of 2 earns it), flags
 * reused, owners revoked between their two loads: a plain counter under the
 * lock must lose nothing. */
enum { HANDS = 3, HAND_ADDS = 100000 };

static long hands_counter;

static void *hands_adder(void *arg)
{
	(void)arg;
	for (int i = 0; i < HAND_ADDS; i++) {
		awe__lock();
		hands_counter++;
		awe__unlock();
		if (i % 1000 == 0)
			sched_yield();
	}
	return NULL;
}

Test(bias, changes_hands_without_losing_updates, .timeout = 120)
{
	pthread_t t[HANDS];

	skip_without_membarrier();
	own_bias();
	awe__test_bias_streak = 2;
	for (int i = 0; i < HANDS; i++)
		cr_assert_eq(pthread_create(&t[i], NULL, hands_adder, NULL), 0);
	for (int i = 0; i < HANDS; i++)
		cr_assert_eq(pthread_join(t[i], NULL), 0);
	cr_assert_eq(hands_counter, (long)HANDS * HAND_ADDS, "lost %ld updates",
		     (long)HANDS * HAND_ADDS - hands_counter);
}

/* More owners than flags: an owner keeps its flag until it is seen taking
 * the mutex again (it might be between its two loads of the bias), so with
 * 16 past owners that never came back there is no bias to give, and the lock
 * goes on as a plain mutex. Once they come back, it is given again. */
enum { PARKED = 20 };

struct parked {
	pthread_barrier_t owned, back, done;
	bool got[PARKED];
	int next;
	pthread_mutex_t m;
};

static void *own_and_wait(void *arg)
{
	struct parked *p = arg;
	int me;

	pthread_mutex_lock(&p->m);
	me = p->next++;
	pthread_mutex_unlock(&p->m);
	p->got[me] = lock_n(4);
	pthread_barrier_wait(&p->owned);
	pthread_barrier_wait(&p->back);
	lock_n(1);
	pthread_barrier_wait(&p->done);
	return NULL;
}

Test(bias, runs_out_of_flags_and_recovers)
{
	struct parked p = {.m = PTHREAD_MUTEX_INITIALIZER};
	pthread_t t[PARKED];
	int owners = 0;

	skip_without_membarrier();
	own_bias();
	awe__test_bias_streak = 2;
	pthread_barrier_init(&p.owned, NULL, 2);
	pthread_barrier_init(&p.back, NULL, PARKED + 1);
	pthread_barrier_init(&p.done, NULL, PARKED + 1);
	for (int i = 0; i < PARKED; i++) {
		/* One at a time, each staying alive and away afterwards. */
		cr_assert_eq(pthread_create(&t[i], NULL, own_and_wait, &p), 0);
		pthread_barrier_wait(&p.owned);
	}
	for (int i = 0; i < PARKED; i++)
		owners += p.got[i];
	cr_assert_eq(owners, 15, "%d of %d threads got the bias; 16 flags, one the main thread's",
		     owners, PARKED);
	cr_assert_not(lock_n_elsewhere(4), "no flag is free, yet a new thread got the bias");
	/* The main thread's own flag is free once it is back. */
	cr_assert(lock_n(4), "the main thread did not get its flag back");
	pthread_barrier_wait(&p.back);
	pthread_barrier_wait(&p.done);
	for (int i = 0; i < PARKED; i++)
		cr_assert_eq(pthread_join(t[i], NULL), 0);
	cr_assert(lock_n_elsewhere(4), "the owners came back, but a new thread got no bias");
}

/* Owners that end free their flags: twenty owners one after another, each
 * on a stack of its own so that no two share an id (glibc puts a thread's
 * descriptor on its stack), all get the bias although there are 16 flags. */
enum { ENDED = 20, ENDED_STACK = 256 * 1024 };

Test(bias, ended_owners_free_their_flags)
{
	void *stacks[ENDED];
	struct lock_job job[ENDED];
	int owners = 0;

	skip_without_membarrier();
	own_bias();
	awe__test_bias_streak = 2;
	for (int i = 0; i < ENDED; i++) {
		pthread_attr_t a;
		pthread_t t;

		cr_assert_eq(posix_memalign(&stacks[i], 4096, ENDED_STACK), 0);
		cr_assert_eq(pthread_attr_init(&a), 0);
		cr_assert_eq(pthread_attr_setstack(&a, stacks[i], ENDED_STACK), 0);
		job[i] = (struct lock_job){.n = 4};
		cr_assert_eq(pthread_create(&t, &a, lock_job_run, &job[i]), 0);
		cr_assert_eq(pthread_join(t, NULL), 0);
		pthread_attr_destroy(&a);
		owners += job[i].got;
	}
	cr_assert_eq(owners, ENDED, "%d of %d owners got the bias", owners, ENDED);
	for (int i = 0; i < ENDED; i++)
		free(stacks[i]);
}

/* Two threads add to a plain counter under the lock, one of them the bias
 * owner, the other revoking the bias while the owner is at it: a lost
 * update means both were inside at once. Each round is a fresh process, so
 * that the revocation race is run many times. */
enum { RACE_ROUNDS = 100, RACE_ADDS = 20000 };

struct counter {
	pthread_barrier_t go;
	long n;
};

/* A slow increment, so that the owner is inside most of the time and a
 * revoker that did not wait for it would overlap it. */
static void add_many(struct counter *c)
{
	for (int i = 0; i < RACE_ADDS; i++) {
		awe__lock();
		long v = c->n;

		for (volatile int k = 0; k < 200; k++)
			;
		c->n = v + 1;
		awe__unlock();
	}
}

static void *adder(void *arg)
{
	struct counter *c = arg;

	pthread_barrier_wait(&c->go);
	usleep(200); /* revoke while the owner is busy adding */
	add_many(c);
	return NULL;
}

static int race_once(void)
{
	struct counter c = {.n = 0};
	pthread_t t;

	if (!lock_n(2))
		return 2;
	pthread_barrier_init(&c.go, NULL, 2);
	if (pthread_create(&t, NULL, adder, &c))
		return 3;
	pthread_barrier_wait(&c.go);
	add_many(&c);
	pthread_join(t, NULL);
	return c.n == 2L * RACE_ADDS ? 0 : 1;
}

Test(bias, revocation_keeps_mutual_exclusion, .timeout = 120)
{
	skip_without_membarrier();
	for (int i = 0; i < RACE_ROUNDS; i++) {
		pid_t p = fork();
		int st;

		cr_assert_neq(p, -1);
		if (p == 0)
			_exit(race_once());
		cr_assert_eq(waitpid(p, &st, 0), p);
		cr_assert(WIFEXITED(st), "round %d: the child died (status %#x)", i, st);
		cr_assert_neq(WEXITSTATUS(st), 1,
			      "round %d: an update was lost: two threads were inside", i);
		cr_assert_eq(WEXITSTATUS(st), 0, "round %d: child failed at step %d", i,
			     WEXITSTATUS(st));
	}
}

/* fork() from the owner: the child's one thread owns a fresh bias. */
Test(bias, fork_child_starts_over)
{
	pid_t p;
	int st;

	skip_without_membarrier();
	own_bias();
	p = fork();
	cr_assert_neq(p, -1);
	if (p == 0) {
		_exit(lock_n(2) ? 0 : 1);
	}
	cr_assert_eq(waitpid(p, &st, 0), p);
	cr_assert(WIFEXITED(st) && WEXITSTATUS(st) == 0, "the child did not own a bias");
	cr_assert(lock_n(1), "fork() from the owner must not cost it the bias");
}

static void *fork_from_thread(void *arg)
{
	int *res = arg;
	pid_t p = fork();
	int st;

	if (p == 0) {
		_exit(lock_n(2) ? 0 : 1);
	}
	*res = p > 0 && waitpid(p, &st, 0) == p && WIFEXITED(st) ? WEXITSTATUS(st) : -1;
	return NULL;
}

/* fork() from another thread takes the lock from the owner (the prepare
 * handler), and the child, whose only thread is that one, starts over. */
Test(bias, fork_from_another_thread)
{
	pthread_t t;
	int res = -1;

	skip_without_membarrier();
	own_bias();
	cr_assert_eq(pthread_create(&t, NULL, fork_from_thread, &res), 0);
	cr_assert_eq(pthread_join(t, NULL), 0);
	cr_assert_eq(res, 0, "the child of a non-owner thread did not own a fresh bias");
	cr_assert_not(lock_n(1), "the fork revoked the parent's bias");
}

/* Through the public API: the main thread maps alone (owning the bias),
 * then a second thread maps into a window of its own while the main thread
 * goes on; nobody's pages get mixed up. */
struct mapper {
	char *w;
	awe_frame_t f[16];
	atomic_int *stop;
	int bad;
};

static void churn(struct mapper *m)
{
	for (size_t i = 0; i < 16; i++) {
		if (awe_map(m->w + i * pg(), 1, &m->f[i]) ||
		    *(uint64_t *)(m->w + i * pg()) != m->f[i] || awe_map(m->w + i * pg(), 1, NULL))
			m->bad = 1;
	}
}

static void *second_mapper(void *arg)
{
	struct mapper *m = arg;

	for (int i = 0; i < 2000 && !m->bad; i++)
		churn(m);
	atomic_store(m->stop, 1);
	return NULL;
}

Test(bias, a_second_thread_joins)
{
	atomic_int stop = 0;
	struct mapper m[2];
	pthread_t t;

	for (int k = 0; k < 2; k++) {
		m[k] = (struct mapper){.w = window_new(16), .stop = &stop};
		alloc_exact(m[k].f, 16);
		map_stamped(m[k].w, m[k].f, 16);
		unmap_range(m[k].w, 16);
	}
	for (int i = 0; i < 100; i++)
		churn(&m[0]);
	cr_assert_eq(pthread_create(&t, NULL, second_mapper, &m[1]), 0);
	while (!atomic_load(&stop) && !m[0].bad)
		churn(&m[0]);
	cr_assert_eq(pthread_join(t, NULL), 0);
	cr_assert_eq(m[0].bad, 0, "the first thread's pages went wrong");
	cr_assert_eq(m[1].bad, 0, "the second thread's pages went wrong");
}
