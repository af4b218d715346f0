/* SPDX-License-Identifier: MIT */
/*
 * The process-wide lock's bias (src/lock.c) where the system decides: with
 * membarrier(2) refused by a seccomp filter the lock is a plain mutex, and
 * a SCHED_FIFO thread revoking the bias of a normal thread on its CPU
 * sleeps instead of spinning.
 */
#include "bias.h"

#include <pthread.h>
#include <sched.h>
#include <semaphore.h>
#include <stdatomic.h>
#include <sys/syscall.h>
#include <time.h>

/* What lock_many() adds to, from two threads. */
static long hands_counter;

/* --- without membarrier: a plain mutex ------------------------------------ */

static atomic_int grant_looks;

static void count_grants(enum awe__hook_point p)
{
	if (p == AWE__HOOK_LOCK_GRANT)
		atomic_fetch_add(&grant_looks, 1);
}

static void *lock_many(void *arg)
{
	(void)arg;
	for (int i = 0; i < 10000; i++) {
		awe__lock();
		hands_counter++;
		awe__unlock();
	}
	return NULL;
}

static int child_plain_mutex(void)
{
	struct refusal no_membarrier = {.nr = SYS_membarrier, .err = EPERM};
	struct awe_stats st;
	pthread_t t;
	int r = seccomp_refuse(&no_membarrier, 1);

	if (r)
		return r;
	awe__test_hook = count_grants;
	CHILD_OK(awe_stats(&st));
	CHILD_CHECK(pthread_create(&t, NULL, lock_many, NULL) == 0);
	lock_many(NULL);
	CHILD_CHECK(pthread_join(t, NULL) == 0);
	CHILD_CHECK(hands_counter == 20000, "lost %ld updates", 20000 - hands_counter);
	CHILD_CHECK(!lock_n(100), "a bias without membarrier");
	CHILD_CHECK(atomic_load(&grant_looks) == 0,
		    "the lock looked for a bias to give %d times: not a plain mutex",
		    atomic_load(&grant_looks));
	return 0;
}

/* Review: where membarrier(2) is refused there can be no bias, and the lock
 * is then a plain mutex, not the bias machinery idling. */
Test(bias, without_membarrier_a_plain_mutex)
{
	int st;
	pid_t p;

	fflush(NULL);
	p = fork();
	cr_assert_neq(p, -1);
	if (p == 0)
		_exit(child_plain_mutex());
	cr_assert_eq(waitpid(p, &st, 0), p);
	cr_assert(WIFEXITED(st), "the child died: %#x", st);
	if (WEXITSTATUS(st) == SECCOMP_SKIP)
		cr_skip_test("no seccomp filter here (see stderr)");
	cr_assert_eq(WEXITSTATUS(st), 0, "see the child's stderr");
}

/* --- a real-time revoker on the owner's CPU -------------------------------- */

struct fifo {
	sem_t ready, go;
	int skip; /* errno of the scheduling change, 0 when it worked */
	double waited_ms;
};

static double now_ms(clockid_t clk)
{
	struct timespec t;

	clock_gettime(clk, &t);
	return (double)t.tv_sec * 1e3 + (double)t.tv_nsec / 1e6;
}

static int pin_to(int cpu)
{
	cpu_set_t set;

	CPU_ZERO(&set);
	CPU_SET(cpu, &set);
	return pthread_setaffinity_np(pthread_self(), sizeof(set), &set);
}

static void *fifo_revoker(void *arg)
{
	struct fifo *f = arg;
	struct sched_param sp = {.sched_priority = 1};
	double t0;

	f->skip = pin_to(0);
	if (!f->skip)
		f->skip = pthread_setschedparam(pthread_self(), SCHED_FIFO, &sp);
	sem_post(&f->ready);
	if (f->skip)
		return NULL;
	sem_wait(&f->go);
	t0 = now_ms(CLOCK_MONOTONIC);
	awe__lock();
	f->waited_ms = now_ms(CLOCK_MONOTONIC) - t0;
	awe__unlock();
	return NULL;
}

/* Review: a SCHED_FIFO thread revoking the bias of a normal thread on the
 * same CPU must not spin until real-time throttling lets the owner finish
 * (about a second for a 35 ms call; forever with throttling off): it waits
 * for the owner's flag to go down, sleeping. */
Test(bias, realtime_revoker_sleeps)
{
	struct fifo f = {0};
	pthread_t t;
	double t0;

	skip_without_membarrier();
	cr_assert_eq(pin_to(0), 0);
	own_bias();
	sem_init(&f.ready, 0, 0);
	sem_init(&f.go, 0, 0);
	cr_assert_eq(pthread_create(&t, NULL, fifo_revoker, &f), 0);
	sem_wait(&f.ready);
	if (f.skip) {
		pthread_join(t, NULL);
		cr_skip_test("cannot run a SCHED_FIFO thread here: %s", strerror(f.skip));
	}
	awe__lock();
	cr_assert(awe__test_lock_biased());
	sem_post(&f.go); /* the revoker preempts us at once */
	t0 = now_ms(CLOCK_THREAD_CPUTIME_ID);
	while (now_ms(CLOCK_THREAD_CPUTIME_ID) - t0 < 35)
		;
	awe__unlock();
	cr_assert_eq(pthread_join(t, NULL), 0);
	cr_log_info("the real-time revoker waited %.1f ms for a 35 ms call", f.waited_ms);
	cr_assert_lt(f.waited_ms, 350, "the revoker waited %.0f ms for a 35 ms call", f.waited_ms);
}
