/* SPDX-License-Identifier: MIT */
/*
 * Model check: long random sequences of allocate, free, map, scatter, unmap
 * and protect calls, some of them invalid, compared after every call with a
 * simple reference model of who is mapped where, with what protection and
 * what data. This is what catches a wrong coalesced move or a parking slot
 * handed out twice, which hand-written cases rarely reach.
 */
#include "helpers.h"

#define WINS 2
#define SLOTS 48
#define MAXF 80
#define STEPS 3000

struct mframe {
	awe_frame_t num;
	bool live, tagged;
	int win, slot; /* -1 when unmapped */
};

struct model {
	struct mframe f[4 * MAXF];
	size_t nf;
	char *w[WINS];
	int at[WINS][SLOTS]; /* index into f, -1 when empty */
	int prot[WINS][SLOTS];
	uint64_t rng;
};

static size_t rnd(struct model *m, size_t n)
{
	return (size_t)(rng_next(&m->rng) % n);
}

static size_t live_count(const struct model *m, bool mapped_only)
{
	size_t n = 0;

	for (size_t i = 0; i < m->nf; i++)
		n += m->f[i].live && (!mapped_only || m->f[i].win >= 0);
	return n;
}

/* A random live frame, mapped or not as asked (-1: either); -1 if none. */
static int pick(struct model *m, int mapped)
{
	int cand[4 * MAXF], n = 0;

	for (size_t i = 0; i < m->nf; i++)
		if (m->f[i].live && (mapped < 0 || (m->f[i].win >= 0) == mapped))
			cand[n++] = (int)i;
	return n ? cand[rnd(m, (size_t)n)] : -1;
}

static void detach(struct model *m, int fi)
{
	struct mframe *f = &m->f[fi];

	if (f->win >= 0)
		m->at[f->win][f->slot] = -1;
	f->win = f->slot = -1;
}

static void attach(struct model *m, int fi, int w, int s)
{
	if (m->at[w][s] >= 0)
		detach(m, m->at[w][s]);
	detach(m, fi);
	m->at[w][s] = fi;
	m->prot[w][s] = AWE_PROT_READWRITE;
	m->f[fi].win = w;
	m->f[fi].slot = s;
}

static void check(struct model *m)
{
	for (int w = 0; w < WINS; w++) {
		for (int s = 0; s < SLOTS; s++) {
			int fi = m->at[w][s];
			struct awe_page_info pi = query(slot(m->w[w], (size_t)s));

			cr_assert_eq(pi.frame, fi >= 0 ? m->f[fi].num : 0, "window %d slot %d", w,
				     s);
			if (fi < 0)
				continue;
			cr_assert_eq(pi.prot, m->prot[w][s], "window %d slot %d protection", w, s);
			if (m->prot[w][s] == AWE_PROT_NONE)
				continue;
			awe_frame_t *p = (awe_frame_t *)slot(m->w[w], (size_t)s);
			if (!m->f[fi].tagged) {
				assert_page_zero(p);
				cr_assert_eq(m->prot[w][s], AWE_PROT_READWRITE);
				*p = m->f[fi].num;
				m->f[fi].tagged = true;
			}
			cr_assert_eq(*p, m->f[fi].num, "window %d slot %d holds the wrong page", w,
				     s);
		}
	}
	for (size_t i = 0; i < m->nf; i++) {
		struct mframe *f = &m->f[i];

		if (f->live)
			cr_assert_eq(frame_where(f->num),
				     f->win >= 0 ? slot(m->w[f->win], (size_t)f->slot) : NULL);
	}
	struct awe_stats st = get_stats();
	cr_assert_eq(st.frames_allocated, live_count(m, false));
	cr_assert_eq(st.frames_mapped, live_count(m, true));
}

static void op_alloc(struct model *m)
{
	awe_frame_t f[6];
	size_t n = 1 + rnd(m, 6);

	if (live_count(m, false) + n > MAXF || m->nf + n > 4 * MAXF)
		return;
	alloc_exact(f, n);
	for (size_t i = 0; i < n; i++)
		m->f[m->nf++] = (struct mframe){f[i], true, false, -1, -1};
}

static void op_free(struct model *m)
{
	awe_frame_t list[4];
	int idx[4];
	size_t n = 0, freed = 99, want = 1 + rnd(m, 3);

	while (n < want) {
		int fi = pick(m, -1);

		if (fi < 0)
			break;
		/* Allow repeats: the second listing must stop the call. */
		idx[n] = fi;
		list[n++] = m->f[fi].num;
	}
	if (rnd(m, 4) == 0)
		list[n++] = BOGUS_FRAME;
	if (!n)
		return;
	size_t ok = 0;
	for (; ok < n; ok++) {
		bool seen = false;

		for (size_t j = 0; j < ok; j++)
			seen |= list[j] == list[ok];
		if (list[ok] == BOGUS_FRAME || seen)
			break;
	}
	if (ok == n)
		AWE_OK(awe_free(list, n, &freed));
	else
		AWE_ERR(awe_free(list, n, &freed), ENOENT);
	cr_assert_eq(freed, ok);
	for (size_t i = 0; i < ok; i++) {
		detach(m, idx[i]);
		m->f[idx[i]].live = false;
	}
}

/* Expected error of a claim pass over @fi (indexes, -1: a freed number). */
static int claim_error(struct model *m, const int *fi, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		if (fi[i] < 0)
			return ENOENT;
		if (m->f[fi[i]].win >= 0)
			return EBUSY;
		for (size_t j = 0; j < i; j++)
			if (fi[j] == fi[i])
				return EBUSY;
	}
	return 0;
}

