// SPDX-License-Identifier: MIT
/*
 * Capacity: how many frames, and how much of windows, this process could
 * have now, from awe_probe()'s numbers and libawe's own rules.
 *
 * Frames are bounded by the memory available (awe_probe()'s mem_available,
 * host and memory cgroups, what awe_alloc() reads) and, when they are
 * locked, by the room left under RLIMIT_MEMLOCK (memlock_room): both
 * engines lock exactly the frames' pages and stop at the limit with what
 * fits (src/engine/memfd.c's pool, src/engine/uffd.c's parking).
 *
 * Windows: the uffd-move engine locks its windows too (MLOCK_ONFAULT, which
 * the kernel counts in full against the limit), so frames and windows
 * share the room, and frames that windows show all at once get half of it.
 * The memfd engine's windows are PROT_NONE reservations, not locked; what
 * bounds them is libawe's budget of mappings under vm.max_map_count,
 * asked here of libawe's own code (src/engine/memfd_vma.c, compiled in).
 */
#include <string.h>

#include "info.h"
#include "memfd.h"

static uint64_t min_u64(uint64_t a, uint64_t b)
{
	return a < b ? a : b;
}

/* The most VMAs libawe's budget would let a memfd window take now: one
 * window of that many slots can then be filled in any order. Searched with
 * the budget's own test, in this process (its mappings stand for the
 * program's). */
static uint64_t vma_budget(void)
{
	uint64_t lo = 0, hi = UINT32_MAX, mid;

	if (awe__mfd_budget_start())
		return 0;
	while (lo < hi) {
		mid = lo + (hi - lo + 1) / 2;
		if (awe__mfd_room_for(mid))
			lo = mid;
		else
			hi = mid - 1;
	}
	awe__mfd_budget_end();
	return lo;
}

void info_capacity(struct probe *p)
{
	const struct awe_probe *pr = &p->pr;
	struct capacity *c = &p->cap;
	uint64_t page = pr->page_size, lock, mem;

	memset(c, 0, sizeof(*c));
	if (p->probe_rc || !page)
		return;
	c->known = true;
	if (!pr->engine)
		return;
	lock = pr->locked ? pr->memlock_room : UINT64_MAX;
	mem = pr->mem_available;
	c->by_memlock = lock < mem;
	c->frames = min_u64(lock, mem) / page * page;
	c->windows_locked = pr->locked && strcmp(pr->engine, "uffd-move") == 0;
	c->windows = c->windows_locked ? lock : UINT64_MAX;
	c->shown = c->frames;
	if (c->windows_locked && lock != UINT64_MAX)
		c->shown = min_u64(c->frames, lock / page / 2 * page);
	if (strcmp(pr->engine, "memfd") == 0)
		c->scattered = vma_budget();
}
