// SPDX-License-Identifier: MIT
/*
 * --plot and --plot-script: a chart of ns/page per workload for every
 * contender, one panel per mode at the summary size, and a panel of the
 * large-frame runs' sides; drawn by gnuplot run as a child process that
 * reads its script on stdin, or written out as that script.
 *
 * Only what was measured gets a slot: a workload with no result in a mode
 * has no cluster there, a contender without a result for a workload no bar
 * in its cluster, a mode or run without results no panel. So the bars are
 * laid out here, at x positions of their own, rather than by gnuplot's
 * histogram style, which gives every row of a table every column.
 *
 * gnuplot is optional; its absence is reported before the benchmark starts
 * rather than after minutes of measuring. What it prints goes to a file of
 * its own and is shown only when it fails: its warnings are about layout,
 * and the test of the script (test_plot.sh) runs it with none.
 */
#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <signal.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "bench.h"
#include "large.h"

extern char **environ;

#define PLOT_MAX_SERIES 16   /* contenders and sides, over all panels */
#define PLOT_MAX_CLUSTERS 24 /* workloads of a mode; large, and touch per size */
#define PLOT_MAX_PANELS (3 + BENCH_MAX_COUNTS)

/* One cluster of bars: a workload in a mode, or a run at a size. */
struct cluster {
	char label[64];
	size_t n;
	unsigned int series[PLOT_MAX_SERIES];
	double v[PLOT_MAX_SERIES];
};

struct panel {
	char title[160];
	const char *ylabel;
	struct cluster cl[PLOT_MAX_CLUSTERS];
	size_t ncl;
};

/* The whole chart: its bars' series are named once, so that a contender
 * or side keeps its colour from panel to panel. */
struct chart {
	const char *series[PLOT_MAX_SERIES];
	size_t nseries;
	struct panel p[PLOT_MAX_PANELS];
	size_t np;
};

#define PNG_TERMINAL "pngcairo size 1200,%d noenhanced font 'sans,10'"

/* gnuplot's terminal for @file, a format with the height; NULL when its
 * name ends in neither .png nor .svg. */
static const char *terminal_for(const char *file)
{
	const char *dot = strrchr(file, '.');

	if (dot && !strcasecmp(dot, ".png"))
		return PNG_TERMINAL;
	if (dot && !strcasecmp(dot, ".svg"))
		return "svg size 1200,%d dynamic noenhanced font 'sans,10'";
	return NULL;
}

static bool in_path(const char *prog)
{
	const char *path = getenv("PATH");
	char buf[4096];

	for (const char *p = path ? path : "/usr/bin:/bin"; *p;) {
		size_t len = strcspn(p, ":");

		snprintf(buf, sizeof(buf), "%.*s/%s", (int)len, len ? p : ".", prog);
		if (access(buf, X_OK) == 0)
			return true;
		p += len + (p[len] == ':');
	}
	return false;
}

/* Whether a file can be made in @file's directory, named in @dir. */
static bool dir_writable(const char *file, char *dir, size_t len)
{
	const char *slash = strrchr(file, '/');

	snprintf(dir, len, "%.*s", slash ? (int)(slash - file) + 1 : 1, slash ? file : ".");
	return access(dir, W_OK | X_OK) == 0;
}

int plot_check(const char *file)
{
	char dir[4096];

	if (!terminal_for(file)) {
		fprintf(stderr, "awe-bench: --plot %s: the file name must end in .png or .svg\n",
			file);
		return -1;
	}
	/* A typo in the path should not cost a whole run. */
	if (!dir_writable(file, dir, sizeof(dir))) {
		fprintf(stderr, "awe-bench: --plot %s: %s: %s\n", file, dir, strerror(errno));
		return -1;
	}
	if (!in_path("gnuplot")) {
		fprintf(stderr, "awe-bench: --plot needs gnuplot, which is not installed (Debian: "
				"apt-get install gnuplot-nox)\n");
		return -1;
	}
	return 0;
}

/* The chart a --plot-script without --plot draws: @script with its
 * extension, if any, replaced by .png. */
static void default_chart(const char *script, char *buf, size_t len)
{
	const char *slash = strrchr(script, '/'), *dot = strrchr(script, '.');
	size_t base = dot && dot > (slash ? slash + 1 : script) ? (size_t)(dot - script)
								: strlen(script);

	snprintf(buf, len, "%.*s.png", (int)base, script);
}

/* A gnuplot double-quoted string: backslash escapes, so that a title can
 * hold a line break. */
