/* SPDX-License-Identifier: MIT */
/*
 * Engine selection: the default engine and why, AWE_ENGINE, the fallback to
 * memfd when a seccomp filter refuses userfaultfd(2) or one of the ioctls the
 * UFFDIO_MOVE engine uses, and no engine at all when memfd_create(2) is
 * refused too. test_engine_budget has the memfd engine's VMA budget.
 *
 * Every test sets AWE_ENGINE itself before its first libawe call (each
 * Criterion test is a process of its own), so the program does the same
 * under both runs of the suite.
 */
#include "engine_select.h"

static bool contains(const char *s, const char *what)
{
	return s && strstr(s, what);
}

/* Maps, writes, unmaps, maps elsewhere, checks, frees: the engine works. */
static void round_trip(void)
{
	enum { N = 8 };
	awe_frame_t f[N];
	char *w = window_new(2 * N);

	alloc_exact(f, N);
	map_stamped(w, f, N);
	assert_stamped(w, f, N);
	unmap_range(w, N);
	assert_read_faults(w);
	for (size_t i = 0; i < N; i++)
		map1(slot(w, 2 * N - 1 - i), f[i]);
	for (size_t i = 0; i < N; i++)
		assert_stamped_at(slot(w, 2 * N - 1 - i), f[i]);
	AWE_OK(awe_free(f, N, NULL));
	AWE_OK(awe_window_destroy(w));
	cr_assert_eq(get_stats().frames_allocated, 0);
}

/* --- the default engine and AWE_ENGINE ------------------------------------ */

Test(engine, default_is_uffd_move)
{
	struct awe_stats st;

	engine_env(NULL);
	skip_unless_uffd_move();
	st = get_stats();
	cr_assert_str_eq(st.engine, "uffd-move");
	cr_assert_not_null(st.engine_reason);
	cr_assert_str_eq(st.engine_reason, "the kernel's userfaultfd has UFFDIO_MOVE");
	cr_assert_eq(st.vmas_worst, 0, "no window yet, vmas_worst %" PRIu64, st.vmas_worst);
	round_trip();
}

/* Where the kernel cannot run the UFFDIO_MOVE engine, the default is memfd, and says why. */
Test(engine, default_falls_back_without_uffd_move)
{
	const char *why;
	struct awe_stats st;

	engine_env(NULL);
	why = uffd_move_missing();
	if (!why)
		cr_skip_test("the kernel has UFFDIO_MOVE: seccomp_eperm_falls_back covers the "
			     "fallback");
	st = get_stats();
	cr_assert_str_eq(st.engine, "memfd", "%s, yet the engine is %s", why, st.engine);
	cr_assert(contains(st.engine_reason, "fallback: "), "engine_reason: %s", st.engine_reason);
	round_trip();
}

Test(engine, env_memfd)
{
	struct awe_stats st;

	engine_env("memfd");
	st = get_stats();
	cr_assert_str_eq(st.engine, "memfd");
	cr_assert(contains(st.engine_reason, "AWE_ENGINE=memfd"), "engine_reason: %s",
		  st.engine_reason);
	cr_assert(engine_is_memfd());
	cr_assert_eq(fault_signal(), SIGSEGV);
	round_trip();
}

Test(engine, env_uffd)
{
	struct awe_stats st;

	engine_env("uffd");
	skip_unless_uffd_move();
	st = get_stats();
	cr_assert_str_eq(st.engine, "uffd-move");
	cr_assert(contains(st.engine_reason, "AWE_ENGINE=uffd"), "engine_reason: %s",
		  st.engine_reason);
	cr_assert(!engine_is_memfd());
	cr_assert_eq(fault_signal(), SIGBUS);
	round_trip();
}

/* Any other value: every entry point fails with -EINVAL, and nothing starts. */
Test(engine, env_bogus)
{
	const char *bad[] = {"bogus", "uffd-move", "MEMFD", "memfd ", "uffd,memfd", "0"};
	struct awe_stats st;
	awe_section_t sec;
	awe_frame_t f;
	void *base;

	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		engine_env(bad[i]);
		AWE_ERR(awe_init(0), EINVAL);
		AWE_ERR(awe_init(AWE_INIT_UNLOCKED), EINVAL);
		AWE_ERR(awe_alloc(&f, 1), EINVAL);
		AWE_ERR(awe_alloc_node(&f, 1, -1), EINVAL);
		AWE_ERR(awe_window_create(pg(), NULL, 0, &base), EINVAL);
		AWE_ERR(awe_section_create(0, &sec), EINVAL);
		AWE_ERR(awe_stats(&st), EINVAL);
	}
	cr_assert(contains(awe_strerror(-EINVAL), "AWE_ENGINE"), "awe_strerror(-EINVAL): %s",
		  awe_strerror(-EINVAL));
	/* The failures left nothing behind: a good value starts libawe normally. */
	engine_env("memfd");
	AWE_OK(awe_init(0));
	cr_assert_str_eq(get_stats().engine, "memfd");
	cr_assert_eq(get_stats().frames_allocated, 0);
}

