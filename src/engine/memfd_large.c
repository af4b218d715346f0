/* SPDX-License-Identifier: MIT */
/*
 * Large frames of the memfd engine (AWE sections with SEC_LARGE_PAGES, and
 * the process's large frames when memfd is the default engine): the pages
 * of a hugetlbfs memfd when the system has huge pages reserved
 * (vm.nr_hugepages), else of a shmem memfd whose huge pages shmem_enabled
 * allows. Either way every page is checked, through the pool, to be one
 * huge page mapped whole: shmem falls back to small pages when it finds no
 * free 2 MiB block, and a large frame made of small pages is not handed
 * out.
 *
 * A huge page can be mapped whole only at an address aligned to it, so the
 * pool is placed aligned, and moved to an aligned place when it grows
 * (mremap() may otherwise put it anywhere).
 */
#include <linux/memfd.h>
#include <stdio.h>
#include <sys/mman.h>

#include "huge.h"
#include "memfd.h"

int awe__mfd_large_open(struct mfd *m)
{
	static char why[200];
	struct awe__huge h;
	enum awe__shmem sm;

	awe__huge_read(&h, m->page);
	if (awe__huge_hugetlb_free(&h) > 0) {
		m->hugetlb = true;
		return awe__sys_memfd_create("libawe",
					     MFD_CLOEXEC | MFD_HUGETLB | (m->sh << MFD_HUGE_SHIFT));
	}
	sm = awe__huge_shmem(&h);
	if (sm == AWE__SHMEM_ALWAYS || sm == AWE__SHMEM_WITHIN_SIZE || sm == AWE__SHMEM_ADVISE ||
	    sm == AWE__SHMEM_FORCE)
		return awe__sys_memfd_create("libawe", MFD_CLOEXEC);
	/* Written under the library's lock, read by awe_strerror(). */
	snprintf(why, sizeof(why),
		 "large frames of the memfd engine need huge pages: no free page in the hugetlb "
		 "pool (vm.nr_hugepages = %llu) and shmem huge pages are off (shmem_enabled = %s)",
		 (unsigned long long)h.nr_hugepages, awe__shmem_name(sm));
	awe__set_detail(EOPNOTSUPP, why);
	return -EOPNOTSUPP;
}

size_t awe__mfd_large_good(const struct mfd *m, uint64_t off, size_t n)
{
	size_t i = 0;

	while (i < n && !AWE__INJECT(fail_huge) &&
	       awe__sys_huge(m->pool + off + (i << m->sh), m->page) == 1)
		i++;
	return i;
}

int awe__mfd_large_pool(struct mfd *m, size_t old_len, size_t len, uintptr_t *at)
{
	uintptr_t to, got;
	int r = awe__sys_reserve(0, len, m->page, false, PROT_NONE, &to);

	if (r)
		return -ENOMEM;
	if (old_len)
		r = awe__sys_mremap_to(m->pool, old_len, len, to);
	else
		/* Without MAP_NORESERVE hugetlbfs would reserve a page for
		 * every hole of the sparse file the view covers: the pages are
		 * taken as frames are allocated, and a refusal is a count. */
		r = awe__sys_mmap_fd(to, len, PROT_READ | PROT_WRITE,
				     MAP_SHARED | MAP_FIXED | MAP_NORESERVE, m->fd, 0, &got);
	if (r) {
		awe__sys_munmap(to, len);
		return r == -EAGAIN ? -EPERM : -ENOMEM;
	}
	/* shmem_enabled "advise" wants it; hugetlbfs needs no advice. */
	if (!m->hugetlb)
		awe__sys_madvise(to, len, MADV_HUGEPAGE);
	*at = to;
	return 0;
}
