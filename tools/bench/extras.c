// SPDX-License-Identifier: MIT
/*
 * The runs that are not timed workloads: how many scattered mappings fit in
 * one window, what each contender keeps in memory per frame, and what a long
 * random churn does to page tables.
 *
 * Each runs in a child process of its own: libawe keeps its parking space
 * and tables for the life of a process, and the process's page tables and
 * mappings carry whatever the timed cases left, so measuring here would
 * count earlier cases too. A fork()ed child starts with an empty libawe (its
 * ranges are MADV_DONTFORK) and only small page tables of its own.
 */
#include <errno.h>
#include <fcntl.h>
#include <malloc.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "bench.h"

#define PG (opts.page)

struct target1 {
	void *st;
	uint64_t *h;
	char *base;
};

/* One window of @slots for @frames frames; the handle array is allocated
 * here unless the caller did (to keep it out of a measurement). */
static int setup1(const struct contender *c, struct target1 *t, size_t frames, size_t slots,
		  bool lazy)
{
	struct setup_args a = {
		.frames = frames,
		.windows = 1,
		.window_pages = slots,
		.lazy = lazy,
		.bases = &t->base,
	};

	if (!t->h)
		t->h = xcalloc(frames, sizeof(*t->h));
	a.handles = t->h;
	t->st = NULL;
	return c->setup(&t->st, &a);
}

static void teardown1(const struct contender *c, struct target1 *t)
{
	if (t->st)
		c->teardown(t->st);
	t->st = NULL;
	free(t->h);
	t->h = NULL;
}

/* One-time costs are not per frame: libawe, for one, drops the tables a
 * child inherited on its first call, which would count as less. */
static void warm_once(const struct contender *c)
{
	struct target1 t = {0};

	if (setup1(c, &t, 1, 1, false) == 0)
		teardown1(c, &t);
	else
		free(t.h);
}

static enum status fail_status(const struct contender *c, int rc)
{
	return rc == -ENOMEM && (c->flags & C_VMA_LIMITED) ? ST_LIMIT : ST_ERROR;
}

/* An odd stride sharing no factor with @n: neighbouring slots then never get
 * consecutive frames, so no remapper can merge them into one mapping. */
static size_t stride_for(size_t n)
{
	size_t p = 7919, a, b;

	for (;; p += 2) {
		for (a = n, b = p; b;) {
			size_t r = a % b;

			a = b;
			b = r;
		}
		if (a == 1)
			return p;
	}
}

static void maxmap_pattern(const struct contender *c, struct target1 *t, size_t count, int pat,
			   long maps0, struct maxmap_result *out)
{
	size_t stride = stride_for(count), i;
	uint64_t t0 = now_ns(), el;
	int rc = 0;

	for (i = 0; i < count; i++) {
		void *a = t->base + (pat == 0 ? 2 * i : i) * PG;
		uint64_t f = t->h[pat == 0 ? i : (i * stride) % count];

		rc = c->map(t->st, &a, &f, 1);
		if (rc)
			break;
	}
	el = now_ns() - t0;
	out->mapped = i;
	out->vmas = count_maps() - maps0;
	out->ns_mapping = i ? (double)el / (double)i : 0;
	if (!rc)
		return;
	out->status = fail_status(c, rc);
	snprintf(out->msg, sizeof(out->msg), "%s", bench_errmsg());
	if (i) {
		/* At the limit, can the program still give a page back? */
		void *a = t->base + (pat == 0 ? 2 * (i / 2) : i / 2) * PG;

		rc = c->unmap(t->st, &a, 1);
		snprintf(out->unmap_after, sizeof(out->unmap_after), "%s%s",
			 rc ? "unmapping a page then fails: " : "unmapping a page then works",
			 rc ? bench_errmsg() : "");
	}
}

