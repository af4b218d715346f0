/* SPDX-License-Identifier: MIT */
/*
 * System facts: what the system allows right now. Memory the process can
 * still allocate (the host's and every memory cgroup level's), memory it has
 * locked, the kernel's limit on mappings.
 *
 * Every fact is read with raw system calls into a buffer on the stack: no
 * descriptor is kept, nothing is allocated, errno is left alone, and nothing
 * here is a pthread cancellation point (libc's open, read, close and fopen
 * are), since the library reads these facts under its lock. Returns are 0
 * or bytes read on success, -errno on failure. awe-info compiles this file
 * too, so it depends on nothing else of the library.
 */
#ifndef AWE_SYSFACTS_H
#define AWE_SYSFACTS_H

#include <errno.h>
#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

#include "common.h"
#include "hooks.h"

/* Files are read into this much: every field looked up here is in the
 * first KiB of its file, and a field cut off reads as missing. */
#define AWE__FILE_BUF 4096
/* Longest path read here, a cgroup directory included. */
#define AWE__PATH_BUF 4096

/* fsread.c: the raw reads. A system call (openat, faccessat) on @path;
 * whether it is missing; @fn on every line of @path (in @buf of @len). */
AWE__HIDDEN long awe__path_call(long nr, const char *path, long arg);
AWE__HIDDEN bool awe__path_missing(const char *path);
AWE__HIDDEN int awe__each_line(const char *path, char *buf, size_t len, void (*fn)(char *line));
/* The "@key: N kB" field of @text in bytes. */
AWE__HIDDEN int awe__parse_kb(const char *text, const char *key, uint64_t *bytes);
/* A cgroup limit: a number, or UINT64_MAX for none (v2 "max", v1 ~2^63). */
AWE__HIDDEN int awe__read_limit(const char *path, uint64_t *v);
/* Read @path into @buf, at most @len - 1 bytes (a longer file is cut
 * there), and end it with a NUL; the number of bytes read. */
AWE__HIDDEN ssize_t awe__read_file(const char *path, char *buf, size_t len);
/* The first unsigned number of @path. */
AWE__HIDDEN int awe__read_u64(const char *path, uint64_t *v);
/* The "Key:   N kB" field @key of @path (/proc/meminfo, /proc/self/status)
 * in bytes. */
AWE__HIDDEN int awe__read_kb(const char *path, const char *key, uint64_t *bytes);
/* The value of the "key N" line @key of @path (memory.stat). */
AWE__HIDDEN int awe__read_key(const char *path, const char *key, uint64_t *v);

/* Why awe__mem_explain() answered what it did. */
struct awe__mem_why {
	uint64_t avail;		 /* the answer: the least room below */
	uint64_t host_avail;	 /* MemAvailable, bytes */
	uint64_t host_total;	 /* MemTotal, bytes */
	uint64_t host_room;	 /* host_avail less the host's reserve */
	bool host_sysinfo;	 /* /proc/meminfo was unreadable: sysinfo(2)'s free RAM */
	int cg_version;		 /* of the tightest limited cgroup level; 0: none */
	uint64_t cg_limit;	 /* its limit, bytes */
	uint64_t cg_usage;	 /* its usage */
	uint64_t cg_reclaimable; /* its inactive file pages */
	uint64_t cg_room;	 /* limit - usage + reclaimable - its reserve */
	char cg_dir[AWE__PATH_BUF];
};

/* Bytes the process can still allocate without pushing the host or any
 * level of its memory cgroups (v1 and v2, up to each hierarchy's mount
 * point) into reclaim trouble or the OOM killer. -EMFILE, -ENFILE or
 * -ENOMEM when a file needed could not be opened for want of a descriptor
 * or memory: the caller keeps its last answer then, never "unlimited";
 * *@bytes is still the host's part (sysinfo(2) needs no descriptor), which
 * the answer cannot exceed. */
AWE__HIDDEN int awe__mem_available(uint64_t *bytes);
/* The same, with the numbers that led to it (for awe-info). */
AWE__HIDDEN int awe__mem_explain(struct awe__mem_why *why);
/* The directory of the process's memory cgroup of hierarchy @version (1 or
 * 2) into @buf: -ENOENT when there is none that this process can see. */
AWE__HIDDEN int awe__memcg_dir(int version, char *buf, size_t len);

/* What the kernel counts against RLIMIT_MEMLOCK (VmLck), bytes, including
 * memory the program locked itself. */
AWE__HIDDEN int awe__memlock_used(uint64_t *bytes);
/* The number of threads of the process (/proc/self/stat). */
AWE__HIDDEN int awe__thread_count(uint64_t *n);
/* Whether the process has CAP_IPC_LOCK in its effective set (it may lock
 * any amount of memory). */
AWE__HIDDEN bool awe__cap_ipc_lock(void);
/* Bytes the process may lock: RLIMIT_MEMLOCK, UINT64_MAX when unlimited or
 * with CAP_IPC_LOCK. */
AWE__HIDDEN uint64_t awe__memlock_limit(void);
/* Bytes that may still be locked under @limit: none when what is locked
 * already cannot be read. */
AWE__HIDDEN uint64_t awe__memlock_room(uint64_t limit);
/* Whether the environment asks for unlocked frames (LIBAWE_UNLOCKED=1). */
AWE__HIDDEN bool awe__env_unlocked(void);
/* Whether NUMA node @node (>= 0) exists. */
AWE__HIDDEN bool awe__node_online(int node);
/* Whether the machine has more than one NUMA node online. */
AWE__HIDDEN bool awe__numa_multi(void);
/* vm.max_map_count: the kernel's limit on mappings per process. */
AWE__HIDDEN int awe__max_map_count(uint64_t *v);

/* Whether a read failed for want of a descriptor or of kernel memory, not
 * because the fact is missing: a caller must not take "no limit" from it. */
static inline bool awe__facts_lacking(int r)
{
	return r == -EMFILE || r == -ENFILE || r == -ENOMEM;
}

#endif
