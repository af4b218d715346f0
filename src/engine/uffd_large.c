/* SPDX-License-Identifier: MIT */
/*
 * Large frames of the UFFDIO_MOVE engine: each is one transparent huge page,
 * and moves as one PMD (UFFDIO_MOVE moves a huge page whole when source and
 * destination are aligned to it and the length covers it, in 0.5 us here:
 * less than a 4 KiB page's move).
 *
 * A huge page cannot be built where it will live: parking is registered
 * with the userfaultfd, and a fault there raises SIGBUS instead of
 * allocating, while UFFDIO_COPY and UFFDIO_ZEROPAGE install small pages
 * only. So each one is built in the stage, a huge-page-aligned range of
 * its own that is not registered (locked like parking: UFFDIO_MOVE wants
 * both or neither), checked, and moved into its parking slot.
 *
 * The kernel falls back to small pages when it finds no free 2 MiB block;
 * MADV_COLLAPSE then tries once more, with compaction. A page that is still
 * not huge is given back, and the allocation stops there: a large frame
 * made of small pages would be a failed allocation passed off as a slow
 * success.
 */
#include <sys/mman.h>

#include "uffd.h"

int awe__uffd_stage(struct uffd *u)
{
	uintptr_t at;
	int r;

	if (u->stage)
		return 0;
	r = awe__sys_reserve(0, u->page, u->page, false, PROT_READ | PROT_WRITE, &at);
	if (r)
		return r;
	r = awe__sys_madvise(at, u->page, MADV_DONTFORK);
	if (!r)
		r = awe__sys_madvise(at, u->page, MADV_HUGEPAGE);
	if (!r && u->locked)
		r = awe__sys_lock_on_fault(at, u->page);
	if (r) {
		awe__sys_munmap(at, u->page);
		return r == -EPERM ? r : -ENOMEM;
	}
	u->stage = at;
	return 0;
}

/* Build one zeroed huge page in the stage: 1 when it is one, 0 when the
 * kernel could give only small pages (given back), or -errno. */
static int build(struct uffd *u)
{
	int r = awe__sys_madvise(u->stage, u->page, MADV_POPULATE_WRITE);

	if (!r) {
		r = awe__sys_huge(u->stage, u->page);
		if (r == 0 && awe__sys_madvise(u->stage, u->page, MADV_COLLAPSE) == 0)
			r = awe__sys_huge(u->stage, u->page);
		if (AWE__INJECT(fail_huge))
			r = 0;
	}
	if (r != 1)
		awe__sys_madvise(u->stage, u->page, MADV_DONTNEED_LOCKED);
	return r;
}

size_t awe__uffd_fill_large(struct uffd *u, uintptr_t dst, size_t pages)
{
	size_t i;

	if (awe__uffd_stage(u))
		return 0;
	for (i = 0; i < pages; i++) {
		size_t done;

		if (build(u) != 1)
			break;
		if (awe__uffd_move(u, dst + (i << u->sh), u->stage, u->page, false, &done)) {
			/* Not moved whole: whatever part did goes too. */
			if (done)
				awe__sys_madvise(dst + (i << u->sh), done, MADV_DONTNEED_LOCKED);
			awe__sys_madvise(u->stage, u->page, MADV_DONTNEED_LOCKED);
			break;
		}
	}
	return i;
}

void awe__uffd_large_fini(struct uffd *u)
{
	if (u->stage)
		awe__sys_munmap(u->stage, u->page);
	u->stage = 0;
}
