/* SPDX-License-Identifier: MIT */
/*
 * Large frames of the memfd engine (every AWE section's, and the process's
 * with AWE_ENGINE=memfd) on each kind of huge page the system can offer,
 * set up here as root and put back after: a hugetlb pool (vm.nr_hugepages),
 * shmem huge pages (shmem_enabled = advise), and neither. Allocations past
 * the pool's end give fewer frames (as Windows does), then -ENOMEM; without
 * huge pages, -EOPNOTSUPP naming the settings. Changes the machine's
 * settings for a moment: runs alone (tests/meson.build), and skips without
 * root, or when a setting cannot be changed.
 *
 * Each test runs its body in a child, so that the settings are put back
 * whatever happens to it.
 */
#include "helpers.h"
#include <sys/wait.h>

#include "helpers_child.h"
#include "helpers_large.h"

#define NR_PATH "/proc/sys/vm/nr_hugepages"
#define SHMEM_PATH "/sys/kernel/mm/transparent_hugepage/shmem_enabled"
#define POOL 8

static char saved_nr[64], saved_shmem[64];

static bool read_setting(const char *path, char *buf, size_t len)
{
	FILE *f = fopen(path, "r");
	bool ok = f && fgets(buf, (int)len, f);

	if (f)
		fclose(f);
	return ok;
}

static bool write_setting(const char *path, const char *v)
{
	FILE *f = fopen(path, "w");
	bool ok = f && fputs(v, f) >= 0;

	if (f)
		ok = fclose(f) == 0 && ok;
	return ok;
}

/* The mode in force: the word in brackets. */
static void bracketed(char *buf)
{
	char *a = strchr(buf, '['), *b = a ? strchr(a, ']') : NULL;

	if (b) {
		*b = '\0';
		memmove(buf, a + 1, strlen(a + 1) + 1);
	}
}

/* Set the pool to @nr pages and shmem_enabled to @shmem, run @fn in a child,
 * put both back. */
static void with_settings(unsigned nr, const char *shmem, int (*fn)(void *))
{
	char v[32], now[64];
	int status = 0;
	bool waited;
	pid_t pid;

	skip_unless_root("sets vm.nr_hugepages and shmem_enabled");
	lpg();
	if (!read_setting(NR_PATH, saved_nr, sizeof(saved_nr)) ||
	    !read_setting(SHMEM_PATH, saved_shmem, sizeof(saved_shmem)))
		cr_skip_test("cannot read %s or %s", NR_PATH, SHMEM_PATH);
	bracketed(saved_shmem);
	snprintf(v, sizeof(v), "%u", nr);
	if (!write_setting(NR_PATH, v) || !write_setting(SHMEM_PATH, shmem)) {
		write_setting(NR_PATH, saved_nr);
		write_setting(SHMEM_PATH, saved_shmem);
		cr_skip_test("cannot set %s = %u and %s = %s here (a container?)", NR_PATH, nr,
			     SHMEM_PATH, shmem);
	}
	/* The kernel may find fewer free huge pages than asked for. */
	read_setting(NR_PATH, now, sizeof(now));
	if ((unsigned)atoi(now) != nr) {
		write_setting(NR_PATH, saved_nr);
		write_setting(SHMEM_PATH, saved_shmem);
		cr_skip_test("the kernel could reserve only %d of %u huge pages", atoi(now), nr);
	}
	fflush(NULL);
	pid = fork();
	if (pid == 0)
		_exit(fn(NULL));
	waited = pid > 0 && waitpid(pid, &status, 0) == pid;
	/* Put back before any assertion can leave. */
	cr_assert(write_setting(NR_PATH, saved_nr), "could not put %s back", NR_PATH);
	cr_assert(write_setting(SHMEM_PATH, saved_shmem), "could not put %s back", SHMEM_PATH);
	cr_assert(waited, "fork or wait failed: %s", strerror(errno));
	cr_assert(!WIFSIGNALED(status), "the child was killed by signal %d (%s)", WTERMSIG(status),
		  strsignal(WTERMSIG(status)));
	cr_assert_eq(WEXITSTATUS(status), 0, "the child failed: see its stderr");
}

