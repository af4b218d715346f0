/* SPDX-License-Identifier: MIT */
/*
 * Test helpers (included by helpers.h): forked children. The CHILD_* checks
 * they report through, running a function in a child that may first set
 * RLIMIT_MEMLOCK or drop to nobody, and whether the limit can be set here.
 */
#ifndef AWE_TEST_HELPERS_CHILD_H
#define AWE_TEST_HELPERS_CHILD_H

#include <criterion/criterion.h>

#include <errno.h>
#include <grp.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <unistd.h>

#include <awe.h>

/*
 * Child processes. A child must not use Criterion's asserts (they report
 * through the parent test's channel); it checks with CHILD_* and reports
 * through its exit status, printing the reason on stderr.
 */
#define CHILD_CHECK(cond, ...)                                                                     \
	do {                                                                                       \
		if (!(cond)) {                                                                     \
			fprintf(stderr, "%s:%d: child check failed: %s: ", __FILE__, __LINE__,     \
				#cond);                                                            \
			fprintf(stderr, " " __VA_ARGS__);                                          \
			fprintf(stderr, "\n");                                                     \
			return 1;                                                                  \
		}                                                                                  \
	} while (0)

#define CHILD_ERR(call, code)                                                                      \
	do {                                                                                       \
		errno = 0;                                                                         \
		long long r_ = (long long)(call);                                                  \
		int e_ = errno;                                                                    \
		CHILD_CHECK(r_ == -(long long)(code) && e_ == (code),                              \
			    "%s returned %lld errno %d, expected -%s", #call, r_, e_, #code);      \
	} while (0)

#define CHILD_OK(call)                                                                             \
	do {                                                                                       \
		long long r_ = (long long)(call);                                                  \
		CHILD_CHECK(r_ >= 0, "%s failed: %lld (%s)", #call, r_, awe_strerror((int)r_));    \
	} while (0)

struct child_opts {
	bool as_nobody;	  /* drop to uid/gid 65534 first (caller must be root) */
	bool set_memlock; /* set RLIMIT_MEMLOCK (soft and hard) to memlock first */
	rlim_t memlock;
};

#define NOBODY_ID 65534

static inline int child_setup(const struct child_opts *o)
{
	if (o && o->set_memlock) {
		struct rlimit rl = {o->memlock, o->memlock};

		if (setrlimit(RLIMIT_MEMLOCK, &rl)) {
			perror("setrlimit(RLIMIT_MEMLOCK)");
			return -1;
		}
	}
	if (o && o->as_nobody) {
		/* Groups first: after setuid we may no longer change them. */
		if (setgroups(0, NULL) || setgid(NOBODY_ID) || setuid(NOBODY_ID)) {
			perror("dropping to nobody");
			return -1;
		}
		if (geteuid() == 0 || setuid(0) == 0) {
			fprintf(stderr, "privileges were not dropped\n");
			return -1;
		}
	}
	return 0;
}

/*
 * Can a child set RLIMIT_MEMLOCK to @want? Raising the hard limit takes
 * CAP_SYS_RESOURCE, which containers often drop: found out in a throwaway
 * child.
 */
static inline bool memlock_settable(rlim_t want)
{
	struct rlimit rl = {want, want};
	int status;
	pid_t pid;

	fflush(NULL);
	pid = fork();
	if (pid == 0)
		_exit(setrlimit(RLIMIT_MEMLOCK, &rl) != 0);
	return pid > 0 && waitpid(pid, &status, 0) == pid && WIFEXITED(status) &&
	       WEXITSTATUS(status) == 0;
}

/*
 * Runs @fn(@arg) in a forked child and returns its exit status (100: the
 * setup @o asked for failed); fails the test if a signal killed it. The
 * child leaves with _exit() so that no Criterion or atexit state of the
 * test process runs twice.
 */
static inline int child_status(int (*fn)(void *), void *arg, const struct child_opts *o)
{
	int status;
	pid_t pid;

	fflush(NULL);
	pid = fork();
	cr_assert_neq(pid, -1, "fork: %s", strerror(errno));
	if (pid == 0)
		_exit(child_setup(o) ? 100 : fn(arg));
	cr_assert_eq(waitpid(pid, &status, 0), pid);
	cr_assert(!WIFSIGNALED(status), "child killed by signal %d (%s)", WTERMSIG(status),
		  strsignal(WTERMSIG(status)));
	return WEXITSTATUS(status);
}

/* Runs @fn(@arg) in a forked child and fails the test unless it exits 0. */
static inline void run_in_child(int (*fn)(void *), void *arg, const struct child_opts *o)
{
	int status = child_status(fn, arg, o);

	cr_assert_eq(status, 0,
		     "child exited with %d (100: setup failed; otherwise see its stderr)", status);
}

#endif /* AWE_TEST_HELPERS_CHILD_H */
