// SPDX-License-Identifier: MIT
/*
 * awe-stress - hammer libawe from several threads at once and check that no
 * frame ever loses or mixes up its data.
 *
 * Every thread owns its frames and a band of slots in one window shared by
 * all threads, so the outcome of each call is known in advance while the
 * library's process-wide tables are changed from every thread concurrently.
 * Threads also allocate, free, create and destroy windows, protect pages and
 * read the counters, which is where an unsynchronised path would show up.
 *
 * It is plain C with no test framework, so that it can run under
 * ThreadSanitizer (Criterion's sandboxing cannot, see the README).
 *
 * Exit status: 0 when every check passed, 1 when one failed, 77 when libawe
 * cannot run here (meson's "skipped"), 2 on bad usage. --version and --help
 * print and exit 0.
 */
#include <errno.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <awe.h>

#define FRAMES 32	   /* frames per thread */
#define SLOTS (2 * FRAMES) /* slots per thread in the shared window */
#define CHURN_EVERY 16	   /* rounds between frame and window churn */

struct worker {
	pthread_t tid;
	unsigned int id;
	unsigned int rounds;
	unsigned char *band; /* this thread's slots in the shared window */
	unsigned char *own;  /* a window of its own, FRAMES slots */
	awe_frame_t frames[FRAMES];
	uint64_t writes[FRAMES]; /* what word 1 of each frame must hold */
	uint64_t rng;
};

static size_t page;
static atomic_int failures;

