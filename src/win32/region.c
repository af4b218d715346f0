/* SPDX-License-Identifier: MIT */
/*
 * Ordinary (non-AWE) virtual memory: the table of the regions VirtualAlloc()
 * reserves and commits, and the calls that change them. query.c asks it
 * about an address for VirtualQuery().
 *
 * A region is one PROT_NONE reservation; committing a page is an mprotect()
 * to its protection, decommitting drops its contents and makes it PROT_NONE
 * again. The table below remembers which pages are committed, since the
 * kernel cannot tell a committed PAGE_NOACCESS page from a reserved one.
 * The kernel's failures are read from errno here, so the entry points keep
 * the caller's errno around the work (W32__KEEP_ERRNO).
 */
#include <errno.h>
#include <pthread.h>
#include <stdlib.h>
#include <sys/mman.h>
#include <unistd.h>

#include "sys.h"
#include "table.h"
#include "w32.h"

#ifndef MADV_FREE
#define MADV_FREE 8
#endif

#define USER_MIN ((uintptr_t)0x10000)

/* Pages [first, next run's first) of a region share one state. */
struct run {
	size_t first;
	DWORD prot; /* 0: reserved; else committed with this protection */
};

struct region {
	uintptr_t base;
	size_t pages;
	DWORD alloc_prot;
	size_t nruns; /* adjacent runs always differ */
	struct run *runs;
};

/* Sorted by base. Every call that changes a region, its mapping included,
 * holds the lock, so the table and the kernel agree for other threads. */
static struct region *regions;
static size_t nregions, cap_regions;
static pthread_mutex_t mu = PTHREAD_MUTEX_INITIALIZER;

static const struct {
	DWORD win;
	int prot;
} prot_table[] = {
	{PAGE_NOACCESS, PROT_NONE},
	{PAGE_READONLY, PROT_READ},
	{PAGE_READWRITE, PROT_READ | PROT_WRITE},
	{PAGE_EXECUTE, PROT_EXEC},
	{PAGE_EXECUTE_READ, PROT_READ | PROT_EXEC},
	{PAGE_EXECUTE_READWRITE, PROT_READ | PROT_WRITE | PROT_EXEC},
};

/* A child forked while another thread held the lock must not find it held
 * forever; its copy of every region stays valid. */
void w32__regions_fork(enum w32__fork_phase phase)
{
	if (phase == W32__FORK_PREPARE)
		pthread_mutex_lock(&mu);
	else
		pthread_mutex_unlock(&mu);
}

static void lock(void)
{
	pthread_mutex_lock(&mu);
}

static void unlock(void)
{
	pthread_mutex_unlock(&mu);
}

static uintptr_t page_size(void)
{
	return (uintptr_t)sysconf(_SC_PAGESIZE);
}

static uintptr_t page_down(uintptr_t a)
{
	return a & ~(page_size() - 1);
}

static uintptr_t page_up(uintptr_t a)
{
	return page_down(a + page_size() - 1);
}

/* 0 and the mmap() protection of @prot, or why it is refused. */
static DWORD decode_prot(DWORD prot, int *out)
{
	DWORD mods = prot & (PAGE_GUARD | PAGE_NOCACHE | PAGE_WRITECOMBINE);
	DWORD base = prot & ~mods;

	if (mods & (mods - 1) || (mods && base == PAGE_NOACCESS))
		return ERROR_INVALID_PARAMETER;
	for (size_t i = 0; i < sizeof(prot_table) / sizeof(prot_table[0]); i++) {
		if (prot_table[i].win != base)
			continue;
		/* Linux has no guard pages (they would need a SIGSEGV handler
		 * of ours) and no write-combining for ordinary memory. */
		if (mods & (PAGE_GUARD | PAGE_WRITECOMBINE))
			return ERROR_NOT_SUPPORTED;
		*out = prot_table[i].prot;
		return 0;
	}
	/* Unknown bits, no base or two of them, and WRITECOPY, which is only
	 * for views of sections. */
	return ERROR_INVALID_PARAMETER;
}

/* Windows checks the range against the user address space before anything
 * else about the address. */
static DWORD check_range(uintptr_t a, SIZE_T size)
{
	if (a >= W32__USER_END || size > W32__USER_END - a)
		return ERROR_INVALID_PARAMETER;
	return 0;
}

