/* SPDX-License-Identifier: MIT */
/*
 * The memfd engine: every kernel has it, and AWE sections need it. This
 * file: the instance, its windows and its file.
 *
 * Frames are pages of one memfd per instance: the page of the frame with
 * table index i is at file offset i << page shift, its home (engine.h) is
 * i wherever it is shown, and the file is sparse. A window is an
 * anonymous PROT_NONE reservation; mapping a frame mmap()s its page over
 * the slot (MAP_SHARED | MAP_FIXED), unmapping puts the reservation back,
 * protection is mprotect() (memfd_apply.c). Shared pages can be shown at
 * several slots at once, which is why AWE sections always use this engine.
 *
 * A touch of an empty slot raises SIGSEGV here (the reservation is
 * PROT_NONE), where the UFFDIO_MOVE engine raises SIGBUS.
 *
 * The price is one VMA per mapped run, within a budget under
 * vm.max_map_count (memfd_vma.c).
 *
 * Pages are locked like Windows' AWE pages: in locked mode a "pool", a
 * MAP_SHARED view of the used part of the file mlocked on fault, faults in
 * every page as it is allocated, so the page stays resident and locked
 * wherever it is mapped. Unlocked, fallocate() merely makes it exist.
 */
#include <fcntl.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <sys/syscall.h>

#include "memfd.h"
#include "sysfacts.h"

/* The file and pool grow by at least 2 MiB: 512 small pages, or one large. */
#define MIN_BYTES (2u << 20)
#define MIN_PAGES (MIN_BYTES > m->page ? (size_t)(MIN_BYTES >> m->sh) : 1)

_Static_assert(AWE_PROT_NONE == PROT_NONE && AWE_PROT_READ == PROT_READ &&
		       AWE_PROT_READWRITE == (PROT_READ | PROT_WRITE),
	       "AWE_PROT_* must be the PROT_* values");
_Static_assert(sizeof(off_t) >= 8, "frame offsets need a 64-bit off_t");

/* A MAP_FIXED mapping gets fresh VMA flags, so DONTFORK again (which also
 * lets a reservation merge with the empty slots around it). */
int awe__mfd_reserve(uintptr_t va, size_t len)
{
	uintptr_t got;
	int r = awe__sys_mmap(va, len, PROT_NONE,
			      MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE | MAP_FIXED, &got);

	return r ? r : awe__sys_madvise(va, len, MADV_DONTFORK);
}

int awe__mfd_show(const struct mfd *m, uintptr_t va, size_t len, int prot, uint32_t idx)
{
	uintptr_t got;
	/* hugetlbfs would reserve pages for the view: they exist already. */
	int r = awe__sys_mmap_fd(va, len, prot, MAP_SHARED | MAP_FIXED | MAP_NORESERVE, m->fd,
				 (uint64_t)idx << m->sh, &got);

	/* shmem huge pages in "advise" mode are mapped whole only so. */
	if (!r && m->large && !m->hugetlb)
		awe__sys_madvise(va, len, MADV_HUGEPAGE);
	return r ? r : awe__sys_madvise(va, len, MADV_DONTFORK);
}

static int memfd_window_reserve(void *e, uintptr_t hint, size_t len, size_t align, bool fixed,
				struct awe__ewin *w)
{
	struct mfd *m = e;
	int r;

	if (!awe__mfd_room_for(1))
		return -ENOMEM;
	r = awe__sys_reserve(hint, len, align, fixed, PROT_NONE, &w->base);
	if (r) {
		if (r == -ENOMEM)
			awe__mfd_recount(); /* see awe__mfd_apply() */
		return r;
	}
	/* AWE memory is not inherited by fork() children, as on Windows. */
	if (awe__sys_madvise(w->base, len, MADV_DONTFORK) || awe__mfd_window_add(w->base, len)) {
		awe__sys_munmap(w->base, len);
		return -ENOMEM;
	}
	w->npages = len >> m->sh;
	w->priv = NULL;
	return 0;
}

static void memfd_window_release(void *e, struct awe__ewin *w)
{
	struct mfd *m = e;

	awe__sys_munmap(w->base, w->npages << m->sh);
	awe__mfd_window_remove(w->base);
}

/* Set the file, and in locked mode the pool, to @pages. The pool is mlocked
 * on fault (plain mlock would fault in the whole file, holes too); the kernel
 * counts all of it against RLIMIT_MEMLOCK, and says ENOMEM, EPERM or EAGAIN
 * over the limit: all mean "not allowed to lock", hence -EPERM. */