/* --- userfaultfd(2) or one of its ioctls refused by a seccomp filter ------ */

enum { CHILD_SKIP = SECCOMP_SKIP };

/* What a child's seccomp filter refuses (tests/helpers_seccomp.h), and what the
 * messages of libawe must then name: the refused call and its errno. */
struct block {
	struct refusal r[2];
	size_t n;
	const char *what;
	const char *err_name;
};

static const struct block uffd_eperm = {
	.r = {{.nr = __NR_userfaultfd, .err = EPERM}},
	.n = 1,
	.what = "userfaultfd",
	.err_name = "EPERM",
};

/* Only the userfaultfd ioctl @req refused, with @e; the messages must name
 * both as spelt here. */
#define IOCTL_BLOCK(req, e)                                                                        \
	{                                                                                          \
		.r = {{.nr = __NR_ioctl, .err = e, .match_arg1 = true, .arg1 = (uint32_t)(req)}},  \
		.n = 1, .what = #req, .err_name = #e,                                              \
	}

/* Runs @fn in a child under the filter (checked to be in force: CHILD_SKIP
 * when there is no seccomp here); it exits 0 when every check passed. */
static void run_blocked(const struct block *b, int (*fn)(const struct block *))
{
	int status;
	pid_t pid;

	fflush(NULL);
	pid = fork();
	cr_assert_neq(pid, -1, "fork: %s", strerror(errno));
	if (pid == 0) {
		int r = seccomp_refuse_checked(b->r, b->n);

		_exit(r ? r : fn(b));
	}
	cr_assert_eq(waitpid(pid, &status, 0), pid);
	cr_assert(!WIFSIGNALED(status), "child killed by signal %d (%s)", WTERMSIG(status),
		  strsignal(WTERMSIG(status)));
	if (WEXITSTATUS(status) == CHILD_SKIP)
		cr_skip_test("no seccomp filter here (see stderr)");
	cr_assert_eq(WEXITSTATUS(status), 0, "child exited with %d: see its stderr",
		     WEXITSTATUS(status));
}

/* For children (no Criterion asserts): lines of a file, -1 when unreadable. */
static long count_lines(const char *path)
{
	FILE *fp = fopen(path, "re");
	long n = 0;
	int c;

	if (!fp)
		return -1;
	while ((c = getc(fp)) != EOF)
		n += c == '\n';
	fclose(fp);
	return n;
}

static int count_uffds(void)
{
	return count_fds_of("userfaultfd");
}

