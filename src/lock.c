/* SPDX-License-Identifier: MIT */
/*
 * The process-wide lock: a mutex, biased towards the thread that uses the
 * library on its own.
 *
 * Why a bias: a mutex is taken with a locked instruction, and a locked
 * instruction waits until the caller's earlier stores have reached the
 * cache. A program that maps a frame, writes to it and unmaps it again has
 * exactly such a store pending, a cache miss, when it calls. Measured with
 * ./dev bench (Intel Xeon guest, Linux 6.18), a single-page map+unmap pair
 * costs 1.14x the bare UFFDIO_MOVE floor with the bias and 1.34x with a
 * plain futex mutex in its place (1.20x in runs of that case alone); a
 * 512-page sweep 1.13x against 1.15x.
 *
 * So a thread that takes the lock alone, call after call, is given the bias
 * (@bias: its id and one of the @inside flags): it then takes and drops the
 * lock with plain stores to its flag, never touching the mutex. Any other
 * thread takes the mutex and revokes the bias: it clears @bias, makes every
 * CPU running the process execute a full barrier (membarrier(2)), and waits
 * until the owner's flag is down. That is Dekker's mutual exclusion with the
 * owner's fence moved to the revoker: either the owner's flag store is
 * visible to the revoker after the barrier, or the owner's second load of
 * @bias comes after it and sees the change.
 *
 * The first thread gets the bias at once. After a revocation a thread must
 * take the mutex BIAS_STREAK times running, no other thread between, to get
 * it (again), and each revocation doubles that up to BIAS_STREAK_MAX, so
 * threads that take turns pay a barrier (a few microseconds) once in
 * thousands of calls at most: a program that sets up on one thread and maps
 * on another ends up with the bias on the second, and one that has used
 * several threads gets it back when it goes on with one.
 *
 * A revoked owner may be between its two loads of @bias, about to raise its
 * old flag for a moment: so a flag goes to nobody else until its last owner
 * has been seen taking the mutex, which it does right after such a try, or
 * has ended (a thread-specific key's destructor). With no flag free there
 * is no bias until one is.
 *
 * A revoker spins a little for the owner's flag and then sleeps on it (a
 * futex); an owner that lowers its flag after its bias went wakes it. A
 * spinning revoker of real-time priority on the owner's CPU would keep the
 * owner from ever running.
 *
 * The holder's @by_bias and @held are written only by a thread that is
 * alone inside: a holder by bias gives the bias up only after it has left
 * by it, and a revoker writes them only once the owner is out.
 *
 * Without membarrier (older kernels, seccomp) there is no bias: the lock is
 * the plain mutex.
 */
#include <linux/membarrier.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "hooks.h"
#include "lock.h"
#include "sys.h"

#define NFLAGS 16 /* a power of two: the flag's index is the id's low bits */
#define BIAS_STREAK 64
#define BIAS_STREAK_MAX 4096
#define REVOKE_SPINS 500 /* ~20 us of waiting for an owner before sleeping */

static pthread_mutex_t mu = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t cv = PTHREAD_COND_INITIALIZER;

/* The owner's id shifted left past the index of its flag; 0: no bias. */
static _Atomic uintptr_t bias;
static atomic_int inside[NFLAGS];

/* Under the lock. */
static bool by_bias;	  /* how the holder took it */
static unsigned int held; /* the flag it holds, by_bias */
static bool shared;	  /* some thread once had to wait for another */

/* Under the mutex. */
static int membarrier_ok = -1;	    /* registered; -1: not tried yet, 0: plain mutex */
static uintptr_t flag_user[NFLAGS]; /* whom flag k was last given; 0: free */
static uintptr_t streak_id;	    /* the last thread to take the mutex, */
static unsigned int streak;	    /* how many times running */
static unsigned int streak_need = 1;

#ifdef AWE_TEST_HOOKS
/* Test hook: when not 0, the streak a thread needs, always (no doubling), so
 * that tests can make the bias change hands often. */
AWE__HIDDEN unsigned int awe__test_bias_streak;
#define STREAK_NEED (awe__test_bias_streak ? awe__test_bias_streak : streak_need)
#else
#define STREAK_NEED streak_need
#endif

#ifndef __has_builtin
#define __has_builtin(x) 0
#endif

/* Anything unique among live threads will do. The thread pointer is a
 * register away; pthread_self() is a call into libc, one more page of code
 * for every call (see AWE__HOT). */
static uintptr_t self(void)
{
#if __has_builtin(__builtin_thread_pointer)
	return (uintptr_t)__builtin_thread_pointer();
#else
	return (uintptr_t)pthread_self();
#endif
}

static uintptr_t bias_word(uintptr_t id, unsigned int k)
{
	return id << 4 | k; /* user-space addresses leave the top bits free */
}

_Static_assert(NFLAGS == 16, "bias_word() keeps the flag's index in 4 bits");

