/* SPDX-License-Identifier: MIT */
/*
 * One million frames at one million scattered slots of one window, with the
 * default vm.max_map_count: the case a memfd remapper cannot handle (each
 * isolated page would cost a VMA).
 */
#include "helpers.h"

#include <time.h>

enum {
	N = 1000000,
	BATCH = 4096,
	SINGLES = 100000, /* the last frames go in one awe_map() call each */
	/* "A handful" of VMAs for the window and the parking space; sanitizer
	 * allocators add VMAs of their own as the library mallocs. */
	VMA_SLACK = SANITIZED ? 512 : 16,
	WINDOW_VMAS = 4,
};

/* Static: 16 MB that a failing assert cannot leak. */
static awe_frame_t f[N];
static size_t perm[N];

static double now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

static long max_map_count(void)
{
	FILE *fp = fopen("/proc/sys/vm/max_map_count", "r");
	long v = -1;

	if (fp) {
		if (fscanf(fp, "%ld", &v) != 1)
			v = -1;
		fclose(fp);
	}
	return v;
}

/* Frame i goes to slot perm[(i + shift) % N]. */
static void *target(char *w, size_t i, size_t shift)
{
	return slot(w, perm[(i + shift) % N]);
}

static void map_scattered(char *w, size_t from, size_t to, size_t shift)
{
	static void *addrs[BATCH];

	for (size_t i = from; i < to; i += BATCH) {
		size_t m = to - i < BATCH ? to - i : BATCH;

		for (size_t j = 0; j < m; j++)
			addrs[j] = target(w, i + j, shift);
		AWE_OK(awe_map_scatter(addrs, m, f + i));
	}
}

static void verify_sample(char *w, size_t shift)
{
	for (size_t i = 0; i < N; i += 997) {
		void *a = target(w, i, shift);

		cr_assert_eq(frame_where(f[i]), a);
		assert_stamped_at(a, f[i]);
	}
	assert_stamped_at(target(w, N - 1, shift), f[N - 1]);
}

Test(million, scattered_single_slots, .timeout = 290)
{
	long maps0, maps1, maps2, inwin;
	struct awe_stats st;
	double t0, t1, t2, t3;
	ssize_t got;
	char *w;

	fprintf(stderr, "vm.max_map_count = %ld\n", max_map_count());
	maps0 = count_maps();

	t0 = now();
	got = AWE_OK(awe_alloc(f, N));
	if (got < N) {
		if (got > 0)
			AWE_OK(awe_free(f, got, NULL));
		cr_skip_test("awe_alloc gave %zd of %d frames (memory or RLIMIT_MEMLOCK)", got, N);
	}
	w = window_new(N);
	shuffle(perm, N, 12345);

	t1 = now();
	map_scattered(w, 0, N - SINGLES, 0);
	for (size_t i = N - SINGLES; i < N; i++)
		AWE_OK(awe_map(target(w, i, 0), 1, &f[i]));
	t2 = now();
	cr_assert_eq(get_stats().frames_mapped, N);
	maps1 = count_maps();
	for (size_t i = 0; i < N; i++)
		*(uint64_t *)target(w, i, 0) = f[i];
	verify_sample(w, 0);

	/* Bulk unmap of the whole window, then every frame to another slot. */
	unmap_range(w, N);
	cr_assert_eq(get_stats().frames_mapped, 0);
	map_scattered(w, 0, N, 1);
	verify_sample(w, 1);
	maps2 = count_maps();
	inwin = count_maps_in(w, slot(w, N));
	t3 = now();

	fprintf(stderr,
		"alloc %.2f s, first mapping %.2f s, unmap + remap %.2f s; VMAs %ld -> %ld -> %ld, "
		"%ld in the window; VmPTE %ld kB\n",
		t1 - t0, t2 - t1, t3 - t2, maps0, maps1, maps2, inwin, status_kb("VmPTE"));
	cr_assert_leq(inwin, WINDOW_VMAS, "the window is split into %ld VMAs", inwin);
	cr_assert_leq(maps1 - maps0, VMA_SLACK, "VMAs grew from %ld to %ld", maps0, maps1);
	cr_assert_leq(maps2 - maps0, VMA_SLACK, "VMAs grew from %ld to %ld", maps0, maps2);

	AWE_OK(awe_free(f, N, NULL));
	AWE_OK(awe_window_destroy(w));
	st = get_stats();
	cr_assert_eq(st.frames_allocated, 0);
	cr_assert_eq(st.frames_mapped, 0);
	cr_assert_eq(st.windows, 0);
}
