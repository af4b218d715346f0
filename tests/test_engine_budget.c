/* SPDX-License-Identifier: MIT */
/*
 * The memfd engine's VMA budget: vmas_worst (what the windows may come to),
 * max_map_count as reported, no budget for the UFFDIO_MOVE engine, and the
 * clean -ENOMEM refusal near vm.max_map_count, which also counts the
 * mappings the program makes after libawe started.
 *
 * Every test sets AWE_ENGINE itself before its first libawe call (each
 * Criterion test is a process of its own), so the program does the same
 * under both runs of the suite.
 */
#include "engine_select.h"

static uint64_t read_max_map_count(void)
{
	return proc_u64("/proc/sys/vm/max_map_count");
}

Test(engine, max_map_count_reported)
{
	engine_env("memfd");
	cr_assert_eq(get_stats().max_map_count, read_max_map_count());
}

/* An empty window can come to one VMA, whatever its size. */
Test(engine, memfd_vmas_worst_per_empty_window)
{
	enum { N = 6 };
	const size_t pages[N] = {1, 2, 3, 64, 1000, 1 << 18};
	char *w[N];
	awe_frame_t f[4];
	uint64_t worst0;

	engine_env("memfd");
	/* Unlocked: the last window is 1 GiB of address space. */
	AWE_OK(awe_init(AWE_INIT_UNLOCKED));
	worst0 = get_stats().vmas_worst;
	cr_assert_eq(worst0, 0, "vmas_worst %" PRIu64 " without windows", worst0);
	for (size_t i = 0; i < N; i++) {
		w[i] = window_new(pages[i]);
		cr_assert_eq(get_stats().vmas_worst, i + 1,
			     "%zu empty windows: vmas_worst %" PRIu64, i + 1,
			     get_stats().vmas_worst);
	}
	/* Isolated pages in a big window: one VMA each and one per gap. */
	alloc_exact(f, 4);
	for (size_t i = 0; i < 4; i++)
		map1(slot(w[4], 100 + 2 * i), f[i]);
	cr_assert_eq(get_stats().vmas_worst, N + 8, "vmas_worst %" PRIu64, get_stats().vmas_worst);
	unmap_range(w[4], pages[4]);
	cr_assert_eq(get_stats().vmas_worst, N);
	for (size_t i = 0; i < N; i++)
		AWE_OK(awe_window_destroy(w[i]));
	cr_assert_eq(get_stats().vmas_worst, 0);
}

/* The UFFDIO_MOVE engine's windows cost no VMA per mapping: nothing to budget. */
Test(engine, uffd_windows_need_no_budget)
{
	awe_frame_t f[8];
	char *w;

	engine_env("uffd");
	skip_unless_uffd_move();
	w = window_new(64);
	alloc_exact(f, 8);
	for (size_t i = 0; i < 8; i++)
		map1(slot(w, 1 + 7 * i), f[i]);
	cr_assert_eq(get_stats().vmas_worst, 0, "vmas_worst %" PRIu64, get_stats().vmas_worst);
}

/*
 * The refusal, small: most of the process's VMA allowance is taken by
 * mappings of the test's own (pages of alternating protection, no memory),
 * made before libawe starts and counts them. Then single pages at every
 * other slot of a window until the engine refuses: -ENOMEM, nothing
 * changed, everything still unmappable and protectable; once the test's
 * mappings go, the same maps succeed (the engine counts the process again).
 */
