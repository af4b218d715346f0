/* SPDX-License-Identifier: MIT */
/*
 * Calls from signal handlers. A fault handler that maps the faulting page
 * (the user-mode pager's pattern) works whenever its thread was not inside
 * libawe. A handler that calls in while its thread is inside a call (the
 * lock held, by the bias or the mutex, or pages in flight without it) gets
 * -EDEADLK and changes nothing, instead of waiting for itself or running
 * beside the interrupted call. The interrupted call is stopped at a test
 * hook (internal.h), so the signal lands inside every time.
 */
#include "helpers.h"

#include <pthread.h>
#include <stdatomic.h>

#include "internal.h"

/* --- the supported pattern: a fault handler maps the page ----------------- */

static char *pager_window;
static awe_frame_t pager_frames[16];
static atomic_int pager_faults, pager_errors;

static void pager_handler(int sig, siginfo_t *si, void *uc)
{
	char *a = si->si_addr;
	size_t i = (size_t)(a - pager_window) / pg();
	struct awe_page_info pi;

	(void)sig;
	(void)uc;
	atomic_fetch_add(&pager_faults, 1);
	if (a < pager_window || i >= 16 || awe_query(a, &pi) ||
	    awe_map(a, 1, &pager_frames[i]) != 0) {
		atomic_fetch_add(&pager_errors, 1);
		signal(sig, SIG_DFL); /* the retried access then kills us */
	}
}

static void install(int sig, void (*h)(int, siginfo_t *, void *))
{
	struct sigaction sa = {0};

	sa.sa_sigaction = h;
	sa.sa_flags = SA_SIGINFO;
	sigemptyset(&sa.sa_mask);
	cr_assert_eq(sigaction(sig, &sa, NULL), 0);
}

struct busy {
	atomic_int stop;
	int bad;
};

/* Another thread mapping in a window of its own meanwhile: the lock is
 * contended, so map calls let go of it for their moves. */
static void *busy_mapper(void *arg)
{
	struct busy *b = arg;
	char *w = window_new(4);
	awe_frame_t f[4];

	alloc_exact(f, 4);
	while (!atomic_load(&b->stop))
		for (size_t i = 0; i < 4; i++)
			if (awe_map(slot(w, i), 1, &f[i]) || awe_map(slot(w, i), 1, NULL))
				b->bad = 1;
	return NULL;
}

static void pager_run(bool with_busy_thread)
{
	struct busy b = {0};
	pthread_t t;

	pager_window = window_new(16);
	alloc_exact(pager_frames, 16);
	install(fault_signal(), pager_handler);
	if (with_busy_thread)
		cr_assert_eq(pthread_create(&t, NULL, busy_mapper, &b), 0);
	for (int round = 0; round < 50; round++) {
		for (size_t i = 0; i < 16; i++) {
			uint64_t *p = (uint64_t *)slot(pager_window, i);

			if (round == 0)
				cr_assert_eq(*p, 0); /* faults, is mapped, reads zero */
			else
				cr_assert_eq(*p, pager_frames[i] + (uint64_t)round - 1);
			*p = pager_frames[i] + (uint64_t)round;
		}
		unmap_range(pager_window, 16);
	}
	if (with_busy_thread) {
		atomic_store(&b.stop, 1);
		cr_assert_eq(pthread_join(t, NULL), 0);
		cr_assert_eq(b.bad, 0, "the other thread's maps failed");
	}
	cr_assert_eq(atomic_load(&pager_errors), 0);
	cr_assert_eq(atomic_load(&pager_faults), 16 * 50, "%d faults", atomic_load(&pager_faults));
}

Test(reentry, fault_handler_maps_the_page)
{
	pager_run(false);
}

Test(reentry, fault_handler_maps_the_page_beside_another_thread)
{
	pager_run(true);
}

/* --- a handler that calls in while its thread is inside ------------------- */

