/* SPDX-License-Identifier: MIT */
/* Locked frames, RLIMIT_MEMLOCK and AWE_INIT_UNLOCKED. */
#include "helpers.h"

#define MiB ((size_t)1 << 20)

enum { WANT = 4096 }; /* 16 MiB of frames with 4 KiB pages */

static void no_env(void)
{
	unsetenv("LIBAWE_UNLOCKED");
}

TestSuite(lock, .init = no_env);

Test(lock, root_is_locked_and_unlimited)
{
	struct awe_stats st;

	skip_unless_root("CAP_IPC_LOCK makes the lock limit infinite");
	st = get_stats();
	cr_assert_eq(st.locked, 1);
	cr_assert_eq(st.memlock_limit, UINT64_MAX, "memlock_limit %" PRIu64, st.memlock_limit);
}

Test(lock, vmlck_grows_with_frames)
{
	long before = vmlck_kb(), after;
	awe_frame_t f[1024];

	cr_assert_geq(before, 0, "no VmLck in /proc/self/status");
	alloc_exact(f, 1024);
	after = vmlck_kb();
	cr_log_info("VmLck %ld kB -> %ld kB for 1024 frames", before, after);
	cr_assert_geq(after - before, (long)(1024 * pg() / 1024),
		      "VmLck grew by %ld kB only, after allocating %zu kB of frames",
		      after - before, 1024 * pg() / 1024);
}

Test(lock, unlocked_locks_nothing)
{
	long before = vmlck_kb();
	awe_frame_t f[1024];
	char *w;

	AWE_OK(awe_init(AWE_INIT_UNLOCKED));
	alloc_exact(f, 1024);
	w = window_new(1024);
	AWE_OK(awe_map(w, 1024, f));
	cr_assert_eq(vmlck_kb(), before, "VmLck %ld kB -> %ld kB in unlocked mode", before,
		     vmlck_kb());
	cr_assert_eq(get_stats().locked, 0);
}

/* Root keeps CAP_IPC_LOCK: a zero RLIMIT_MEMLOCK does not matter. */
static int child_root_zero_limit(void *arg)
{
	awe_frame_t f[256];
	struct awe_stats st;

	(void)arg;
	CHILD_CHECK(awe_alloc(f, 256) == 256);
	CHILD_OK(awe_stats(&st));
	CHILD_CHECK(st.locked == 1 && st.memlock_limit == UINT64_MAX, "locked %u limit %" PRIu64,
		    st.locked, st.memlock_limit);
	return 0;
}

Test(lock, root_ignores_rlimit)
{
	struct child_opts o = {.set_memlock = true, .memlock = 0};

	skip_unless_root("the test relies on CAP_IPC_LOCK");
	run_in_child(child_root_zero_limit, NULL, &o);
}

/* Unprivileged, RLIMIT_MEMLOCK 0: nothing can be locked. */
static int child_limit_zero(void *arg)
{
	awe_frame_t f[16];
	struct awe_stats st;
	const char *msg;
	void *base;

	(void)arg;
	CHILD_ERR(awe_alloc(f, 16), EPERM);
	CHILD_ERR(awe_alloc_node(f, 1, -1), EPERM);
	msg = awe_strerror(-EPERM);
	CHILD_CHECK(msg && strstr(msg, "RLIMIT_MEMLOCK"), "awe_strerror(-EPERM): %s", msg);
	CHILD_OK(awe_stats(&st));
	if (!strcmp(st.engine, "memfd")) {
		/* Its windows are PROT_NONE reservations, never locked: the
		 * frames' pages are locked where they live (the pool). */
		CHILD_OK(awe_window_create(pg(), NULL, 0, &base));
		CHILD_OK(awe_window_destroy(base));
	} else {
		/* Its windows are mlocked ranges, counted whole. */
		CHILD_ERR(awe_window_create(pg(), NULL, 0, &base), EPERM);
	}
	CHILD_OK(awe_stats(&st));
	CHILD_CHECK(st.locked == 1);
	CHILD_CHECK(st.memlock_limit == 0, "memlock_limit %" PRIu64, st.memlock_limit);
	CHILD_CHECK(st.frames_allocated == 0 && st.windows == 0);
	return 0;
}

