/* SPDX-License-Identifier: MIT */
/*
 * awe_probe(): what libawe would find here, asked without starting it. The
 * engine awe_init() would choose and why (the same as awe_stats() says once
 * it runs), AWE_ENGINE and LIBAWE_UNLOCKED, the lock limit and room as root
 * and as nobody, the system's numbers, large frames and
 * awe_large_page_size() against the THP settings and the hugetlb pool read
 * here (test_huge has every setting, in fake trees), the errors, and that a
 * probe leaves nothing behind: no descriptor, no mapping, no errno, no
 * started libawe.
 *
 * Each Criterion test is a process of its own, so a test that sets the
 * environment before its first libawe call sees what a program would.
 */
#include "engine_select.h"

#include <pthread.h>
#include <sys/syscall.h>

static struct awe_probe probe_now(void)
{
	struct awe_probe p;

	memset(&p, 0xa5, sizeof(p));
	AWE_OK(awe_probe(&p));
	for (size_t i = 0; i < sizeof(p.reserved) / sizeof(p.reserved[0]); i++)
		cr_assert_eq(p.reserved[i], 0, "reserved[%zu] is %#" PRIx64, i, p.reserved[i]);
	return p;
}

static bool starts_with(const char *s, const char *prefix)
{
	return s && !strncmp(s, prefix, strlen(prefix));
}

/* The engine found: one of the two, with a reason, and no error. */
static void assert_engine_found(const struct awe_probe *p)
{
	cr_assert_not_null(p->engine, "no engine: %d (%s)", p->engine_error,
			   p->engine_reason ? p->engine_reason : "no reason");
	cr_assert(!strcmp(p->engine, "uffd-move") || !strcmp(p->engine, "memfd"),
		  "unknown engine \"%s\"", p->engine);
	cr_assert_eq(p->engine_error, 0);
	cr_assert_not_null(p->engine_reason);
	cr_assert_gt(strlen(p->engine_reason), 0);
}

/* Which engine runs, its reason and the other facts both report, as
 * awe_stats() has them. */
static void assert_same_as_stats(const struct awe_probe *p)
{
	struct awe_stats st = get_stats();

	cr_assert_str_eq(p->engine, st.engine);
	cr_assert_str_eq(p->engine_reason, st.engine_reason);
	cr_assert_eq(p->locked, st.locked);
	cr_assert_eq(p->memlock_limit, st.memlock_limit);
	cr_assert_eq(p->max_map_count, st.max_map_count);
}

/* --- the engine, before and after libawe starts --------------------------- */

/* Before any other call: not started, and the engine it names is the one
 * awe_init() then starts, for the same reason. */
Test(probe, before_init_names_the_engine)
{
	struct awe_probe p = probe_now();
	char reason[256];

	cr_assert_eq(p.started, 0);
	assert_engine_found(&p);
	snprintf(reason, sizeof(reason), "%s", p.engine_reason);
	AWE_OK(awe_init(0));
	p.engine_reason = reason;
	assert_same_as_stats(&p);
}

/* The probe starts nothing: awe_init() may still choose any flags, even
 * after several probes. */
Test(probe, does_not_start_libawe)
{
	cr_assert_eq(unsetenv("LIBAWE_UNLOCKED"), 0);
	probe_now();
	probe_now();
	AWE_OK(awe_init(AWE_INIT_UNLOCKED));
	cr_assert_eq(get_stats().locked, 0);
	AWE_ERR(awe_init(0), EBUSY);
}

/* Once started, the probe reports the running engine and its state. */
Test(probe, after_init_reports_the_running_engine)
{
	struct awe_probe p;

	unsetenv("LIBAWE_UNLOCKED");
	AWE_OK(awe_init(AWE_INIT_UNLOCKED));
	p = probe_now();
	cr_assert_eq(p.started, 1);
	assert_engine_found(&p);
	cr_assert_eq(p.locked, 0, "started unlocked, the probe says locked");
	assert_same_as_stats(&p);
	cr_assert_eq(p.engine, get_stats().engine, "the running engine's own name");
}

