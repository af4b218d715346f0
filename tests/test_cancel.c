/* SPDX-License-Identifier: MIT */
/*
 * pthread_cancel(). libawe has no cancellation point while it holds its
 * lock (its file reads, closes and waits are raw system calls or run with
 * cancellation disabled), so a thread with a cancellation pending goes
 * through every call and is cancelled only after it returns: the library
 * is never left locked. Each call is made with the cancellation already
 * pending, so that any cancellation point inside would act, every time.
 */
#include "helpers.h"

#include <pthread.h>
#include <semaphore.h>
#include <stdatomic.h>

#include "internal.h"

struct job {
	void (*fn)(void *);
	void *arg;
	atomic_int returned;
};

static void *cancelled_caller(void *arg)
{
	struct job *j = arg;

	pthread_setcanceltype(PTHREAD_CANCEL_DEFERRED, NULL);
	pthread_cancel(pthread_self()); /* pending from here on */
	j->fn(j->arg);
	atomic_store(&j->returned, 1);
	pthread_testcancel();
	return NULL;
}

/* Runs @fn on a thread with a cancellation pending: it must return, the
 * thread be cancelled afterwards, and libawe still answer. */
static void call_cancelled(const char *what, void (*fn)(void *), void *arg)
{
	struct job j = {.fn = fn, .arg = arg};
	struct awe_stats st;
	pthread_t t;
	void *res;

	cr_assert_eq(pthread_create(&t, NULL, cancelled_caller, &j), 0);
	cr_assert_eq(pthread_join(t, &res), 0);
	cr_assert_eq(res, PTHREAD_CANCELED, "%s: the thread was not cancelled at all", what);
	cr_assert_eq(atomic_load(&j.returned), 1, "%s: cancelled inside libawe", what);
	alarm(10); /* a lock left held would hang here */
	AWE_OK(awe_stats(&st));
	alarm(0);
}

static struct {
	char *w;
	awe_frame_t f[8], spare[2];
	awe_section_t sec;
} s;

static void do_init(void *a)
{
	(void)a;
	awe_init(0);
}
static void do_alloc(void *a)
{
	(void)a;
	awe_alloc(s.spare, 2);
}
static void do_alloc_node(void *a)
{
	(void)a;
	awe_free(s.spare, 2, NULL);
	awe_alloc_node(s.spare, 2, 0);
}
static void do_free(void *a)
{
	(void)a;
	awe_free(s.spare, 2, NULL);
}
static void do_window(void *a)
{
	void *b;
	(void)a;
	if (!awe_window_create(pg(), NULL, 0, &b))
		awe_window_destroy(b);
}
static void do_map(void *a)
{
	(void)a;
	awe_map(s.w, 4, s.f);
}
static void do_unmap(void *a)
{
	(void)a;
	awe_map(s.w, 4, NULL);
}
static void do_scatter(void *a)
{
	void *x = slot(s.w, 5);
	(void)a;
	awe_map_scatter(&x, 1, &s.f[5]);
	awe_map_scatter(&x, 1, NULL);
}
static void do_protect(void *a)
{
	int old;
	(void)a;
	awe_protect(s.w, 8, AWE_PROT_READ, &old);
	awe_protect(s.w, 8, AWE_PROT_READWRITE, &old);
}
static void do_query(void *a)
{
	struct awe_page_info pi;
	(void)a;
	awe_query(s.w, &pi);
}
static void do_frame_addr(void *a)
{
	void *x;
	(void)a;
	awe_frame_addr(s.f[0], &x);
}
static void do_stats(void *a)
{
	struct awe_stats st;
	(void)a;
	awe_stats(&st);
}
static void do_section(void *a)
{
	awe_section_t sec;
	awe_frame_t f;
	void *b;

	(void)a;
	if (awe_section_create(0, &sec))
		return;
	if (awe_section_alloc(sec, &f, 1) == 1 &&
	    !awe_section_window_create(sec, pg(), NULL, 0, &b)) {
		awe_map(b, 1, &f);
		awe_section_free(sec, &f, 1, NULL);
		awe_window_destroy(b);
	}
	awe_section_close(sec);
}
static void do_misc(void *a)
{
	(void)a;
	awe_page_size();
	awe_strerror(-EIO);
}

