/* SPDX-License-Identifier: MIT */
/* awe_init(): flags, LIBAWE_UNLOCKED, page size, engine, missing kernel features. */
#include "helpers.h"

#include <fcntl.h>
#include <linux/audit.h>
#include <linux/filter.h>
#include <linux/seccomp.h>
#include <stddef.h>
#include <sys/prctl.h>
#include <sys/syscall.h>

/* Tests below depend on which flags the first call picks: start clean. */
static void no_env(void)
{
	unsetenv("LIBAWE_UNLOCKED");
}

TestSuite(init, .init = no_env);

Test(init, flags_zero)
{
	struct awe_stats st;

	AWE_OK(awe_init(0));
	st = get_stats();
	cr_assert_eq(st.locked, 1);
	cr_assert_eq(st.frames_allocated, 0);
	cr_assert_eq(st.windows, 0);
}

Test(init, unknown_flags)
{
	AWE_ERR(awe_init(1u << 1), EINVAL);
	AWE_ERR(awe_init(~0u), EINVAL);
	AWE_ERR(awe_init(AWE_INIT_UNLOCKED | 1u << 31), EINVAL);
	/* A failed awe_init() must not have initialised anything. */
	AWE_OK(awe_init(AWE_INIT_UNLOCKED));
	cr_assert_eq(get_stats().locked, 0);
}

Test(init, same_flags_again)
{
	AWE_OK(awe_init(AWE_INIT_UNLOCKED));
	AWE_OK(awe_init(AWE_INIT_UNLOCKED));
	AWE_OK(awe_init(AWE_INIT_UNLOCKED));
	cr_assert_eq(get_stats().locked, 0);
}

Test(init, different_flags_locked_first)
{
	AWE_OK(awe_init(0));
	AWE_ERR(awe_init(AWE_INIT_UNLOCKED), EBUSY);
	/* The refused call changed nothing. */
	cr_assert_eq(get_stats().locked, 1);
	AWE_OK(awe_init(0));
}

Test(init, different_flags_unlocked_first)
{
	AWE_OK(awe_init(AWE_INIT_UNLOCKED));
	AWE_ERR(awe_init(0), EBUSY);
	cr_assert_eq(get_stats().locked, 0);
}

/* Any other function initialises with flags 0, after which only 0 matches. */
Test(init, implicit_init_uses_flags_zero)
{
	awe_frame_t f;

	alloc_exact(&f, 1);
	cr_assert_eq(get_stats().locked, 1);
	AWE_OK(awe_init(0));
	AWE_ERR(awe_init(AWE_INIT_UNLOCKED), EBUSY);
}

Test(init, env_unlocked)
{
	struct awe_stats st;

	cr_assert_eq(setenv("LIBAWE_UNLOCKED", "1", 1), 0);
	st = get_stats();
	cr_assert_eq(st.locked, 0, "LIBAWE_UNLOCKED=1 ignored: stats.locked=%u", st.locked);
	/* The implicit initialisation used AWE_INIT_UNLOCKED. */
	AWE_OK(awe_init(AWE_INIT_UNLOCKED));
	cr_assert_eq(get_stats().locked, 0);
}

/* The variable unlocks even when the program asks for flags 0 explicitly. */
Test(init, env_unlocked_explicit_init)
{
	cr_assert_eq(setenv("LIBAWE_UNLOCKED", "1", 1), 0);
	AWE_OK(awe_init(0));
	cr_assert_eq(get_stats().locked, 0);
}

/* Only "1" unlocks. */
Test(init, env_other_value_stays_locked)
{
	cr_assert_eq(setenv("LIBAWE_UNLOCKED", "0", 1), 0);
	cr_assert_eq(get_stats().locked, 1);
}

Test(init, env_unlocked_first_call_alloc)
{
	struct awe_stats st;
	awe_frame_t f[4];

	cr_assert_eq(setenv("LIBAWE_UNLOCKED", "1", 1), 0);
	alloc_exact(f, 4);
	st = get_stats();
	cr_assert_eq(st.locked, 0);
	cr_assert_eq(st.frames_allocated, 4);
}

Test(init, page_size)
{
	long sys = sysconf(_SC_PAGESIZE);

	cr_assert_gt(sys, 0);
	cr_assert_eq(awe_page_size(), (size_t)sys);
	AWE_OK(awe_init(0));
	cr_assert_eq(awe_page_size(), (size_t)sys);
}

/* The engine is one of the two, and says why (test_engine checks the choice). */
Test(init, engine_name)
{
	struct awe_stats st = get_stats();
	const char *forced = getenv("AWE_ENGINE");

	cr_assert_not_null(st.engine);
	cr_assert(!strcmp(st.engine, "uffd-move") || !strcmp(st.engine, "memfd"), "engine %s",
		  st.engine);
	cr_assert_not_null(st.engine_reason);
	cr_assert_gt(strlen(st.engine_reason), 0);
	if (forced && !strcmp(forced, "memfd"))
		cr_assert_str_eq(st.engine, "memfd");
	if (forced && !strcmp(forced, "uffd"))
		cr_assert_str_eq(st.engine, "uffd-move");
}