static DWORD mm_error(int err)
{
	switch (err) {
	case ENOMEM: /* overcommit refused, or too many mappings */
		return ERROR_COMMITMENT_LIMIT;
	case EACCES: /* e.g. PROT_EXEC refused by a security module */
	case EPERM:
		return ERROR_ACCESS_DENIED;
	default:
		return ERROR_INVALID_PARAMETER;
	}
}

/* The table's key: where a region ends. */
static uintptr_t region_end(const void *elem)
{
	const struct region *r = elem;

	return r->base + r->pages * page_size();
}

/* Index of the first region ending after @a (nregions if none). */
static size_t region_after(uintptr_t a)
{
	return awe__table_find(regions, nregions, sizeof(*regions), a, region_end, true);
}

static struct region *region_of(uintptr_t a)
{
	size_t i = region_after(a);

	return i < nregions && regions[i].base <= a ? &regions[i] : NULL;
}

static uintptr_t run_first(const void *elem)
{
	return ((const struct run *)elem)->first;
}

/* The run holding page @page: the last one starting at or below it, the
 * one before the first starting above it (the first run starts at 0). */
static size_t run_of(const struct region *r, size_t page)
{
	return awe__table_find(r->runs, r->nruns, sizeof(*r->runs), page, run_first, true) - 1;
}

static size_t run_end(const struct region *r, size_t i)
{
	return i + 1 < r->nruns ? r->runs[i + 1].first : r->pages;
}

/* The region holding all of [page_down(a), page_up(a + size)), and that
 * range as page indexes in it. */
static DWORD locate(uintptr_t a, SIZE_T size, struct region **rp, size_t *first, size_t *end)
{
	struct region *r = region_of(a);
	uintptr_t stop = page_up(a + size);

	if (!r || stop > region_end(r))
		return ERROR_INVALID_ADDRESS;
	*rp = r;
	*first = (page_down(a) - r->base) / page_size();
	*end = (stop - r->base) / page_size();
	return 0;
}

static bool all_committed(const struct region *r, size_t first, size_t end)
{
	for (size_t i = run_of(r, first); i < r->nruns && r->runs[i].first < end; i++) {
		if (!r->runs[i].prot)
			return false;
	}
	return true;
}

static void push_run(struct run *v, size_t *n, size_t first, DWORD prot)
{
	if (*n && v[*n - 1].prot == prot)
		return;
	v[(*n)++] = (struct run){first, prot};
}

/* Set pages [first, end) of @r to @prot (0: reserved) in the kernel and in
 * the table; @lprot is the mmap() protection. The new runs are built first
 * so that nothing fails after the kernel has changed. */
static DWORD set_pages(struct region *r, size_t first, size_t end, DWORD prot, int lprot)
{
	struct run *v = malloc((r->nruns + 2) * sizeof(*v));
	void *a = (void *)(r->base + first * page_size());
	size_t len = (end - first) * page_size(), n = 0;

	if (!v)
		return ERROR_NOT_ENOUGH_MEMORY;
	for (size_t i = 0; i < r->nruns; i++) {
		size_t s = r->runs[i].first, e = run_end(r, i);

		if (s < first)
			push_run(v, &n, s, r->runs[i].prot);
		if (s <= first && first < e)
			push_run(v, &n, first, prot);
		if (e > end)
			push_run(v, &n, s > end ? s : end, r->runs[i].prot);
	}
	/* A decommitted page reads as zero when committed again. */
	if ((!prot && madvise(a, len, MADV_DONTNEED)) || mprotect(a, len, lprot)) {
		free(v);
		return mm_error(errno);
	}
	free(r->runs);
	r->runs = v;
	r->nruns = n;
	return 0;
}

/* Add the reservation [base, base + len) to the table. */
static struct region *table_add(uintptr_t base, size_t len, DWORD alloc_prot)
{
	struct region r = {base, len / page_size(), alloc_prot, 1, malloc(sizeof(struct run))};
	size_t i = region_after(base);

	if (!r.runs ||
	    awe__table_room((void **)&regions, &cap_regions, nregions + 1, sizeof(*regions), 16)) {
		free(r.runs);
		return NULL;
	}
	*r.runs = (struct run){0, 0};
	awe__table_insert(regions, nregions++, sizeof(*regions), i, &r);
	return &regions[i];
}