/* Any function starts libawe; the probe then reports that. */
Test(probe, started_by_another_call)
{
	awe_frame_t f;

	alloc_exact(&f, 1);
	cr_assert_eq(probe_now().started, 1);
}

/* AWE_ENGINE=@value, set before the first call: the probe names @engine,
 * chosen with the variable, and awe_init() starts it. */
static void probe_forced(const char *value, const char *engine)
{
	char want[64];
	struct awe_probe p = probe_now();

	snprintf(want, sizeof(want), "AWE_ENGINE=%s", value);
	cr_assert_eq(p.started, 0);
	cr_assert_str_eq(p.engine, engine);
	cr_assert(strstr(p.engine_reason, want), "engine_reason: %s", p.engine_reason);
	AWE_OK(awe_init(0));
	assert_same_as_stats(&p);
}

Test(probe, env_memfd)
{
	engine_env("memfd");
	probe_forced("memfd", "memfd");
}

Test(probe, env_uffd)
{
	engine_env("uffd");
	skip_unless_uffd_move();
	probe_forced("uffd", "uffd-move");
}

/* Without AWE_ENGINE, the engine the kernel allows: the UFFDIO_MOVE one
 * where it can run (asked of the kernel without libawe), else memfd. */
Test(probe, default_engine)
{
	struct awe_probe p;

	engine_env(NULL);
	p = probe_now();
	if (uffd_move_missing()) {
		cr_assert_str_eq(p.engine, "memfd");
		cr_assert(starts_with(p.engine_reason, "fallback: "), "engine_reason: %s",
			  p.engine_reason);
	} else {
		cr_assert_str_eq(p.engine, "uffd-move");
		cr_assert_str_eq(p.engine_reason, "the kernel's userfaultfd has UFFDIO_MOVE");
	}
}

/* A bad AWE_ENGINE is a finding, not an error: no engine, -EINVAL, the
 * reason awe_strerror() gives; the probe itself succeeds. */
Test(probe, env_bogus)
{
	struct awe_probe p;

	engine_env("bogus");
	p = probe_now();
	cr_assert_null(p.engine, "engine %s", p.engine);
	cr_assert_eq(p.engine_error, -EINVAL);
	cr_assert_str_eq(p.engine_reason, awe_strerror(-EINVAL));
	cr_assert_eq(p.started, 0);
	/* The other facts are there all the same. */
	cr_assert_eq(p.page_size, awe_page_size());
	cr_assert_gt(p.max_map_count, 0);
	cr_assert_eq(p.large_page_size, awe_large_page_size());
	cr_assert_eq(p.large_frames, 0, "no engine, yet %" PRIu64 " large frames", p.large_frames);
	cr_assert_str_eq(p.large_reason, "no engine can start, so no large frames either");
	AWE_ERR(awe_init(0), EINVAL);
	/* Nothing started: a good value starts libawe normally. */
	engine_env("memfd");
	p = probe_now();
	cr_assert_str_eq(p.engine, "memfd");
	cr_assert_eq(p.engine_error, 0);
	AWE_OK(awe_init(0));
}

/* The reason belongs to the thread that asked: another thread's probe does
 * not overwrite it. */
static void *probe_bogus(void *arg)
{
	struct awe_probe q;

	*(int *)arg = awe_probe(&q) ? 1 : q.engine_error;
	return NULL;
}

Test(probe, reason_per_thread)
{
	struct awe_probe p;
	pthread_t t;
	int err = 0;

	engine_env("memfd");
	p = probe_now();
	engine_env("bogus");
	cr_assert_eq(pthread_create(&t, NULL, probe_bogus, &err), 0);
	cr_assert_eq(pthread_join(t, NULL), 0);
	cr_assert_eq(err, -EINVAL, "the other thread's probe found %d", err);
	cr_assert(strstr(p.engine_reason, "AWE_ENGINE=memfd"), "engine_reason now: %s",
		  p.engine_reason);
	cr_assert(!strstr(p.large_reason, "no engine"), "large_reason now: %s", p.large_reason);
}

