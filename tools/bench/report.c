// SPDX-License-Identifier: MIT
/*
 * awe-bench output, what its parts share: the names of modes and statuses,
 * finding a case's result, the ratio of two contenders' times per page (paired
 * round by round where they ran in turns), and the figures that the tables,
 * the goals and the JSON read alike, and how a JSON value is written. The
 * tables are in report_tables.c, the goals in report_goals.c, the JSON in
 * report_json.c.
 */
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "bench.h"
#include "report.h"

FILE *report_out;

const char *const baselines[] = {"raw", "memfd", "copy"};

const char *const mode_ids[] = {"one", "busy", "threads"};

const char *mode_name(enum mode m, unsigned int nthreads, char *buf, size_t len)
{
	if (m == MODE_ONE)
		snprintf(buf, len, "1 thread");
	else if (m == MODE_BUSY)
		snprintf(buf, len, "1 + busy");
	else
		snprintf(buf, len, "%u threads", nthreads);
	return buf;
}

const char *status_name(enum status s)
{
	static const char *const names[] = {"ok", "skipped", "limit", "error"};

	return names[s];
}

static int key_order(struct mode_key a, struct mode_key b)
{
	if (a.mode != b.mode)
		return a.mode < b.mode ? -1 : 1;
	return (a.nthreads > b.nthreads) - (a.nthreads < b.nthreads);
}

size_t modes_run(const struct report *rp, struct mode_key *out, size_t cap)
{
	size_t n = 0;

	for (size_t i = 0; i < rp->ncases; i++) {
		struct mode_key k = {rp->cases[i].mode, rp->cases[i].nthreads};
		size_t j = n;

		while (j > 0 && key_order(out[j - 1], k) > 0)
			j--;
		if ((j > 0 && !key_order(out[j - 1], k)) || n == cap)
			continue;
		memmove(&out[j + 1], &out[j], (n - j) * sizeof(*out));
		out[j] = k;
		n++;
	}
	return n;
}

const struct result *find_result(const struct report *rp, const char *contender,
				 const struct workload *w, struct mode_key m, size_t size)
{
	for (size_t i = 0; i < rp->ncases; i++) {
		const struct result *r = &rp->cases[i];

		if (r->w == w && r->mode == m.mode && r->nthreads == m.nthreads &&
		    r->size == size && !strcmp(r->c->name, contender))
			return r->status == ST_OK && r->ns_page > 0 ? r : NULL;
	}
	return NULL;
}

static double per_page(const struct result *r, enum timing t)
{
	return t == CPU ? r->cpu_page : r->ns_page;
}

static double per_round(const struct result *r, enum timing t, unsigned int i)
{
	return t == CPU ? r->round_cpu[i] : r->round_ns[i];
}

/* Whether round i of @x ran in turns with round i of @y, for every i: cases
 * of one mode and size, each round of one contender's right after the
 * other's. */
static bool paired(const struct result *x, const struct result *y, enum timing t)
{
	if (!x->interleaved || !y->interleaved || !x->nrounds || x->nrounds != y->nrounds ||
	    x->mode != y->mode || x->nthreads != y->nthreads || x->size != y->size)
		return false;
	for (unsigned int i = 0; i < x->nrounds; i++)
		if (!(per_round(x, t, i) > 0 && per_round(y, t, i) > 0))
			return false;
	return true;
}

/* The median and the range of q.round[0..q.n-1]. */
static struct ratio rounds_median(struct ratio q)
{
	q.v = median(q.round, q.n);
	q.lo = q.hi = q.round[0];
	for (unsigned int i = 1; i < q.n; i++) {
		q.lo = q.round[i] < q.lo ? q.round[i] : q.lo;
		q.hi = q.round[i] > q.hi ? q.round[i] : q.hi;
	}
	return q;
}

/*
 * Paired, the median over rounds of the rounds' ratios: a slow spell of the
 * machine lasts seconds, about as long as a round of every contender, so it
 * weighs on both sides of a round's ratio, where it would land on one side
 * of a ratio of medians taken minutes apart.
 */
struct ratio ratio_of(const struct result *x, const struct result *y, enum timing t)
{
	struct ratio q = {.v = NAN};

