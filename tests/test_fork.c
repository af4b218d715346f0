/* SPDX-License-Identifier: MIT */
/* fork(): children inherit no AWE state; the parent's state survives. */
#include "helpers.h"

#include <fcntl.h>
#include <linux/userfaultfd.h>
#include <sys/ioctl.h>

enum { N = 16 };

/* Parent state: a window with N/2 frames mapped and N/2 parked. */
struct parent {
	char *w;
	awe_frame_t f[N];
	struct awe_stats st;
};

static void parent_setup(struct parent *p)
{
	p->w = window_new(N);
	alloc_exact(p->f, N);
	AWE_OK(awe_map(p->w, N / 2, p->f));
	for (size_t i = 0; i < N / 2; i++)
		fill_page(slot(p->w, i), p->f[i]);
	AWE_OK(awe_protect(slot(p->w, 1), 1, AWE_PROT_READ, NULL));
	p->st = get_stats();
}

/* Everything as it was, and the frames still move: nothing is shared with a child. */
static void parent_check(struct parent *p)
{
	struct awe_stats st = get_stats();

	cr_assert_eq(st.frames_allocated, p->st.frames_allocated);
	cr_assert_eq(st.frames_mapped, p->st.frames_mapped);
	cr_assert_eq(st.windows, p->st.windows);
	cr_assert_eq(st.window_bytes, p->st.window_bytes);
	assert_slot(slot(p->w, 1), p->f[1], AWE_PROT_READ);
	for (size_t i = 0; i < N / 2; i++) {
		cr_assert_eq(frame_where(p->f[i]), slot(p->w, i));
		assert_page(slot(p->w, i), p->f[i]);
	}
	for (size_t i = N / 2; i < N; i++)
		assert_parked(p->f[i]);

	unmap_range(p->w, N);
	for (size_t i = 0; i < N; i++)
		map1(slot(p->w, N - 1 - i), p->f[i]);
	for (size_t i = 0; i < N; i++) {
		if (i < N / 2)
			assert_page(slot(p->w, N - 1 - i), p->f[i]);
		else
			assert_page_zero(slot(p->w, N - 1 - i));
	}
}

static int child_sees_nothing(void *arg)
{
	struct parent *p = arg;
	struct awe_page_info pi;
	struct awe_stats st;
	struct fault fl;
	void *where;

	CHILD_OK(awe_stats(&st));
	CHILD_CHECK(st.frames_allocated == 0, "%" PRIu64 " frames", st.frames_allocated);
	CHILD_CHECK(st.frames_mapped == 0, "%" PRIu64 " mapped", st.frames_mapped);
	CHILD_CHECK(st.windows == 0, "%" PRIu64 " windows", st.windows);
	CHILD_CHECK(st.window_bytes == 0);
	for (size_t i = 0; i < N; i++)
		CHILD_ERR(awe_frame_addr(p->f[i], &where), ENOENT);
	CHILD_ERR(awe_query(p->w, &pi), EINVAL);
	CHILD_ERR(awe_map(p->w, 1, NULL), EINVAL);
	CHILD_ERR(awe_protect(p->w, 1, AWE_PROT_READ, NULL), EINVAL);
	CHILD_ERR(awe_window_destroy(p->w), EINVAL);
	CHILD_ERR(awe_free(p->f, N, NULL), ENOENT);
	/* The parent's mapped pages are not there at all. */
	fl = probe_read(p->w);
	CHILD_CHECK(fl.sig != 0, "the parent's window is readable in the child");
	fl = probe_read(slot(p->w, N / 2));
	CHILD_CHECK(fl.sig != 0, "the parent's empty slot is readable in the child");
	return 0;
}

Test(fork, child_inherits_nothing)
{
	struct parent p;

	parent_setup(&p);
	run_in_child(child_sees_nothing, &p, NULL);
	parent_check(&p);
}

