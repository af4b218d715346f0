/* SPDX-License-Identifier: MIT */
/*
 * The section table: AWE sections (Windows 10's CreateFileMapping2 with
 * MemSectionExtendedParameterUserPhysicalFlags), containers of frames that
 * may be shown at several addresses at once, in windows tied to them. A
 * section's frames are pages of a memfd instance of its own, whatever the
 * default engine is, because only shared pages can be in two places.
 *
 * Lifetime follows Windows' section object: closing the handle ends the
 * right to allocate, free and tie new windows; the section and its frames
 * live on while a window is tied to it.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "internal.h"
#include "table.h"

static uintptr_t sec_key(const void *s)
{
	return (*(struct awe__section *const *)s)->id;
}

static size_t sec_at(const struct awe__ctx *c, uint32_t id)
{
	return awe__table_find(c->sec, c->nsec, sizeof(*c->sec), id, sec_key, false);
}

struct awe__section *awe__section_find(struct awe__ctx *c, awe_section_t id)
{
	size_t i = sec_at(c, id);

	if (i == c->nsec || c->sec[i]->id != id || c->sec[i]->closed)
		return NULL;
	return c->sec[i];
}

struct awe__section *awe__section_any(struct awe__ctx *c, uint32_t id)
{
	size_t i = sec_at(c, id);

	return i < c->nsec && c->sec[i]->id == id ? c->sec[i] : NULL;
}

int awe__section_create(struct awe__ctx *c, bool large, awe_section_t *id)
{
	struct awe__eng_conf conf;
	struct awe__section *s;
	int r;

	if (c->last_sec_id == UINT32_MAX)
		return -ENOMEM; /* handles are never reused */
	if (awe__table_room((void **)&c->sec, &c->sec_cap, c->nsec + 1, sizeof(*c->sec), 8))
		return -ENOMEM;
	s = calloc(1, sizeof(*s));
	if (!s)
		return -ENOMEM;
	if (large && !awe__large_page()) {
		free(s);
		return -EOPNOTSUPP;
	}
	awe__ctx_conf(c, large, &conf);
	s->large = large;
	s->eng.ops = &awe__engine_memfd;
	r = s->eng.ops->init(&conf, &s->eng.data);
	if (r) {
		free(s);
		return r;
	}
	/* Ids only grow, so appending keeps the table sorted. */
	s->id = ++c->last_sec_id;
	c->sec[c->nsec++] = s;
	*id = s->id;
	return 0;
}

/* Free every frame of @s (none is shown anywhere any more) and its
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
	s->eng.ops->fini(s->eng.data, forked);
	free(s);
}

static void sec_destroy(struct awe__ctx *c, struct awe__section *s)
{
	size_t at = sec_at(c, s->id); /* before c->nsec changes */

	awe__table_remove(c->sec, c->nsec--, sizeof(*c->sec), at);
	sec_free(c, s, false);
}

void awe__section_close(struct awe__ctx *c, struct awe__section *s)
{
	s->closed = true;
	if (!s->nwindows)
		sec_destroy(c, s);
}

void awe__section_window_gone(struct awe__ctx *c, struct awe__section *s)
{
	if (--s->nwindows == 0 && s->closed)
		sec_destroy(c, s);
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
