/* SPDX-License-Identifier: MIT */
/*
 * Test helpers for programs with threads of their own: failures recorded by
 * worker threads, starting and joining threads, and busy threads that make
 * the process multithreaded without touching libawe. Not included by
 * helpers.h, since it has state of its own: the threaded tests include it.
 */
#ifndef AWE_TEST_HELPERS_THREAD_H
#define AWE_TEST_HELPERS_THREAD_H

#include "helpers.h"

#include <pthread.h>
#include <sched.h>
#include <stdarg.h>
#include <stdatomic.h>

/*
 * Criterion's asserts must stay in the test's main thread: worker threads
 * record their first failure here and the main thread reports it.
 */
static pthread_mutex_t fail_lock = PTHREAD_MUTEX_INITIALIZER;
static char fail_msg[512];
static atomic_int failed;

static inline __attribute__((format(printf, 1, 2))) void fail(const char *fmt, ...)
{
	va_list ap;

	pthread_mutex_lock(&fail_lock);
	if (!atomic_load(&failed)) {
		va_start(ap, fmt);
		vsnprintf(fail_msg, sizeof(fail_msg), fmt, ap);
		va_end(ap);
		atomic_store(&failed, 1);
	}
	pthread_mutex_unlock(&fail_lock);
}

static inline void assert_no_thread_failure(void)
{
	cr_assert_eq(atomic_load(&failed), 0, "%s", fail_msg);
}

static inline void spawn(pthread_t *t, size_t n, void *(*fn)(void *), void *args, size_t argsize)
{
	for (size_t i = 0; i < n; i++)
		cr_assert_eq(pthread_create(&t[i], NULL, fn, (char *)args + i * argsize), 0);
}

static inline void join(pthread_t *t, size_t n)
{
	for (size_t i = 0; i < n; i++)
		cr_assert_eq(pthread_join(t[i], NULL), 0);
}

/*
 * Threads that spin on memory of their own and never call libawe: the
 * process has other threads, running on other CPUs, which is when page
 * table changes cost TLB shootdowns and libawe may take other paths.
 */
enum { SPINNERS_MAX = 4 };

struct spinners {
	pthread_t t[SPINNERS_MAX];
	size_t n;
	atomic_int stop, running;
};

static inline void *spinner_main(void *arg)
{
	struct spinners *s = arg;
	volatile uint64_t mine[512];

	atomic_fetch_add(&s->running, 1);
	for (uint64_t i = 0; !atomic_load_explicit(&s->stop, memory_order_relaxed); i++)
		mine[i % 512] = i;
	(void)mine[0];
	return NULL;
}

/* Starts @n spinners and returns once every one of them runs. */
static inline void spinners_start(struct spinners *s, size_t n)
{
	cr_assert_leq(n, SPINNERS_MAX);
	s->n = n;
	atomic_store(&s->stop, 0);
	atomic_store(&s->running, 0);
	for (size_t i = 0; i < n; i++)
		cr_assert_eq(pthread_create(&s->t[i], NULL, spinner_main, s), 0);
	while (atomic_load(&s->running) < (int)n)
		sched_yield();
}

static inline void spinners_stop(struct spinners *s)
{
	atomic_store(&s->stop, 1);
	join(s->t, s->n);
}

#endif /* AWE_TEST_HELPERS_THREAD_H */
