/* SPDX-License-Identifier: MIT */
/* awe_free(): entry-by-entry semantics, *freed, unmapping, no leaks. */
#include "helpers.h"

#define FREED_UNSET ((size_t)0xdeadbeef)

/* awe_free() must fail with -@code after freeing exactly @want entries. */
static void assert_free_fails(const awe_frame_t *f, size_t n, int code, size_t want)
{
	size_t freed = FREED_UNSET;

	errno = 0;
	cr_assert_eq(awe_free(f, n, &freed), -code, "awe_free did not fail with %d", -code);
	cr_assert_eq(errno, code);
	cr_assert_eq(freed, want, "*freed is %zu, expected %zu", freed, want);
}

Test(free, count_zero)
{
	awe_frame_t f;
	size_t freed = FREED_UNSET;

	alloc_exact(&f, 1);
	AWE_ERR(awe_free(&f, 0, &freed), EINVAL);
	cr_assert_eq(freed, 0);
	AWE_ERR(awe_free(&f, 0, NULL), EINVAL);
	assert_parked(f);
}

Test(free, null_frames)
{
	size_t freed = FREED_UNSET;

	AWE_ERR(awe_free(NULL, 1, &freed), EFAULT);
	cr_assert_eq(freed, 0);
	AWE_ERR(awe_free(NULL, 3, NULL), EFAULT);
}

Test(free, all_good)
{
	awe_frame_t f[10];
	size_t freed = FREED_UNSET;

	alloc_exact(f, 10);
	cr_assert_eq(AWE_OK(awe_free(f, 10, &freed)), 0);
	cr_assert_eq(freed, 10);
	for (size_t i = 0; i < 10; i++)
		assert_frame_invalid(f[i]);
	cr_assert_eq(get_stats().frames_allocated, 0);
}

Test(free, freed_may_be_null)
{
	awe_frame_t f[3];

	alloc_exact(f, 3);
	AWE_OK(awe_free(f, 2, NULL));
	assert_frame_invalid(f[0]);
	assert_frame_invalid(f[1]);
	/* Failing call with freed == NULL: still frees up to the bad entry. */
	AWE_ERR(awe_free((awe_frame_t[]){f[2], 0}, 2, NULL), ENOENT);
	assert_frame_invalid(f[2]);
	cr_assert_eq(get_stats().frames_allocated, 0);
}

/* [a, b, bogus, c]: a and b are freed, the call stops at bogus, c survives. */
Test(free, stops_at_first_invalid)
{
	awe_frame_t f[3];

	alloc_exact(f, 3);
	assert_free_fails((awe_frame_t[]){f[0], f[1], BOGUS_FRAME, f[2]}, 4, ENOENT, 2);
	assert_frame_invalid(f[0]);
	assert_frame_invalid(f[1]);
	assert_parked(f[2]);
	cr_assert_eq(get_stats().frames_allocated, 1);
}

/* The same with a long run before the bad entry: *freed counts all of it. */
Test(free, stops_after_long_run)
{
	enum { N = 1000, BAD = 700 };
	awe_frame_t *f = alloc_array(N + 1);
	char *w = window_new(N);

	AWE_OK(awe_map(w, N, f));
	f[N] = f[BAD];
	f[BAD] = BOGUS_FRAME;
	assert_free_fails(f, N + 1, ENOENT, BAD);
	for (size_t i = 0; i < BAD; i++) {
		assert_frame_invalid(f[i]);
		assert_slot(slot(w, i), 0, AWE_PROT_NONE);
	}
	for (size_t i = BAD + 1; i <= N; i++)
		cr_assert_not_null(frame_where(f[i]));
	cr_assert_eq(get_stats().frames_allocated, N + 1 - BAD);
	cr_assert_eq(get_stats().frames_mapped, N - BAD);
	free(f);
}

Test(free, zero_entry)
{
	awe_frame_t f[2];

	alloc_exact(f, 2);
	assert_free_fails((awe_frame_t[]){f[0], 0, f[1]}, 3, ENOENT, 1);
	assert_frame_invalid(f[0]);
	assert_parked(f[1]);
	assert_free_fails((awe_frame_t[]){0}, 1, ENOENT, 0);
	assert_parked(f[1]);
}

