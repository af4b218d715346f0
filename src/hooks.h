/* SPDX-License-Identifier: MIT */
/*
 * Test-only hooks, in one place: fault injection (make the Nth kernel call
 * of a kind fail, as the kernel may) and a callback at named points of slow
 * paths, so that a test can stop a thread there and provoke an interleaving
 * deterministically instead of by luck. They exist in builds that build the
 * test suite (AWE_TEST_HOOKS, set by meson with -Dtests=true); elsewhere,
 * release and packaged builds included, every hook compiles to nothing.
 * The tests that use them link the static library.
 */
#ifndef AWE_HOOKS_H
#define AWE_HOOKS_H

#include "common.h"

enum awe__hook_point {
	AWE__HOOK_LOCK_TRADE,	 /* awe__lock_wait(): a holder by bias trades it */
	AWE__HOOK_LOCK_REVOKING, /* the mutex is held, the bias not yet revoked */
	AWE__HOOK_LOCK_GRANT,	 /* the lock considers giving a thread the bias */
	AWE__HOOK_FRAME_ADDR,	 /* awe_frame_addr() has let go of the lock */
	AWE__HOOK_STATS,	 /* awe_stats() holds the lock */
	AWE__HOOK_MOVING,	 /* a call let go of the lock for its moves */
	AWE__HOOK_ALLOC_NODE,	 /* an engine allocates under the call's NUMA policy */
};

#ifdef AWE_TEST_HOOKS

/* hooks.c: fault injection counters (see there for what each does). */
extern AWE__HIDDEN int awe__test_fail_move, awe__test_misreport_move, awe__test_fail_discard,
	awe__test_fail_undo, awe__test_fail_alloc, awe__test_fail_drop, awe__test_fail_huge,
	awe__test_threads, awe__test_nodes;
extern AWE__HIDDEN void (*awe__test_hook)(enum awe__hook_point p);
/* lock.c: the holder took the lock by its bias; the streak of lone mutex
 * calls that earns a thread the bias (0: the real policy). */
AWE__HIDDEN bool awe__test_lock_biased(void);
extern AWE__HIDDEN unsigned int awe__test_bias_streak;

/* fsread.c: when set, every path read from /proc and /sys is prefixed with
 * it, so that a test can lay out a fake tree. */
extern AWE__HIDDEN const char *awe__test_sysroot;

/* Whether this call of a kind is to fail from here on (sticky). */
AWE__HIDDEN bool awe__inject_sticky(int *counter);

/* Whether this call of a kind is to fail. Inline: it guards every
 * UFFDIO_MOVE, and a call into hooks.c after the move would cost the hot
 * path a page of code (see AWE__HOT). */
static inline bool awe__inject(int *counter)
{
	return __builtin_expect(*counter > 0, 0) && --*counter == 0;
}

static inline void awe__hook(enum awe__hook_point p)
{
	if (__builtin_expect(awe__test_hook != NULL, 0))
		awe__test_hook(p);
}

#define AWE__INJECT(kind) awe__inject(&awe__test_##kind)
#define AWE__INJECT_STICKY(kind) awe__inject_sticky(&awe__test_##kind)
#define AWE__TEST_THREADS() awe__test_threads
#define AWE__TEST_NODES() awe__test_nodes

#else

#define AWE__INJECT(kind) false
#define AWE__INJECT_STICKY(kind) false
#define AWE__TEST_THREADS() 0
#define AWE__TEST_NODES() 0
#define awe__test_sysroot ((const char *)NULL)
static inline void awe__hook(enum awe__hook_point p)
{
	(void)p;
}

#endif

#endif
