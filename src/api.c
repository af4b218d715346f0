/* SPDX-License-Identifier: MIT */
/*
 * The native API (awe.h): every public function, and nothing else. Each
 * checks what it can without the lock, enters the context (ctx.c) through
 * one helper, calls the table that does the work, and sets errno in one
 * place. Sections and the process's own frames go through the same table
 * functions: a section is resolved to its pointer here, NULL for the
 * process's own.
 */
#include <errno.h>
#include <string.h>
#include <unistd.h>

#include "internal.h"
#include "sysfacts.h"

/* Public functions return -errno and set errno to match; nothing else in
 * the library writes errno. */
AWE__HOT static inline long ret(long r)
{
	if (r < 0)
		errno = (int)-r;
	return r;
}

/* Run @expr inside the context @c, entered with @enter (awe__enter, or
 * awe__enter_map for the calls that may let go of the lock while moving
 * pages): its value, or the entry's error. */
#define IN_CTX(c, enter, expr)                                                                     \
	({                                                                                         \
		struct awe__ctx *c;                                                                \
		long r_ = enter(&c);                                                               \
		if (!r_) {                                                                         \
			r_ = (expr);                                                               \
			awe__leave();                                                              \
		}                                                                                  \
		r_;                                                                                \
	})

/* The same with the open section @id resolved into @s (-ENOENT when there
 * is none). */
#define IN_SECTION(c, s, id, expr)                                                                 \
	IN_CTX(c, awe__enter, ({                                                                   \
		       struct awe__section *s = awe__section_find(c, id);                          \
		       s ? (long)(expr) : -ENOENT;                                                 \
	       }))

int awe_init(unsigned int flags)
{
	if (flags & ~(unsigned int)AWE_INIT_UNLOCKED)
		return (int)ret(-EINVAL);
	return (int)ret(awe__start(flags));
}

static long alloc_check(awe_frame_t *frames, int node)
{
	if (!frames)
		return -EFAULT;
	if (node < -1 || (node >= 0 && !awe__node_online(node)))
		return -EINVAL;
	return 0;
}

ssize_t awe_alloc_ex(awe_frame_t *frames, size_t count, int node, unsigned int flags)
{
	bool large = flags & AWE_ALLOC_LARGE;
	long r = flags & ~(unsigned int)AWE_ALLOC_LARGE ? -EINVAL
		 : count				? alloc_check(frames, node)
							: 0;

	if (!r && count)
		r = IN_CTX(c, awe__enter, awe__frames_alloc(c, NULL, frames, count, node, large));
	return ret(r);
}

ssize_t awe_alloc_node(awe_frame_t *frames, size_t count, int node)
{
	return awe_alloc_ex(frames, count, node, 0);
}

ssize_t awe_alloc(awe_frame_t *frames, size_t count)
{
	return awe_alloc_node(frames, count, -1);
}

ssize_t awe_section_alloc_node(awe_section_t section, awe_frame_t *frames, size_t count, int node)
{
	long r = count ? alloc_check(frames, node) : 0;

	if (!r && count)
		r = IN_SECTION(c, s, section,
			       awe__frames_alloc(c, s, frames, count, node, s->large));
	return ret(r);
}

ssize_t awe_section_alloc(awe_section_t section, awe_frame_t *frames, size_t count)
{
	return awe_section_alloc_node(section, frames, count, -1);
}

static long free_check(const awe_frame_t *frames, size_t count, size_t *freed)
{
	if (freed && !awe__ptr_ok(freed, 1, sizeof(*freed)))
		return -EFAULT;
	if (freed)
		*freed = 0;
	if (count == 0)
		return -EINVAL;
	if (!frames || !awe__ptr_ok(frames, count, sizeof(*frames)))
		return -EFAULT;
	return 0;
}

int awe_free(const awe_frame_t *frames, size_t count, size_t *freed)
{
	long r = free_check(frames, count, freed);

	if (!r)
		r = IN_CTX(c, awe__enter, awe__frames_free(c, NULL, frames, count, freed));
	return (int)ret(r);
}