/* No AWE_ENGINE: libawe falls back to memfd, says why, and works. */
static int child_fallback(const struct block *blk)
{
	enum { N = 16 };
	awe_frame_t f[N];
	struct awe_stats st;
	struct fault fl;
	void *a, *b, *where;
	char *w, *w2;

	CHILD_CHECK(unsetenv("AWE_ENGINE") == 0);
	CHILD_OK(awe_stats(&st));
	CHILD_CHECK(st.engine && !strcmp(st.engine, "memfd"), "engine %s", st.engine);
	CHILD_CHECK(contains(st.engine_reason, "fallback"), "engine_reason: %s", st.engine_reason);
	CHILD_CHECK(contains(st.engine_reason, blk->err_name), "engine_reason: %s",
		    st.engine_reason);
	CHILD_CHECK(contains(st.engine_reason, blk->what), "engine_reason: %s", st.engine_reason);
	CHILD_CHECK(contains(st.engine_reason, "userfaultfd"), "engine_reason: %s",
		    st.engine_reason);
	/* The uffd engine's attempt left no descriptor behind. */
	CHILD_CHECK(count_uffds() == 0, "%d userfaultfd descriptors open", count_uffds());
	CHILD_CHECK(st.vmas_worst == 0, "vmas_worst %" PRIu64 " without windows", st.vmas_worst);

	CHILD_CHECK(awe_alloc(f, N) == N);
	CHILD_OK(awe_window_create(N * pg(), NULL, 0, &a));
	CHILD_OK(awe_window_create(2 * N * pg(), NULL, 0, &b));
	w = a;
	w2 = b;
	CHILD_OK(awe_map(w, N, f));
	for (size_t i = 0; i < N; i++)
		fill_page(slot(w, i), f[i]);
	for (size_t i = 0; i < N; i++)
		CHILD_CHECK(*(uint64_t *)slot(w, i) == pattern(f[i], 0), "slot %zu", i);
	CHILD_OK(awe_map(w, N, NULL));
	fl = probe_read(w);
	CHILD_CHECK(fl.sig == SIGSEGV && fl.addr == (void *)w,
		    "an unmapped slot raised signal %d at %p", fl.sig, fl.addr);
	/* Elsewhere, in reverse, in the other window: the contents came along. */
	for (size_t i = 0; i < N; i++)
		CHILD_OK(awe_map(slot(w2, 2 * N - 1 - 2 * i), 1, &f[i]));
	for (size_t i = 0; i < N; i++) {
		const uint64_t *q = (const uint64_t *)slot(w2, 2 * N - 1 - 2 * i);

		for (size_t k = 0; k < pg() / sizeof(*q); k++)
			CHILD_CHECK(q[k] == pattern(f[i], k), "frame %zu word %zu lost", i, k);
		CHILD_OK(awe_frame_addr(f[i], &where));
		CHILD_CHECK(where == (void *)q);
	}
	CHILD_OK(awe_protect(slot(w2, 1), 1, AWE_PROT_READ, NULL));
	fl = probe_write(slot(w2, 1), 1);
	CHILD_CHECK(fl.sig == SIGSEGV, "a read-only slot raised signal %d on write", fl.sig);
	CHILD_OK(awe_stats(&st));
	CHILD_CHECK(st.frames_mapped == N && st.windows == 2);
	CHILD_OK(awe_free(f, N, NULL));
	CHILD_OK(awe_window_destroy(w));
	CHILD_OK(awe_window_destroy(w2));
	CHILD_OK(awe_stats(&st));
	CHILD_CHECK(st.frames_allocated == 0 && st.frames_mapped == 0 && st.windows == 0);
	CHILD_CHECK(st.vmas_worst == 0, "vmas_worst %" PRIu64 " after the windows went",
		    st.vmas_worst);
	return 0;
}

Test(engine, seccomp_eperm_falls_back)
{
	run_blocked(&uffd_eperm, child_fallback);
}

/* AWE_ENGINE=uffd forbids the fallback: initialisation fails and says why. */
static int child_forced_uffd(const struct block *blk)
{
	struct awe_stats st;
	awe_frame_t f;
	void *base;
	const char *m;
	long maps;
	int fds;

	CHILD_CHECK(setenv("AWE_ENGINE", "uffd", 1) == 0);
	CHILD_ERR(awe_init(0), ENOSYS);
	m = awe_strerror(-ENOSYS);
	CHILD_CHECK(contains(m, blk->err_name) && contains(m, blk->what) &&
			    contains(m, "userfaultfd"),
		    "awe_strerror: %s", m);
	/* A failed start leaves no mapping or descriptor behind: a second one
	 * (the first made whatever libc and the library keep for good) leaves
	 * the process as it was. */
	CHILD_CHECK(count_uffds() == 0, "%d userfaultfd descriptors open", count_uffds());
	maps = count_lines("/proc/self/maps");
	fds = count_fds();
	CHILD_ERR(awe_init(0), ENOSYS);
	CHILD_CHECK(count_lines("/proc/self/maps") == maps, "%ld mappings, %ld before",
		    count_lines("/proc/self/maps"), maps);
	CHILD_CHECK(count_fds() == fds, "%d descriptors, %d before", count_fds(), fds);
	CHILD_ERR(awe_alloc(&f, 1), ENOSYS);
	CHILD_ERR(awe_window_create(pg(), NULL, 0, &base), ENOSYS);
	CHILD_ERR(awe_stats(&st), ENOSYS);
	/* Nothing started: without the variable, the fallback works. */
	CHILD_CHECK(unsetenv("AWE_ENGINE") == 0);
	CHILD_OK(awe_init(0));
	CHILD_OK(awe_stats(&st));
	CHILD_CHECK(!strcmp(st.engine, "memfd"), "engine %s", st.engine);
	return 0;
}

Test(engine, seccomp_eperm_forced_uffd_fails)
{
	run_blocked(&uffd_eperm, child_forced_uffd);
}

/*
 * userfaultfd(2) allowed but one of the ioctls the engine needs refused, as
 * a seccomp filter written against UFFDIO_MOVE may do: libawe must see it at
 * start and fall back to memfd, instead of failing every map with -EIO. The
 * refused ioctl and its errno are named in engine_reason, and with
 * AWE_ENGINE=uffd in awe_strerror(-ENOSYS).
 */