static void quoted(FILE *f, const char *s)
{
	fputc('"', f);
	for (; *s; s++) {
		if (*s == '\n') {
			fputs("\\n", f);
			continue;
		}
		if (*s == '"' || *s == '\\')
			fputc('\\', f);
		fputc(*s, f);
	}
	fputc('"', f);
}

static unsigned int series_of(struct chart *ch, const char *name)
{
	for (size_t i = 0; i < ch->nseries; i++)
		if (!strcmp(ch->series[i], name))
			return (unsigned int)i;
	if (ch->nseries == PLOT_MAX_SERIES)
		return PLOT_MAX_SERIES;
	ch->series[ch->nseries] = name;
	return (unsigned int)ch->nseries++;
}

static void add_bar(struct chart *ch, struct cluster *cl, const char *name, double v)
{
	unsigned int s = series_of(ch, name);

	if (s < PLOT_MAX_SERIES && cl->n < PLOT_MAX_SERIES) {
		cl->series[cl->n] = s;
		cl->v[cl->n++] = v;
	}
}

/* A new cluster of @p, taken only when a bar was added to it. */
static struct cluster *next_cluster(struct panel *p)
{
	if (p->ncl == PLOT_MAX_CLUSTERS)
		return NULL;
	p->cl[p->ncl] = (struct cluster){0};
	return &p->cl[p->ncl];
}

/* A panel per mode at the summary size: a cluster per workload with a
 * result there, a bar per contender with one. */
static void mode_panels(struct chart *ch, const struct report *rp)
{
	struct mode_key modes[2 + BENCH_MAX_COUNTS];
	size_t nmodes = modes_run(rp, modes, ARRAY_SIZE(modes));

	for (size_t m = 0; m < nmodes && ch->np < PLOT_MAX_PANELS; m++) {
		struct panel *p = &ch->p[ch->np];

		p->ncl = 0;
		for (size_t w = 0; w < nworkloads; w++) {
			struct cluster *cl = next_cluster(p);

			for (size_t c = 0; cl && c < rp->ncontenders; c++) {
				const char *name = rp->contenders[c]->name;
				const struct result *r = find_result(rp, name, workloads[w],
								     modes[m], rp->summary_size);

				if (r)
					add_bar(ch, cl, name, r->ns_page);
			}
			if (cl && cl->n) {
				snprintf(cl->label, sizeof(cl->label), "%s", workloads[w]->name);
				p->ncl++;
			}
		}
		if (!p->ncl)
			continue;
		mode_name(modes[m].mode, modes[m].nthreads, p->title, sizeof(p->title));
		p->ylabel = "ns/page";
		ch->np++;
	}
}

/* The large-frame runs' panel: the large run's sides (ns per operation),
 * then the touch run's at each size (ns per touch). */
static void large_panel(struct chart *ch, const struct report *rp)
{
	struct panel *p = &ch->p[ch->np];
	const struct workload *const runs[] = {&wl_large, &wl_touch};

	if (ch->np == PLOT_MAX_PANELS)
		return;
	p->ncl = 0;
	for (size_t k = 0; k < ARRAY_SIZE(runs); k++) {
		/* A cluster per size of the run, at its first result. */
		for (size_t i = 0; i < rp->nlarge; i++) {
			const struct result *r = &rp->large[i];
			struct cluster *cl;
			bool seen = false;
			char sz[32];

			for (size_t j = 0; j < i; j++)
				seen |= rp->large[j].w == r->w && rp->large[j].size == r->size;
			if (r->w != runs[k] || seen)
				continue;
			cl = next_cluster(p);
			for (size_t j = i; cl && j < rp->nlarge; j++) {
				const struct result *s = &rp->large[j];

				if (s->w == r->w && s->size == r->size && s->status == ST_OK &&
				    s->ns_page > 0)
					add_bar(ch, cl, s->c->name, s->ns_page);
			}
			if (!cl || !cl->n)
				continue;
			fmt_size(sz, sizeof(sz), r->size);
			if (r->w == &wl_large)
				snprintf(cl->label, sizeof(cl->label),
					 "large: map, touch, unmap (ns/op)");
			else
				snprintf(cl->label, sizeof(cl->label), "touch, %s (ns/touch)", sz);
			p->ncl++;
		}
	}
	if (!p->ncl)
		return;
	snprintf(p->title, sizeof(p->title), "large frames against small ones, 1 thread");
	if (strncmp(p->cl[0].label, "touch", 5) != 0)
		p->ylabel = p->ncl > 1 ? "ns per operation or touch" : "ns per operation";
	else
		p->ylabel = "ns per touch";
	ch->np++;
}

