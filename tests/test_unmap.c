/* SPDX-License-Identifier: MIT */
/*
 * awe_unmap() and awe_unmap_scatter(): awe_map(NULL) and awe_map_scatter(NULL)
 * with flags. Every test runs with flags 0 and with AWE_UNMAP_EXCLUSIVE, the
 * evictor's promise that lets libawe copy the pages out and drop a whole
 * batch with one TLB shootdown: what holds for one holds for the other,
 * however libawe carries the call out. A kernel failing such a call part of
 * the way is tested in test_rollback.c, whose hooks need the static library.
 */
#include "helpers.h"
#include "helpers_thread.h"

#define NELEM(a) (sizeof(a) / sizeof((a)[0]))

/* Each test runs with the flags 0 and AWE_UNMAP_EXCLUSIVE in turn. */
#define EXCL AWE_UNMAP_EXCLUSIVE

/* Flags libawe does not know, AWE_UNMAP_EXCLUSIVE among them in the last. */
static const unsigned int bad_flags[] = {1u << 1, 1u << 7, 1u << 31, ~0u,
					 AWE_UNMAP_EXCLUSIVE | 1u << 3};

/* --- arguments ------------------------------------------------------------ */

Test(unmap, unknown_flags_change_nothing)
{
	void *addrs[8];
	struct aon x;
	unsigned int fl;

	aon_setup(&x);
	for (size_t i = 0; i < 8; i++)
		addrs[i] = slot(x.w, 7 - i);
	for (size_t k = 0; k < NELEM(bad_flags); k++) {
		unsigned int bad = bad_flags[k];

		AWE_ERR(awe_unmap(x.w, 8, bad), EINVAL);
		AWE_ERR(awe_unmap(x.w, 1, bad), EINVAL);
		AWE_ERR(awe_unmap_scatter(addrs, 8, bad), EINVAL);
		AWE_ERR(awe_unmap_scatter(addrs, 1, bad), EINVAL);
		/* The flags are checked before the count, as awe_protect()
		 * checks its protection. */
		AWE_ERR(awe_unmap(x.w, 0, bad), EINVAL);
		AWE_ERR(awe_unmap_scatter(NULL, 0, bad), EINVAL);
		aon_assert_unchanged(&x);
	}
	/* The known ones work on the same slots. */
	for (fl = 0; fl <= EXCL; fl += EXCL) {
		AWE_OK(awe_unmap(slot(x.w, fl ? 4 : 0), 4, fl));
	}
	cr_assert_eq(get_stats().frames_mapped, 0);
}

/* Below vm.mmap_min_addr, and never in page 0: not NULL, but unmappable. */
static void *low_addr(void)
{
	uint64_t min = proc_u64("/proc/sys/vm/mmap_min_addr");

	return (void *)(uintptr_t)((min > pg() ? min : pg()) / 2 + 8);
}

Test(unmap, null_and_bad_pointers)
{
	void *end = (void *)(uintptr_t)(UINTPTR_MAX - 4095);
	void *kernel = (void *)(uintptr_t)0xffff800000001000ull;
	struct aon x;
	unsigned int fl;

	aon_setup(&x);
	for (fl = 0; fl <= EXCL; fl += EXCL) {
		AWE_ERR(awe_unmap(NULL, 1, fl), EFAULT);
		AWE_ERR(awe_unmap(NULL, 8, fl), EFAULT);
		AWE_ERR(awe_unmap_scatter(NULL, 1, fl), EFAULT);
		AWE_ERR(awe_unmap_scatter(NULL, 8, fl), EFAULT);
		/* A NULL entry anywhere: checked before anything changes. */
		for (size_t at = 0; at < 3; at++) {
			void *addrs[3] = {slot(x.w, 0), slot(x.w, 6), slot(x.w, 1)};

			addrs[at] = NULL;
			AWE_ERR(awe_unmap_scatter(addrs, 3, fl), EFAULT);
		}
		AWE_ERR(awe_unmap_scatter((void *[]){NULL}, 1, fl), EFAULT);
		/* Arrays that cannot be user memory. */
		AWE_ERR(awe_unmap_scatter(low_addr(), 2, fl), EFAULT);
		AWE_ERR(awe_unmap_scatter(kernel, 2, fl), EFAULT);
		AWE_ERR(awe_unmap_scatter(end, 1000, fl), EFAULT);
		aon_assert_unchanged(&x);
	}
}

