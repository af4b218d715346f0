/* SPDX-License-Identifier: MIT */
/*
 * What memory allows in real memory cgroups (src/os/sysfacts.c), as root: in a
 * cgroup with a small limit (v1 or v2, its own or its parent's, with or
 * without a descriptor left), asking for far more than the limit must give
 * fewer frames, all of them usable, instead of getting the process
 * OOM-killed or pushing its usage into the limit.
 */
#include "memcap.h"

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