int awe_section_free(awe_section_t section, const awe_frame_t *frames, size_t count, size_t *freed)
{
	long r = free_check(frames, count, freed);

	if (!r)
		r = IN_SECTION(c, s, section, awe__frames_free(c, s, frames, count, freed));
	return (int)ret(r);
}

/* The alignment AWE_WINDOW_ALIGN() asks for, 0 for none; SIZE_MAX when it
 * is more than any address space. */
static size_t window_align(unsigned int flags)
{
	unsigned int k = (flags & AWE_WINDOW_ALIGN_MASK) >> AWE_WINDOW_ALIGN_SHIFT;

	return !k ? 0 : k >= 8 * sizeof(size_t) - 1 ? SIZE_MAX : (size_t)1 << k;
}

static long window_check(size_t size, void *hint, unsigned int flags, void **base)
{
	size_t align = window_align(flags);
	/* The hint names its page (a large one for large slots), as every
	 * address does: an alignment up to the page size changes nothing, with
	 * AWE_WINDOW_FIXED too. */
	size_t page = (flags & AWE_WINDOW_LARGE) && awe__large_page()
			      ? awe__large_page()
			      : (size_t)sysconf(_SC_PAGESIZE);
	uintptr_t at = (uintptr_t)hint & ~(uintptr_t)(page - 1);

	if (!awe__ptr_ok(base, 1, sizeof(*base)))
		return -EFAULT;
	if (size == 0 ||
	    (flags &
	     ~(unsigned int)(AWE_WINDOW_FIXED | AWE_WINDOW_LARGE | AWE_WINDOW_ALIGN_MASK)) ||
	    ((flags & AWE_WINDOW_FIXED) && !hint) || align == SIZE_MAX ||
	    ((flags & AWE_WINDOW_FIXED) && align && (at & (align - 1))))
		return -EINVAL;
	return 0;
}

/* A window; one the kernel would not let be locked gets a second try after
 * the engine gives back spare locked room (engine.h trim()). */
static long window_create(struct awe__ctx *c, struct awe__section *s, size_t size, void *hint,
			  unsigned int flags, void **base)
{
	bool fixed = flags & AWE_WINDOW_FIXED, large = flags & AWE_WINDOW_LARGE;
	size_t align = window_align(flags);
	int r;

	/* A section's frames say what its windows' slots are. */
	if (s && large && !s->large)
		return -EINVAL;
	large = s ? s->large : large;
	r = awe__window_create(c, s, size, hint, align, fixed, large, base);
	/* Room is given back by the instance the window belongs to. */
	if (r == -EPERM && awe__frames_trim(c, s ? &s->eng : large ? &c->large : &c->eng, true))
		r = awe__window_create(c, s, size, hint, align, fixed, large, base);
	return r;
}

int awe_window_create(size_t size, void *hint, unsigned int flags, void **base)
{
	long r = window_check(size, hint, flags, base);

	if (!r)
		r = IN_CTX(c, awe__enter, window_create(c, NULL, size, hint, flags, base));
	return (int)ret(r);
}

int awe_section_window_create(awe_section_t section, size_t size, void *hint, unsigned int flags,
			      void **base)
{
	long r = window_check(size, hint, flags, base);

	if (!r)
		r = IN_SECTION(c, s, section, window_create(c, s, size, hint, flags, base));
	return (int)ret(r);
}

/* Take every frame off the window at @base, release it, and let a closed
 * section go with its last window. */
static int window_destroy(struct awe__ctx *c, uintptr_t base)
{
	struct awe__window *w = awe__window_find(c, base);
	struct awe__section *s;
	int r;

	if (!w || w->ew.base != base)
		return -EINVAL;
	r = awe__unmap_window(c, w);
	if (r)
		return r;
	s = w->sec;
	awe__window_remove(c, w);
	if (s)
		awe__section_window_gone(c, s);
	return 0;
}

int awe_window_destroy(void *base)
{
	return (int)ret(IN_CTX(c, awe__enter, window_destroy(c, (uintptr_t)base)));
}

