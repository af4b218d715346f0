/* SPDX-License-Identifier: MIT */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "engine.h"

static int start(struct awe__ctx *c, const struct awe__engine *e)
{
	c->eng.ops = e;
	return e->init(c, &c->eng.data);
}

/* UFFDIO_MOVE when the kernel has it: no VMA per mapping, so no limit on how
 * scattered mappings are. Otherwise memfd, which every kernel has but whose
 * mappings count against vm.max_map_count. */
int awe__engine_select(struct awe__ctx *c)
{
	const char *want = getenv("AWE_ENGINE");
	int r;

	c->engine_reason = c->reason_buf;
	if (want && *want) {
		const struct awe__engine *e = strcmp(want, "uffd") == 0	   ? &awe__engine_uffd
					      : strcmp(want, "memfd") == 0 ? &awe__engine_memfd
									   : NULL;

		if (!e)
			return -EINVAL;
		snprintf(c->reason_buf, sizeof(c->reason_buf), "chosen with AWE_ENGINE=%s", want);
		return start(c, e);
	}
	r = start(c, &awe__engine_uffd);
	if (r == 0) {
		snprintf(c->reason_buf, sizeof(c->reason_buf),
			 "the kernel's userfaultfd has UFFDIO_MOVE");
		return 0;
	}
	if (r != -ENOSYS && r != -EOPNOTSUPP)
		return r;
	/* The sentence names what is missing: userfaultfd or one of its ioctls
	 * blocked by seccomp, an old kernel, ... */
	snprintf(c->reason_buf, sizeof(c->reason_buf), "fallback: %s", awe_strerror(r));
	return start(c, &awe__engine_memfd);
}
