/* SPDX-License-Identifier: MIT */
/*
 * Large frames of the memfd engine (AWE sections with SEC_LARGE_PAGES, and
 * the process's large frames when memfd is the default engine): the pages
 * of a hugetlbfs memfd when the hugetlb pool (vm.nr_hugepages) has a free
 * page, else of a shmem memfd whose huge pages shmem_enabled allows. Either way every page is checked, through the pool, to be one
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
	if (awe__huge_shmem_on(sm)) {
		/* shmem falls back to small pages unseen: each page must be
		 * checked, and kernels before 6.7 cannot tell. */
		if (awe__sys_huge((uintptr_t)&h & ~(uintptr_t)(m->base_page - 1), m->base_page) ==
		    -ENOTTY) {
			awe__set_detail(EOPNOTSUPP,
					"large frames on shmem huge pages need PAGEMAP_SCAN (Linux "
					"6.7) to check each one; reserve hugetlb pages instead "
					"(vm.nr_hugepages)");
			return -EOPNOTSUPP;
		}
		return awe__sys_memfd_create("libawe", MFD_CLOEXEC);
	}
	/* Written under the library's lock, read by awe_strerror(). */
	snprintf(why, sizeof(why),
		 "large frames of the memfd engine need huge pages: no free page in the hugetlb "
		 "pool (vm.nr_hugepages = %llu) and shmem huge pages are off (shmem_enabled = %s)",
		 (unsigned long long)h.nr_hugepages, awe__shmem_name(sm));
	awe__set_detail(EOPNOTSUPP, why);
	return -EOPNOTSUPP;
}

/* Whether the page at @at is one huge page. hugetlbfs has no other kind:
 * where the kernel cannot tell (before 6.7), a page present is one. */
static bool huge_at(const struct mfd *m, uintptr_t at)
{
	unsigned char v = 0;
	int r = awe__sys_huge(at, m->page);

	if (r == -ENOTTY && m->hugetlb)
		return awe__sys_mincore(at, m->base_page, &v) == 0 && (v & 1);
	return r == 1;
}

size_t awe__mfd_large_good(const struct mfd *m, uint64_t off, size_t n)
{
	size_t i = 0;

	while (i < n && !AWE__INJECT(fail_huge) && huge_at(m, m->pool + off + (i << m->sh)))
		i++;
	return i;
}

int awe__mfd_large_pool(struct mfd *m, size_t old_len, size_t len, uintptr_t *at)
{
	uintptr_t to, got;
	int r = awe__sys_reserve(0, len, m->page, false, PROT_NONE, &to);

	if (r)
		return -ENOMEM;
	/* mremap() refuses to move hugetlbfs views (EINVAL), which hold no
	 * lock to keep: a new view replaces the old one. */
	if (old_len && !m->hugetlb)
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
	if (old_len && m->hugetlb)
		awe__sys_munmap(m->pool, old_len);
	/* shmem_enabled "advise" wants it; hugetlbfs needs no advice. */
	if (!m->hugetlb)
		awe__sys_madvise(to, len, MADV_HUGEPAGE);
	*at = to;
	return 0;
}
