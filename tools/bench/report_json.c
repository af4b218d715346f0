// SPDX-License-Identifier: MIT
/*
 * awe-bench output as JSON: the machine, the configuration, every case with
 * its repetitions and rounds, the extra runs and the goals, for scripts and
 * for comparing runs.
 */
#include <inttypes.h>
#include <math.h>
#include <stdio.h>

#include <awe.h>

#include "bench.h"
#include "report.h"

static void json_case(const struct report *rp, const struct result *r, bool last)
{
	fprintf(report_out, "    {\"contender\": ");
	json_str(r->c->name);
	fprintf(report_out, ", \"workload\": ");
	json_str(r->w->name);
	fprintf(report_out,
		", \"mode\": \"%s\", \"threads\": %u, \"size_bytes\": %zu, \"status\": \"%s\"",
		mode_ids[r->mode], r->nthreads, r->size, status_name(r->status));
	if (r->status != ST_OK) {
		fprintf(report_out, ", \"message\": ");
		json_str(r->msg);
		fprintf(report_out, "}%s\n", last ? "" : ",");
		return;
	}
	json_times(r, "page");
	for (enum timing t = WALL; t <= CPU; t++)
		for (size_t i = 0; i < ARRAY_SIZE(baselines); i++) {
			struct ratio q = ratio(rp, r, baselines[i], t);
			const char *cpu = t == CPU ? "cpu_" : "";

			fprintf(report_out, ", \"%sratio_%s\": ", cpu, baselines[i]);
			json_num(q.v);
			fprintf(report_out, ", \"%sratio_%s_rounds\": ", cpu, baselines[i]);
			json_rounds(&q);
		}
	fprintf(report_out, ", \"calls\": %" PRIu64 ", \"syscalls_per_call\": ", r->calls);
	if (counts_syscalls(r))
		json_num((double)r->sys / (double)r->calls);
	else
		fprintf(report_out, "null");
	fprintf(report_out, ", \"faults_per_page\": ");
	json_num(r->pages ? (double)r->faults / (double)r->pages : 0);
	fprintf(report_out, ", \"vmpte_growth_kb\": %ld, \"reps_ns_per_page\": ", r->pte_kb);
	json_nums(r->rep, r->nreps);
	fprintf(report_out, ", \"reps_cpu_ns_per_page\": ");
	json_nums(r->rep_cpu, r->nreps);
	fprintf(report_out, ", \"rounds_ns_per_page\": ");
	json_nums(r->round_ns, r->nrounds);
	fprintf(report_out, ", \"rounds_cpu_ns_per_page\": ");
	json_nums(r->round_cpu, r->nrounds);
	fprintf(report_out, "}%s\n", last ? "" : ",");
}

/* Rates are medians over the rounds, counts are of all rounds' measured
 * time together. */
static void json_pager(const struct report *rp, const struct pager_result *r, bool last)
{
	const struct pager_run *t = &r->total;
	struct ratio q = pager_ratio(rp, r, "memfd");

	fprintf(report_out, "    {\"contender\": ");
	json_str(r->c->name);
	fprintf(report_out,
		", \"faulting_threads\": %u, \"frames\": %zu, \"virtual_pages\": %zu, "
		"\"windows\": %d, \"unmap\": \"%s\", \"status\": \"%s\", \"message\": ",
		r->threads, r->frames, r->frames * PAGER_SPACE, PAGER_WINDOWS,
		r->c->unmap_excl ? "exclusive" : "ordinary", status_name(r->status));
	json_str(r->status == ST_OK ? "" : r->msg);
	fprintf(report_out, ", \"touches_per_s\": ");
	json_num(r->nrounds ? median(r->touch_s, r->nrounds) : NAN);
	fprintf(report_out, ", \"faults_per_s\": ");
	json_num(r->nrounds ? median(r->fault_s, r->nrounds) : NAN);
	fprintf(report_out, ", \"rounds_touches_per_s\": ");
	json_nums(r->touch_s, r->nrounds);
	fprintf(report_out, ", \"rounds_faults_per_s\": ");
	json_nums(r->fault_s, r->nrounds);
	fprintf(report_out, ", \"vs_memfd\": ");
	json_num(q.v);
	fprintf(report_out, ", \"vs_memfd_rounds\": ");
	json_rounds(&q);
	fprintf(report_out,
		", \"seconds\": %.3f, \"touches\": %" PRIu64 ", \"faults\": %" PRIu64
		", \"taken_back_by_handler\": %" PRIu64 ", \"waits\": %" PRIu64
		", \"evicted\": %" PRIu64 ", \"batches\": %" PRIu64 "}%s\n",
		t->secs, t->touches, t->faults, t->direct, t->waits, t->evicted, t->batches,
		last ? "" : ",");
}

