/* SPDX-License-Identifier: MIT */
/*
 * Frames whose pages the kernel migrates. Compaction (and NUMA balancing,
 * memory hot-unplug, CMA) moves pages behind the process's back, mlocked ones
 * included while vm.compact_unevictable_allowed is 1, the default. On Linux
 * 6.18 a UFFDIO_MOVE that meets such a migration can move the page and still
 * fail with EEXIST, having counted nothing: the engine must see that the move
 * happened rather than report an error or lose track of the frame.
 *
 * The first tests fake that kernel answer through the static library's test
 * hook, at every move of a request; the last one makes the kernel compact
 * memory over and over (root only) while frames are mapped and unmapped.
 */
#include <fcntl.h>
#include <pthread.h>
#include <stdatomic.h>
#include <time.h>

#include "helpers.h"

extern int awe__test_misreport_move;

#define SLOTS 64

/* Every move a request makes reports EEXIST after moving: the calls still
 * succeed, and every frame is where the request put it, data intact. */
Test(migrate, misreported_moves_of_a_range)
{
	awe_frame_t f[SLOTS];
	char *w = window_new(SLOTS), *v = window_new(SLOTS);

	skip_if_memfd("UFFDIO_MOVE is the uffd-move engine's");
	alloc_exact(f, SLOTS);
	map_stamped(w, f, SLOTS);
	for (int n = 1; n <= 4; n++) {
		awe__test_misreport_move = n;
		AWE_OK(awe_map(w, SLOTS, NULL));
		for (size_t i = 0; i < SLOTS; i++)
			assert_parked(f[i]);
		awe__test_misreport_move = n;
		AWE_OK(awe_map(v, SLOTS, f));
		assert_stamped(v, f, SLOTS);
		awe__test_misreport_move = n;
		AWE_OK(awe_map(v, SLOTS, NULL));
		awe__test_misreport_move = n;
		AWE_OK(awe_map(w, SLOTS, f));
		assert_stamped(w, f, SLOTS);
	}
	awe__test_misreport_move = 0;
	cr_assert_eq(get_stats().frames_mapped, SLOTS);
}

Test(migrate, misreported_moves_of_single_pages_and_scatter)
{
	awe_frame_t f[SLOTS], rev[SLOTS];
	char *w = window_new(SLOTS);
	void *addrs[SLOTS];

	skip_if_memfd("UFFDIO_MOVE is the uffd-move engine's");
	alloc_exact(f, SLOTS);
	map_stamped(w, f, SLOTS);
	AWE_OK(awe_map(w, SLOTS, NULL));
	/* One page at a time: the single-page path. */
	for (size_t i = 0; i < 8; i++) {
		awe__test_misreport_move = 1;
		map1(slot(w, i), f[i]);
		assert_stamped_at(slot(w, i), f[i]);
		awe__test_misreport_move = 1;
		AWE_OK(awe_map_scatter((void *[]){slot(w, i)}, 1, NULL));
		assert_parked(f[i]);
	}
	/* Reversed scatter: one move per page, each of them misreported in turn. */
	for (size_t i = 0; i < SLOTS; i++) {
		addrs[i] = slot(w, i);
		rev[i] = f[SLOTS - 1 - i];
	}
	for (int n = 1; n <= SLOTS; n += 9) {
		awe__test_misreport_move = n;
		AWE_OK(awe_map_scatter(addrs, SLOTS, rev));
		assert_stamped(w, rev, SLOTS);
		AWE_OK(awe_map_scatter(addrs, SLOTS, NULL));
	}
	awe__test_misreport_move = 0;
	AWE_OK(awe_map(w, SLOTS, f));
	assert_stamped(w, f, SLOTS);
}

static atomic_bool stop;

static void *compact(void *arg)
{
	int fd = *(int *)arg;

	while (!atomic_load(&stop)) {
		if (pwrite(fd, "1", 1, 0) != 1)
			break;
		usleep(10000);
	}
	return NULL;
}

static uint64_t now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

/* 256 MiB of frames churned for a few seconds, single pages and ranges,
 * while the kernel compacts all memory again and again; on 6.18, without
 * moved_uncounted() in the engine, this failed within a second. */
Test(migrate, churn_while_the_kernel_compacts_memory, .timeout = 120)
{
	enum { N = 65536, SECONDS = 4 };
	awe_frame_t *f = alloc_array(N);
	char *w = window_new(N), *v = window_new(SLOTS);
	uint32_t *at = calloc(N, sizeof(*at)); /* frame index + 1 per slot */
	bool *out = calloc(N, sizeof(*out));
	uint64_t rng = 0x9e3779b97f4a7c15ull, t0, ops = 0;
	pthread_t th;
	int fd;

	skip_unless_root("it writes /proc/sys/vm/compact_memory");
	fd = open("/proc/sys/vm/compact_memory", O_WRONLY | O_CLOEXEC);
	if (fd < 0)
		cr_skip_test("cannot open /proc/sys/vm/compact_memory: %s", strerror(errno));
	cr_assert(at && out);
	for (size_t i = 0; i < N; i += SLOTS) {
		map_stamped(w, f + i, SLOTS);
		AWE_OK(awe_map(w, SLOTS, NULL));
	}
	cr_assert_eq(pthread_create(&th, NULL, compact, &fd), 0);
	t0 = now_ms();
	while (now_ms() - t0 < SECONDS * 1000) {
		/* The last SLOTS frames go in and out of @v as a range. */
		AWE_OK(awe_map(v, SLOTS, f + N - SLOTS));
		assert_stamped(v, f + N - SLOTS, SLOTS);
		AWE_OK(awe_map(v, SLOTS, NULL));
		for (int k = 0; k < 1000; k++, ops++) {
			rng ^= rng << 13, rng ^= rng >> 7, rng ^= rng << 17;
			size_t s = rng % N, i = (rng >> 32) % (N - SLOTS);
			void *a = slot(w, s);

			if (at[s]) {
				cr_assert_eq(*(uint64_t *)a, f[at[s] - 1],
					     "slot %zu lost its frame", s);
				AWE_OK(awe_map_scatter(&a, 1, NULL));
				out[at[s] - 1] = false;
				at[s] = 0;
			} else if (!out[i]) {
				AWE_OK(awe_map_scatter(&a, 1, &f[i]));
				cr_assert_eq(*(uint64_t *)a, f[i], "frame %zu lost its stamp", i);
				out[i] = true;
				at[s] = (uint32_t)i + 1;
			}
		}
	}
	atomic_store(&stop, true);
	pthread_join(th, NULL);
	close(fd);
	AWE_OK(awe_map(w, N, NULL));
	for (size_t i = 0; i < N; i += SLOTS) {
		AWE_OK(awe_map(w, SLOTS, f + i));
		assert_stamped(w, f + i, SLOTS);
		AWE_OK(awe_map(w, SLOTS, NULL));
	}
	cr_log_info("%" PRIu64 " single-page operations under compaction (%s engine)", ops,
		    engine_label());
	free(at);
	free(out);
	free(f);
}
