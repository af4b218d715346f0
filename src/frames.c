/* SPDX-License-Identifier: MIT */
/*
 * The frame pool: frame numbers, the frame table, allocation and freeing.
 *
 * A frame number is (generation << 32) | (table index + 1): never 0, cheap to
 * check, dense in its low half, and a freed number stays invalid because the
 * slot's generation moves on. A slot whose generation is used up (2^20 reuses)
 * is retired rather than reused, so numbers are never reused for another
 * frame.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "internal.h"
#include "sysfacts.h"
#include "uaddr.h"

#define MAX_FRAMES 0xfffffffeu /* index + 1 must fit the low 32 bits */
#define BATCH 2048u	       /* frames per engine call */
#define FREE_BATCH 256u	       /* frames per unmap and discard of a free */
#define DYING 3		       /* being freed in the current awe_free() call */

void awe__frames_fini(struct awe__ctx *c)
{
	free(c->frames);
}

static int grow(void **p, uint32_t *cap, uint32_t need, size_t elem)
{
	uint32_t n = *cap ? *cap : 1024;
	void *q;

	if (need <= *cap)
		return 0;
	while (n < need)
		n = n > MAX_FRAMES / 2 ? MAX_FRAMES : n * 2;
	q = realloc(*p, (size_t)n * elem);
	if (!q)
		return -ENOMEM;
	*p = q;
	*cap = n;
	return 0;
}

/* Pick up to @n unused table slots into @idx; returns how many. Free slots
 * are chained through their loc field, so freeing never allocates. */
static uint32_t take_slots(struct awe__ctx *c, uint32_t *idx, uint32_t n)
{
	uint32_t got = 0;

	while (got < n && c->free_head) {
		uint32_t i = c->free_head - 1;

		c->free_head = (uint32_t)c->frames[i].loc;
		idx[got++] = i;
	}
	if (got < n) {
		uint32_t more = n - got;

		if (more > MAX_FRAMES - c->nframes)
			more = MAX_FRAMES - c->nframes;
		if (grow((void **)&c->frames, &c->frames_cap, c->nframes + more,
			 sizeof(*c->frames)))
			more = c->frames_cap - c->nframes;
		for (uint32_t i = 0; i < more; i++) {
			memset(&c->frames[c->nframes], 0, sizeof(*c->frames));
			idx[got++] = c->nframes++;
		}
	}
	return got;
}

static void push_free(struct awe__ctx *c, uint32_t i)
{
	c->frames[i].state = AWE__FRAME_FREE;
	c->frames[i].loc = c->free_head;
	c->free_head = i + 1;
}

/* Put a freed frame's table slot back for reuse, or retire it for good. */
static void put_slot(struct awe__ctx *c, uint32_t i)
{
	struct awe__frame *f = &c->frames[i];

	if (f->gen == (1u << AWE__GEN_BITS) - 1) {
		f->state = AWE__FRAME_RETIRED;
		return;
	}
	f->gen++;
	push_free(c, i);
}

/* Pages the kernel can still hand out without pushing the host or the
 * process's memory cgroups into reclaim trouble or the OOM killer: Windows
 * answers a request it cannot meet with fewer pages, and Linux would rather
 * kill someone than fail an allocation. With no descriptor left to read it
 * (sysfacts.c), the last reading stays, less what was allocated since,
 * lowered to the host's free memory, which needs no descriptor: never more. */
int awe__frames_measure(struct awe__ctx *c)
{
	struct timespec now;
	uint64_t bytes;
	int r = awe__mem_available(&bytes);

	if (r == 0) {
		clock_gettime(CLOCK_MONOTONIC_COARSE, &now);
		c->avail_stamp = now.tv_sec;
		c->avail_pages = bytes >> c->page_shift;
	} else if ((bytes >> c->page_shift) < c->avail_pages) {
		c->avail_pages = bytes >> c->page_shift;
	}
	return r;
}

/* Measuring reads /proc and /sys, far slower than a small allocation: trust
 * a recent reading, less what was allocated since, unless the request does
 * not fit in it. */