/* Unmap @r and forget it. */
static void table_remove(struct region *r)
{
	size_t i = (size_t)(r - regions);

	munmap((void *)r->base, r->pages * page_size());
	free(r->runs);
	awe__table_remove(regions, nregions--, sizeof(*regions), i);
}

/* A PROT_NONE reservation of @len bytes: at @hint exactly, or anywhere at
 * an address aligned to @align when @hint is 0. awe__sys_reserve() answers
 * -ENOMEM for every refusal but a taken range (ENOMEM itself, or EPERM from
 * vm.mmap_min_addr or a security module): all ERROR_NOT_ENOUGH_MEMORY. */
static DWORD map_reserve(uintptr_t hint, size_t len, size_t align, uintptr_t *out)
{
	int r = awe__sys_reserve(hint, len, hint ? 0 : align, hint != 0, PROT_NONE, out);

	if (r)
		return r == -EEXIST ? ERROR_INVALID_ADDRESS : ERROR_NOT_ENOUGH_MEMORY;
	if (*out + len > W32__USER_END) {
		awe__sys_munmap(*out, len);
		return ERROR_NOT_ENOUGH_MEMORY;
	}
	return 0;
}

/* MEM_RESERVE, with MEM_COMMIT of the whole region when asked. */
static DWORD reserve(uintptr_t a, SIZE_T size, bool commit, DWORD prot, int lprot, SIZE_T align,
		     void **out)
{
	uintptr_t base, end;
	struct region *r;
	DWORD err;

	if (a) {
		base = a & ~(uintptr_t)(align - 1);
		end = page_up(a + size);
		if (base < USER_MIN)
			return ERROR_INVALID_PARAMETER;
		err = map_reserve(base, end - base, 0, &base);
	} else {
		end = page_up(size);
		err = map_reserve(0, end, align, &base);
		end += base;
	}
	if (err)
		return err;
	r = table_add(base, end - base, prot);
	if (!r) {
		munmap((void *)base, end - base);
		return ERROR_NOT_ENOUGH_MEMORY;
	}
	if (commit) {
		err = set_pages(r, 0, r->pages, prot, lprot);
		if (err) {
			table_remove(r);
			return err;
		}
	}
	*out = (void *)base;
	return 0;
}

/* MEM_RESET: the data of committed pages may be discarded. */
static DWORD reset(uintptr_t a, SIZE_T size, void **out)
{
	struct region *r;
	size_t first, end;
	DWORD err = locate(a, size, &r, &first, &end);
	void *p = (void *)page_down(a);
	size_t len;

	if (err)
		return err;
	if (!all_committed(r, first, end))
		return ERROR_INVALID_ADDRESS;
	len = (end - first) * page_size();
	/* MADV_FREE is Linux 4.5; without it the data goes at once. */
	if (madvise(p, len, MADV_FREE) && madvise(p, len, MADV_DONTNEED))
		return mm_error(errno);
	*out = p;
	return 0;
}

static DWORD alloc_locked(uintptr_t a, SIZE_T size, DWORD type, DWORD prot, int lprot, SIZE_T align,
			  void **out)
{
	struct region *r;
	size_t first, end;
	DWORD err;

	if (type & MEM_RESET)
		return reset(a, size, out);
	if (!a || type & MEM_RESERVE)
		return reserve(a, size, type & MEM_COMMIT, prot, lprot, align, out);
	err = locate(a, size, &r, &first, &end);
	if (!err)
		err = set_pages(r, first, end, prot, lprot);
	if (!err)
		*out = (void *)page_down(a);
	return err;
}

DWORD w32__vmem_alloc(void *addr, SIZE_T size, DWORD type, DWORD prot, SIZE_T align, void **out)
{
	uintptr_t a = (uintptr_t)addr;
	int lprot = PROT_NONE;
	DWORD err;

	if (type & (MEM_RESET | MEM_RESET_UNDO) && type != MEM_RESET && type != MEM_RESET_UNDO)
		return ERROR_INVALID_PARAMETER; /* each goes alone */
	if (type & (MEM_WRITE_WATCH | MEM_LARGE_PAGES | MEM_RESET_UNDO))
		return ERROR_NOT_SUPPORTED;
	/* MEM_RESET ignores the protection (callers often pass 0). */
	err = type & MEM_RESET ? 0 : decode_prot(prot, &lprot);
	if (!err)
		err = check_range(a, size);
	if (err)
		return err;
	if (!size)
		return ERROR_INVALID_PARAMETER;
	if (align < W32__GRANULARITY)
		align = W32__GRANULARITY;
	lock();
	err = W32__KEEP_ERRNO(alloc_locked(a, size, type, prot, lprot, align, out));
	unlock();
	return err;
}