	if (!(per_page(y, t) > 0))
		return q;
	if (!paired(x, y, t)) {
		q.v = per_page(x, t) / per_page(y, t);
		return q;
	}
	q.n = x->nrounds;
	for (unsigned int i = 0; i < q.n; i++)
		q.round[i] = per_round(x, t, i) / per_round(y, t, i);
	return rounds_median(q);
}

struct ratio pager_ratio(const struct report *rp, const struct pager_result *r, const char *base)
{
	struct ratio q = {.v = NAN};

	for (size_t i = 0; i < rp->npager; i++) {
		const struct pager_result *b = &rp->pager[i];

		if (strcmp(b->c->name, base) || b->threads != r->threads)
			continue;
		if (r->status != ST_OK || b->status != ST_OK || !r->nrounds ||
		    r->nrounds != b->nrounds)
			return q;
		q.n = r->nrounds;
		for (unsigned int k = 0; k < q.n; k++)
			q.round[k] = r->touch_s[k] / b->touch_s[k];
		return rounds_median(q);
	}
	return q;
}

struct ratio ratio(const struct report *rp, const struct result *r, const char *base, enum timing t)
{
	const struct result *b =
		find_result(rp, base, r->w, (struct mode_key){r->mode, r->nthreads}, r->size);
	struct ratio none = {.v = NAN};

	return b && r->status == ST_OK ? ratio_of(r, b, t) : none;
}

const char *fmt_ns(char *buf, size_t len, double ns)
{
	if (!(ns > 0))
		snprintf(buf, len, "-");
	else if (ns >= 100)
		snprintf(buf, len, "%.0f", ns);
	else
		snprintf(buf, len, "%.1f", ns);
	return buf;
}

/* Half the range of the repetitions, relative to the median: how far to
 * trust the digits. */
double spread(const struct result *r)
{
	double lo = r->ns_page, hi = r->ns_page;

	for (unsigned int i = 0; i < r->nreps; i++) {
		lo = r->rep[i] < lo ? r->rep[i] : lo;
		hi = r->rep[i] > hi ? r->rep[i] : hi;
	}
	return r->ns_page > 0 ? (hi - lo) / 2 / r->ns_page * 100 : 0;
}

bool counts_syscalls(const struct result *r)
{
	return (r->c->flags & C_COUNTS_SYSCALLS) && r->calls;
}

/* VmPTE at the end of a churn run, in percent of the frames' memory. */
double churn_pte_pct(const struct churn_result *ch)
{
	return (double)ch->pte_after_kb * 1024 / (double)(ch->frames * opts.page) * 100;
}

/* JSON values, for the JSON report and its goals section. */

void json_str(const char *s)
{
	fputc('"', report_out);
	for (; s && *s; s++) {
		unsigned char ch = (unsigned char)*s;

		if (ch == '"' || ch == '\\')
			fprintf(report_out, "\\%c", ch);
		else if (ch < 0x20)
			fprintf(report_out, "\\u%04x", ch);
		else
			fputc(ch, report_out);
	}
	fputc('"', report_out);
}

void json_num(double v)
{
	if (isnan(v) || isinf(v))
		fprintf(report_out, "null");
	else
		fprintf(report_out, "%.6g", v);
}

void json_times(const struct result *r, const char *unit)
{
	fprintf(report_out, ", \"ns_per_%s\": ", unit);
	json_num(r->ns_page);
	fprintf(report_out, ", \"spread_pct\": ");
	json_num(spread(r));
	fprintf(report_out, ", \"cpu_ns_per_%s\": ", unit);
	json_num(r->cpu_page);
	fprintf(report_out, ", \"%ss_per_s\": ", unit);
	json_num(r->pages_s);
	fprintf(report_out, ", \"interleaved\": %s", r->interleaved ? "true" : "false");
}

void json_nums(const double *v, unsigned int n)
{
	fputc('[', report_out);
	for (unsigned int i = 0; i < n; i++) {
		json_num(v[i]);
		fprintf(report_out, "%s", i + 1 < n ? ", " : "");
	}
	fputc(']', report_out);
}

/* A ratio's per-round values, or null when it is not paired. */
void json_rounds(const struct ratio *q)
{
	if (q->n)
		json_nums(q->round, q->n);
	else
		fprintf(report_out, "null");
}
