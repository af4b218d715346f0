// SPDX-License-Identifier: MIT
/*
 * awe-info's report as text: one "label: value" line per fact, the raw
 * facts first so that a report pasted into a bug is useful even when
 * libawe's own answer is only an error code, the verdict last.
 */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include <awe/version.h>

#include "info.h"

/* One "label: value" line, values aligned in one column. */
static void field(const char *label, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void field(const char *label, const char *fmt, ...)
{
	va_list ap;

	printf("%-34s", label);
	va_start(ap, fmt);
	vprintf(fmt, ap);
	va_end(ap);
	putchar('\n');
}

/* What libawe could allocate now, and what stops it there. */
static void print_memory(const struct probe *p)
{
	const struct awe__mem_why *m = &p->mem;
	char a[32], b[32], c[32];

	for (int v = 1; v <= 2; v++)
		field(v == 1 ? "memory cgroup (v1):" : "cgroup (v2):", "%s",
		      p->memcg[v - 1][0] ? p->memcg[v - 1] : "none");
	if (p->mem_rc) {
		field("allocatable now:", "unknown (%s: %s)", errno_text(-p->mem_rc),
		      strerror(-p->mem_rc));
		return;
	}
	fmt_size(m->host_avail, a, sizeof(a));
	fmt_size(m->host_total, b, sizeof(b));
	fmt_size(m->host_avail - m->host_room, c, sizeof(c));
	if (m->host_sysinfo)
		field("host memory:", "%s free of %s (sysinfo: /proc/meminfo unreadable)", a, b);
	else
		field("host memory:", "MemAvailable %s of %s", a, b);
	fmt_size(m->avail, a, sizeof(a));
	if (!info_cgroup_limits(p)) {
		field("allocatable now:", "%s, limited by the host (less %s left to the rest)", a,
		      c);
		return;
	}
	fmt_size(m->cg_limit, b, sizeof(b));
	fmt_size(m->cg_usage, c, sizeof(c));
	field("allocatable now:", "%s, limited by memory cgroup v%d %s", a, m->cg_version,
	      m->cg_dir);
	fmt_size(m->cg_reclaimable, a, sizeof(a));
	field("  that cgroup:", "limit %s, usage %s, reclaimable %s", b, c, a);
}

/* What libawe may still lock, as awe_probe() counts it. */
static void print_memlock_room(const struct probe *p)
{
	char a[32], b[32];

	if (p->probe_rc) {
		field("memlock room:", "unknown");
	} else if (p->pr.memlock_room == UINT64_MAX) {
		field("memlock room:", "unlimited%s",
		      p->pr.cap_ipc_lock ? " (CAP_IPC_LOCK)" : " (no RLIMIT_MEMLOCK)");
	} else {
		fmt_limit(p->pr.memlock_room, a, sizeof(a));
		fmt_limit(p->pr.memlock_limit, b, sizeof(b));
		field("memlock room:", "%s of %s not locked yet", a, b);
	}
}

/* awe_probe()'s answer, asked before libawe started: the engine and why. */
static void print_probe(const struct probe *p)
{
	if (p->probe_rc) {
		field("awe_probe:", "%d: %s", p->probe_rc, awe_strerror(p->probe_rc));
		return;
	}
	if (p->pr.engine)
		field("awe_probe:", "engine %s, frames %s", p->pr.engine,
		      p->pr.locked ? "locked" : "not locked");
	else
		field("awe_probe:", "no engine can start (%s)", errno_text(-p->pr.engine_error));
	field(p->pr.engine ? "engine chosen because:" : "no engine because:", "%s",
	      p->pr.engine_reason);
}

/* A THP setting, with the per-size one of the large page size when the
 * kernel has one (Linux 6.8): "madvise (hugepages-2048kB: inherit)". */
static void print_setting(const struct probe *p, const char *label, const char *top, bool sized,
			  const char *size)
{
	if (sized)
		field(label, "%s (hugepages-%llukB: %s)", top,
		      (unsigned long long)(p->huge.size / 1024), size);
	else
		field(label, "%s", top);
}

/* Large frames: the size, the settings that decide how many can be had,
 * and awe_probe()'s answer for its engine. */
static void print_large(const struct probe *p)
{
	const struct awe__huge *h = &p->huge;
	char a[32] = "none";

	if (!h->size) {
		field("large page size:", "none (no transparent huge pages, no hugetlbfs)");
	} else {
		fmt_limit(h->size, a, sizeof(a));
		field("large page size:", "%s (%s)", a,
		      p->pmd_size ? "transparent_hugepage/hpage_pmd_size"
				  : "Hugepagesize of /proc/meminfo");
	}
	print_setting(p, "THP enabled:", awe__thp_name(h->thp), h->thp_size != AWE__THP_ABSENT,
		      awe__thp_name(h->thp_size));
	field("THP defrag:", "%s%s", awe__defrag_name(h->defrag),
	      h->defrag == AWE__DEFRAG_ABSENT ? ""
	      : awe__huge_compacts(h)	      ? " (a madvised fault compacts memory)"
					      : " (a fault takes only free huge blocks)");
	print_setting(p, "THP shmem_enabled:", awe__shmem_name(h->shmem),
		      h->shmem_size != AWE__SHMEM_ABSENT, awe__shmem_name(h->shmem_size));
	if (h->hugetlb)
		field("hugetlb pages:", "%llu of %s (vm.nr_hugepages), %llu free, %llu reserved",
		      (unsigned long long)h->nr_hugepages, a, (unsigned long long)h->free_hugepages,
		      (unsigned long long)h->resv_hugepages);
	else
		field("hugetlb pages:", "none of this size");
	if (h->buddy_known)
		field("free huge blocks:",
		      "%llu (free memory already in %s blocks; the rest needs compaction)",
		      (unsigned long long)h->free_blocks, a);
	else
		field("free huge blocks:", "unknown (no /proc/buddyinfo)");
	if (p->probe_rc) {
		field("large frames now:", "unknown");
		return;
	}
	if (!p->pr.engine)
		field("large frames now:", "0 (no engine)");
	else if (!p->pr.large_frames)
		field("large frames now:", "0 (engine %s)", p->pr.engine);
	else
		field("large frames now:", "at most %llu (engine %s)",
		      (unsigned long long)p->pr.large_frames, p->pr.engine);
	field("large frames because:", "%s", p->pr.large_reason);
}

/* The library loaded, and the headers awe-info was built with when they
 * differ. */
static void print_version(const struct probe *p)
{
	char hdr[64] = "";

	if (strcmp(p->version, AWE_VERSION) != 0)
		snprintf(hdr, sizeof(hdr), ", awe-info built with %s's headers", AWE_VERSION);
	field("libawe:", "%s (%s%s)", p->version, p->lib_path[0] ? p->lib_path : "file unknown",
	      hdr);
}

static void print_engine_env(const struct probe *p)
{
	if (!p->engine_env)
		field("AWE_ENGINE:", "(unset: libawe chooses)");
	else if (p->engine_env_bogus)
		field("AWE_ENGINE:", "%s: ERROR: names no engine; libawe takes " ENGINE_VALUES_TEXT,
		      p->engine_env);
	else
		field("AWE_ENGINE:", "%s", p->engine_env);
}

/* Why memory, not the lock limit, bounds the frames. */
static const char *no_lock_limit(const struct probe *p)
{
	if (!p->pr.locked)
		return "frames are not locked";
	if (p->pr.cap_ipc_lock)
		return "no lock limit: CAP_IPC_LOCK";
	if (p->pr.memlock_room == UINT64_MAX)
		return "no lock limit: RLIMIT_MEMLOCK is unlimited";
	return "the lock room is larger";
}

/* How much of frames and windows this process could have now (capacity.c). */
static void print_capacity(const struct probe *p)
{
	const struct capacity *c = &p->cap;
	char a[32], b[32];

	if (!c->known || !p->pr.engine) {
		field("frames now:", "%s", c->known ? "none (no engine)" : "unknown");
		return;
	}
	if (c->by_memlock) {
		fmt_limit(c->frames, a, sizeof(a));
		fmt_size(p->pr.mem_available, b, sizeof(b));
		field("frames now:", "%s, the room under RLIMIT_MEMLOCK (memory allows %s)", a, b);
	} else {
		fmt_size(c->frames, a, sizeof(a));
		field("frames now:", "%s, as %s allows (%s)", a,
		      info_cgroup_limits(p) ? "the memory cgroup" : "the host's memory",
		      no_lock_limit(p));
	}
	if (c->shown < c->frames) {
		fmt_limit(c->shown, a, sizeof(a));
		fmt_limit(c->windows, b, sizeof(b));
		field("  shown at once:",
		      "%s (%s locks its windows too: frames and windows share the %s)", a,
		      p->pr.engine, b);
	} else {
		field("  shown at once:", "all of them");
	}
	if (c->windows_locked && c->windows != UINT64_MAX) {
		fmt_limit(c->windows, a, sizeof(a));
		field("windows now:", "locked on fault like frames: %s less the frames", a);
	} else if (c->windows_locked) {
		field("windows now:", "locked on fault like frames, with no lock limit");
	} else if (c->scattered) {
		fmt_size(c->scattered * p->pr.page_size, a, sizeof(a));
		field("windows now:",
		      "not locked; %llu slots (%s) may be in use at once, however scattered "
		      "(libawe's budget under vm.max_map_count; an isolated page counts with its "
		      "empty neighbour)",
		      (unsigned long long)c->scattered, a);
	} else {
		field("windows now:", "not locked: address space only");
	}
}

/* libawe-win32's SeLockMemoryPrivilege, as its own AdjustTokenPrivileges()
 * answers (win32.c). */
static void print_w32(const struct probe *p)
{
	const char *label = "Win32 SeLockMemoryPrivilege:";
	char why[256];

	if (p->w32.held < 0) {
		field(label, "unknown (%s failed with error %lu)", p->w32.call, p->w32.error);
		return;
	}
	info_w32_reason(p, why, sizeof(why));
	if (p->w32.held)
		field(label, "held (%s), %s", why,
		      p->w32.enabled ? "enabled at start (LIBAWE_WIN32_LOCK_PRIVILEGE=1)"
				     : "disabled until the program enables it");
	else
		field(label,
		      "not held: %s; AllocateUserPhysicalPages fails with "
		      "ERROR_PRIVILEGE_NOT_HELD (1314)",
		      why);
}

void info_print_text(const struct probe *p)
{
	char a[32], b[32], buf[1024];

	print_version(p);
	field("kernel:", "%s %s %s", p->uts.sysname, p->uts.release, p->uts.machine);
	print_engine_env(p);
	if (p->uffd_err)
		field("userfaultfd:", "no (%s: %s)", errno_text(p->uffd_err),
		      strerror(p->uffd_err));
	else
		field("userfaultfd:", "yes%s",
		      p->user_mode_only ? " (UFFD_USER_MODE_ONLY)"
					: ", but UFFD_USER_MODE_ONLY is refused (kernel < 5.11)");
	if (p->api_err)
		field("UFFDIO_API:", "failed (%s: %s)", errno_text(p->api_err),
		      strerror(p->api_err));
	for (size_t i = 0; i < ARRAY_SIZE(info_features); i++) {
		snprintf(buf, sizeof(buf), "  %s:", info_features[i].name);
		field(buf, "%s (%s)",
		      (const char *[]){"unknown", "no",
				       "yes"}[info_feature(p, info_features[i].bit) + 1],
		      info_features[i].why);
	}
	if (p->ioctls < 0)
		field("userfaultfd ioctls:", "not tried (needs every feature above)");
	else if (p->ioctls)
		field("userfaultfd ioctls:", "allowed (REGISTER, COPY, MOVE, WRITEPROTECT)");
	else
		field("userfaultfd ioctls:", "%s refused (%s: %s)", p->ioctl_call,
		      errno_text(p->ioctl_err), strerror(p->ioctl_err));
	if (p->unprivileged_uffd == 0 && p->user_mode_only)
		field("vm.unprivileged_userfaultfd:",
		      "0 (fine: UFFD_USER_MODE_ONLY needs no privilege)");
	else if (p->unprivileged_uffd >= 0)
		field("vm.unprivileged_userfaultfd:", "%ld", p->unprivileged_uffd);
	else
		field("vm.unprivileged_userfaultfd:", "unknown");
	if (!p->probe_rc && p->pr.max_map_count)
		field("vm.max_map_count:", "%llu (this process has %ld mappings)",
		      (unsigned long long)p->pr.max_map_count, p->map_count);
	else
		field("vm.max_map_count:", "unknown");
	field("CAP_IPC_LOCK:", "%s", p->probe_rc ? "unknown" : p->pr.cap_ipc_lock ? "yes" : "no");
	fmt_limit(p->memlock.rlim_cur, a, sizeof(a));
	fmt_limit(p->memlock.rlim_max, b, sizeof(b));
	field("RLIMIT_MEMLOCK:", "soft %s, hard %s", a, b);
	print_memlock_room(p);
	field("LIBAWE_UNLOCKED:", "%s", p->env_unlocked ? p->env_unlocked : "(unset)");
	field("membarrier:", "%s",
	      p->membarrier < 0 ? "unknown"
	      : p->membarrier	? "yes (a thread using libawe alone locks without atomics)"
				: "no (libawe's lock is a plain mutex)");
	if (p->drop_err)
		field("batched drops:",
		      "no (process_madvise: %s: %s): with other threads running, "
		      "each exclusive unmap pays a TLB shootdown per run of pages",
		      errno_text(p->drop_err), strerror(p->drop_err));
	else
		field("batched drops:", "yes (process_madvise: one TLB shootdown per 256 pages "
					"of an exclusive unmap)");
	print_memory(p);

	print_probe(p);
	print_capacity(p);
	print_w32(p);
	print_large(p);
	if (p->init_rc)
		field("awe_init(0):", "%d: %s", p->init_rc, awe_strerror(p->init_rc));
	else
		field("awe_init(0):", "0 (ok)");
	if (!p->stats_rc) {
		fmt_limit(p->st.memlock_limit, a, sizeof(a));
		field("awe_stats:", "engine %s, locked %u, memlock_limit %s", p->st.engine,
		      p->st.locked, a);
		field("memfd windows, worst case:", "%llu VMAs (limit %llu, see awe(7))",
		      (unsigned long long)p->st.vmas_worst,
		      (unsigned long long)p->st.max_map_count);
	}
	if (p->smoke_call)
		field("map/unmap one frame:", "failed in %s: %s", p->smoke_call,
		      awe_strerror(p->smoke_rc));
	else
		field("map/unmap one frame:", "ok");
	field("verdict:", "%s", info_verdict(p, buf, sizeof(buf)));
}
