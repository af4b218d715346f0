/* SPDX-License-Identifier: MIT */
/*
 * The process-wide context: one lock, lazy initialisation, fork handling and
 * the counters. AWE state is per process on Windows, so it is here too.
 */
#include <errno.h>
#include <linux/capability.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "engine.h"
#include "internal.h"
#include "uaddr.h"
#include "sysfacts.h"

/*
 * One lock (lock.c) guards all state. Windows takes its per-process AWE lock
 * shared for map calls, so threads mapping into windows of their own run
 * side by side; here a map call may let go of the lock for the time of its
 * kernel moves (awe__unlock_for_moves), once the lock has been seen shared:
 * a single-threaded program never pays for it. While moves are under way
 * their window is busy (other map calls into it wait) and every other call
 * waits for all moves to finish (awe__enter), so none of them ever sees a
 * half-made change.
 */
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
	awe__sections_fork_child(awe__cur);
}

static void once_init(void)
{
	awe__uaddr_init();
	pthread_atfork(atfork_prepare, atfork_parent, atfork_child);
}

static bool has_cap_ipc_lock(void)
{
	struct __user_cap_header_struct hdr = {_LINUX_CAPABILITY_VERSION_3, 0};
	struct __user_cap_data_struct data[_LINUX_CAPABILITY_U32S_3];
	int e = errno;
	long r = syscall(SYS_capget, &hdr, data);

	errno = e;
	if (r != 0)
		return false;
	return data[CAP_IPC_LOCK / 32].effective & (1u << (CAP_IPC_LOCK % 32));
}

uint64_t awe__memlock_limit(void)
{
	struct rlimit rl;

	if (has_cap_ipc_lock())
		return UINT64_MAX;
	if (getrlimit(RLIMIT_MEMLOCK, &rl) != 0 || rl.rlim_cur == RLIM_INFINITY)
		return UINT64_MAX;
	return rl.rlim_cur;
}

uint64_t awe__memlock_room(const struct awe__ctx *c)
{
	uint64_t used;

	/* Unreadable (no descriptor left): take the limit as used up. */
	if (awe__memlock_used(&used))
		used = c->memlock_limit;
	return c->memlock_limit > used ? c->memlock_limit - used : 0;
}

static unsigned int env_flags(void)
{
	const char *v = getenv("LIBAWE_UNLOCKED");

	return v && strcmp(v, "1") == 0 ? AWE_INIT_UNLOCKED : 0;
}

static void ctx_destroy(struct awe__ctx *c, bool forked)
{
	awe__sections_fini(c, forked);
	c->eng.ops->fini(c, c->eng.data, forked);
	awe__windows_fini(c);
	awe__frames_fini(c);
	free(c);
}

static int ctx_create(unsigned int flags, struct awe__ctx **out)
{
	struct awe__ctx *c = calloc(1, sizeof(*c));
	int r;

	if (!c)
		return -ENOMEM;
	c->flags = flags;
	c->locked = !(flags & AWE_INIT_UNLOCKED);
	c->memlock_limit = awe__memlock_limit();
	c->page = (size_t)sysconf(_SC_PAGESIZE);
	c->page_shift = (unsigned int)__builtin_ctzl(c->page);
	/* The kernel's default where /proc/sys is missing; but no descriptor
	 * left is no reason to guess. */
	r = awe__max_map_count(&c->max_map_count);
	if (r && !awe__facts_lacking(r)) {
		c->max_map_count = 65530;
		r = 0;
	}
	if (!r)
		r = awe__frames_measure(c);
	if (!r)
		r = awe__engine_select(c);
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

AWE__HOT int awe__enter_map(struct awe__ctx **c)
{
	int r = 0;

	if (!call_begin())
		return -EDEADLK;
	lock_fresh();
	if (!awe__cur)
		r = ctx_create(env_flags(), &awe__cur);
	if (r) {
		awe__leave();
		return r;
	}
	*c = awe__cur;
	return 0;
}

int awe__enter(struct awe__ctx **c)
{
	int r = awe__enter_map(c);

	while (!r && (*c)->moving)
		awe__lock_wait();
	return r;
}

AWE__HOT bool awe__unlock_for_moves(struct awe__ctx *c, struct awe__window *w)
{
	if (!awe__lock_shared())
		return false;
	w->busy++;
	c->moving++;
	awe__unlock();
	awe__hook(AWE__HOOK_MOVING);
	return true;
}

AWE__HOT void awe__relock_after_moves(struct awe__ctx *c, struct awe__window *w)
{
	awe__lock();
	w->busy--;
	c->moving--;
	awe__lock_wake_all();
}

void awe__wait_moves(void)
{
	awe__lock_wait();
}

AWE__HOT void awe__leave(void)
{
	awe__unlock();
	call_end();
}

AWE__HOT int awe__ret(int r)
{
	if (r < 0)
		errno = -r;
	return r;
}

int awe_init(unsigned int flags)
{
	int r = 0;

	if (flags & ~(unsigned int)AWE_INIT_UNLOCKED)
		return awe__ret(-EINVAL);
	flags |= env_flags();
	if (!call_begin())
		return awe__ret(-EDEADLK);
	lock_fresh();
	if (awe__cur)
		r = awe__cur->flags == flags ? 0 : -EBUSY;
	else
		r = ctx_create(flags, &awe__cur);
	awe__leave();
	return awe__ret(r);
}

int awe_stats(struct awe_stats *st)
{
	struct awe__ctx *c;
	int r;

	if (!awe__ptr_ok(st, 1, sizeof(*st)))
		return awe__ret(-EFAULT);
	r = awe__enter(&c);
	if (r)
		return awe__ret(r);
	awe__hook(AWE__HOOK_STATS);
	memset(st, 0, sizeof(*st));
	st->frames_allocated = c->allocated;
	st->frames_mapped = c->mapped;
	st->windows = c->nwin;
	st->window_bytes = c->window_bytes;
	st->parking_bytes = c->eng.ops->parking_bytes(c, c->eng.data);
	st->memlock_limit = awe__memlock_limit();
	st->engine = c->eng.ops->name;
	st->engine_reason = c->engine_reason;
	st->max_map_count = c->max_map_count;
	st->vmas_worst = c->vma_worst;
	st->locked = c->locked;
	awe__leave();
	return 0;
}

size_t awe_page_size(void)
{
	return (size_t)sysconf(_SC_PAGESIZE);
}
