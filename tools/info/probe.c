// SPDX-License-Identifier: MIT
/*
 * awe-info - tell why libawe does or does not work on this machine.
 *
 * It checks, independently of libawe, everything the library depends on
 * (userfaultfd, its features and whether its ioctls are allowed, the sysctls
 * and limits that matter), then asks libawe itself and moves one frame in and
 * out of a window. The raw facts come first so that a report pasted into a
 * bug is useful even when libawe's own answer is only an error code. The
 * facts libawe itself judges by (the engine it would choose and why, whether
 * frames are locked, CAP_IPC_LOCK, the lock limit and room,
 * vm.max_map_count) come from awe_probe(), asked before libawe starts, and
 * the verdict's engine is its. The detail behind them is read here: how much
 * memory libawe could allocate now, and what limits it, with libawe's own
 * reader (src/os/sysfacts.c, compiled in), so that it is the number libawe uses;
 * the ioctls tried with libawe's own probe (src/engine/uffd_probe.c) for the same
 * reason. How many large frames the engine could have, and why not more, is
 * awe_probe()'s too; the huge page settings behind it are read here with
 * libawe's own reader (src/os/huge.c).
 *
 * Exit status: 0 when libawe works here, 1 when it does not, 2 on bad usage.
 *
 * One file though over 600 lines: the probes and the two printers (text and
 * JSON) are one pass over one struct probe, and a split would only move that
 * struct into a header that no other program includes.
 */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <linux/membarrier.h>
#include <linux/userfaultfd.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/resource.h>
#include <sys/syscall.h>
#include <sys/uio.h>
#include <sys/utsname.h>
#include <unistd.h>

#include <awe.h>

#include "huge.h"
#include "linux_abi.h"
#include "sysfacts.h"
#include "uffd_probe.h"

struct probe {
	struct utsname uts;

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
	int init_rc;
	int stats_rc;
	struct awe_stats st;
	const char *smoke_call; /* the libawe call that failed, NULL when all worked */
	int smoke_rc;
};

static const struct {
	const char *name;
	uint64_t bit;
	const char *why;
} features[] = {
	{"UFFD_FEATURE_MOVE", UFFD_FEATURE_MOVE, "UFFDIO_MOVE, Linux 6.8"},
	{"UFFD_FEATURE_SIGBUS", UFFD_FEATURE_SIGBUS, "SIGBUS on unmapped slots"},
	{"UFFD_FEATURE_PAGEFAULT_FLAG_WP", UFFD_FEATURE_PAGEFAULT_FLAG_WP,
	 "write-protection of anonymous pages"},
};

#define ARRAY_SIZE(a) (sizeof(a) / sizeof((a)[0]))

/* What libawe asks of UFFDIO_API (src/engine/uffd.c). */
#define NEED_FEATURES (UFFD_FEATURE_MOVE | UFFD_FEATURE_SIGBUS | UFFD_FEATURE_PAGEFAULT_FLAG_WP)

static long read_long(const char *path)
{
	FILE *f = fopen(path, "re");
	long v = -1;

	if (f) {
		if (fscanf(f, "%ld", &v) != 1)
			v = -1;
		fclose(f);
	}
	return v;
}

static long count_maps(void)
{
	FILE *f = fopen("/proc/self/maps", "re");
	long n = 0;
	int c;

	if (!f)
		return -1;
	while ((c = getc(f)) != EOF)
		n += c == '\n';
	fclose(f);
	return n;
}

static void probe_uffd(struct probe *p)
{
	struct uffdio_api api = {.api = UFFD_API};
	long fd = syscall(SYS_userfaultfd, O_CLOEXEC | UFFD_USER_MODE_ONLY);

	p->user_mode_only = fd >= 0;
	/* Kernels before 5.11 reject the flag; say so rather than "no userfaultfd". */
	if (fd < 0 && errno == EINVAL)
		fd = syscall(SYS_userfaultfd, O_CLOEXEC);
	if (fd < 0) {
		p->uffd_err = errno;
		return;
	}
	/* Asking for no feature makes the kernel answer with all it supports. */
	if (ioctl((int)fd, UFFDIO_API, &api) != 0)
		p->api_err = errno;
	else
		p->features = api.features;
	close((int)fd);
}

