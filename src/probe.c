/* SPDX-License-Identifier: MIT */
/*
 * awe_probe(): what libawe would find here, asked without starting it.
 * awe-info and awe-bench ask this instead of reading the machine
 * themselves; the Win32 layer's per-call privilege check reads the two
 * facts it needs from sysfacts.c directly (token.c says why).
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "huge.h"
#include "internal.h"
#include "sysfacts.h"

static __thread char why[200], large_why[300];

/* Start the engine awe_init() would pick, note it, and stop it again. */
static void try_engine(struct awe_probe *p, const struct awe__eng_conf *conf)
{
	const struct awe__engine *ops = NULL;
	void *e;
	int r = awe__engine_select(conf, &ops, &e, why, sizeof(why));

	if (r == 0) {
		p->engine = ops->name;
		ops->fini(e, false);
	} else {
		p->engine_error = r;
		snprintf(why, sizeof(why), "%s", awe_strerror(r));
	}
	p->engine_reason = why;
}

/* How many large frames the engine found could have now, and why not more
 * (huge.c): the huge page settings read now, bounded by the memory and lock
 * room found above. The size is awe_large_page_size()'s, read once. */
static void probe_large(struct awe_probe *p)
{
	struct awe__huge h;
	struct awe__huge_room room = {
		.mem_available = p->mem_available,
		.locked = p->locked,
		.memlock_room = p->memlock_room,
	};

	awe__huge_read(&h, awe__large_size());
	p->large_page_size = h.size;
	p->large_frames = awe__large_frames(&h, p->engine, &room, large_why, sizeof(large_why));
	p->large_reason = large_why;
}

int awe__probe(struct awe__ctx *c, struct awe_probe *p)
{
	struct awe__eng_conf conf = {
		.page = (size_t)sysconf(_SC_PAGESIZE),
		.memlock_limit = awe__memlock_limit(),
	};

	memset(p, 0, sizeof(*p));
	conf.page_shift = (unsigned int)__builtin_ctzl(conf.page);
	conf.locked = !(awe__env_flags() & AWE_INIT_UNLOCKED);
	if (c) {
		p->started = 1;
		p->engine = c->eng.ops->name;
		p->engine_reason = c->engine_reason;
		conf.locked = c->locked;
	} else {
		try_engine(p, &conf);
	}
	p->locked = conf.locked;
	p->cap_ipc_lock = awe__cap_ipc_lock();
	p->memlock_limit = conf.memlock_limit;
	p->memlock_room = awe__memlock_room(conf.memlock_limit);
	awe__mem_available(&p->mem_available);
	awe__max_map_count(&p->max_map_count);
	p->page_size = conf.page;
	probe_large(p);
	return 0;
}

size_t awe_large_page_size(void)
{
	return (size_t)awe__large_size();
}
