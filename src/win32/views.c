/* SPDX-License-Identifier: MIT */
/*
 * The AWE regions this layer reserved (Windows' physical views): their slot
 * size and owner. awe_query() tells a region's base and size but neither,
 * and Windows' rules need both: a large view's addresses are aligned to the
 * large page and its counts are in large pages; a frame of the wrong size
 * for a region is a PFN it cannot show (487, where libawe says -EINVAL),
 * unless the call is refused for its addresses first (87), which it is when
 * they lie in regions of different owners. Sorted by base. An entry counts
 * only while awe_query() still sees a region of that base and size: the
 * native API may have released it and reserved another there since.
 */
#include <pthread.h>
#include <stdatomic.h>

#include "table.h"
#include "w32.h"

struct view {
	uintptr_t base;
	size_t size;
	struct w32__view v;
};

static struct view *tab;
static size_t ntab, cap;
/* The large ones: while there is none, every slot is a page, and the map
 * calls need not look here. */
static atomic_size_t nlarge;
static pthread_mutex_t mu = PTHREAD_MUTEX_INITIALIZER;

static uintptr_t key_of(const void *e)
{
	return ((const struct view *)e)->base;
}

/* The index of the entry at @base, or ntab. */
static size_t find(uintptr_t base)
{
	size_t i = awe__table_find(tab, ntab, sizeof(*tab), base, key_of, false);

	return i < ntab && tab[i].base == base ? i : ntab;
}

/* Drop entry @i. */
static void drop(size_t i)
{
	if (tab[i].v.large)
		atomic_fetch_sub(&nlarge, 1);
	awe__table_remove(tab, ntab, sizeof(*tab), i);
	ntab--;
}

DWORD w32__view_note(void *base, size_t size, const struct w32__view *v)
{
	struct view e = {(uintptr_t)base, size, *v};
	DWORD r = 0;
	size_t i;

	pthread_mutex_lock(&mu);
	i = find(e.base);
	if (i < ntab) /* a stale entry: its region went through the native API */
		drop(i);
	if (W32__KEEP_ERRNO(awe__table_room((void **)&tab, &cap, ntab + 1, sizeof(*tab), 16))) {
		r = ERROR_NOT_ENOUGH_MEMORY;
	} else {
		i = awe__table_find(tab, ntab, sizeof(*tab), e.base, key_of, false);
		awe__table_insert(tab, ntab++, sizeof(*tab), i, &e);
		if (v->large)
			atomic_fetch_add(&nlarge, 1);
	}
	pthread_mutex_unlock(&mu);
	return r;
}

void w32__view_forget(void *base)
{
	size_t i;

	pthread_mutex_lock(&mu);
	i = find((uintptr_t)base);
	if (i < ntab)
		drop(i);
	pthread_mutex_unlock(&mu);
}

bool w32__large_views(void)
{
	return atomic_load(&nlarge) != 0;
}

bool w32__view_of(const struct awe_page_info *pi, struct w32__view *v)
{
	bool known;
	size_t i;

	pthread_mutex_lock(&mu);
	i = find((uintptr_t)pi->window);
	known = i < ntab && tab[i].size == pi->window_size;
	if (known)
		*v = tab[i].v;
	pthread_mutex_unlock(&mu);
	return known;
}

size_t w32__slot_size(const struct awe_page_info *pi)
{
	struct w32__view v;

	if (w32__large_views() && w32__view_of(pi, &v) && v.large)
		return awe_large_page_size();
	return awe_page_size();
}

/* A fork() child has none of libawe's windows. */
void w32__views_fork(enum w32__fork_phase phase)
{
	if (phase == W32__FORK_PREPARE) {
		pthread_mutex_lock(&mu);
		return;
	}
	if (phase == W32__FORK_CHILD) {
		ntab = 0;
		atomic_store(&nlarge, 0);
	}
	pthread_mutex_unlock(&mu);
}

/* Whether @addr is in an AWE region at all, the native API's included. */
bool w32__awe_region(const void *addr, struct awe_page_info *pi)
{
	struct awe_page_info tmp;

	/* -ENOENT is the everyday answer for ordinary memory. */
	return W32__KEEP_ERRNO(awe_query(addr, pi ? pi : &tmp)) == 0;
}