static void maxmap_body(const struct contender *c, size_t count, struct maxmap_result out[2])
{
	static const char *const names[] = {"isolated", "adjacent"};
	struct target1 t = {0};
	long maps0 = count_maps();
	int rc = setup1(c, &t, count, 2 * count, true);

	for (int pat = 0; pat < 2; pat++) {
		out[pat] = (struct maxmap_result){.c = c, .pattern = names[pat], .target = count};
		if (rc) {
			out[pat].status = ST_ERROR;
			snprintf(out[pat].msg, sizeof(out[pat].msg), "setup: %s", bench_errmsg());
			continue;
		}
		maxmap_pattern(c, &t, count, pat, maps0, &out[pat]);
		/* Emptying the window can itself fail at the limit; start afresh. */
		if (c->unmap_range(t.st, t.base, 2 * count) != 0 && pat == 0) {
			teardown1(c, &t);
			rc = setup1(c, &t, count, 2 * count, true);
		}
	}
	teardown1(c, &t);
}

static void memory_body(const struct contender *c, size_t frames, struct memory_result *out)
{
	struct target1 t;
	struct proc_mem m0, m1;
	long maps0;
	int rc;

	*out = (struct memory_result){.c = c, .frames = frames};
	warm_once(c);
	/* The frame numbers are the program's (Windows' PFN array), not the
	 * contender's. */
	t.h = xcalloc(frames, sizeof(*t.h));
	memset(t.h, 0xff, frames * sizeof(*t.h));
	/* Free heap this child inherited is resident already: reused, it would
	 * hide the contender's allocations from RssAnon. Give it back first. */
	malloc_trim(0);
	read_proc_mem(&m0);
	maps0 = count_maps();
	rc = setup1(c, &t, frames, frames, false);
	for (size_t i = 0; !rc && i < frames; i += BENCH_SWEEP_PAGES) {
		size_t n = frames - i < BENCH_SWEEP_PAGES ? frames - i : BENCH_SWEEP_PAGES;

		rc = c->map_range(t.st, t.base + i * PG, t.h + i, n);
	}
	if (rc) {
		out->status = ST_ERROR;
		snprintf(out->msg, sizeof(out->msg), "%s", bench_errmsg());
		teardown1(c, &t);
		return;
	}
	for (size_t i = 0; i < frames; i++)
		*(volatile char *)(t.base + i * PG) = 1;
	read_proc_mem(&m1);
	out->vmas = count_maps() - maps0;
	/* The frames themselves are resident pages, anonymous or shmem. */
	out->bytes_frame =
		(double)(m1.rss_anon_kb + m1.rss_shmem_kb - m0.rss_anon_kb - m0.rss_shmem_kb) *
			1024 / (double)frames -
		(double)PG;
	out->pte_frame = (double)(m1.pte_kb - m0.pte_kb) * 1024 / (double)frames;
	if (c->note)
		c->note(t.st, out->note, sizeof(out->note));
	c->unmap_range(t.st, t.base, frames);
	teardown1(c, &t);
}

/* ---- churn ------------------------------------------------------------------ */

/* Which frames are free and which slots are empty or mapped, so that each
 * random choice takes constant time whatever the size. */
struct churn {
	uint32_t *free_f, *empty_s, *mapped_s, *pos, *slot_f;
	size_t nfree, nempty, nmapped;
	uint64_t rng;
	void *addrs[BENCH_BATCH];
	uint64_t fr[BENCH_BATCH];
	uint32_t s[BENCH_BATCH], f[BENCH_BATCH];
};

static uint32_t take(uint32_t *list, size_t *n, uint64_t *rng)
{
	size_t i = rng_next(rng) % *n;
	uint32_t v = list[i];

	list[i] = list[--*n];
	return v;
}

static uint32_t take_mapped(struct churn *ch)
{
	size_t i = rng_next(&ch->rng) % ch->nmapped;
	uint32_t s = ch->mapped_s[i], last = ch->mapped_s[--ch->nmapped];

	ch->mapped_s[i] = last;
	ch->pos[last] = (uint32_t)i;
	return s;
}

static void put_mapped(struct churn *ch, uint32_t s, uint32_t f)
{
	ch->slot_f[s] = f;
	ch->pos[s] = (uint32_t)ch->nmapped;
	ch->mapped_s[ch->nmapped++] = s;
}