/* The bottom of a panel's log scale: 10, or the power of ten below its
 * lowest bar, so that every bar shows. */
static double floor_decade(const struct panel *p)
{
	double lo = INFINITY, d = 10;

	for (size_t c = 0; c < p->ncl; c++)
		for (size_t b = 0; b < p->cl[c].n; b++)
			lo = p->cl[c].v[b] < lo ? p->cl[c].v[b] : lo;
	while (d > lo && d > 1e-3)
		d /= 10;
	return d;
}

/* The slots of a panel's x axis: a bar each, and a gap between clusters. */
static double span_of(const struct panel *p)
{
	double x = 0;

	for (size_t c = 0; c < p->ncl; c++)
		x += (double)p->cl[c].n + 1;
	return x - 1;
}

/* One panel: a data block per series (x, value), the x tics naming the
 * clusters, a box per bar. Its axis spans @span slots, so that a bar is as
 * wide as in the widest panel, the panel's own in the middle. */
static void panel_script(FILE *f, const struct chart *ch, size_t pi, double span)
{
	const struct panel *p = &ch->p[pi];
	double x = 0, centre[PLOT_MAX_CLUSTERS];
	bool first = true;

	for (size_t s = 0; s < ch->nseries; s++) {
		bool any = false;

		x = 0;
		for (size_t c = 0; c < p->ncl; c++) {
			for (size_t b = 0; b < p->cl[c].n; b++, x++) {
				if (p->cl[c].series[b] != s)
					continue;
				if (!any)
					fprintf(f, "$p%zus%zu << EOD\n", pi, s);
				any = true;
				fprintf(f, "%.1f %.6g\n", x, p->cl[c].v[b]);
			}
			x++; /* the gap between clusters */
		}
		if (any)
			fprintf(f, "EOD\n");
	}
	x = 0;
	for (size_t c = 0; c < p->ncl; c++) {
		centre[c] = x + (double)(p->cl[c].n - 1) / 2;
		x += (double)p->cl[c].n + 1;
	}
	fprintf(f, "set title ");
	quoted(f, p->title);
	fprintf(f, "\nset ylabel ");
	quoted(f, p->ylabel);
	span = (span - span_of(p)) / 2 + 1;
	fprintf(f, "\nset yrange [%g:*]\nset xrange [%.1f:%.1f]\nset xtics (", floor_decade(p),
		-span, x - 2 + span);
	for (size_t c = 0; c < p->ncl; c++) {
		fprintf(f, "%s", c ? ", " : "");
		quoted(f, p->cl[c].label);
		fprintf(f, " %.1f", centre[c]);
	}
	fprintf(f, ") scale 0\nplot ");
	for (size_t s = 0; s < ch->nseries; s++) {
		bool any = false;

		for (size_t c = 0; c < p->ncl; c++)
			for (size_t b = 0; b < p->cl[c].n; b++)
				any |= p->cl[c].series[b] == s;
		if (!any)
			continue;
		fprintf(f, "%s$p%zus%zu using 1:2 with boxes lt %zu title ", first ? "" : ", ", pi,
			s, s + 1);
		quoted(f, ch->series[s]);
		first = false;
	}
	fputc('\n', f);
}

static void build(struct chart *ch, const struct report *rp)
{
	ch->nseries = 0;
	ch->np = 0;
	/* The contenders first, in their order, as the tables have them. */
	for (size_t c = 0; c < rp->ncontenders; c++)
		series_of(ch, rp->contenders[c]->name);
	mode_panels(ch, rp);
	large_panel(ch, rp);
}

