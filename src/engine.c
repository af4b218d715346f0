/* SPDX-License-Identifier: MIT */
#include "engine.h"

/* Only the UFFDIO_MOVE engine exists so far; a memfd engine for kernels and
 * sandboxes without userfaultfd will be tried after it. */
int awe__engine_select(struct awe__ctx *c)
{
	c->eng = &awe__engine_uffd;
	return c->eng->init(c);
}
