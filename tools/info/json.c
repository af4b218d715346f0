// SPDX-License-Identifier: MIT
/*
 * awe-info's report as one JSON object (documented in awe-info(1)): the
 * same facts as the text, under names of their own. Sizes and limits are
 * numbers of bytes, never strings; null is "unknown", "none" or, for the
 * limits, "unlimited", as the page says of each field.
 */
#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include <awe/version.h>

#include "info.h"

static bool first = true;

/* Start the member @key: a comma after the one before. */
static void key(const char *k)
{
	printf("%s\n  \"%s\": ", first ? "{" : ",", k);
	first = false;
}

/* The length of the valid UTF-8 sequence at @s, 0 when it is not one. */
static size_t utf8_len(const unsigned char *s)
{
	size_t n = s[0] >= 0xf0 && s[0] <= 0xf4 ? 4 : s[0] >= 0xe0 ? 3 : s[0] >= 0xc2 ? 2 : 0;

	for (size_t i = 1; i < n; i++)
		if ((s[i] & 0xc0) != 0x80)
			return 0;
	return n;
}

/* A string, or null. Bytes that are not UTF-8 (a path, an environment
 * variable may hold any) become U+FFFD, so that the output always parses. */
static void json_str(const char *k, const char *str)
{
	const unsigned char *s = (const unsigned char *)str;

	key(k);
	if (!s) {
		printf("null");
		return;
	}
	putchar('"');
	while (*s) {
		size_t n;

		if (*s == '"' || *s == '\\') {
			printf("\\%c", *s++);
		} else if (*s < 0x20) {
			printf("\\u%04x", *s++);
		} else if (*s < 0x80) {
			putchar(*s++);
		} else if ((n = utf8_len(s)) != 0) {
			fwrite(s, 1, n, stdout);
			s += n;
		} else {
			printf("\\ufffd");
			s++;
		}
	}
	putchar('"');
}

static void json_int(const char *k, long long v, bool known)
{
	key(k);
	if (known)
		printf("%lld", v);
	else
		printf("null");
}

/* Bytes or a count, null when not @known. */
static void json_u64(const char *k, uint64_t v, bool known)
{
	key(k);
	if (known)
		printf("%" PRIu64, v);
	else
		printf("null");
}

/* A limit: null when unlimited (RLIM_INFINITY, libawe's UINT64_MAX) or
 * when not @known. */
static void json_limit(const char *k, uint64_t v, bool known)
{
	json_u64(k, v, known && v != UINT64_MAX && v != (uint64_t)RLIM_INFINITY);
}

static void json_bool(const char *k, bool v, bool known)
{
	key(k);
	printf("%s", !known ? "null" : v ? "true" : "false");
}

/* 1 true, 0 false, -1 null. */
static void json_tri(const char *k, int v)
{
	json_bool(k, v > 0, v >= 0);
}

static void print_json_memory(const struct probe *p)
{
	const struct awe__mem_why *m = &p->mem;
	bool ok = !p->mem_rc, cg = info_cgroup_limits(p);

	json_str("memory_cgroup_v1", p->memcg[0][0] ? p->memcg[0] : NULL);
	json_str("cgroup_v2", p->memcg[1][0] ? p->memcg[1] : NULL);
	json_str("allocatable_error", ok ? NULL : errno_text(-p->mem_rc));
	json_u64("allocatable_bytes", m->avail, ok);
	json_str("allocatable_limited_by", !ok ? NULL : cg ? "cgroup" : "host");
	json_str("host_memory_source", !ok ? NULL : m->host_sysinfo ? "sysinfo" : "meminfo");
	json_u64("host_mem_available", m->host_avail, ok);
	json_u64("host_mem_total", m->host_total, ok);
	json_str("limiting_cgroup", cg ? m->cg_dir : NULL);
	json_int("limiting_cgroup_version", m->cg_version, cg);
	json_u64("limiting_cgroup_limit", m->cg_limit, cg);
	json_u64("limiting_cgroup_usage", m->cg_usage, cg);
	json_u64("limiting_cgroup_reclaimable", m->cg_reclaimable, cg);
}

/* awe_probe()'s answer: the engine (null when none can start), why, its
 * error (0, or -errno when none can start), locking and the lock room. */
static void print_json_probe(const struct probe *p)
{
	bool ok = !p->probe_rc;

	json_int("awe_probe", p->probe_rc, true);
	json_str("engine", ok ? p->pr.engine : NULL);
	json_str("engine_reason", ok ? p->pr.engine_reason : NULL);
	json_int("engine_error", p->pr.engine_error, ok);
	json_bool("locked", p->pr.locked, ok);
	json_limit("memlock_limit", p->pr.memlock_limit, ok);
	json_limit("memlock_room", p->pr.memlock_room, ok);
	json_u64("mem_available", p->pr.mem_available, ok);
	json_u64("page_size", p->pr.page_size, ok);
}

/* capacity.c's answer: bytes, null when awe_probe() failed; the window
 * figures null where no such limit applies. */
static void print_json_capacity(const struct probe *p)
{
	const struct capacity *c = &p->cap;
	bool ok = c->known, eng = ok && p->pr.engine;

	json_u64("capacity_frames", c->frames, ok);
	json_u64("capacity_frames_shown", c->shown, ok);
	json_str("capacity_limited_by", !eng			? NULL
					: c->by_memlock		? "memlock"
					: info_cgroup_limits(p) ? "cgroup"
								: "host");
	json_bool("capacity_windows_locked", c->windows_locked, eng);
	json_limit("capacity_window_bytes", c->windows, eng && c->windows_locked);
	json_u64("capacity_scattered_slots", c->scattered, eng && c->scattered);
}

