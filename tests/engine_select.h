/* SPDX-License-Identifier: MIT */
/*
 * Helpers of the test_engine programs: AWE_ENGINE for the test's own
 * process, and whether the UFFDIO_MOVE engine can run here, asked of the
 * kernel without libawe.
 */
#ifndef AWE_TEST_ENGINE_H
#define AWE_TEST_ENGINE_H

#include "helpers.h"

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

static inline void engine_env(const char *value)
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
static inline const char *uffd_move_missing(void)
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

static inline void skip_unless_uffd_move(void)
{
	const char *why = uffd_move_missing();

	if (why)
		cr_skip_test("the UFFDIO_MOVE engine cannot run here: %s", why);
}

#endif /* AWE_TEST_ENGINE_H */
