/* SPDX-License-Identifier: MIT */
/*
 * The instance of the process's large frames (AWE_ALLOC_LARGE, and
 * AWE_WINDOW_LARGE windows): an instance of the default engine's kind with
 * pages of the large page size, started by the first call that needs it,
 * so that a process that never asks for a large frame pays nothing for
 * one. Frames and windows both start it, from below the context.
 */
#include <errno.h>

#include "internal.h"

int awe__large_eng(struct awe__ctx *c, struct awe__eng **e)
{
	struct awe__eng_conf conf;
	int r;

	if (!c->large.ops) {
		if (!awe__large_page())
			return -EOPNOTSUPP;
		awe__ctx_conf(c, true, &conf);
		r = c->eng.ops->init(&conf, &c->large.data);
		if (r)
			return r;
		c->large.ops = c->eng.ops;
	}
	*e = &c->large;
	return 0;
}