static int resize(struct mfd *m, size_t pages)
{
	size_t len = pages << m->sh;
	uintptr_t at = 0;
	int r;

	if (pages > m->pages) {
		r = awe__sys_ftruncate(m->fd, len);
		if (r)
			return -ENOMEM;
		m->pages = pages;
	}
	if ((!m->locked && !m->large) || pages <= m->pool_pages)
		return 0;
	if (m->large) {
		r = awe__mfd_large_pool(m, m->pool_pages << m->sh, len, &at);
		if (!r && !m->pool)
			r = awe__sys_madvise(at, len, MADV_DONTFORK);
		/* hugetlbfs pages are never swapped out, and mlock() leaves
		 * their views unlocked anyway. */
		if (!r && !m->pool && m->locked && !m->hugetlb)
			r = awe__sys_lock_on_fault(at, len);
		if (r && !m->pool)
			awe__sys_munmap(at, len);
		if (r)
			return r == -EPERM ? r : -ENOMEM;
		if (!m->pool)
			awe__mfd_budget_add(0, 1);
	} else if (m->pool) {
		/* A locked mapping keeps its flags when it grows: locked on
		 * fault, DONTFORK. */
		r = awe__sys_mremap(m->pool, m->pool_pages << m->sh, len, &at);
		if (r)
			return r == -EAGAIN ? -EPERM : -ENOMEM;
	} else {
		r = awe__sys_mmap_fd(0, len, PROT_READ | PROT_WRITE, MAP_SHARED, m->fd, 0, &at);
		if (r)
			return -ENOMEM;
		r = awe__sys_madvise(at, len, MADV_DONTFORK);
		if (!r)
			r = awe__sys_lock_on_fault(at, len);
		if (r) {
			awe__sys_munmap(at, len);
			return r == -EPERM ? r : -ENOMEM;
		}
		awe__mfd_budget_add(0, 1);
	}
	m->pool = at;
	m->pool_pages = pages;
	return 0;
}

/* Make the file (and pool) cover @need pages, growing geometrically so that
 * resizes stay rare, or exactly when that much is not allowed. */
static int cover(struct mfd *m, size_t need)
{
	size_t have = m->locked ? m->pool_pages : (size_t)m->pages;
	size_t want = have * 2 > need ? have * 2 : need;
	int r;

	if (need <= have)
		return 0;
	if (want < MIN_PAGES)
		want = MIN_PAGES;
	r = resize(m, want);
	if (r && want > need)
		r = resize(m, need);
	return r;
}

/* One past the highest of idx[0..n-1]. */
static size_t top(const uint32_t *idx, size_t n)
{
	size_t hi = 0;

	for (size_t i = 0; i < n; i++)
		if (idx[i] >= hi)
			hi = (size_t)idx[i] + 1;
	return hi;
}

/* Under a finite RLIMIT_MEMLOCK: how many of idx[] the pool can still be
 * grown to hold. */
static size_t fitting(const struct mfd *m, const uint32_t *idx, size_t n)
{
	uint64_t fit = m->pool_pages + (awe__memlock_room(m->memlock_limit) >> m->sh);
	size_t k = 0;

	while (k < n && idx[k] < fit)
		k++;
	return k;
}

/* Give the file's pages [off, off + len) back: freed, and read as zeros by
 * whoever gets these indices next. */
static int punch(const struct mfd *m, uint64_t off, uint64_t len)
{
	return awe__sys_fallocate(m->fd, FALLOC_FL_PUNCH_HOLE | FALLOC_FL_KEEP_SIZE, off, len);
}

/* Fault in [off, off + len) of the file through the pool, which locks it. */
static int fault_in(struct mfd *m, uint64_t off, size_t len, size_t page)
{
	if (!m->no_populate) {
		int r = awe__sys_madvise(m->pool + off, len, MADV_POPULATE_WRITE);

		if (r != -EINVAL || m->large)
			return r;
		m->no_populate = true;
	}
	/* Holes read as zeros, so writing back what is read changes nothing. */
	for (size_t i = 0; i < len; i += page) {
		volatile char *p = (volatile char *)(m->pool + off + i);

		*p = *p;
	}
	return 0;
}