static void failf(const struct worker *w, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
static void failf(const struct worker *w, const char *fmt, ...)
{
	va_list ap;

	flockfile(stderr);
	fprintf(stderr, "awe-stress: thread %u: ", w->id);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
	funlockfile(stderr);
	atomic_fetch_add(&failures, 1);
}

/* A failed call ends the worker: the state it knows about is no longer true. */
static bool call_ok(struct worker *w, const char *what, long rc)
{
	if (rc >= 0)
		return true;
	failf(w, "%s: %s", what, awe_strerror((int)rc));
	return false;
}

static uint64_t next_rand(struct worker *w)
{
	/* xorshift64: enough to vary slots, and reproducible per thread */
	w->rng ^= w->rng << 13;
	w->rng ^= w->rng >> 7;
	w->rng ^= w->rng << 17;
	return w->rng;
}

/* Word 0 names the frame, word 1 counts the writes it received. */
static void stamp(struct worker *w, size_t i, uint64_t *p)
{
	p[0] = w->frames[i];
	p[1] = ++w->writes[i];
}

static bool stamped(struct worker *w, size_t i, const uint64_t *p)
{
	if (p[0] == w->frames[i] && p[1] == w->writes[i])
		return true;
	failf(w, "frame %#llx holds (%#llx, %llu), expected (%#llx, %llu)",
	      (unsigned long long)w->frames[i], (unsigned long long)p[0], (unsigned long long)p[1],
	      (unsigned long long)w->frames[i], (unsigned long long)w->writes[i]);
	return false;
}

/* Map every frame at a random distinct slot of the band, then check it. */
static bool scatter_round(struct worker *w)
{
	size_t order[SLOTS];
	void *addrs[FRAMES];

	for (size_t s = 0; s < SLOTS; s++)
		order[s] = s;
	for (size_t s = SLOTS - 1; s > 0; s--) {
		size_t j = next_rand(w) % (s + 1), t = order[s];

		order[s] = order[j];
		order[j] = t;
	}
	for (size_t i = 0; i < FRAMES; i++)
		addrs[i] = w->band + order[i] * page + next_rand(w) % page;
	if (!call_ok(w, "awe_map_scatter", awe_map_scatter(addrs, FRAMES, w->frames)))
		return false;

	for (size_t i = 0; i < FRAMES; i++) {
		uint64_t *p = (uint64_t *)(w->band + order[i] * page);
		struct awe_page_info info;
		void *where;

		if (!stamped(w, i, p))
			return false;
		stamp(w, i, p);
		if (!call_ok(w, "awe_query", awe_query(p, &info)) ||
		    !call_ok(w, "awe_frame_addr", awe_frame_addr(w->frames[i], &where)))
			return false;
		if (info.frame != w->frames[i] || where != (void *)p) {
			failf(w, "slot %p: awe_query says frame %#llx, awe_frame_addr says %p",
			      (void *)p, (unsigned long long)info.frame, where);
			return false;
		}
	}
	return true;
}

/* In the thread's own window: all frames in one range and out again, then
 * single pages in and out. These are the calls that move pages without the
 * library's lock once threads compete for it, beside other threads' calls. */
static bool own_round(struct worker *w)
{
	if (!call_ok(w, "awe_map", awe_map(w->own, FRAMES, w->frames)))
		return false;
	for (size_t i = 0; i < FRAMES; i++) {
		uint64_t *p = (uint64_t *)(w->own + i * page);

		if (!stamped(w, i, p))
			return false;
		stamp(w, i, p);
	}
	if (!call_ok(w, "awe_map (unmap)", awe_map(w->own, FRAMES, NULL)))
		return false;
	for (size_t k = 0; k < 4; k++) {
		size_t i = next_rand(w) % FRAMES;
		void *a = w->own + (next_rand(w) % FRAMES) * page;

		if (!call_ok(w, "awe_map_scatter", awe_map_scatter(&a, 1, &w->frames[i])))
			return false;
		if (!stamped(w, i, a))
			return false;
		stamp(w, i, a);
		if (!call_ok(w, "awe_map_scatter (unmap)", awe_map_scatter(&a, 1, NULL)))
			return false;
	}
	return true;
}

/* Make one mapped slot read-only and back; the data must not change. */
static bool protect_round(struct worker *w)
{
	size_t i = next_rand(w) % FRAMES;
	void *where;
	int old;

	if (!call_ok(w, "awe_frame_addr", awe_frame_addr(w->frames[i], &where)))
		return false;
	if (!call_ok(w, "awe_protect", awe_protect(where, 1, AWE_PROT_READ, &old)))
		return false;
	if (old != AWE_PROT_READWRITE) {
		failf(w, "awe_protect: old protection %d, expected read-write", old);
		return false;
	}
	if (!stamped(w, i, where))
		return false;
	return call_ok(w, "awe_protect", awe_protect(where, 1, AWE_PROT_READWRITE, NULL));
}

/* Give some frames back and take new ones, and use a window of our own. */
static bool churn(struct worker *w)
{
	const size_t n = 4, first = next_rand(w) % (FRAMES - n + 1);
	awe_frame_t fresh[4];
	size_t freed = 0;
	void *win;
	ssize_t got;

	if (!call_ok(w, "awe_free", awe_free(&w->frames[first], n, &freed)))
		return false;
	got = awe_alloc(fresh, n);
	if (!call_ok(w, "awe_alloc", got))
		return false;
	if ((size_t)got != n) {
		failf(w, "awe_alloc returned %zd of %zu frames", got, n);
		awe_free(fresh, (size_t)got, NULL);
		return false;
	}
	for (size_t k = 0; k < n; k++) {
		w->frames[first + k] = fresh[k];
		w->writes[first + k] = 0;
	}

	/* Fresh frames are zero: stamp them through a private window. */
	if (!call_ok(w, "awe_window_create", awe_window_create(n * page, NULL, 0, &win)))
		return false;
	if (!call_ok(w, "awe_map", awe_map(win, n, fresh))) {
		awe_window_destroy(win);
		return false;
	}
	for (size_t k = 0; k < n; k++) {
		uint64_t *p = (uint64_t *)((unsigned char *)win + k * page);

		if (p[0] || p[1]) {
			failf(w, "a new frame is not zero-filled");
			awe_window_destroy(win);
			return false;
		}
		stamp(w, first + k, p);
	}
	return call_ok(w, "awe_window_destroy", awe_window_destroy(win));
}

static void *work(void *arg)
{
	struct worker *w = arg;
	struct awe_stats st;
	void *own = NULL;
	ssize_t got;

	if (!call_ok(w, "awe_window_create", awe_window_create(FRAMES * page, NULL, 0, &own)))
		return NULL;
	w->own = own;
	got = awe_alloc(w->frames, FRAMES);
	if (!call_ok(w, "awe_alloc", got)) {
		awe_window_destroy(own);
		return NULL;
	}
	if (got != FRAMES) {
		failf(w, "awe_alloc returned %zd of %d frames", got, FRAMES);
		awe_free(w->frames, (size_t)got, NULL);
		awe_window_destroy(own);
		return NULL;
	}
	/* Stamp the zero-filled frames on their first trip through the band. */
	if (!call_ok(w, "awe_map", awe_map(w->band, FRAMES, w->frames)))
		goto out;
	for (size_t i = 0; i < FRAMES; i++)
		stamp(w, i, (uint64_t *)(w->band + i * page));

	for (unsigned int r = 0; r < w->rounds; r++) {
		if (!call_ok(w, "awe_map (unmap)", awe_map(w->band, SLOTS, NULL)) ||
		    !own_round(w) || !scatter_round(w) || !protect_round(w) ||
		    !call_ok(w, "awe_stats", awe_stats(&st)))
			break;
		if (r % CHURN_EVERY == CHURN_EVERY - 1 &&
		    (!call_ok(w, "awe_map (unmap)", awe_map(w->band, SLOTS, NULL)) || !churn(w)))
			break;
	}
out:
	awe_map(w->band, SLOTS, NULL);
	awe_free(w->frames, FRAMES, NULL);
	awe_window_destroy(own);
	return NULL;
}

static int usage(FILE *f, int rc)
{
	fprintf(f, "usage: awe-stress [--threads N] [--rounds N] [--version] [--help]\n"
		   "Hammer libawe from N threads (4) for N rounds (1000) each and check that\n"
		   "no frame loses or mixes up its data.\n"
		   "Exit status: 0 all checks passed, 1 one failed, 77 libawe cannot run here,\n"
		   "2 bad usage.\n");
	return rc;
}

int main(int argc, char **argv)
{
	unsigned int nthreads = 4, rounds = 1000;
	struct worker *workers;
	struct awe_stats st;
	void *window;
	int rc;

	for (int i = 1; i < argc; i++) {
		if (strcmp(argv[i], "--version") == 0) {
			printf("awe-stress (libawe) %s\n", AWE_VERSION);
			if (strcmp(awe_version(), AWE_VERSION) != 0)
				printf("libawe loaded: %s\n", awe_version());
			return 0;
		}
		if (strcmp(argv[i], "--help") == 0)
			return usage(stdout, 0);
		unsigned int *dst = strcmp(argv[i], "--threads") == 0  ? &nthreads
				    : strcmp(argv[i], "--rounds") == 0 ? &rounds
								       : NULL;

		if (!dst || i + 1 == argc)
			return usage(stderr, 2);
		*dst = (unsigned int)strtoul(argv[++i], NULL, 0);
	}
	if (nthreads == 0)
		return usage(stderr, 2);

	rc = awe_stats(&st);
	if (rc) {
		fprintf(stderr, "awe-stress: libawe cannot run here: %s\n", awe_strerror(rc));
		return 77;
	}
	page = awe_page_size();
	rc = awe_window_create((size_t)nthreads * SLOTS * page, NULL, 0, &window);
	if (rc) {
		fprintf(stderr, "awe-stress: awe_window_create: %s\n", awe_strerror(rc));
		return rc == -EPERM ? 77 : 1;
	}
	workers = calloc(nthreads, sizeof(*workers));
	if (!workers)
		return 1;
	for (unsigned int t = 0; t < nthreads; t++) {
		struct worker *w = &workers[t];

		w->id = t;
		w->rounds = rounds;
		w->band = (unsigned char *)window + (size_t)t * SLOTS * page;
		w->rng = 0x9e3779b97f4a7c15ull * (t + 1);
		if (pthread_create(&w->tid, NULL, work, w) != 0) {
			fprintf(stderr, "awe-stress: pthread_create failed\n");
			return 1;
		}
	}
	for (unsigned int t = 0; t < nthreads; t++)
		pthread_join(workers[t].tid, NULL);
	free(workers);

	rc = awe_window_destroy(window);
	if (rc || awe_stats(&st) || st.frames_allocated || st.frames_mapped || st.windows) {
		fprintf(stderr,
			"awe-stress: state left behind: %llu frames, %llu mapped, %llu windows\n",
			(unsigned long long)st.frames_allocated,
			(unsigned long long)st.frames_mapped, (unsigned long long)st.windows);
		atomic_fetch_add(&failures, 1);
	}
	if (atomic_load(&failures)) {
		printf("awe-stress: %d failures\n", atomic_load(&failures));
		return 1;
	}
	printf("awe-stress: %u threads x %u rounds, every frame kept its data\n", nthreads, rounds);
	return 0;
}
