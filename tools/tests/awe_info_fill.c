// SPDX-License-Identifier: MIT
/*
 * awe-info-fill: what libawe really gives this process, for
 * check_awe_info.py to hold awe-info's capacity against. One number on
 * stdout:
 *
 *   frames         bytes of frames awe_alloc() gives, in batches until it
 *                  gives fewer or fails
 *   shown PAGES    the most bytes of frames that a window can show all at
 *                  once (frames allocated, a window of as many slots
 *                  created, all mapped), searched up to PAGES; each try in
 *                  a child of its own, so that no try inherits another's
 *                  parking or pool
 *   scatter SLOTS  how many slots of a window of SLOTS can be filled, one
 *                  awe_map() per slot, with frames in reverse order, so
 *                  that every slot is a mapping of its own (the memfd
 *                  engine's budget under vm.max_map_count)
 *
 * Exit status: 0, 1 when a call fails in a way the mode does not expect, 2
 * on bad usage.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include <awe.h>

#define BATCH 64

static int fail(const char *call, long r)
{
	fprintf(stderr, "awe-info-fill: %s: %s\n", call, awe_strerror((int)r));
	return 1;
}

static int frames(void)
{
	awe_frame_t f[BATCH];
	unsigned long long n = 0;
	ssize_t k;

	do {
		k = awe_alloc(f, BATCH);
		n += k > 0 ? (unsigned long long)k : 0;
	} while (k == BATCH);
	if (k < 0 && k != -EPERM && k != -ENOMEM)
		return fail("awe_alloc", k);
	printf("%llu\n", n * awe_page_size());
	return 0;
}

/* Whether @k frames and a @k-slot window showing them all fit: in a child,
 * as a fresh process would try it. */
static int shown_fits(size_t k)
{
	pid_t pid = fork();
	int st;

	if (pid < 0)
		return -1;
	if (pid == 0) {
		awe_frame_t *f = calloc(k ? k : 1, sizeof(*f));
		void *w;

		_exit(!f || awe_alloc(f, k) != (ssize_t)k ||
		      awe_window_create(k * awe_page_size(), NULL, 0, &w) || awe_map(w, k, f));
	}
	if (waitpid(pid, &st, 0) != pid || !WIFEXITED(st))
		return -1;
	return WEXITSTATUS(st) == 0;
}

static int shown(size_t hi)
{
	size_t lo = 0;

	while (lo < hi) {
		size_t mid = lo + (hi - lo + 1) / 2;
		int r = shown_fits(mid);

		if (r < 0)
			return fail("a child", -ECHILD);
		if (r)
			lo = mid;
		else
			hi = mid - 1;
	}
	printf("%zu\n", lo * awe_page_size());
	return 0;
}

static int scatter(size_t n)
{
	awe_frame_t *f = calloc(n, sizeof(*f));
	unsigned char *w;
	size_t page = awe_page_size(), i;
	ssize_t k;
	int r;

	if (!f)
		return fail("calloc", -ENOMEM);
	k = awe_alloc(f, n);
	if (k != (ssize_t)n)
		return fail("awe_alloc", k < 0 ? k : -ENOMEM);
	r = awe_window_create(n * page, NULL, 0, (void **)&w);
	if (r)
		return fail("awe_window_create", r);
	for (i = 0; i < n; i++) {
		r = awe_map(w + i * page, 1, &f[n - 1 - i]);
		if (r == -ENOMEM)
			break;
		if (r)
			return fail("awe_map", r);
	}
	printf("%zu\n", i);
	awe_window_destroy(w);
	awe_free(f, n, NULL);
	free(f);
	return 0;
}

int main(int argc, char **argv)
{
	size_t arg = argc > 2 ? strtoull(argv[2], NULL, 0) : 0;

	if (argc == 2 && strcmp(argv[1], "frames") == 0)
		return frames();
	if (argc == 3 && strcmp(argv[1], "shown") == 0)
		return shown(arg);
	if (argc == 3 && strcmp(argv[1], "scatter") == 0 && arg)
		return scatter(arg);
	fprintf(stderr, "usage: awe-info-fill frames | shown PAGES | scatter SLOTS\n");
	return 2;
}
