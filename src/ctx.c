/* SPDX-License-Identifier: MIT */
/*
 * The process-wide context and the way into it: lazy initialisation, the
 * lock taken on entry, re-entry refused, and fork handling. AWE state is per
 * process on Windows, so it is here too. Every public function (api.c)
 * enters here and leaves here.
 */
#include <errno.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "internal.h"
#include "sysfacts.h"
#include "uaddr.h"

static pthread_once_t awe__once = PTHREAD_ONCE_INIT;
/* Set while this thread is inside a call. A signal handler that calls in
 * again on the same thread (a fault handler, say, while the interrupted
 * call holds the lock or has pages in flight) gets -EDEADLK instead of
 * waiting for itself or running beside itself. Initial-exec: no
 * __tls_get_addr() call on every entry. */
static __thread bool awe__in_call __attribute__((tls_model("initial-exec")));
static atomic_bool awe__atfork_set; /* spares every call pthread_once()'s page */
static struct awe__ctx *awe__cur;
static bool awe__forked;

static void atfork_prepare(void)
{
	awe__lock_fork_prepare();
}

static void atfork_parent(void)
{
	awe__lock_fork_parent();
}

/* A fork() child gets none of the windows or frames (they are MADV_DONTFORK,
 * as Windows does not inherit AWE regions), only our bookkeeping and the
 * engines' descriptors. The descriptors are closed at once, before the child
 * runs any code of its own (it might never call libawe); the bookkeeping is
 * only marked, which is async-signal-safe, and the next call throws it
 * away. */
static void atfork_child(void)
{
	awe__lock_fork_child();
	if (!awe__cur)
		return;
	awe__forked = true;
	awe__cur->eng.ops->fork_child(awe__cur->eng.data);
	if (awe__cur->large.ops)
		awe__cur->large.ops->fork_child(awe__cur->large.data);
	awe__sections_fork_child(awe__cur);
}

static void once_init(void)
{
	awe__uaddr_init();
	pthread_atfork(atfork_prepare, atfork_parent, atfork_child);
}

unsigned int awe__env_flags(void)
{
	return awe__env_unlocked() ? AWE_INIT_UNLOCKED : 0;
}

static void ctx_destroy(struct awe__ctx *c, bool forked)
{
	awe__sections_fini(c, forked);
	c->eng.ops->fini(c->eng.data, forked);
	if (c->large.ops)
		c->large.ops->fini(c->large.data, forked);
	awe__windows_fini(c);
	awe__frames_fini(c);
	free(c);
}

static int ctx_create(unsigned int flags, struct awe__ctx **out)
{
	struct awe__ctx *c = calloc(1, sizeof(*c));
	struct awe__eng_conf conf;
	int r;

	if (!c)
		return -ENOMEM;
	c->flags = flags;
	c->locked = !(flags & AWE_INIT_UNLOCKED);
	c->memlock_limit = awe__memlock_limit();
	c->page = (size_t)sysconf(_SC_PAGESIZE);
	c->page_shift = (unsigned int)__builtin_ctzl(c->page);
	awe__ctx_conf(c, false, &conf);
	r = awe__frames_measure(c);
	if (!r)
		r = awe__engine_select(&conf, &c->eng.ops, &c->eng.data, c->engine_reason,
				       sizeof(c->engine_reason));
	if (r) {
		free(c);
		return r;
	}
	*out = c;
	return 0;
}

/* Acquire: the once routine's writes (awe__uaddr) are read without it. */
AWE__HOT static void once(void)
{
	if (!atomic_load_explicit(&awe__atfork_set, memory_order_acquire)) {
		pthread_once(&awe__once, once_init);
		atomic_store_explicit(&awe__atfork_set, true, memory_order_release);
	}
}

AWE__HOT bool awe__ptr_ok(const void *p, size_t n, size_t size)
{
	once();
	return awe__uaddr_array_ok(p, n, size);
}

/* Take the lock; on a fork child drop the parent's state first. */
AWE__HOT static void lock_fresh(void)
{
	once();
	awe__lock();
	if (awe__forked) {
		ctx_destroy(awe__cur, true);
		awe__cur = NULL;
		awe__forked = false;
	}
}

/* Mark this thread as inside a call, unless it already is. */
AWE__HOT static bool call_begin(void)
{
	if (awe__in_call)
		return false;
	awe__in_call = true;
	atomic_signal_fence(memory_order_seq_cst);
	return true;
}

AWE__HOT static void call_end(void)
{
	atomic_signal_fence(memory_order_seq_cst);
	awe__in_call = false;
}

/* Inside, with the lock; the context as it is (NULL before the start). */
AWE__HOT int awe__enter_bare(struct awe__ctx **c)
{
	if (!call_begin())
		return -EDEADLK;
	lock_fresh();
	*c = awe__cur;
	return 0;
}

AWE__HOT int awe__enter_map(struct awe__ctx **c)
{
	int r = awe__enter_bare(c);

	if (!r && !*c) {
		r = ctx_create(awe__env_flags(), &awe__cur);
		if (r)
			awe__leave();
		*c = awe__cur;
	}
	return r;
}

int awe__enter(struct awe__ctx **c)
{
	int r = awe__enter_map(c);

	while (!r && (*c)->moving)
		awe__lock_wait();
	return r;
}

AWE__HOT void awe__leave(void)
{
	awe__unlock();
	call_end();
}

int awe__start(unsigned int flags)
{
	struct awe__ctx *c;
	int r = awe__enter_bare(&c);

	if (r)
		return r;
	flags |= awe__env_flags();
	r = c ? (c->flags == flags ? 0 : -EBUSY) : ctx_create(flags, &awe__cur);
	awe__leave();
	return r;
}