Test(unmap, outside_every_window)
{
	char *m = mmap(NULL, pg(), PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	struct awe_page_info pi;
	struct aon x;
	unsigned int fl;
	int local = 0;

	cr_assert_neq(m, MAP_FAILED);
	aon_setup(&x);
	/* Whatever is around the window, it is no window. */
	AWE_ERR(awe_query(x.w - 1, &pi), EINVAL);
	AWE_ERR(awe_query(slot(x.w, 8), &pi), EINVAL);
	for (fl = 0; fl <= EXCL; fl += EXCL) {
		AWE_ERR(awe_unmap(&local, 1, fl), EINVAL);
		AWE_ERR(awe_unmap(m, 1, fl), EINVAL);
		AWE_ERR(awe_unmap(x.w - 1, 1, fl), EINVAL);
		AWE_ERR(awe_unmap(x.w - 1, 2, fl), EINVAL);
		AWE_ERR(awe_unmap(slot(x.w, 8), 1, fl), EINVAL);
		/* Ranges that run past the window's end. */
		AWE_ERR(awe_unmap(slot(x.w, 7), 2, fl), EINVAL);
		AWE_ERR(awe_unmap(x.w, 9, fl), EINVAL);
		AWE_ERR(awe_unmap(x.w, SIZE_MAX, fl), EINVAL);
		AWE_ERR(awe_unmap(x.w, SIZE_MAX / pg() + 1, fl), EINVAL);
		AWE_ERR(awe_unmap(slot(x.w, 1), SIZE_MAX / pg(), fl), EINVAL);
		/* One bad address among good ones, first or last. */
		AWE_ERR(awe_unmap_scatter((void *[]){slot(x.w, 0), &local}, 2, fl), EINVAL);
		AWE_ERR(awe_unmap_scatter((void *[]){m, slot(x.w, 0)}, 2, fl), EINVAL);
		AWE_ERR(awe_unmap_scatter((void *[]){slot(x.w, 6), slot(x.w, 8)}, 2, fl), EINVAL);
		AWE_ERR(awe_unmap_scatter((void *[]){x.w - 1}, 1, fl), EINVAL);
		/* A count no call can take, refused before the array is read. */
		AWE_ERR(awe_unmap_scatter((void *[]){x.w}, (size_t)UINT32_MAX + 1, fl), EINVAL);
		AWE_ERR(awe_unmap_scatter((void *[]){x.w}, SIZE_MAX, fl), EINVAL);
		aon_assert_unchanged(&x);
	}
	munmap(m, pg());
}

/* Two windows side by side are still two windows. */
Test(unmap, range_across_adjacent_windows)
{
	void *a = NULL, *b = NULL;
	awe_frame_t f[2];
	unsigned int fl;

	adjacent_windows(&a, &b);
	alloc_exact(f, 2);
	map_stamped(slot(a, 3), f, 1);
	map_stamped(b, f + 1, 1);
	for (fl = 0; fl <= EXCL; fl += EXCL) {
		AWE_ERR(awe_unmap(slot(a, 3), 2, fl), EINVAL);
		AWE_ERR(awe_unmap(slot(a, 0), 5, fl), EINVAL);
		assert_stamped_at(slot(a, 3), f[0]);
		assert_stamped_at(b, f[1]);
	}
	/* Both in one scatter call is fine. */
	AWE_OK(awe_unmap_scatter((void *[]){slot(a, 3), b}, 2, AWE_UNMAP_EXCLUSIVE));
	assert_parked(f[0]);
	assert_parked(f[1]);
}

Test(unmap, count_zero)
{
	char *w = window_new(2);
	unsigned int fl;
	awe_frame_t f;
	int local = 0;

	alloc_exact(&f, 1);
	map_stamped(w, &f, 1);
	for (fl = 0; fl <= EXCL; fl += EXCL) {
		cr_assert_eq(AWE_OK(awe_unmap(NULL, 0, fl)), 0);
		cr_assert_eq(AWE_OK(awe_unmap(w, 0, fl)), 0);
		cr_assert_eq(AWE_OK(awe_unmap(&local, 0, fl)), 0);
		cr_assert_eq(AWE_OK(awe_unmap_scatter(NULL, 0, fl)), 0);
		cr_assert_eq(AWE_OK(awe_unmap_scatter((void *[]){w}, 0, fl)), 0);
		cr_assert_eq(AWE_OK(awe_unmap_scatter((void *[]){NULL}, 0, fl)), 0);
	}
	assert_stamped_at(w, f);
	cr_assert_eq(get_stats().frames_mapped, 1);
}

/* --- awe_map(NULL) and awe_map_scatter(NULL), call for call ----------------- */

/* What a call can change: the window's slots, where the frames are, how
 * many are mapped; and what the call returned. */
struct outcome {
	long r;
	int err;
	struct awe_page_info slot[8];
	void *where[5];
	uint64_t mapped;
};

/* aon_setup()'s state again, whatever the last call left (its frames keep
 * their stamps). */
static void twin_reset(struct aon *x)
{
	AWE_OK(awe_map(x->w, 8, NULL));
	AWE_OK(awe_map(x->w, 4, x->a));
	map1(slot(x->w, 6), x->a[4]);
	AWE_OK(awe_protect(slot(x->w, 1), 1, AWE_PROT_READ, NULL));
	AWE_OK(awe_protect(slot(x->w, 3), 1, AWE_PROT_NONE, NULL));
}

static void outcome_of(struct aon *x, long r, int err, struct outcome *o)
{
	memset(o, 0, sizeof(*o));
	o->r = r;
	o->err = r < 0 ? err : 0;
	for (size_t i = 0; i < 8; i++)
		o->slot[i] = query(slot(x->w, i));
	for (size_t i = 0; i < 5; i++)
		o->where[i] = frame_where(x->a[i]);
	o->mapped = get_stats().frames_mapped;
}

static void assert_same_outcome(const struct outcome *a, const struct outcome *b, const char *what)
{
	cr_assert_eq(a->r, b->r, "%s: %ld against %ld", what, a->r, b->r);
	cr_assert_eq(a->err, b->err, "%s: errno %d against %d", what, a->err, b->err);
	for (size_t i = 0; i < 8; i++) {
		cr_assert_eq(a->slot[i].frame, b->slot[i].frame, "%s: slot %zu", what, i);
		cr_assert_eq(a->slot[i].prot, b->slot[i].prot, "%s: slot %zu's prot", what, i);
	}
	for (size_t i = 0; i < 5; i++)
		cr_assert_eq(a->where[i], b->where[i], "%s: frame %zu", what, i);
	cr_assert_eq(a->mapped, b->mapped, "%s: frames_mapped", what);
}

/* Runs @call after resetting the twin state, into @o. */
#define OUTCOME(x, o, call)                                                                        \
	do {                                                                                       \
		twin_reset(x);                                                                     \
		errno = 0;                                                                         \
		long r_ = (long)(call);                                                            \
		outcome_of(x, r_, errno, o);                                                       \
	} while (0)

Test(unmap, same_as_map_null)
{
	static const size_t counts[] = {0, 1, 2, 3, 7, 8, 9, SIZE_MAX};
	struct outcome want, got;
	struct aon x;
	unsigned int fl;
	int local = 0;

	aon_setup(&x);
	char *at[] = {x.w - pg(),	x.w,	     x.w + 100, slot(x.w, 3), slot(x.w, 5),
		      slot(x.w, 7) + 1, slot(x.w, 8)};
	struct {
		size_t n;
		void *a[4];
	} lists[] = {
		{1, {slot(x.w, 0)}},
		{1, {slot(x.w, 1)}},
		{1, {slot(x.w, 3)}},
		{1, {slot(x.w, 5)}},
		{2, {slot(x.w, 0), slot(x.w, 0) + 8}},
		{4, {slot(x.w, 6), slot(x.w, 2), slot(x.w, 0), slot(x.w, 3)}},
		{4, {slot(x.w, 7), slot(x.w, 3), slot(x.w, 1), slot(x.w, 7)}},
		{2, {slot(x.w, 0), NULL}},
		{2, {slot(x.w, 6), &local}},
		{2, {slot(x.w, 2), slot(x.w, 8)}},
	};

	for (fl = 0; fl <= EXCL; fl += EXCL) {
		for (size_t i = 0; i < NELEM(at); i++) {
			for (size_t k = 0; k < NELEM(counts); k++) {
				OUTCOME(&x, &want, awe_map(at[i], counts[k], NULL));
				OUTCOME(&x, &got, awe_unmap(at[i], counts[k], fl));
				assert_same_outcome(&want, &got, "awe_unmap");
			}
		}
		for (size_t i = 0; i < NELEM(lists); i++) {
			OUTCOME(&x, &want, awe_map_scatter(lists[i].a, lists[i].n, NULL));
			OUTCOME(&x, &got, awe_unmap_scatter(lists[i].a, lists[i].n, fl));
			assert_same_outcome(&want, &got, "awe_unmap_scatter");
		}
	}
	/* The frames kept their data through it all. */
	twin_reset(&x);
	AWE_OK(awe_protect(x.w, 8, AWE_PROT_READWRITE, NULL));
	assert_stamped(x.w, x.a, 4);
}

/* --- slots --------------------------------------------------------------- */

Test(unmap, empty_slots_are_fine)
{
	awe_frame_t f[4];
	char *w = window_new(16);
	size_t at[4] = {1, 2, 9, 15};
	unsigned int fl;

	alloc_exact(f, 4);
	for (fl = 0; fl <= EXCL; fl += EXCL) {
		for (size_t i = 0; i < 4; i++)
			map_stamped(slot(w, at[i]), &f[i], 1);
		/* Nothing mapped there. */
		AWE_OK(awe_unmap(slot(w, 3), 6, fl));
		AWE_OK(awe_unmap(slot(w, 3), 1, fl));
		AWE_OK(awe_unmap_scatter((void *[]){slot(w, 0), slot(w, 14), slot(w, 5)}, 3, fl));
		AWE_OK(awe_unmap_scatter((void *[]){slot(w, 10)}, 1, fl));
		cr_assert_eq(get_stats().frames_mapped, 4);
		for (size_t i = 0; i < 4; i++)
			assert_stamped_at(slot(w, at[i]), f[i]);
		/* Empty and mapped slots mixed, then the same again. */
		AWE_OK(awe_unmap(w, 10, fl));
		cr_assert_eq(get_stats().frames_mapped, 1);
		AWE_OK(awe_unmap(w, 10, fl));
		AWE_OK(awe_unmap_scatter((void *[]){slot(w, 4), slot(w, 15), slot(w, 1)}, 3, fl));
		AWE_OK(awe_unmap_scatter((void *[]){slot(w, 15)}, 1, fl));
		AWE_OK(awe_unmap(w, 16, fl));
		cr_assert_eq(get_stats().frames_mapped, 0);
		for (size_t i = 0; i < 4; i++) {
			assert_parked(f[i]);
			assert_read_faults(slot(w, at[i]));
		}
		/* They kept their stamps. */
		AWE_OK(awe_map(slot(w, 4), 4, f));
		assert_stamped(slot(w, 4), f, 4);
		AWE_OK(awe_unmap(slot(w, 4), 4, fl));
	}
}

Test(unmap, slot_listed_twice)
{
	awe_frame_t f[3];
	char *w = window_new(6);
	unsigned int fl;

	alloc_exact(f, 3);
	for (fl = 0; fl <= EXCL; fl += EXCL) {
		map_stamped(w, f, 3);
		AWE_OK(awe_unmap_scatter((void *[]){w, w}, 2, fl));
		assert_slot(w, 0, AWE_PROT_NONE);
		assert_parked(f[0]);
		assert_stamped_at(slot(w, 1), f[1]);
		cr_assert_eq(get_stats().frames_mapped, 2);
		/* Two addresses in one slot are that slot; the others around them. */
		AWE_OK(awe_unmap_scatter((void *[]){slot(w, 1) + 100, slot(w, 2), slot(w, 1) + 200,
						    slot(w, 2)},
					 4, fl));
		cr_assert_eq(get_stats().frames_mapped, 0);
		for (size_t i = 0; i < 3; i++)
			assert_parked(f[i]);
		AWE_OK(awe_map(slot(w, 3), 3, f));
		assert_stamped(slot(w, 3), f, 3);
		AWE_OK(awe_unmap(slot(w, 3), 3, fl));
	}
}

Test(unmap, scatter_across_two_windows)
{
	enum { N = 8 };
	awe_frame_t f[N], keep[2];
	char *a = window_new(N + 1), *b = window_new(N + 1);
	void *addrs[N + 2], *swapped[N];
	unsigned int fl;

	alloc_exact(f, N);
	alloc_exact(keep, 2);
	/* Slot N of each window is not listed and must stay. */
	map_stamped(slot(a, N), &keep[0], 1);
	map_stamped(slot(b, N), &keep[1], 1);
	/* Interleaved, each window backwards; then an empty slot of each. */
	for (size_t i = 0; i < N; i++) {
		addrs[i] = slot(i % 2 ? b : a, N - 1 - i / 2);
		swapped[i] = slot(i % 2 ? a : b, i / 2);
	}
	addrs[N] = slot(a, N - 1 - N / 2);
	addrs[N + 1] = slot(b, N - 1 - N / 2);
	for (fl = 0; fl <= EXCL; fl += EXCL) {
		AWE_OK(awe_map_scatter(addrs, N, f));
		for (size_t i = 0; i < N; i++)
			fill_page(addrs[i], f[i] + fl);
		AWE_OK(awe_unmap_scatter(addrs, N + 2, fl));
		for (size_t i = 0; i < N; i++) {
			assert_slot(addrs[i], 0, AWE_PROT_NONE);
			assert_parked(f[i]);
		}
		cr_assert_eq(get_stats().frames_mapped, 2);
		assert_stamped_at(slot(a, N), keep[0]);
		assert_stamped_at(slot(b, N), keep[1]);
		AWE_OK(awe_map_scatter(swapped, N, f));
		for (size_t i = 0; i < N; i++)
			assert_page(swapped[i], f[i] + fl);
		AWE_OK(awe_unmap_scatter(swapped, N, fl));
	}
}

/* --- contents ------------------------------------------------------------ */

/*
 * A batch: frames f[i] mapped at at[i], each page filled with a pattern of
 * its own, unmapped by the call under test, then shown again at to[i],
 * elsewhere, and checked to the last byte. Frame @keep sits at @keep_at,
 * next to the listed slots, and no call lists it.
 */
struct batch {
	size_t n;
	unsigned int fl;
	awe_frame_t *f, keep;
	void **at, **to, *keep_at;
	char *w, *v; /* the windows, destroyed at the end */
	size_t *perm;
	uint64_t mapped; /* frames_mapped while every frame is mapped */
};

static void batch_new(struct batch *b, size_t n, unsigned int fl, size_t w_slots, size_t v_slots)
{
	memset(b, 0, sizeof(*b));
	b->n = n;
	b->fl = fl;
	b->f = alloc_array(n);
	alloc_exact(&b->keep, 1);
	b->at = calloc(n, sizeof(*b->at));
	b->to = calloc(n, sizeof(*b->to));
	b->perm = calloc(w_slots, sizeof(*b->perm));
	cr_assert(b->at && b->to && b->perm);
	b->w = window_new(w_slots);
	b->v = v_slots ? window_new(v_slots) : NULL;
}

/* Distinct for every frame and flag, so that a page left over from the
 * other flag's round never passes. */
static uint64_t batch_tag(const struct batch *b, size_t i)
{
	return b->f[i] * 2 + (b->fl != 0);
}

/* The frames are mapped: fill them, and show @keep. */
static void batch_fill(struct batch *b)
{
	map1(b->keep_at, b->keep);
	fill_page(b->keep_at, b->keep);
	for (size_t i = 0; i < b->n; i++)
		fill_page(b->at[i], batch_tag(b, i));
	b->mapped = get_stats().frames_mapped;
}

static void batch_check(const struct batch *b, void *const *where)
{
	for (size_t i = 0; i < b->n; i++) {
		assert_slot(where[i], b->f[i], AWE_PROT_READWRITE);
		assert_page(where[i], batch_tag(b, i));
	}
}

/* After the call: none of the frames is mapped any more (and no other
 * frame went), every listed slot is empty and faults, @keep is untouched. */
static void batch_unmapped(const struct batch *b)
{
	cr_assert_eq(get_stats().frames_mapped, b->mapped - b->n);
	for (size_t i = 0; i < b->n; i++) {
		assert_slot(b->at[i], 0, AWE_PROT_NONE);
		assert_parked(b->f[i]);
		assert_read_faults(b->at[i]);
	}
	assert_slot(b->keep_at, b->keep, AWE_PROT_READWRITE);
	assert_page(b->keep_at, b->keep);
}

/* Shown elsewhere, every byte as written; unmapped again from there with
 * the same flags (a frame mapped back may be a copy by now) and back at its
 * slot, still intact and writable; then freed. */
static void batch_remap_and_free(struct batch *b)
{
	uint64_t allocated = get_stats().frames_allocated;
	size_t freed = 0;

	AWE_OK(awe_map_scatter(b->to, b->n, b->f));
	batch_check(b, b->to);
	AWE_OK(awe_unmap_scatter(b->to, b->n, b->fl));
	AWE_OK(awe_map_scatter(b->at, b->n, b->f));
	batch_check(b, b->at);
	assert_no_fault(probe_write(b->at[b->n - 1], 1), b->at[b->n - 1], "write");
	AWE_OK(awe_unmap_scatter(b->at, b->n, b->fl));
	cr_assert_eq(get_stats().frames_mapped, b->mapped - b->n);
	AWE_OK(awe_free(b->f, b->n, &freed));
	cr_assert_eq(freed, b->n);
	cr_assert_eq(get_stats().frames_allocated, allocated - b->n);
	assert_frame_invalid(b->f[0]);
	assert_frame_invalid(b->f[b->n - 1]);
}

static void batch_end(struct batch *b)
{
	AWE_OK(awe_free(&b->keep, 1, NULL));
	AWE_OK(awe_window_destroy(b->w));
	if (b->v)
		AWE_OK(awe_window_destroy(b->v));
	free(b->f);
	free(b->at);
	free(b->to);
	free(b->perm);
}

/*
 * awe_unmap() of @n slots. Contiguous: consecutive frames at consecutive
 * slots (one run everywhere). Otherwise the frames are shuffled over the
 * slots and every fifth slot is empty before the call. The frames come
 * back in the other window, in another order.
 */
static void range_case(size_t n, bool contiguous, unsigned int fl)
{
	enum { FIRST = 2 };
	struct batch b;
	size_t holes = 0;

	batch_new(&b, n, fl, FIRST + n + 2, n);
	shuffle(b.perm, n, n + fl);
	for (size_t i = 0; i < n; i++) {
		b.at[i] = slot(b.w, FIRST + (contiguous ? i : b.perm[i]));
		b.to[i] = slot(b.v, n - 1 - i);
	}
	b.keep_at = slot(b.w, FIRST + n);
	if (contiguous)
		AWE_OK(awe_map(slot(b.w, FIRST), n, b.f));
	else
		AWE_OK(awe_map_scatter(b.at, n, b.f));
	batch_fill(&b);
	for (size_t i = 2; !contiguous && i < n; i += 5, holes++)
		AWE_OK(awe_map_scatter(&b.at[i], 1, NULL));
	cr_assert_eq(get_stats().frames_mapped, b.mapped - holes);
	AWE_OK(awe_unmap(slot(b.w, FIRST), n, fl));
	batch_unmapped(&b);
	batch_remap_and_free(&b);
	batch_end(&b);
}

enum layout {
	IN_ORDER, /* consecutive slots, listed in order, consecutive frames */
	RANDOM,	  /* random slots of a window four times larger, any order */
	SPREAD,	  /* no two listed slots adjacent: a run per page */
};

/* awe_unmap_scatter() of @n slots laid out as @lay; the frames come back at
 * other slots of the same window. */
static void scatter_case(size_t n, enum layout lay, unsigned int fl)
{
	struct batch b;

	batch_new(&b, n, fl, 4 * n + 4, 0);
	shuffle(b.perm, lay == IN_ORDER ? n : lay == RANDOM ? 4 * n + 4 : 2 * n + 2, n + fl);
	for (size_t i = 0; i < n; i++) {
		switch (lay) {
		case IN_ORDER:
			b.at[i] = slot(b.w, 1 + i);
			b.to[i] = slot(b.w, 2 * n + 2 + b.perm[i]);
			break;
		case RANDOM:
			b.at[i] = slot(b.w, b.perm[i]);
			b.to[i] = slot(b.w, b.perm[n + i]);
			break;
		case SPREAD: /* even slots, each with its odd neighbour */
			b.at[i] = slot(b.w, 2 * b.perm[i]);
			b.to[i] = slot(b.w, 2 * b.perm[i] + 1);
			break;
		}
	}
	b.keep_at = slot(b.w, lay == IN_ORDER ? 1 + n
			      : lay == RANDOM ? b.perm[2 * n]
					      : 2 * b.perm[n]);
	if (lay == IN_ORDER)
		AWE_OK(awe_map(slot(b.w, 1), n, b.f));
	else
		AWE_OK(awe_map_scatter(b.at, n, b.f));
	batch_fill(&b);
	AWE_OK(awe_unmap_scatter(b.at, n, fl));
	batch_unmapped(&b);
	batch_remap_and_free(&b);
	batch_end(&b);
}

Test(unmap, range_keeps_contents)
{
	static const size_t sizes[] = {1, 7, 64, 600};
	unsigned int fl;

	for (fl = 0; fl <= EXCL; fl += EXCL) {
		for (size_t k = 0; k < NELEM(sizes); k++) {
			range_case(sizes[k], true, fl);
			range_case(sizes[k], false, fl);
		}
	}
	cr_assert_eq(get_stats().frames_mapped, 0);
	cr_assert_eq(get_stats().frames_allocated, 0);
}

Test(unmap, scatter_keeps_contents)
{
	static const size_t sizes[] = {1, 64, 1500};
	unsigned int fl;

	for (fl = 0; fl <= EXCL; fl += EXCL) {
		for (size_t k = 0; k < NELEM(sizes); k++) {
			scatter_case(sizes[k], IN_ORDER, fl);
			scatter_case(sizes[k], RANDOM, fl);
		}
		scatter_case(64, SPREAD, fl);
	}
	cr_assert_eq(get_stats().frames_mapped, 0);
	cr_assert_eq(get_stats().frames_allocated, 0);
}

/*
 * Frames read-only and hidden (AWE_PROT_NONE) when unmapped: their data
 * stays, and wherever they are mapped next (at the very slots that were
 * read-only, or in another window) they are read-write.
 */
static void protected_case(unsigned int fl, bool scatter)
{
	enum { N = 12 };
	awe_frame_t f[N];
	char *w = mapped_window(f, N), *v = window_new(N);
	void *at[N], *to[N];
	size_t perm[N];
	uint64_t mapped;

	AWE_OK(awe_protect(slot(w, 2), 3, AWE_PROT_READ, NULL));
	AWE_OK(awe_protect(slot(w, 6), 2, AWE_PROT_NONE, NULL));
	AWE_OK(awe_protect(slot(w, 11), 1, AWE_PROT_READ, NULL));
	mapped = get_stats().frames_mapped;
	shuffle(perm, N, 5);
	for (size_t i = 0; i < N; i++) {
		at[i] = slot(w, perm[i]);
		to[i] = i < N / 2 ? slot(w, i) : slot(v, perm[i]);
	}
	if (scatter)
		AWE_OK(awe_unmap_scatter(at, N, fl));
	else
		AWE_OK(awe_unmap(w, N, fl));
	cr_assert_eq(get_stats().frames_mapped, mapped - N);
	for (size_t i = 0; i < N; i++) {
		assert_slot(slot(w, i), 0, AWE_PROT_NONE);
		assert_parked(f[i]);
	}
	assert_read_faults(slot(w, 2));
	assert_read_faults(slot(w, 6));
	AWE_OK(awe_map_scatter(to, N, f));
	for (size_t i = 0; i < N; i++) {
		assert_slot(to[i], f[i], AWE_PROT_READWRITE);
		assert_page(to[i], f[i]);
		assert_no_fault(probe_write(to[i], 1), to[i], "write");
	}
	AWE_OK(awe_window_destroy(w));
	AWE_OK(awe_window_destroy(v));
	AWE_OK(awe_free(f, N, NULL));
}

Test(unmap, protected_frames_keep_contents)
{
	unsigned int fl;

	for (fl = 0; fl <= EXCL; fl += EXCL) {
		protected_case(fl, false);
		protected_case(fl, true);
	}
}

/*
 * With other threads running (on other CPUs, never touching these pages,
 * as the flag promises), which is when libawe may copy pages out and drop
 * a batch at once, and map into empty slots by copying.
 */
Test(unmap, other_threads_running)
{
	struct spinners s;
	unsigned int fl;

	spinners_start(&s, 2);
	for (fl = 0; fl <= EXCL; fl += EXCL) {
		range_case(1, true, fl);
		range_case(64, true, fl);
		range_case(600, false, fl);
		scatter_case(1, RANDOM, fl);
		scatter_case(64, IN_ORDER, fl);
		scatter_case(1500, RANDOM, fl);
		protected_case(fl, false);
		protected_case(fl, true);
	}
	spinners_stop(&s);
	cr_assert_eq(get_stats().frames_allocated, 0);
}

/* More separate pages than one process_madvise() call takes (its vector
 * holds 1024 ranges), alone and beside running threads. */
Test(unmap, batch_of_3000_scattered_pages)
{
	struct spinners s;
	unsigned int fl;

	for (int threads = 0; threads < 2; threads++) {
		if (threads)
			spinners_start(&s, 2);
		for (fl = 0; fl <= EXCL; fl += EXCL) {
			scatter_case(3000, SPREAD, fl);
		}
		if (threads)
			spinners_stop(&s);
	}
}

/* --- AWE sections ---------------------------------------------------------- */

/*
 * Section windows, where a frame may show at several slots: unmapping one
 * slot leaves the others, the contents are the frame's wherever it shows,
 * and a call cannot mix section windows with others.
 */
Test(unmap, section_windows)
{
	enum { N = 8 };
	awe_frame_t f[N], plain;
	unsigned int fl;
	awe_section_t s, t;
	void *w1, *w2, *tw, *p = window_new(1);
	size_t freed = 0;

	alloc_exact(&plain, 1);
	map_stamped(p, &plain, 1);
	for (fl = 0; fl <= EXCL; fl += EXCL) {
		AWE_OK(awe_section_create(0, &s));
		AWE_OK(awe_section_create(0, &t));
		AWE_OK(awe_section_window_create(s, 2 * N * pg(), NULL, 0, &w1));
		AWE_OK(awe_section_window_create(s, N * pg(), NULL, 0, &w2));
		AWE_OK(awe_section_window_create(t, pg(), NULL, 0, &tw));
		cr_assert_eq(AWE_OK(awe_section_alloc(s, f, N)), N);
		/* f[i] at slot i of w1 and slot N-1-i of w2. */
		AWE_OK(awe_map(w1, N, f));
		for (size_t i = 0; i < N; i++) {
			map1(slot(w2, N - 1 - i), f[i]);
			fill_page(slot(w1, i), f[i] + fl);
		}
		cr_assert_eq(get_stats().frames_mapped, 2 * N + 1);

		AWE_OK(awe_unmap(w1, N / 2, fl));
		cr_assert_eq(get_stats().frames_mapped, 2 * N + 1 - N / 2);
		for (size_t i = 0; i < N / 2; i++) {
			assert_slot(slot(w1, i), 0, AWE_PROT_NONE);
			/* Section windows are the memfd engine's: SIGSEGV. */
			cr_assert_eq(probe_read(slot(w1, i)).sig, SIGSEGV);
			assert_page(slot(w2, N - 1 - i), f[i] + fl);
		}
		/* Both windows of the section in one call, an empty slot and a
		 * slot twice among them: f[0..N/2) shows nowhere now, the
		 * others only in w2. */
		void *list[N + 2];
		for (size_t i = 0; i < N / 2; i++) {
			list[i] = slot(w2, N - 1 - i);
			list[N / 2 + i] = slot(w1, N / 2 + i);
		}
		list[N] = slot(w1, 0);
		list[N + 1] = slot(w2, N - 1);
		AWE_OK(awe_unmap_scatter(list, N + 2, fl));
		cr_assert_eq(get_stats().frames_mapped, N / 2 + 1);

		/* Mixed with a plain window or another section's: refused. */
		AWE_ERR(awe_unmap_scatter((void *[]){slot(w2, 0), p}, 2, fl), EINVAL);
		AWE_ERR(awe_unmap_scatter((void *[]){p, slot(w2, 0)}, 2, fl), EINVAL);
		AWE_ERR(awe_unmap_scatter((void *[]){tw, slot(w2, 1)}, 2, fl), EINVAL);
		AWE_ERR(awe_unmap(w2, N, fl | 1u << 4), EINVAL);
		cr_assert_eq(get_stats().frames_mapped, N / 2 + 1);
		assert_stamped_at(p, plain);

		/* Every frame shown again, in the second half of w1. */
		AWE_OK(awe_map(slot(w1, N), N, f));
		for (size_t i = 0; i < N; i++) {
			assert_page(slot(w1, N + i), f[i] + fl);
			if (i >= N / 2)
				assert_page(slot(w2, N - 1 - i), f[i] + fl);
		}
		AWE_OK(awe_unmap(w2, N, fl));
		AWE_OK(awe_unmap_scatter((void *[]){slot(w1, N), slot(w1, 2 * N - 1)}, 2, fl));
		AWE_OK(awe_unmap(w1, 2 * N, fl));
		cr_assert_eq(get_stats().frames_mapped, 1);
		AWE_OK(awe_section_free(s, f, N, &freed));
		cr_assert_eq(freed, N);
		AWE_OK(awe_window_destroy(w1));
		AWE_OK(awe_window_destroy(w2));
		AWE_OK(awe_window_destroy(tw));
		AWE_OK(awe_section_close(s));
		AWE_OK(awe_section_close(t));
	}
	cr_assert_eq(get_stats().frames_allocated, 1);
}