/* --- frames locked or not -------------------------------------------------- */

/* LIBAWE_UNLOCKED=1, and only "1", unlocks; read at each probe until libawe
 * starts, then the running state counts. */
Test(probe, locked_follows_env)
{
	cr_assert_eq(unsetenv("LIBAWE_UNLOCKED"), 0);
	cr_assert_eq(probe_now().locked, 1);
	cr_assert_eq(setenv("LIBAWE_UNLOCKED", "1", 1), 0);
	cr_assert_eq(probe_now().locked, 0);
	cr_assert_eq(setenv("LIBAWE_UNLOCKED", "0", 1), 0);
	cr_assert_eq(probe_now().locked, 1);
	cr_assert_eq(setenv("LIBAWE_UNLOCKED", "1", 1), 0);
	AWE_OK(awe_init(0));
	cr_assert_eq(probe_now().locked, 0);
	cr_assert_eq(unsetenv("LIBAWE_UNLOCKED"), 0);
	cr_assert_eq(probe_now().locked, 0, "the running state, not the environment");
	cr_assert_eq(get_stats().locked, 0);
}

/* --- the lock limit and room ------------------------------------------------ */

/* CAP_IPC_LOCK in the effective set, read without libawe; -1 unknown. */
static int cap_eff_ipc_lock(void)
{
	FILE *f = fopen("/proc/self/status", "re");
	unsigned long long eff;
	char line[256];
	int r = -1;

	if (!f)
		return -1;
	while (fgets(line, sizeof(line), f))
		if (sscanf(line, "CapEff: %llx", &eff) == 1) {
			r = (eff >> 14) & 1; /* CAP_IPC_LOCK */
			break;
		}
	fclose(f);
	return r;
}

/* The room libawe must see under @limit: what VmLck leaves of it. */
static uint64_t room_under(uint64_t limit, long lck_kb)
{
	uint64_t used = (uint64_t)lck_kb * 1024;

	return limit == UINT64_MAX ? UINT64_MAX : limit > used ? limit - used : 0;
}

/*
 * For children (CHILD_* checks): cap_ipc_lock is the process's capability,
 * memlock_limit its RLIMIT_MEMLOCK (UINT64_MAX with the capability or no
 * limit), memlock_room the limit less VmLck, and it shrinks with what the
 * process locks itself.
 */
static int child_memlock(void *arg)
{
	size_t len = 4 * pg();
	struct awe_probe p;
	struct rlimit rl;
	uint64_t want;
	int cap = cap_eff_ipc_lock();
	long lck = vmlck_kb();
	void *m;

	(void)arg;
	CHILD_CHECK(cap >= 0 && lck >= 0, "no CapEff or VmLck in /proc/self/status");
	CHILD_CHECK(getrlimit(RLIMIT_MEMLOCK, &rl) == 0);
	CHILD_OK(awe_probe(&p));
	want = cap || rl.rlim_cur == RLIM_INFINITY ? UINT64_MAX : rl.rlim_cur;
	CHILD_CHECK(p.cap_ipc_lock == (uint32_t)cap, "cap_ipc_lock %u, CapEff says %d",
		    p.cap_ipc_lock, cap);
	CHILD_CHECK(p.memlock_limit == want, "memlock_limit %" PRIu64 ", expected %" PRIu64,
		    p.memlock_limit, want);
	CHILD_CHECK(p.memlock_room <= p.memlock_limit);
	CHILD_CHECK(p.memlock_room == room_under(want, lck),
		    "memlock_room %" PRIu64 ", limit %" PRIu64 " and VmLck %ld kB", p.memlock_room,
		    want, lck);
	if (want == UINT64_MAX || want < (uint64_t)lck * 1024 + len)
		return 0;
	/* Locked by the program itself: the room is less by as much. */
	m = mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	/* The system call, not libc's mlock(): ASan makes that a no-op. */
	CHILD_CHECK(m != MAP_FAILED && syscall(SYS_mlock, m, len) == 0, "mlock: %s",
		    strerror(errno));
	lck = vmlck_kb();
	CHILD_OK(awe_probe(&p));
	CHILD_CHECK(p.memlock_room == room_under(want, lck) && p.memlock_room == want - len,
		    "memlock_room %" PRIu64 " after locking %zu bytes (limit %" PRIu64
		    ", VmLck %ld kB)",
		    p.memlock_room, len, want, lck);
	return 0;
}

