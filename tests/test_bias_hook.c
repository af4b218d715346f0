/* SPDX-License-Identifier: MIT */
/*
 * The process-wide lock's bias (src/lock.c): interleavings provoked with the
 * test hook, each a defect found in review: an owner trading its bias for
 * the mutex keeps mutual exclusion and loses no wake-up, fork() while
 * another thread holds the mutex, and awe_frame_addr() answering from under
 * the lock.
 */
#include "bias.h"

#include <pthread.h>
#include <semaphore.h>
#include <stdatomic.h>
#include <time.h>

/* --- interleavings provoked with the test hook ----------------------------
 *
 * A gate stops the thread that armed it at one hook point (internal.h),
 * once, until the test lets it go: the races below happen every time, not
 * by luck. Checks made on other threads are flags the main thread asserts.
 */
static struct {
	enum awe__hook_point at;
	sem_t arrived, release;
	atomic_bool armed;
} gate;
static __thread bool gate_mine;

static void gate_hook(enum awe__hook_point p)
{
	if (p == gate.at && gate_mine && atomic_exchange(&gate.armed, false)) {
		sem_post(&gate.arrived);
		sem_wait(&gate.release);
	}
}

/* Before the threads start; the thread that is to stop then calls
 * gate_mine_now(). */
static void gate_arm(enum awe__hook_point at)
{
	gate.at = at;
	sem_init(&gate.arrived, 0, 0);
	sem_init(&gate.release, 0, 0);
	atomic_store(&gate.armed, true);
	awe__test_hook = gate_hook;
}

static void gate_mine_now(void)
{
	gate_mine = true;
}

static bool sem_wait_ms(sem_t *s, long ms)
{
	struct timespec t;

	clock_gettime(CLOCK_REALTIME, &t);
	t.tv_sec += ms / 1000;
	t.tv_nsec += (ms % 1000) * 1000000;
	if (t.tv_nsec >= 1000000000) {
		t.tv_sec++;
		t.tv_nsec -= 1000000000;
	}
	while (sem_timedwait(s, &t) != 0)
		if (errno != EINTR)
			return false;
	return true;
}

/* Threads inside the lock right now, counted by the threads themselves. */
static struct {
	atomic_int in, bad;
	sem_t b_in, b_go;
	atomic_int ready, done;
} tr;

static void enter_counted(void)
{
	awe__lock();
	if (atomic_fetch_add(&tr.in, 1) != 0)
		atomic_store(&tr.bad, 1);
}

static void leave_counted(void)
{
	atomic_fetch_sub(&tr.in, 1);
	awe__unlock();
}

static void *stay_inside(void *arg)
{
	(void)arg;
	enter_counted();
	sem_post(&tr.b_in);
	sem_wait(&tr.b_go);
	leave_counted();
	return NULL;
}

static void *pass_through(void *arg)
{
	(void)arg;
	enter_counted();
	leave_counted();
	return NULL;
}

/* Wakes whoever waits on the lock's condition, until @until is set (or
 * once when it is NULL). */
static void wake_waiters(atomic_int *until)
{
	do {
		awe__lock();
		awe__lock_wake_all();
		awe__unlock();
		usleep(10 * 1000);
	} while (until && !atomic_load(until));
}

static void *trade_controller(void *arg)
{
	pthread_t b, d;

	(void)arg;
	if (!sem_wait_ms(&gate.arrived, 5000)) {
		atomic_store(&tr.bad, 2);
		return NULL;
	}
	/* The owner is trading its bias for the mutex: B gets in meanwhile. */
	pthread_create(&b, NULL, stay_inside, NULL);
	if (!sem_wait_ms(&tr.b_in, 5000))
		atomic_store(&tr.bad, 3);
	sem_post(&gate.release);
	usleep(100 * 1000);
	/* While B is inside nobody else may get in. */
	pthread_create(&d, NULL, pass_through, NULL);
	usleep(100 * 1000);
	sem_post(&tr.b_go);
	pthread_join(b, NULL);
	pthread_join(d, NULL);
	wake_waiters(&tr.done);
	return NULL;
}

/* Review defect 11(a): an owner waiting on the lock's condition trades its
 * bias for the mutex. It must not publish "no bias" while still inside by
 * it, or a revoker walks in without waiting and the owner then unlocks the
 * revoker's mutex. */
Test(bias, trading_the_bias_keeps_mutual_exclusion)
{
	pthread_t ctl;

	skip_without_membarrier();
	own_bias();
	gate_arm(AWE__HOOK_LOCK_TRADE);
	gate_mine_now();
	cr_assert_eq(pthread_create(&ctl, NULL, trade_controller, NULL), 0);
	enter_counted();
	cr_assert(awe__test_lock_biased());
	atomic_fetch_sub(&tr.in, 1); /* the wait lets go of the lock */
	awe__lock_wait();
	if (atomic_fetch_add(&tr.in, 1) != 0)
		atomic_store(&tr.bad, 1);
	leave_counted();
	atomic_store(&tr.done, 1);
	cr_assert_eq(pthread_join(ctl, NULL), 0);
	cr_assert_eq(atomic_load(&tr.bad), 0,
		     "two threads were inside at once (%d: 1 overlap, 2-3 a step timed out)",
		     atomic_load(&tr.bad));
}

