/* SPDX-License-Identifier: MIT */
/*
 * Windows: reserved address ranges whose page slots frames are mapped into.
 * The table is sorted by base address; windows never overlap because they
 * are created without ever replacing an existing mapping.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "engine.h"
#include "internal.h"

static size_t lower_bound(const struct awe__ctx *c, uintptr_t va)
{
	size_t lo = 0, hi = c->nwin;

	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;

		if (c->win[mid]->base <= va)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo; /* windows [0, lo) start at or below va */
}

struct awe__window *awe__window_find(struct awe__ctx *c, uintptr_t va)
{
	size_t i;
	struct awe__window *w = c->last_win;

	/* Most programs map into one window call after call. */
	if (w && va - w->base < (w->npages << c->page_shift))
		return w;
	i = lower_bound(c, va);
	if (i == 0)
		return NULL;
	w = c->win[i - 1];
	if (va - w->base >= (w->npages << c->page_shift))
		return NULL;
	c->last_win = w;
	return w;
}

void awe__windows_fini(struct awe__ctx *c)
{
	for (size_t i = 0; i < c->nwin; i++) {
		free(c->win[i]->slot);
		free(c->win[i]->aside);
		free(c->win[i]);
	}
	free(c->win);
}

static int table_insert(struct awe__ctx *c, struct awe__window *w)
{
	size_t i;

	if (c->nwin == c->win_cap) {
		size_t n = c->win_cap ? c->win_cap * 2 : 16;
		struct awe__window **p = realloc(c->win, n * sizeof(*p));

		if (!p)
			return -ENOMEM;
		c->win = p;
		c->win_cap = n;
	}
	i = lower_bound(c, w->base);
	memmove(&c->win[i + 1], &c->win[i], (c->nwin - i) * sizeof(*c->win));
	c->win[i] = w;
	c->nwin++;
	return 0;
}

int awe_window_create(size_t size, void *hint, unsigned int flags, void **base)
{
	struct awe__ctx *c;
	struct awe__window *w;
	bool fixed = flags & AWE_WINDOW_FIXED;
	uintptr_t b;
	size_t len;
	int r;

	if (!base)
		return awe__ret(-EFAULT);
	if (size == 0 || (flags & ~(unsigned int)AWE_WINDOW_FIXED) || (fixed && !hint))
		return awe__ret(-EINVAL);
	r = awe__enter(&c);
	if (r)
		return awe__ret(r);
	r = -EINVAL;
	if (size > SIZE_MAX - c->page)
		goto out;
	len = (size + c->page - 1) & ~(c->page - 1);
	r = -ENOMEM;
	w = calloc(1, sizeof(*w));
	if (!w)
		goto out;
	w->npages = len >> c->page_shift;
	/* calloc of a large table comes from fresh mmap pages, so a huge window
	 * costs memory only for the part of the table that is used. */
	w->slot = calloc(w->npages, sizeof(*w->slot));
	if (!w->slot)
		goto out_free;
	r = c->eng->window_reserve(c, awe__page_down(c, (uintptr_t)hint), len, fixed, &b);
	if (r)
		goto out_free;
	w->base = b;
	/* Only a fixed hint far up a 5-level address space gets here. */
	r = awe__loc_fits(c, b, len) ? table_insert(c, w) : -ENOMEM;
	if (r) {
		c->eng->window_release(c, b, len);
		goto out_free;
	}
	c->window_bytes += len;
	*base = (void *)b;
	awe__leave();
	return 0;
out_free:
	if (w)
		free(w->slot);
	free(w);
out:
	awe__leave();
	return awe__ret(r);
}

int awe_window_destroy(void *base)
{
	struct awe__ctx *c;
	struct awe__window *w;
	struct awe__op *ops = NULL;
	size_t n = 0, i;
	int r;

	r = awe__enter(&c);
	if (r)
		return awe__ret(r);
	w = awe__window_find(c, (uintptr_t)base);
	r = -EINVAL;
	if (!w || w->base != (uintptr_t)base)
		goto out;
	if (w->nmapped) {
		r = -ENOMEM;
		ops = malloc(w->nmapped * sizeof(*ops));
		if (!ops)
			goto out;
		for (i = 0; i < w->npages; i++) {
			uint32_t k = w->slot[i];

			if (!k)
				continue;
			ops[n++] = (struct awe__op){
				.va = w->base + (i << c->page_shift),
				.win = w,
				.old = k,
				.oldprot = c->frames[k - 1].prot,
			};
		}
		r = awe__commit(c, ops, n);
		if (r)
			goto out;
	}
	c->eng->window_release(c, w->base, w->npages << c->page_shift);
	c->window_bytes -= w->npages << c->page_shift;
	i = lower_bound(c, w->base) - 1;
	memmove(&c->win[i], &c->win[i + 1], (c->nwin - i - 1) * sizeof(*c->win));
	c->nwin--;
	if (c->last_win == w)
		c->last_win = NULL;
	free(w->slot);
	free(w->aside);
	free(w);
	r = 0;
out:
	awe__leave();
	free(ops);
	return awe__ret(r);
}

int awe_query(const void *addr, struct awe_page_info *info)
{
	struct awe__ctx *c;
	struct awe__window *w;
	int r;

	if (!info)
		return awe__ret(-EFAULT);
	r = awe__enter(&c);
	if (r)
		return awe__ret(r);
	w = awe__window_find(c, (uintptr_t)addr);
	if (w) {
		uint32_t k = w->slot[awe__slot_of(c, w, (uintptr_t)addr)];

		info->frame = k ? awe__frame_number(c, k - 1) : 0;
		info->prot = k ? c->frames[k - 1].prot : AWE_PROT_NONE;
		info->window = (void *)w->base;
		info->window_size = w->npages << c->page_shift;
	}
	awe__leave();
	return awe__ret(w ? 0 : -EINVAL);
}
