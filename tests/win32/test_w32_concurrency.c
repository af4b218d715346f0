/* SPDX-License-Identifier: MIT */
/*
 * §11: threads racing on one frame or one page. Workers only record what
 * their calls returned; the main thread judges every round, since
 * Criterion's asserts belong to it.
 */
#include "w32helpers.h"

#include <pthread.h>

enum { ROUNDS = 3000 };

struct race {
	pthread_barrier_t go, done;
	PVOID va[2];	  /* where each thread maps this round */
	ULONG_PTR pfn[2]; /* what each thread maps */
	BOOL ok[2];
	DWORD le[2];
	int err[2];
	bool stop;
};

struct racer {
	struct race *r;
	int id;
};

static void *racer(void *arg)
{
	struct racer *me = arg;
	struct race *r = me->r;

	for (;;) {
		pthread_barrier_wait(&r->go);
		if (r->stop)
			break;
		SetLastError(LE_CANARY);
		errno = ERRNO_CANARY;
		r->ok[me->id] = MapUserPhysicalPages(r->va[me->id], 1, &r->pfn[me->id]);
		r->err[me->id] = errno;
		r->le[me->id] = GetLastError();
		pthread_barrier_wait(&r->done);
	}
	return NULL;
}

static void race_start(struct race *r, pthread_t t[2], struct racer me[2])
{
	cr_assert_eq(pthread_barrier_init(&r->go, NULL, 3), 0);
	cr_assert_eq(pthread_barrier_init(&r->done, NULL, 3), 0);
	for (int i = 0; i < 2; i++) {
		me[i] = (struct racer){r, i};
		cr_assert_eq(pthread_create(&t[i], NULL, racer, &me[i]), 0);
	}
}

static void race_round(struct race *r)
{
	pthread_barrier_wait(&r->go);
	pthread_barrier_wait(&r->done);
}

static void race_stop(struct race *r, pthread_t t[2])
{
	r->stop = true;
	pthread_barrier_wait(&r->go);
	for (int i = 0; i < 2; i++)
		cr_assert_eq(pthread_join(t[i], NULL), 0);
	pthread_barrier_destroy(&r->go);
	pthread_barrier_destroy(&r->done);
}

/* The same frame at two pages at once: exactly one wins, the other gets 487. */
Test(concurrency, same_frame_one_winner, .timeout = 120)
{
	PULONG_PTR a = pfns_new(1);
	char *w = region_new(2);
	struct race r = {.va = {w, w + pg()}, .pfn = {a[0], a[0]}};
	struct racer me[2];
	pthread_t t[2];
	int wins[2] = {0, 0};

	race_start(&r, t, me);
	for (int round = 0; round < ROUNDS; round++) {
		race_round(&r);
		cr_assert_neq(r.ok[0], r.ok[1], "round %d: both returned %d", round, r.ok[0]);
		int win = r.ok[0] ? 0 : 1, lose = 1 - win;

		wins[win]++;
		cr_assert_eq(r.ok[win], TRUE);
		cr_assert_eq(r.le[win], LE_CANARY, "the winner's last error changed");
		cr_assert_eq(r.err[win], ERRNO_CANARY);
		cr_assert_eq(r.le[lose], ERROR_INVALID_ADDRESS, "round %d: loser's last error %u",
			     round, r.le[lose]);
		cr_assert_eq(r.err[lose], ERROR_INVALID_ADDRESS);
		cr_assert_eq(frame_where(a[0]), r.va[win]);
		assert_slot(r.va[lose], 0, AWE_PROT_NONE);
		*(volatile ULONG_PTR *)r.va[win] = round;
		map_ok(r.va[win], 1, NULL);
	}
	race_stop(&r, t);
	cr_log_info("wins: thread 0 %d, thread 1 %d", wins[0], wins[1]);
	map_ok(w, 1, a);
	cr_assert_eq(*(ULONG_PTR *)w, ROUNDS - 1, "the frame kept the last write");
	free(a);
}

