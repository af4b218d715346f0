/* SPDX-License-Identifier: MIT */
/*
 * The Win32 layer's one fork handler (w32.h): libawe-win32 has three table
 * locks of its own (handles, regions, AWE regions), leaves that are never
 * held together, and one pthread_atfork() registration for all, made when the
 * library is loaded: the tables then need not call up here first.
 */
#include <pthread.h>

#include "w32.h"

static void prepare(void)
{
	w32__handles_fork(W32__FORK_PREPARE);
	w32__regions_fork(W32__FORK_PREPARE);
	w32__views_fork(W32__FORK_PREPARE);
}

static void parent(void)
{
	w32__views_fork(W32__FORK_PARENT);
	w32__regions_fork(W32__FORK_PARENT);
	w32__handles_fork(W32__FORK_PARENT);
}

static void child(void)
{
	w32__views_fork(W32__FORK_CHILD);
	w32__regions_fork(W32__FORK_CHILD);
	w32__handles_fork(W32__FORK_CHILD);
}

__attribute__((constructor)) static void install(void)
{
	pthread_atfork(prepare, parent, child);
}