/* awe_map() and awe_unmap(): a range of slots. */
static int map_range(struct awe__req *q)
{
	if (q->count == 0)
		return 0;
	if (!q->va)
		return (int)ret(-EFAULT);
	return (int)ret(IN_CTX(c, awe__enter_map, awe__map(c, q)));
}

/* awe_map_scatter() and awe_unmap_scatter(): a list of slots. */
static inline int map_list(struct awe__req *q)
{
	if (q->count == 0)
		return 0;
	/* 2^32 addresses would be 32 GiB of them; the ops' seq is 32 bits. */
	if (q->count > UINT32_MAX)
		return (int)ret(-EINVAL);
	return (int)ret(IN_CTX(c, awe__enter_map, awe__map_scatter(c, q)));
}

int awe_map(void *addr, size_t count, const awe_frame_t *frames)
{
	return map_range(
		&(struct awe__req){.va = (uintptr_t)addr, .count = count, .frames = frames});
}

AWE__HOT int awe_map_scatter(void *const *addrs, size_t count, const awe_frame_t *frames)
{
	return map_list(&(struct awe__req){.addrs = addrs, .count = count, .frames = frames});
}

/* An unknown flag is refused first, also with a count of 0 (awe.h). */
int awe_unmap(void *addr, size_t count, unsigned int flags)
{
	if (flags & ~(unsigned int)AWE_UNMAP_EXCLUSIVE)
		return (int)ret(-EINVAL);
	return map_range(&(struct awe__req){.va = (uintptr_t)addr, .count = count, .flags = flags});
}

int awe_unmap_scatter(void *const *addrs, size_t count, unsigned int flags)
{
	if (flags & ~(unsigned int)AWE_UNMAP_EXCLUSIVE)
		return (int)ret(-EINVAL);
	return map_list(&(struct awe__req){.addrs = addrs, .count = count, .flags = flags});
}

int awe_protect(void *addr, size_t count, int prot, int *old)
{
	struct awe__req q = {.va = (uintptr_t)addr, .count = count, .prot = prot};
	long r;

	if (prot != AWE_PROT_NONE && prot != AWE_PROT_READ && prot != AWE_PROT_READWRITE)
		return (int)ret(-EINVAL);
	if (count == 0)
		return 0;
	if (!addr || (old && !awe__ptr_ok(old, 1, sizeof(*old))))
		return (int)ret(-EFAULT);
	r = IN_CTX(c, awe__enter, awe__protect(c, &q));
	/* Reported only on success: a failed call leaves everything alone. */
	if (!r && old)
		*old = q.first;
	return (int)ret(r);
}

static int query(struct awe__ctx *c, uintptr_t va, struct awe_page_info *info)
{
	struct awe__window *w = awe__window_find(c, va);
	size_t s;
	uint32_t k;

	if (!w)
		return -EINVAL;
	s = awe__slot_of(c, w, va);
	k = w->slot[s];
	info->frame = k ? awe__frame_number(c, k - 1) : 0;
	info->prot = k ? awe__slot_prot(c, w, s) : AWE_PROT_NONE;
	info->window = (void *)w->ew.base;
	info->window_size = w->ew.npages << w->sh;
	return 0;
}

int awe_query(const void *addr, struct awe_page_info *info)
{
	if (!awe__ptr_ok(info, 1, sizeof(*info)))
		return (int)ret(-EFAULT);
	return (int)ret(IN_CTX(c, awe__enter, query(c, (uintptr_t)addr, info)));
}

/* Under the lock: the table may move as soon as it is let go. A section
 * frame may be at several addresses: awe_query() tells. */
static int frame_addr(struct awe__ctx *c, awe_frame_t frame, void **addr)
{
	struct awe__frame *f = awe__frame_get(c, frame, NULL);

	if (!f)
		return -ENOENT;
	if (f->sec)
		return -EINVAL;
	*addr = (void *)awe__frame_va(c, f);
	return 0;
}

int awe_frame_addr(awe_frame_t frame, void **addr)
{
	long r;

	if (!awe__ptr_ok(addr, 1, sizeof(*addr)))
		return (int)ret(-EFAULT);
	r = IN_CTX(c, awe__enter, frame_addr(c, frame, addr));
	awe__hook(AWE__HOOK_FRAME_ADDR);
	return (int)ret(r);
}

