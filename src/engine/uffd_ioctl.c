/* SPDX-License-Identifier: MIT */
/*
 * The userfaultfd ioctls as the UFFDIO_MOVE engine uses them: moves that
 * report exactly what moved, write-protection, registration and zero
 * filling. The kernel's quirks are handled here and nowhere else.
 */
#include <sched.h>

#include "uffd.h"

#define EAGAIN_RETRIES 1000

/*
 * Bytes from the start of [dst, dst + len) that UFFDIO_MOVE moved although it
 * did not count them. Linux 6.18 does that when a page it moves is being
 * migrated (compaction migrates mlocked pages too): the move goes through,
 * then the ioctl fails with EEXIST at that very page, moved = -EEXIST. Our
 * destinations are always empty, so a page now at the destination and gone
 * from the source was moved by this call; mincore() tells, page by page.
 */
static size_t moved_uncounted(struct uffd *u, uintptr_t dst, uintptr_t src, size_t len, bool holes)
{
	enum { BATCH = 64 };
	unsigned char in[BATCH], out[BATCH];
	size_t pages = len / u->page, n = 0;

	while (n < pages) {
		size_t k = pages - n < BATCH ? pages - n : BATCH;

		/* mincore() answers per small page: a large frame is asked
		 * about its first one, as it moves whole. */
		if (u->large) {
			k = 1;
			if (awe__sys_mincore(dst + n * u->page, u->base_page, in) ||
			    awe__sys_mincore(src + n * u->page, u->base_page, out))
				break;
		} else if (awe__sys_mincore(dst + n * u->page, k * u->page, in) ||
			   awe__sys_mincore(src + n * u->page, k * u->page, out)) {
			break;
		}
		for (size_t i = 0; i < k; i++, n++)
			if ((out[i] & 1) || (!(in[i] & 1) && !holes))
				return n * u->page;
	}
	return n * u->page;
}

/* Move [src, src + len) to the empty [dst, dst + len); *@done says how many
 * bytes from the start moved, whatever is returned. */
AWE__HOT int awe__uffd_move(struct uffd *u, uintptr_t dst, uintptr_t src, size_t len, bool holes,
			    size_t *done)
{
	int tries = 0;

	*done = 0;
	if (AWE__INJECT(fail_move)) {
		size_t half = (len / 2) & ~(u->page - 1);
		int r = half ? awe__uffd_move(u, dst, src, half, holes, done) : 0;

		return r ? r : -ENOMEM;
	}
	while (*done < len) {
		struct uffdio_move m = {
			.dst = dst + *done,
			.src = src + *done,
			.len = len - *done,
			.mode = holes ? UFFDIO_MOVE_MODE_ALLOW_SRC_HOLES : 0,
		};
		int r = awe__sys_ioctl(u->fd, UFFDIO_MOVE, &m);

		if (r == 0 && AWE__INJECT(misreport_move)) {
			r = -EEXIST;
			m.move = -EEXIST;
		}
		if (r == 0) {
			*done = len;
			break;
		}
		if (m.move > 0)
			*done += (size_t)m.move;
		if (r == -EEXIST || r == -ENOENT) {
			size_t more =
				moved_uncounted(u, dst + *done, src + *done, len - *done, holes);

			if (!more)
				return r;
			*done += more;
			continue;
		}
		/* EAGAIN: a page was busy (its folio lock was contended). */
		if (r != -EAGAIN || ++tries > EAGAIN_RETRIES)
			return r;
		sched_yield();
	}
	return 0;
}

/* Copy [src, src + len) to the empty [dst, dst + len), which installs
 * fresh pages (write-protected with @wp) and flushes nothing; *@done as
 * for awe__uffd_move(). */
AWE__HOT int awe__uffd_copy(struct uffd *u, uintptr_t dst, uintptr_t src, size_t len, bool wp,
			    size_t *done)
{
	int tries = 0;

	*done = 0;
	if (AWE__INJECT(fail_move)) {
		size_t half = (len / 2) & ~(u->page - 1);
		int r = half ? awe__uffd_copy(u, dst, src, half, wp, done) : 0;

		return r ? r : -ENOMEM;
	}
	while (*done < len) {
		struct uffdio_copy cp = {.dst = dst + *done,
					 .src = src + *done,
					 .len = len - *done,
					 .mode = wp ? UFFDIO_COPY_MODE_WP : 0};
		int r = awe__sys_ioctl(u->fd, UFFDIO_COPY, &cp);

		if (r == 0) {
			*done = len;
			break;
		}
		if (cp.copy > 0)
			*done += (size_t)cp.copy;
		if (r != -EAGAIN || ++tries > EAGAIN_RETRIES)
			return r;
	}
	return 0;
}

int awe__uffd_wp(struct uffd *u, uintptr_t va, size_t len, bool on)
{
	struct uffdio_writeprotect wp = {
		.range = {.start = va, .len = len},
		.mode = on ? UFFDIO_WRITEPROTECT_MODE_WP : 0,
	};

	return awe__sys_ioctl(u->fd, UFFDIO_WRITEPROTECT, &wp);
}

/* Register [base, base + len) with the userfaultfd: missing pages always
 * (SIGBUS on an empty slot), write-protection with @wp. Registering a range
 * again only changes its modes. */
int awe__uffd_register(struct uffd *u, uintptr_t base, size_t len, bool wp)
{
	struct uffdio_register reg = {
		.range = {.start = base, .len = len},
		.mode = UFFDIO_REGISTER_MODE_MISSING | (wp ? UFFDIO_REGISTER_MODE_WP : 0),
	};

	return awe__sys_ioctl(u->fd, UFFDIO_REGISTER, &reg);
}

/* Fill the empty [dst, dst + pages) with zero pages; returns how many. */
size_t awe__uffd_fill_zero(struct uffd *u, uintptr_t dst, size_t pages)
{
	size_t len = pages << u->sh, done = 0;

	while (done < len) {
		size_t n = len - done < u->zero_len ? len - done : u->zero_len;
		struct uffdio_copy cp = {.dst = dst + done, .src = u->zero, .len = n};
		int r = awe__sys_ioctl(u->fd, UFFDIO_COPY, &cp);

		if (cp.copy > 0)
			done += (size_t)cp.copy;
		else if (r == 0)
			done += n;
		if (r && r != -EAGAIN)
			break;
	}
	return done >> u->sh;
}