/* Frames for a map call: mostly unmapped distinct frames, sometimes a bad one. */
static size_t choose_frames(struct model *m, int *fi, awe_frame_t *num, size_t n)
{
	size_t k;

	for (k = 0; k < n; k++) {
		int f = pick(m, 0);
		bool dup = false;

		for (size_t j = 0; j < k; j++)
			dup |= fi[j] == f;
		if (f < 0 || (dup && rnd(m, 8)))
			break;
		fi[k] = f;
		num[k] = m->f[f].num;
	}
	if (k && rnd(m, 10) == 0) {
		size_t at = rnd(m, k);
		int f = pick(m, 1);

		if (rnd(m, 2) && f >= 0) {
			fi[at] = f;
			num[at] = m->f[f].num;
		} else {
			fi[at] = -1;
			num[at] = BOGUS_FRAME;
		}
	}
	return k;
}

static void op_map(struct model *m)
{
	int w = (int)rnd(m, WINS), fi[8];
	size_t n = 1 + rnd(m, 8), s = rnd(m, SLOTS - n + 1);
	awe_frame_t num[8];
	int e;

	n = choose_frames(m, fi, num, n);
	if (!n)
		return;
	e = claim_error(m, fi, n);
	if (e) {
		AWE_ERR(awe_map(slot(m->w[w], s), n, num), e);
		return;
	}
	AWE_OK(awe_map(slot(m->w[w], s), n, num));
	for (size_t i = 0; i < n; i++)
		attach(m, fi[i], w, (int)(s + i));
}

static void op_unmap(struct model *m)
{
	int w = (int)rnd(m, WINS);
	size_t n = 1 + rnd(m, SLOTS), s = rnd(m, SLOTS - n + 1);

	AWE_OK(awe_map(slot(m->w[w], s), n, NULL));
	for (size_t i = s; i < s + n; i++)
		if (m->at[w][i] >= 0)
			detach(m, m->at[w][i]);
}

static void op_scatter(struct model *m)
{
	int fi[8], ws[8], ss[8];
	size_t n = 1 + rnd(m, 8);
	awe_frame_t num[8];
	void *addrs[8];
	bool unmap_all = rnd(m, 8) == 0;
	int e;

	n = choose_frames(m, fi, num, n);
	for (size_t i = 0; i < n; i++) {
		ws[i] = (int)rnd(m, WINS);
		ss[i] = (int)rnd(m, SLOTS);
		addrs[i] = slot(m->w[ws[i]], (size_t)ss[i]) + rnd(m, pg());
		if (rnd(m, 5) == 0)
			num[i] = 0, fi[i] = -2;
	}
	if (!n)
		return;
	if (unmap_all) {
		AWE_OK(awe_map_scatter(addrs, n, NULL));
		for (size_t i = 0; i < n; i++)
			if (m->at[ws[i]][ss[i]] >= 0)
				detach(m, m->at[ws[i]][ss[i]]);
		return;
	}
	/* Zero entries take no part in the claim pass. */
	int claim_fi[8];
	size_t nc = 0;
	for (size_t i = 0; i < n; i++)
		if (fi[i] != -2)
			claim_fi[nc++] = fi[i];
	e = claim_error(m, claim_fi, nc);
	if (e) {
		AWE_ERR(awe_map_scatter(addrs, n, num), e);
		return;
	}
	AWE_OK(awe_map_scatter(addrs, n, num));
	for (size_t i = 0; i < n; i++) {
		if (fi[i] == -2) {
			if (m->at[ws[i]][ss[i]] >= 0)
				detach(m, m->at[ws[i]][ss[i]]);
		} else {
			attach(m, fi[i], ws[i], ss[i]);
		}
	}
}

static void op_protect(struct model *m)
{
	static const int prots[] = {AWE_PROT_NONE, AWE_PROT_READ, AWE_PROT_READWRITE};
	int w = (int)rnd(m, WINS), prot = prots[rnd(m, 3)], old = -1;
	size_t n = 1 + rnd(m, 12), s = rnd(m, SLOTS - n + 1);
	int first = m->at[w][s] >= 0 ? m->prot[w][s] : AWE_PROT_NONE;

	AWE_OK(awe_protect(slot(m->w[w], s), n, prot, &old));
	cr_assert_eq(old, first);
	for (size_t i = s; i < s + n; i++)
		if (m->at[w][i] >= 0)
			m->prot[w][i] = prot;
}

static void run_model(uint64_t seed)
{
	static void (*const ops[])(struct model *) = {op_alloc,	  op_alloc,  op_free,  op_map,
						      op_map,	  op_map,    op_unmap, op_scatter,
						      op_scatter, op_protect};
	struct model *m = calloc(1, sizeof(*m));

	cr_assert_not_null(m);
	m->rng = seed;
	for (int w = 0; w < WINS; w++) {
		m->w[w] = window_new(SLOTS);
		for (int s = 0; s < SLOTS; s++)
			m->at[w][s] = -1;
	}
	for (int step = 0; step < STEPS; step++) {
		ops[rnd(m, sizeof(ops) / sizeof(ops[0]))](m);
		check(m);
	}
	free(m);
}

Test(model, seed_1)
{
	run_model(1);
}

Test(model, seed_2)
{
	run_model(0x9e3779b97f4a7c15ULL);
}

Test(model, seed_3)
{
	run_model(0xdeadbeefcafeULL);
}
