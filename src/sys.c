/* SPDX-License-Identifier: MIT */
#include "sys.h"

#include <errno.h>
#include <fcntl.h>
#include <sys/mman.h>
#include <linux/futex.h>
#include <linux/mempolicy.h>
#include <sys/syscall.h>
#include <unistd.h>

/* Every wrapper leaves errno alone (the public functions set errno only on
 * their own failure, so an internal call that fails and is handled must not
 * leak its errno to the caller), and none is a pthread cancellation point
 * (a thread cancelled while the library holds its lock would leave it held
 * for good): libc's wrappers are used only where they are neither. */
static int sys_ret(long r)
{
	return r == -1 ? -errno : (int)r;
}

int awe__sys_userfaultfd(int flags)
{
	return (int)awe__syscall3(SYS_userfaultfd, flags, 0, 0);
}

/* Not through libc: this is the system call of every map and unmap (see
 * awe__syscall3()). */
AWE__HOT int awe__sys_ioctl(int fd, unsigned long req, void *arg)
{
	/* EINTR cannot happen for these ioctls, but EAGAIN can: UFFDIO_MOVE and
	 * UFFDIO_COPY report partial progress through their own fields, so the
	 * callers retry the rest themselves. */
	return (int)awe__syscall3(SYS_ioctl, fd, (long)req, (long)(uintptr_t)arg);
}

int awe__sys_mmap_fd(uintptr_t addr, size_t len, int prot, int flags, int fd, uint64_t off,
		     uintptr_t *out)
{
	int e = errno;
	void *p = mmap((void *)addr, len, prot, flags, fd, (off_t)off);
	int r = 0;

	if (p == MAP_FAILED)
		r = -errno;
	else
		*out = (uintptr_t)p;
	errno = e;
	return r;
}

int awe__sys_mmap(uintptr_t addr, size_t len, int prot, int flags, uintptr_t *out)
{
	return awe__sys_mmap_fd(addr, len, prot, flags, -1, 0, out);
}

int awe__sys_mremap(uintptr_t addr, size_t old_len, size_t new_len, uintptr_t *out)
{
	int e = errno;
	void *p = mremap((void *)addr, old_len, new_len, MREMAP_MAYMOVE);
	int r = 0;

	if (p == MAP_FAILED)
		r = -errno;
	else
		*out = (uintptr_t)p;
	errno = e;
	return r;
}

int awe__sys_mprotect(uintptr_t addr, size_t len, int prot)
{
	int e = errno;
	int r = sys_ret(mprotect((void *)addr, len, prot));
	errno = e;
	return r;
}

int awe__sys_memfd_create(const char *name, unsigned int flags)
{
	int e = errno;
	int r = sys_ret(memfd_create(name, flags));
	errno = e;
	return r;
}

/* shmem's fallocate and ftruncate stop at any signal: retry, boundedly. */
#define EINTR_RETRIES 1000

/* Not libc's fallocate(): that is a pthread cancellation point. */
int awe__sys_fallocate(int fd, int mode, uint64_t off, uint64_t len)
{
	int r, tries = 0;

	do
		r = (int)awe__syscall4(SYS_fallocate, fd, mode, (long)off, (long)len);
	while (r == -EINTR && ++tries < EINTR_RETRIES);
	return r;
}

int awe__sys_ftruncate(int fd, uint64_t len)
{
	int e = errno, r, tries = 0;

	do
		r = sys_ret(ftruncate(fd, (off_t)len));
	while (r == -EINTR && ++tries < EINTR_RETRIES);
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

int awe__sys_mincore(uintptr_t addr, size_t len, unsigned char *vec)
{
	int e = errno;
	int r = sys_ret(mincore((void *)addr, len, vec));
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

/* Not libc's close(): that is a pthread cancellation point. */
int awe__sys_close(int fd)
{
	return (int)awe__syscall3(SYS_close, fd, 0, 0);
}

int awe__sys_membarrier(int cmd)
{
	return (int)awe__syscall3(SYS_membarrier, cmd, 0, 0);
}

void awe__sys_futex_wait(atomic_int *word, int val)
{
	awe__syscall4(SYS_futex, (long)word, FUTEX_WAIT_PRIVATE, val, 0);
}

void awe__sys_futex_wake(atomic_int *word, int n)
{
	awe__syscall3(SYS_futex, (long)word, FUTEX_WAKE_PRIVATE, n);
}

void awe__node_prefer(int node, struct awe__node_saved *s)
{
	unsigned long want[sizeof(s->mask) / sizeof(s->mask[0])] = {0};
	unsigned long nbits = 8 * sizeof(want);

	s->set = false;
	if (node < 0 || (unsigned long)node >= nbits)
		return;
	if (awe__sys_get_mempolicy(&s->mode, s->mask, nbits) != 0)
		return;
	want[node / (8 * sizeof(long))] = 1UL << (node % (8 * sizeof(long)));
	s->set = awe__sys_set_mempolicy(MPOL_PREFERRED, want, nbits) == 0;
}

void awe__node_restore(const struct awe__node_saved *s)
{
	if (s->set)
		awe__sys_set_mempolicy(s->mode, s->mask, 8 * sizeof(s->mask));
}
