/* SPDX-License-Identifier: MIT */
/*
 * At vm.max_map_count. Windows shown by the memfd engine (its own, and every
 * AWE section's) cost the process a mapping per run of frames, and the
 * kernel refuses mappings beyond the limit: even an unmap, which splits a
 * mapping, fails then. libawe keeps its windows below the limit, but the
 * rest of the program may use it up at any time, and the limit may be
 * lowered while the program runs. Whatever happens, a slot libawe reports
 * empty faults, a frame reported freed is unreachable, and a call the
 * kernel refuses fails with a documented error and changes nothing.
 *
 * Not run beside other tests: one test lowers the limit for the whole
 * machine for a moment.
 */
#include "helpers.h"

#include <fcntl.h>

enum { RUN = 8 };

/* A window with RUN stamped frames at slots 1..RUN, in a section or not. */
struct win {
	bool section;
	awe_section_t sec;
	char *w;
	awe_frame_t f[RUN];
};

static void win_setup(struct win *x, bool section)
{
	void *base;

	x->section = section;
	if (section) {
		AWE_OK(awe_section_create(0, &x->sec));
		cr_assert_eq(awe_section_alloc(x->sec, x->f, RUN), RUN);
		AWE_OK(awe_section_window_create(x->sec, (RUN + 2) * pg(), NULL, 0, &base));
		x->w = base;
	} else {
		alloc_exact(x->f, RUN);
		x->w = window_new(RUN + 2);
	}
	map_stamped(slot(x->w, 1), x->f, RUN);
}

/* Does this window cost the process mappings (memfd-backed)? */
static bool win_uses_vmas(const struct win *x)
{
	return x->section || engine_is_memfd();
}

static int win_signal(const struct win *x)
{
	return x->section ? SIGSEGV : fault_signal();
}

static int win_free(struct win *x, size_t i, size_t *freed)
{
	return x->section ? awe_section_free(x->sec, &x->f[i], 1, freed)
			  : awe_free(&x->f[i], 1, freed);
}

static void assert_faults(const struct win *x, void *a)
{
	struct fault f = probe_read(a);

	cr_assert_eq(f.sig, win_signal(x),
		     "%p: got signal %d, expected %d (a slot reported "
		     "empty must fault)",
		     a, f.sig, win_signal(x));
}

/* Slot @i of @x shows frame @i with its stamp, or is empty and faults. */
static void assert_shown(const struct win *x, size_t i)
{
	assert_slot(slot(x->w, 1 + i), x->f[i], AWE_PROT_READWRITE);
	cr_assert_eq(*(awe_frame_t *)slot(x->w, 1 + i), x->f[i], "slot %zu lost its data", i);
}

/* Mappings of the test's own, up to the kernel's limit: a reservation whose
 * every other page is made readable, until the kernel refuses. */
struct filler {
	char *base;
	size_t pages;
};