static void *set_ready_and_wake(void *arg)
{
	(void)arg;
	awe__lock();
	atomic_store(&tr.ready, 1);
	awe__lock_wake_all();
	awe__unlock();
	return NULL;
}

static void *wakeup_controller(void *arg)
{
	pthread_t b;

	(void)arg;
	if (!sem_wait_ms(&gate.arrived, 5000)) {
		atomic_store(&tr.bad, 2);
		return NULL;
	}
	/* The condition comes true, and is announced, during the trade. */
	pthread_create(&b, NULL, set_ready_and_wake, NULL);
	pthread_join(b, NULL);
	sem_post(&gate.release);
	for (int i = 0; i < 200 && !atomic_load(&tr.done); i++)
		usleep(10 * 1000);
	if (!atomic_load(&tr.done))
		atomic_store(&tr.bad, 1); /* still asleep: the wake-up was lost */
	wake_waiters(&tr.done);
	return NULL;
}

/* Review defect 11(b): a wake-up announced while the owner trades its bias
 * for the mutex must not be lost (the waiter looks at its condition again
 * instead of going to sleep). */
Test(bias, no_wakeup_lost_while_trading)
{
	pthread_t ctl;

	skip_without_membarrier();
	own_bias();
	gate_arm(AWE__HOOK_LOCK_TRADE);
	gate_mine_now();
	cr_assert_eq(pthread_create(&ctl, NULL, wakeup_controller, NULL), 0);
	awe__lock();
	cr_assert(awe__test_lock_biased());
	while (!atomic_load(&tr.ready))
		awe__lock_wait();
	awe__unlock();
	atomic_store(&tr.done, 1);
	cr_assert_eq(pthread_join(ctl, NULL), 0);
	cr_assert_eq(atomic_load(&tr.bad), 0, "the wake-up was lost: the waiter slept on (%d)",
		     atomic_load(&tr.bad));
}

static void *revoke_stopped(void *arg)
{
	(void)arg;
	gate_mine_now();
	awe__lock();
	awe__unlock();
	return NULL;
}

static void *release_later(void *arg)
{
	(void)arg;
	usleep(300 * 1000);
	sem_post(&gate.release);
	return NULL;
}

/* Review defect 11(c): fork() from the bias owner while another thread holds
 * the mutex (here: about to revoke the bias). The prepare handler must take
 * the mutex too, or the child inherits it locked by a thread it does not
 * have and hangs at its first call. */
Test(bias, fork_while_another_thread_holds_the_mutex)
{
	pthread_t b, r;
	pid_t p;
	int st;

	skip_without_membarrier();
	own_bias();
	gate_arm(AWE__HOOK_LOCK_REVOKING);
	cr_assert_eq(pthread_create(&b, NULL, revoke_stopped, NULL), 0);
	cr_assert(sem_wait_ms(&gate.arrived, 5000), "the revoker did not get the mutex");
	cr_assert_eq(pthread_create(&r, NULL, release_later, NULL), 0);
	fflush(NULL);
	p = fork();
	cr_assert_neq(p, -1);
	if (p == 0) {
		struct awe_stats st2;

		alarm(5);
		_exit(awe_stats(&st2) == 0 && lock_n(2) ? 0 : 1);
	}
	cr_assert_eq(waitpid(p, &st, 0), p);
	cr_assert_eq(pthread_join(b, NULL), 0);
	cr_assert_eq(pthread_join(r, NULL), 0);
	cr_assert(!WIFSIGNALED(st), "the child hung on the lock (killed by %s)",
		  strsignal(WTERMSIG(st)));
	cr_assert(WIFEXITED(st) && WEXITSTATUS(st) == 0, "the child failed: %#x", st);
}

struct addr_call {
	awe_frame_t f;
	void *addr;
	int r;
};

static void *frame_addr_stopped(void *arg)
{
	struct addr_call *a = arg;

	gate_mine_now();
	a->r = awe_frame_addr(a->f, &a->addr);
	return NULL;
}

/* Review defect 11(d): awe_frame_addr() must read the frame's entry under
 * the lock. Here, right after the call let go of it, the frame is freed and
 * its table entry given to a section frame: the answer must still be the
 * one of the moment the call looked, not a mix of before and after. */
Test(bias, frame_addr_answers_from_under_the_lock)
{
	struct addr_call a = {.addr = (void *)1};
	char *w = window_new(2);
	awe_section_t sec;
	awe_frame_t sf;
	pthread_t t;

	alloc_exact(&a.f, 1);
	map1(slot(w, 1), a.f);
	gate_arm(AWE__HOOK_FRAME_ADDR);
	cr_assert_eq(pthread_create(&t, NULL, frame_addr_stopped, &a), 0);
	cr_assert(sem_wait_ms(&gate.arrived, 5000), "awe_frame_addr() did not get that far");
	AWE_OK(awe_free(&a.f, 1, NULL));
	/* The freed table entry is the first to be reused. */
	AWE_OK(awe_section_create(0, &sec));
	cr_assert_eq(awe_section_alloc(sec, &sf, 1), 1);
	sem_post(&gate.release);
	cr_assert_eq(pthread_join(t, NULL), 0);
	cr_assert_eq(a.r, 0, "awe_frame_addr: %d", a.r);
	cr_assert_eq(a.addr, slot(w, 1), "awe_frame_addr said %p, the frame was at %p", a.addr,
		     (void *)slot(w, 1));
}