/* A child starts afresh, even reusing the parent's window addresses. */
static int child_fresh_use(void *arg)
{
	struct parent *p = arg;
	awe_frame_t f[N];
	struct awe_stats st;
	void *base = NULL, *where;

	/* The window first: the frames' parking space could take the hole. */
	CHILD_OK(awe_window_create(N * pg(), p->w, AWE_WINDOW_FIXED, &base));
	CHILD_CHECK(base == p->w, "FIXED window at %p landed at %p", (void *)p->w, base);
	CHILD_CHECK(awe_alloc(f, N) == N);
	CHILD_OK(awe_map(base, N, f));
	for (size_t i = 0; i < N; i++) {
		CHILD_CHECK(*(uint64_t *)slot(base, i) == 0, "frame %zu not zeroed", i);
		*(uint64_t *)slot(base, i) = f[i];
	}
	CHILD_OK(awe_map(base, N, NULL));
	CHILD_OK(awe_map(slot(base, 1), 1, &f[0]));
	CHILD_CHECK(*(uint64_t *)slot(base, 1) == f[0]);
	CHILD_OK(awe_frame_addr(f[0], &where));
	CHILD_CHECK(where == slot(base, 1));
	CHILD_OK(awe_free(f, N, NULL));
	CHILD_OK(awe_window_destroy(base));
	CHILD_OK(awe_stats(&st));
	CHILD_CHECK(st.frames_allocated == 0 && st.windows == 0 && st.frames_mapped == 0);
	return 0;
}

Test(fork, child_starts_fresh)
{
	struct parent p;

	parent_setup(&p);
	run_in_child(child_fresh_use, &p, NULL);
	parent_check(&p);
}

/* A child of a process that never used libawe works normally too. */
Test(fork, child_of_unused_parent)
{
	struct parent p = {.w = free_range(N)};

	run_in_child(child_fresh_use, &p, NULL);
	cr_assert_eq(get_stats().frames_allocated, 0);
}

/*
 * While a child is alive the parent keeps moving its frames: the pages must
 * not be shared copy-on-write with the child (the kernel refuses to move
 * shared pages).
 */
Test(fork, parent_works_while_child_lives)
{
	struct parent p;
	int go[2], status;
	pid_t pid;
	char c = 0;

	parent_setup(&p);
	cr_assert_eq(pipe(go), 0);
	fflush(NULL);
	pid = fork();
	cr_assert_neq(pid, -1);
	if (pid == 0) {
		close(go[1]);
		_exit(read(go[0], &c, 1) == 1 ? 0 : 1);
	}
	close(go[0]);
	parent_check(&p);
	cr_assert_eq(write(go[1], &c, 1), 1);
	close(go[1]);
	cr_assert_eq(waitpid(pid, &status, 0), pid);
	cr_assert(WIFEXITED(status) && WEXITSTATUS(status) == 0);
}

/* Several generations: a grandchild is as empty as a child. */
static int child_forks_again(void *arg)
{
	struct parent *p = arg;
	awe_frame_t f;
	pid_t pid;
	int status;

	CHILD_CHECK(awe_alloc(&f, 1) == 1);
	fflush(NULL);
	pid = fork();
	CHILD_CHECK(pid != -1);
	if (pid == 0)
		_exit(child_sees_nothing(p));
	CHILD_CHECK(waitpid(pid, &status, 0) == pid);
	CHILD_CHECK(WIFEXITED(status) && WEXITSTATUS(status) == 0, "grandchild status %#x", status);
	CHILD_OK(awe_free(&f, 1, NULL));
	return 0;
}

Test(fork, grandchild)
{
	struct parent p;

	parent_setup(&p);
	run_in_child(child_forks_again, &p, NULL);
	parent_check(&p);
}

/*
 * A child that never calls libawe must not be able to reach the parent's
 * frames either: no descriptor of the parent's frame store (the memfd
 * engine's memfd, whose pages are the frames) may stay open in it, or the
 * child could read and write the parent's live frames through it. The
 * UFFDIO_MOVE engine's frames are private pages that fork() does not copy.
 */
static int child_holds_no_frame_store(void *arg)
{
	int found;

	(void)arg;
	/* No libawe call here: that would clean up the parent's state. */
	found = libawe_fds();
	CHILD_CHECK(found == 0, "%d descriptors of the parent's libawe are open in the child",
		    found);
	return 0;
}

