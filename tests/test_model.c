/* SPDX-License-Identifier: MIT */
/*
 * Model check of the native API: random call sequences, valid and invalid,
 * compared after every call with the reference model of tests/model.h
 * (return values, errno, awe_query, awe_frame_addr, awe_stats, page contents
 * and faults), with fixed seeds; then the same model under hostile
 * conditions: RLIMIT_MEMLOCK lowered, descriptors exhausted, a memory
 * cgroup limit, fork() from another thread, and calls made with a
 * cancellation request pending. AWE_MODEL_SEED and AWE_MODEL_CALLS scale a
 * run (./dev campaign); see model.h.
 */
#include "model.h"

/* Each call exactly as struct mcall describes it; no asserts (threads and
 * children call these too). */

static void nat_result(struct mres *r, long long ret)
{
	r->eno = errno;
	r->ret = ret;
	r->failed = ret < 0;
	r->err = ret < 0 ? (int)-ret : 0;
}

static void nat_alloc(struct model *m, struct mcall *c, struct mres *r)
{
	awe_frame_t *a = model_ptr(m, c->arr, c->frames);
	ssize_t n;

	errno = ERRNO_CANARY;
	if (!c->proc)
		n = awe_section_alloc((awe_section_t)c->handle, a, c->count);
	else if (c->node != -1)
		n = awe_alloc_node(a, c->count, c->node);
	else
		n = awe_alloc(a, c->count);
	nat_result(r, n);
	r->got = n > 0 ? (size_t)n : 0;
}

static void nat_free(struct model *m, struct mcall *c, struct mres *r)
{
	size_t freed = 777;
	size_t *out = model_ptr(m, c->out, &freed);
	const awe_frame_t *a = model_ptr(m, c->arr, c->frames);
	int rc;

	errno = ERRNO_CANARY;
	rc = c->proc ? awe_free(a, c->count, out)
		     : awe_section_free((awe_section_t)c->handle, a, c->count, out);
	nat_result(r, rc);
	r->got = freed;
}

static void nat_wcreate(struct model *m, struct mcall *c, struct mres *r)
{
	void **out = model_ptr(m, c->out, &r->base);
	int rc;

	errno = ERRNO_CANARY;
	rc = c->proc ? awe_window_create(c->size, c->addr, c->flags, out)
		     : awe_section_window_create((awe_section_t)c->handle, c->size, c->addr,
						 c->flags, out);
	nat_result(r, rc);
}

static void nat_wdestroy(struct model *m, struct mcall *c, struct mres *r)
{
	(void)m;
	errno = ERRNO_CANARY;
	nat_result(r, awe_window_destroy(c->addr));
}

static void nat_map(struct model *m, struct mcall *c, struct mres *r)
{
	const awe_frame_t *a = c->frames_null ? NULL : model_ptr(m, c->arr, c->frames);

	errno = ERRNO_CANARY;
	nat_result(r, awe_map(c->addr, c->count, a));
}

static void nat_scatter(struct model *m, struct mcall *c, struct mres *r)
{
	const awe_frame_t *a = c->frames_null ? NULL : model_ptr(m, c->arr, c->frames);

	errno = ERRNO_CANARY;
	nat_result(r, awe_map_scatter(model_ptr(m, c->arr2, c->addrs), c->count, a));
}

static void nat_protect(struct model *m, struct mcall *c, struct mres *r)
{
	errno = ERRNO_CANARY;
	nat_result(r, awe_protect(c->addr, c->count, c->prot, model_ptr(m, c->out, &r->old)));
}

static void nat_query(struct model *m, struct mcall *c, struct mres *r)
{
	errno = ERRNO_CANARY;
	nat_result(r, awe_query(c->addr, model_ptr(m, c->out, &r->info)));
}

static void nat_faddr(struct model *m, struct mcall *c, struct mres *r)
{
	r->where = (void *)1;
	errno = ERRNO_CANARY;
	nat_result(r, awe_frame_addr(c->frame, model_ptr(m, c->out, &r->where)));
}

static void nat_stats(struct model *m, struct mcall *c, struct mres *r)
{
	errno = ERRNO_CANARY;
	nat_result(r, awe_stats(model_ptr(m, c->out, &r->st)));
}

static void nat_screate(struct model *m, struct mcall *c, struct mres *r)
{
	awe_section_t s = 0;

	errno = ERRNO_CANARY;
	nat_result(r, awe_section_create(c->flags, model_ptr(m, c->out, &s)));
	r->section = s;
}

static void nat_sclose(struct model *m, struct mcall *c, struct mres *r)
{
	(void)m;
	errno = ERRNO_CANARY;
	nat_result(r, awe_section_close((awe_section_t)c->handle));
}

static void nat_init(struct model *m, struct mcall *c, struct mres *r)
{
	(void)m;
	errno = ERRNO_CANARY;
	nat_result(r, awe_init(c->flags));
}

static const struct model_backend native = {
	.name = "native",
	.w32 = false,
	.exec =
		{
			[K_ALLOC] = nat_alloc,
			[K_FREE] = nat_free,
			[K_WCREATE] = nat_wcreate,
			[K_WDESTROY] = nat_wdestroy,
			[K_MAP] = nat_map,
			[K_SCATTER] = nat_scatter,
			[K_PROTECT] = nat_protect,
			[K_QUERY] = nat_query,
			[K_FADDR] = nat_faddr,
			[K_STATS] = nat_stats,
			[K_SCREATE] = nat_screate,
			[K_SCLOSE] = nat_sclose,
			[K_INIT] = nat_init,
		},
};

/* Fixed seeds: ./dev test replays exactly these sequences. */
Test(model, random)
{
	model_random_run(&native, "random", "mixed", 0x5eed0001, 300000);
}

Test(model, random_sections)
{
	model_random_run(&native, "random_sections", "sections", 0x5eed0002, 200000);
}

/* The model under hostile conditions (model.h). */
Test(model, memlock)
{
	model_phase_memlock(&native);
}

Test(model, nofile)
{
	model_phase_nofile(&native);
}

Test(model, cgroup)
{
	model_phase_cgroup(&native);
}

Test(model, fork)
{
	model_phase_fork(&native);
}

Test(model, cancel)
{
	model_phase_cancel(&native);
}