Test(cancel, every_call_completes)
{
	static const struct {
		const char *name;
		void (*fn)(void *);
	} calls[] = {
		{"awe_init", do_init},
		{"awe_alloc", do_alloc},
		{"awe_alloc_node", do_alloc_node},
		{"awe_free", do_free},
		{"awe_window_create/destroy", do_window},
		{"awe_map", do_map},
		{"awe_map (unmap)", do_unmap},
		{"awe_map_scatter", do_scatter},
		{"awe_protect", do_protect},
		{"awe_query", do_query},
		{"awe_frame_addr", do_frame_addr},
		{"awe_stats", do_stats},
		{"the section functions", do_section},
		{"awe_page_size, awe_strerror", do_misc},
	};

	s.w = window_new(8);
	alloc_exact(s.f, 8);
	alloc_exact(s.spare, 2);
	for (size_t i = 0; i < sizeof(calls) / sizeof(calls[0]); i++)
		call_cancelled(calls[i].name, calls[i].fn, NULL);
	/* The allocation cap's reading of /proc and the cgroups, which a
	 * second later is due again. */
	sleep(1);
	call_cancelled("awe_alloc (reading the memory limits)", do_alloc, NULL);
	assert_stamped(s.w, s.f, 0);
	map_stamped(s.w, s.f, 8);
	assert_stamped(s.w, s.f, 8);
}

/* Waiting for another thread's moves is a wait on a condition, a
 * cancellation point of libc's: it must not act there. The mover stops at
 * the test hook while its pages are in flight without the lock. */
static sem_t mover_in, mover_go;
static atomic_bool mover_stopping;

static void stop_mover(enum awe__hook_point p)
{
	if (p == AWE__HOOK_MOVING && atomic_exchange(&mover_stopping, false)) {
		sem_post(&mover_in);
		sem_wait(&mover_go);
	}
}

static void *mover(void *arg)
{
	void *x = slot(s.w, 6);

	(void)arg;
	atomic_store(&mover_stopping, true);
	awe_map_scatter(&x, 1, &s.f[6]);
	return NULL;
}

static void *use_once(void *arg)
{
	(void)arg;
	get_stats();
	return NULL;
}

static void *release_mover(void *arg)
{
	(void)arg;
	usleep(200 * 1000);
	sem_post(&mover_go);
	return NULL;
}

Test(cancel, waiting_for_moves_completes)
{
	pthread_t m, t, r;

	skip_if_memfd("its moves always hold the lock");
	s.w = window_new(8);
	alloc_exact(s.f, 8);
	/* Contended once, so that map calls let go of the lock for moves. */
	awe__lock();
	cr_assert_eq(pthread_create(&t, NULL, use_once, NULL), 0);
	usleep(100 * 1000);
	awe__unlock();
	cr_assert_eq(pthread_join(t, NULL), 0);
	sem_init(&mover_in, 0, 0);
	sem_init(&mover_go, 0, 0);
	awe__test_hook = stop_mover;
	cr_assert_eq(pthread_create(&m, NULL, mover, NULL), 0);
	sem_wait(&mover_in);
	cr_assert_eq(pthread_create(&r, NULL, release_mover, NULL), 0);
	call_cancelled("awe_stats while a map's pages are in flight", do_stats, NULL);
	cr_assert_eq(pthread_join(m, NULL), 0);
	cr_assert_eq(pthread_join(r, NULL), 0);
	assert_slot(slot(s.w, 6), s.f[6], AWE_PROT_READWRITE);
}
