/* SPDX-License-Identifier: MIT */
/*
 * Shared helpers for the libawe Criterion tests. Header-only because every
 * test program is a single translation unit; everything is static inline so
 * that programs using only part of it still build with -Werror.
 *
 * This file holds what nearly every test uses: the checked calls (AWE_OK,
 * AWE_ERR), the engines, frames, windows and slots, page patterns, slot
 * snapshots and the all-or-nothing fixture, and a PRNG. It includes the
 * topic headers at its end, so that tests include this one only:
 * helpers_fault.h (fault probes), helpers_child.h (forked children, dropping
 * to nobody), helpers_proc.h (/proc readers) and helpers_seccomp.h (seccomp
 * refusals). Threaded tests also include helpers_thread.h (failures of
 * worker threads, busy threads), which has state of its own.
 */
#ifndef AWE_TEST_HELPERS_H
#define AWE_TEST_HELPERS_H

#include <criterion/criterion.h>
#include <criterion/logging.h>

#include <errno.h>
#include <inttypes.h>
#include <signal.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/resource.h>
#include <sys/types.h>
#include <unistd.h>

#include <awe.h>

/* Built with AddressSanitizer (gcc or clang)? */
#if defined(__SANITIZE_ADDRESS__)
#define SANITIZED 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define SANITIZED 1
#endif
#endif
#ifndef SANITIZED
#define SANITIZED 0
#endif

/* A value no library code would ever store in errno: proves "untouched". */
#define ERRNO_CANARY 31337

/* A frame number no test ever receives from awe_alloc(). */
#define BOGUS_FRAME UINT64_MAX

/*
 * Call @call, which must succeed (>= 0) and leave errno alone; yields its
 * result. The contract promises errno is untouched on success.
 */
#define AWE_OK(call)                                                                               \
	({                                                                                         \
		errno = ERRNO_CANARY;                                                              \
		__typeof__(call) r_ = (call);                                                      \
		int e_ = errno;                                                                    \
		cr_assert((long long)r_ >= 0, "%s failed: %lld (%s)", #call, (long long)r_,        \
			  awe_strerror((int)r_));                                                  \
		cr_assert_eq(e_, ERRNO_CANARY, "%s succeeded but changed errno to %d (%s)", #call, \
			     e_, strerror(e_));                                                    \
		r_;                                                                                \
	})

