/* SPDX-License-Identifier: MIT */
/*
 * Hooks for the test suite, which links the static library: fault
 * injection (make the Nth kernel call of a kind fail, as the kernel may)
 * and a callback at named points of slow paths (internal.h). All zero or
 * NULL in production, where each costs a load and a predicted branch on
 * paths that are not hot.
 */
#include "hooks.h"

#include <stdlib.h>

/* When it counts down to zero, that move or mmap/mprotect run stops (half-
 * way for UFFDIO_MOVE and UFFDIO_COPY) with ENOMEM, as the kernel may when it cannot
 * allocate a page table. */
int awe__test_fail_move;
/* When it counts down to zero, that UFFDIO_MOVE goes through and then
 * reports EEXIST with nothing moved, as Linux 6.18 can under migration. */
int awe__test_misreport_move;
/* When it counts down to zero, that release call of a discard fails. */
int awe__test_fail_discard;
/* When it counts down to one, that undo of a rollback fails, and so does
 * every later one until the test resets it: the kernel refusing to put a
 * page back (EBUSY when something pinned it meanwhile). */
int awe__test_fail_undo;
/* When it counts down to zero, that allocation of a call's planning fails. */
int awe__test_fail_alloc;
/* When it counts down to zero, that batched drop of pages fails with
 * ENOMEM having dropped nothing. */
int awe__test_fail_drop;
/* When it counts down to zero, that check of a large frame's page finds it
 * built of small pages, as when the kernel has no free huge page. */
int awe__test_fail_huge;
/* Not 0: the number of threads the engines take the process to have, in
 * place of /proc/self/stat's (1: alone, 2: with others). */
int awe__test_threads;
/* Not 0: the number of NUMA nodes the library takes the machine to have
 * when it starts (2: a node asked for must be kept). */
int awe__test_nodes;
void (*awe__test_hook)(enum awe__hook_point p);

/* AWE_TEST_THREADS=N in the environment sets awe__test_threads (meson's
 * test variants, tests/meson.build). */
__attribute__((constructor)) static void threads_from_env(void)
{
	const char *v = getenv("AWE_TEST_THREADS");

	if (v)
		awe__test_threads = atoi(v);
}

bool awe__inject_sticky(int *counter)
{
	if (*counter <= 0)
		return false;
	if (*counter > 1)
		--*counter;
	return *counter == 1;
}
