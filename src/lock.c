/* SPDX-License-Identifier: MIT */
/*
 * The process-wide lock: a mutex, biased towards the thread that uses the
 * library first.
 *
 * Why a bias: a mutex is taken with a locked instruction, and a locked
 * instruction waits until the caller's earlier stores have reached the
 * cache. A program that maps a frame, writes to it and unmaps it again has
 * exactly such a store pending, a cache miss, when it calls: measured on a
 * single-page map+unmap pair, the wait was 5 % of the pair, kernel included.
 *
 * So the first thread to take the lock owns a bias and from then on takes
 * and drops the lock with plain stores (@inside), never touching the mutex.
 * Any other thread takes the mutex and, the first time, revokes the bias:
 * it sets @revoked, makes every CPU running the process execute a full
 * barrier (membarrier(2)), and waits until the owner is not inside. That is
 * Dekker's mutual exclusion with the owner's fence moved to the revoker:
 * either the owner's "inside" store is visible to the revoker after the
 * barrier, or the owner's load of @revoked comes after it and sees true.
 * After a revocation everyone, the former owner too, takes the mutex: a
 * program whose threads share the library pays the barrier once.
 *
 * Without membarrier (older kernels, seccomp) there is no bias.
 */
#include <linux/membarrier.h>
#include <pthread.h>
#include <sched.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "internal.h"
#include "sys.h"

static pthread_mutex_t mu = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t cv = PTHREAD_COND_INITIALIZER;

static _Atomic uintptr_t owner; /* the bias owner (self()); 0: none */
static atomic_bool revoked;
static atomic_int inside; /* the owner holds the lock by its bias */

/* Under the lock. */
static bool by_bias; /* how the holder took it */
static bool granted; /* the bias has been given (or could not be) */
static bool shared;  /* some thread once had to wait for another */

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

/* Returns whether the owner was inside, i.e. this thread had to wait. */
static bool revoke_bias(void)
{
	bool waited = false;

	atomic_store(&revoked, true);
	barrier_everywhere();
	while (atomic_load_explicit(&inside, memory_order_acquire)) {
		waited = true;
		sched_yield();
	}
	return waited;
}

AWE__HOT static void lock_slow(uintptr_t me)
{
	bool waited = pthread_mutex_trylock(&mu) != 0;
	uintptr_t o;

	if (waited)
		pthread_mutex_lock(&mu);
	o = atomic_load_explicit(&owner, memory_order_relaxed);
	if (!granted) {
		granted = true;
		if (awe__sys_membarrier(MEMBARRIER_CMD_REGISTER_PRIVATE_EXPEDITED) == 0)
			atomic_store_explicit(&owner, me, memory_order_relaxed);
	} else if (o && o != me && !atomic_load_explicit(&revoked, memory_order_relaxed)) {
		waited |= revoke_bias();
	}
	/* Only now: until the owner is known to be out, it may read these. */
	if (waited)
		shared = true;
	by_bias = false;
}

AWE__HOT void awe__lock(void)
{
	uintptr_t me = self();

	if (atomic_load_explicit(&owner, memory_order_relaxed) == me) {
		atomic_store_explicit(&inside, 1, memory_order_relaxed);
		/* The revoker's membarrier() is the other half of this fence. */
		atomic_signal_fence(memory_order_seq_cst);
		if (!atomic_load_explicit(&revoked, memory_order_relaxed)) {
			by_bias = true;
			return;
		}
		atomic_store_explicit(&inside, 0, memory_order_release);
	}
	lock_slow(me);
}

AWE__HOT void awe__unlock(void)
{
	if (by_bias) {
		by_bias = false;
		atomic_store_explicit(&inside, 0, memory_order_release);
		return;
	}
	pthread_mutex_unlock(&mu);
}

bool awe__lock_shared(void)
{
	return shared;
}

/* Only a call that found the lock shared lets go of it for its moves, so
 * nobody waits while the bias is in force: the mutex is held here. */
void awe__lock_wait(void)
{
	pthread_cond_wait(&cv, &mu);
}

void awe__lock_wake_all(void)
{
	pthread_cond_broadcast(&cv);
}

/* A fork() child has only the thread that forked, which holds the lock
 * (awe__lock() from the prepare handler): start over, bias and all. */
void awe__lock_atfork_child(void)
{
	bool held_by_mutex = !by_bias;

	cv = (pthread_cond_t)PTHREAD_COND_INITIALIZER;
	atomic_store_explicit(&owner, 0, memory_order_relaxed);
	atomic_store_explicit(&revoked, false, memory_order_relaxed);
	atomic_store_explicit(&inside, 0, memory_order_relaxed);
	by_bias = false;
	granted = false;
	shared = false;
	if (held_by_mutex)
		pthread_mutex_unlock(&mu);
}

bool awe__test_lock_biased(void)
{
	return by_bias;
}
