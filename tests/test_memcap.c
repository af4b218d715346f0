/* SPDX-License-Identifier: MIT */
/*
 * How much memory libawe may still allocate (src/sysfacts.c): the host's
 * MemAvailable and every memory cgroup level, v1 and v2, read from fake
 * /proc and /sys trees through awe__test_sysroot and checked to the byte;
 * what is left when no descriptor is free; and, as root, real memory
 * cgroups with a small limit, in which asking for far more than the limit
 * must give fewer frames instead of getting the process OOM-killed.
 */
#include "helpers.h"

#include <fcntl.h>
#include <ftw.h>
#include <pthread.h>
#include <stdarg.h>
#include <sys/stat.h>
#include <sys/sysinfo.h>

#include "sysfacts.h"

#define MiB ((uint64_t)1 << 20)
#define GiB (1024 * MiB)
#define NONE UINT64_MAX		/* a v2 limit of "max" */
#define ABSENT (UINT64_MAX - 1) /* a file that is not there */

/* --- fake trees ----------------------------------------------------------- */

static char root[64];

static void tree_init(void)
{
	strcpy(root, "/tmp/awe-memcap-XXXXXX");
	cr_assert_not_null(mkdtemp(root), "mkdtemp: %s", strerror(errno));
	awe__test_sysroot = root;
}

static int rm_entry(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
	(void)st;
	(void)flag;
	(void)ftw;
	remove(path);
	return 0;
}

static void tree_fini(void)
{
	awe__test_sysroot = NULL;
	if (root[0])
		nftw(root, rm_entry, 16, FTW_DEPTH | FTW_PHYS);
}

/* Write @path (absolute, under the fake root), creating its directories. */
static __attribute__((format(printf, 2, 3))) void put(const char *path, const char *fmt, ...)
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

static void drop(const char *path)
{
	char full[512];

	snprintf(full, sizeof(full), "%s%s", root, path);
	cr_assert_eq(nftw(full, rm_entry, 16, FTW_DEPTH | FTW_PHYS), 0, "removing %s", full);
}

/* Writes @name in @dir with @v, or "max" for NONE; nothing for ABSENT. */
static void put_value(const char *dir, const char *name, uint64_t v)
{
	char p[256];

	snprintf(p, sizeof(p), "%s/%s", dir, name);
	if (v == NONE)
		put(p, "max\n");
	else if (v != ABSENT)
		put(p, "%" PRIu64 "\n", v);
}

