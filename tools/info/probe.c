// SPDX-License-Identifier: MIT
/*
 * awe-info's probes: the facts libawe depends on, read independently of
 * libawe (userfaultfd, its features and whether its ioctls are allowed,
 * the sysctls and limits), then libawe's own view: awe_probe(), asked
 * before libawe starts, and one frame moved in and out of a window.
 *
 * How much memory libawe could allocate now, and what limits it, is read
 * with libawe's own reader (src/os/sysfacts.c, compiled in), so that it is
 * the number libawe uses; the ioctls are tried with libawe's own probe
 * (src/engine/uffd_probe.c) for the same reason, and the huge page settings
 * with its own reader (src/os/huge.c).
 */
#include <dlfcn.h>
#include <errno.h>
#include <fcntl.h>
#include <linux/membarrier.h>
#include <linux/userfaultfd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <sys/uio.h>
#include <unistd.h>

#include "info.h"
#include "linux_abi.h"
#include "uffd_probe.h"

const struct feature_name info_features[3] = {
	{"UFFD_FEATURE_MOVE", UFFD_FEATURE_MOVE, "UFFDIO_MOVE, Linux 6.8"},
	{"UFFD_FEATURE_SIGBUS", UFFD_FEATURE_SIGBUS, "SIGBUS on unmapped slots"},
	{"UFFD_FEATURE_PAGEFAULT_FLAG_WP", UFFD_FEATURE_PAGEFAULT_FLAG_WP,
	 "write-protection of anonymous pages"},
};

const char *const info_engine_values[2] = {"uffd", "memfd"};

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

/* The version of the library loaded, and its file: the string lies in the
 * library's own data, so dladdr() names the library, never this program. */
static void probe_version(struct probe *p)
{
	Dl_info di;
	char *real;

	p->version = awe_version();
	if (!dladdr(p->version, &di) || !di.dli_fname)
		return;
	real = realpath(di.dli_fname, NULL);
	snprintf(p->lib_path, sizeof(p->lib_path), "%s", real ? real : di.dli_fname);
	free(real);
}

/* AWE_ENGINE as libawe reads it (src/engine/select.c): unset or empty lets
 * it choose. A name it does not take makes awe_probe() find no engine with
 * -EINVAL; both must hold, so that an engine failing for a reason of its own
 * is not called a bad name. */
static void probe_engine_env(struct probe *p)
{
	const char *v = getenv("AWE_ENGINE");
	bool known = false;

	p->engine_env = v && *v ? v : NULL;
	if (!p->engine_env)
		return;
	for (size_t i = 0; i < ARRAY_SIZE(info_engine_values); i++)
		known |= strcmp(v, info_engine_values[i]) == 0;
	p->engine_env_bogus = !known && !p->probe_rc && p->pr.engine_error == -EINVAL;
}

void info_probe_all(struct probe *p)
{
	memset(p, 0, sizeof(*p));
	uname(&p->uts);
	probe_version(p);
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
	/* Before anything starts libawe: the engine awe_init() will choose, and
	 * the capacity from the same numbers. */
	p->probe_rc = awe_probe(&p->pr);
	probe_engine_env(p);
	info_capacity(p);
	info_w32(p);
	probe_libawe(p);
}

int info_feature(const struct probe *p, uint64_t bit)
{
	return p->uffd_err || p->api_err ? -1 : (p->features & bit) != 0;
}
