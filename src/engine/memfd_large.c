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
#include <string.h>
#include <sys/mman.h>

#include "memfd.h"
#include "sysfacts.h"

/* The word in [brackets] of a sysfs mode file: the mode in force. */
static bool mode_is(const char *path, const char *const *modes)
{
	char buf[256], *a, *b;

	if (awe__read_file(path, buf, sizeof(buf)) <= 0)
		return false;
	a = strchr(buf, '[');
	b = a ? strchr(a, ']') : NULL;
	if (!b)
		return false;
	*b = '\0';
	for (; *modes; modes++)
		if (strcmp(a + 1, *modes) == 0)
			return true;
	return false;
}

/* Whether new shmem pages of a mapping advised MADV_HUGEPAGE may be huge:
 * the global setting, or (Linux 6.11+) the one for PMD-sized pages. */
static bool shmem_huge(size_t page)
{
	static const char *const yes[] = {"always", "within_size", "advise", "force", NULL};
	static const char *const inherit[] = {"inherit", NULL};
	char path[128];

	snprintf(path, sizeof(path),
		 "/sys/kernel/mm/transparent_hugepage/hugepages-%zukB/shmem_enabled", page >> 10);
	if (mode_is(path, yes))
		return true;
	if (!awe__path_missing(path) && !mode_is(path, inherit))
		return false;
	return mode_is("/sys/kernel/mm/transparent_hugepage/shmem_enabled", yes);
}

int awe__mfd_large_open(struct mfd *m)
{
	char path[128];
	uint64_t reserved = 0;

	snprintf(path, sizeof(path), "/sys/kernel/mm/hugepages/hugepages-%zukB/nr_hugepages",
		 m->page >> 10);
	if (awe__read_u64(path, &reserved) == 0 && reserved > 0) {
		m->hugetlb = true;
		return awe__sys_memfd_create("libawe",
					     MFD_CLOEXEC | MFD_HUGETLB | (m->sh << MFD_HUGE_SHIFT));
	}
	if (shmem_huge(m->page))
		return awe__sys_memfd_create("libawe", MFD_CLOEXEC);
	awe__set_detail(EOPNOTSUPP,
			"large frames of the memfd engine need huge pages: vm.nr_hugepages is 0 "
			"and transparent_hugepage/shmem_enabled allows no shmem huge pages");
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