/* A cgroup v2 level. */
static void v2_level(const char *dir, uint64_t max, uint64_t high, uint64_t current,
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
static void v1_level(const char *dir, uint64_t limit, uint64_t usage, uint64_t total_inactive)
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

static void host_mem(uint64_t total, uint64_t avail)
{
	put("/proc/meminfo",
	    "MemTotal:       %" PRIu64 " kB\nMemFree:        1024 kB\nMemAvailable:   %" PRIu64
	    " kB\nBuffers:            0 kB\n",
	    total / 1024, avail / 1024);
}

static void cgroups(const char *proc_self_cgroup, const char *mountinfo)
{
	host_mem(64 * GiB, 60 * GiB);
	put("/proc/self/cgroup", "%s", proc_self_cgroup);
	put("/proc/self/mountinfo", MOUNT_OTHER "%s", mountinfo);
}

static uint64_t avail(void)
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

static struct awe__mem_why explain(void)
{
	static struct awe__mem_why w;
	int r = awe__mem_explain(&w);

	cr_assert_eq(r, 0, "awe__mem_explain: %s", strerror(-r));
	return w;
}

static void assert_limited_by(const char *dir, int version)
{
	struct awe__mem_why w = explain();

	cr_assert_eq(w.cg_version, version, "limited by cgroup v%d, expected v%d", w.cg_version,
		     version);
	if (dir)
		cr_assert_str_eq(w.cg_dir, dir);
}

TestSuite(facts, .init = tree_init, .fini = tree_fini);

/* --- reading files ----------------------------------------------------------- */

Test(facts, read_file)
{
	char buf[64];

	put("/f", "hello\n");
	errno = ERRNO_CANARY;
	cr_assert_eq(awe__read_file("/f", buf, sizeof(buf)), 6);
	cr_assert_str_eq(buf, "hello\n");
	cr_assert_eq(awe__read_file("/f", buf, 4), 3, "cut at the buffer, NUL included");
	cr_assert_str_eq(buf, "hel");
	cr_assert_eq(awe__read_file("/missing", buf, sizeof(buf)), -ENOENT);
	cr_assert_eq(awe__read_file("/", buf, sizeof(buf)), -EISDIR);
	cr_assert_eq(errno, ERRNO_CANARY, "a read changed errno");
}

Test(facts, read_numbers_and_fields)
{
	uint64_t v = 0;

	put("/n", "  12345\n678\n");
	put("/max", "max\n");
	put("/huge", "123456789012345678901234567890\n");
	put("/status", "Name:\tx\nVmLckX:\t9 kB\nVmLck:\t    1234 kB\nVmPin:\t0 kB\n");
	put("/stat", "total_inactive_file 7\ninactive_filex 6\ninactive_file 5\n");
	errno = ERRNO_CANARY;
	cr_assert_eq(awe__read_u64("/n", &v), 0);
	cr_assert_eq(v, 12345);
	cr_assert_eq(awe__read_u64("/max", &v), -EINVAL);
	cr_assert_eq(awe__read_u64("/huge", &v), 0);
	cr_assert_eq(v, UINT64_MAX, "an overlong number saturates");
	cr_assert_eq(awe__read_kb("/status", "VmLck", &v), 0);
	cr_assert_eq(v, 1234 * 1024);
	cr_assert_eq(awe__read_kb("/status", "VmLc", &v), -ENOENT, "a key is a whole word");
	cr_assert_eq(awe__read_key("/stat", "inactive_file", &v), 0);
	cr_assert_eq(v, 5, "a key starts its line");
	cr_assert_eq(awe__read_key("/stat", "total_inactive_file", &v), 0);
	cr_assert_eq(v, 7);
	cr_assert_eq(awe__read_key("/stat", "active_file", &v), -ENOENT);
	cr_assert_eq(awe__read_key("/none", "x", &v), -ENOENT);
	cr_assert_eq(errno, ERRNO_CANARY, "a read changed errno");
}

Test(facts, memlock_used_and_max_map_count)
{
	uint64_t v = 0;

	put("/proc/self/status", "Name:\tx\nVmPeak:\t  100 kB\nVmLck:\t      64 kB\n");
	put("/proc/sys/vm/max_map_count", "262144\n");
	cr_assert_eq(awe__memlock_used(&v), 0);
	cr_assert_eq(v, 64 * 1024);
	cr_assert_eq(awe__max_map_count(&v), 0);
	cr_assert_eq(v, 262144);
	drop("/proc");
	cr_assert_eq(awe__memlock_used(&v), -ENOENT);
	cr_assert_eq(awe__max_map_count(&v), -ENOENT);
}

/* --- the host -------------------------------------------------------------------- */

/* No cgroup files at all: the host alone, less 1/32 of its RAM. */
Test(facts, host_meminfo)
{
	host_mem(8 * GiB, 4 * GiB);
	assert_avail(4 * GiB - 256 * MiB);
	cr_assert_eq(explain().cg_version, 0);
	cr_assert_not(explain().host_sysinfo);
}

/* The reserve is at least 128 MiB; below it, nothing. */
Test(facts, host_reserve_floor)
{
	host_mem(2 * GiB, 1 * GiB);
	assert_avail(1 * GiB - 128 * MiB);
	host_mem(2 * GiB, 100 * MiB);
	assert_avail(0);
}

/* Free RAM and buffers by sysinfo(2), less the reserve: what the test sees
 * before and after, give or take what others did meanwhile. */
static void assert_sysinfo_answer(void)
{
	struct sysinfo a, b;
	uint64_t got, lo, hi, reserve;

	cr_assert_eq(sysinfo(&a), 0);
	got = avail();
	cr_assert_eq(sysinfo(&b), 0);
	lo = ((uint64_t)b.freeram + b.bufferram) * b.mem_unit;
	hi = ((uint64_t)a.freeram + a.bufferram) * a.mem_unit;
	if (lo > hi) {
		uint64_t t = lo;
		lo = hi;
		hi = t;
	}
	reserve = (uint64_t)a.totalram * a.mem_unit / 32;
	reserve = reserve > 128 * MiB ? reserve : 128 * MiB;
	cr_assert(got + reserve + 256 * MiB >= lo && got + reserve <= hi + 256 * MiB,
		  "%" PRIu64 " MiB, sysinfo says %" PRIu64 "-%" PRIu64 " MiB free less %" PRIu64
		  " MiB",
		  got / MiB, lo / MiB, hi / MiB, reserve / MiB);
	cr_assert(explain().host_sysinfo);
}

Test(facts, host_without_meminfo_uses_sysinfo)
{
	assert_sysinfo_answer();
}

Test(facts, host_without_memavailable_uses_sysinfo)
{
	put("/proc/meminfo", "MemTotal:       8388608 kB\nMemFree:        1024 kB\n");
	assert_sysinfo_answer();
}

/* --- cgroup v2 ------------------------------------------------------------------- */

/* 1 GiB - 100 MiB used + 50 MiB reclaimable - 32 MiB (1/32 of the limit). */
Test(facts, v2_limit)
{
	struct awe__mem_why w;

	cgroups("0::/a/b\n", MOUNT_V2);
	v2_level("/sys/fs/cgroup/a/b", 1 * GiB, NONE, 100 * MiB, 50 * MiB);
	v2_level("/sys/fs/cgroup/a", NONE, NONE, 100 * MiB, 50 * MiB);
	assert_avail(942 * MiB);
	w = explain();
	cr_assert_eq(w.cg_version, 2);
	cr_assert_str_eq(w.cg_dir, "/sys/fs/cgroup/a/b");
	cr_assert_eq(w.cg_limit, 1 * GiB);
	cr_assert_eq(w.cg_usage, 100 * MiB);
	cr_assert_eq(w.cg_reclaimable, 50 * MiB);
	cr_assert_eq(w.avail, 942 * MiB);
	cr_assert_eq(w.host_room, HOST_ROOM);
}

Test(facts, v2_max_is_no_limit)
{
	cgroups("0::/a/b\n", MOUNT_V2);
	v2_level("/sys/fs/cgroup/a/b", NONE, NONE, 100 * MiB, 0);
	v2_level("/sys/fs/cgroup/a", NONE, NONE, 100 * MiB, 0);
	assert_avail(HOST_ROOM);
	assert_limited_by(NULL, 0);
}

/* memory.high below memory.max: reclaim starts there. 512 - 100 - 16. */
Test(facts, v2_high_below_max)
{
	cgroups("0::/a\n", MOUNT_V2);
	v2_level("/sys/fs/cgroup/a", 1 * GiB, 512 * MiB, 100 * MiB, 0);
	assert_avail(396 * MiB);
	cgroups("0::/a\n", MOUNT_V2);
	v2_level("/sys/fs/cgroup/a", NONE, 512 * MiB, 100 * MiB, 0);
	assert_avail(396 * MiB);
}

/* The limit is on the parent, the process's own level has none. */
Test(facts, v2_nested_parent_limits)
{
	cgroups("0::/a/b\n", MOUNT_V2);
	v2_level("/sys/fs/cgroup/a/b", NONE, NONE, 300 * MiB, 0);
	v2_level("/sys/fs/cgroup/a", 512 * MiB, NONE, 400 * MiB, 0);
	assert_avail(96 * MiB);
	assert_limited_by("/sys/fs/cgroup/a", 2);
}

/* Every level counts, the least room wins, whichever level it is at. */
Test(facts, v2_tightest_level_wins)
{
	cgroups("0::/a/b/c\n", MOUNT_V2);
	v2_level("/sys/fs/cgroup/a/b/c", 2 * GiB, NONE, 1 * GiB, 0);	/* 960 MiB */
	v2_level("/sys/fs/cgroup/a/b", 1 * GiB, NONE, 900 * MiB, 0);	/* 92 MiB */
	v2_level("/sys/fs/cgroup/a", 4 * GiB, NONE, 3 * GiB, 16 * MiB); /* 912 MiB */
	assert_avail(92 * MiB);
	assert_limited_by("/sys/fs/cgroup/a/b", 2);
}

/* In a cgroup namespace the mount's top directory is the container's own
 * cgroup, with a limit: it counts (the host's root has no memory.max). */
Test(facts, v2_mount_point_level_counts)
{
	cgroups("0::/app\n", MOUNT_V2);
	v2_level("/sys/fs/cgroup/app", NONE, NONE, 900 * MiB, 0);
	v2_level("/sys/fs/cgroup", 1 * GiB, NONE, 1000 * MiB, 16 * MiB);
	assert_avail(8 * MiB);
	assert_limited_by("/sys/fs/cgroup", 2);
	/* The process at the top itself ("0::/"). */
	cgroups("0::/\n", MOUNT_V2);
	assert_avail(8 * MiB);
}

/* A cgroup with more room than the host: the host limits. */
Test(facts, v2_host_tighter)
{
	cgroups("0::/a\n", MOUNT_V2);
	v2_level("/sys/fs/cgroup/a", 8 * GiB, NONE, 0, 0);
	host_mem(4 * GiB, 1 * GiB);
	assert_avail(896 * MiB);
	assert_limited_by("/sys/fs/cgroup/a", 2);
	cr_assert_gt(explain().cg_room, explain().avail);
}

/* --- cgroup v1 ------------------------------------------------------------------- */

/* 128 MiB - 64 MiB + 16 MiB (total_inactive_file) - 8 MiB (the floor). */
Test(facts, v1_limit)
{
	cgroups("4:memory:/x/y\n", MOUNT_V1);
	v1_level("/sys/fs/cgroup/memory/x/y", 128 * MiB, 64 * MiB, 16 * MiB);
	v1_level("/sys/fs/cgroup/memory/x", V1_UNLIMITED, 64 * MiB, 16 * MiB);
	v1_level("/sys/fs/cgroup/memory", V1_UNLIMITED, 1 * GiB, 0);
	assert_avail(72 * MiB);
	assert_limited_by("/sys/fs/cgroup/memory/x/y", 1);
}

Test(facts, v1_unlimited)
{
	cgroups("4:memory:/x\n", MOUNT_V1);
	v1_level("/sys/fs/cgroup/memory/x", V1_UNLIMITED, 64 * MiB, 0);
	v1_level("/sys/fs/cgroup/memory", V1_UNLIMITED, 1 * GiB, 0);
	assert_avail(HOST_ROOM);
}

Test(facts, v1_nested_parent_limits)
{
	cgroups("4:memory:/x/y\n", MOUNT_V1);
	v1_level("/sys/fs/cgroup/memory/x/y", V1_UNLIMITED, 10 * MiB, 0);
	v1_level("/sys/fs/cgroup/memory/x", 64 * MiB, 40 * MiB, 0);
	assert_avail(16 * MiB);
	assert_limited_by("/sys/fs/cgroup/memory/x", 1);
}

/* memory mounted together with cpu; other v1 hierarchies are no match. */
Test(facts, v1_comounted)
{
	cgroups("7:cpuset:/x\n5:cpu,memory:/x\n1:name=systemd:/x\n",
		"36 31 0:33 / /sys/fs/cgroup/cpuset rw - cgroup cgroup rw,cpuset\n"
		"37 31 0:34 / /sys/fs/cgroup/cpu,memory rw - cgroup cgroup rw,cpu,memory\n");
	v1_level("/sys/fs/cgroup/cpuset/x", 8 * MiB, 8 * MiB, 0);
	v1_level("/sys/fs/cgroup/cpu,memory/x", 128 * MiB, 64 * MiB, 16 * MiB);
	assert_avail(72 * MiB);
}

/* --- both, mounts and discovery --------------------------------------------------- */

/* This machine's layout: v1 memory, and an empty v2 at .../unified. */
Test(facts, hybrid_v1_memory_empty_v2)
{
	char dir[256];

	cgroups("9:name=systemd:/\n4:memory:/box/job\n0::/\n",
		MOUNT_V1 "41 31 0:38 / /sys/fs/cgroup/unified rw - cgroup2 cgroup2 rw\n");
	put("/sys/fs/cgroup/unified/cgroup.procs", "1\n");
	v1_level("/sys/fs/cgroup/memory/box/job", 128 * MiB, 64 * MiB, 16 * MiB);
	assert_avail(72 * MiB);
	cr_assert_eq(awe__memcg_dir(1, dir, sizeof(dir)), 0);
	cr_assert_str_eq(dir, "/sys/fs/cgroup/memory/box/job");
	cr_assert_eq(awe__memcg_dir(2, dir, sizeof(dir)), 0);
	cr_assert_str_eq(dir, "/sys/fs/cgroup/unified");
}

Test(facts, hybrid_both_limit)
{
	cgroups("4:memory:/box\n0::/box\n",
		MOUNT_V1 "41 31 0:38 / /sys/fs/cgroup/unified rw - cgroup2 cgroup2 rw\n");
	v1_level("/sys/fs/cgroup/memory/box", 128 * MiB, 64 * MiB, 16 * MiB); /* 72 MiB */
	v2_level("/sys/fs/cgroup/unified/box", 64 * MiB, NONE, 40 * MiB, 0);  /* 16 MiB */
	assert_avail(16 * MiB);
	assert_limited_by("/sys/fs/cgroup/unified/box", 2);
}

/* A mount of part of the hierarchy (a container's): its root is stripped
 * from the cgroup's path, and nothing above the mount point is read. */
Test(facts, mount_root_stripped)
{
	cgroups("4:memory:/docker/abc/sub\n",
		"35 31 0:32 /docker/abc /sys/fs/cgroup/memory rw - cgroup cgroup rw,memory\n");
	v1_level("/sys/fs/cgroup/memory/sub", 512 * MiB, 100 * MiB, 0);
	v1_level("/sys/fs/cgroup/memory", V1_UNLIMITED, 200 * MiB, 0);
	v1_level("/sys/fs/cgroup/memory/docker/abc/sub", 1 * MiB, 1 * MiB, 0);
	v1_level("/sys/fs/cgroup", 1 * MiB, 1 * MiB, 0);
	assert_avail(396 * MiB);
	assert_limited_by("/sys/fs/cgroup/memory/sub", 1);
}

/* A cgroup the mount does not show is skipped: elsewhere in the hierarchy,
 * a name that merely starts like the root, outside the namespace. */
Test(facts, cgroup_outside_mount_skipped)
{
	char dir[256];
	const char *procs[] = {"4:memory:/docker/other\n", "4:memory:/docker/abcd\n",
			       "4:memory:/docker/abc/../x\n"};

	for (size_t i = 0; i < sizeof(procs) / sizeof(procs[0]); i++) {
		cgroups(procs[i],
			"35 31 0:32 /docker/abc /sys/fs/cgroup/memory rw - cgroup cgroup rw,memory\n");
		v1_level("/sys/fs/cgroup/memory", 1 * MiB, 1 * MiB, 0);
		v1_level("/sys/fs/cgroup/memory/other", 1 * MiB, 1 * MiB, 0);
		v1_level("/sys/fs/cgroup/memory/d", 1 * MiB, 1 * MiB, 0);
		v1_level("/sys/fs/cgroup/x", 1 * MiB, 1 * MiB, 0);
		assert_avail(HOST_ROOM);
		cr_assert_eq(awe__memcg_dir(1, dir, sizeof(dir)), -ENOENT, "%s", procs[i]);
	}
	cgroups("0::/../x\n", MOUNT_V2);
	v2_level("/sys/fs/cgroup/x", 1 * MiB, NONE, 1 * MiB, 0);
	assert_avail(HOST_ROOM);
}

/* mountinfo is read a line at a time, whatever its size: hundreds of
 * mounts, then a line longer than any buffer, whose tail alone would read
 * as a cgroup2 mount, and which is skipped whole; the real one last. */
Test(facts, long_mountinfo)
{
	size_t len = 64 * 1024, at = 0;
	char *m = malloc(len);

	cr_assert_not_null(m);
	for (int i = 0; i < 500; i++)
		at += (size_t)snprintf(m + at, len - at,
				       "%d 1 0:%d / /mnt/m%d rw - tmpfs tmpfs rw\n", 100 + i,
				       100 + i, i);
	memset(m + at, 'x', 5000);
	at += 5000;
	at += (size_t)snprintf(m + at, len - at,
			       " 1 0:1 / /sys/fs/bogus rw - cgroup2 cgroup2 rw\n" MOUNT_V2);
	cr_assert_lt(at, len);
	cgroups("0::/a\n", m);
	free(m);
	v2_level("/sys/fs/cgroup/a", 64 * MiB, NONE, 40 * MiB, 0);
	assert_avail(16 * MiB);
	assert_limited_by("/sys/fs/cgroup/a", 2);
}

/* mountinfo writes a blank in a path as \040. */
Test(facts, escaped_mount_point)
{
	cgroups("0::/a\n", "29 23 0:26 / /sys/fs/my\\040cgroups rw - cgroup2 cgroup2 rw\n");
	v2_level("/sys/fs/my cgroups/a", 64 * MiB, NONE, 40 * MiB, 0);
	assert_avail(16 * MiB);
	assert_limited_by("/sys/fs/my cgroups/a", 2);
}

/* Missing files: no memory.stat, nothing reclaimable; no usage, all of
 * the limit used; missing levels and levels without a limit do not limit. */
Test(facts, missing_files)
{
	cgroups("0::/a\n", MOUNT_V2);
	v2_level("/sys/fs/cgroup/a", 1 * GiB, ABSENT, 100 * MiB, ABSENT);
	assert_avail(892 * MiB);
	drop("/sys/fs/cgroup/a/memory.current");
	assert_avail(0);

	cgroups("0::/a/b/c\n", MOUNT_V2);
	drop("/sys/fs/cgroup/a");
	v2_level("/sys/fs/cgroup/a", 512 * MiB, ABSENT, 400 * MiB, ABSENT);
	assert_avail(96 * MiB);
	assert_limited_by("/sys/fs/cgroup/a", 2);
}

/* The process was moved to another cgroup: /proc/self/cgroup tells. */
Test(facts, moved_process)
{
	cgroups("0::/a\n", MOUNT_V2);
	v2_level("/sys/fs/cgroup/a", 1 * GiB, NONE, 0, 0);
	v2_level("/sys/fs/cgroup/b", 512 * MiB, NONE, 0, 0);
	assert_avail(992 * MiB);
	put("/proc/self/cgroup", "0::/b\n");
	assert_avail(496 * MiB);
	assert_limited_by("/sys/fs/cgroup/b", 2);
}

/* The hierarchy was mounted elsewhere and the old directory is gone: the
 * mounts are read again. */
Test(facts, vanished_directory)
{
	cgroups("4:memory:/x\n", MOUNT_V1);
	v1_level("/sys/fs/cgroup/memory/x", 128 * MiB, 64 * MiB, 16 * MiB);
	assert_avail(72 * MiB);
	drop("/sys/fs/cgroup/memory");
	put("/proc/self/mountinfo",
	    "35 31 0:32 / /sys/fs/cgroup/mem rw - cgroup cgroup rw,memory\n");
	v1_level("/sys/fs/cgroup/mem/x", 64 * MiB, 40 * MiB, 0);
	assert_avail(16 * MiB);
	assert_limited_by("/sys/fs/cgroup/mem/x", 1);
}

/* libc's open, read and fopen are cancellation points; the library reads
 * these facts under its lock, so none of this may be one. */
static __attribute__((noinline)) void read_all_facts(void)
{
	uint64_t v;
	char buf[32];

	awe__mem_available(&v);
	awe__memlock_used(&v);
	awe__max_map_count(&v);
	awe__read_file("/proc/meminfo", buf, sizeof(buf));
}

/* The reads are a call of their own: the cancellation then unwinds no frame
 * with locals, whose stack AddressSanitizer would leave poisoned. */
static void *read_with_cancel_pending(void *arg)
{
	pthread_cancel(pthread_self());
	read_all_facts();
	*(bool *)arg = true;
	pthread_testcancel();
	return NULL;
}

Test(facts, no_cancellation_point)
{
	pthread_t t;
	bool done = false;
	void *ret;

	cgroups("4:memory:/x\n0::/x\n", MOUNT_V1 MOUNT_V2);
	v1_level("/sys/fs/cgroup/memory/x", 128 * MiB, 64 * MiB, 16 * MiB);
	v2_level("/sys/fs/cgroup/x", 128 * MiB, 64 * MiB, 16 * MiB, 0);
	put("/proc/self/status", "VmLck:\t0 kB\n");
	cr_assert_eq(pthread_create(&t, NULL, read_with_cancel_pending, &done), 0);
	cr_assert_eq(pthread_join(t, &ret), 0);
	cr_assert_eq(ret, PTHREAD_CANCELED);
	cr_assert(done, "a read acted on the pending cancellation");
}

/* --- no descriptor left ------------------------------------------------------------ */

/* Lower RLIMIT_NOFILE to the lowest free descriptor: every open fails. */
static int exhaust_fds(void)
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

/* A cgroup with 16 MiB of room (64 - 40 - 8) on a host with plenty. */
static void tree_16mib(void)
{
	cgroups("0::/a\n", MOUNT_V2);
	v2_level("/sys/fs/cgroup/a", 64 * MiB, NONE, 40 * MiB, 0);
}

/* Without a descriptor the cgroups cannot be read: an error, never "no
 * limit", with the host's part (by sysinfo(2)) as an upper bound. */
static int child_no_fd_facts(void *arg)
{
	uint64_t v = 0;
	struct sysinfo si;

	(void)arg;
	CHILD_CHECK(awe__mem_available(&v) == 0 && v == 16 * MiB, "%" PRIu64, v);
	CHILD_CHECK(exhaust_fds() == 0);
	CHILD_CHECK(sysinfo(&si) == 0);
	v = UINT64_MAX;
	CHILD_CHECK(awe__mem_available(&v) == -EMFILE);
	CHILD_CHECK(v <= ((uint64_t)si.freeram + si.bufferram) * si.mem_unit + 256 * MiB,
		    "%" PRIu64 " MiB: more than sysinfo says is free", v / MiB);
	CHILD_CHECK(awe__memlock_used(&v) == -EMFILE);
	CHILD_CHECK(awe__max_map_count(&v) == -EMFILE);
	return 0;
}

Test(facts, no_descriptor_is_an_error)
{
	tree_16mib();
	run_in_child(child_no_fd_facts, NULL, NULL);
}

/* libawe keeps what it read last, less what it allocated since: asking for
 * 64 MiB gets at most the 16 MiB there was room for, then nothing. */
static int child_no_fd_alloc(void *arg)
{
	size_t want = 64 * MiB / pg(), room = 16 * MiB / pg();
	awe_frame_t *f = malloc(want * sizeof(*f));
	ssize_t n;

	(void)arg;
	CHILD_CHECK(f);
	CHILD_OK(awe_init(0));
	CHILD_CHECK(exhaust_fds() == 0);
	n = awe_alloc(f, want);
	CHILD_CHECK(n > 0 && (size_t)n <= room, "awe_alloc(%zu) gave %zd frames, room for %zu",
		    want, n, room);
	CHILD_ERR(awe_alloc(f + n, 1), ENOMEM);
	/* A second later the cache would be read again: it cannot be. */
	sleep(1);
	CHILD_ERR(awe_alloc(f + n, want), ENOMEM);
	CHILD_OK(awe_free(f, (size_t)n, NULL));
	free(f);
	return 0;
}

Test(facts, no_descriptor_alloc_stays_bounded)
{
	tree_16mib();
	run_in_child(child_no_fd_alloc, NULL, NULL);
}

/* Under a small RLIMIT_MEMLOCK, what is locked already (VmLck) cannot be
 * read without a descriptor: libawe then takes the limit as used up rather
 * than as free, and never gets more than the limit allows. */
static int child_no_fd_memlock(void *arg)
{
	size_t want = 16 * MiB / pg();
	awe_frame_t *f = malloc(want * sizeof(*f));
	ssize_t n;

	(void)arg;
	CHILD_CHECK(f);
	CHILD_OK(awe_init(0));
	CHILD_CHECK(exhaust_fds() == 0);
	n = awe_alloc(f, want);
	CHILD_CHECK(n == -EPERM || (n > 0 && (uint64_t)n * pg() <= 4 * MiB),
		    "awe_alloc(16 MiB) under a 4 MiB RLIMIT_MEMLOCK: %zd", n);
	if (n > 0)
		CHILD_OK(awe_free(f, (size_t)n, NULL));
	free(f);
	return 0;
}

Test(nofd, memlock_stays_conservative)
{
	struct child_opts o = {.as_nobody = true, .set_memlock = true, .memlock = 4 * MiB};

	skip_unless_root("dropping to nobody needs root");
	run_in_child(child_no_fd_memlock, NULL, &o);
}

/* --- real memory cgroups (root) ---------------------------------------------------- */

#define CG_LIMIT (64 * MiB)

struct memcg {
	int version;
	char outer[AWE__PATH_BUF + 32]; /* has the limit */
	char inner[AWE__PATH_BUF + 64]; /* "": the child goes into outer */
};

static bool write_file(const char *dir, const char *name, const char *text)
{
	char p[AWE__PATH_BUF + 128];
	FILE *f;
	bool ok;

	snprintf(p, sizeof(p), "%s/%s", dir, name);
	f = fopen(p, "w");
	if (!f)
		return false;
	ok = fputs(text, f) >= 0;
	return fclose(f) == 0 && ok;
}

/* The directory under which a v2 cgroup may get a memory limit: the
 * nearest ancestor of the process's cgroup that hands the memory
 * controller to its children. */
static bool v2_parent(char *dir)
{
	char p[AWE__PATH_BUF + 32], ctl[256];
	char *slash;

	while ((slash = strrchr(dir, '/')) && slash != dir) {
		*slash = '\0';
		snprintf(p, sizeof(p), "%s/cgroup.subtree_control", dir);
		if (awe__read_file(p, ctl, sizeof(ctl)) < 0)
			return false;
		if (strstr(ctl, "memory"))
			return true;
	}
	return false;
}

static void rmdir_retry(const char *dir)
{
	/* The cgroup empties as the child is reaped; give the kernel a moment. */
	for (int i = 0; i < 100 && rmdir(dir) && errno == EBUSY; i++)
		usleep(10000);
}

static void memcg_remove(const struct memcg *m)
{
	if (m->inner[0])
		rmdir_retry(m->inner);
	rmdir_retry(m->outer);
}

/* A memory cgroup limited to CG_LIMIT (v1: a child of the process's own;
 * v2: beside it, or under the nearest ancestor that can have one), with an
 * unlimited one inside when @nested. Skips without root or controller. */
static void memcg_make(struct memcg *m, bool nested)
{
	char dir[AWE__PATH_BUF], limit[32];

	skip_unless_root("creating memory cgroups needs root");
	memset(m, 0, sizeof(*m));
	if (awe__memcg_dir(1, dir, sizeof(dir)) == 0)
		m->version = 1;
	else if (awe__memcg_dir(2, dir, sizeof(dir)) == 0 && v2_parent(dir))
		m->version = 2;
	else
		cr_skip_test("no memory cgroup controller this process can use");
	snprintf(m->outer, sizeof(m->outer), "%s/awe-memcap-%d", dir, (int)getpid());
	if (mkdir(m->outer, 0755))
		cr_skip_test("cannot create a memory cgroup in %s: %s", dir, strerror(errno));
	snprintf(limit, sizeof(limit), "%" PRIu64 "\n", CG_LIMIT);
	if (!write_file(m->outer, m->version == 1 ? "memory.limit_in_bytes" : "memory.max",
			limit)) {
		int e = errno;

		memcg_remove(m);
		cr_skip_test("cannot limit memory cgroup %s: %s", m->outer, strerror(e));
	}
	if (!nested)
		return;
	if (m->version == 2)
		write_file(m->outer, "cgroup.subtree_control", "+memory\n");
	snprintf(m->inner, sizeof(m->inner), "%s/inner", m->outer);
	if (mkdir(m->inner, 0755)) {
		int e = errno;

		memcg_remove(m);
		cr_assert_fail("cannot create %s: %s", m->inner, strerror(e));
	}
}

struct job {
	const struct memcg *m;
	bool no_fd; /* no descriptor left once libawe has started */
};

/* Joins the cgroup, then asks for 1 GiB of frames: it gets fewer, within
 * the limit, and can map and touch every one of them. */
static int child_alloc_1g(void *arg)
{
	const struct job *j = arg;
	const char *dir = j->m->inner[0] ? j->m->inner : j->m->outer;
	size_t want = GiB / pg();
	awe_frame_t *f = malloc(want * sizeof(*f));
	char pid[32];
	void *base;
	ssize_t n;

	CHILD_CHECK(f);
	snprintf(pid, sizeof(pid), "%d\n", (int)getpid());
	CHILD_CHECK(write_file(dir, "cgroup.procs", pid), "joining %s: %s", dir, strerror(errno));
	if (j->no_fd) {
		CHILD_OK(awe_init(0));
		CHILD_CHECK(exhaust_fds() == 0);
	}
	n = awe_alloc(f, want);
	CHILD_CHECK(n > 0 && (uint64_t)n * pg() < CG_LIMIT,
		    "awe_alloc(1 GiB) in a %" PRIu64 " MiB cgroup: %zd frames", CG_LIMIT / MiB, n);
	CHILD_OK(awe_window_create((size_t)n * pg(), NULL, 0, &base));
	CHILD_OK(awe_map(base, (size_t)n, f));
	for (ssize_t i = 0; i < n; i++)
		*(uint64_t *)slot(base, (size_t)i) = f[i];
	for (ssize_t i = 0; i < n; i++)
		CHILD_CHECK(*(uint64_t *)slot(base, (size_t)i) == f[i], "frame %zd", i);
	CHILD_OK(awe_window_destroy(base));
	CHILD_OK(awe_free(f, (size_t)n, NULL));
	free(f);
	return 0;
}

/* How often the cgroup's usage ran into its limit, and how many processes
 * its OOM killer killed. */
static void memcg_events(const struct memcg *m, uint64_t *hit, uint64_t *killed)
{
	char p[AWE__PATH_BUF + 64];

	*hit = *killed = UINT64_MAX;
	snprintf(p, sizeof(p), "%s/%s", m->outer,
		 m->version == 1 ? "memory.failcnt" : "memory.events");
	if (m->version == 1)
		awe__read_u64(p, hit);
	else
		awe__read_key(p, "max", hit);
	snprintf(p, sizeof(p), "%s/%s", m->outer,
		 m->version == 1 ? "memory.oom_control" : "memory.events");
	awe__read_key(p, "oom_kill", killed);
}

static void run_in_memcg(bool nested, bool no_fd)
{
	struct memcg m;
	struct job j = {&m, no_fd};
	uint64_t hit, killed;
	int status;
	pid_t pid;

	memcg_make(&m, nested);
	fflush(NULL);
	pid = fork();
	if (pid == 0)
		_exit(child_alloc_1g(&j));
	waitpid(pid, &status, 0);
	memcg_events(&m, &hit, &killed);
	memcg_remove(&m);
	cr_assert_neq(pid, -1, "fork: %s", strerror(errno));
	cr_assert(!WIFSIGNALED(status), "child killed by signal %d (%s) in cgroup v%d %s",
		  WTERMSIG(status), strsignal(WTERMSIG(status)), m.version, m.outer);
	cr_assert_eq(WEXITSTATUS(status), 0, "child exited with %d (see its stderr)",
		     WEXITSTATUS(status));
	cr_assert_eq(killed, 0, "the cgroup's OOM killer killed %" PRIu64, killed);
	cr_assert_eq(hit, 0, "usage ran into the limit %" PRIu64 " times", hit);
}

Test(cgroup, limit_gives_fewer_frames)
{
	run_in_memcg(false, false);
}

Test(cgroup, limit_of_the_parent_counts)
{
	run_in_memcg(true, false);
}

Test(cgroup, limit_holds_without_descriptors)
{
	run_in_memcg(false, true);
}
