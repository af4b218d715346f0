/* SPDX-License-Identifier: MIT */
/*
 * Engine selection: the default engine and why, AWE_ENGINE, the fallback to
 * memfd when a seccomp filter refuses userfaultfd(2) or one of the ioctls the
 * UFFDIO_MOVE engine uses, and the memfd engine's VMA budget (vmas_worst,
 * max_map_count, the clean -ENOMEM refusal).
 *
 * Every test sets AWE_ENGINE itself before its first libawe call (each
 * Criterion test is a process of its own), so the program does the same
 * under both runs of the suite.
 */
#include "helpers.h"

#include <dirent.h>
#include <fcntl.h>
#include <linux/userfaultfd.h>
#include <sys/ioctl.h>
#include <sys/syscall.h>

/* Debian 12's headers predate these. */
#ifndef UFFD_USER_MODE_ONLY
#define UFFD_USER_MODE_ONLY 1
#endif
#ifndef UFFD_FEATURE_MOVE
#define UFFD_FEATURE_MOVE (1 << 16)
#endif
#ifndef UFFDIO_MOVE
struct uffdio_move {
	__u64 dst, src, len, mode;
	__s64 move;
};
#define UFFDIO_MOVE _IOWR(UFFDIO, 0x05, struct uffdio_move)
#endif

/* What the UFFDIO_MOVE engine needs from the kernel (README, "Limits"). */
#define UFFD_NEEDED (UFFD_FEATURE_MOVE | UFFD_FEATURE_SIGBUS | UFFD_FEATURE_PAGEFAULT_FLAG_WP)

static void engine_env(const char *value)
{
	if (value)
		cr_assert_eq(setenv("AWE_ENGINE", value, 1), 0);
	else
		cr_assert_eq(unsetenv("AWE_ENGINE"), 0);
}

/*
 * Asks the kernel directly, without libawe, whether the UFFDIO_MOVE engine
 * can run here; NULL when it can, otherwise what is missing.
 */
static const char *uffd_move_missing(void)
{
	struct uffdio_api api = {.api = UFFD_API};
	long fd = syscall(SYS_userfaultfd, O_CLOEXEC | O_NONBLOCK | UFFD_USER_MODE_ONLY);
	int r;

	if (fd < 0)
		return errno == EINVAL ? "userfaultfd(2) lacks UFFD_USER_MODE_ONLY"
				       : "userfaultfd(2) is not available";
	r = ioctl((int)fd, UFFDIO_API, &api);
	close((int)fd);
	if (r != 0)
		return "the UFFDIO_API handshake failed";
	if (!(api.features & UFFD_FEATURE_MOVE))
		return "the kernel's userfaultfd lacks UFFDIO_MOVE (Linux 6.8)";
	if ((api.features & UFFD_NEEDED) != UFFD_NEEDED)
		return "the kernel's userfaultfd lacks UFFD_FEATURE_SIGBUS or write-protection";
	return NULL;
}

static void skip_unless_uffd_move(void)
{
	const char *why = uffd_move_missing();

	if (why)
		cr_skip_test("the UFFDIO_MOVE engine cannot run here: %s", why);
}

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

/* What a child's seccomp filter refuses (tests/helpers.h), and what the
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

/*
 * Installs the filter, then checks that it is in force: with a bad first
 * argument each refused call would fail otherwise (EINVAL, EFAULT, EBADF),
 * so its own errno means the filter answered. Returns 0, or non-zero after
 * a message (CHILD_SKIP: no seccomp here).
 */
static int install_block(const struct block *b)
{
	int r = seccomp_refuse(b->r, b->n);

	if (r)
		return r;
	for (size_t i = 0; i < b->n; i++) {
		errno = 0;
		if (syscall(b->r[i].nr, -1L, (long)b->r[i].arg1, 0L) != -1 ||
		    errno != b->r[i].err) {
			fprintf(stderr, "system call %u under the filter: errno %d, expected %d\n",
				b->r[i].nr, errno, b->r[i].err);
			return 1;
		}
	}
	return 0;
}

/* Runs @fn in a child under the filter; it exits 0 when every check passed. */
static void run_blocked(const struct block *b, int (*fn)(const struct block *))
{
	int status;
	pid_t pid;

	fflush(NULL);
	pid = fork();
	cr_assert_neq(pid, -1, "fork: %s", strerror(errno));
	if (pid == 0) {
		int r = install_block(b);

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

/* Open descriptors of this process whose target contains @what (all with
 * NULL), or -1 when /proc/self/fd cannot be read. */
static int count_fds_of(const char *what)
{
	DIR *d = opendir("/proc/self/fd");
	struct dirent *de;
	int n = 0;

	if (!d)
		return -1;
	while ((de = readdir(d))) {
		char path[sizeof("/proc/self/fd/") + sizeof(de->d_name)], target[256];
		ssize_t len;

		if (de->d_name[0] == '.' || atoi(de->d_name) == dirfd(d))
			continue;
		snprintf(path, sizeof(path), "/proc/self/fd/%s", de->d_name);
		len = readlink(path, target, sizeof(target) - 1);
		if (len < 0)
			continue;
		target[len] = '\0';
		n += !what || strstr(target, what);
	}
	closedir(d);
	return n;
}

static int count_fds(void)
{
	return count_fds_of(NULL);
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

/* --- the memfd engine's VMA budget ---------------------------------------- */

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
