/* SPDX-License-Identifier: MIT */
/*
 * Spares: parking slots that hold a stale page, left behind by pages copied
 * into windows while other threads run (uffd_copy.c). Kept up to SPARE_MAX,
 * reused by exclusive unmaps, and given back to the kernel half of them at
 * a time in one call, which costs one TLB shootdown however many pages it
 * drops. Below uffd.c, which drops them all when it needs parking back.
 */
#include <string.h>
#include <sys/uio.h>

#include "uffd.h"

bool awe__uffd_present(struct uffd *u, uintptr_t va)
{
	unsigned char v = 0;

	/* One small page: mincore() answers per small page. */
	return awe__sys_mincore(va, u->base_page, &v) || (v & 1);
}

/* Drop the @n pages at @at[] (address order makes runs), in one call where
 * the kernel allows; @iov has room for @n. @unmap: those of an unmap, which
 * the tests' fail_move reaches as it reaches every kernel call of one. */
int awe__uffd_drop(struct uffd *u, const uintptr_t *at, size_t n, struct iovec *iov, bool unmap)
{
	size_t k = 0;

	for (size_t i = 0; i < n; i++) {
		if (k && (uintptr_t)iov[k - 1].iov_base + iov[k - 1].iov_len == at[i])
			iov[k - 1].iov_len += u->page;
		else
			iov[k++] = (struct iovec){(void *)at[i], u->page};
	}
	if (AWE__INJECT(fail_drop) || (unmap && AWE__INJECT(fail_move)))
		return -ENOMEM;
	return awe__sys_drop(u->pidfd, iov, k);
}

void awe__uffd_spares_drop(struct uffd *u, size_t keep)
{
	struct iovec iov[SPARE_MAX / 2];
	size_t n = u->nspare > keep ? u->nspare - keep : 0, done = 0, kept = 0;

	while (done < n) {
		size_t k = n - done < SPARE_MAX / 2 ? n - done : SPARE_MAX / 2;
		bool ok = awe__uffd_drop(u, u->spare + done, k, iov, false) == 0;

		for (size_t i = done; i < done + k; i++) {
			/* A failed batch may have dropped some: those that
			 * still hold a page stay spares. */
			if (ok || !awe__uffd_present(u, u->spare[i]))
				awe__park_release(&u->park, u->spare[i], 1);
			else
				u->spare[kept++] = u->spare[i];
		}
		done += k;
	}
	memmove(u->spare + kept, u->spare + n, (u->nspare - n) * sizeof(*u->spare));
	u->nspare = kept + u->nspare - n;
}

void awe__uffd_spare_put(struct uffd *u, uintptr_t at)
{
	/* Half go at once, one shootdown for them all. Without headroom
	 * (RLIMIT_MEMLOCK), keep a few free slots for the unmaps. */
	if (u->nspare == SPARE_MAX || (u->nspare && awe__park_free(&u->park) < 16))
		awe__uffd_spares_drop(u, u->nspare / 2);
	if (u->nspare < SPARE_MAX) {
		u->spare[u->nspare++] = at;
		return;
	}
	/* Every spare still holds its page (the kernel refused them all):
	 * this one goes alone, or stays taken, out of every count. */
	if (!awe__sys_madvise(at, u->page, MADV_DONTNEED_LOCKED))
		awe__park_release(&u->park, at, 1);
}

void awe__uffd_room(struct uffd *u, size_t n)
{
	if (u->nspare && awe__park_free(&u->park) < n)
		awe__uffd_spares_drop(u, 0);
}