static void fill_to_limit(struct filler *fl)
{
	uint64_t max = proc_u64("/proc/sys/vm/max_map_count");
	size_t i;

	if (max > (1u << 18))
		cr_skip_test("vm.max_map_count is %" PRIu64 ": too many mappings to fill", max);
	fl->pages = 2 * max + 16;
	fl->base = mmap(NULL, fl->pages * pg(), PROT_NONE,
			MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
	cr_assert_neq(fl->base, MAP_FAILED, "mmap: %s", strerror(errno));
	for (i = 1; i < fl->pages; i += 2)
		if (mprotect(fl->base + i * pg(), pg(), PROT_READ) != 0)
			break;
	cr_assert_lt(i, fl->pages, "the kernel never refused a mapping");
	cr_assert_eq(errno, ENOMEM, "mprotect: %s", strerror(errno));
}

static void unfill(struct filler *fl)
{
	cr_assert_eq(munmap(fl->base, fl->pages * pg()), 0);
}

/* The program, not libawe, used up the limit after libawe counted. */
static void at_the_limit(bool section)
{
	struct win x;
	struct filler fl;
	size_t freed = 99;
	int r, e;

	win_setup(&x, section);
	fill_to_limit(&fl);

	/* Unmapping a page in the middle of a run splits its mapping. */
	errno = 0;
	r = awe_map(slot(x.w, 4), 1, NULL);
	e = errno;
	cr_log_info("%s window, %s engine: unmap at the limit: %d", section ? "section" : "plain",
		    engine_label(), r);
	if (win_uses_vmas(&x)) {
		cr_assert_eq(r, -ENOMEM, "unmap at the limit: %d, expected -ENOMEM", r);
		cr_assert_eq(e, ENOMEM);
		assert_shown(&x, 3);
	} else {
		cr_assert_eq(r, 0, "the uffd-move engine needs no mappings to unmap: %d", r);
		assert_slot(slot(x.w, 4), 0, AWE_PROT_NONE);
		assert_faults(&x, slot(x.w, 4));
		map1(slot(x.w, 4), x.f[3]);
	}

	/* Freeing a mapped frame unmaps it first: refused the same way, or done. */
	errno = 0;
	r = win_free(&x, 5, &freed);
	e = errno;
	cr_log_info("free at the limit: %d, %zu freed", r, freed);
	if (r == 0) {
		cr_assert_eq(freed, 1);
		cr_assert(!win_uses_vmas(&x), "a frame was freed although its unmap was refused");
		assert_slot(slot(x.w, 6), 0, AWE_PROT_NONE);
		assert_faults(&x, slot(x.w, 6));
	} else {
		cr_assert_eq(r, -ENOMEM, "free at the limit: %d (%s)", r, awe_strerror(r));
		cr_assert_eq(e, ENOMEM);
		cr_assert_eq(freed, 0);
		assert_shown(&x, 5);
	}
	for (size_t i = 0; i < RUN; i++)
		if (i != 5 || r)
			assert_shown(&x, i);

	/* Room again: everything unmaps and frees, and every slot faults. */
	unfill(&fl);
	unmap_range(slot(x.w, 4), 1);
	assert_faults(&x, slot(x.w, 4));
	if (r) {
		cr_assert_eq(win_free(&x, 5, &freed), 0);
		assert_faults(&x, slot(x.w, 6));
	}
	AWE_OK(awe_window_destroy(x.w));
}

Test(vmalimit, plain_window_at_the_limit)
{
	at_the_limit(false);
}

Test(vmalimit, section_window_at_the_limit)
{
	at_the_limit(true);
}

/*
 * A freed frame's table entry is reused by the next allocation: the new
 * frame must not be reachable through the slot the old one was at, even
 * when the unmap was refused along the way.
 */
static void reuse_after_refusal(bool section)
{
	struct win x;
	struct filler fl;
	awe_frame_t g;
	size_t freed;
	char *other;
	void *base;

	win_setup(&x, section);
	fill_to_limit(&fl);
	(void)win_free(&x, 2, &freed);
	unfill(&fl);
	if (freed == 0)
		cr_assert_eq(win_free(&x, 2, &freed), 0);
	if (section) {
		cr_assert_eq(awe_section_alloc(x.sec, &g, 1), 1);
		AWE_OK(awe_section_window_create(x.sec, pg(), NULL, 0, &base));
		other = base;
	} else {
		alloc_exact(&g, 1);
		other = window_new(1);
	}
	map1(other, g);
	memset(other, 0x77, pg());
	assert_slot(slot(x.w, 3), 0, AWE_PROT_NONE);
	assert_faults(&x, slot(x.w, 3));
}

Test(vmalimit, reused_entry_unreachable_through_old_slot)
{
	reuse_after_refusal(false);
}

Test(vmalimit, reused_section_entry_unreachable_through_old_slot)
{
	reuse_after_refusal(true);
}

/* Window destruction at the limit: done entirely, or refused entirely. */
Test(vmalimit, destroy_at_the_limit)
{
	struct win x;
	struct filler fl;
	int r;

	win_setup(&x, true);
	AWE_OK(awe_map(slot(x.w, 3), 1, NULL)); /* two runs: 1-2 and 4-8 */
	fill_to_limit(&fl);
	errno = 0;
	r = awe_window_destroy(x.w);
	cr_log_info("destroy at the limit: %d", r);
	if (r) {
		cr_assert(r == -ENOMEM, "destroy: %d (%s)", r, awe_strerror(r));
		for (size_t i = 0; i < RUN; i++)
			if (i != 2)
				assert_shown(&x, i);
	}
	unfill(&fl);
	if (r)
		AWE_OK(awe_window_destroy(x.w));
	AWE_ERR(awe_window_destroy(x.w), EINVAL);
	cr_assert_eq(get_stats().windows, 0);
}

/*
 * The limit lowered while the program runs (root: a sysctl for the whole
 * machine, so in a child, and put back by the parent whatever happens). The
 * budget must notice: maps are refused by libawe before the kernel has to,
 * stats show the new limit, and unmaps and frees either work or change
 * nothing.
 */
static uint64_t old_limit, new_limit;

static void write_limit(uint64_t v)
{
	FILE *fp = fopen("/proc/sys/vm/max_map_count", "w");

	cr_assert_not_null(fp, "/proc/sys/vm/max_map_count: %s", strerror(errno));
	fprintf(fp, "%" PRIu64 "\n", v);
	cr_assert_eq(fclose(fp), 0, "writing vm.max_map_count: %s", strerror(errno));
}

/* Isolated pages, each a mapping of its own, in windows of their own, until
 * libawe refuses: -ENOMEM, with nothing changed. */
static int map_until_refused(struct win *x)
{
	awe_frame_t g[64];
	ssize_t n = x->section ? awe_section_alloc(x->sec, g, 64) : awe_alloc(g, 64);
	long r = 0;

	CHILD_CHECK(n > 0 || n == -ENOMEM, "allocation: %zd", n);
	for (ssize_t i = 0; i < n && !r; i++) {
		void *base, *where = (void *)1;

		errno = 0;
		r = x->section ? awe_section_window_create(x->sec, 3 * pg(), NULL, 0, &base)
			       : awe_window_create(3 * pg(), NULL, 0, &base);
		if (!r)
			r = awe_map(slot(base, 1), 1, &g[i]);
		CHILD_CHECK(r == 0 || (r == -ENOMEM && errno == ENOMEM), "page %zd: %ld", i, r);
		if (r && !x->section) {
			CHILD_OK(awe_frame_addr(g[i], &where));
			CHILD_CHECK(where == NULL, "a refused map left frame %zd at %p", i, where);
		}
	}
	CHILD_CHECK(r == -ENOMEM, "%zd isolated pages mapped under a lowered limit", n);
	return 0;
}

static int child_lowered(bool section)
{
	struct win xx = {.section = section}, *x = &xx;
	struct awe_stats st;
	size_t freed;
	void *base;

	/* The window first, then the lower limit. */
	if (section) {
		CHILD_OK(awe_section_create(0, &x->sec));
		CHILD_CHECK(awe_section_alloc(x->sec, x->f, RUN) == RUN);
		CHILD_OK(awe_section_window_create(x->sec, (RUN + 2) * pg(), NULL, 0, &base));
	} else {
		CHILD_CHECK(awe_alloc(x->f, RUN) == RUN);
		CHILD_OK(awe_window_create((RUN + 2) * pg(), NULL, 0, &base));
	}
	x->w = base;
	CHILD_OK(awe_map(slot(x->w, 1), RUN, x->f));
	/* Room for a few more mappings than the process has now. */
	new_limit = (uint64_t)count_maps() + 40;
	write_limit(new_limit);
	if (map_until_refused(x))
		return 1;
	CHILD_OK(awe_stats(&st));
	CHILD_CHECK(st.max_map_count == new_limit,
		    "awe_stats() says max_map_count %" PRIu64 ", the limit is %" PRIu64 " now",
		    st.max_map_count, new_limit);
	/* Frees of mapped frames: done (the slot then faults) or refused. */
	for (size_t i = 0; i < RUN; i++) {
		int fr = x->section ? awe_section_free(x->sec, &x->f[i], 1, &freed)
				    : awe_free(&x->f[i], 1, &freed);
		struct fault fl = probe_read(slot(x->w, 1 + i));
		struct awe_page_info pi;

		CHILD_OK(awe_query(slot(x->w, 1 + i), &pi));
		if (fr == 0)
			CHILD_CHECK(fl.sig != 0 && pi.frame == 0,
				    "frame %zu reported freed, its slot %s", i,
				    fl.sig ? "is not empty" : "still readable");
		else
			CHILD_CHECK(fr == -ENOMEM && fl.sig == 0 && pi.frame == x->f[i],
				    "a refused free of frame %zu: %d, slot signal %d", i, fr,
				    fl.sig);
	}
	return 0;
}

Test(vmalimit, limit_lowered_while_running)
{
	bool section = !engine_is_memfd();
	int st;
	pid_t p;

	skip_unless_root("lowers vm.max_map_count for a moment");
	old_limit = proc_u64("/proc/sys/vm/max_map_count");
	fflush(NULL);
	p = fork();
	cr_assert_neq(p, -1);
	if (p == 0)
		_exit(child_lowered(section));
	cr_assert_eq(waitpid(p, &st, 0), p);
	write_limit(old_limit);
	cr_assert(WIFEXITED(st), "the child died: %#x", st);
	cr_assert_eq(WEXITSTATUS(st), 0, "see the child's stderr");
}

/*
 * The budget counts the process's mappings again without needing a free
 * descriptor: a program that has run out of them and maps more on its own
 * must still be seen before libawe's windows grow into the margin.
 */
Test(vmalimit, budget_counts_without_descriptors)
{
	enum { FRAMES = 4000 };
	uint64_t max = proc_u64("/proc/sys/vm/max_map_count"), margin;
	struct win x;
	size_t filler_pages, nfds = 0, n;
	struct rlimit old_nofile, nofile;
	int fds[64], fd, top = 2;
	awe_frame_t *g;
	char *filler, *w;
	long r = 0;
	void *base;

	if (max > (1u << 18))
		cr_skip_test("vm.max_map_count is %" PRIu64 ": too many mappings to fill", max);
	margin = max / 16 > 256 ? max / 16 : 256;
	win_setup(&x, !engine_is_memfd());
	g = calloc(FRAMES, sizeof(*g));
	cr_assert_not_null(g);
	if (x.section) {
		cr_assert_eq(awe_section_alloc(x.sec, g, FRAMES), FRAMES);
		AWE_OK(awe_section_window_create(x.sec, 2 * FRAMES * pg(), NULL, 0, &base));
	} else {
		alloc_exact(g, FRAMES);
		AWE_OK(awe_window_create(2 * FRAMES * pg(), NULL, 0, &base));
	}
	w = base;
	/* The program maps on its own, leaving two margins free... */
	cr_assert_gt(max, (uint64_t)count_maps() + 2 * margin);
	filler_pages = max - (uint64_t)count_maps() - 2 * margin;
	filler = mmap(NULL, filler_pages * pg(), PROT_NONE,
		      MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
	cr_assert_neq(filler, MAP_FAILED);
	for (size_t i = 1; i < filler_pages; i += 2)
		cr_assert_eq(mprotect(filler + i * pg(), pg(), PROT_READ), 0);
	/* ...and has no descriptor left. */
	cr_assert_eq(getrlimit(RLIMIT_NOFILE, &old_nofile), 0);
	for (fd = 0; fd < 1024; fd++)
		if (fcntl(fd, F_GETFD) != -1)
			top = fd;
	nofile = old_nofile;
	nofile.rlim_cur = (rlim_t)top + 16;
	cr_assert_eq(setrlimit(RLIMIT_NOFILE, &nofile), 0);
	while (nfds < sizeof(fds) / sizeof(fds[0]) && (fd = dup(0)) >= 0)
		fds[nfds++] = fd;
	cr_assert_eq(errno, EMFILE);
	usleep(200 * 1000); /* any earlier count is stale now */
	for (n = 0; n < FRAMES && !r; n++)
		r = awe_map(slot(w, 2 * n + 1), 1, &g[n]);
	while (nfds)
		close(fds[--nfds]);
	cr_assert_eq(setrlimit(RLIMIT_NOFILE, &old_nofile), 0);
	cr_log_info("refused page %zu with %ld; %ld VMAs, limit %" PRIu64 ", margin %" PRIu64, n, r,
		    count_maps(), max, margin);
	cr_assert_eq(r, -ENOMEM, "page %zu: %ld", n, r);
	cr_assert_leq((uint64_t)count_maps() + margin / 2, max,
		      "the windows grew into the margin: the count went stale");
	cr_assert_eq(munmap(filler, filler_pages * pg()), 0);
	free(g);
}
