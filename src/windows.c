/* SPDX-License-Identifier: MIT */
/*
 * The window table: reserved address ranges whose page slots frames are
 * shown in, sorted by base address. Windows never overlap because they are
 * created without ever replacing an existing mapping.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "internal.h"
#include "table.h"
#include "uaddr.h"

static uintptr_t win_key(const void *w)
{
	return (*(struct awe__window *const *)w)->ew.base;
}

/* Windows [0, return) start at or below @va. */
static size_t win_after(const struct awe__ctx *c, uintptr_t va)
{
	return awe__table_find(c->win, c->nwin, sizeof(*c->win), va, win_key, true);
}

AWE__HOT struct awe__window *awe__window_find(struct awe__ctx *c, uintptr_t va)
{
	size_t i;
	struct awe__window *w = c->last_win;

	/* Most programs map into one window call after call. */
	if (w && va - w->ew.base < (w->ew.npages << w->sh))
		return w;
	i = win_after(c, va);
	if (i == 0)
		return NULL;
	w = c->win[i - 1];
	if (va - w->ew.base >= (w->ew.npages << w->sh))
		return NULL;
	c->last_win = w;
	return w;
}

static void window_free(struct awe__window *w)
{
	if (w) {
		free(w->slot);
		free(w->sprot);
	}
	free(w);
}

void awe__windows_fini(struct awe__ctx *c)
{
	for (size_t i = 0; i < c->nwin; i++)
		window_free(c->win[i]);
	free(c->win);
}

/* Reserve a window of the default instance (@sec NULL) or tied to section
 * @sec, with slots for large frames if @large; under the lock. */
int awe__window_create(struct awe__ctx *c, struct awe__section *sec, size_t size, void *hint,
		       size_t align, bool fixed, bool large, void **base)
{
	size_t page = large ? awe__large_page() : c->page;
	struct awe__eng *e = sec ? &sec->eng : &c->eng;
	struct awe__window *w;
	size_t len, at;
	int r;

	/* Larger than user space: never, whatever is free. */
	if (size > awe__uaddr.hi - awe__uaddr.lo || align > awe__uaddr.hi - awe__uaddr.lo)
		return -EINVAL;
	if (large && !sec) {
		r = awe__large_eng(c, &e);
		if (r)
			return r;
	}
	/* Slots, the base and a fixed hint are in the frames' pages: the hint
	 * is rounded down to one, as every address names its slot. */
	if (align < page)
		align = page;
	len = (size + page - 1) & ~(page - 1);
	if (len < size)
		return -EINVAL;
	if (awe__table_room((void **)&c->win, &c->win_cap, c->nwin + 1, sizeof(*c->win), 16))
		return -ENOMEM;
	w = calloc(1, sizeof(*w));
	if (!w)
		return -ENOMEM;
	w->sec = sec;
	w->eng = e;
	w->large = large;
	w->sh = large ? awe__large_shift() : c->page_shift;
	/* The address range first: a window larger than the free address space
	 * fails there, before its table is asked for. */
	r = w->eng->ops->window_reserve(w->eng->data, (uintptr_t)hint & ~(uintptr_t)(page - 1), len,
					align > c->page ? align : 0, fixed, &w->ew);
	if (r) {
		window_free(w);
		return r;
	}
	/* calloc of a large table comes from fresh mmap pages, so a huge window
	 * costs memory only for the part of the table that is used. Only a
	 * fixed hint far up a 5-level address space fails the second test. */
	w->slot = calloc(len >> w->sh, sizeof(*w->slot));
	w->sprot = sec ? calloc(len >> w->sh, sizeof(*w->sprot)) : NULL;
	w->ew.slot = w->slot;
	if (!w->slot || (sec && !w->sprot) || !awe__loc_fits(c, w->ew.base, len)) {
		w->eng->ops->window_release(w->eng->data, &w->ew);
		window_free(w);
		return -ENOMEM;
	}
	/* The place first: arguments are evaluated in no set order, and the
	 * search reads c->nwin. */
	at = win_after(c, w->ew.base);
	awe__table_insert(c->win, c->nwin++, sizeof(*c->win), at, &w);
	if (sec)
		sec->nwindows++;
	c->window_bytes += len;
	*base = (void *)w->ew.base;
	return 0;
}

void awe__window_remove(struct awe__ctx *c, struct awe__window *w)
{
	size_t len = w->ew.npages << w->sh;
	size_t at = win_after(c, w->ew.base) - 1; /* before c->nwin changes */

	w->eng->ops->window_release(w->eng->data, &w->ew);
	c->window_bytes -= len;
	awe__table_remove(c->win, c->nwin--, sizeof(*c->win), at);
	if (c->last_win == w)
		c->last_win = NULL;
	window_free(w);
}