void report_json(const struct report *rp, FILE *f)
{
	report_out = f;
	/* The library measured, not the headers built with. */
	fprintf(report_out, "{\n  \"tool\": \"awe-bench\",\n  \"libawe_version\": ");
	json_str(awe_version());
	fprintf(report_out, ",\n");
	fprintf(report_out, "  \"machine\": {\"cpu\": ");
	json_str(rp->cpu);
	fprintf(report_out, ", \"cpus\": %u, \"kernel\": ", rp->cpus);
	json_str(rp->kernel);
	fprintf(report_out, ", \"max_map_count\": %ld, \"page_size\": %zu},\n", opts.max_map_count,
		opts.page);
	fprintf(report_out,
		"  \"config\": {\"quick\": %s, \"rounds\": %u, \"reps\": %u, \"rep_ms\": %.3g, "
		"\"threads\": [",
		opts.quick ? "true" : "false", opts.rounds, opts.reps, opts.rep_ns / 1e6);
	for (unsigned int i = 0; i < opts.nthread_counts; i++)
		fprintf(report_out, "%s%u", i ? ", " : "", opts.thread_counts[i]);
	fprintf(report_out,
		"], \"memfd_populate\": %s, \"frames_locked\": %s, \"summary_size_bytes\": %zu},\n",
		opts.memfd_populate ? "true" : "false", rp->locked ? "true" : "false",
		rp->summary_size);
	fprintf(report_out, "  \"contenders\": [");
	for (size_t i = 0; i < rp->ncontenders; i++) {
		fprintf(report_out, "%s{\"name\": ", i ? ", " : "");
		json_str(rp->contenders[i]->name);
		fprintf(report_out, ", \"description\": ");
		json_str(rp->contenders[i]->what);
		fprintf(report_out, ", \"alloc\": ");
		if (rp->contenders[i]->alloc_what)
			json_str(rp->contenders[i]->alloc_what);
		else
			fprintf(report_out, "null");
		fprintf(report_out, "}");
	}
	fprintf(report_out, "],\n  \"workloads\": [");
	for (size_t i = 0; i < nworkloads; i++) {
		fprintf(report_out, "%s{\"name\": ", i ? ", " : "");
		json_str(workloads[i]->name);
		fprintf(report_out, ", \"description\": ");
		json_str(workloads[i]->what);
		fprintf(report_out, "}");
	}
	fprintf(report_out, "],\n  \"not_run\": [");
	for (size_t i = 0; i < rp->nskipped; i++) {
		fprintf(report_out, "%s", i ? ", " : "");
		json_str(rp->skipped[i]);
	}
	fprintf(report_out, "],\n  \"notes\": [");
	for (size_t i = 0; i < rp->nnotes; i++) {
		fprintf(report_out, "%s", i ? ", " : "");
		json_str(rp->notes[i]);
	}
	fprintf(report_out, "],\n  \"cases\": [\n");
	for (size_t i = 0; i < rp->ncases; i++)
		json_case(rp, &rp->cases[i], i + 1 == rp->ncases);
	fprintf(report_out, "  ],\n  \"max_mappings\": [\n");
	for (size_t i = 0; i < rp->nmaxmap; i++) {
		const struct maxmap_result *m = &rp->maxmap[i];

		fprintf(report_out, "    {\"contender\": ");
		json_str(m->c->name);
		fprintf(report_out,
			", \"pattern\": \"%s\", \"attempted\": %zu, \"mapped\": %zu, "
			"\"status\": \"%s\", \"message\": ",
			m->pattern, m->target, m->mapped, status_name(m->status));
		json_str(m->msg);
		fprintf(report_out, ", \"unmap_at_limit\": ");
		json_str(m->unmap_after);
		fprintf(report_out, ", \"vmas_added\": %ld, \"ns_per_mapping\": ", m->vmas);
		json_num(m->ns_mapping);
		fprintf(report_out, "}%s\n", i + 1 < rp->nmaxmap ? "," : "");
	}
	fprintf(report_out, "  ],\n  \"memory\": [\n");
	for (size_t i = 0; i < rp->nmemory; i++) {
		const struct memory_result *m = &rp->memory[i];

		fprintf(report_out, "    {\"contender\": ");
		json_str(m->c->name);
		fprintf(report_out,
			", \"frames\": %zu, \"status\": \"%s\", \"bytes_per_frame\": ", m->frames,
			status_name(m->status));
		json_num(m->bytes_frame);
		fprintf(report_out, ", \"vmpte_bytes_per_frame\": ");
		json_num(m->pte_frame);
		fprintf(report_out, ", \"vmas\": %ld, \"note\": ", m->vmas);
		json_str(m->status == ST_OK ? m->note : m->msg);
		fprintf(report_out, "}%s\n", i + 1 < rp->nmemory ? "," : "");
	}
	fprintf(report_out, "  ],\n  \"churn\": [\n");
	for (size_t i = 0; i < rp->nchurn; i++) {
		const struct churn_result *ch = &rp->churn[i];

		fprintf(report_out, "    {\"contender\": ");
		json_str(ch->c->name);
		fprintf(report_out,
			", \"frames\": %zu, \"operations\": %" PRIu64 ", \"status\": \"%s\", "
			"\"ns_per_op\": ",
			ch->frames, ch->ops, status_name(ch->status));
		json_num(ch->ns_op);
		fprintf(report_out,
			", \"vmpte_before_kb\": %ld, \"vmpte_after_kb\": %ld, "
			"\"vmpte_over_frames\": ",
			ch->pte_before_kb, ch->pte_after_kb);
		json_num(churn_pte_pct(ch) / 100);
		fprintf(report_out, ", \"note\": ");
		json_str(ch->status == ST_OK ? ch->note : ch->msg);
		fprintf(report_out, "}%s\n", i + 1 < rp->nchurn ? "," : "");
	}
	fprintf(report_out, "  ],\n  \"pager\": [\n");
	for (size_t i = 0; i < rp->npager; i++)
		json_pager(rp, &rp->pager[i], i + 1 == rp->npager);
	fprintf(report_out, "  ],\n");
	json_large(rp);
	json_goals(rp);
	fprintf(report_out, "}\n");
}
