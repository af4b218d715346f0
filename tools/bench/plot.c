// SPDX-License-Identifier: MIT
/*
 * --plot: a chart of ns/page per workload for every contender, drawn by
 * gnuplot run as a child process that reads its script on stdin. gnuplot is
 * optional; its absence is reported before the benchmark starts rather than
 * after minutes of measuring.
 */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/wait.h>
#include <unistd.h>

#include "bench.h"

extern char **environ;

static const char *terminal_for(const char *file)
{
	const char *dot = strrchr(file, '.');

	if (dot && !strcasecmp(dot, ".png"))
		return "pngcairo size 1200,1300 noenhanced font 'sans,10'";
	if (dot && !strcasecmp(dot, ".svg"))
		return "svg size 1200,1300 dynamic noenhanced font 'sans,10'";
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

int plot_check(const char *file)
{
	if (!terminal_for(file)) {
		fprintf(stderr, "awe-bench: --plot %s: the file name must end in .png or .svg\n",
			file);
		return -1;
	}
	if (!in_path("gnuplot")) {
		fprintf(stderr, "awe-bench: --plot needs gnuplot, which is not installed (Debian: "
				"apt-get install gnuplot-nox)\n");
		return -1;
	}
	return 0;
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

static void datablock(FILE *f, const struct report *rp, struct mode_key m, int idx)
{
	fprintf(f, "$d%d << EOD\nworkload", idx);
	for (size_t c = 0; c < rp->ncontenders; c++)
		fprintf(f, " %s", rp->contenders[c]->name);
	fputc('\n', f);
	for (size_t w = 0; w < nworkloads; w++) {
		fprintf(f, "%s", workloads[w]->name);
		for (size_t c = 0; c < rp->ncontenders; c++) {
			const struct result *r = find_result(rp, rp->contenders[c]->name,
							     workloads[w], m, rp->summary_size);

			if (r)
				fprintf(f, " %.1f", r->ns_page);
			else
				fprintf(f, " -");
		}
		fputc('\n', f);
	}
	fprintf(f, "EOD\n");
}

/* Whether a case of mode @m ran at the summary size. */
static bool panel_has(const struct report *rp, struct mode_key m)
{
	for (size_t i = 0; i < rp->ncases; i++)
		if (rp->cases[i].mode == m.mode && rp->cases[i].nthreads == m.nthreads &&
		    rp->cases[i].status == ST_OK && rp->cases[i].size == rp->summary_size)
			return true;
	return false;
}

static void script(FILE *f, const struct report *rp, const char *file)
{
	struct mode_key modes[2 + BENCH_MAX_COUNTS];
	size_t nmodes = modes_run(rp, modes, ARRAY_SIZE(modes));
	char sz[32], title[512], mn[32];
	int panels = 0;

	fmt_size(sz, sizeof(sz), rp->summary_size);
	for (size_t m = 0; m < nmodes; m++)
		if (panel_has(rp, modes[m]))
			datablock(f, rp, modes[m], panels++);
	fprintf(f, "set terminal %s\nset output ", terminal_for(file));
	quoted(f, file);
	snprintf(title, sizeof(title),
		 "awe-bench: ns/page at %s of frames (lower is better; log scale)\n%s, %u CPUs, "
		 "Linux %s",
		 sz, rp->cpu, rp->cpus, rp->kernel);
	fprintf(f, "\nset multiplot layout %d,1 title ", panels ? panels : 1);
	quoted(f, title);
	fprintf(f, "\nset style data histogram\n"
		   "set style histogram clustered gap 1\n"
		   "set style fill solid 0.85 border -1\n"
		   "set datafile missing '-'\n"
		   "set logscale y\n"
		   "set yrange [10:*]\n"
		   "set grid ytics\n"
		   "set ylabel 'ns/page'\n"
		   "set key outside right top\n");
	panels = 0;
	for (size_t m = 0; m < nmodes; m++) {
		if (!panel_has(rp, modes[m]))
			continue;
		mode_name(modes[m].mode, modes[m].nthreads, mn, sizeof(mn));
		fprintf(f, "set title ");
		quoted(f, mn);
		fprintf(f, "\nplot for [i=2:%zu] $d%d using i:xtic(1) title columnheader(i)\n",
			rp->ncontenders + 1, panels++);
	}
	fprintf(f, "unset multiplot\nset output\n");
}

int plot_write(const struct report *rp, const char *file)
{
	posix_spawn_file_actions_t fa;
	char *argv[] = {"gnuplot", NULL};
	void (*old)(int);
	int fds[2], status, rc;
	pid_t pid;
	FILE *f;

	if (pipe2(fds, O_CLOEXEC) != 0) {
		fprintf(stderr, "awe-bench: pipe: %s\n", strerror(errno));
		return -1;
	}
	posix_spawn_file_actions_init(&fa);
	posix_spawn_file_actions_adddup2(&fa, fds[0], STDIN_FILENO);
	rc = posix_spawnp(&pid, "gnuplot", &fa, NULL, argv, environ);
	posix_spawn_file_actions_destroy(&fa);
	close(fds[0]);
	if (rc) {
		close(fds[1]);
		fprintf(stderr, "awe-bench: cannot run gnuplot: %s\n", strerror(rc));
		return -1;
	}
	/* gnuplot may die on a bad script before reading all of it. */
	old = signal(SIGPIPE, SIG_IGN);
	f = fdopen(fds[1], "w");
	if (f) {
		script(f, rp, file);
		fclose(f);
	} else {
		close(fds[1]);
	}
	signal(SIGPIPE, old);
	while (waitpid(pid, &status, 0) < 0 && errno == EINTR)
		;
	if (!f || !WIFEXITED(status) || WEXITSTATUS(status) != 0) {
		fprintf(stderr, "awe-bench: gnuplot failed to write %s\n", file);
		return -1;
	}
	return 0;
}