static void script(FILE *f, const struct chart *ch, const struct report *rp, const char *file)
{
	const char *term = terminal_for(file);
	char sz[32], title[512];
	double span = 0;

	fmt_size(sz, sizeof(sz), rp->summary_size);
	fprintf(f, "# awe-bench's chart: `gnuplot FILE` draws it.\nset terminal ");
	/* --plot checked the name; a script alone draws to a PNG. */
	fprintf(f, term ? term : PNG_TERMINAL, 120 + 390 * (int)ch->np);
	fprintf(f, "\nset output ");
	quoted(f, file);
	snprintf(title, sizeof(title),
		 "awe-bench: ns/page at %s of frames (lower is better; log scale)\n%s, %u CPUs, "
		 "Linux %s",
		 sz, rp->cpu, rp->cpus, rp->kernel);
	fprintf(f, "\nset multiplot layout %zu,1 title ", ch->np);
	quoted(f, title);
	fprintf(f, "\nset style fill solid 0.85 border -1\n"
		   "set boxwidth 1 absolute\n"
		   "set logscale y\n"
		   "set grid ytics\n"
		   "set key outside right top\n"
		   /* The same margins in every panel, so that their axes line up
		    * whatever the labels and the keys' names. */
		   "set lmargin 12\n"
		   "set rmargin 22\n");
	for (size_t p = 0; p < ch->np; p++)
		span = span_of(&ch->p[p]) > span ? span_of(&ch->p[p]) : span;
	for (size_t p = 0; p < ch->np; p++)
		panel_script(f, ch, p, span);
	fprintf(f, "unset multiplot\nset output\n");
}

/* Runs gnuplot on the script; what it prints is shown only when it fails
 * (exits with an error, or leaves no @file). */
static int draw(const struct chart *ch, const struct report *rp, const char *file)
{
	posix_spawn_file_actions_t fa;
	char *argv[] = {"gnuplot", NULL};
	void (*old)(int);
	int fds[2], status = 0, rc;
	FILE *f, *said = tmpfile();
	struct stat st;
	bool ok;
	pid_t pid;

	if (!said || pipe2(fds, O_CLOEXEC) != 0) {
		fprintf(stderr, "awe-bench: --plot: %s\n", strerror(errno));
		if (said)
			fclose(said);
		return -1;
	}
	posix_spawn_file_actions_init(&fa);
	posix_spawn_file_actions_adddup2(&fa, fds[0], STDIN_FILENO);
	/* Not on our stdout, which may be the JSON report: gnuplot writes
	 * only the image there when the output file fails. */
	posix_spawn_file_actions_addopen(&fa, STDOUT_FILENO, "/dev/null", O_WRONLY, 0);
	posix_spawn_file_actions_adddup2(&fa, fileno(said), STDERR_FILENO);
	rc = posix_spawnp(&pid, "gnuplot", &fa, NULL, argv, environ);
	posix_spawn_file_actions_destroy(&fa);
	close(fds[0]);
	if (rc) {
		close(fds[1]);
		fclose(said);
		fprintf(stderr, "awe-bench: cannot run gnuplot: %s\n", strerror(rc));
		return -1;
	}
	/* gnuplot may die on a bad script before reading all of it. */
	old = signal(SIGPIPE, SIG_IGN);
	f = fdopen(fds[1], "w");
	if (f) {
		script(f, ch, rp, file);
		fclose(f);
	} else {
		close(fds[1]);
	}
	signal(SIGPIPE, old);
	while (waitpid(pid, &status, 0) < 0 && errno == EINTR)
		;
	ok = f && WIFEXITED(status) && WEXITSTATUS(status) == 0 && stat(file, &st) == 0 &&
	     st.st_size > 0;
	if (!ok) {
		char line[512];

		fprintf(stderr, "awe-bench: gnuplot failed to write %s", file);
		if (WIFSIGNALED(status))
			fprintf(stderr, " (killed by signal %d)", WTERMSIG(status));
		fprintf(stderr, "%s\n", ftell(said) > 0 ? "; it said:" : "");
		rewind(said);
		while (fgets(line, sizeof(line), said))
			if (line[strspn(line, " \n")])
				fprintf(stderr, "  %s", line);
	}
	fclose(said);
	return ok ? 0 : -1;
}

int plot_write(const struct report *rp, const char *chart, FILE *script_f, const char *script_path)
{
	static struct chart ch;
	char dflt[4096];
	int rc = 0;

	build(&ch, rp);
	if (!ch.np) {
		fprintf(stderr,
			"awe-bench: %s: nothing to chart (no workload of the chart ran to "
			"the end)\n",
			chart ? "--plot" : "--plot-script");
		if (script_f)
			fclose(script_f);
		return 0;
	}
	if (script_f) {
		if (!chart)
			default_chart(script_path, dflt, sizeof(dflt));
		script(script_f, &ch, rp, chart ? chart : dflt);
		bool bad = ferror(script_f);

		bad |= fclose(script_f) != 0;
		if (bad) {
			fprintf(stderr, "awe-bench: writing %s failed\n", script_path);
			rc = -1;
		}
	}
	if (chart && draw(&ch, rp, chart) != 0)
		rc = -1;
	return rc;
}
