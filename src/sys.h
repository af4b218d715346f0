/* SPDX-License-Identifier: MIT */
/*
 * Thin system-call wrappers with one error contract: >= 0 on success,
 * -errno on failure, errno itself left as the caller's business. Kernel ABI
 * that Debian 12's headers (linux-libc-dev 6.1) lack is defined here.
 */
#ifndef AWE_SYS_H
#define AWE_SYS_H

#include <stddef.h>
#include <stdint.h>

#include <linux/userfaultfd.h>
#include <sys/ioctl.h>
#include <sys/mman.h>

#include "internal.h"

#ifndef UFFD_USER_MODE_ONLY
#define UFFD_USER_MODE_ONLY 1
#endif
#ifndef UFFD_FEATURE_MOVE
#define UFFD_FEATURE_MOVE (1 << 16)
#endif
#ifndef UFFDIO_MOVE
#define _UFFDIO_MOVE (0x05)
#define UFFDIO_MOVE_MODE_DONTWAKE ((__u64)1 << 0)
#define UFFDIO_MOVE_MODE_ALLOW_SRC_HOLES ((__u64)1 << 1)
struct uffdio_move {
	__u64 dst;
	__u64 src;
	__u64 len;
	__u64 mode;
	__s64 move;
};
#define UFFDIO_MOVE _IOWR(UFFDIO, _UFFDIO_MOVE, struct uffdio_move)
#endif
#ifndef MADV_DONTNEED_LOCKED
#define MADV_DONTNEED_LOCKED 24
#endif
#ifndef MLOCK_ONFAULT
#define MLOCK_ONFAULT 0x01
#endif
#ifndef MAP_FIXED_NOREPLACE
#define MAP_FIXED_NOREPLACE 0x100000
#endif

AWE__HIDDEN int awe__sys_userfaultfd(int flags);
AWE__HIDDEN int awe__sys_ioctl(int fd, unsigned long req, void *arg);
AWE__HIDDEN int awe__sys_mmap(uintptr_t addr, size_t len, int prot, int flags, uintptr_t *out);
AWE__HIDDEN int awe__sys_munmap(uintptr_t addr, size_t len);
AWE__HIDDEN int awe__sys_madvise(uintptr_t addr, size_t len, int advice);
AWE__HIDDEN int awe__sys_mlock2(uintptr_t addr, size_t len, unsigned int flags);
AWE__HIDDEN int awe__sys_get_mempolicy(int *mode, unsigned long *mask, unsigned long maxnode);
AWE__HIDDEN int awe__sys_set_mempolicy(int mode, const unsigned long *mask, unsigned long maxnode);
AWE__HIDDEN int awe__sys_close(int fd);

#endif