static uint64_t available(struct awe__ctx *c, size_t want)
{
	struct timespec now;

	clock_gettime(CLOCK_MONOTONIC_COARSE, &now);
	if (want > c->avail_pages || now.tv_sec != c->avail_stamp)
		awe__frames_measure(c);
	return c->avail_pages;
}

/* Whether the machine has several NUMA nodes, looked at once. */
static bool numa_multi(struct awe__ctx *c)
{
	if (!c->numa_multi)
		c->numa_multi = (AWE__TEST_NODES() ? AWE__TEST_NODES() > 1 : awe__numa_multi()) + 1;
	return c->numa_multi == 2;
}

ssize_t awe__frames_alloc(struct awe__ctx *c, struct awe__section *sec, awe_frame_t *frames,
			  size_t count, int node, bool large)
{
	struct awe__eng *e = sec ? &sec->eng : &c->eng;
	/* Availability is counted in small pages. */
	unsigned int sh = large ? awe__large_shift() - c->page_shift : 0;
	uint32_t idx[BATCH];
	uint64_t home[BATCH];
	size_t done = 0, want;
	uint64_t avail;
	ssize_t err = 0;
	bool pooled, placed;

	if (count == 0)
		return 0;
	if (count > (SIZE_MAX >> (c->page_shift + sh)))
		return -EINVAL;
	/* Here, with libawe started: no once-check. */
	if (!awe__uaddr_array_ok(frames, count, sizeof(*frames)))
		return -EFAULT;
	if (large && !sec) {
		err = awe__large_eng(c, &e);
		if (err)
			return err;
	}
	/* A hugetlb pool is memory set aside: what it lacks, it says. */
	pooled = e->ops->pooled && e->ops->pooled(e->data);
	avail = pooled ? count : available(c, count << sh) >> sh;
	/* Copying a page in (uffd_copy.c) would put it where the mapping
	 * thread runs. */
	placed = node >= 0 && numa_multi(c);
	want = count < avail ? count : (size_t)avail;
	while (done < want) {
		uint32_t n = want - done > BATCH ? BATCH : (uint32_t)(want - done);
		uint32_t got = take_slots(c, idx, n);
		ssize_t k = got ? e->ops->alloc(e->data, idx, home, got, node) : -ENOMEM;

		if (k < 0) {
			err = k;
			k = 0;
		}
		for (uint32_t i = 0; i < got; i++) {
			struct awe__frame *f = &c->frames[idx[i]];

			if (i < (uint32_t)k) {
				f->state = AWE__FRAME_OWNED;
				f->mapped = 0;
				f->prot = 0;
				f->sec = sec != NULL;
				f->large = large;
				f->placed = placed;
				f->loc = sec ? sec->id : home[i];
				frames[done + i] = awe__frame_number(c, idx[i]);
			} else {
				/* Never handed out: keep its generation. */
				push_free(c, idx[i]);
			}
		}
		done += (size_t)k;
		c->allocated += (uint64_t)k;
		if (!pooled)
			c->avail_pages -= (uint64_t)k << sh;
		if (sec)
			sec->nframes += (uint64_t)k;
		if ((uint32_t)k < n)
			break;
	}
	if (done == 0)
		return err ? err : -ENOMEM;
	return (ssize_t)done;
}

void awe__frame_forget(struct awe__ctx *c, uint32_t i)
{
	c->frames[i].sec = 0;
	c->frames[i].large = 0;
	c->frames[i].placed = 0;
	c->allocated--;
	put_slot(c, i);
}

/* Give a batch of frames back: take them off every slot first, all or
 * nothing (a section frame may be shown in several windows, and is taken
 * off all of them, as Windows does), then let the engine release their
 * pages. Returns how many went, a prefix; the rest stay allocated. The
 * kernel may refuse the unmap (with memfd maps, when the process is out of
 * mappings) or a release, and then no frame is reported gone whose page is
 * still reachable. */
