/* SPDX-License-Identifier: MIT */
/*
 * One million frames at one million scattered slots of one window, with the
 * default vm.max_map_count: the case a memfd remapper cannot handle (each
 * isolated page would cost a VMA). The memfd engine cannot either: there the
 * test shows that it refuses cleanly, with -ENOMEM, at its VMA budget, and
 * that everything can still be unmapped.
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

	skip_if_memfd("every scattered page costs a VMA, so a million cannot be mapped; "
		      "million.memfd_refuses_at_vma_budget shows the refusal instead");
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

/*
 * The memfd engine: single pages at every other slot of a big window (each
 * page a VMA, each gap another) until the engine refuses. The refusal must
 * come as -ENOMEM before vm.max_map_count is in sight, change nothing, and
 * leave every page unmappable, one by one.
 */
Test(million, memfd_refuses_at_vma_budget, .timeout = 290)
{
	/* Frames for at most this many pages: enough for the default limit. */
	enum { MAX_PAGES = 200000 };
	uint64_t margin, need, worst0, worst_before = 0, mapped_before = 0;
	size_t n = 0, slots;
	long err = 0, others;
	struct awe_stats st;
	awe_frame_t *fr;
	int e = 0;
	char *w;

	skip_unless_memfd("mappings cost no VMAs, there is no budget to run into; "
			  "million.scattered_single_slots maps a million scattered pages");
	st = get_stats();
	margin = st.max_map_count / 16 > 256 ? st.max_map_count / 16 : 256;
	cr_assert_gt(st.max_map_count, margin);
	/* Pages at odd slots cost 2 VMAs each: the refusal comes before this many. */
	need = (st.max_map_count - margin) / 2 + 16;
	if (need > MAX_PAGES)
		cr_skip_test("vm.max_map_count is %" PRIu64 ": reaching it would take %" PRIu64
			     " frames",
			     st.max_map_count, need);
	fr = calloc(need, sizeof(*fr));
	cr_assert_not_null(fr);
	if ((size_t)AWE_OK(awe_alloc(fr, need)) < need)
		cr_skip_test("could not allocate %" PRIu64 " frames (memory or RLIMIT_MEMLOCK)",
			     need);
	slots = 2 * need + 2;
	w = window_new(slots);
	worst0 = get_stats().vmas_worst;
	others = count_maps();

	/* No Criterion call inside the loop: it may need a VMA itself. */
	for (n = 0; n < need; n++) {
		struct awe_stats s;

		awe_stats(&s);
		worst_before = s.vmas_worst;
		mapped_before = s.frames_mapped;
		errno = 0;
		err = awe_map(slot(w, 2 * n + 1), 1, &fr[n]);
		e = errno;
		if (err)
			break;
	}
	st = get_stats();
	cr_log_info("vm.max_map_count %" PRIu64 ", margin %" PRIu64 ", %ld other VMAs: refused "
		    "page %zu with %ld (%s), vmas_worst %" PRIu64 ", %ld VMAs in the process",
		    st.max_map_count, margin, others, n, err, err ? awe_strerror((int)err) : "-",
		    st.vmas_worst, count_maps());
	cr_assert_eq(err, -ENOMEM, "page %zu of %" PRIu64 ": %ld (%s) instead of -ENOMEM", n, need,
		     err, err ? awe_strerror((int)err) : "no refusal at all");
	cr_assert_eq(e, ENOMEM);
	/* The refused call changed nothing. */
	assert_slot(slot(w, 2 * n + 1), 0, AWE_PROT_NONE);
	assert_parked(fr[n]);
	assert_read_faults(slot(w, 2 * n + 1));
	cr_assert_eq(st.frames_mapped, mapped_before);
	cr_assert_eq(st.frames_mapped, n);
	cr_assert_eq(st.vmas_worst, worst_before,
		     "the refused map moved vmas_worst %" PRIu64 " -> %" PRIu64, worst_before,
		     st.vmas_worst);
	/* Refused with (most of) the margin still free, and not long before. */
	cr_assert_leq((uint64_t)count_maps() + margin / 2, st.max_map_count,
		      "%ld VMAs: the margin of %" PRIu64 " below vm.max_map_count is gone",
		      count_maps(), margin);
	cr_assert_geq(n, 10000, "refused after only %zu isolated pages", n);
	/* A batch is refused whole too. */
	AWE_ERR(awe_map_scatter((void *[]){slot(w, 2 * n + 1), slot(w, 2 * n + 3)}, 2, &fr[n]),
		ENOMEM);
	assert_slot(slot(w, 2 * n + 3), 0, AWE_PROT_NONE);
	cr_assert_eq(get_stats().frames_mapped, n);
	/* The mapped pages are intact and writable. */
	for (size_t i = 0; i < n; i += 101)
		*(uint64_t *)slot(w, 2 * i + 1) = fr[i];
	for (size_t i = 0; i < n; i += 101)
		assert_stamped_at(slot(w, 2 * i + 1), fr[i]);

	/* Every page unmaps, one call each, in an order that splits nothing. */
	for (size_t i = 0; i < n; i++) {
		errno = 0;
		err = awe_map(slot(w, 2 * i + 1), 1, NULL);
		if (err)
			break;
	}
	cr_assert_eq(err, 0, "unmapping a page at the budget failed: %ld (%s)", err,
		     awe_strerror((int)err));
	st = get_stats();
	cr_assert_eq(st.frames_mapped, 0);
	cr_assert_eq(st.vmas_worst, worst0, "vmas_worst %" PRIu64 ", %" PRIu64 " before",
		     st.vmas_worst, worst0);
	/* And the budget is there again. */
	AWE_OK(awe_map(slot(w, 1), 1, &fr[n]));
	AWE_OK(awe_free(fr, need, NULL));
	AWE_OK(awe_window_destroy(w));
	st = get_stats();
	cr_assert_eq(st.frames_allocated, 0);
	cr_assert_eq(st.windows, 0);
	cr_assert_eq(st.vmas_worst, 0);
	free(fr);
}