/* A kernel with every feature may still refuse an ioctl to this process (a
 * seccomp filter that allows userfaultfd(2) only): try them as libawe does,
 * on a descriptor set up as libawe sets up its own. */
static void probe_ioctls(struct probe *p)
{
	struct uffdio_api api = {.api = UFFD_API, .features = NEED_FEATURES};
	size_t page = (size_t)sysconf(_SC_PAGESIZE);
	void *zero;
	long fd;
	int r;

	p->ioctls = -1;
	if (p->uffd_err || p->api_err || !p->user_mode_only ||
	    (p->features & NEED_FEATURES) != NEED_FEATURES)
		return;
	fd = syscall(SYS_userfaultfd, O_CLOEXEC | O_NONBLOCK | UFFD_USER_MODE_ONLY);
	if (fd < 0)
		return;
	zero = mmap(NULL, page, PROT_READ, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (zero != MAP_FAILED && ioctl((int)fd, UFFDIO_API, &api) == 0) {
		r = awe__uffd_probe((int)fd, page, (uintptr_t)zero, &p->ioctl_call);
		p->ioctls = r == 0;
		p->ioctl_err = -r;
	}
	if (zero != MAP_FAILED)
		munmap(zero, page);
	close((int)fd);
}

/* What libawe's lock bias needs (src/lock.c). QUERY lists the commands this
 * kernel has; ENOSYS or EPERM (seccomp) mean none. */
static int probe_membarrier(void)
{
	long r = syscall(SYS_membarrier, MEMBARRIER_CMD_QUERY, 0, 0);

	if (r < 0)
		return errno == ENOSYS || errno == EPERM ? 0 : -1;
	return (r & MEMBARRIER_CMD_PRIVATE_EXPEDITED) != 0;
}

/* What batched drops need (src/engine/uffd_copy.c): process_madvise() of
 * MADV_DONTNEED_LOCKED on the process itself (Linux 6.13), tried on a page
 * of its own. */
static int probe_drop(void)
{
	long page = sysconf(_SC_PAGESIZE);
	void *m = mmap(NULL, (size_t)page, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1,
		       0);
	int fd = (int)syscall(SYS_pidfd_open, getpid(), 0), err = 0;
	struct iovec iov = {m, (size_t)page};

	if (m == MAP_FAILED || fd < 0)
		err = errno;
	else if (syscall(SYS_process_madvise, fd, &iov, 1, MADV_DONTNEED_LOCKED, 0) != page)
		err = errno ? errno : EIO;
	if (fd >= 0)
		close(fd);
	if (m != MAP_FAILED)
		munmap(m, (size_t)page);
	return err;
}

/* One frame into a one-page window and back: what every program does first. */
static void probe_libawe(struct probe *p)
{
	size_t page = awe_page_size();
	awe_frame_t frame = 0;
	void *win = NULL;
	ssize_t n;
	int rc;

	p->init_rc = awe_init(0);
	p->stats_rc = awe_stats(&p->st);
	if (p->init_rc || p->stats_rc) {
		p->smoke_call = p->init_rc ? "awe_init" : "awe_stats";
		p->smoke_rc = p->init_rc ? p->init_rc : p->stats_rc;
		return;
	}

	n = awe_alloc(&frame, 1);
	if (n != 1) {
		p->smoke_call = "awe_alloc";
		p->smoke_rc = n < 0 ? (int)n : -ENOMEM;
		return;
	}
	rc = awe_window_create(page, NULL, 0, &win);
	if (rc) {
		p->smoke_call = "awe_window_create";
	} else if ((rc = awe_map(win, 1, &frame)) != 0) {
		p->smoke_call = "awe_map";
	} else {
		volatile unsigned char *b = win;

		b[page - 1] = 0xa5;
		if (b[page - 1] != 0xa5) {
			p->smoke_call = "a write through the window";
			rc = -EIO;
		} else if ((rc = awe_map(win, 1, NULL)) != 0) {
			p->smoke_call = "awe_map (unmap)";
		}
	}
	p->smoke_rc = rc;
	if (win)
		awe_window_destroy(win);
	awe_free(&frame, 1, NULL);
}

static void probe_all(struct probe *p)
{
	memset(p, 0, sizeof(*p));
	uname(&p->uts);
	probe_uffd(p);
	probe_ioctls(p);
	p->unprivileged_uffd = read_long("/proc/sys/vm/unprivileged_userfaultfd");
	p->map_count = count_maps();
	if (getrlimit(RLIMIT_MEMLOCK, &p->memlock) != 0)
		p->memlock.rlim_cur = p->memlock.rlim_max = 0;
	p->env_unlocked = getenv("LIBAWE_UNLOCKED");
	p->membarrier = probe_membarrier();
	p->drop_err = probe_drop();
	p->mem_rc = awe__mem_explain(&p->mem);
	for (int v = 1; v <= 2; v++)
		if (awe__memcg_dir(v, p->memcg[v - 1], sizeof(p->memcg[0])))
			p->memcg[v - 1][0] = '\0';
	p->pmd_size = awe__read_u64("/sys/kernel/mm/transparent_hugepage/hpage_pmd_size",
				    &(uint64_t){0}) == 0;
	awe__huge_read(&p->huge, awe__large_size());
	/* Before anything starts libawe: the engine awe_init() will choose. */
	p->probe_rc = awe_probe(&p->pr);
	probe_libawe(p);
}

static bool has(const struct probe *p, uint64_t bit)
{
	return !p->uffd_err && !p->api_err && (p->features & bit);
}

/* 1 or 0 when the kernel said whether it has the feature, -1 when it could not be asked. */
static int feature(const struct probe *p, uint64_t bit)
{
	return p->uffd_err || p->api_err ? -1 : has(p, bit);
}

/* Whether the UFFDIO_MOVE engine was demanded: only then do the userfaultfd
 * verdicts explain why no engine starts (otherwise libawe falls back to
 * memfd, and the reason names what stopped that too). */
static bool uffd_forced(void)
{
	const char *v = getenv("AWE_ENGINE");

	return v && strcmp(v, "uffd") == 0;
}

/* Why no engine can start, from awe_probe()'s engine_error, in the words of
 * what was found above. */
static const char *no_engine(const struct probe *p, const char *why, char *buf, size_t len)
{
	int err = p->pr.engine_error;

	if (uffd_forced() && err == -ENOSYS && p->uffd_err == ENOSYS)
		return "libawe cannot work: userfaultfd(2) is missing from this kernel or blocked by a"
		       " seccomp filter (container runtimes often block it); unset AWE_ENGINE to"
		       " use the memfd engine";
	if (uffd_forced() && err == -ENOSYS && p->uffd_err)
		return "libawe cannot work: userfaultfd(2) is refused here (seccomp, an LSM or"
		       " vm.unprivileged_userfaultfd); unset AWE_ENGINE to use the memfd engine";
	if (uffd_forced() && err == -ENOSYS && p->ioctls == 0) {
		snprintf(buf, len,
			 "libawe cannot work with AWE_ENGINE=uffd: %s; unset AWE_ENGINE to use the "
			 "memfd engine",
			 why);
		return buf;
	}
	if (uffd_forced() && err == -EOPNOTSUPP)
		return "libawe cannot use UFFDIO_MOVE here (Linux 6.8 or later with the features"
		       " listed above is needed); unset AWE_ENGINE to use the memfd engine";
	snprintf(buf, len, "libawe cannot work: no engine can start: %s",
		 p->pr.engine_reason ? p->pr.engine_reason : awe_strerror(p->probe_rc));
	return buf;
}

/*
 * The one-line verdict names the first thing that stops libawe, in the order
 * a user has to fix them. The engine and why it was chosen are awe_probe()'s.
 */
static const char *verdict(const struct probe *p, char *buf, size_t len)
{
	const struct awe_probe *pr = &p->pr;
	const char *frames = pr->locked ? "locked" : "NOT locked: LIBAWE_UNLOCKED is set";
	char why[200] = "", how[300];

	if (p->ioctls == 0)
		awe__uffd_probe_explain(p->ioctl_call, p->ioctl_err, why, sizeof(why));
	if (!p->smoke_call && pr->engine && strcmp(pr->engine, "memfd") == 0) {
		/* A refused ioctl, as tried above, says more than the reason. */
		if (p->ioctls == 0 && strncmp(pr->engine_reason, "fallback: ", 10) == 0)
			snprintf(how, sizeof(how), " instead of UFFDIO_MOVE, because %s", why);
		else
			snprintf(how, sizeof(how), " (%s)", pr->engine_reason);
		snprintf(buf, len,
			 "libawe works here with the memfd engine%s; frames %s; scattered mappings "
			 "are limited by vm.max_map_count (%llu), see the lines above",
			 how, frames, (unsigned long long)pr->max_map_count);
		return buf;
	}
	if (!p->smoke_call && pr->engine) {
		snprintf(buf, len, "libawe works here (engine %s, frames %s)", pr->engine, frames);
		return buf;
	}
	if (p->smoke_rc == -EPERM)
		return "libawe cannot lock frames: run as root (CAP_IPC_LOCK), raise RLIMIT_MEMLOCK,"
		       " or set LIBAWE_UNLOCKED=1";
	if (!pr->engine)
		return no_engine(p, why, buf, len);
	snprintf(buf, len, "libawe fails here: %s: %s", p->smoke_call, awe_strerror(p->smoke_rc));
	return buf;
}

/* A limit in bytes: RLIM_INFINITY and libawe's UINT64_MAX are unlimited. */
static void fmt_limit(uint64_t v, char *buf, size_t len)
{
	if (v == (uint64_t)RLIM_INFINITY || v == UINT64_MAX)
		snprintf(buf, len, "unlimited");
	else if (v >= 1024 * 1024 && v % (1024 * 1024) == 0)
		snprintf(buf, len, "%llu MiB", (unsigned long long)v / (1024 * 1024));
	else if (v >= 1024 && v % 1024 == 0)
		snprintf(buf, len, "%llu KiB", (unsigned long long)v / 1024);
	else
		snprintf(buf, len, "%llu bytes", (unsigned long long)v);
}

/* Whether a memory cgroup level, not the host, limits allocations most. */
static bool cgroup_limits(const struct probe *p)
{
	return !p->mem_rc && p->mem.cg_version && p->mem.cg_room < p->mem.host_room;
}

static void fmt_size(uint64_t v, char *buf, size_t len)
{
	if (v >= (1ull << 30))
		snprintf(buf, len, "%.1f GiB", (double)v / (1ull << 30));
	else if (v >= (1ull << 20))
		snprintf(buf, len, "%.1f MiB", (double)v / (1ull << 20));
	else
		snprintf(buf, len, "%llu KiB", (unsigned long long)v >> 10);
}

static const char *errno_text(int e)
{
	const char *name = strerrorname_np(e);

	return name ? name : "?";
}

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
	if (!cgroup_limits(p)) {
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

static void print_text(const struct probe *p)
{
	char a[32], b[32], buf[512];

	field("kernel:", "%s %s %s", p->uts.sysname, p->uts.release, p->uts.machine);
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
	for (size_t i = 0; i < ARRAY_SIZE(features); i++) {
		snprintf(buf, sizeof(buf), "  %s:", features[i].name);
		field(buf, "%s (%s)",
		      (const char *[]){"unknown", "no", "yes"}[feature(p, features[i].bit) + 1],
		      features[i].why);
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
	field("verdict:", "%s", verdict(p, buf, sizeof(buf)));
}

static void json_str(const char *key, const char *s, bool last)
{
	printf("  \"%s\": ", key);
	if (!s) {
		printf("null");
	} else {
		putchar('"');
		for (; *s; s++) {
			unsigned char c = (unsigned char)*s;

			if (c == '"' || c == '\\')
				printf("\\%c", c);
			else if (c < 0x20)
				printf("\\u%04x", c);
			else
				putchar(c);
		}
		putchar('"');
	}
	printf("%s\n", last ? "" : ",");
}

static void json_num(const char *key, long long v, bool known)
{
	if (known)
		printf("  \"%s\": %lld,\n", key, v);
	else
		printf("  \"%s\": null,\n", key);
}

static void json_bool(const char *key, bool v, bool known)
{
	printf("  \"%s\": %s,\n", key, !known ? "null" : v ? "true" : "false");
}

static void json_limit(const char *key, uint64_t v, bool infinite)
{
	if (infinite)
		printf("  \"%s\": \"unlimited\",\n", key);
	else
		printf("  \"%s\": %" PRIu64 ",\n", key, v);
}

static void print_json_memory(const struct probe *p)
{
	const struct awe__mem_why *m = &p->mem;
	bool ok = !p->mem_rc, cg = cgroup_limits(p);

	json_str("memory_cgroup_v1", p->memcg[0][0] ? p->memcg[0] : NULL, false);
	json_str("cgroup_v2", p->memcg[1][0] ? p->memcg[1] : NULL, false);
	json_str("allocatable_error", ok ? NULL : errno_text(-p->mem_rc), false);
	json_num("allocatable_bytes", (long long)m->avail, ok);
	json_str("allocatable_limited_by", !ok ? NULL : cg ? "cgroup" : "host", false);
	json_str("host_memory_source", !ok ? NULL : m->host_sysinfo ? "sysinfo" : "meminfo", false);
	json_num("host_mem_available", (long long)m->host_avail, ok);
	json_num("host_mem_total", (long long)m->host_total, ok);
	json_str("limiting_cgroup", cg ? m->cg_dir : NULL, false);
	json_num("limiting_cgroup_version", m->cg_version, cg);
	json_num("limiting_cgroup_limit", (long long)m->cg_limit, cg);
	json_num("limiting_cgroup_usage", (long long)m->cg_usage, cg);
	json_num("limiting_cgroup_reclaimable", (long long)m->cg_reclaimable, cg);
}

/* awe_probe()'s answer: the engine (null when none can start), why, its
 * error (0, or -errno when none can start), locking and the lock room. */
static void print_json_probe(const struct probe *p)
{
	bool ok = !p->probe_rc;

	json_num("awe_probe", p->probe_rc, true);
	json_str("engine", ok ? p->pr.engine : NULL, false);
	json_str("engine_reason", ok ? p->pr.engine_reason : NULL, false);
	json_num("engine_error", p->pr.engine_error, ok);
	json_bool("locked", p->pr.locked, ok);
	if (ok) {
		json_limit("memlock_limit", p->pr.memlock_limit, p->pr.memlock_limit == UINT64_MAX);
		json_limit("memlock_room", p->pr.memlock_room, p->pr.memlock_room == UINT64_MAX);
	} else {
		json_num("memlock_limit", 0, false);
		json_num("memlock_room", 0, false);
	}
}

/* Large frames: awe_probe()'s answer (null when the probe failed) and the
 * settings behind it, each null when its file is missing. */
static void print_json_large(const struct probe *p)
{
	const struct awe__huge *h = &p->huge;
	bool ok = !p->probe_rc;

	json_num("large_page_size", (long long)p->pr.large_page_size, ok);
	json_num("large_frames", (long long)p->pr.large_frames, ok);
	json_str("large_reason", ok ? p->pr.large_reason : NULL, false);
	json_str("thp_enabled", h->thp ? awe__thp_name(h->thp) : NULL, false);
	json_str("thp_enabled_size", h->thp_size ? awe__thp_name(h->thp_size) : NULL, false);
	json_str("thp_defrag", h->defrag ? awe__defrag_name(h->defrag) : NULL, false);
	json_str("thp_shmem_enabled", h->shmem ? awe__shmem_name(h->shmem) : NULL, false);
	json_str("thp_shmem_enabled_size", h->shmem_size ? awe__shmem_name(h->shmem_size) : NULL,
		 false);
	json_num("nr_hugepages", (long long)h->nr_hugepages, h->hugetlb);
	json_num("free_hugepages", (long long)h->free_hugepages, h->hugetlb);
	json_num("resv_hugepages", (long long)h->resv_hugepages, h->hugetlb);
	json_num("free_huge_blocks", (long long)h->free_blocks, h->buddy_known);
}

static void print_json(const struct probe *p)
{
	char buf[512];

	printf("{\n");
	json_str("kernel_release", p->uts.release, false);
	json_str("machine", p->uts.machine, false);
	printf("  \"userfaultfd\": %s,\n", p->uffd_err ? "false" : "true");
	json_str("userfaultfd_error", p->uffd_err ? errno_text(p->uffd_err) : NULL, false);
	printf("  \"uffd_user_mode_only\": %s,\n", p->user_mode_only ? "true" : "false");
	json_str("uffdio_api_error", p->api_err ? errno_text(p->api_err) : NULL, false);
	printf("  \"uffd_features\": %" PRIu64 ",\n", p->features);
	for (size_t i = 0; i < ARRAY_SIZE(features); i++)
		printf("  \"%s\": %s,\n", features[i].name,
		       (const char *[]){"null", "false", "true"}[feature(p, features[i].bit) + 1]);
	printf("  \"uffd_ioctls\": %s,\n",
	       (const char *[]){"null", "false", "true"}[p->ioctls + 1]);
	json_str("uffd_ioctl_failed", p->ioctls == 0 ? p->ioctl_call : NULL, false);
	json_str("uffd_ioctl_error", p->ioctls == 0 ? errno_text(p->ioctl_err) : NULL, false);
	json_num("unprivileged_userfaultfd", p->unprivileged_uffd, p->unprivileged_uffd >= 0);
	json_num("max_map_count", (long long)p->pr.max_map_count,
		 !p->probe_rc && p->pr.max_map_count);
	json_num("map_count", p->map_count, p->map_count >= 0);
	json_bool("cap_ipc_lock", p->pr.cap_ipc_lock, !p->probe_rc);
	json_limit("rlimit_memlock_soft", p->memlock.rlim_cur,
		   p->memlock.rlim_cur == RLIM_INFINITY);
	json_limit("rlimit_memlock_hard", p->memlock.rlim_max,
		   p->memlock.rlim_max == RLIM_INFINITY);
	json_str("libawe_unlocked_env", p->env_unlocked, false);
	printf("  \"membarrier_private_expedited\": %s,\n",
	       (const char *[]){"null", "false", "true"}[p->membarrier + 1]);
	printf("  \"process_madvise_dontneed\": %s,\n", p->drop_err ? "false" : "true");
	print_json_memory(p);
	print_json_probe(p);
	print_json_large(p);
	printf("  \"awe_init\": %d,\n", p->init_rc);
	json_str("awe_init_error", p->init_rc ? awe_strerror(p->init_rc) : NULL, false);
	printf("  \"works\": %s,\n", p->smoke_call ? "false" : "true");
	json_str("failed_call", p->smoke_call, false);
	json_str("failed_error", p->smoke_call ? awe_strerror(p->smoke_rc) : NULL, false);
	json_str("verdict", verdict(p, buf, sizeof(buf)), true);
	printf("}\n");
}

static void usage(FILE *f)
{
	fprintf(f, "usage: awe-info [--json]\n"
		   "Check whether libawe can run on this machine, and why not.\n"
		   "Exit status: 0 when it works, 1 when it does not.\n");
}

int main(int argc, char **argv)
{
	static struct probe p;
	bool json = false;

	for (int i = 1; i < argc; i++) {
		if (strcmp(argv[i], "--json") == 0) {
			json = true;
		} else if (strcmp(argv[i], "--help") == 0 || strcmp(argv[i], "-h") == 0) {
			usage(stdout);
			return 0;
		} else {
			usage(stderr);
			return 2;
		}
	}
	probe_all(&p);
	if (json)
		print_json(&p);
	else
		print_text(&p);
	return p.smoke_call ? 1 : 0;
}
