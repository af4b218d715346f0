/* SPDX-License-Identifier: MIT */
/*
 * Error sentences: awe_strerror(), and the detail a lower layer leaves for
 * it when the cause depends on the machine (common.h). At the bottom, so
 * that an engine can name what the kernel lacks without calling up.
 */
#include <errno.h>
#include <stdatomic.h>
#include <string.h>

#include "awe.h"
#include "common.h"

/* Errors whose cause depends on the machine keep the precise reason found
 * when they were raised, so awe_strerror() can name the missing feature. */
static _Atomic(const char *) detail_nosys;
static _Atomic(const char *) detail_notsup;

void awe__set_detail(int err, const char *detail)
{
	if (err == ENOSYS)
		atomic_store(&detail_nosys, detail);
	else if (err == EOPNOTSUPP)
		atomic_store(&detail_notsup, detail);
}

const char *awe_strerror(int err)
{
	long e = err < 0 ? -(long)err : err;
	const char *d;

	switch (e) {
	case 0:
		return "success";
	case EINVAL:
		return "invalid argument: a bad flag, protection or count, an address range that "
		       "is not inside a single window, or an AWE_ENGINE other than uffd or memfd";
	case EFAULT:
		return "a pointer argument is NULL, or not all within user memory (below "
		       "vm.mmap_min_addr or beyond the user address space)";
	case ENOENT:
		return "not a frame of this process (never allocated, already freed, or 0), not one "
		       "this window can show (section frames only in windows of their section, "
		       "others only in plain windows), or not a section that is open";
	case EBUSY:
		return "the frame is already mapped (or listed twice), or libawe was already "
		       "initialised with other flags";
	case EEXIST:
		return "the requested window address range is already in use";
	case ENOMEM:
		return "out of memory or address space, or (memfd engine) the mapping would bring "
		       "the process near vm.max_map_count";
	case EPERM:
		return "frames must be locked but this process may not lock more memory: it has "
		       "neither CAP_IPC_LOCK nor room under RLIMIT_MEMLOCK; raise the limit, or opt "
		       "in to unlocked frames with AWE_INIT_UNLOCKED or LIBAWE_UNLOCKED=1";
	case EIO:
		return "the kernel refused to move a page (for example one pinned by in-flight "
		       "I/O); nothing was changed";
	case ENOSYS:
		d = atomic_load(&detail_nosys);
		return d ? d
			 : "userfaultfd(2) is not available: kernel built without it, or blocked "
			   "by seccomp or policy";
	case EOPNOTSUPP:
		d = atomic_load(&detail_notsup);
		return d ? d
			 : "the kernel's userfaultfd lacks a feature libawe needs (UFFDIO_MOVE "
			   "needs Linux 6.8 or later)";
	case ENOTRECOVERABLE:
		return "the kernel failed part of the way and then refused to undo part of it (a "
		       "page pinned meanwhile): some slots changed; each shows its frame from before "
		       "or after the call or is empty, as awe_query() tells, and no frame is lost";
	case EDEADLK:
		return "called from a signal handler on a thread that was inside a libawe call: "
		       "it would wait for that call, which cannot go on until the handler returns";
	case EMFILE:
	case ENFILE:
		return "no file descriptor left for the engine (its userfaultfd or memfd) or to read "
		       "the system's limits";
	default:
		return "unknown error";
	}
}
