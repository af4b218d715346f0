/* SPDX-License-Identifier: MIT */
/*
 * Thin system-call wrappers with one error contract, liburing's: >= 0 on
 * success, -errno on failure, errno never touched, and no pthread
 * cancellation point among them. Kernel ABI
 * that Debian 12's headers lack is in linux_abi.h.
 */
#ifndef AWE_SYS_H
#define AWE_SYS_H

#include <stdatomic.h>
#include <stddef.h>
#include <stdint.h>

#include "common.h"
#include "linux_abi.h"

AWE__HIDDEN int awe__sys_userfaultfd(int flags);
AWE__HIDDEN int awe__sys_ioctl(int fd, unsigned long req, void *arg);
AWE__HIDDEN int awe__sys_mmap(uintptr_t addr, size_t len, int prot, int flags, uintptr_t *out);
AWE__HIDDEN int awe__sys_mmap_fd(uintptr_t addr, size_t len, int prot, int flags, int fd,
				 uint64_t off, uintptr_t *out);
/* Reserve @len bytes of fresh private anonymous memory (MAP_NORESERVE) with
 * @prot: at @hint exactly when @fixed (-EEXIST when it is taken), else near
 * it, aligned to @align bytes when @align is not 0 (a power of two above
 * the page size). -ENOMEM for any other refusal. */
AWE__HIDDEN int awe__sys_reserve(uintptr_t hint, size_t len, size_t align, bool fixed, int prot,
				 uintptr_t *base);
AWE__HIDDEN int awe__sys_mremap(uintptr_t addr, size_t old_len, size_t new_len, uintptr_t *out);
/* Move (and grow) [addr, addr + old_len) to exactly @to, replacing what is
 * there: a view that must stay aligned to a huge page. */
AWE__HIDDEN int awe__sys_mremap_to(uintptr_t addr, size_t old_len, size_t new_len, uintptr_t to);
AWE__HIDDEN int awe__sys_mprotect(uintptr_t addr, size_t len, int prot);
AWE__HIDDEN int awe__sys_memfd_create(const char *name, unsigned int flags);
AWE__HIDDEN int awe__sys_fallocate(int fd, int mode, uint64_t off, uint64_t len);
AWE__HIDDEN int awe__sys_ftruncate(int fd, uint64_t len);
AWE__HIDDEN int awe__sys_munmap(uintptr_t addr, size_t len);
AWE__HIDDEN int awe__sys_madvise(uintptr_t addr, size_t len, int advice);
/* A pidfd of the calling process (for process_madvise), or -errno. */
AWE__HIDDEN int awe__sys_pidfd_self(void);
/* Drop the pages of the @n ranges @iov (each page-aligned) as
 * madvise(MADV_DONTNEED_LOCKED) does, in as few system calls as the kernel
 * allows: process_madvise() on @pidfd takes 1024 ranges per call and
 * flushes the TLB once for all of them (Linux 6.13+ lets a process give
 * itself any advice); without it, or with @pidfd < 0, one madvise() per
 * range, a flush each. 0, or the first failure's -errno (some ranges may
 * then be dropped: the caller looks). */
struct iovec;
AWE__HIDDEN int awe__sys_drop(int pidfd, const struct iovec *iov, size_t n);
/* Whether [addr, addr + len) is wholly present in huge pages, each mapped
 * whole (a PMD, or hugetlbfs): 1 yes, 0 no, -ENOTTY when the kernel cannot
 * tell (PAGEMAP_SCAN, Linux 6.7), other -errno (pagemap.c). */
AWE__HIDDEN int awe__sys_huge(uintptr_t addr, size_t len);
/* The NUMA node of the page at @addr, or -errno (-ENOSYS without NUMA). */
AWE__HIDDEN int awe__sys_page_node(uintptr_t addr);
AWE__HIDDEN int awe__sys_mincore(uintptr_t addr, size_t len, unsigned char *vec);
AWE__HIDDEN int awe__sys_mlock2(uintptr_t addr, size_t len, unsigned int flags);
/* Lock [addr, addr + len) as its pages come (MLOCK_ONFAULT, which does not
 * populate); -EPERM for every "not allowed to lock". */
AWE__HIDDEN int awe__sys_lock_on_fault(uintptr_t addr, size_t len);
AWE__HIDDEN int awe__sys_get_mempolicy(int *mode, unsigned long *mask, unsigned long maxnode);
AWE__HIDDEN int awe__sys_set_mempolicy(int mode, const unsigned long *mask, unsigned long maxnode);
AWE__HIDDEN int awe__sys_close(int fd);
AWE__HIDDEN int awe__sys_membarrier(int cmd);
/* Sleep while *@word is @val (or until woken); wake @n sleepers. */
AWE__HIDDEN void awe__sys_futex_wait(atomic_int *word, int val);
AWE__HIDDEN void awe__sys_futex_wake(atomic_int *word, int n);

/* Prefer NUMA node @node (-1: no preference) for the pages the calling
 * thread makes the kernel allocate until awe__node_restore(). */
struct awe__node_saved {
	int mode;
	unsigned long mask[1024 / (8 * sizeof(unsigned long))];
	bool set;
};
AWE__HIDDEN void awe__node_prefer(int node, struct awe__node_saved *s);
AWE__HIDDEN void awe__node_restore(const struct awe__node_saved *s);

#endif