static int churn_map(const struct contender *c, struct target1 *t, struct churn *ch, size_t k)
{
	int rc;

	for (size_t j = 0; j < k; j++) {
		ch->f[j] = take(ch->free_f, &ch->nfree, &ch->rng);
		ch->s[j] = take(ch->empty_s, &ch->nempty, &ch->rng);
		ch->fr[j] = t->h[ch->f[j]];
		ch->addrs[j] = t->base + (size_t)ch->s[j] * PG;
	}
	rc = c->map(t->st, ch->addrs, ch->fr, k);
	for (size_t j = 0; !rc && j < k; j++)
		put_mapped(ch, ch->s[j], ch->f[j]);
	return rc;
}

static int churn_unmap(const struct contender *c, struct target1 *t, struct churn *ch, size_t k)
{
	int rc;

	for (size_t j = 0; j < k; j++) {
		ch->s[j] = take_mapped(ch);
		ch->addrs[j] = t->base + (size_t)ch->s[j] * PG;
	}
	rc = c->unmap(t->st, ch->addrs, k);
	for (size_t j = 0; !rc && j < k; j++) {
		ch->free_f[ch->nfree++] = ch->slot_f[ch->s[j]];
		ch->empty_s[ch->nempty++] = ch->s[j];
	}
	return rc;
}

static int churn_replace(const struct contender *c, struct target1 *t, struct churn *ch, size_t k)
{
	int rc;

	for (size_t j = 0; j < k; j++) {
		ch->s[j] = take_mapped(ch);
		ch->f[j] = take(ch->free_f, &ch->nfree, &ch->rng);
		ch->addrs[j] = t->base + (size_t)ch->s[j] * PG;
		ch->fr[j] = t->h[ch->f[j]];
	}
	rc = c->map(t->st, ch->addrs, ch->fr, k);
	for (size_t j = 0; !rc && j < k; j++) {
		ch->free_f[ch->nfree++] = ch->slot_f[ch->s[j]];
		put_mapped(ch, ch->s[j], ch->f[j]);
	}
	return rc;
}

/* Calls of 1 to 64 pages: map then unmap as many (3 in 4), or replace. The
 * window stays about half full, so parking and window page tables both see
 * every kind of hole. */
static int churn_loop(const struct contender *c, struct target1 *t, struct churn *ch, uint64_t ops,
		      uint64_t *done)
{
	int rc = 0;

	while (!rc && *done < ops) {
		uint64_t r = rng_next(&ch->rng);
		size_t k = 1 + r % BENCH_BATCH;

		if (k > ch->nfree || k > ch->nempty || k > ch->nmapped)
			k = 1;
		if ((r >> 8) % 4 == 0 && ch->nmapped && ch->nfree) {
			rc = churn_replace(c, t, ch, k);
			*done += k;
		} else {
			rc = churn_map(c, t, ch, k);
			if (!rc)
				rc = churn_unmap(c, t, ch, k);
			*done += 2 * k;
		}
	}
	return rc;
}

static void churn_body(const struct contender *c, size_t frames, uint64_t ops,
		       struct churn_result *out)
{
	struct churn ch = {.rng = 0x853c49e6748fea9bull};
	struct target1 t;
	struct proc_mem m0, m1;
	uint64_t done = 0, t0;
	int rc;

	*out = (struct churn_result){.c = c, .frames = frames};
	warm_once(c);
	t.h = NULL;
	rc = setup1(c, &t, frames, frames, false);
	read_proc_mem(&m0);
	if (!rc) {
		ch.free_f = xcalloc(frames, sizeof(uint32_t));
		ch.empty_s = xcalloc(frames, sizeof(uint32_t));
		ch.mapped_s = xcalloc(frames, sizeof(uint32_t));
		ch.pos = xcalloc(frames, sizeof(uint32_t));
		ch.slot_f = xcalloc(frames, sizeof(uint32_t));
		for (size_t i = 0; i < frames; i++)
			ch.free_f[i] = ch.empty_s[i] = (uint32_t)i;
		ch.nfree = ch.nempty = frames;
		while (!rc && ch.nmapped < frames / 2) {
			size_t k = frames / 2 - ch.nmapped;

			rc = churn_map(c, &t, &ch, k < BENCH_BATCH ? k : BENCH_BATCH);
		}
	}
	t0 = now_ns();
	if (!rc)
		rc = churn_loop(c, &t, &ch, ops, &done);
	out->ns_op = done ? (double)(now_ns() - t0) / (double)done : 0;
	out->ops = done;
	read_proc_mem(&m1);
	out->pte_before_kb = m0.pte_kb;
	out->pte_after_kb = m1.pte_kb;
	if (rc) {
		out->status = ST_ERROR;
		snprintf(out->msg, sizeof(out->msg), "%s", bench_errmsg());
	} else {
		if (c->note)
			c->note(t.st, out->note, sizeof(out->note));
		c->unmap_range(t.st, t.base, frames);
	}
	free(ch.free_f);
	free(ch.empty_s);
	free(ch.mapped_s);
	free(ch.pos);
	free(ch.slot_f);
	teardown1(c, &t);
}