static void cpu_relax(void)
{
#if defined(__x86_64__) || defined(__i386__)
	__builtin_ia32_pause();
#elif defined(__aarch64__)
	__asm__ volatile("yield");
#endif
}

/* Lower flag @k; a revoker may be asleep on it when the bias is no longer
 * @w. The revoker cleared the bias before its membarrier(): either this
 * store is seen by it after the barrier, or the load below comes after the
 * barrier and sees the change. The CPU may still swap the two, which the
 * barrier covers; the compiler must not (as in awe__lock()). */
static void lower_flag(unsigned int k, uintptr_t w)
{
	atomic_store_explicit(&inside[k], 0, memory_order_release);
	atomic_signal_fence(memory_order_seq_cst);
	if (atomic_load_explicit(&bias, memory_order_relaxed) != w)
		awe__sys_futex_wake(&inside[k], 1);
}

/* With the mutex held, after the bias was cleared and every CPU fenced: wait
 * for flag @k to go down. Returns whether it was up. */
static bool wait_flag_down(unsigned int k)
{
	if (!atomic_load_explicit(&inside[k], memory_order_acquire))
		return false;
	for (int i = 0; i < REVOKE_SPINS; i++) {
		if (!atomic_load_explicit(&inside[k], memory_order_acquire))
			return true;
		cpu_relax();
	}
	while (atomic_load_explicit(&inside[k], memory_order_acquire))
		awe__sys_futex_wait(&inside[k], 1);
	return true;
}

/* The revoker's half of the fence. After a successful registration it
 * fails only if a seccomp filter installed since forbids it; without the
 * barrier two threads could both be inside, so that is fatal, as it is for
 * liburcu's membarrier flavour. */
static void barrier_everywhere(void)
{
	int r = awe__sys_membarrier(MEMBARRIER_CMD_PRIVATE_EXPEDITED);

	if (r) {
		fprintf(stderr, "libawe: membarrier(MEMBARRIER_CMD_PRIVATE_EXPEDITED): %s\n",
			strerror(-r));
		abort();
	}
}

/* With the mutex held, or at the owner's end: this thread's own bias needs
 * no barrier to go, as it is not inside by it. Returns the bias word. */
static uintptr_t drop_own_bias(uintptr_t me)
{
	uintptr_t w = atomic_load_explicit(&bias, memory_order_relaxed);

	if (w && w >> 4 == me)
		atomic_store_explicit(&bias, 0, memory_order_relaxed);
	return w;
}

/* With the mutex held: take the bias from its owner, if another thread has
 * it. Returns whether the owner was inside, i.e. this thread had to wait. */
static bool revoke_bias(uintptr_t me)
{
	uintptr_t w = drop_own_bias(me);
	bool waited = false;

	if (!w || w >> 4 == me)
		return false;
	atomic_store(&bias, 0);
	barrier_everywhere();
	waited = wait_flag_down(w & (NFLAGS - 1));
	if (streak_need < BIAS_STREAK)
		streak_need = BIAS_STREAK;
	else if (streak_need < BIAS_STREAK_MAX)
		streak_need *= 2;
	return waited;
}

static pthread_once_t key_once = PTHREAD_ONCE_INIT;
static pthread_key_t key;
static atomic_bool key_ok;

static void release_old_flag(uintptr_t me);

/* An owner's thread ends: it is in no attempt to take the lock, so its
 * flags are free, and a bias it still has goes. */
static void owner_ends(void *unused)
{
	uintptr_t me = self();

	(void)unused;
	pthread_mutex_lock(&mu);
	drop_own_bias(me);
	release_old_flag(me);
	pthread_mutex_unlock(&mu);
}

static void make_key(void)
{
	key_ok = pthread_key_create(&key, owner_ends) == 0;
}

/* A dlclose()d library must not leave threads a destructor to call. Calls
 * after this (other destructors at exit) give no more bias: the key may be
 * someone else's by then. */
__attribute__((destructor)) static void drop_key(void)
{
	if (key_ok) {
		key_ok = false;
		pthread_key_delete(key);
	}
}

/* With the mutex held and no bias: give it to this thread if it has taken
 * the mutex alone long enough and a flag is free. */
static void maybe_grant(uintptr_t me, bool waited)
{
	awe__hook(AWE__HOOK_LOCK_GRANT);
	if (waited || streak_id != me) {
		streak_id = me;
		streak = 0;
	}
	if (++streak < STREAK_NEED || waited)
		return;
	pthread_once(&key_once, make_key);
	/* Any non-NULL value: the destructor runs only for those. */
	if (!key_ok || pthread_setspecific(key, &key) != 0)
		return;
	for (unsigned int k = 0; k < NFLAGS; k++) {
		if (flag_user[k])
			continue;
		flag_user[k] = me;
		streak = 0;
		/* Takes effect at the next awe__lock(): this one holds the mutex. */
		atomic_store_explicit(&bias, bias_word(me, k), memory_order_relaxed);
		return;
	}
}

