/* SPDX-License-Identifier: MIT */
/*
 * Where user memory can be: from vm.mmap_min_addr (no mapping may start
 * below it, 64 KiB by default) to the top of the user address space. A
 * pointer argument outside that range cannot be read or written, so it is
 * refused with EFAULT (Windows: ERROR_NOACCESS) before anything is touched,
 * with two compares and no system call. Both libraries compile this room.
 */
#ifndef AWE_UADDR_H
#define AWE_UADDR_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "common.h"

struct awe__uaddr {
	uintptr_t lo; /* the lowest address a mapping may have */
	uintptr_t hi; /* one past the highest user address */
};

AWE__HIDDEN extern struct awe__uaddr awe__uaddr;

/* Read the range; once, before the first check. */
AWE__HIDDEN void awe__uaddr_init(void);

/* Whether [@p, @p + @len) can be user memory; NULL is not. */
static inline bool awe__uaddr_ok(const void *p, size_t len)
{
	uintptr_t a = (uintptr_t)p;

	return a >= awe__uaddr.lo && a < awe__uaddr.hi && len <= awe__uaddr.hi - a;
}

/* The same for an array of @n elements of @size bytes. */
static inline bool awe__uaddr_array_ok(const void *p, size_t n, size_t size)
{
	return n <= SIZE_MAX / size && awe__uaddr_ok(p, n * size);
}

#endif