/* Call @call, which must fail with -@code and set errno to @code. */
#define AWE_ERR(call, code)                                                                        \
	do {                                                                                       \
		errno = 0;                                                                         \
		long long r_ = (long long)(call);                                                  \
		int e_ = errno;                                                                    \
		cr_assert_eq(r_, -(long long)(code), "%s returned %lld (%s), expected -%s", #call, \
			     r_, r_ < 0 ? awe_strerror((int)r_) : "success", #code);               \
		cr_assert_eq(e_, (code), "%s: errno is %d (%s), expected %s", #call, e_,           \
			     strerror(e_), #code);                                                 \
	} while (0)

/*
 * An unprivileged user with a small RLIMIT_MEMLOCK cannot lock the frames
 * most tests need, and libawe then fails with -EPERM by design. Locking is
 * what test_lock checks (its suite clears this again); everywhere else such a
 * user runs the suite with unlocked frames, so the suite passes for anybody.
 */
__attribute__((constructor)) static void unlocked_unless_privileged(void)
{
	struct rlimit rl;

	if (geteuid() == 0 || getrlimit(RLIMIT_MEMLOCK, &rl) != 0 || rl.rlim_cur == RLIM_INFINITY ||
	    rl.rlim_cur >= (8ull << 30))
		return;
	setenv("LIBAWE_UNLOCKED", "1", 0);
}

static inline size_t pg(void)
{
	return awe_page_size();
}

/* Address of page slot @i of the window at @base. */
static inline char *slot(void *base, size_t i)
{
	return (char *)base + i * pg();
}

static inline void skip_unless_root(const char *why)
{
	if (geteuid() != 0)
		cr_skip_test("needs root: %s", why);
}

static inline struct awe_stats get_stats(void)
{
	struct awe_stats st;

	memset(&st, 0xa5, sizeof(st));
	AWE_OK(awe_stats(&st));
	return st;
}

/*
 * The engines (see awe_stats()). The suite runs once with the default engine
 * and once with AWE_ENGINE=memfd (tests/meson.build); tests that expect
 * engine-specific behaviour ask here. Asking initialises libawe (with the
 * default flags, unless the test called awe_init() first), so a test that
 * needs other flags calls awe_init() before.
 */
static inline bool engine_is_memfd(void)
{
	struct awe_stats st = get_stats();

	cr_assert_not_null(st.engine, "awe_stats() reports no engine");
	cr_assert(!strcmp(st.engine, "memfd") || !strcmp(st.engine, "uffd-move"),
		  "unknown engine \"%s\"", st.engine);
	return !strcmp(st.engine, "memfd");
}

/* The UFFDIO_MOVE engine in the mode it takes while other threads run
 * (AWE_TEST_THREADS=2, the -copy variant of tests/meson.build): it copies
 * pages in and keeps parking for 512 spare pages beyond the frames.
 * Without AWE_TEST_THREADS (a test run by hand) the engine counts the
 * process's threads, Criterion's among them, and so does this. */
static inline long status_kb(const char *key); /* helpers_proc.h */

static inline bool engine_copies(void)
{
	const char *t = getenv("AWE_TEST_THREADS");

	if (engine_is_memfd())
		return false;
	if (t)
		return atoi(t) > 1;
	/* A field without its "kB" reads the same: the thread count. */
	return status_kb("Threads") > 1;
}

/*
 * The signal an access libawe refuses raises: SIGBUS with UFFDIO_MOVE (an
 * empty slot is a registered hole; UFFD_FEATURE_SIGBUS), SIGSEGV with memfd
 * (slots are PROT_NONE or read-only mappings).
 */
static inline int fault_signal(void)
{
	return engine_is_memfd() ? SIGSEGV : SIGBUS;
}

/* Its si_code: the address is in a mapping that refuses the access. */
static inline int fault_code(void)
{
	return engine_is_memfd() ? SEGV_ACCERR : BUS_ADRERR;
}

static inline const char *engine_label(void)
{
	return engine_is_memfd() ? "memfd" : "uffd-move";
}

/* For checks of what only one engine has: skipped, with the reason, never passed. */
#define skip_if_memfd(...)                                                                         \
	do {                                                                                       \
		if (engine_is_memfd())                                                             \
			cr_skip_test("memfd engine: " __VA_ARGS__);                                \
	} while (0)

#define skip_unless_memfd(...)                                                                     \
	do {                                                                                       \
		if (!engine_is_memfd())                                                            \
			cr_skip_test("uffd-move engine: " __VA_ARGS__);                            \
	} while (0)

/* Allocates exactly @n frames into @f (which must hold @n entries). */
static inline void alloc_exact(awe_frame_t *f, size_t n)
{
	ssize_t got = AWE_OK(awe_alloc(f, n));

	cr_assert_eq((size_t)got, n, "awe_alloc(%zu) allocated only %zd frames", n, got);
}

/* Heap array of @n freshly allocated frames; free() it when done. */
static inline awe_frame_t *alloc_array(size_t n)
{
	awe_frame_t *f = calloc(n ? n : 1, sizeof(*f));

	cr_assert_not_null(f);
	alloc_exact(f, n);
	return f;
}

static inline char *window_new(size_t pages)
{
	void *base = NULL;

	AWE_OK(awe_window_create(pages * pg(), NULL, 0, &base));
	cr_assert_not_null(base);
	cr_assert_eq((uintptr_t)base % pg(), 0, "window base %p is not page aligned", base);
	return base;
}

/*
 * A window of @pages pages made with AWE_WINDOW_ALIGN(@k) (and @flags, @hint)
 * whose base must be aligned to 2^@k bytes; tied to section @sec unless it
 * is 0.
 */
static inline char *window_aligned(awe_section_t sec, size_t pages, unsigned int k, void *hint,
				   unsigned int flags)
{
	uintptr_t mask = ((uintptr_t)1 << k) - 1;
	void *base = NULL;

	flags |= AWE_WINDOW_ALIGN(k);
	if (sec)
		AWE_OK(awe_section_window_create(sec, pages * pg(), hint, flags, &base));
	else
		AWE_OK(awe_window_create(pages * pg(), hint, flags, &base));
	cr_assert_not_null(base);
	cr_assert_eq((uintptr_t)base & mask, 0, "AWE_WINDOW_ALIGN(%u): base %p is not aligned", k,
		     base);
	cr_assert_eq((uintptr_t)base % pg(), 0, "window base %p is not page aligned", base);
	return base;
}

/* An address range of @pages pages that is free right now. */
static inline char *free_range(size_t pages)
{
	void *p = mmap(NULL, pages * pg(), PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);

	cr_assert_neq(p, MAP_FAILED);
	cr_assert_eq(munmap(p, pages * pg()), 0);
	return p;
}

/* Two windows of 4 pages side by side, @a then @b: one VMA to the kernel,
 * perhaps. libawe starts first, so that its own mappings cannot take the
 * hole. */
static inline void adjacent_windows(void **a, void **b)
{
	char *hole;

	AWE_OK(awe_init(0));
	hole = free_range(8);
	AWE_OK(awe_window_create(4 * pg(), hole, AWE_WINDOW_FIXED, a));
	AWE_OK(awe_window_create(4 * pg(), hole + 4 * pg(), AWE_WINDOW_FIXED, b));
	cr_assert_eq((char *)*a + 4 * pg(), (char *)*b);
}

static inline void map1(void *addr, awe_frame_t f)
{
	AWE_OK(awe_map(addr, 1, &f));
}

static inline void unmap_range(void *addr, size_t count)
{
	AWE_OK(awe_map(addr, count, NULL));
}

static inline struct awe_page_info query(const void *addr)
{
	struct awe_page_info pi;

	memset(&pi, 0xa5, sizeof(pi));
	AWE_OK(awe_query(addr, &pi));
	return pi;
}

/* Where @f is mapped (NULL when unmapped); fails the test if @f is invalid. */
static inline void *frame_where(awe_frame_t f)
{
	void *a = (void *)1;

	AWE_OK(awe_frame_addr(f, &a));
	return a;
}

static inline void assert_frame_invalid(awe_frame_t f)
{
	void *a = (void *)1;

	AWE_ERR(awe_frame_addr(f, &a), ENOENT);
}

static inline void assert_slot(const void *addr, awe_frame_t frame, int prot)
{
	struct awe_page_info pi = query(addr);

	cr_assert_eq(pi.frame, frame, "slot %p holds frame %#" PRIx64 ", expected %#" PRIx64, addr,
		     pi.frame, frame);
	cr_assert_eq(pi.prot, prot, "slot %p has prot %d, expected %d", addr, pi.prot, prot);
}

/* The slot is empty and the frame, still allocated, is parked. */
static inline void assert_parked(awe_frame_t f)
{
	void *a = frame_where(f);

	cr_assert_null(a, "frame %#" PRIx64 " should be unmapped but sits at %p", f, a);
}

/*
 * Page contents. The pattern depends on the tag and the offset so that a
 * frame showing up at the wrong place, or half-copied, is noticed.
 */
static inline uint64_t pattern(uint64_t tag, size_t i)
{
	return (tag + 1) * 0x9e3779b97f4a7c15ull ^ (i * 0xbf58476d1ce4e5b9ull);
}

static inline void fill_page(void *p, uint64_t tag)
{
	uint64_t *q = p;

	for (size_t i = 0; i < pg() / sizeof(*q); i++)
		q[i] = pattern(tag, i);
}

/* Compares first and asserts only on a difference: thousands of pages are
 * checked word by word in some tests. */
static inline void assert_page(const void *p, uint64_t tag)
{
	const uint64_t *q = p;
	size_t n = pg() / sizeof(*q);

	for (size_t i = 0; i < n; i++)
		if (q[i] != pattern(tag, i))
			cr_assert_fail("page %p word %zu: %#" PRIx64 ", expected tag %" PRIu64, p,
				       i, q[i], tag);
}

static inline void assert_page_zero(const void *p)
{
	const uint64_t *q = p;

	for (size_t i = 0; i < pg() / sizeof(*q); i++)
		cr_assert_eq(q[i], 0, "page %p word %zu is %#" PRIx64 ", expected zero", p, i,
			     q[i]);
}

/* Maps @f[i] at slot i of @base and stamps each frame with its own number. */
static inline void map_stamped(void *base, const awe_frame_t *f, size_t n)
{
	AWE_OK(awe_map(base, n, f));
	for (size_t i = 0; i < n; i++)
		*(uint64_t *)slot(base, i) = f[i];
}

/* A window of @n slots with frames mapped and filled (tag = frame number). */
static inline char *mapped_window(awe_frame_t *f, size_t n)
{
	char *w = window_new(n);

	alloc_exact(f, n);
	AWE_OK(awe_map(w, n, f));
	for (size_t i = 0; i < n; i++)
		fill_page(slot(w, i), f[i]);
	return w;
}

/* Slot @addr holds @f, read-write, and @f still carries its stamp. */
static inline void assert_stamped_at(void *addr, awe_frame_t f)
{
	assert_slot(addr, f, AWE_PROT_READWRITE);
	cr_assert_eq(*(uint64_t *)addr, f, "slot %p: stamp %#" PRIx64 ", expected %#" PRIx64, addr,
		     *(uint64_t *)addr, f);
}

/* Slot i of @base holds @f[i], read-write, with its stamp: map_stamped()'s check. */
static inline void assert_stamped(void *base, const awe_frame_t *f, size_t n)
{
	for (size_t i = 0; i < n; i++)
		assert_stamped_at(slot(base, i), f[i]);
}

static inline int cmp_frame(const void *a, const void *b)
{
	awe_frame_t x = *(const awe_frame_t *)a, y = *(const awe_frame_t *)b;

	return x < y ? -1 : x > y;
}

static inline void assert_distinct_nonzero(const awe_frame_t *f, size_t n)
{
	awe_frame_t *s = malloc((n ? n : 1) * sizeof(*s));

	cr_assert_not_null(s);
	memcpy(s, f, n * sizeof(*s));
	qsort(s, n, sizeof(*s), cmp_frame);
	for (size_t i = 0; i < n; i++) {
		cr_assert_neq(s[i], 0, "frame number 0 handed out");
		if (i)
			cr_assert_neq(s[i], s[i - 1], "frame number %#" PRIx64 " handed out twice",
				      s[i]);
	}
	free(s);
}

/*
 * State of a run of slots, to prove that a failed call changed nothing:
 * the frame, its protection and the first word of readable slots.
 */
struct slot_snap {
	awe_frame_t frame;
	int prot;
	uint64_t word;
};

static inline void snap_slots(void *base, size_t n, struct slot_snap *s)
{
	for (size_t i = 0; i < n; i++) {
		struct awe_page_info pi = query(slot(base, i));

		s[i].frame = pi.frame;
		s[i].prot = pi.prot;
		s[i].word = pi.frame && pi.prot != AWE_PROT_NONE ? *(uint64_t *)slot(base, i) : 0;
	}
}

static inline void assert_snap_unchanged(void *base, size_t n, const struct slot_snap *s)
{
	struct slot_snap now[n];

	snap_slots(base, n, now);
	for (size_t i = 0; i < n; i++) {
		cr_assert_eq(now[i].frame, s[i].frame,
			     "slot %zu changed frame %#" PRIx64 " -> %#" PRIx64 " on a failed call",
			     i, s[i].frame, now[i].frame);
		cr_assert_eq(now[i].prot, s[i].prot, "slot %zu changed prot %d -> %d", i, s[i].prot,
			     now[i].prot);
		cr_assert_eq(now[i].word, s[i].word, "slot %zu data changed", i);
	}
}

/*
 * All-or-nothing fixture: an 8-slot window whose slots hold a mix of states
 * (stamped read-write frames, a read-only one, a PROT_NONE one, empty
 * slots), spare unmapped frames, and a freed number. A failed call must
 * leave all of it exactly as it was.
 */
struct aon {
	char *w;
	awe_frame_t a[5];  /* a[0..3] at slots 0..3, a[4] at slot 6 */
	awe_frame_t g[8];  /* allocated, unmapped */
	awe_frame_t freed; /* freed number */
	struct slot_snap snap[8];
	struct awe_stats st;
};

static inline void aon_setup(struct aon *x)
{
	x->w = window_new(8);
	alloc_exact(x->a, 5);
	alloc_exact(x->g, 8);
	alloc_exact(&x->freed, 1);
	AWE_OK(awe_free(&x->freed, 1, NULL));
	map_stamped(x->w, x->a, 4);
	map1(slot(x->w, 6), x->a[4]);
	AWE_OK(awe_protect(slot(x->w, 1), 1, AWE_PROT_READ, NULL));
	AWE_OK(awe_protect(slot(x->w, 3), 1, AWE_PROT_NONE, NULL));
	snap_slots(x->w, 8, x->snap);
	x->st = get_stats();
}

/* Entries that make a map call fail, each with its error. */
struct aon_case {
	awe_frame_t bad;
	int code;
};

enum { AON_CASES = 7 };

static inline void aon_cases(const struct aon *x, struct aon_case c[AON_CASES])
{
	const struct aon_case t[AON_CASES] = {
		{BOGUS_FRAME, ENOENT}, /* never allocated */
		{0, ENOENT},	       /* never a frame (but "unmap" for scatter) */
		{x->freed, ENOENT},    /* freed */
		{x->a[4], EBUSY},      /* mapped at slot 6 */
		{x->a[0], EBUSY},      /* mapped at slot 0 */
		{x->a[3], EBUSY},      /* mapped with AWE_PROT_NONE */
		{x->g[0], EBUSY},      /* listed twice in the call */
	};

	memcpy(c, t, sizeof(t));
}

static inline void aon_assert_unchanged(struct aon *x)
{
	struct awe_stats st = get_stats();

	assert_snap_unchanged(x->w, 8, x->snap);
	for (size_t i = 0; i < 8; i++)
		assert_parked(x->g[i]);
	cr_assert_eq(st.frames_mapped, x->st.frames_mapped);
	cr_assert_eq(st.frames_allocated, x->st.frames_allocated);
}

/* A small deterministic PRNG (splitmix64) so that failures reproduce. */
static inline uint64_t rng_next(uint64_t *s)
{
	uint64_t z = (*s += 0x9e3779b97f4a7c15ull);

	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
	return z ^ (z >> 31);
}

/* Fisher-Yates: @perm becomes a random permutation of 0..n-1. */
static inline void shuffle(size_t *perm, size_t n, uint64_t seed)
{
	for (size_t i = 0; i < n; i++)
		perm[i] = i;
	for (size_t i = n; i > 1; i--) {
		size_t j = rng_next(&seed) % i;
		size_t t = perm[i - 1];

		perm[i - 1] = perm[j];
		perm[j] = t;
	}
}

/* The topic headers, which build on the helpers above. */
#include "helpers_child.h"
#include "helpers_fault.h"
#include "helpers_proc.h"
#include "helpers_seccomp.h"

#endif /* AWE_TEST_HELPERS_H */