/* Two frames at the same page at once: both succeed, one of them ends there. */
Test(concurrency, same_page_both_succeed, .timeout = 120)
{
	PULONG_PTR a = pfns_new(2);
	char *w = region_new(1);
	struct race r = {.va = {w, w}, .pfn = {a[0], a[1]}};
	struct racer me[2];
	pthread_t t[2];

	map_ok(w, 1, a);
	*(ULONG_PTR *)w = a[0];
	map_ok(w, 1, a + 1);
	*(ULONG_PTR *)w = a[1];
	map_ok(w, 1, NULL);
	race_start(&r, t, me);
	for (int round = 0; round < ROUNDS; round++) {
		race_round(&r);
		cr_assert(r.ok[0] && r.ok[1], "round %d: %d (%u) / %d (%u)", round, r.ok[0],
			  r.le[0], r.ok[1], r.le[1]);
		cr_assert_eq(r.le[0], LE_CANARY);
		cr_assert_eq(r.le[1], LE_CANARY);
		struct awe_page_info pi = query(w);
		int at = pi.frame == a[0] ? 0 : 1;

		cr_assert_eq(pi.frame, a[at], "round %d: page holds %#lx", round,
			     (unsigned long)pi.frame);
		cr_assert_eq(*(ULONG_PTR *)w, a[at], "page and data disagree");
		assert_parked(a[1 - at]);
		map_ok(w, 1, NULL);
	}
	race_stop(&r, t);
	free(a);
}

/* Mapping and freeing the same frame at once: either order, a consistent end. */
struct free_race {
	pthread_barrier_t go;
	char *w;
	ULONG_PTR pfn;
	BOOL map_ok, free_ok;
	DWORD map_le, free_le;
	ULONG_PTR freed;
};

static void *mapper(void *arg)
{
	struct free_race *r = arg;

	pthread_barrier_wait(&r->go);
	r->map_ok = MapUserPhysicalPages(r->w, 1, &r->pfn);
	r->map_le = GetLastError();
	return NULL;
}

static void *freer(void *arg)
{
	struct free_race *r = arg;

	pthread_barrier_wait(&r->go);
	r->freed = 1;
	r->free_ok = FreeUserPhysicalPages(GetCurrentProcess(), &r->freed, &r->pfn);
	r->free_le = GetLastError();
	return NULL;
}

Test(concurrency, map_while_freeing, .timeout = 120)
{
	enum { N = 500 };
	PULONG_PTR a = pfns_new(N);
	struct free_race r = {.w = region_new(1)};
	int mapped_first = 0;

	for (int i = 0; i < N; i++) {
		pthread_t t[2];

		r.pfn = a[i];
		cr_assert_eq(pthread_barrier_init(&r.go, NULL, 2), 0);
		cr_assert_eq(pthread_create(&t[0], NULL, mapper, &r), 0);
		cr_assert_eq(pthread_create(&t[1], NULL, freer, &r), 0);
		cr_assert_eq(pthread_join(t[0], NULL), 0);
		cr_assert_eq(pthread_join(t[1], NULL), 0);
		pthread_barrier_destroy(&r.go);

		cr_assert_eq(r.free_ok, TRUE, "free failed with %u", r.free_le);
		cr_assert_eq(r.freed, 1);
		if (r.map_ok)
			mapped_first++;
		else
			cr_assert_eq(r.map_le, ERROR_INVALID_ADDRESS);
		/* Either way the frame is gone and the page empty. */
		assert_frame_invalid(a[i]);
		assert_unmapped(r.w);
	}
	cr_log_info("map won %d of %d races", mapped_first, N);
	free(a);
}

/* Each thread has its own last error while they all fail at once. */
static void *fail_repeatedly(void *arg)
{
	DWORD code = (DWORD)(uintptr_t)arg, *bad = malloc(sizeof(*bad));
	ULONG_PTR n = 0;

	*bad = 0;
	for (int i = 0; i < 20000 && !*bad; i++) {
		if (code == ERROR_INVALID_HANDLE)
			CloseHandle(bogus_handle(0x999));
		else if (code == ERROR_INVALID_PARAMETER)
			FreeUserPhysicalPages(GetCurrentProcess(), &n, NULL);
		else
			VirtualQuery(NULL, NULL, 0);
		if (GetLastError() != code || errno != (int)code)
			*bad = GetLastError() ? GetLastError() : 1;
	}
	return bad;
}

Test(concurrency, last_error_per_thread)
{
	static const DWORD codes[] = {ERROR_INVALID_HANDLE, ERROR_INVALID_PARAMETER,
				      ERROR_BAD_LENGTH};
	pthread_t t[3];
	void *res;

	for (int i = 0; i < 3; i++)
		cr_assert_eq(pthread_create(&t[i], NULL, fail_repeatedly,
					    (void *)(uintptr_t)codes[i]),
			     0);
	for (int i = 0; i < 3; i++) {
		cr_assert_eq(pthread_join(t[i], &res), 0);
		cr_assert_eq(*(DWORD *)res, 0, "thread %d saw last error %u, expected %u", i,
			     *(DWORD *)res, codes[i]);
		free(res);
	}
}
