/* SPDX-License-Identifier: MIT */
/*
 * Which engine a process gets by default, and why: the one choice the
 * engines make above themselves.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "engine.h"

/* UFFDIO_MOVE when the kernel has it: no VMA per mapping, so no limit on how
 * scattered mappings are. Otherwise memfd, which every kernel has but whose
 * mappings count against vm.max_map_count. */
int awe__engine_select(const struct awe__eng_conf *conf, const struct awe__engine **ops, void **e,
		       char *why, size_t len)
{
	const char *want = getenv("AWE_ENGINE");
	int r;

	if (want && *want) {
		*ops = strcmp(want, "uffd") == 0    ? &awe__engine_uffd
		       : strcmp(want, "memfd") == 0 ? &awe__engine_memfd
						    : NULL;
		if (!*ops)
			return -EINVAL;
		snprintf(why, len, "chosen with AWE_ENGINE=%s", want);
		return (*ops)->init(conf, e);
	}
	*ops = &awe__engine_uffd;
	r = (*ops)->init(conf, e);
	if (r == 0) {
		snprintf(why, len, "the kernel's userfaultfd has UFFDIO_MOVE");
		return 0;
	}
	if (r != -ENOSYS && r != -EOPNOTSUPP)
		return r;
	/* The sentence names what is missing: userfaultfd or one of its ioctls
	 * blocked by seccomp, an old kernel, ... */
	snprintf(why, len, "fallback: %s", awe_strerror(r));
	*ops = &awe__engine_memfd;
	return (*ops)->init(conf, e);
}