/* Give pages to idx[0..n-1], a run of consecutive indices per system call;
 * returns how many of the prefix got one. */
static size_t populate(struct mfd *m, const uint32_t *idx, size_t n)
{
	size_t i = 0, j;

	for (; i < n; i = j) {
		uint64_t off = (uint64_t)idx[i] << m->sh;
		size_t len;
		int r;

		j = AWE__RUN_END(idx, i, n);
		len = (j - i) << m->sh;
		r = m->locked || m->large ? fault_in(m, off, len, m->page)
					  : awe__sys_fallocate(m->fd, 0, off, len);
		/* The first page that is not one huge page stops the
		 * allocation (huge pages ran out): those before it are good. */
		if (m->large) {
			size_t good = awe__mfd_large_good(m, off, j - i);

			if (good < j - i) {
				punch(m, off + (good << m->sh), len - (good << m->sh));
				return i + good;
			}
			r = 0;
		}
		if (r) {
			/* Some of the run may have pages: not handed out, they
			 * must not stay behind. */
			punch(m, off, len);
			break;
		}
	}
	return i;
}

static ssize_t memfd_alloc(void *e, const uint32_t *idx, uint64_t *home, size_t n, int node)
{
	struct mfd *m = e;
	struct awe__node_saved saved;
	size_t done;
	int r = cover(m, top(idx, n));

	/* Over a finite RLIMIT_MEMLOCK, allocate what still fits. */
	if (r == -EPERM && m->memlock_limit != UINT64_MAX) {
		n = fitting(m, idx, n);
		r = n ? resize(m, top(idx, n)) : -EPERM;
	}
	if (r)
		return r;
	awe__node_prefer(node, &saved);
	awe__hook(AWE__HOOK_ALLOC_NODE);
	done = populate(m, idx, n);
	awe__node_restore(&saved);
	for (size_t i = 0; i < done; i++)
		home[i] = idx[i]; /* the page's place in the file */
	m->live += done;
	return done ? (ssize_t)done : -ENOMEM;
}

/* One past the highest page of the pool still in the file (a live frame's:
 * freed ones are holes), looking down from the top, where the pool would
 * shrink: mincore() of a shared mapping tells what is in the page cache. */
static size_t pool_top(const struct mfd *m)
{
	unsigned char vec[4096];
	size_t end = m->pool_pages;

	/* mincore() answers per small page: a large page is asked about its
	 * first one, a page per call. */
	while (end) {
		size_t k = m->large ? 1 : end < sizeof(vec) ? end : sizeof(vec);

		if (awe__sys_mincore(m->pool + ((end - k) << m->sh),
				     m->large ? m->base_page : k << m->sh, vec))
			return m->pool_pages;
		while (k && !(vec[k - 1] & 1))
			k--, end--;
		if (k)
			return end;
	}
	return 0;
}

/* Give the pool back down to the live frames, once most of it no longer
 * holds any: its room under RLIMIT_MEMLOCK (the kernel counts the whole
 * view) and its page tables. Not for a few pages: allocation churn would
 * grow and shrink it call after call. */
static void trim_pool(struct mfd *m)
{
	size_t keep;
	uintptr_t at;

	if (!m->pool || m->live * 2 > m->pool_pages)
		return;
	keep = m->live ? pool_top(m) : 0;
	if (keep)
		keep = keep < MIN_PAGES ? MIN_PAGES
					: (keep + MIN_PAGES - 1) & ~(size_t)(MIN_PAGES - 1);
	if (keep + MIN_PAGES > m->pool_pages)
		return;
	if (!keep) {
		awe__sys_munmap(m->pool, m->pool_pages << m->sh);
		m->pool = 0;
		awe__mfd_budget_add(0, -1);
	} else if (awe__sys_mremap(m->pool, m->pool_pages << m->sh, keep << m->sh, &at)) {
		return;
	}
	m->pool_pages = keep;
}

static bool memfd_trim_wanted(void *e, bool all)
{
	struct mfd *m = e;

	(void)all;
	return m->pool && m->live * 2 <= m->pool_pages;
}

/* The pool holds no page of its own: no homes needed. */
static int memfd_trim(void *e, bool all, uint64_t *home, size_t n)
{
	(void)all;
	(void)home;
	(void)n;
	trim_pool(e);
	return 0;
}

