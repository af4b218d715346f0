/* SPDX-License-Identifier: MIT */
/*
 * The process-wide lock's bias (src/lock.c): the first thread takes the lock
 * without the mutex; a second thread revokes that and waits for it; fork()
 * children start over.
 */
#include "helpers.h"

#include <linux/membarrier.h>
#include <pthread.h>
#include <stdatomic.h>
#include <sys/wait.h>

#include "internal.h"
#include "sys.h"

static void skip_without_membarrier(void)
{
	int have = awe__sys_membarrier(MEMBARRIER_CMD_QUERY);

	if (have < 0 || !(have & MEMBARRIER_CMD_PRIVATE_EXPEDITED))
		cr_skip_test("membarrier(MEMBARRIER_CMD_PRIVATE_EXPEDITED) is not available: "
			     "the lock has no bias here");
}

/* The first lock gives the bias (under the mutex); from the next on the
 * owner takes it without the mutex. A public call takes it first, as it
 * also sets up the fork handlers. */
static void own_bias(void)
{
	get_stats();
	awe__lock();
	cr_assert(awe__test_lock_biased(), "the first thread to lock should own the bias");
	awe__unlock();
}

Test(bias, first_thread_owns_it)
{
	skip_without_membarrier();
	own_bias();
	awe__lock();
	cr_assert(awe__test_lock_biased());
	awe__unlock();
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
	awe__lock();
	cr_assert(awe__test_lock_biased());
	awe__unlock();
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
	awe__lock();
	cr_assert_not(awe__test_lock_biased(), "a revoked bias must stay revoked");
	awe__unlock();
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

	awe__lock();
	awe__unlock();
	awe__lock();
	if (!awe__test_lock_biased())
		return 2;
	awe__unlock();
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
		awe__lock();
		awe__unlock();
		awe__lock();
		_exit(awe__test_lock_biased() ? 0 : 1);
	}
	cr_assert_eq(waitpid(p, &st, 0), p);
	cr_assert(WIFEXITED(st) && WEXITSTATUS(st) == 0, "the child did not own a bias");
	awe__lock();
	cr_assert(awe__test_lock_biased(), "fork() from the owner must not cost it the bias");
	awe__unlock();
}

static void *fork_from_thread(void *arg)
{
	int *res = arg;
	pid_t p = fork();
	int st;

	if (p == 0) {
		awe__lock();
		awe__unlock();
		awe__lock();
		_exit(awe__test_lock_biased() ? 0 : 1);
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
	awe__lock();
	cr_assert_not(awe__test_lock_biased(), "the fork revoked the parent's bias");
	awe__unlock();
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
