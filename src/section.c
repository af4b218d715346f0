/* SPDX-License-Identifier: MIT */
/*
 * AWE sections (Windows 10's CreateFileMapping2 with
 * MemSectionExtendedParameterUserPhysicalFlags): a container of frames that
 * may be shown at several addresses at once, in windows tied to it. Its
 * frames are pages of a memfd instance of its own, whatever the default
 * engine is, because only shared pages can be in two places.
 *
 * Lifetime follows Windows' section object: closing the handle ends the
 * right to allocate, free and tie new windows; the section and its frames
 * live on while a window is tied to it.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "engine.h"
#include "internal.h"

static size_t sec_lower_bound(const struct awe__ctx *c, uint32_t id)
{
	size_t lo = 0, hi = c->nsec;

	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;

		if (c->sec[mid]->id < id)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo;
}

/* The open section with handle @id, or NULL. */
static struct awe__section *sec_find(struct awe__ctx *c, awe_section_t id)
{
	size_t i = sec_lower_bound(c, id);

	if (i == c->nsec || c->sec[i]->id != id || c->sec[i]->closed)
		return NULL;
	return c->sec[i];
}

int awe_section_create(unsigned int flags, awe_section_t *section)
{
	struct awe__ctx *c;
	struct awe__section *s = NULL;
	int r;

	if (!awe__ptr_ok(section, 1, sizeof(*section)))
		return awe__ret(-EFAULT);
	if (flags)
		return awe__ret(-EINVAL);
	r = awe__enter(&c);
	if (r)
		return awe__ret(r);
	r = -ENOMEM;
	if (c->last_sec_id == UINT32_MAX)
		goto out; /* handles are never reused */
	if (c->nsec == c->sec_cap) {
		size_t cap = c->sec_cap ? 2 * c->sec_cap : 8;
		struct awe__section **t = realloc(c->sec, cap * sizeof(*t));

		if (!t)
			goto out;
		c->sec = t;
		c->sec_cap = cap;
	}
	s = calloc(1, sizeof(*s));
	if (!s)
		goto out;
	s->eng.ops = &awe__engine_memfd;
	r = s->eng.ops->init(c, &s->eng.data);
	if (r)
		goto out;
	/* Ids only grow, so appending keeps the table sorted. */
	s->id = ++c->last_sec_id;
	c->sec[c->nsec++] = s;
	*section = s->id;
	s = NULL;
out:
	free(s);
	awe__leave();
	return awe__ret(r);
}

/* Free every frame of @sec (none is shown anywhere any more) and its
 * instance: the pages go with the instance's memfd. */
static void sec_free(struct awe__ctx *c, struct awe__section *s, bool forked)
{
	for (uint32_t i = 0; !forked && i < c->nframes && s->nframes; i++) {
		struct awe__frame *f = &c->frames[i];

		if (f->state == AWE__FRAME_OWNED && f->sec && f->loc == s->id) {
			awe__frame_forget(c, i);
			s->nframes--;
		}
	}
	s->eng.ops->fini(c, s->eng.data, forked);
	free(s);
}

void awe__section_destroy(struct awe__ctx *c, struct awe__section *s)
{
	size_t i = sec_lower_bound(c, s->id);

	memmove(&c->sec[i], &c->sec[i + 1], (c->nsec - i - 1) * sizeof(*c->sec));
	c->nsec--;
	sec_free(c, s, false);
}

void awe__sections_fork_child(struct awe__ctx *c)
{
	for (size_t i = 0; i < c->nsec; i++)
		c->sec[i]->eng.ops->fork_child(c->sec[i]->eng.data);
}

void awe__sections_fini(struct awe__ctx *c, bool forked)
{
	for (size_t i = 0; i < c->nsec; i++)
		sec_free(c, c->sec[i], forked);
	free(c->sec);
	c->sec = NULL;
	c->nsec = c->sec_cap = 0;
}

int awe__section_lookup(struct awe__ctx *c, bool in_section, awe_section_t section,
			struct awe__section **out)
{
	*out = in_section ? sec_find(c, section) : NULL;
	return in_section && !*out ? -ENOENT : 0;
}

int awe_section_close(awe_section_t section)
{
	struct awe__ctx *c;
	struct awe__section *s;
	int r = awe__enter(&c);

	if (r)
		return awe__ret(r);
	s = sec_find(c, section);
	if (s) {
		s->closed = true;
		if (!s->nwindows)
			awe__section_destroy(c, s);
	}
	awe__leave();
	return awe__ret(s ? 0 : -ENOENT);
}

ssize_t awe_section_alloc(awe_section_t section, awe_frame_t *frames, size_t count)
{
	return awe__alloc_call(true, section, frames, count, -1);
}

int awe_section_free(awe_section_t section, const awe_frame_t *frames, size_t count, size_t *freed)
{
	return awe__free_call(true, section, frames, count, freed);
}

int awe_section_window_create(awe_section_t section, size_t size, void *hint, unsigned int flags,
			      void **base)
{
	return awe__window_create_call(true, section, size, hint, flags, base);
}

/* Before section frames are freed: take them off every slot of every window
 * of @sec, one all-or-nothing call per window. The frames are marked while
 * the windows are searched. */
int awe__section_unmap_frames(struct awe__ctx *c, struct awe__section *sec, const uint32_t *idx,
			      size_t n)
{
	int r = 0;

	for (size_t i = 0; i < n; i++)
		c->frames[idx[i]].mark = 1;
	for (size_t wi = 0; wi < c->nwin && !r; wi++) {
		struct awe__window *w = c->win[wi];
		struct awe__op *ops;
		size_t nops = 0;

		if (w->sec != sec || !w->nmapped)
			continue;
		ops = malloc(w->nmapped * sizeof(*ops));
		if (!ops) {
			r = -ENOMEM;
			break;
		}
		for (size_t s = 0; s < w->npages; s++) {
			uint32_t k = w->slot[s];

			if (k && c->frames[k - 1].mark)
				ops[nops++] = (struct awe__op){
					.va = w->base + (s << c->page_shift),
					.win = w,
					.old = k,
					.oldprot = w->sprot[s],
				};
		}
		r = awe__commit(c, ops, nops);
		free(ops);
	}
	for (size_t i = 0; i < n; i++)
		c->frames[idx[i]].mark = 0;
	return r;
}