Test(init, stats_null)
{
	AWE_ERR(awe_stats(NULL), EFAULT);
}

/*
 * Missing kernel feature: a seccomp filter makes userfaultfd(2) fail with
 * ENOSYS, as in containers whose runtime blocks it. (test_engine does the
 * same with EPERM, in a child, unprivileged.)
 */
static void block_userfaultfd(void)
{
#if defined(__x86_64__)
	struct sock_filter filter[] = {
		BPF_STMT(BPF_LD | BPF_W | BPF_ABS, offsetof(struct seccomp_data, arch)),
		BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, AUDIT_ARCH_X86_64, 1, 0),
		BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ALLOW),
		BPF_STMT(BPF_LD | BPF_W | BPF_ABS, offsetof(struct seccomp_data, nr)),
		BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, SYS_userfaultfd, 0, 1),
		BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ERRNO | (ENOSYS & SECCOMP_RET_DATA)),
		BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ALLOW),
	};
	struct sock_fprog prog = {
		.len = sizeof(filter) / sizeof(filter[0]),
		.filter = filter,
	};

	cr_assert_eq(prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0), 0, "PR_SET_NO_NEW_PRIVS: %s",
		     strerror(errno));
	if (prctl(PR_SET_SECCOMP, SECCOMP_MODE_FILTER, &prog, 0, 0))
		cr_skip_test("cannot install a seccomp filter: %s", strerror(errno));
	/* Sanity: the filter is in force. */
	errno = 0;
	cr_assert_eq(syscall(SYS_userfaultfd, 0), -1);
	cr_assert_eq(errno, ENOSYS);
#else
	cr_skip_test("the seccomp filter is written for x86-64 only");
#endif
}

/* AWE_ENGINE=uffd: no fallback, initialisation fails with -ENOSYS. */
Test(init, userfaultfd_blocked)
{
	struct awe_stats st;
	const char *msg;
	awe_frame_t f;
	void *base;

	cr_assert_eq(setenv("AWE_ENGINE", "uffd", 1), 0);
	block_userfaultfd();
	AWE_ERR(awe_init(0), ENOSYS);
	msg = awe_strerror(-ENOSYS);
	cr_assert_not_null(msg);
	cr_assert(strstr(msg, "userfaultfd"), "awe_strerror(-ENOSYS) does not name userfaultfd: %s",
		  msg);
	/* Every other entry point reports the same initialisation error. */
	AWE_ERR(awe_alloc(&f, 1), ENOSYS);
	AWE_ERR(awe_window_create(pg(), NULL, 0, &base), ENOSYS);
	AWE_ERR(awe_stats(&st), ENOSYS);
	AWE_ERR(awe_init(0), ENOSYS);
}

Test(init, userfaultfd_blocked_implicit)
{
	awe_frame_t f;

	cr_assert_eq(setenv("AWE_ENGINE", "uffd", 1), 0);
	block_userfaultfd();
	AWE_ERR(awe_alloc(&f, 1), ENOSYS);
}

/* Without AWE_ENGINE, the same filter makes libawe fall back to memfd. */
Test(init, userfaultfd_blocked_falls_back)
{
	struct awe_stats st;
	awe_frame_t f;
	char *w;

	cr_assert_eq(unsetenv("AWE_ENGINE"), 0);
	block_userfaultfd();
	AWE_OK(awe_init(0));
	st = get_stats();
	cr_assert_str_eq(st.engine, "memfd");
	cr_assert(strstr(st.engine_reason, "fallback") && strstr(st.engine_reason, "userfaultfd"),
		  "engine_reason: %s", st.engine_reason);
	alloc_exact(&f, 1);
	w = window_new(1);
	map1(w, f);
	fill_page(w, 3);
	unmap_range(w, 1);
	assert_read_faults(w);
	map1(w, f);
	assert_page(w, 3);
}

/* No descriptor left for the engine (the userfaultfd, or the memfd): -EMFILE,
 * and a later retry works. */
Test(init, no_fd_left)
{
	struct rlimit rl;
	int fds[256], n = 0;

	cr_assert_eq(getrlimit(RLIMIT_NOFILE, &rl), 0);
	rl.rlim_cur = 64;
	cr_assert_eq(setrlimit(RLIMIT_NOFILE, &rl), 0);
	for (;;) {
		int fd = open("/dev/null", O_RDONLY | O_CLOEXEC);

		if (fd < 0) {
			cr_assert_eq(errno, EMFILE);
			break;
		}
		cr_assert_lt(n, 256);
		fds[n++] = fd;
	}
	AWE_ERR(awe_init(0), EMFILE);
	while (n > 0)
		close(fds[--n]);
	AWE_OK(awe_init(0));
	cr_assert_eq(get_stats().locked, 1);
}