static DWORD free_locked(uintptr_t a, SIZE_T size, DWORD type)
{
	struct region *r = region_of(a);
	size_t first, end;
	DWORD err;

	if (type == MEM_RELEASE || !size) {
		/* Both take the whole region, named by its base. */
		if (!r || r->base != page_down(a))
			return ERROR_INVALID_ADDRESS;
		if (type == MEM_RELEASE) {
			table_remove(r);
			return 0;
		}
		first = 0;
		end = r->pages;
	} else {
		err = locate(a, size, &r, &first, &end);
		if (err)
			return err;
	}
	return set_pages(r, first, end, 0, PROT_NONE);
}

DWORD w32__vmem_free(void *addr, SIZE_T size, DWORD type)
{
	uintptr_t a = (uintptr_t)addr;
	DWORD err;

	if (type != MEM_RELEASE && type != MEM_DECOMMIT)
		return ERROR_INVALID_PARAMETER;
	/* VirtualFree() itself refuses a size with MEM_RELEASE. */
	if (type == MEM_RELEASE && size)
		return ERROR_INVALID_PARAMETER;
	err = check_range(a, size);
	if (err)
		return err;
	lock();
	err = W32__KEEP_ERRNO(free_locked(a, size, type));
	unlock();
	return err;
}

DWORD w32__vmem_protect(void *addr, SIZE_T size, DWORD prot, DWORD *old)
{
	uintptr_t a = (uintptr_t)addr;
	struct region *r;
	size_t first, end;
	int lprot;
	DWORD err = decode_prot(prot, &lprot);

	if (!err)
		err = check_range(a, size);
	if (!err && page_up(a + size) == page_down(a))
		err = ERROR_INVALID_PARAMETER;
	if (err)
		return err;
	lock();
	err = locate(a, size, &r, &first, &end);
	if (!err && !all_committed(r, first, end))
		err = ERROR_INVALID_ADDRESS;
	if (!err) {
		DWORD was = r->runs[run_of(r, first)].prot;

		err = W32__KEEP_ERRNO(set_pages(r, first, end, prot, lprot));
		if (!err && old)
			*old = was;
	}
	unlock();
	return err;
}

DWORD w32__vmem_prot(int prot)
{
	for (size_t i = 0; i < sizeof(prot_table) / sizeof(prot_table[0]); i++) {
		if (prot_table[i].prot == prot)
			return prot_table[i].win;
	}
	return PAGE_NOACCESS;
}

static void query_region(const struct region *r, uintptr_t a, MEMORY_BASIC_INFORMATION *mbi)
{
	size_t page = (a - r->base) / page_size(), i = run_of(r, page);

	*mbi = (MEMORY_BASIC_INFORMATION){
		.BaseAddress = (void *)page_down(a),
		.AllocationBase = (void *)r->base,
		.AllocationProtect = r->alloc_prot,
		.RegionSize = (run_end(r, i) - page) * page_size(),
		.State = r->runs[i].prot ? MEM_COMMIT : MEM_RESERVE,
		.Protect = r->runs[i].prot,
		.Type = MEM_PRIVATE,
	};
}

bool w32__vmem_region(uintptr_t a, MEMORY_BASIC_INFORMATION *mbi, uintptr_t *lo, uintptr_t *hi)
{
	struct region *r;
	size_t i;

	*lo = 0;
	*hi = W32__USER_END;
	lock();
	r = region_of(a);
	if (r) {
		query_region(r, a, mbi);
		unlock();
		return true;
	}
	/* Kernel mappings of adjacent regions may merge with others'. */
	i = region_after(a);
	if (i < nregions)
		*hi = regions[i].base;
	if (i > 0)
		*lo = region_end(&regions[i - 1]);
	unlock();
	return false;
}
