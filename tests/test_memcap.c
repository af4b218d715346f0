/* SPDX-License-Identifier: MIT */
/*
 * How much memory libawe may still allocate (src/os/sysfacts.c), from fake
 * /proc and /sys trees read through awe__test_sysroot (memcap.h) and checked
 * to the byte: reading files and fields, the host's MemAvailable and its
 * sysinfo(2) fallback, every memory cgroup level, v1 and v2, hybrids, mount
 * points and discovery, and no cancellation point in any of the reads.
 * test_memcap_nofd has what is left without a descriptor, test_memcap_cgroup
 * real memory cgroups.
 */
#include "memcap.h"

#include <pthread.h>
#include <sys/sysinfo.h>

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
