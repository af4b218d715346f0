/* SPDX-License-Identifier: MIT */
/*
 * The process-wide lock's bias (src/lock.c): the first thread takes the lock
 * without the mutex; a second thread revokes that and waits for it; a
 * thread that goes on alone gets it back; fork() children start over.
 */
#include "helpers.h"

#include <linux/membarrier.h>
#include <pthread.h>
#include <sched.h>
#include <semaphore.h>
#include <stdatomic.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>

#include "internal.h"
#include "sys.h"

static void skip_without_membarrier(void)
{
	int have = awe__sys_membarrier(MEMBARRIER_CMD_QUERY);

	if (have < 0 || !(have & MEMBARRIER_CMD_PRIVATE_EXPEDITED))
		cr_skip_test("membarrier(MEMBARRIER_CMD_PRIVATE_EXPEDITED) is not available: "
			     "the lock has no bias here");
}

/* Locks and unlocks @n times; whether the last one was by the bias. */
static bool lock_n(int n)
{
	bool b = false;

	for (int i = 0; i < n; i++) {
		awe__lock();
		b = awe__test_lock_biased();
		awe__unlock();
	}
	return b;
}

/* The first lock gives the bias (under the mutex); from the next on the
 * owner takes it without the mutex. A public call takes it first, as it
 * also sets up the fork handlers. */
static void own_bias(void)
{
	get_stats();
	cr_assert(lock_n(1), "the first thread to lock should own the bias");
}

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
