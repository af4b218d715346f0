// SPDX-License-Identifier: MIT
/*
 * The "large" run's memfd side, memfd-2M: the memfd remapper (c_memfd.c)
 * with pages of 2 MiB. Its file holds hugetlbfs pages (MFD_HUGETLB) where
 * the system has enough of them free (vm.nr_hugepages), else shmem huge
 * pages where shmem_enabled allows them, populated through a mapping
 * advised with MADV_HUGEPAGE; else it cannot run here and says why. Either
 * way the setup checks, in /proc/self/smaps, that the file's pages are huge
 * and that a frame mapped as an operation maps it is one huge page: a file
 * the kernel filled with small pages is reported, never measured.
 *
 * An operation maps a frame's offset over a 2 MiB-aligned slot of a
 * PROT_NONE reservation (mmap MAP_SHARED | MAP_FIXED), touches it (its page
 * fault maps the huge page with one entry) and puts an anonymous PROT_NONE
 * mapping back (mmap MAP_FIXED): two system calls.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include <awe.h>

#include "bench.h"
#include "huge.h"
#include "large.h"

#ifndef MFD_HUGETLB
#define MFD_HUGETLB 0x0004u
#endif
#ifndef MFD_HUGE_SHIFT
#define MFD_HUGE_SHIFT 26
#endif

struct mh {
	int fd;
	size_t n, lp;
	char *res, *win;
	size_t res_len;
	uint32_t *fperm, *sperm;
	size_t fpos, spos;
};

static void mh_teardown(void *p)
{
	struct mh *s = p;

	if (s->res)
		munmap(s->res, s->res_len);
	if (s->fd >= 0)
		close(s->fd);
	free(s->fperm);
	free(s->sperm);
	free(s);
}

/* An anonymous PROT_NONE range over [@a, @a + @len): a slot emptied. */
static int prot_none(char *a, size_t len)
{
	if (mmap(a, len, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED | MAP_NORESERVE, -1,
		 0) == MAP_FAILED)
		return bench_err(-errno, "mmap(PROT_NONE | MAP_FIXED): %s", strerror(errno));
	return 0;
}

static int map_file(struct mh *s, char *a, size_t off, size_t len)
{
	int flags = MAP_SHARED | MAP_FIXED | (opts.memfd_populate ? MAP_POPULATE : 0);

	if (mmap(a, len, PROT_READ | PROT_WRITE, flags, s->fd, (off_t)off) == MAP_FAILED)
		return bench_err(-errno, "mmap(MAP_SHARED | MAP_FIXED): %s", strerror(errno));
	return 0;
}

/* hugetlbfs pages, all of them taken now (fallocate). */
static int hugetlb_file(struct mh *s)
{
	unsigned int flags = MFD_CLOEXEC | MFD_HUGETLB |
			     (unsigned int)__builtin_ctzl(s->lp) << MFD_HUGE_SHIFT;

	s->fd = memfd_create("awe-bench-huge", flags);
	if (s->fd < 0)
		return bench_err(SIDE_UNAVAILABLE, "memfd_create(MFD_HUGETLB): %s",
				 strerror(errno));
	if (ftruncate(s->fd, (off_t)(s->n * s->lp)) != 0 ||
	    fallocate(s->fd, 0, 0, (off_t)(s->n * s->lp)) != 0)
		return bench_err(SIDE_UNAVAILABLE, "MFD_HUGETLB: %zu pages of 2 MiB: %s", s->n,
				 strerror(errno));
	return bench_err(0, "MFD_HUGETLB: hugetlbfs pages");
}

/* shmem, populated through the reservation advised MADV_HUGEPAGE, one
 * write per huge page; then the reservation is PROT_NONE again. */
