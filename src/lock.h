/* SPDX-License-Identifier: MIT */
/*
 * The process-wide lock (lock.c), biased towards a thread that uses the
 * library alone. It knows nothing of what it guards.
 */
#ifndef AWE_LOCK_H
#define AWE_LOCK_H

#include "common.h"

AWE__HIDDEN void awe__lock(void);
AWE__HIDDEN void awe__unlock(void);
/* Some thread once had to wait for the lock and the holder is not the bias
 * owner: map calls then let go of it during their kernel moves. */
AWE__HIDDEN bool awe__lock_shared(void);
/* A condition on the lock, for calls that let go of it: wait (the lock is
 * let go meanwhile) and wake every waiter. */
AWE__HIDDEN void awe__lock_wait(void);
AWE__HIDDEN void awe__lock_wake_all(void);
/* fork(): the prepare handler takes the lock by the mutex; the child starts
 * the lock over. */
AWE__HIDDEN void awe__lock_fork_prepare(void);
AWE__HIDDEN void awe__lock_fork_parent(void);
AWE__HIDDEN void awe__lock_fork_child(void);

#endif