/* As the tests run (as root: CAP_IPC_LOCK, unlimited). */
Test(probe, memlock_as_is)
{
	run_in_child(child_memlock, NULL, NULL);
}

Test(probe, memlock_as_nobody)
{
	struct child_opts o = {.as_nobody = true, .set_memlock = true, .memlock = 1 << 20};

	skip_unless_root("dropping to nobody");
	if (!memlock_settable(o.memlock))
		cr_skip_test("RLIMIT_MEMLOCK cannot be set to 1 MiB here");
	run_in_child(child_memlock, NULL, &o);
}

Test(probe, memlock_as_nobody_unlimited)
{
	struct child_opts o = {.as_nobody = true, .set_memlock = true, .memlock = RLIM_INFINITY};

	skip_unless_root("dropping to nobody");
	if (!memlock_settable(o.memlock))
		cr_skip_test("RLIMIT_MEMLOCK cannot be raised to unlimited here");
	run_in_child(child_memlock, NULL, &o);
}

/* Root with a zero limit keeps CAP_IPC_LOCK: still unlimited. */
Test(probe, memlock_root_zero_limit)
{
	struct child_opts o = {.set_memlock = true, .memlock = 0};

	skip_unless_root("the test relies on CAP_IPC_LOCK");
	run_in_child(child_memlock, NULL, &o);
}

/* --- the system's numbers ---------------------------------------------------- */

Test(probe, page_size)
{
	cr_assert_eq(probe_now().page_size, awe_page_size());
	AWE_OK(awe_init(0));
	cr_assert_eq(probe_now().page_size, awe_page_size());
}

Test(probe, max_map_count)
{
	cr_assert_eq(probe_now().max_map_count, proc_u64("/proc/sys/vm/max_map_count"));
}

/* Some memory, never more than the host has. */
Test(probe, mem_available)
{
	struct awe_probe p = probe_now();
	long total = proc_kb("/proc/meminfo", "MemTotal");

	cr_assert_gt(total, 0, "no MemTotal in /proc/meminfo");
	cr_assert_gt(p.mem_available, 0);
	cr_assert_leq(p.mem_available, (uint64_t)total * 1024,
		      "mem_available %" PRIu64 " above MemTotal %ld kB", p.mem_available, total);
}

/* --- large frames -------------------------------------------------------------- */

/* The selected word of a sysfs choice file ("always [madvise] never") into
 * @buf; NULL when the file is missing. */
static const char *sys_choice(const char *path, char *buf, size_t len)
{
	FILE *f = fopen(path, "re");
	char line[256], *open, *close;

	if (!f)
		return NULL;
	cr_assert_not_null(fgets(line, sizeof(line), f), "%s is empty", path);
	fclose(f);
	open = strchr(line, '[');
	close = open ? strchr(open, ']') : NULL;
	cr_assert_not_null(close, "%s has no [choice]: %s", path, line);
	*close = '\0';
	snprintf(buf, len, "%s", open + 1);
	return buf;
}

/* The number of a /sys file, or @missing without the file. */
static uint64_t sys_u64(const char *path, uint64_t missing)
{
	return access(path, F_OK) == 0 ? proc_u64(path) : missing;
}

