/* SPDX-License-Identifier: MIT */
/*
 * Helpers of the test_memcap programs (what memory allows, src/os/sysfacts.c):
 * fake /proc and /sys trees under a temporary directory, which the library
 * reads instead of the real ones through awe__test_sysroot (host meminfo,
 * cgroup v1 and v2 levels, /proc/self/cgroup and mountinfo), the checks of
 * what it then finds, and exhaust_fds() for children that must run without
 * a free descriptor.
 */
#ifndef AWE_TEST_MEMCAP_H
#define AWE_TEST_MEMCAP_H

#include "helpers.h"

#include <fcntl.h>
#include <ftw.h>
#include <stdarg.h>
#include <sys/stat.h>

#include "sysfacts.h"

#define MiB ((uint64_t)1 << 20)
#define GiB (1024 * MiB)
#define NONE UINT64_MAX		/* a v2 limit of "max" */
#define ABSENT (UINT64_MAX - 1) /* a file that is not there */

/* --- fake trees ----------------------------------------------------------- */

static char root[64];

static inline void tree_init(void)
{
	strcpy(root, "/tmp/awe-memcap-XXXXXX");
	cr_assert_not_null(mkdtemp(root), "mkdtemp: %s", strerror(errno));
	awe__test_sysroot = root;
}

static inline int rm_entry(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
	(void)st;
	(void)flag;
	(void)ftw;
	remove(path);
	return 0;
}

static inline void tree_fini(void)
{
	awe__test_sysroot = NULL;
	if (root[0])
		nftw(root, rm_entry, 16, FTW_DEPTH | FTW_PHYS);
}

/* Write @path (absolute, under the fake root), creating its directories. */
static inline __attribute__((format(printf, 2, 3))) void put(const char *path, const char *fmt, ...)
{
	char full[512];
	va_list ap;
	FILE *f;

	cr_assert_lt((size_t)snprintf(full, sizeof(full), "%s%s", root, path), sizeof(full));
	for (char *s = full + strlen(root) + 1; (s = strchr(s, '/')); s++) {
		*s = '\0';
		cr_assert(mkdir(full, 0755) == 0 || errno == EEXIST, "mkdir %s: %s", full,
			  strerror(errno));
		*s = '/';
	}
	f = fopen(full, "w");
	cr_assert_not_null(f, "%s: %s", full, strerror(errno));
	va_start(ap, fmt);
	vfprintf(f, fmt, ap);
	va_end(ap);
	cr_assert_eq(fclose(f), 0);
}

static inline void drop(const char *path)
{
	char full[512];

	snprintf(full, sizeof(full), "%s%s", root, path);
	cr_assert_eq(nftw(full, rm_entry, 16, FTW_DEPTH | FTW_PHYS), 0, "removing %s", full);
}

/* Writes @name in @dir with @v, or "max" for NONE; nothing for ABSENT. */
static inline void put_value(const char *dir, const char *name, uint64_t v)
{
	char p[256];

	snprintf(p, sizeof(p), "%s/%s", dir, name);
	if (v == NONE)
		put(p, "max\n");
	else if (v != ABSENT)
		put(p, "%" PRIu64 "\n", v);
}

/* A cgroup v2 level. */
static inline void v2_level(const char *dir, uint64_t max, uint64_t high, uint64_t current,
			    uint64_t inactive_file)
{
	char p[256];

	put_value(dir, "memory.max", max);
	put_value(dir, "memory.high", high);
	put_value(dir, "memory.current", current);
	snprintf(p, sizeof(p), "%s/memory.stat", dir);
	if (inactive_file != ABSENT)
		put(p, "anon 4096\nfile 8192\nactive_anon 4096\ninactive_file %" PRIu64 "\n",
		    inactive_file);
}

/* A cgroup v1 level; its memory.stat has a decoy inactive_file (this
 * level's own): the hierarchy's total_inactive_file is what counts. */