/* ---- in a child process ---------------------------------------------------------- */

struct job {
	int kind;
	const struct contender *c;
	size_t n;
	uint64_t ops;
	void *out;
	size_t len;
};

static void job_body(const struct job *j)
{
	if (j->kind == 0)
		maxmap_body(j->c, j->n, j->out);
	else if (j->kind == 1)
		memory_body(j->c, j->n, j->out);
	else
		churn_body(j->c, j->n, j->ops, j->out);
}

static bool io_all(int fd, void *buf, size_t len, bool wr)
{
	char *p = buf;

	while (len) {
		ssize_t r = wr ? write(fd, p, len) : read(fd, p, len);

		if (r < 0 && errno == EINTR)
			continue;
		if (r <= 0)
			return false;
		p += r;
		len -= (size_t)r;
	}
	return true;
}

/* The result structures hold pointers to static data only, which are the
 * same in the child, so they travel as bytes. Returns why it failed, or
 * NULL. */
static const char *forked(const struct job *j, char *why, size_t len)
{
	int fds[2], status;
	pid_t pid;
	bool ok;

	if (pipe2(fds, O_CLOEXEC) != 0) {
		snprintf(why, len, "pipe: %s", strerror(errno));
		return why;
	}
	fflush(NULL);
	pid = fork();
	if (pid < 0) {
		snprintf(why, len, "fork: %s", strerror(errno));
		close(fds[0]);
		close(fds[1]);
		return why;
	}
	if (pid == 0) {
		close(fds[0]);
		job_body(j);
		_exit(io_all(fds[1], j->out, j->len, true) ? 0 : 1);
	}
	close(fds[1]);
	ok = io_all(fds[0], j->out, j->len, false);
	close(fds[0]);
	while (waitpid(pid, &status, 0) < 0 && errno == EINTR)
		;
	if (ok && WIFEXITED(status) && WEXITSTATUS(status) == 0)
		return NULL;
	if (WIFSIGNALED(status))
		snprintf(why, len, "the measuring child process died of %s",
			 strsignal(WTERMSIG(status)));
	else
		snprintf(why, len, "the measuring child process failed");
	return why;
}

void run_maxmap(const struct contender *c, size_t count, struct maxmap_result out[2])
{
	struct job j = {0, c, count, 0, out, 2 * sizeof(*out)};
	char why[160];

	if (!forked(&j, why, sizeof(why)))
		return;
	for (int i = 0; i < 2; i++) {
		out[i] = (struct maxmap_result){.c = c,
						.pattern = i ? "adjacent" : "isolated",
						.target = count,
						.status = ST_ERROR};
		snprintf(out[i].msg, sizeof(out[i].msg), "%s", why);
	}
}

void run_memory(const struct contender *c, size_t frames, struct memory_result *out)
{
	struct job j = {1, c, frames, 0, out, sizeof(*out)};
	char why[160];

	if (!forked(&j, why, sizeof(why)))
		return;
	*out = (struct memory_result){.c = c, .frames = frames, .status = ST_ERROR};
	snprintf(out->msg, sizeof(out->msg), "%s", why);
}

void run_churn(const struct contender *c, size_t frames, uint64_t ops, struct churn_result *out)
{
	struct job j = {2, c, frames, ops, out, sizeof(*out)};
	char why[160];

	if (!forked(&j, why, sizeof(why)))
		return;
	*out = (struct churn_result){.c = c, .frames = frames, .ops = ops, .status = ST_ERROR};
	snprintf(out->msg, sizeof(out->msg), "%s", why);
}