#define THP "/sys/kernel/mm/transparent_hugepage"

/* What the kernel says the large page size is: THP's PMD size, else the
 * default hugetlb size, else none. */
static uint64_t large_size_here(void)
{
	long kb = proc_kb("/proc/meminfo", "Hugepagesize");

	return sys_u64(THP "/hpage_pmd_size", kb > 0 ? (uint64_t)kb * 1024 : 0);
}

/* The THP (@file "enabled") or shmem (@file "shmem_enabled") mode that holds
 * for large pages: the per-size one (Linux 6.8) unless it inherits. */
static const char *thp_mode_here(const char *file, char *buf, size_t len)
{
	char path[128];
	const char *top, *sized;
	char tmp[32];

	snprintf(path, sizeof(path), THP "/%s", file);
	top = sys_choice(path, buf, len);
	if (!top || !strcmp(top, "deny") || !strcmp(top, "force"))
		return top;
	snprintf(path, sizeof(path), THP "/hugepages-%" PRIu64 "kB/%s", large_size_here() / 1024,
		 file);
	sized = sys_choice(path, tmp, sizeof(tmp));
	if (sized && strcmp(sized, "inherit") != 0)
		snprintf(buf, len, "%s", sized);
	return buf;
}

/* The hugetlb pages of the large size a new MFD_HUGETLB mapping may get. */
static uint64_t hugetlb_free_here(void)
{
	char free_path[128], resv_path[128];
	uint64_t kb = large_size_here() / 1024, free, resv;

	snprintf(free_path, sizeof(free_path),
		 "/sys/kernel/mm/hugepages/hugepages-%" PRIu64 "kB/free_hugepages", kb);
	snprintf(resv_path, sizeof(resv_path),
		 "/sys/kernel/mm/hugepages/hugepages-%" PRIu64 "kB/resv_hugepages", kb);
	free = sys_u64(free_path, 0);
	resv = sys_u64(resv_path, 0);
	return free > resv ? free - resv : 0;
}

/* awe_large_page_size() is the kernel's, read here independently, and the
 * same every time, before libawe starts and after. */
Test(probe, large_page_size)
{
	uint64_t want = large_size_here();
	size_t size = awe_large_page_size();

	cr_assert_eq(size, want, "awe_large_page_size() %zu, the kernel says %" PRIu64, size, want);
	if (size) {
		cr_assert_eq(size & (size - 1), 0, "%zu is not a power of two", size);
		cr_assert_gt(size, awe_page_size());
	}
	cr_assert_eq(awe_large_page_size(), size);
	AWE_OK(awe_init(0));
	cr_assert_eq(awe_large_page_size(), size);
	cr_assert_eq(probe_now().large_page_size, size);
}

/* The large fields of @p agree with each other and with the system: the
 * size is awe_large_page_size(), a reason is always given, and the count
 * follows the engine's source of huge pages (THP for uffd-move; the hugetlb
 * pool, else shmem huge pages, for memfd) within memory and lock room. */
