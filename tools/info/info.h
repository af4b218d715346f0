// SPDX-License-Identifier: MIT
/*
 * awe-info's findings, shared by its files:
 *
 *   main.c      options, --version and --help, the exit status
 *   probe.c     the facts: userfaultfd, limits, memory, libawe's own
 *               awe_probe() and a frame mapped and unmapped
 *   capacity.c  how much of frames and windows this process could have now
 *   win32.c     whether libawe-win32 grants SeLockMemoryPrivilege, asked
 *               through its own API
 *   verdict.c   the one-line verdict and the AWE_ENGINE check
 *   text.c      the report as text
 *   json.c      the report as one JSON object
 */
#ifndef AWE_INFO_H
#define AWE_INFO_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/resource.h>
#include <sys/utsname.h>

#include <awe.h>

#include "huge.h"
#include "sysfacts.h"
#include "win32/token.h"

#define ARRAY_SIZE(a) (sizeof(a) / sizeof((a)[0]))

/* What awe-info finds libawe could have now (capacity.c). */
struct capacity {
	bool known; /* awe_probe() answered (else the rest is 0) */
	/* Bytes of frames awe_alloc() could give now, and of those, how many
	 * windows could show at once: less where the engine locks window space
	 * too (uffd-move, locked mode). Whole pages; 0 with no engine. */
	uint64_t frames, shown;
	/* What bounds @frames: the lock room, or the memory available (the
	 * host's or a memory cgroup's, awe__mem_explain() says which). */
	bool by_memlock;
	/* The engine locks its windows (uffd-move, locked mode): they take the
	 * lock room with the frames; @windows is that room (UINT64_MAX: no
	 * limit). Otherwise windows need only address space. */
	bool windows_locked;
	uint64_t windows;
	/* The memfd engine: slots that could be mapped at once however
	 * scattered, under vm.max_map_count (libawe's own budget, memfd_vma.c);
	 * 0 when not known or not the memfd engine. */
	uint64_t scattered;
};

/* libawe-win32's answer on SeLockMemoryPrivilege (win32.c). */
enum w32_why {
	W32_CAP,	/* CAP_IPC_LOCK */
	W32_UNLIMITED,	/* RLIMIT_MEMLOCK unlimited */
	W32_LIMIT,	/* RLIMIT_MEMLOCK at least W32_HELD_MEMLOCK */
	W32_UNLOCKED,	/* LIBAWE_UNLOCKED=1 */
	W32_NONE,	/* none of these: not held */
	W32_UNEXPLAINED /* the layer's answer and these facts disagree */
};

struct w32 {
	int held;	     /* 1 held, 0 not, -1 the layer could not be asked */
	bool enabled;	     /* held and enabled at start (LIBAWE_WIN32_LOCK_PRIVILEGE=1) */
	const char *call;    /* when held < 0: the call that failed */
	unsigned long error; /* and its GetLastError() */
	enum w32_why why;
};

/* The RLIMIT_MEMLOCK from which the layer grants the privilege
 * (AWE__W32_HELD_MEMLOCK). Only the reason is worded with it; the verdict is
 * the layer's own answer, and tools/tests check that the two agree. */
#define W32_HELD_MEMLOCK AWE__W32_HELD_MEMLOCK

struct probe {
	struct utsname uts;
	const char *version;	/* awe_version() of the library loaded */
	char lib_path[4096];	/* the file it was loaded from, "" when unknown */
	const char *engine_env; /* AWE_ENGINE, NULL when unset or empty */
	bool engine_env_bogus;	/* ... and libawe takes no engine of that name */

	int uffd_err;	     /* errno of userfaultfd(2), 0 when it worked */
	bool user_mode_only; /* ... and it accepted UFFD_USER_MODE_ONLY */
	int api_err;	     /* errno of UFFDIO_API, 0 when it worked */
	uint64_t features;
	/* The engine's ioctls on a test range: 1 all allowed, 0 one failed,
	 * -1 not tried (a feature is missing). */
	int ioctls;
	const char *ioctl_call; /* the one that failed */
	int ioctl_err;		/* and its errno */

	long unprivileged_uffd; /* -1: unknown */
	long map_count;		/* mappings this process has now, -1: unknown */
	struct rlimit memlock;
	const char *env_unlocked;
	int membarrier; /* MEMBARRIER_CMD_PRIVATE_EXPEDITED: 1 yes, 0 no, -1 unknown */
	int drop_err;	/* process_madvise(MADV_DONTNEED_LOCKED) on itself: 0 or errno */
	int mem_rc;	/* of awe__mem_explain() */
	struct awe__mem_why mem;
	char memcg[2][AWE__PATH_BUF]; /* v1's memory cgroup, the v2 cgroup; "" when none */
	bool pmd_size;		      /* the large page size is THP's hpage_pmd_size */
	struct awe__huge huge;	      /* the huge page settings behind large frames */

	int probe_rc;	     /* of awe_probe(), before libawe starts */
	struct awe_probe pr; /* its findings */
	struct capacity cap;
	struct w32 w32;
	int init_rc;
	int stats_rc;
	struct awe_stats st;
	const char *smoke_call; /* the libawe call that failed, NULL when all worked */
	int smoke_rc;
};

/* The userfaultfd features libawe needs, with what each is for. */
struct feature_name {
	const char *name;
	uint64_t bit;
	const char *why;
};
extern const struct feature_name info_features[3];

/* The values AWE_ENGINE takes (src/engine/select.c), as one phrase. */
extern const char *const info_engine_values[2];
#define ENGINE_VALUES_TEXT "uffd or memfd (unset or empty: libawe chooses)"

void info_probe_all(struct probe *p);
/* 1 or 0 when the kernel said whether it has the feature, -1 when it could not be asked. */
int info_feature(const struct probe *p, uint64_t bit);

void info_capacity(struct probe *p);
void info_w32(struct probe *p);

/* The one-line verdict, in @buf or a constant. */
const char *info_verdict(const struct probe *p, char *buf, size_t len);
/* The sentence on a bogus AWE_ENGINE, in @buf. */
const char *info_engine_error(const struct probe *p, char *buf, size_t len);
/* Whether libawe works here: every call of the one-frame check passed. */
static inline bool info_works(const struct probe *p)
{
	return !p->smoke_call;
}
/* A memory cgroup level, not the host, limits allocations most. */
bool info_cgroup_limits(const struct probe *p);
/* Why libawe-win32 holds SeLockMemoryPrivilege or not, as a phrase. */
const char *info_w32_reason(const struct probe *p, char *buf, size_t len);

/* Sizes: exact ("8 MiB", "8180 KiB", "unlimited" for RLIM_INFINITY and
 * UINT64_MAX), and rounded ("22.2 GiB") for memory that moves anyway. */
void fmt_limit(uint64_t v, char *buf, size_t len);
void fmt_size(uint64_t v, char *buf, size_t len);
const char *errno_text(int e);

void info_print_text(const struct probe *p);
void info_print_json(const struct probe *p);

#endif
