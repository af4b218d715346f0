// SPDX-License-Identifier: MIT
/*
 * awe-bench's shared state (run.h, bench.h): the options, the contenders,
 * the report being filled and its notes. Apart from main.c, so that the
 * files that run the cases need not call back up into it.
 */
#include <stdarg.h>
#include <stdio.h>

#include "bench.h"
#include "run.h"

struct bench_opts opts;

const struct contender *const all_contenders[] = {
	&contender_awe, &contender_win32,   &contender_memfd,
	&contender_raw, &contender_rawcopy, &contender_copy,
};

struct report rp;
uint64_t start_ns;

void add_note(const char *fmt, ...)
{
	va_list ap;

	if (rp.nnotes == ARRAY_SIZE(rp.notes))
		return;
	va_start(ap, fmt);
	vsnprintf(rp.notes[rp.nnotes++], sizeof(rp.notes[0]), fmt, ap);
	va_end(ap);
}
