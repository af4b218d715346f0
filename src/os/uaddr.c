/* SPDX-License-Identifier: MIT */
/*
 * Where user memory can be (uaddr.h): the bounds of the address space,
 * found once by asking the kernel for a page at each candidate top.
 */
#include "uaddr.h"

#include <errno.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "linux_abi.h"
#include "sysfacts.h"

struct awe__uaddr awe__uaddr;

/* Is [@at, @at + one page) a range a mapping could take? Asking for a page
 * there answers it: taken (it is ours to give back) or taken already means
 * yes; out of range means no. A raw system call, not libc's mmap(), which
 * sanitizers intercept and refuse addresses out of their own layout for. */
static bool user_page(uintptr_t at, size_t page)
{
	long p = awe__syscall6(SYS_mmap, (long)at, (long)page, PROT_NONE,
			       MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE | MAP_FIXED_NOREPLACE,
			       -1, 0);
	bool failed = p < 0 && p >= -4095;

	/* Kernels before 4.17 treat the address as a hint only. */
	if (!failed)
		awe__syscall3(SYS_munmap, p, (long)page, 0);
	return (uintptr_t)p == at || p == -EEXIST;
}

void awe__uaddr_init(void)
{
	/* The top of user space: 2^47 on x86-64 with 4-level page tables,
	 * 2^56 with 5 levels, 2^39 to 2^52 on arm64, depending on the
	 * kernel's configuration. */
	static const unsigned int bits[] = {56, 52, 48, 47, 42, 39};
	size_t page = (size_t)sysconf(_SC_PAGESIZE);
	uint64_t lo = 65536;
	uintptr_t hi = ((uintptr_t)1 << 39) - page;

	if (awe__read_u64("/proc/sys/vm/mmap_min_addr", &lo) != 0)
		lo = 65536; /* the kernel's default */
	for (size_t i = 0; i < sizeof(bits) / sizeof(bits[0]); i++) {
		uintptr_t top = ((uintptr_t)1 << bits[i]) - page;

		if (user_page(top - page, page)) {
			hi = top;
			break;
		}
	}
	awe__uaddr.lo = lo > page ? (uintptr_t)lo : page;
	awe__uaddr.hi = hi;
}