Test(free, already_freed_entry)
{
	awe_frame_t f[3];

	alloc_exact(f, 3);
	AWE_OK(awe_free(f, 1, NULL));
	assert_free_fails((awe_frame_t[]){f[1], f[0], f[2]}, 3, ENOENT, 1);
	assert_frame_invalid(f[1]);
	assert_parked(f[2]);
}

/* The same frame twice: the second occurrence fails, *freed is its index. */
Test(free, same_frame_twice)
{
	awe_frame_t f[3];

	alloc_exact(f, 3);
	assert_free_fails((awe_frame_t[]){f[0], f[1], f[0], f[2]}, 4, ENOENT, 2);
	assert_frame_invalid(f[0]);
	assert_frame_invalid(f[1]);
	assert_parked(f[2]);
	cr_assert_eq(get_stats().frames_allocated, 1);
}

Test(free, mapped_frame_is_unmapped)
{
	awe_frame_t f[3];
	char *w = window_new(4);
	struct awe_stats st;

	alloc_exact(f, 3);
	AWE_OK(awe_map(w, 3, f));
	fill_page(slot(w, 1), 7);
	cr_assert_eq(get_stats().frames_mapped, 3);

	AWE_OK(awe_free(&f[1], 1, NULL));
	assert_frame_invalid(f[1]);
	assert_slot(slot(w, 1), 0, AWE_PROT_NONE);
	assert_read_faults(slot(w, 1) + 8);
	assert_write_faults(slot(w, 1));
	/* The slot is an ordinary empty slot again; neighbours are untouched. */
	assert_slot(slot(w, 0), f[0], AWE_PROT_READWRITE);
	assert_slot(slot(w, 2), f[2], AWE_PROT_READWRITE);
	st = get_stats();
	cr_assert_eq(st.frames_mapped, 2);
	cr_assert_eq(st.frames_allocated, 2);

	alloc_exact(&f[1], 1);
	map1(slot(w, 1), f[1]);
	assert_page_zero(slot(w, 1));
}

Test(free, protected_frames_can_be_freed)
{
	awe_frame_t f[2];
	char *w = window_new(2);

	alloc_exact(f, 2);
	AWE_OK(awe_map(w, 2, f));
	AWE_OK(awe_protect(slot(w, 0), 1, AWE_PROT_NONE, NULL));
	AWE_OK(awe_protect(slot(w, 1), 1, AWE_PROT_READ, NULL));
	AWE_OK(awe_free(f, 2, NULL));
	assert_slot(slot(w, 0), 0, AWE_PROT_NONE);
	assert_slot(slot(w, 1), 0, AWE_PROT_NONE);
	assert_read_faults(slot(w, 1));
	cr_assert_eq(get_stats().frames_mapped, 0);
}

/* Freeing everything, mapped or not, brings every counter back to zero. */
Test(free, no_leak)
{
	enum { N = 512 };
	awe_frame_t *f = alloc_array(N);
	char *w = window_new(N);
	struct awe_stats st;

	for (size_t i = 0; i < N; i += 2)
		map1(slot(w, i), f[i]);
	cr_assert_eq(get_stats().frames_mapped, N / 2);
	AWE_OK(awe_free(f, N, NULL));
	st = get_stats();
	cr_assert_eq(st.frames_allocated, 0);
	cr_assert_eq(st.frames_mapped, 0);
	for (size_t i = 0; i < N; i++)
		assert_slot(slot(w, i), 0, AWE_PROT_NONE);
	free(f);
}

/* Allocate/free churn must not accumulate frames or mappings. */
Test(free, churn_leaves_nothing)
{
	enum { N = 64 };
	awe_frame_t f[N];
	char *w = window_new(N);
	struct awe_stats st;

	for (int round = 0; round < 200; round++) {
		alloc_exact(f, N);
		if (round % 2)
			AWE_OK(awe_map(w, N, f));
		AWE_OK(awe_free(f, N, NULL));
	}
	st = get_stats();
	cr_assert_eq(st.frames_allocated, 0);
	cr_assert_eq(st.frames_mapped, 0);
}