/* With the mutex just taken: this thread is not between the two loads of
 * awe__lock(), so the flag it last owned is free for others. */
static void release_old_flag(uintptr_t me)
{
	uintptr_t w = atomic_load_explicit(&bias, memory_order_relaxed);

	for (unsigned int k = 0; k < NFLAGS; k++)
		if (flag_user[k] == me && (!w || (w & (NFLAGS - 1)) != k))
			flag_user[k] = 0;
}

AWE__HOT static void lock_slow(uintptr_t me)
{
	bool waited = pthread_mutex_trylock(&mu) != 0;

	if (waited)
		pthread_mutex_lock(&mu);
	if (membarrier_ok < 0)
		membarrier_ok = awe__sys_membarrier(MEMBARRIER_CMD_REGISTER_PRIVATE_EXPEDITED) == 0;
	if (!membarrier_ok) {
		/* No bias was ever given: nothing to revoke or to give. */
		shared |= waited;
		by_bias = false;
		return;
	}
	awe__hook(AWE__HOOK_LOCK_REVOKING);
	waited |= revoke_bias(me);
	release_old_flag(me);
	maybe_grant(me, waited);
	/* Only now: until the owner is known to be out, it may read these. */
	if (waited)
		shared = true;
	by_bias = false;
}

AWE__HOT void awe__lock(void)
{
	uintptr_t me = self();
	uintptr_t w = atomic_load_explicit(&bias, memory_order_relaxed);

	if (w >> 4 == me) {
		unsigned int k = w & (NFLAGS - 1);

		atomic_store_explicit(&inside[k], 1, memory_order_relaxed);
		/* The revoker's membarrier() is the other half of this fence. */
		atomic_signal_fence(memory_order_seq_cst);
		if (atomic_load_explicit(&bias, memory_order_relaxed) == w) {
			by_bias = true;
			held = k;
			return;
		}
		lower_flag(k, w);
	}
	lock_slow(me);
}

AWE__HOT void awe__unlock(void)
{
	if (by_bias) {
		by_bias = false;
		lower_flag(held, bias_word(self(), held));
		return;
	}
	pthread_mutex_unlock(&mu);
}

/* A holder by bias has had the lock to itself for a streak: letting go of
 * it for a move would only cost the move an unlock and a relock. */
bool awe__lock_shared(void)
{
	return shared && !by_bias;
}

/* Waiting needs the mutex. A holder by bias trades the bias for it and
 * returns at once: what it waits for may have come true during the trade,
 * and callers look at their condition again after any wait. */
void awe__lock_wait(void)
{
	uintptr_t me = self();
	int cs;

	if (by_bias) {
		/* Out by the bias first: only then may it go. */
		awe__unlock();
		awe__hook(AWE__HOOK_LOCK_TRADE);
		lock_slow(me);
		return;
	}
	/* pthread_cond_wait() is a cancellation point, and a thread cancelled
	 * in it would take the mutex with it. */
	pthread_setcancelstate(PTHREAD_CANCEL_DISABLE, &cs);
	pthread_cond_wait(&cv, &mu);
	pthread_setcancelstate(cs, NULL);
	/* The bias may have been given meanwhile. */
	if (membarrier_ok > 0 && revoke_bias(me))
		shared = true;
	by_bias = false;
}

void awe__lock_wake_all(void)
{
	pthread_cond_broadcast(&cv);
}

/* fork(): the forking thread takes the lock by the mutex, so that no other
 * thread holds the mutex when the child is made, and waits for another
 * thread's bias; its own it keeps (it is not inside by it). */
void awe__lock_fork_prepare(void)
{
	uintptr_t me = self();
	uintptr_t w;

	pthread_mutex_lock(&mu);
	w = atomic_load_explicit(&bias, memory_order_relaxed);
	if (w && w >> 4 != me)
		revoke_bias(me);
	by_bias = false;
}

void awe__lock_fork_parent(void)
{
	awe__unlock();
}

/* The child has only the thread that forked, which holds the mutex: start
 * over, bias, registration and all. */
void awe__lock_fork_child(void)
{
	mu = (pthread_mutex_t)PTHREAD_MUTEX_INITIALIZER;
	cv = (pthread_cond_t)PTHREAD_COND_INITIALIZER;
	atomic_store_explicit(&bias, 0, memory_order_relaxed);
	for (unsigned int k = 0; k < NFLAGS; k++) {
		atomic_store_explicit(&inside[k], 0, memory_order_relaxed);
		flag_user[k] = 0;
	}
	by_bias = false;
	shared = false;
	membarrier_ok = -1;
	streak_id = 0;
	streak = 0;
	streak_need = 1;
}

#ifdef AWE_TEST_HOOKS
bool awe__test_lock_biased(void)
{
	return by_bias;
}
#endif
