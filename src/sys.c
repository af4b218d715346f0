/* SPDX-License-Identifier: MIT */
#include "sys.h"

#include <errno.h>
#include <sys/syscall.h>
#include <unistd.h>

/* Every wrapper restores errno: the public functions set errno only on their
 * own failure, so an internal call that fails and is handled must not leak
 * its errno to the caller. */
static int sys_ret(long r)
{
	return r == -1 ? -errno : (int)r;
}

int awe__sys_userfaultfd(int flags)
{
	int e = errno;
	int r = sys_ret(syscall(SYS_userfaultfd, flags));
	errno = e;
	return r;
}

int awe__sys_ioctl(int fd, unsigned long req, void *arg)
{
	int e = errno;
	int r;

	/* EINTR cannot happen for these ioctls, but EAGAIN can: UFFDIO_MOVE and
	 * UFFDIO_COPY report partial progress through their own fields, so the
	 * callers retry the rest themselves. */
	r = sys_ret(ioctl(fd, req, arg));
	errno = e;
	return r;
}

int awe__sys_mmap(uintptr_t addr, size_t len, int prot, int flags, uintptr_t *out)
{
	int e = errno;
	void *p = mmap((void *)addr, len, prot, flags, -1, 0);
	int r = 0;

	if (p == MAP_FAILED)
		r = -errno;
	else
		*out = (uintptr_t)p;
	errno = e;
	return r;
}

int awe__sys_munmap(uintptr_t addr, size_t len)
{
	int e = errno;
	int r = sys_ret(munmap((void *)addr, len));
	errno = e;
	return r;
}

int awe__sys_madvise(uintptr_t addr, size_t len, int advice)
{
	int e = errno;
	int r = sys_ret(madvise((void *)addr, len, advice));
	errno = e;
	return r;
}

int awe__sys_mlock2(uintptr_t addr, size_t len, unsigned int flags)
{
	int e = errno;
	int r = sys_ret(syscall(SYS_mlock2, addr, len, flags));
	errno = e;
	return r;
}

int awe__sys_get_mempolicy(int *mode, unsigned long *mask, unsigned long maxnode)
{
	int e = errno;
	int r = sys_ret(syscall(SYS_get_mempolicy, mode, mask, maxnode, 0UL, 0UL));
	errno = e;
	return r;
}

int awe__sys_set_mempolicy(int mode, const unsigned long *mask, unsigned long maxnode)
{
	int e = errno;
	int r = sys_ret(syscall(SYS_set_mempolicy, mode, mask, maxnode));
	errno = e;
	return r;
}

int awe__sys_close(int fd)
{
	int e = errno;
	int r = sys_ret(close(fd));
	errno = e;
	return r;
}
