/* SPDX-License-Identifier: MIT */
/*
 * Sorted tables: arrays kept in key order, searched by bisection. The
 * windows (by base), the sections (by id), the parking arenas and the memfd
 * engine's windows (by base) are all such tables. Inline, with the key read
 * through a function the compiler inlines too: the window search is on
 * every map call's path.
 */
#ifndef AWE_TABLE_H
#define AWE_TABLE_H

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "common.h"

/* The index of the first of the @n elements of @size bytes at @base whose
 * key is above @key (@after) or at least @key (!@after): all before it have
 * a key at or below (below) @key. */
static inline size_t awe__table_find(const void *base, size_t n, size_t size, uintptr_t key,
				     uintptr_t (*key_of)(const void *elem), bool after)
{
	size_t lo = 0, hi = n;

	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		uintptr_t k = key_of((const char *)base + mid * size);

		if (k < key || (after && k == key))
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo;
}

/* Room for @need elements in *@base (*@cap of them), doubling from @first. */
static inline int awe__table_room(void **base, size_t *cap, size_t need, size_t size, size_t first)
{
	size_t n = *cap ? *cap : first;
	void *p;

	if (need <= *cap)
		return 0;
	while (n < need)
		n *= 2;
	p = realloc(*base, n * size);
	if (!p)
		return -ENOMEM;
	*base = p;
	*cap = n;
	return 0;
}

/* Insert @elem at index @at of the @n elements at @base (room made). */
static inline void awe__table_insert(void *base, size_t n, size_t size, size_t at, const void *elem)
{
	char *b = base;

	memmove(b + (at + 1) * size, b + at * size, (n - at) * size);
	memcpy(b + at * size, elem, size);
}

/* Remove the element at index @at of the @n elements at @base. */
static inline void awe__table_remove(void *base, size_t n, size_t size, size_t at)
{
	char *b = base;

	memmove(b + at * size, b + (at + 1) * size, (n - at - 1) * size);
}

#endif