static char *victim_window;
static awe_frame_t victim_frame;
static enum awe__hook_point raise_at;
static atomic_int handled;
static int handler_rc[4], handler_errno[4];

/* What a handler may try: every call must fail with -EDEADLK. */
static void nested_handler(int sig)
{
	struct awe_page_info pi;
	awe_frame_t f;
	int e = errno;

	(void)sig;
	errno = 0;
	handler_rc[0] = awe_map(slot(victim_window, 1), 1, &victim_frame);
	handler_errno[0] = errno;
	errno = 0;
	handler_rc[1] = awe_query(victim_window, &pi);
	handler_errno[1] = errno;
	errno = 0;
	handler_rc[2] = (int)awe_alloc(&f, 1);
	handler_errno[2] = errno;
	errno = 0;
	handler_rc[3] = awe_init(0);
	handler_errno[3] = errno;
	errno = e;
	atomic_fetch_add(&handled, 1);
}

/* At the hook point, once: the signal arrives on this very thread. */
static void raise_here(enum awe__hook_point p)
{
	if (p == raise_at && atomic_load(&handled) == 0)
		raise(SIGUSR1);
}

static void expect_deadlock_refused(void)
{
	cr_assert_eq(atomic_load(&handled), 1, "the signal was not handled inside the call");
	for (int i = 0; i < 4; i++) {
		cr_assert_eq(handler_rc[i], -EDEADLK, "nested call %d returned %d (%s)", i,
			     handler_rc[i], awe_strerror(handler_rc[i]));
		cr_assert_eq(handler_errno[i], EDEADLK, "nested call %d: errno %d", i,
			     handler_errno[i]);
	}
	/* The nested map changed nothing. */
	assert_slot(slot(victim_window, 1), 0, AWE_PROT_NONE);
	assert_parked(victim_frame);
}

static void victim_setup(enum awe__hook_point at)
{
	victim_window = window_new(4);
	alloc_exact(&victim_frame, 1);
	signal(SIGUSR1, nested_handler);
	raise_at = at;
	awe__test_hook = raise_here;
}

static void *use_once(void *arg)
{
	(void)arg;
	get_stats();
	return NULL;
}

/* Another thread's call waits for the main thread's and revokes its bias:
 * the lock counts as contended from then on, and the main thread takes the
 * mutex (no streak of lone calls gives it the bias back here). */
static void lock_by_mutex_from_now_on(void)
{
	pthread_t t;

	awe__test_bias_streak = 1000000;
	awe__lock();
	cr_assert_eq(pthread_create(&t, NULL, use_once, NULL), 0);
	usleep(100 * 1000);
	awe__unlock();
	cr_assert_eq(pthread_join(t, NULL), 0);
	cr_assert(awe__lock_shared());
}

Test(reentry, handler_while_holding_the_lock_by_its_bias)
{
	victim_setup(AWE__HOOK_STATS);
	get_stats();
	expect_deadlock_refused();
}

Test(reentry, handler_while_holding_the_mutex)
{
	victim_setup(AWE__HOOK_STATS);
	lock_by_mutex_from_now_on();
	cr_assert_not(awe__test_lock_biased());
	get_stats();
	expect_deadlock_refused();
}

/* A single-page map of a process whose lock has been contended moves its
 * page without holding the lock; the handler's calls would wait for those
 * very moves. */
Test(reentry, handler_while_pages_are_in_flight)
{
	awe_frame_t f;
	void *a;

	skip_if_memfd("its moves always hold the lock");
	victim_setup(AWE__HOOK_MOVING);
	alloc_exact(&f, 1);
	lock_by_mutex_from_now_on();
	a = slot(victim_window, 2);
	AWE_OK(awe_map_scatter(&a, 1, &f));
	expect_deadlock_refused();
	/* The interrupted call itself went through. */
	assert_slot(a, f, AWE_PROT_READWRITE);
	assert_page_zero(a);
}