/* The file's pages [home, home + n) go: holes punched. */
static int memfd_discard(void *e, uint64_t home, size_t n)
{
	struct mfd *m = e;
	int r = punch(m, home << m->sh, (uint64_t)n << m->sh);

	if (!r)
		m->live -= n;
	return r;
}

static void memfd_stats(void *e, struct awe_stats *st)
{
	struct mfd *m = e;

	st->parking_bytes += (uint64_t)m->pool_pages << m->sh;
	awe__mfd_budget_stats(st);
}

/* The page is in the file wherever it is shown: seen through the pool, or
 * through a view of it made for the question. */
static int memfd_page_node(void *e, uint32_t idx, uint64_t home, const struct awe__ewin *w,
			   uintptr_t va)
{
	struct mfd *m = e;
	uintptr_t at;
	int r;

	(void)home;
	(void)w;
	(void)va;
	if (m->pool && idx < m->pool_pages)
		return awe__sys_page_node(m->pool + ((uintptr_t)idx << m->sh));
	r = awe__sys_mmap_fd(0, m->page, PROT_READ, MAP_SHARED | MAP_NORESERVE, m->fd,
			     (uint64_t)idx << m->sh, &at);
	if (r)
		return r;
	/* A page of the file not faulted into this view yet has no node to
	 * report: reading it maps the page that is there. */
	*(volatile char *)at;
	r = awe__sys_page_node(at);
	awe__sys_munmap(at, m->page);
	return r;
}

/* A fork() child inherits the memfd (MFD_CLOEXEC acts on exec only), and
 * through it the parent's live frames; and the parent's maps file. */
static void memfd_fork_child(void *e)
{
	struct mfd *m = e;

	awe__sys_close(m->fd);
	m->fd = -1;
	awe__mfd_budget_fork_child();
}

/* The inode /proc/self/maps names the file by; 0 when it cannot be told. */
static unsigned long file_ino(int fd)
{
	struct stat st;

	return awe__syscall3(SYS_fstat, fd, (long)&st, 0) == 0 ? st.st_ino : 0;
}

static int memfd_init(const struct awe__eng_conf *conf, void **e)
{
	struct mfd *m = calloc(1, sizeof(*m));
	int r;

	if (!m)
		return -ENOMEM;
	m->page = conf->page;
	m->sh = conf->page_shift;
	m->locked = conf->locked;
	m->memlock_limit = conf->memlock_limit;
	m->large = conf->large;
	m->base_page = conf->base_page;
	m->fd = m->large ? awe__mfd_large_open(m) : awe__sys_memfd_create("libawe", MFD_CLOEXEC);
	if (m->fd < 0) {
		r = m->fd;
		free(m);
		if (r == -EOPNOTSUPP)
			return r;
		/* EPERM is how container profiles refuse a system call: as
		 * good as missing, as for userfaultfd(2). */
		if (r == -ENOSYS)
			awe__set_detail(ENOSYS, "memfd_create(2) is not implemented by this kernel "
						"(Linux 3.17 or later) or is blocked by seccomp");
		else if (r == -EPERM)
			awe__set_detail(ENOSYS, "memfd_create(2) was refused with EPERM: a seccomp "
						"filter or security policy blocks it");
		return r == -EPERM ? -ENOSYS : r;
	}
	r = awe__mfd_budget_start();
	if (r) {
		awe__sys_close(m->fd);
		free(m);
		return r;
	}
	m->ino = file_ino(m->fd);
	*e = m;
	return 0;
}

static void memfd_fini(void *e, bool forked)
{
	struct mfd *m = e;

	/* A fork child has no pool: it is MADV_DONTFORK. */
	if (!forked && m->pool) {
		awe__sys_munmap(m->pool, m->pool_pages << m->sh);
		awe__mfd_budget_add(0, -1);
	}
	if (m->fd >= 0)
		awe__sys_close(m->fd);
	awe__mfd_budget_end();
	free(m);
}

const struct awe__engine awe__engine_memfd = {
	.name = "memfd",
	.init = memfd_init,
	.fini = memfd_fini,
	.fork_child = memfd_fork_child,
	.window_reserve = memfd_window_reserve,
	.window_release = memfd_window_release,
	.alloc = memfd_alloc,
	.discard = memfd_discard,
	.trim_wanted = memfd_trim_wanted,
	.trim = memfd_trim,
	.apply = awe__mfd_apply,
	.page_node = memfd_page_node,
	.stats = memfd_stats,
};
