/* SPDX-License-Identifier: MIT */
/*
 * The UFFDIO_MOVE engine's start-up probe (uffd_probe.h): each ioctl tried
 * once, and a sentence for the one refused.
 */
#include "uffd_probe.h"

#include <errno.h>
#include <sched.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>

#include "sys.h"

/* EAGAIN: a page or the address space was busy for a moment. */
#define EAGAIN_RETRIES 100

static int uffd_ioctl(int fd, unsigned long req, void *arg)
{
	int r, tries = 0;

	while ((r = awe__sys_ioctl(fd, req, arg)) == -EAGAIN && ++tries < EAGAIN_RETRIES)
		sched_yield();
	return r;
}

/* Linux 6.18 can move a page that is being migrated and still fail with
 * EEXIST (see awe__uffd_move() in uffd_ioctl.c): then the page has moved. */
static bool moved_anyway(uintptr_t dst, uintptr_t src, size_t page)
{
	unsigned char in = 0, out = 1;

	return !awe__sys_mincore(dst, page, &in) && !awe__sys_mincore(src, page, &out) &&
	       (in & 1) && !(out & 1);
}

static int try_all(int fd, size_t page, uintptr_t src, uintptr_t base, const char **call)
{
	struct uffdio_register reg = {
		.range = {.start = base, .len = 2 * page},
		.mode = UFFDIO_REGISTER_MODE_MISSING | UFFDIO_REGISTER_MODE_WP,
	};
	struct uffdio_copy cp = {.dst = base, .src = src, .len = page};
	struct uffdio_move mv = {.dst = base + page, .src = base, .len = page};
	struct uffdio_writeprotect wp = {
		.range = {.start = base + page, .len = page},
		.mode = UFFDIO_WRITEPROTECT_MODE_WP,
	};
	int r;

	/* Without it a fork() between the copy and the move would share the
	 * page, which UFFDIO_MOVE refuses. */
	*call = "madvise(MADV_DONTFORK)";
	r = awe__sys_madvise(base, 2 * page, MADV_DONTFORK);
	if (r)
		return r;
	/* KSM merging would share it too; only a hint (no CONFIG_KSM: EINVAL). */
	awe__sys_madvise(base, 2 * page, MADV_UNMERGEABLE);
	*call = "UFFDIO_REGISTER";
	r = uffd_ioctl(fd, UFFDIO_REGISTER, &reg);
	if (r)
		return r;
	*call = "UFFDIO_COPY";
	r = uffd_ioctl(fd, UFFDIO_COPY, &cp);
	if (r)
		return r;
	*call = "UFFDIO_MOVE";
	r = uffd_ioctl(fd, UFFDIO_MOVE, &mv);
	if ((r == -EEXIST || r == -ENOENT) && moved_anyway(mv.dst, mv.src, page))
		r = 0;
	if (r)
		return r;
	*call = "UFFDIO_WRITEPROTECT";
	r = uffd_ioctl(fd, UFFDIO_WRITEPROTECT, &wp);
	if (r)
		return r;
	wp.mode = 0;
	return uffd_ioctl(fd, UFFDIO_WRITEPROTECT, &wp);
}

int awe__uffd_probe(int fd, size_t page, uintptr_t src, const char **call)
{
	uintptr_t base;
	int r;

	*call = "mmap";
	r = awe__sys_mmap(0, 2 * page, PROT_READ | PROT_WRITE,
			  MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, &base);
	if (r)
		return r;
	r = try_all(fd, page, src, base, call);
	/* Unregisters the range too: a registration lives in the VMA. */
	awe__sys_munmap(base, 2 * page);
	if (!r)
		*call = NULL;
	return r;
}

static const char *errno_name(int e, char *buf, size_t len)
{
	switch (e) {
	case EPERM:
		return "EPERM";
	case EACCES:
		return "EACCES";
	case ENOSYS:
		return "ENOSYS";
	case ENOTTY:
		return "ENOTTY";
	case EINVAL:
		return "EINVAL";
	case EFAULT:
		return "EFAULT";
	case EBUSY:
		return "EBUSY";
	case EEXIST:
		return "EEXIST";
	case ENOENT:
		return "ENOENT";
	case EAGAIN:
		return "EAGAIN";
	case ENOMEM:
		return "ENOMEM";
	default:
		snprintf(buf, len, "errno %d", e);
		return buf;
	}
}

void awe__uffd_probe_explain(const char *call, int err, char *buf, size_t len)
{
	bool ioctl = strncmp(call, "UFFDIO_", 7) == 0;
	char num[24];
	const char *name = errno_name(err, num, sizeof(num));

	/* What seccomp filters and security modules answer; anything else is
	 * the kernel's own refusal of the test page. */
	if (err == EPERM || err == EACCES || err == ENOSYS)
		snprintf(
			buf, len,
			"userfaultfd(2) is allowed but %s%s%s is refused with %s: a seccomp filter "
			"or security policy blocks it",
			ioctl ? "its " : "", call, ioctl ? " ioctl" : "", name);
	else
		snprintf(
			buf, len,
			"userfaultfd(2) is allowed but %s%s%s fails with %s on a test page, so the "
			"UFFDIO_MOVE engine cannot run",
			ioctl ? "its " : "", call, ioctl ? " ioctl" : "", name);
}