static void assert_large_consistent(const struct awe_probe *p)
{
	uint64_t size = p->large_page_size, n = p->large_frames;
	char mode[32];

	cr_assert_eq(size, awe_large_page_size());
	cr_assert_not_null(p->large_reason);
	cr_assert_gt(strlen(p->large_reason), 0);
	cr_assert_null(strchr(p->large_reason, '\n'), "two lines: %s", p->large_reason);
	if (!size) {
		cr_assert_eq(n, 0, "%" PRIu64 " large frames of no size", n);
		return;
	}
	if (!strcmp(p->engine, "uffd-move")) {
		const char *thp = thp_mode_here("enabled", mode, sizeof(mode));

		if (!thp || !strcmp(thp, "never")) {
			cr_assert_eq(n, 0, "THP %s, yet %" PRIu64 " large frames (%s)",
				     thp ? thp : "absent", n, p->large_reason);
			if (thp)
				cr_assert(strstr(p->large_reason, "THP is off") &&
						  strstr(p->large_reason, "enabled = never"),
					  "large_reason: %s", p->large_reason);
			return;
		}
		cr_assert(starts_with(p->large_reason, "THP ") && strstr(p->large_reason, thp) &&
				  strstr(p->large_reason, "defrag "),
			  "THP %s, large_reason: %s", thp, p->large_reason);
	} else if (hugetlb_free_here()) {
		/* The pool is set aside: neither memory nor the lock limit bound it. */
		cr_assert_eq(n, hugetlb_free_here(), "%" PRIu64 " large frames (%s)", n,
			     p->large_reason);
		cr_assert(strstr(p->large_reason, "MFD_HUGETLB"), "large_reason: %s",
			  p->large_reason);
		return;
	} else {
		const char *shmem = thp_mode_here("shmem_enabled", mode, sizeof(mode));

		if (!shmem || !strcmp(shmem, "never") || !strcmp(shmem, "deny")) {
			cr_assert_eq(n, 0,
				     "shmem_enabled %s and no hugetlb page free, yet %" PRIu64
				     " large frames (%s)",
				     shmem ? shmem : "absent", n, p->large_reason);
			cr_assert(strstr(p->large_reason, "no huge pages for the memfd engine"),
				  "large_reason: %s", p->large_reason);
			return;
		}
		cr_assert(strstr(p->large_reason, "shmem_enabled = ") &&
				  strstr(p->large_reason, shmem),
			  "shmem_enabled %s, large_reason: %s", shmem, p->large_reason);
	}
	/* Built on demand: within the memory available and, locked, the room. */
	cr_assert_leq(n, p->mem_available / size, "%" PRIu64 " large frames, memory for %" PRIu64,
		      n, p->mem_available / size);
	if (p->locked)
		cr_assert_leq(n, p->memlock_room / size,
			      "%" PRIu64 " large frames, lock room for %" PRIu64, n,
			      p->memlock_room / size);
}

Test(probe, large_frames_consistent)
{
	struct awe_probe p = probe_now();

	assert_engine_found(&p);
	assert_large_consistent(&p);
	AWE_OK(awe_init(0));
	p = probe_now();
	cr_assert_eq(p.started, 1);
	assert_large_consistent(&p);
}

Test(probe, large_frames_unlocked)
{
	struct awe_probe p;

	cr_assert_eq(setenv("LIBAWE_UNLOCKED", "1", 1), 0);
	p = probe_now();
	cr_assert_eq(p.locked, 0);
	assert_large_consistent(&p);
}

/* Locked under an RLIMIT_MEMLOCK of 1 MiB, as nobody: not one THP or shmem
 * frame fits, and the reason says so; hugetlb pages are not counted. */
static int child_large_memlock(void *arg)
{
	struct awe_probe p;

	(void)arg;
	CHILD_OK(awe_probe(&p));
	CHILD_CHECK(p.engine && p.locked && p.memlock_room < p.large_page_size,
		    "engine %s, locked %u, room %" PRIu64, p.engine, p.locked, p.memlock_room);
	if (strstr(p.large_reason, "MFD_HUGETLB"))
		return 0;
	CHILD_CHECK(p.large_frames == 0, "%" PRIu64 " large frames in %" PRIu64 " bytes of room",
		    p.large_frames, p.memlock_room);
	/* With THP or shmem huge pages on, the lock limit is what stops them. */
	if ((starts_with(p.large_reason, "THP ") && !starts_with(p.large_reason, "THP is off")) ||
	    strstr(p.large_reason, "shmem huge pages ("))
		CHILD_CHECK(strstr(p.large_reason, "RLIMIT_MEMLOCK leaves no room"),
			    "large_reason: %s", p.large_reason);
	return 0;
}

