/* SPDX-License-Identifier: MIT */
/*
 * Whether the ioctls the UFFDIO_MOVE engine relies on are allowed, tried
 * once on a range of the probe's own. A kernel that has UFFDIO_MOVE may
 * still refuse it: a seccomp filter can allow userfaultfd(2) and refuse
 * some of its ioctls, with any errno it likes, and then every map would
 * fail. The engine probes at start and falls back to memfd; awe-info
 * compiles this file (with sys.c) to tell the same.
 */
#ifndef AWE_UFFD_PROBE_H
#define AWE_UFFD_PROBE_H

#include <stddef.h>
#include <stdint.h>

#include "common.h"

/*
 * With @fd, a userfaultfd after its UFFDIO_API handshake, on two private
 * anonymous pages (MADV_DONTFORK): UFFDIO_REGISTER (missing pages and
 * write-protection), UFFDIO_COPY of the page at @src into the first,
 * UFFDIO_MOVE of it to the second, UFFDIO_WRITEPROTECT on and off. Returns
 * 0, or -errno of the first call that failed, named in *@call ("mmap",
 * "madvise(MADV_DONTFORK)", "UFFDIO_MOVE", ...). The range is unmapped on
 * every path, and its registration with it.
 */
AWE__HIDDEN int awe__uffd_probe(int fd, size_t page, uintptr_t src, const char **call);

/* The sentence that says @call failed with @err (positive) and what that
 * means, for awe_strerror() and awe-info. */
AWE__HIDDEN void awe__uffd_probe_explain(const char *call, int err, char *buf, size_t len);

#endif