Test(lock, unprivileged_zero_limit)
{
	struct child_opts o = {.as_nobody = true, .set_memlock = true, .memlock = 0};

	skip_unless_root("dropping to nobody needs root");
	run_in_child(child_limit_zero, NULL, &o);
}

/* Unprivileged, a few MiB: a larger request is cut down, as on Windows. */
static int child_partial(void *arg)
{
	awe_frame_t *f = malloc(WANT * sizeof(*f));
	struct awe_stats st;
	ssize_t n, again;

	(void)arg;
	CHILD_CHECK(f);
	n = awe_alloc(f, WANT);
	CHILD_CHECK(n > 0 && n < WANT, "awe_alloc(%d) with a 4 MiB limit returned %zd", WANT, n);
	CHILD_CHECK((size_t)n * pg() <= 4 * MiB, "%zd frames exceed the limit", n);
	CHILD_OK(awe_stats(&st));
	CHILD_CHECK(st.frames_allocated == (uint64_t)n);
	CHILD_CHECK(st.memlock_limit == 4 * MiB, "memlock_limit %" PRIu64, st.memlock_limit);
	CHILD_CHECK(st.locked == 1);
	/* The allowance comes back with the frames. */
	CHILD_OK(awe_free(f, n, NULL));
	again = awe_alloc(f, WANT);
	CHILD_CHECK(again > 0 && again < WANT, "after freeing, awe_alloc returned %zd", again);
	free(f);
	return 0;
}

Test(lock, unprivileged_partial_allocation)
{
	struct child_opts o = {.as_nobody = true, .set_memlock = true, .memlock = 4 * MiB};

	skip_unless_root("dropping to nobody needs root");
	run_in_child(child_partial, NULL, &o);
}

/*
 * Unprivileged and locked, well inside the limit: every operation works,
 * including those that park pages (unmap, AWE_PROT_NONE).
 */
static int child_small_locked_use(void *arg)
{
	awe_frame_t f[8];
	void *base;
	char *w;

	(void)arg;
	CHILD_CHECK(awe_alloc(f, 8) == 8);
	CHILD_OK(awe_window_create(16 * pg(), NULL, 0, &base));
	w = base;
	CHILD_OK(awe_map(w, 8, f));
	for (size_t i = 0; i < 8; i++)
		*(uint64_t *)slot(w, i) = f[i];
	CHILD_OK(awe_protect(w, 1, AWE_PROT_READ, NULL));
	CHILD_OK(awe_protect(slot(w, 1), 1, AWE_PROT_NONE, NULL));
	CHILD_OK(awe_protect(slot(w, 1), 1, AWE_PROT_READWRITE, NULL));
	CHILD_CHECK(*(uint64_t *)slot(w, 1) == f[1]);
	CHILD_OK(awe_map(w, 8, NULL));
	CHILD_OK(awe_map_scatter((void *[]){slot(w, 15), slot(w, 9)}, 2, f));
	CHILD_CHECK(*(uint64_t *)slot(w, 15) == f[0] && *(uint64_t *)slot(w, 9) == f[1]);
	CHILD_OK(awe_window_destroy(w));
	CHILD_OK(awe_free(f, 8, NULL));
	return 0;
}

Test(lock, unprivileged_locked_operations)
{
	struct child_opts o = {.as_nobody = true, .set_memlock = true, .memlock = 4 * MiB};

	skip_unless_root("dropping to nobody needs root");
	run_in_child(child_small_locked_use, NULL, &o);
}

/*
 * Frames allocated while others are mapped must not leave the mapped ones
 * without a place to go: unmapping (or hiding behind AWE_PROT_NONE) always
 * works, whatever the lock limit.
 */
