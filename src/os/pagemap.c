/* SPDX-License-Identifier: MIT */
/*
 * What the kernel says about pages already mapped: whether a range is held
 * by huge pages (PAGEMAP_SCAN on /proc/self/pagemap), and which NUMA node
 * a page lives on (move_pages(2) without a node list). Large frames are
 * checked with the first: a "huge" page the kernel quietly built from
 * small ones (no free 2 MiB block, compaction off) must not be handed out
 * as a large frame.
 */
#include <fcntl.h>
#include <sys/syscall.h>

#include "sys.h"
#include "sysfacts.h"

int awe__sys_huge(uintptr_t addr, size_t len)
{
	struct page_region reg[2];
	struct pm_scan_arg arg = {
		.size = sizeof(arg),
		.start = addr,
		.end = addr + len,
		.vec = (uintptr_t)reg,
		.vec_len = 2,
		.category_anyof_mask = PAGE_IS_PRESENT | PAGE_IS_HUGE,
		.return_mask = PAGE_IS_PRESENT | PAGE_IS_HUGE,
	};
	int fd = (int)awe__path_call(SYS_openat, "/proc/self/pagemap", O_RDONLY | O_CLOEXEC);
	int r;

	if (fd < 0)
		return fd;
	r = awe__sys_ioctl(fd, PAGEMAP_SCAN, &arg);
	awe__sys_close(fd);
	/* Kernels before 6.7 know no such ioctl on pagemap. */
	if (r == -EINVAL || r == -ENOTTY)
		return -ENOTTY;
	if (r < 0)
		return r;
	/* Regions merge pages of equal categories: one region spanning the
	 * range, present and huge, or it is not all huge. */
	return r == 1 && reg[0].start == addr && reg[0].end == addr + len &&
	       reg[0].categories == (PAGE_IS_PRESENT | PAGE_IS_HUGE);
}

int awe__sys_page_node(uintptr_t addr)
{
	void *page = (void *)addr;
	int status = -1;
	long r = awe__syscall6(SYS_move_pages, 0, 1, (long)&page, 0, (long)&status, 0);

	if (r < 0)
		return (int)r;
	return status;
}
