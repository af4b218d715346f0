/* SPDX-License-Identifier: MIT */
/*
 * The system-call layer (sys.h): one wrapper per call the library makes on
 * its own behalf, each with the same contract.
 */
#include "sys.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <sys/mman.h>
#include <linux/futex.h>
#include <linux/mempolicy.h>
#include <sys/syscall.h>
#include <sys/uio.h>
#include <unistd.h>

/* Every wrapper is a raw system call (linux_abi.h): it returns -errno and
 * leaves errno alone (the public functions set errno only on their own
 * failure, so an internal call that fails and is handled must not leak its
 * errno to the caller), and none is a pthread cancellation point (a thread
 * cancelled while the library holds its lock would leave it held for good).
 * So no wrapper needs to save errno, and libc's wrappers are not used. */

int awe__sys_userfaultfd(int flags)
{
	return (int)awe__syscall3(SYS_userfaultfd, flags, 0, 0);
}

/* This is the system call of every map and unmap (see awe__syscall3()). */
AWE__HOT int awe__sys_ioctl(int fd, unsigned long req, void *arg)
{
	/* EINTR cannot happen for these ioctls, but EAGAIN can: UFFDIO_MOVE and
	 * UFFDIO_COPY report partial progress through their own fields, so the
	 * callers retry the rest themselves. */
	return (int)awe__syscall3(SYS_ioctl, fd, (long)req, (long)(uintptr_t)arg);
}

/* An address or -errno: user addresses never reach the last page. */
static int addr_ret(long r, uintptr_t *out)
{
	if (r < 0 && r >= -4095)
		return (int)r;
	*out = (uintptr_t)r;
	return 0;
}

int awe__sys_mmap_fd(uintptr_t addr, size_t len, int prot, int flags, int fd, uint64_t off,
		     uintptr_t *out)
{
	return addr_ret(awe__syscall6(SYS_mmap, (long)addr, (long)len, prot, flags, fd, (long)off),
			out);
}

int awe__sys_mmap(uintptr_t addr, size_t len, int prot, int flags, uintptr_t *out)
{
	return awe__sys_mmap_fd(addr, len, prot, flags, -1, 0, out);
}

int awe__sys_reserve(uintptr_t hint, size_t len, size_t align, bool fixed, int prot,
		     uintptr_t *base)
{
	int flags = MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE;
	size_t extra = !fixed ? align : 0;
	uintptr_t b, a;
	int r;

	if (fixed)
		flags |= MAP_FIXED_NOREPLACE;
	if (len + extra < len)
		return -ENOMEM;
	r = awe__sys_mmap(hint, len + extra, prot, flags, &b);
	if (r)
		return r == -EEXIST ? r : -ENOMEM;
	/* Kernels before 4.17 ignore MAP_FIXED_NOREPLACE and treat it as a hint. */
	if (fixed && b != hint) {
		awe__sys_munmap(b, len);
		return -EEXIST;
	}
	/* An aligned range: over-reserve and give back both ends. */
	a = extra ? (b + align - 1) & ~(uintptr_t)(align - 1) : b;
	if (a > b)
		awe__sys_munmap(b, a - b);
	if (b + extra > a)
		awe__sys_munmap(a + len, b + extra - a);
	*base = a;
	return 0;
}

int awe__sys_mremap(uintptr_t addr, size_t old_len, size_t new_len, uintptr_t *out)
{
	return addr_ret(awe__syscall6(SYS_mremap, (long)addr, (long)old_len, (long)new_len,
				      MREMAP_MAYMOVE, 0, 0),
			out);
}

int awe__sys_mremap_to(uintptr_t addr, size_t old_len, size_t new_len, uintptr_t to)
{
	uintptr_t out;

	return addr_ret(awe__syscall6(SYS_mremap, (long)addr, (long)old_len, (long)new_len,
				      MREMAP_MAYMOVE | MREMAP_FIXED, (long)to, 0),
			&out);
}

int awe__sys_mprotect(uintptr_t addr, size_t len, int prot)
{
	return (int)awe__syscall3(SYS_mprotect, (long)addr, (long)len, prot);
}

int awe__sys_memfd_create(const char *name, unsigned int flags)
{
	return (int)awe__syscall3(SYS_memfd_create, (long)name, flags, 0);
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
	int r, tries = 0;

	do
		r = (int)awe__syscall3(SYS_ftruncate, fd, (long)len, 0);
	while (r == -EINTR && ++tries < EINTR_RETRIES);
	return r;
}

int awe__sys_munmap(uintptr_t addr, size_t len)
{
	return (int)awe__syscall3(SYS_munmap, (long)addr, (long)len, 0);
}

int awe__sys_madvise(uintptr_t addr, size_t len, int advice)
{
	return (int)awe__syscall3(SYS_madvise, (long)addr, (long)len, advice);
}

int awe__sys_pidfd_self(void)
{
	return (int)awe__syscall3(SYS_pidfd_open, (long)awe__syscall3(SYS_getpid, 0, 0, 0), 0, 0);
}

int awe__sys_drop(int pidfd, const struct iovec *iov, size_t n)
{
	while (n) {
		size_t k = n < IOV_MAX ? n : IOV_MAX, len = 0;
		long r = -ENOSYS;

		for (size_t i = 0; i < k; i++)
			len += iov[i].iov_len;
		if (pidfd >= 0)
			r = awe__syscall6(SYS_process_madvise, pidfd, (long)iov, (long)k,
					  MADV_DONTNEED_LOCKED, 0, 0);
		if (r < 0 || (size_t)r != len) {
			/* Older kernels refuse this advice (EINVAL); a range
			 * the kernel stopped at gets its own error below. */
			for (size_t i = 0; i < k; i++) {
				int e = awe__sys_madvise((uintptr_t)iov[i].iov_base, iov[i].iov_len,
							 MADV_DONTNEED_LOCKED);

				if (e)
					return e;
			}
		}
		iov += k;
		n -= k;
	}
	return 0;
}

int awe__sys_mincore(uintptr_t addr, size_t len, unsigned char *vec)
{
	return (int)awe__syscall3(SYS_mincore, (long)addr, (long)len, (long)vec);
}

int awe__sys_mlock2(uintptr_t addr, size_t len, unsigned int flags)
{
	return (int)awe__syscall3(SYS_mlock2, (long)addr, (long)len, flags);
}

int awe__sys_lock_on_fault(uintptr_t addr, size_t len)
{
	int r = awe__sys_mlock2(addr, len, MLOCK_ONFAULT);

	/* Over RLIMIT_MEMLOCK the kernel says ENOMEM (EPERM when the limit is
	 * 0, EAGAIN for part of a range): all mean "not allowed to lock", not
	 * "out of memory". */
	return r == -ENOMEM || r == -EPERM || r == -EAGAIN ? -EPERM : r;
}

int awe__sys_get_mempolicy(int *mode, unsigned long *mask, unsigned long maxnode)
{
	return (int)awe__syscall6(SYS_get_mempolicy, (long)mode, (long)mask, (long)maxnode, 0, 0,
				  0);
}

int awe__sys_set_mempolicy(int mode, const unsigned long *mask, unsigned long maxnode)
{
	return (int)awe__syscall3(SYS_set_mempolicy, mode, (long)mask, (long)maxnode);
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