static int child_unmap_after_more_allocs(void *arg)
{
	awe_frame_t f[4];
	void *w;

	(void)arg;
	CHILD_OK(awe_window_create(4 * pg(), NULL, 0, &w));
	CHILD_CHECK(awe_alloc(f, 2) == 2);
	CHILD_OK(awe_map(w, 2, f));
	CHILD_CHECK(awe_alloc(f + 2, 2) == 2);
	CHILD_OK(awe_protect(w, 1, AWE_PROT_NONE, NULL));
	CHILD_OK(awe_map(w, 2, NULL));
	CHILD_OK(awe_map(w, 4, f));
	CHILD_OK(awe_window_destroy(w));
	return 0;
}

Test(lock, unprivileged_unmap_after_more_allocations)
{
	struct child_opts o = {.as_nobody = true, .set_memlock = true, .memlock = 4 * MiB};

	skip_unless_root("dropping to nobody needs root");
	run_in_child(child_unmap_after_more_allocs, NULL, &o);
}

/* Unlocked mode ignores RLIMIT_MEMLOCK entirely; @arg selects init by env. */
static int child_unlocked(void *arg)
{
	awe_frame_t *f = malloc(WANT * sizeof(*f));
	long vmlck = vmlck_kb();
	struct awe_stats st;
	void *base;

	CHILD_CHECK(f);
	if (arg)
		CHILD_CHECK(setenv("LIBAWE_UNLOCKED", "1", 1) == 0);
	else
		CHILD_OK(awe_init(AWE_INIT_UNLOCKED));
	CHILD_CHECK(awe_alloc(f, WANT) == WANT);
	CHILD_OK(awe_window_create(64 * MiB, NULL, 0, &base));
	CHILD_OK(awe_map(base, WANT, f));
	for (size_t i = 0; i < WANT; i++)
		*(uint64_t *)slot(base, i) = f[i];
	CHILD_OK(awe_map(base, WANT, NULL));
	CHILD_OK(awe_map(slot(base, 1), 1, f));
	CHILD_CHECK(*(uint64_t *)slot(base, 1) == f[0]);
	CHILD_OK(awe_stats(&st));
	CHILD_CHECK(st.locked == 0);
	CHILD_CHECK(st.frames_allocated == WANT);
	CHILD_CHECK(vmlck_kb() == vmlck, "VmLck %ld kB -> %ld kB", vmlck, vmlck_kb());
	CHILD_OK(awe_free(f, WANT, NULL));
	free(f);
	return 0;
}

Test(lock, unprivileged_unlocked_zero_limit)
{
	struct child_opts o = {.as_nobody = true, .set_memlock = true, .memlock = 0};

	skip_unless_root("dropping to nobody needs root");
	run_in_child(child_unlocked, NULL, &o);
}

Test(lock, unprivileged_unlocked_small_limit)
{
	struct child_opts o = {.as_nobody = true, .set_memlock = true, .memlock = 4 * MiB};

	skip_unless_root("dropping to nobody needs root");
	run_in_child(child_unlocked, NULL, &o);
}

Test(lock, unprivileged_env_unlocked)
{
	struct child_opts o = {.as_nobody = true, .set_memlock = true, .memlock = 4 * MiB};

	skip_unless_root("dropping to nobody needs root");
	run_in_child(child_unlocked, (void *)1, &o);
}

/*
 * Locked room comes back when frames are freed (issue 12, defect 6): as
 * user nobody with an 8 MiB RLIMIT_MEMLOCK, 6 MiB of frames allocated and
 * freed must leave room for a 6 MiB window (the uffd-move engine locks its
 * windows and its parking) and for 6 MiB of a section's frames (sections
 * lock their pages through a pool of their own), and VmLck must come down.
 */
enum { SIX_MIB_PAGES = 1536 };