Test(probe, large_frames_memlock)
{
	struct child_opts o = {.as_nobody = true, .set_memlock = true, .memlock = 1 << 20};

	skip_unless_root("dropping to nobody");
	if (!awe_large_page_size())
		cr_skip_test("no large pages here");
	if (!memlock_settable(o.memlock))
		cr_skip_test("RLIMIT_MEMLOCK cannot be set to 1 MiB here");
	cr_assert_eq(unsetenv("LIBAWE_UNLOCKED"), 0);
	run_in_child(child_large_memlock, NULL, &o);
}

/* --- errors, and what a probe leaves behind ---------------------------------- */

Test(probe, bad_pointer)
{
	AWE_ERR(awe_probe(NULL), EFAULT);
	AWE_ERR(awe_probe((struct awe_probe *)16), EFAULT);
	AWE_ERR(awe_probe((struct awe_probe *)(UINTPTR_MAX - 15)), EFAULT);
	/* The failures started nothing. */
	AWE_OK(awe_init(AWE_INIT_UNLOCKED));
}

/* No descriptor or mapping stays (the engine started to find out is
 * stopped again), before libawe starts and after. */
Test(probe, leaves_nothing_behind)
{
	int fds = count_fds();
	long maps;

	cr_assert_geq(fds, 0, "/proc/self/fd unreadable");
	probe_now();
	cr_assert_eq(count_fds(), fds, "%d descriptors after a probe, %d before", count_fds(), fds);
	cr_assert_eq(libawe_fds(), 0);
	/* The first call may have set up what libc keeps for good: count from here. */
	maps = count_maps();
	probe_now();
	probe_now();
	cr_assert_eq(count_maps(), maps, "%ld mappings after probes, %ld before", count_maps(),
		     maps);
	cr_assert_eq(count_fds(), fds);
	AWE_OK(awe_init(0));
	fds = count_fds();
	maps = count_maps();
	probe_now();
	cr_assert_eq(count_fds(), fds);
	cr_assert_eq(count_maps(), maps);
}

/* errno stays as it was on success, also when no engine can start (the
 * probe then found the engine's errors, which are not its own). */
Test(probe, errno_untouched)
{
	probe_now();
	engine_env("bogus");
	probe_now();
	engine_env("memfd");
	AWE_OK(awe_init(0));
	probe_now();
}

/* A fork child has none of its parent's libawe: it is not started there. */
static int child_after_fork(void *arg)
{
	struct awe_probe p;

	(void)arg;
	CHILD_OK(awe_probe(&p));
	CHILD_CHECK(p.started == 0, "started %u in a fork child", p.started);
	CHILD_CHECK(p.engine != NULL, "no engine: %s", p.engine_reason);
	CHILD_CHECK(libawe_fds() == 0, "the child has libawe's descriptors");
	CHILD_OK(awe_init(AWE_INIT_UNLOCKED));
	CHILD_OK(awe_probe(&p));
	CHILD_CHECK(p.started == 1 && p.locked == 0, "started %u locked %u", p.started, p.locked);
	return 0;
}

Test(probe, fork_child_not_started)
{
	AWE_OK(awe_init(0));
	cr_assert_eq(probe_now().started, 1);
	run_in_child(child_after_fork, NULL, NULL);
	cr_assert_eq(probe_now().started, 1);
}

/* --- under a seccomp filter --------------------------------------------------- */

/* A child under a filter refusing @r[0..n-1], then checking with @fn. */
struct blocked {
	const struct refusal *r;
	size_t n;
	int (*fn)(void);
};

static int child_blocked(void *arg)
{
	const struct blocked *b = arg;
	int r = seccomp_refuse_checked(b->r, b->n);

	return r ? r : b->fn();
}

static void run_blocked(const struct refusal *r, size_t n, int (*fn)(void))
{
	struct blocked b = {r, n, fn};
	int status = child_status(child_blocked, &b, NULL);

	if (status == SECCOMP_SKIP)
		cr_skip_test("no seccomp filter here (see stderr)");
	cr_assert_eq(status, 0, "child exited with %d: see its stderr", status);
}