static inline void v1_level(const char *dir, uint64_t limit, uint64_t usage,
			    uint64_t total_inactive)
{
	char p[256];

	put_value(dir, "memory.limit_in_bytes", limit);
	put_value(dir, "memory.usage_in_bytes", usage);
	snprintf(p, sizeof(p), "%s/memory.stat", dir);
	put(p,
	    "cache 0\nrss 0\ninactive_file 999999999999\ntotal_cache 0\ntotal_inactive_file %" PRIu64
	    "\n",
	    total_inactive);
}

#define V1_UNLIMITED 9223372036854771712ull /* what the kernel shows */

#define MOUNT_V2                                                                                   \
	"29 23 0:26 / /sys/fs/cgroup rw,nosuid,nodev,noexec,relatime shared:4 - cgroup2 cgroup2 "  \
	"rw,nsdelegate,memory_recursiveprot\n"
#define MOUNT_V1                                                                                   \
	"35 31 0:32 / /sys/fs/cgroup/memory rw,nosuid,nodev,noexec,relatime shared:15 - cgroup "   \
	"cgroup rw,memory\n"
#define MOUNT_OTHER "22 1 259:1 / / rw,relatime - ext4 /dev/root rw\n"

/* A host with plenty: 64 GiB, 60 GiB available, a 2 GiB reserve. */
#define HOST_ROOM (58 * GiB)

static inline void host_mem(uint64_t total, uint64_t avail)
{
	put("/proc/meminfo",
	    "MemTotal:       %" PRIu64 " kB\nMemFree:        1024 kB\nMemAvailable:   %" PRIu64
	    " kB\nBuffers:            0 kB\n",
	    total / 1024, avail / 1024);
}

static inline void cgroups(const char *proc_self_cgroup, const char *mountinfo)
{
	host_mem(64 * GiB, 60 * GiB);
	put("/proc/self/cgroup", "%s", proc_self_cgroup);
	put("/proc/self/mountinfo", MOUNT_OTHER "%s", mountinfo);
}

static inline uint64_t avail(void)
{
	uint64_t b = 12345;
	int r;

	errno = ERRNO_CANARY;
	r = awe__mem_available(&b);
	cr_assert_eq(errno, ERRNO_CANARY, "awe__mem_available changed errno");
	cr_assert_eq(r, 0, "awe__mem_available: %s", strerror(-r));
	return b;
}

#define assert_avail(want)                                                                         \
	do {                                                                                       \
		uint64_t got_ = avail(), want_ = (want);                                           \
		cr_assert_eq(got_, want_, "%" PRIu64 " bytes (%.3f MiB) allocatable, expected %s", \
			     got_, (double)got_ / MiB, #want);                                     \
	} while (0)

static inline struct awe__mem_why explain(void)
{
	static struct awe__mem_why w;
	int r = awe__mem_explain(&w);

	cr_assert_eq(r, 0, "awe__mem_explain: %s", strerror(-r));
	return w;
}

static inline void assert_limited_by(const char *dir, int version)
{
	struct awe__mem_why w = explain();

	cr_assert_eq(w.cg_version, version, "limited by cgroup v%d, expected v%d", w.cg_version,
		     version);
	if (dir)
		cr_assert_str_eq(w.cg_dir, dir);
}

/* Lower RLIMIT_NOFILE to the lowest free descriptor: every open fails. */
static inline int exhaust_fds(void)
{
	int fd = open("/dev/null", O_RDONLY | O_CLOEXEC);
	struct rlimit rl;

	if (fd < 0 || close(fd) || getrlimit(RLIMIT_NOFILE, &rl))
		return -1;
	rl.rlim_cur = (rlim_t)fd;
	if (setrlimit(RLIMIT_NOFILE, &rl))
		return -1;
	return open("/dev/null", O_RDONLY) < 0 && errno == EMFILE ? 0 : -1;
}

#endif /* AWE_TEST_MEMCAP_H */