static int child_gives_back(void *arg)
{
	awe_frame_t *f = malloc(SIX_MIB_PAGES * sizeof(*f));
	long base = vmlck_kb(), peak;
	awe_section_t sec;
	void *w;

	(void)arg;
	CHILD_CHECK(f);
	CHILD_CHECK(awe_alloc(f, SIX_MIB_PAGES) == SIX_MIB_PAGES);
	peak = vmlck_kb();
	CHILD_OK(awe_free(f, SIX_MIB_PAGES, NULL));
	CHILD_CHECK(vmlck_kb() - base < (peak - base) / 4,
		    "VmLck %ld kB at start, %ld kB with the frames, %ld kB after freeing them",
		    base, peak, vmlck_kb());
	CHILD_OK(awe_window_create(6 * MiB, NULL, 0, &w));
	CHILD_OK(awe_window_destroy(w));
	CHILD_OK(awe_section_create(0, &sec));
	CHILD_CHECK(awe_section_alloc(sec, f, SIX_MIB_PAGES) == SIX_MIB_PAGES,
		    "a section could not have 6 MiB after the process's frames were freed");
	CHILD_OK(awe_section_free(sec, f, SIX_MIB_PAGES, NULL));
	/* And the other way round. */
	CHILD_CHECK(awe_alloc(f, SIX_MIB_PAGES) == SIX_MIB_PAGES);
	CHILD_OK(awe_free(f, SIX_MIB_PAGES, NULL));
	free(f);
	return 0;
}

Test(lock, unprivileged_room_comes_back)
{
	struct child_opts o = {.as_nobody = true, .set_memlock = true, .memlock = 8 * MiB};

	skip_unless_root("dropping to nobody needs root");
	run_in_child(child_gives_back, NULL, &o);
}

/* Most frames freed but a few kept: the room of the rest comes back too.
 * With the uffd-move engine the few may be anywhere (parking is emptied of
 * their pages and given back); the memfd engine's pool shrinks down to its
 * highest live frame (a frame's page has a fixed place in the file), so
 * there the first few are kept. */
static int child_gives_back_most(void *arg)
{
	enum { N = SIX_MIB_PAGES };
	awe_frame_t *f = malloc(N * sizeof(*f)), keep[8];
	long base = vmlck_kb(), peak;
	struct awe_stats st;
	void *w;

	(void)arg;
	CHILD_CHECK(f);
	CHILD_CHECK(awe_alloc(f, N) == N);
	peak = vmlck_kb();
	bool memfd = !strcmp((awe_stats(&st), st.engine), "memfd");
	size_t step = memfd ? 1 : N / 8;

	for (size_t i = 0; i < 8; i++)
		keep[i] = f[i * step];
	for (size_t i = 0; i < N; i++)
		if (i % step || i >= 8 * step)
			CHILD_OK(awe_free(&f[i], 1, NULL));
	CHILD_CHECK(vmlck_kb() - base < (peak - base) / 2,
		    "VmLck %ld kB at start, %ld kB with the frames, %ld kB with 8 left", base, peak,
		    vmlck_kb());
	CHILD_OK(awe_window_create(8 * pg(), NULL, 0, &w));
	CHILD_OK(awe_map(w, 8, keep));
	for (size_t i = 0; i < 8; i++)
		*(uint64_t *)slot(w, i) = keep[i];
	CHILD_OK(awe_map(w, 8, NULL));
	CHILD_OK(awe_map(w, 8, keep));
	for (size_t i = 0; i < 8; i++)
		CHILD_CHECK(*(uint64_t *)slot(w, i) == keep[i], "frame %zu lost its data", i);
	CHILD_OK(awe_free(keep, 8, NULL));
	free(f);
	return 0;
}

Test(lock, unprivileged_room_comes_back_with_frames_left)
{
	struct child_opts o = {.as_nobody = true, .set_memlock = true, .memlock = 8 * MiB};

	skip_unless_root("dropping to nobody needs root");
	run_in_child(child_gives_back_most, NULL, &o);
}
