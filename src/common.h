/* SPDX-License-Identifier: MIT */
/*
 * What every layer of libawe shares, from the system-call wrappers up: the
 * visibility and hot-path markers, and the detail line of the last error
 * (error.c), which awe_strerror() reads. Nothing here knows a table or an
 * engine.
 */
#ifndef AWE_COMMON_H
#define AWE_COMMON_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define AWE__HIDDEN __attribute__((visibility("hidden")))
/* The path of a map call: kept together in .text.hot. A UFFDIO_MOVE call
 * costs user space its cached translations, so every distinct page a call
 * touches after the move costs a page walk; on a single-page map+unmap pair
 * spreading the path over six pages of code cost 3 %. */
#define AWE__HOT __attribute__((hot))

/* error.c: a sentence awe_strerror(-@err) gives instead of its own, for this
 * thread, until the next detail for that error. */
AWE__HIDDEN void awe__set_detail(int err, const char *detail);

#endif