Test(engine, memfd_budget_refuses_cleanly, .timeout = 60)
{
	enum { ROOM = 200, FRAMES = 160 };
	uint64_t max, margin, worst0, worst_before = 0;
	size_t filler_pages = 0, n;
	awe_frame_t f[FRAMES];
	struct awe_stats st;
	long others, err = 0;
	char *filler = NULL, *w;
	int e = 0;

	engine_env("memfd");
	max = read_max_map_count();
	margin = max / 16 > 256 ? max / 16 : 256;
	others = count_maps();
	if (max > (1u << 18))
		cr_skip_test("vm.max_map_count is %" PRIu64 ": too many mappings to fill", max);
	cr_assert_gt(max, margin + (uint64_t)others + ROOM);
	filler_pages = max - margin - (uint64_t)others - ROOM;
	filler = mmap(NULL, filler_pages * pg(), PROT_NONE,
		      MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
	cr_assert_neq(filler, MAP_FAILED, "mmap: %s", strerror(errno));
	for (size_t i = 1; i < filler_pages; i += 2)
		cr_assert_eq(mprotect(filler + i * pg(), pg(), PROT_READ), 0, "mprotect: %s",
			     strerror(errno));
	cr_log_info("vm.max_map_count %" PRIu64 ", margin %" PRIu64 ", %ld VMAs, %ld after the "
		    "filler",
		    max, margin, others, count_maps());

	alloc_exact(f, FRAMES);
	w = window_new(2 * FRAMES + 2);
	worst0 = get_stats().vmas_worst;
	for (n = 0; n < FRAMES; n++) {
		worst_before = get_stats().vmas_worst;
		errno = 0;
		err = awe_map(slot(w, 2 * n + 1), 1, &f[n]);
		e = errno;
		if (err)
			break;
	}
	st = get_stats();
	cr_log_info("refused page %zu: %ld, vmas_worst %" PRIu64, n, err, st.vmas_worst);
	cr_assert_eq(err, -ENOMEM, "page %zu: %ld (%s), expected -ENOMEM", n, err,
		     err ? awe_strerror((int)err) : "no refusal");
	cr_assert_eq(e, ENOMEM);
	cr_assert_lt(n, FRAMES);
	/* Nothing changed. */
	assert_slot(slot(w, 2 * n + 1), 0, AWE_PROT_NONE);
	assert_parked(f[n]);
	assert_read_faults(slot(w, 2 * n + 1));
	cr_assert_eq(st.frames_mapped, n);
	cr_assert_eq(st.vmas_worst, worst_before);
	cr_assert_eq(st.max_map_count, max);
	/* Protection changes are never refused; the pages are intact. */
	for (size_t i = 0; i < n; i++)
		*(uint64_t *)slot(w, 2 * i + 1) = f[i];
	AWE_OK(awe_protect(w, 2 * FRAMES + 2, AWE_PROT_READ, NULL));
	for (size_t i = 0; i < n; i++)
		assert_slot(slot(w, 2 * i + 1), f[i], AWE_PROT_READ);
	assert_write_faults(slot(w, 1));
	AWE_OK(awe_protect(w, 2 * FRAMES + 2, AWE_PROT_READWRITE, NULL));
	for (size_t i = 0; i < n; i++)
		assert_stamped_at(slot(w, 2 * i + 1), f[i]);
	/* Every page unmaps, one call each. */
	for (size_t i = 0; i < n; i++)
		unmap_range(slot(w, 2 * i + 1), 1);
	cr_assert_eq(get_stats().vmas_worst, worst0);
	cr_assert_eq(get_stats().frames_mapped, 0);

	/* Without the filler there is room again. */
	cr_assert_eq(munmap(filler, filler_pages * pg()), 0);
	for (size_t i = 0; i < FRAMES; i++)
		map1(slot(w, 2 * i + 1), f[i]);
	cr_assert_eq(get_stats().vmas_worst, worst0 + 2 * FRAMES);
	AWE_OK(awe_window_destroy(w));
	AWE_OK(awe_free(f, FRAMES, NULL));
	cr_assert_eq(get_stats().vmas_worst, 0);
}

/*
 * Mappings the program makes after libawe started count as much as those it
 * had before: the budget must see them before it lets the windows grow into
 * the margin, or the kernel's limit comes first and then unmapping a page in
 * the middle of a run (which splits a VMA) fails for lack of VMAs.
 */
Test(engine, memfd_budget_sees_later_mappings, .timeout = 60)
{
	enum { RUN = 2000, FRAMES = 9000 };
	uint64_t max, margin;
	size_t filler_pages, n;
	awe_frame_t *f;
	long err = 0;
	char *filler, *w;
	int e = 0;

	engine_env("memfd");
	max = read_max_map_count();
	if (max > (1u << 18))
		cr_skip_test("vm.max_map_count is %" PRIu64 ": too many mappings to fill", max);
	margin = max / 16 > 256 ? max / 16 : 256;
	f = alloc_array(FRAMES);
	w = window_new(RUN + 2 * FRAMES);
	AWE_OK(awe_map(w, RUN, f));
	/* Now the program maps on its own, leaving three margins free. */
	cr_assert_gt(max, (uint64_t)count_maps() + 3 * margin);
	filler_pages = max - (uint64_t)count_maps() - 3 * margin;
	filler = mmap(NULL, filler_pages * pg(), PROT_NONE,
		      MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
	cr_assert_neq(filler, MAP_FAILED, "mmap: %s", strerror(errno));
	for (size_t i = 1; i < filler_pages; i += 2)
		cr_assert_eq(mprotect(filler + i * pg(), pg(), PROT_READ), 0, "mprotect: %s",
			     strerror(errno));
	/* Let any recount interval pass. */
	usleep(200 * 1000);

	for (n = RUN; n < FRAMES; n++) {
		errno = 0;
		err = awe_map(slot(w, RUN + 2 * (n - RUN) + 1), 1, &f[n]);
		e = errno;
		if (err)
			break;
	}
	cr_log_info("vm.max_map_count %" PRIu64 ", margin %" PRIu64 ": refused page %zu with %ld; "
		    "vmas_worst %" PRIu64 ", %ld VMAs in the process",
		    max, margin, n, err, get_stats().vmas_worst, count_maps());
	cr_assert_eq(err, -ENOMEM, "page %zu: %ld, expected -ENOMEM", n, err);
	cr_assert_eq(e, ENOMEM);
	cr_assert_leq((uint64_t)count_maps() + margin / 2, max,
		      "%ld VMAs: the windows grew into the margin of %" PRIu64
		      " (vmas_worst %" PRIu64 ")",
		      count_maps(), margin, get_stats().vmas_worst);
	/* Unmapping every other page of the run splits it: must all work. */
	for (size_t i = 1; i < RUN; i += 2) {
		errno = 0;
		err = awe_map(slot(w, i), 1, NULL);
		if (err)
			break;
	}
	cr_assert_eq(err, 0, "unmapping a page of the run failed with %ld (%s)", err,
		     awe_strerror((int)err));
	cr_assert_eq(munmap(filler, filler_pages * pg()), 0);
	AWE_OK(awe_window_destroy(w));
	AWE_OK(awe_free(f, FRAMES, NULL));
	free(f);
}
