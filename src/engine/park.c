/* SPDX-License-Identifier: MIT */
/*
 * Parking's bookkeeping (park.h): arenas sorted by address, a bitmap each,
 * and next-fit searches for runs of free slots.
 */
#include "park.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "table.h"

void awe__park_init(struct awe__park *p, unsigned int page_shift)
{
	memset(p, 0, sizeof(*p));
	p->page_shift = page_shift;
	p->no_runs = false;
}

void awe__park_fini(struct awe__park *p)
{
	for (size_t i = 0; i < p->n; i++)
		free(p->a[i].bits);
	free(p->a);
	memset(p, 0, sizeof(*p));
}

static uintptr_t arena_key(const void *a)
{
	return ((const struct awe__arena *)a)->base;
}

int awe__park_add(struct awe__park *p, uintptr_t base, size_t npages)
{
	uint64_t *bits = calloc((npages + 63) / 64, sizeof(*bits));
	size_t i;

	if (!bits || awe__table_room((void **)&p->a, &p->cap, p->n + 1, sizeof(*p->a), 8)) {
		free(bits);
		return -ENOMEM;
	}
	i = awe__table_find(p->a, p->n, sizeof(*p->a), base, arena_key, true);
	awe__table_insert(p->a, p->n++, sizeof(*p->a), i,
			  &(struct awe__arena){base, npages, bits, 0, false});
	p->total += npages;
	p->no_runs = false;
	/* Fill the new arena next: it is where the longest runs are. */
	p->cur_arena = i;
	p->cur_bit = 0;
	return 0;
}

const struct awe__arena *awe__park_arena(const struct awe__park *p, uintptr_t addr)
{
	size_t lo;

	/* The cursor's arena is where the last release and take happened. */
	if (p->cur_arena < p->n) {
		const struct awe__arena *c = &p->a[p->cur_arena];

		if (addr - c->base < (c->npages << p->page_shift))
			return c;
	}

	lo = awe__table_find(p->a, p->n, sizeof(*p->a), addr, arena_key, true);
	if (lo == 0)
		return NULL;
	const struct awe__arena *a = &p->a[lo - 1];
	return ((addr - a->base) >> p->page_shift) < a->npages ? a : NULL;
}

/* First bit equal to @val in [from, nbits), or nbits. */
static size_t next_bit(const uint64_t *bm, size_t from, size_t nbits, int val)
{
	while (from < nbits) {
		uint64_t w = bm[from / 64];

		if (!val)
			w = ~w;
		w &= ~0ULL << (from % 64);
		if (w) {
			size_t b = (from & ~(size_t)63) + (size_t)__builtin_ctzll(w);
			return b < nbits ? b : nbits;
		}
		from = (from & ~(size_t)63) + 64;
	}
	return nbits;
}

static void set_bits(uint64_t *bm, size_t start, size_t n, int val)
{
	while (n) {
		size_t off = start % 64, k = 64 - off < n ? 64 - off : n;
		uint64_t m = (k == 64 ? ~0ULL : ((1ULL << k) - 1)) << off;

		if (val)
			bm[start / 64] |= m;
		else
			bm[start / 64] &= ~m;
		start += k;
		n -= k;
	}
}

/* Search arena @i between bits @from and @to for a run of >= @min. */
static size_t search(struct awe__park *p, size_t i, size_t from, size_t to, size_t want, size_t min,
		     uintptr_t *addr)
{
	struct awe__arena *a = &p->a[i];

	if (a->draining)
		return 0;
	while (from < to) {
		size_t z = next_bit(a->bits, from, to, 0), e, len;

		if (z >= to)
			break;
		/* Look no further than needed: the run may reach the arena's end. */
		e = next_bit(a->bits, z, a->npages - z > want ? z + want : a->npages, 1);
		len = e - z;
		if (len >= min) {
			set_bits(a->bits, z, len, 1);
			a->used += len;
			p->used += len;
			p->cur_arena = i;
			p->cur_bit = z + len;
			*addr = a->base + (z << p->page_shift);
			return len;
		}
		from = e;
	}
	return 0;
}

static size_t scan(struct awe__park *p, size_t want, size_t min, uintptr_t *addr)
{
	/* Next fit: from the cursor to the end, through the other arenas, then
	 * the start of the cursor's arena. */
	for (size_t k = 0; k <= p->n; k++) {
		size_t i = (p->cur_arena + k) % p->n;
		size_t from = k == 0 ? p->cur_bit : 0;
		size_t to = k == p->n ? p->cur_bit : p->a[i].npages;
		size_t got = search(p, i, from, to, want, min, addr);

		if (got)
			return got;
	}
	return 0;
}

void awe__park_flush(struct awe__park *p)
{
	while (p->nrecent) {
		uintptr_t at = p->recent[--p->nrecent];

		p->used++; /* awe__park_release() counts it free again */
		awe__park_release(p, at, 1);
	}
}

size_t awe__park_take(struct awe__park *p, size_t want, size_t min, uintptr_t *addr)
{
	size_t got;

	awe__park_flush(p);
	if (min == 0)
		min = 1;
	if (want < min || awe__park_free(p) < min)
		return 0;
	/* A whole run first: consecutive parking addresses are what keeps
	 * later moves coalesced. Only then accept pieces. */
	if (want > min && !p->no_runs && awe__park_free(p) >= want) {
		got = scan(p, want, want, addr);
		if (got)
			return got;
		/* Remember the miss until a release can make longer runs: a bulk
		 * move taken in pieces would otherwise rescan everything for
		 * every piece. */
		p->no_runs = true;
	}
	return scan(p, want, min, addr);
}

AWE__HOT void awe__park_put_one(struct awe__park *p, uintptr_t addr)
{
	if (p->nrecent == AWE__PARK_RECENT) {
		awe__park_release(p, addr, 1);
		return;
	}
	p->recent[p->nrecent++] = addr;
	p->used--;
}

AWE__HOT bool awe__park_take_one(struct awe__park *p, uintptr_t *addr)
{
	if (p->nrecent) {
		*addr = p->recent[--p->nrecent];
		p->used++;
		return true;
	}
	return awe__park_take(p, 1, 1, addr) == 1;
}

void awe__park_release(struct awe__park *p, uintptr_t addr, size_t n)
{
	struct awe__arena *a = (struct awe__arena *)awe__park_arena(p, addr);
	uintptr_t at = addr;

	if (!a)
		return;
	/* Arenas the kernel placed next to each other may be covered by one
	 * span: clear it arena by arena. */
	for (struct awe__arena *b = a;;) {
		size_t bit = (at - b->base) >> p->page_shift;
		size_t k = b->npages - bit < n ? b->npages - bit : n;

		set_bits(b->bits, bit, k, 0);
		b->used -= k;
		p->used -= k;
		at += k << p->page_shift;
		n -= k;
		b = n ? (struct awe__arena *)awe__park_arena(p, at) : NULL;
		if (!b)
			break;
	}
	p->no_runs = false;
	/* Search from here next: a slot just vacated is found at once, which
	 * makes a map+unmap pair O(1) however full parking is. */
	p->cur_arena = (size_t)(a - p->a);
	p->cur_bit = (addr - a->base) >> p->page_shift;
}

void awe__park_remove(struct awe__park *p, size_t i)
{
	free(p->a[i].bits);
	p->total -= p->a[i].npages;
	awe__table_remove(p->a, p->n--, sizeof(*p->a), i);
	p->cur_arena = 0;
	p->cur_bit = 0;
	p->no_runs = false;
}