static bool contains(const char *s, const char *what)
{
	return s && strstr(s, what);
}

static const struct refusal uffd_eperm = {.nr = __NR_userfaultfd, .err = EPERM};

/* userfaultfd(2) refused: the probe names the fallback, awe_init() does
 * what it said. */
static int child_fallback(void)
{
	struct awe_probe p;
	struct awe_stats st;
	char reason[256];

	CHILD_CHECK(unsetenv("AWE_ENGINE") == 0);
	CHILD_OK(awe_probe(&p));
	CHILD_CHECK(p.started == 0 && p.engine_error == 0);
	CHILD_CHECK(p.engine && !strcmp(p.engine, "memfd"), "engine %s", p.engine);
	CHILD_CHECK(starts_with(p.engine_reason, "fallback"), "engine_reason: %s", p.engine_reason);
	CHILD_CHECK(contains(p.engine_reason, "userfaultfd") && contains(p.engine_reason, "EPERM"),
		    "engine_reason: %s", p.engine_reason);
	CHILD_CHECK(count_fds_of("userfaultfd") == 0 && libawe_fds() == 0,
		    "the probe left a descriptor");
	snprintf(reason, sizeof(reason), "%s", p.engine_reason);
	CHILD_OK(awe_init(0));
	CHILD_OK(awe_stats(&st));
	CHILD_CHECK(!strcmp(st.engine, "memfd") && !strcmp(st.engine_reason, reason),
		    "started %s (%s), the probe said memfd (%s)", st.engine, st.engine_reason,
		    reason);
	return 0;
}

Test(probe, seccomp_userfaultfd_refused_falls_back)
{
	run_blocked(&uffd_eperm, 1, child_fallback);
}

/* AWE_ENGINE=uffd where userfaultfd(2) is refused: no engine, -ENOSYS,
 * and nothing started, so the fallback still works without the variable. */
static int child_forced_uffd(void)
{
	struct awe_probe p;

	CHILD_CHECK(setenv("AWE_ENGINE", "uffd", 1) == 0);
	CHILD_OK(awe_probe(&p));
	CHILD_CHECK(!p.engine && p.engine_error == -ENOSYS, "engine %s, error %d", p.engine,
		    p.engine_error);
	CHILD_CHECK(contains(p.engine_reason, "userfaultfd"), "engine_reason: %s", p.engine_reason);
	CHILD_CHECK(p.started == 0);
	CHILD_ERR(awe_init(0), ENOSYS);
	CHILD_CHECK(unsetenv("AWE_ENGINE") == 0);
	CHILD_OK(awe_probe(&p));
	CHILD_CHECK(p.engine && !strcmp(p.engine, "memfd"), "engine %s", p.engine);
	CHILD_OK(awe_init(0));
	return 0;
}

Test(probe, seccomp_forced_uffd_no_engine)
{
	run_blocked(&uffd_eperm, 1, child_forced_uffd);
}

/* memfd_create(2) refused too: no engine at all, as awe_init() finds. */
static int child_no_engine(void)
{
	struct awe_probe p;

	CHILD_CHECK(unsetenv("AWE_ENGINE") == 0);
	CHILD_OK(awe_probe(&p));
	CHILD_CHECK(!p.engine && p.engine_error == -ENOSYS, "engine %s, error %d", p.engine,
		    p.engine_error);
	CHILD_CHECK(contains(p.engine_reason, "memfd_create"), "engine_reason: %s",
		    p.engine_reason);
	CHILD_CHECK(p.page_size == pg() && p.max_map_count > 0, "the other facts are missing");
	CHILD_ERR(awe_init(0), ENOSYS);
	return 0;
}

Test(probe, seccomp_no_engine_at_all)
{
	static const struct refusal both[] = {
		{.nr = __NR_userfaultfd, .err = EPERM},
		{.nr = __NR_memfd_create, .err = EPERM},
	};

	run_blocked(both, 2, child_no_engine);
}