Test(fork, child_holds_no_frame_store)
{
	struct parent p;

	parent_setup(&p);
	run_in_child(child_holds_no_frame_store, &p, NULL);
	parent_check(&p);
}

/*
 * Not through the frame store, nor through the engine's userfaultfd: a
 * userfaultfd stays bound to the process that opened it, so a child holding
 * the parent's could UFFDIO_COPY pages into the parent's empty slots (the
 * parent would then read foreign data from a slot awe_query() calls empty,
 * and fail to map there). Every descriptor the child has is tried.
 */
static int child_cannot_reach_parent(void *arg)
{
	struct parent *p = arg;
	static char page[65536] __attribute__((aligned(65536)));
	int reached = 0, found = libawe_fds();

	memset(page, 0x5a, sizeof(page));
	for (int fd = 0; fd < 1024; fd++) {
		struct uffdio_copy cp = {
			.dst = (uintptr_t)slot(p->w, N - 1),
			.src = (uintptr_t)page,
			.len = pg(),
		};

		if (fcntl(fd, F_GETFD) == -1)
			continue;
		if (ioctl(fd, UFFDIO_COPY, &cp) == 0 || cp.copy > 0) {
			fprintf(stderr, "descriptor %d wrote into the parent's slot\n", fd);
			reached++;
		}
	}
	CHILD_CHECK(found == 0, "%d descriptors of the parent's libawe are open", found);
	CHILD_CHECK(reached == 0, "%d descriptors reach the parent's windows", reached);
	return 0;
}

Test(fork, child_cannot_reach_parent_windows)
{
	struct parent p;
	awe_section_t sec;
	awe_frame_t sf;
	void *sw;

	parent_setup(&p);
	/* A section too: its frames are in a memfd of their own. */
	AWE_OK(awe_section_create(0, &sec));
	cr_assert_eq(awe_section_alloc(sec, &sf, 1), 1);
	AWE_OK(awe_section_window_create(sec, pg(), NULL, 0, &sw));
	AWE_OK(awe_map(sw, 1, &sf));
	*(uint64_t *)sw = sf;
	p.st = get_stats();
	run_in_child(child_cannot_reach_parent, &p, NULL);
	/* The slot the child aimed at is still empty: it faults, and maps. */
	assert_slot(slot(p.w, N - 1), 0, AWE_PROT_NONE);
	assert_read_faults(slot(p.w, N - 1));
	cr_assert_eq(*(uint64_t *)sw, sf);
	parent_check(&p);
}

/* Programs a child execs inherit none of libawe's descriptors either. */
Test(fork, exec_inherits_no_descriptor)
{
	struct parent p;
	char out[8192] = "";
	size_t got = 0;
	int pipefd[2], st;
	ssize_t n;
	pid_t pid;

	parent_setup(&p);
	cr_assert_eq(pipe(pipefd), 0);
	fflush(NULL);
	pid = fork();
	cr_assert_neq(pid, -1);
	if (pid == 0) {
		dup2(pipefd[1], 1);
		execl("/bin/sh", "sh", "-c", "for f in /proc/self/fd/*; do readlink \"$f\"; done",
		      (char *)NULL);
		_exit(127);
	}
	close(pipefd[1]);
	while (got < sizeof(out) - 1 && (n = read(pipefd[0], out + got, sizeof(out) - 1 - got)) > 0)
		got += (size_t)n;
	close(pipefd[0]);
	cr_assert_eq(waitpid(pid, &st, 0), pid);
	cr_assert(WIFEXITED(st) && WEXITSTATUS(st) == 0, "the shell failed: %#x", st);
	cr_log_info("descriptors of the exec'd program:\n%s", out);
	cr_assert_null(strstr(out, "userfaultfd"), "the exec'd program holds a userfaultfd:\n%s",
		       out);
	cr_assert_null(strstr(out, "memfd:libawe"), "the exec'd program holds a frame store:\n%s",
		       out);
	parent_check(&p);
}