/* Frames of a large section show one huge page each, in two windows. */
static int section_works(awe_section_t s, size_t n)
{
	awe_frame_t f[POOL];
	void *w, *w2;
	ssize_t got = awe_section_alloc(s, f, n);

	CHILD_CHECK(got == (ssize_t)n, "section alloc of %zu: %zd (%s)", n, got,
	      got < 0 ? awe_strerror((int)got) : "fewer");
	CHILD_CHECK(awe_section_window_create(s, n * lpg(), NULL, 0, &w) == 0, "window");
	CHILD_CHECK(awe_section_window_create(s, lpg(), NULL, 0, &w2) == 0, "window 2");
	CHILD_CHECK(awe_map(w, n, f) == 0 && awe_map(w2, 1, &f[n - 1]) == 0, "map");
	for (size_t i = 0; i < n; i++) {
		((volatile uint64_t *)lslot(w, i))[7] = 0x77 + i;
		CHILD_CHECK(range_is_huge(lslot(w, i), lpg()) == 1, "slot %zu is not one huge page", i);
	}
	CHILD_CHECK(((volatile uint64_t *)w2)[7] == 0x77 + n - 1, "the two views differ");
	CHILD_CHECK(range_is_huge(w2, lpg()) == 1, "the second view is not one huge page");
	CHILD_CHECK(awe_section_free(s, f, n, NULL) == 0, "free");
	return 0;
}

static int pool_body(void *arg)
{
	awe_frame_t f[POOL + 4], g[1];
	awe_section_t s;
	ssize_t got;

	(void)arg;
	CHILD_CHECK(awe_section_create(AWE_SECTION_LARGE, &s) == 0, "large section");
	CHILD_CHECK(section_works(s, 3) == 0, "a section on the hugetlb pool");
	/* Past the pool's end: fewer, as Windows gives, then none. */
	got = awe_section_alloc(s, f, POOL + 4);
	CHILD_CHECK(got == POOL, "asked for %d of a pool of %d: got %zd", POOL + 4, POOL, got);
	got = awe_section_alloc(s, g, 1);
	CHILD_CHECK(got == -ENOMEM, "an empty pool gave %zd, not -ENOMEM", got);
	CHILD_CHECK(awe_section_free(s, f, 1, NULL) == 0, "free one");
	CHILD_CHECK(awe_section_alloc(s, g, 1) == 1, "the page freed is there again");
	CHILD_CHECK(awe_section_free(s, f + 1, POOL - 1, NULL) == 0 &&
		      awe_section_free(s, g, 1, NULL) == 0,
	      "free");
	/* The process's own large frames come from the pool with memfd. */
	if (engine_is_memfd()) {
		got = awe_alloc_ex(f, POOL + 4, -1, AWE_ALLOC_LARGE);
		CHILD_CHECK(got == POOL, "memfd engine: %d of a pool of %d: got %zd", POOL + 4, POOL,
		      got);
	}
	return 0;
}

static int shmem_body(void *arg)
{
	awe_section_t s;
	awe_frame_t f[2];
	void *w;

	(void)arg;
	CHILD_CHECK(awe_section_create(AWE_SECTION_LARGE, &s) == 0, "large section on shmem");
	CHILD_CHECK(section_works(s, 4) == 0, "a section on shmem huge pages");
	if (engine_is_memfd()) {
		CHILD_CHECK(awe_alloc_ex(f, 2, -1, AWE_ALLOC_LARGE) == 2, "memfd engine on shmem");
		CHILD_CHECK(awe_window_create(2 * lpg(), NULL, AWE_WINDOW_LARGE, &w) == 0, "window");
		CHILD_CHECK(awe_map(w, 2, f) == 0, "map");
		for (int i = 0; i < 2; i++) {
			*(volatile char *)lslot(w, i) = 1;
			CHILD_CHECK(range_is_huge(lslot(w, i), lpg()) == 1, "slot %d not huge", i);
		}
	}
	return 0;
}

static int none_body(void *arg)
{
	awe_section_t s = 0;
	awe_frame_t f[1];
	int r = awe_section_create(AWE_SECTION_LARGE, &s);

	(void)arg;
	CHILD_CHECK(r == -EOPNOTSUPP, "no huge pages, yet a large section: %d", r);
	CHILD_CHECK(s == 0, "a failed call wrote the handle");
	CHILD_CHECK(strstr(awe_strerror(r), "nr_hugepages") && strstr(awe_strerror(r), "shmem_enabled"),
	      "the reason does not name the settings: %s", awe_strerror(r));
	if (engine_is_memfd()) {
		ssize_t got = awe_alloc_ex(f, 1, -1, AWE_ALLOC_LARGE);

		CHILD_CHECK(got == -EOPNOTSUPP, "memfd engine without huge pages: %zd", got);
	}
	return 0;
}

Test(large_system, hugetlb_pool)
{
	with_settings(POOL, "never", pool_body);
}

Test(large_system, shmem_huge_pages)
{
	with_settings(0, "advise", shmem_body);
}

Test(large_system, no_huge_pages)
{
	with_settings(0, "never", none_body);
}