/* Where the page of @frame is: its engine asks the kernel, given its home,
 * or the slot showing it. */
static int frame_node(struct awe__ctx *c, awe_frame_t frame, int *node)
{
	struct awe__frame *f;
	struct awe__section *s = NULL;
	struct awe__window *w = NULL;
	struct awe__eng *e;
	uint32_t i;
	int r;

	f = awe__frame_get(c, frame, &i);
	if (!f)
		return -ENOENT;
	if (f->sec)
		s = awe__section_any(c, (uint32_t)f->loc);
	e = s ? &s->eng : awe__own_eng(c, f);
	if (f->mapped)
		w = awe__window_find(c, awe__frame_va(c, f));
	r = e->ops->page_node(e->data, i, awe__frame_home(c, i), w ? &w->ew : NULL,
			      awe__frame_va(c, f));
	/* Every frame is resident: a page the kernel cannot find was refused
	 * to us, like a page a move is refused. */
	if (r == -ENOENT || r == -EFAULT)
		r = -EIO;
	if (r >= 0)
		*node = r;
	return r < 0 ? r : 0;
}

int awe_frame_node(awe_frame_t frame, int *node)
{
	if (!awe__ptr_ok(node, 1, sizeof(*node)))
		return (int)ret(-EFAULT);
	return (int)ret(IN_CTX(c, awe__enter, frame_node(c, frame, node)));
}

int awe_section_create(unsigned int flags, awe_section_t *section)
{
	if (!awe__ptr_ok(section, 1, sizeof(*section)))
		return (int)ret(-EFAULT);
	if (flags & ~(unsigned int)AWE_SECTION_LARGE)
		return (int)ret(-EINVAL);
	return (int)ret(
		IN_CTX(c, awe__enter, awe__section_create(c, flags & AWE_SECTION_LARGE, section)));
}

int awe_section_close(awe_section_t section)
{
	return (int)ret(IN_SECTION(c, s, section, (awe__section_close(c, s), 0)));
}

static int stats(struct awe__ctx *c, struct awe_stats *st)
{
	awe__hook(AWE__HOOK_STATS);
	memset(st, 0, sizeof(*st));
	st->frames_allocated = c->allocated;
	st->frames_mapped = c->mapped;
	st->windows = c->nwin;
	st->window_bytes = c->window_bytes;
	st->memlock_limit = awe__memlock_limit();
	st->engine = c->eng.ops->name;
	st->engine_reason = c->engine_reason;
	st->locked = c->locked;
	/* The memfd engine's budget is process-wide: any memfd instance tells
	 * it, and it reads the limit again as it counts. */
	awe__max_map_count(&st->max_map_count);
	c->eng.ops->stats(c->eng.data, st);
	if (c->large.ops)
		c->large.ops->stats(c->large.data, st);
	if (c->eng.ops != &awe__engine_memfd && c->nsec) {
		struct awe_stats sec = {0};

		c->sec[0]->eng.ops->stats(c->sec[0]->eng.data, &sec);
		st->max_map_count = sec.max_map_count;
		st->vmas_worst = sec.vmas_worst;
	}
	return 0;
}

int awe_stats(struct awe_stats *st)
{
	if (!awe__ptr_ok(st, 1, sizeof(*st)))
		return (int)ret(-EFAULT);
	return (int)ret(IN_CTX(c, awe__enter, stats(c, st)));
}

int awe_probe(struct awe_probe *p)
{
	struct awe__ctx *c;
	long r;

	if (!awe__ptr_ok(p, 1, sizeof(*p)))
		return (int)ret(-EFAULT);
	r = awe__enter_bare(&c);
	if (!r) {
		r = awe__probe(c, p);
		awe__leave();
	}
	return (int)ret(r);
}

const char *awe_version(void)
{
	return AWE_VERSION;
}

size_t awe_page_size(void)
{
	return (size_t)sysconf(_SC_PAGESIZE);
}
