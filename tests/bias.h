/* SPDX-License-Identifier: MIT */
/*
 * Helpers of the test_bias programs (the process-wide lock's bias,
 * src/lock.c, through the static library's hooks): skipping where the lock
 * can have no bias, locking @n times and telling whether by the bias, and
 * taking the bias for the calling thread.
 */
#ifndef AWE_TEST_BIAS_H
#define AWE_TEST_BIAS_H

#include "helpers.h"

#include <linux/membarrier.h>

#include "internal.h"
#include "sys.h"

static inline void skip_without_membarrier(void)
{
	int have = awe__sys_membarrier(MEMBARRIER_CMD_QUERY);

	if (have < 0 || !(have & MEMBARRIER_CMD_PRIVATE_EXPEDITED))
		cr_skip_test("membarrier(MEMBARRIER_CMD_PRIVATE_EXPEDITED) is not available: "
			     "the lock has no bias here");
}

/* Locks and unlocks @n times; whether the last one was by the bias. */
static inline bool lock_n(int n)
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
static inline void own_bias(void)
{
	get_stats();
	cr_assert(lock_n(1), "the first thread to lock should own the bias");
}

#endif /* AWE_TEST_BIAS_H */
