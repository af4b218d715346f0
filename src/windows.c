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
#include "uaddr.h"

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

AWE__HOT struct awe__window *awe__window_find(struct awe__ctx *c, uintptr_t va)
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

static void window_free(struct awe__window *w)
{
	if (w) {
		free(w->slot);
		free(w->sprot);
		free(w->aside);
	}
	free(w);
}

void awe__windows_fini(struct awe__ctx *c)
{
	for (size_t i = 0; i < c->nwin; i++)
		window_free(c->win[i]);
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

/* Reserve a window of the default instance (@sec NULL) or tied to section
 * @sec; under the lock. */
static int window_create(struct awe__ctx *c, struct awe__section *sec, size_t size, void *hint,
			 unsigned int flags, void **base)
{
	struct awe__window *w;
	bool fixed = flags & AWE_WINDOW_FIXED;
	uintptr_t b;
	size_t len;
	int r;

	/* Larger than user space: never, whatever is free. */
	if (size > awe__uaddr.hi - awe__uaddr.lo)
		return -EINVAL;
	len = (size + c->page - 1) & ~(c->page - 1);
	w = calloc(1, sizeof(*w));
	if (!w)
		return -ENOMEM;
	w->npages = len >> c->page_shift;
	w->sec = sec;
	w->eng = sec ? &sec->eng : &c->eng;
	/* calloc of a large table comes from fresh mmap pages, so a huge window
	 * costs memory only for the part of the table that is used. */
	w->slot = calloc(w->npages, sizeof(*w->slot));
	w->sprot = sec ? calloc(w->npages, sizeof(*w->sprot)) : NULL;
	if (!w->slot || (sec && !w->sprot)) {
		window_free(w);
		return -ENOMEM;
	}
	r = w->eng->ops->window_reserve(c, w->eng->data, awe__page_down(c, (uintptr_t)hint), len,
					fixed, &b);
	if (r) {
		window_free(w);
		return r;
	}
	w->base = b;
	/* Only a fixed hint far up a 5-level address space gets here. */
	r = awe__loc_fits(c, b, len) ? table_insert(c, w) : -ENOMEM;
	if (r) {
		w->eng->ops->window_release(c, w->eng->data, b, len);
		window_free(w);
		return r;
	}
	if (sec)
		sec->nwindows++;
	c->window_bytes += len;
	*base = (void *)b;
	return 0;
}

/* awe_window_create(), and awe_section_window_create() when @in_section. */
int awe__window_create_call(bool in_section, awe_section_t section, size_t size, void *hint,
			    unsigned int flags, void **base)
{
	struct awe__ctx *c;
	struct awe__section *sec;
	int r;

	if (!awe__ptr_ok(base, 1, sizeof(*base)))
		return awe__ret(-EFAULT);
	if (size == 0 || (flags & ~(unsigned int)AWE_WINDOW_FIXED) ||
	    ((flags & AWE_WINDOW_FIXED) && !hint))
		return awe__ret(-EINVAL);
	r = awe__enter(&c);
	if (r)
		return awe__ret(r);
	r = awe__section_lookup(c, in_section, section, &sec);
	if (!r)
		r = window_create(c, sec, size, hint, flags, base);
	awe__leave();
	return awe__ret(r);
}

int awe_window_create(size_t size, void *hint, unsigned int flags, void **base)
{
	return awe__window_create_call(false, 0, size, hint, flags, base);
}

/* Take every frame off @w, release it and forget it; under the lock. */
int awe__window_destroy(struct awe__ctx *c, struct awe__window *w)
{
	struct awe__section *sec = w->sec;
	struct awe__op *ops = NULL;
	size_t n = 0, i;
	int r;

	if (w->nmapped) {
		ops = malloc(w->nmapped * sizeof(*ops));
		if (!ops)
			return -ENOMEM;
		for (i = 0; i < w->npages; i++) {
			uint32_t k = w->slot[i];

			if (!k)
				continue;
			ops[n++] = (struct awe__op){
				.va = w->base + (i << c->page_shift),
				.win = w,
				.old = k,
				.oldprot = awe__slot_prot(c, w, i),
			};
		}
		r = awe__commit(c, ops, n);
		free(ops);
		if (r)
			return r;
	}
	w->eng->ops->window_release(c, w->eng->data, w->base, w->npages << c->page_shift);
	c->window_bytes -= w->npages << c->page_shift;
	i = lower_bound(c, w->base) - 1;
	memmove(&c->win[i], &c->win[i + 1], (c->nwin - i - 1) * sizeof(*c->win));
	c->nwin--;
	if (c->last_win == w)
		c->last_win = NULL;
	window_free(w);
	/* A closed section lives as long as a window is tied to it. */
	if (sec && --sec->nwindows == 0 && sec->closed)
		awe__section_destroy(c, sec);
	return 0;
}

int awe_window_destroy(void *base)
{
	struct awe__ctx *c;
	struct awe__window *w;
	int r;

	r = awe__enter(&c);
	if (r)
		return awe__ret(r);
	w = awe__window_find(c, (uintptr_t)base);
	r = w && w->base == (uintptr_t)base ? awe__window_destroy(c, w) : -EINVAL;
	awe__leave();
	return awe__ret(r);
}

int awe_query(const void *addr, struct awe_page_info *info)
{
	struct awe__ctx *c;
	struct awe__window *w;
	int r;

	if (!awe__ptr_ok(info, 1, sizeof(*info)))
		return awe__ret(-EFAULT);
	r = awe__enter(&c);
	if (r)
		return awe__ret(r);
	w = awe__window_find(c, (uintptr_t)addr);
	if (w) {
		uint32_t k = w->slot[awe__slot_of(c, w, (uintptr_t)addr)];

		info->frame = k ? awe__frame_number(c, k - 1) : 0;
		info->prot = k ? awe__slot_prot(c, w, awe__slot_of(c, w, (uintptr_t)addr))
			       : AWE_PROT_NONE;
		info->window = (void *)w->base;
		info->window_size = w->npages << c->page_shift;
	}
	awe__leave();
	return awe__ret(w ? 0 : -EINVAL);
}
