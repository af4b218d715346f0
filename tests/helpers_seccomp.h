/* SPDX-License-Identifier: MIT */
/*
 * Test helpers (included by helpers.h): a seccomp filter that makes chosen
 * system calls fail, for children that play a container runtime's profile.
 */
#ifndef AWE_TEST_HELPERS_SECCOMP_H
#define AWE_TEST_HELPERS_SECCOMP_H

#include <errno.h>
#include <linux/audit.h>
#include <linux/filter.h>
#include <linux/seccomp.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <unistd.h>

#if defined(__x86_64__)
#define SECCOMP_ARCH AUDIT_ARCH_X86_64
#elif defined(__aarch64__)
#define SECCOMP_ARCH AUDIT_ARCH_AARCH64
#endif

#define SECCOMP_SKIP 77

struct refusal {
	unsigned int nr;
	int err;
	bool match_arg1;
	uint32_t arg1;
};

/*
 * seccomp: make system calls fail as container runtimes' profiles do. Each
 * refusal makes system call @nr fail with @err; with @match_arg1, only when
 * its second argument (an ioctl's request) is @arg1. Everything else is
 * allowed, and so is any system call of another architecture's ABI.
 * NO_NEW_PRIVS lets an unprivileged process do it. For children only: a
 * filter cannot be removed. Returns 0; SECCOMP_SKIP when the kernel has no
 * seccomp here; 1 after a message otherwise.
 */
static inline int seccomp_refuse(const struct refusal *r, size_t n)
{
#ifdef SECCOMP_ARCH
	struct sock_filter f[3 + 5 * n + 1];
	struct sock_fprog prog = {.filter = f};
	size_t k = 0;

	f[k++] = (struct sock_filter)BPF_STMT(BPF_LD | BPF_W | BPF_ABS,
					      offsetof(struct seccomp_data, arch));
	f[k++] = (struct sock_filter)BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, SECCOMP_ARCH, 1, 0);
	f[k++] = (struct sock_filter)BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ALLOW);
	for (size_t i = 0; i < n; i++) {
		unsigned int ret = SECCOMP_RET_ERRNO | ((unsigned int)r[i].err & SECCOMP_RET_DATA);

		f[k++] = (struct sock_filter)BPF_STMT(BPF_LD | BPF_W | BPF_ABS,
						      offsetof(struct seccomp_data, nr));
		f[k++] = (struct sock_filter)BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, r[i].nr, 0,
						      r[i].match_arg1 ? 3 : 1);
		if (r[i].match_arg1) {
			/* The low half of a 64-bit argument (little-endian). */
			f[k++] = (struct sock_filter)BPF_STMT(
				BPF_LD | BPF_W | BPF_ABS, offsetof(struct seccomp_data, args[1]));
			f[k++] = (struct sock_filter)BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, r[i].arg1,
							      0, 1);
		}
		f[k++] = (struct sock_filter)BPF_STMT(BPF_RET | BPF_K, ret);
	}
	f[k++] = (struct sock_filter)BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ALLOW);
	prog.len = (unsigned short)k;
	if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0)) {
		fprintf(stderr, "PR_SET_NO_NEW_PRIVS: %s\n", strerror(errno));
		return 1;
	}
	if (prctl(PR_SET_SECCOMP, SECCOMP_MODE_FILTER, &prog, 0, 0)) {
		fprintf(stderr, "cannot install a seccomp filter: %s\n", strerror(errno));
		return SECCOMP_SKIP;
	}
	return 0;
#else
	(void)r;
	(void)n;
	fprintf(stderr, "the seccomp filter is written for x86-64 and arm64 only\n");
	return SECCOMP_SKIP;
#endif
}

/*
 * seccomp_refuse(), then a check that the filter is in force: with a bad
 * first argument each refused call would fail otherwise (EINVAL, EFAULT,
 * EBADF), so its own errno means the filter answered. Returns as
 * seccomp_refuse() does.
 */
static inline int seccomp_refuse_checked(const struct refusal *r, size_t n)
{
	int rc = seccomp_refuse(r, n);

	if (rc)
		return rc;
	for (size_t i = 0; i < n; i++) {
		errno = 0;
		if (syscall(r[i].nr, -1L, (long)r[i].arg1, 0L) != -1 || errno != r[i].err) {
			fprintf(stderr, "system call %u under the filter: errno %d, expected %d\n",
				r[i].nr, errno, r[i].err);
			return 1;
		}
	}
	return 0;
}

#endif /* AWE_TEST_HELPERS_SECCOMP_H */