static size_t drop_batch(struct awe__ctx *c, struct awe__section *sec, const uint32_t *idx,
			 size_t n, int *err)
{
	struct awe__eng *e = sec ? &sec->eng : awe__own_eng(c, &c->frames[idx[0]]);
	uint64_t home[FREE_BATCH];
	size_t k, j;

	*err = awe__unmap_frames(c, sec, idx, n);
	if (*err)
		return 0;
	for (size_t i = 0; i < n; i++)
		home[i] = awe__frame_home(c, idx[i]);
	for (k = 0; k < n; k = j) {
		j = AWE__RUN_END(home, k, n);
		if (AWE__INJECT(fail_discard) || e->ops->discard(e->data, home[k], j - k))
			break;
	}
	if (k < n)
		*err = -EIO;
	for (size_t i = 0; i < k; i++)
		awe__frame_forget(c, idx[i]);
	if (sec)
		sec->nframes -= k;
	if (k)
		awe__frames_trim(c, e, false);
	return k;
}

/* Free frames of the default instance (@sec NULL) or of section @sec, in
 * order, stopping at the first that is not one, or that the kernel does not
 * let go; under the lock. Frames before it are freed (Windows'
 * FreeUserPhysicalPages is not atomic). */
int awe__frames_free(struct awe__ctx *c, struct awe__section *sec, const awe_frame_t *frames,
		     size_t count, size_t *freed)
{
	uint32_t idx[FREE_BATCH];
	size_t n = 0, done = 0, k;
	int r = 0;

	for (size_t i = 0; i <= count; i++) {
		struct awe__frame *f = NULL;
		uint32_t x = 0;

		if (i < count) {
			f = awe__frame_get(c, frames[i], &x);
			if (!f || f->sec != (sec != NULL) || (sec && f->loc != sec->id))
				r = -ENOENT;
			/* One call frees one kind: the first entry's. */
			else if ((frames[i] ^ frames[0]) & AWE_FRAME_LARGE)
				r = -EINVAL;
		}
		if (n && (i == count || r || n == sizeof(idx) / sizeof(idx[0]))) {
			int err;

			k = drop_batch(c, sec, idx, n, &err);
			done += k;
			/* What could not go stays allocated. */
			for (size_t j = k; j < n; j++)
				c->frames[idx[j]].state = AWE__FRAME_OWNED;
			n = 0;
			if (err) {
				r = err;
				break;
			}
		}
		if (i == count || r)
			break;
		/* Marked now so that a second listing of it is rejected. */
		f->state = DYING;
		idx[n++] = x;
	}
	if (freed)
		*freed = done;
	return r;
}

/* The homes of every frame of @e not shown anywhere: the engine may move
 * their pages to give room back, and says where they went. */
bool awe__frames_trim(struct awe__ctx *c, struct awe__eng *e, bool all)
{
	uint32_t *idx;
	uint64_t *home;
	size_t n = 0;

	if (!e->ops->trim || !e->ops->trim_wanted(e->data, all))
		return false;
	/* Only the process's own instances may move pages to give room back:
	 * a section's (memfd) keeps its pages in its file. */
	if (e->ops->trim(e->data, all, NULL, 0) == 0 || (e != &c->eng && e != &c->large))
		return true;
	idx = AWE__INJECT(fail_alloc) ? NULL : malloc(c->allocated * sizeof(*idx));
	home = idx ? malloc(c->allocated * sizeof(*home)) : NULL;
	if (!home) {
		free(idx);
		return false;
	}
	for (uint32_t i = 0; i < c->nframes; i++) {
		const struct awe__frame *f = &c->frames[i];

		if (f->state == AWE__FRAME_OWNED && !f->sec && !f->mapped &&
		    f->large == (e == &c->large) && n < c->allocated) {
			idx[n] = i;
			home[n++] = f->loc;
		}
	}
	e->ops->trim(e->data, all, home, n);
	for (size_t k = 0; k < n; k++)
		c->frames[idx[k]].loc = home[k];
	free(idx);
	free(home);
	return true;
}