static int shmem_file(struct mh *s)
{
	size_t len = s->n * s->lp;
	long kb;
	int rc;

	s->fd = memfd_create("awe-bench-huge", MFD_CLOEXEC);
	if (s->fd < 0)
		return bench_err(-errno, "memfd_create: %s", strerror(errno));
	if (ftruncate(s->fd, (off_t)len) != 0)
		return bench_err(-errno, "ftruncate: %s", strerror(errno));
	rc = map_file(s, s->win, 0, len);
	if (rc)
		return rc;
	if (madvise(s->win, len, MADV_HUGEPAGE) != 0)
		return bench_err(SIDE_UNAVAILABLE, "madvise(MADV_HUGEPAGE) of a memfd: %s",
				 strerror(errno));
	for (size_t i = 0; i < s->n; i++)
		touch_page(s->win + i * s->lp);
	kb = huge_kb(s->win, len);
	rc = prot_none(s->win, len);
	if (rc)
		return rc;
	if (kb >= 0 && (size_t)kb < len >> 10)
		return bench_err(SIDE_UNAVAILABLE,
				 "shmem gave %ld of %zu MiB in huge pages (out of them, or "
				 "fragmented memory)",
				 kb >> 10, len >> 20);
	return bench_err(0, "shmem huge pages (MADV_HUGEPAGE)");
}

/* Frame 0 mapped at slot 0 as an operation maps it: one huge page? */
static int check_map(struct mh *s, double *huge)
{
	int rc = map_file(s, s->win, 0, s->lp);

	if (rc)
		return rc;
	touch_page(s->win);
	*huge = huge_pct(s->win, s->lp);
	rc = prot_none(s->win, s->lp);
	if (!rc && *huge >= 0 && *huge < 100)
		rc = bench_err(SIDE_UNAVAILABLE, "a frame mapped at a 2 MiB slot is mapped by "
						 "4 KiB page-table entries, not one huge page");
	return rc;
}

static int mh_setup(void **out, size_t bytes, double *huge)
{
	size_t lp = awe_large_page_size();
	struct mh *s;
	struct awe__huge h;
	char note[256];
	int rc;

	if (!lp)
		return bench_err(SIDE_UNAVAILABLE, "the kernel has neither transparent huge pages "
						   "nor hugetlbfs");
	s = xcalloc(1, sizeof(*s));
	s->fd = -1;
	s->lp = lp;
	s->n = bytes / lp;
	s->res_len = (s->n + 1) * lp;
	s->res = mmap(NULL, s->res_len, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1,
		      0);
	if (s->res == MAP_FAILED) {
		s->res = NULL;
		rc = bench_err(-errno, "mmap(reservation): %s", strerror(errno));
	} else {
		s->win = (char *)(((uintptr_t)s->res + lp - 1) & ~(uintptr_t)(lp - 1));
		/* libawe's own reader of the settings (src/os/huge.c). */
		awe__huge_read(&h, lp);
		if (awe__huge_hugetlb_free(&h) >= s->n)
			rc = hugetlb_file(s);
		else if (awe__huge_shmem_on(awe__huge_shmem(&h)))
			rc = shmem_file(s);
		else
			rc = bench_err(SIDE_UNAVAILABLE,
				       "no huge pages for a memfd: vm.nr_hugepages has %llu free "
				       "(needs %zu) and shmem_enabled is %s",
				       (unsigned long long)awe__huge_hugetlb_free(&h), s->n,
				       awe__shmem_name(awe__huge_shmem(&h)));
	}
	snprintf(note, sizeof(note), "%s", bench_errmsg());
	if (!rc)
		rc = check_map(s, huge);
	if (rc) {
		mh_teardown(s);
		return rc;
	}
	s->fperm = perm_new(s->n, 0x9e3779b97f4a7c15ull ^ 1);
	s->sperm = perm_new(s->n, 0x5bd1e995u ^ 1);
	bench_err(0, "%s", note);
	*out = s;
	return 0;
}

static int mh_op(void *p, uint64_t *units)
{
	struct mh *s = p;
	size_t f = s->fperm[next_pos(&s->fpos, s->n)];
	char *a = s->win + (size_t)s->sperm[next_pos(&s->spos, s->n)] * s->lp;
	int rc;

	bench_syscalls += 2;
	rc = map_file(s, a, f * s->lp, s->lp);
	if (rc)
		return rc;
	touch_page(a);
	rc = prot_none(a, s->lp);
	if (!rc)
		(*units)++;
	return rc;
}

const struct side side_memfd_2m = {
	.c = {.name = "memfd-2M",
	      .what = "memfd of 2 MiB pages (MFD_HUGETLB, else shmem with MADV_HUGEPAGE): mmap "
		      "MAP_SHARED | MAP_FIXED of 2 MiB, one touch, PROT_NONE back",
	      .flags = C_COUNTS_SYSCALLS},
	.owner = "memfd",
	.unit_large = true,
	.setup = mh_setup,
	.op = mh_op,
	.teardown = mh_teardown,
};