/* libawe-win32's SeLockMemoryPrivilege (win32.c). */
static void print_json_w32(const struct probe *p)
{
	static const char *const why[] = {
		[W32_CAP] = "cap_ipc_lock",    [W32_UNLIMITED] = "memlock_unlimited",
		[W32_LIMIT] = "memlock_limit", [W32_UNLOCKED] = "libawe_unlocked",
		[W32_NONE] = "none",	       [W32_UNEXPLAINED] = "unexplained",
	};
	const struct w32 *w = &p->w32;
	bool ok = w->held >= 0;

	json_tri("win32_lock_privilege", w->held);
	json_bool("win32_lock_privilege_enabled", w->enabled, w->held > 0);
	json_str("win32_lock_privilege_reason", ok ? why[w->why] : NULL);
	json_u64("win32_lock_privilege_memlock_min", W32_HELD_MEMLOCK, true);
	json_str("win32_failed_call", ok ? NULL : w->call);
	json_u64("win32_error", w->error, !ok);
}

/* Large frames: awe_probe()'s answer (null when the probe failed) and the
 * settings behind it, each null when its file is missing. */
static void print_json_large(const struct probe *p)
{
	const struct awe__huge *h = &p->huge;
	bool ok = !p->probe_rc;

	json_u64("large_page_size", p->pr.large_page_size, ok);
	json_u64("large_frames", p->pr.large_frames, ok);
	json_str("large_reason", ok ? p->pr.large_reason : NULL);
	json_str("thp_enabled", h->thp ? awe__thp_name(h->thp) : NULL);
	json_str("thp_enabled_size", h->thp_size ? awe__thp_name(h->thp_size) : NULL);
	json_str("thp_defrag", h->defrag ? awe__defrag_name(h->defrag) : NULL);
	json_str("thp_shmem_enabled", h->shmem ? awe__shmem_name(h->shmem) : NULL);
	json_str("thp_shmem_enabled_size", h->shmem_size ? awe__shmem_name(h->shmem_size) : NULL);
	json_u64("nr_hugepages", h->nr_hugepages, h->hugetlb);
	json_u64("free_hugepages", h->free_hugepages, h->hugetlb);
	json_u64("resv_hugepages", h->resv_hugepages, h->hugetlb);
	json_u64("free_huge_blocks", h->free_blocks, h->buddy_known);
}

static void print_json_uffd(const struct probe *p)
{
	json_bool("userfaultfd", !p->uffd_err, true);
	json_str("userfaultfd_error", p->uffd_err ? errno_text(p->uffd_err) : NULL);
	json_bool("uffd_user_mode_only", p->user_mode_only, true);
	json_str("uffdio_api_error", p->api_err ? errno_text(p->api_err) : NULL);
	json_u64("uffd_features", p->features, true);
	for (size_t i = 0; i < ARRAY_SIZE(info_features); i++)
		json_tri(info_features[i].name, info_feature(p, info_features[i].bit));
	json_tri("uffd_ioctls", p->ioctls);
	json_str("uffd_ioctl_failed", p->ioctls == 0 ? p->ioctl_call : NULL);
	json_str("uffd_ioctl_error", p->ioctls == 0 ? errno_text(p->ioctl_err) : NULL);
	json_int("unprivileged_userfaultfd", p->unprivileged_uffd, p->unprivileged_uffd >= 0);
}

void info_print_json(const struct probe *p)
{
	char buf[1024];

	json_str("libawe_version", p->version);
	json_str("libawe_headers_version", AWE_VERSION);
	json_str("libawe_path", p->lib_path[0] ? p->lib_path : NULL);
	json_str("kernel_release", p->uts.release);
	json_str("machine", p->uts.machine);
	json_str("awe_engine_env", p->engine_env);
	json_str("awe_engine_env_error",
		 p->engine_env_bogus ? info_engine_error(p, buf, sizeof(buf)) : NULL);
	print_json_uffd(p);
	json_u64("max_map_count", p->pr.max_map_count, !p->probe_rc && p->pr.max_map_count);
	json_int("map_count", p->map_count, p->map_count >= 0);
	json_bool("cap_ipc_lock", p->pr.cap_ipc_lock, !p->probe_rc);
	json_limit("rlimit_memlock_soft", p->memlock.rlim_cur, true);
	json_limit("rlimit_memlock_hard", p->memlock.rlim_max, true);
	json_str("libawe_unlocked_env", p->env_unlocked);
	json_tri("membarrier_private_expedited", p->membarrier);
	json_bool("process_madvise_dontneed", !p->drop_err, true);
	print_json_memory(p);
	print_json_probe(p);
	print_json_capacity(p);
	print_json_w32(p);
	print_json_large(p);
	json_int("awe_init", p->init_rc, true);
	json_str("awe_init_error", p->init_rc ? awe_strerror(p->init_rc) : NULL);
	json_bool("works", info_works(p), true);
	json_str("failed_call", p->smoke_call);
	json_str("failed_error", p->smoke_call ? awe_strerror(p->smoke_rc) : NULL);
	json_str("verdict", info_verdict(p, buf, sizeof(buf)));
	printf("\n}\n");
}