static void ioctl_refused(const struct block *b, int (*fn)(const struct block *))
{
	skip_unless_uffd_move();
	run_blocked(b, fn);
}

Test(engine, seccomp_move_eperm_falls_back)
{
	static const struct block b = IOCTL_BLOCK(UFFDIO_MOVE, EPERM);

	ioctl_refused(&b, child_fallback);
}

Test(engine, seccomp_move_eacces_falls_back)
{
	static const struct block b = IOCTL_BLOCK(UFFDIO_MOVE, EACCES);

	ioctl_refused(&b, child_fallback);
}

Test(engine, seccomp_move_enosys_falls_back)
{
	static const struct block b = IOCTL_BLOCK(UFFDIO_MOVE, ENOSYS);

	ioctl_refused(&b, child_fallback);
}

Test(engine, seccomp_copy_eperm_falls_back)
{
	static const struct block b = IOCTL_BLOCK(UFFDIO_COPY, EPERM);

	ioctl_refused(&b, child_fallback);
}

Test(engine, seccomp_register_eacces_falls_back)
{
	static const struct block b = IOCTL_BLOCK(UFFDIO_REGISTER, EACCES);

	ioctl_refused(&b, child_fallback);
}

Test(engine, seccomp_writeprotect_eperm_falls_back)
{
	static const struct block b = IOCTL_BLOCK(UFFDIO_WRITEPROTECT, EPERM);

	ioctl_refused(&b, child_fallback);
}

Test(engine, seccomp_move_eperm_forced_uffd_fails)
{
	static const struct block b = IOCTL_BLOCK(UFFDIO_MOVE, EPERM);

	ioctl_refused(&b, child_forced_uffd);
}

Test(engine, seccomp_move_eacces_forced_uffd_fails)
{
	static const struct block b = IOCTL_BLOCK(UFFDIO_MOVE, EACCES);

	ioctl_refused(&b, child_forced_uffd);
}

Test(engine, seccomp_copy_eacces_forced_uffd_fails)
{
	static const struct block b = IOCTL_BLOCK(UFFDIO_COPY, EACCES);

	ioctl_refused(&b, child_forced_uffd);
}

Test(engine, seccomp_register_eperm_forced_uffd_fails)
{
	static const struct block b = IOCTL_BLOCK(UFFDIO_REGISTER, EPERM);

	ioctl_refused(&b, child_forced_uffd);
}

Test(engine, seccomp_writeprotect_eacces_forced_uffd_fails)
{
	static const struct block b = IOCTL_BLOCK(UFFDIO_WRITEPROTECT, EACCES);

	ioctl_refused(&b, child_forced_uffd);
}

/* --- memfd_create(2) refused too: no engine ----------------------------- */

/*
 * Neither engine can start (userfaultfd(2) and memfd_create(2) both refused,
 * with ENOSYS or, as container profiles do, EPERM): every call fails with
 * -ENOSYS, and awe_strerror() names memfd_create.
 */
static int child_no_engine(const struct block *blk)
{
	struct awe_stats st;
	awe_frame_t f;
	awe_section_t sec;
	void *base;
	const char *m;

	CHILD_CHECK(unsetenv("AWE_ENGINE") == 0);
	CHILD_ERR(awe_init(0), ENOSYS);
	m = awe_strerror(-ENOSYS);
	CHILD_CHECK(contains(m, "memfd_create"), "awe_strerror(-ENOSYS): %s", m);
	(void)blk;
	CHILD_ERR(awe_alloc(&f, 1), ENOSYS);
	CHILD_ERR(awe_window_create(pg(), NULL, 0, &base), ENOSYS);
	CHILD_ERR(awe_section_create(0, &sec), ENOSYS);
	CHILD_ERR(awe_stats(&st), ENOSYS);
	CHILD_CHECK(setenv("AWE_ENGINE", "memfd", 1) == 0);
	CHILD_ERR(awe_init(0), ENOSYS);
	return 0;
}

Test(engine, seccomp_enosys_no_engine_at_all)
{
	static const struct block both = {
		.r = {{.nr = __NR_userfaultfd, .err = ENOSYS},
		      {.nr = __NR_memfd_create, .err = ENOSYS}},
		.n = 2,
		.what = "memfd_create",
		.err_name = "ENOSYS",
	};

	run_blocked(&both, child_no_engine);
}

Test(engine, seccomp_eperm_no_engine_at_all)
{
	static const struct block both = {
		.r = {{.nr = __NR_userfaultfd, .err = EPERM},
		      {.nr = __NR_memfd_create, .err = EPERM}},
		.n = 2,
		.what = "memfd_create",
		.err_name = "EPERM",
	};

	run_blocked(&both, child_no_engine);
}
