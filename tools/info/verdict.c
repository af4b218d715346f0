// SPDX-License-Identifier: MIT
/*
 * The one-line verdict. It names the first thing that stops libawe, in the
 * order a user has to fix them; when libawe works, how much it can have
 * (a small RLIMIT_MEMLOCK is a "but") and whether the Win32 layer would
 * refuse. The engine and why it was chosen are awe_probe()'s.
 */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "info.h"
#include "uffd_probe.h"

/* Appends to a buffer, cutting off (never overflowing) at its end. */
struct out {
	char *buf;
	size_t len, at;
};

static void add(struct out *o, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void add(struct out *o, const char *fmt, ...)
{
	va_list ap;
	int n;

	if (o->at >= o->len)
		return;
	va_start(ap, fmt);
	n = vsnprintf(o->buf + o->at, o->len - o->at, fmt, ap);
	va_end(ap);
	if (n > 0)
		o->at += (size_t)n;
}

bool info_cgroup_limits(const struct probe *p)
{
	return !p->mem_rc && p->mem.cg_version && p->mem.cg_room < p->mem.host_room;
}

const char *info_engine_error(const struct probe *p, char *buf, size_t len)
{
	snprintf(buf, len, "AWE_ENGINE=%s names no engine; libawe takes " ENGINE_VALUES_TEXT,
		 p->engine_env);
	return buf;
}

/* Whether the UFFDIO_MOVE engine was demanded: only then do the userfaultfd
 * verdicts explain why no engine starts (otherwise libawe falls back to
 * memfd, and the reason names what stopped that too). */
static bool uffd_forced(const struct probe *p)
{
	return p->engine_env && strcmp(p->engine_env, "uffd") == 0;
}

/* Why no engine can start, from awe_probe()'s engine_error, in the words of
 * what was found above. */
static const char *no_engine(const struct probe *p, const char *why, char *buf, size_t len)
{
	int err = p->pr.engine_error;

	if (uffd_forced(p) && err == -ENOSYS && p->uffd_err == ENOSYS)
		return "libawe cannot work: userfaultfd(2) is missing from this kernel or blocked by a"
		       " seccomp filter (container runtimes often block it); unset AWE_ENGINE to"
		       " use the memfd engine";
	if (uffd_forced(p) && err == -ENOSYS && p->uffd_err)
		return "libawe cannot work: userfaultfd(2) is refused here (seccomp, an LSM or"
		       " vm.unprivileged_userfaultfd); unset AWE_ENGINE to use the memfd engine";
	if (uffd_forced(p) && err == -ENOSYS && p->ioctls == 0) {
		snprintf(buf, len,
			 "libawe cannot work with AWE_ENGINE=uffd: %s; unset AWE_ENGINE to use the "
			 "memfd engine",
			 why);
		return buf;
	}
	if (uffd_forced(p) && err == -EOPNOTSUPP)
		return "libawe cannot use UFFDIO_MOVE here (Linux 6.8 or later with the features"
		       " listed above is needed); unset AWE_ENGINE to use the memfd engine";
	snprintf(buf, len, "libawe cannot work: no engine can start: %s",
		 p->pr.engine_reason ? p->pr.engine_reason : awe_strerror(p->probe_rc));
	return buf;
}

/* A small RLIMIT_MEMLOCK is a "but", said right after "works": the figures
 * exact, as the limit is. */
static void but_only(const struct probe *p, struct out *o)
{
	const struct capacity *c = &p->cap;
	char a[32], b[32], d[32];

	fmt_limit(c->frames, a, sizeof(a));
	fmt_limit(p->pr.memlock_limit, b, sizeof(b));
	add(o, ", but only %s of frames can be locked (RLIMIT_MEMLOCK %s", a, b);
	if (p->pr.memlock_room < p->pr.memlock_limit) {
		fmt_limit(p->pr.memlock_limit - p->pr.memlock_room, d, sizeof(d));
		add(o, ", %s of it locked already", d);
	}
	add(o, ")");
	if (c->shown < c->frames) {
		fmt_limit(c->shown, a, sizeof(a));
		add(o, ", %s if windows show them all at once (%s locks its windows too)", a,
		    p->pr.engine);
	}
}

/* Otherwise memory bounds the frames: rounded, it moves anyway. */
static void up_to(const struct probe *p, struct out *o)
{
	char a[32];

	fmt_size(p->cap.frames, a, sizeof(a));
	add(o, "; up to %s of frames now, as %s allows", a,
	    info_cgroup_limits(p) ? "the memory cgroup" : "the host's memory");
}

/* The Win32 layer's answer, when it is not a plain yes. */
static void win32(const struct probe *p, struct out *o)
{
	char b[32], why[256];

	fmt_limit(W32_HELD_MEMLOCK, b, sizeof(b));
	if (p->w32.held == 0 && p->w32.why == W32_NONE)
		add(o,
		    "; the Win32 layer refuses SeLockMemoryPrivilege (it needs CAP_IPC_LOCK, an "
		    "RLIMIT_MEMLOCK of at least %s or LIBAWE_UNLOCKED=1)",
		    b);
	else if (p->w32.held == 0)
		add(o, "; the Win32 layer refuses SeLockMemoryPrivilege (%s)",
		    info_w32_reason(p, why, sizeof(why)));
	else if (p->w32.held < 0)
		add(o, "; the Win32 layer could not be asked (%s failed with error %lu)",
		    p->w32.call, p->w32.error);
}

/* "libawe works here", with a "but" first when the lock limit is small,
 * then the engine and why, what bounds the frames otherwise, what limits
 * the memfd engine, and the Win32 layer's refusal. */
static const char *works(const struct probe *p, const char *why, char *buf, size_t len)
{
	const struct awe_probe *pr = &p->pr;
	const char *frames = pr->locked ? "locked" : "NOT locked: LIBAWE_UNLOCKED is set";
	bool but = p->cap.known && p->cap.by_memlock, memfd = strcmp(pr->engine, "memfd") == 0;
	struct out o = {buf, len, 0};

	add(&o, "libawe works here");
	if (but) {
		but_only(p, &o);
		add(&o, "; ");
	} else {
		add(&o, memfd ? " with the " : " (");
	}
	/* A refused ioctl, as tried above, says more than the reason. */
	if (memfd && p->ioctls == 0 && strncmp(pr->engine_reason, "fallback: ", 10) == 0)
		add(&o, "memfd engine instead of UFFDIO_MOVE, because %s; frames %s", why, frames);
	else if (memfd)
		add(&o, "memfd engine (%s); frames %s", pr->engine_reason, frames);
	else
		add(&o, "engine %s, frames %s%s", pr->engine, frames, but ? "" : ")");
	if (!but && p->cap.known)
		up_to(p, &o);
	if (memfd)
		add(&o,
		    "; scattered mappings are limited by vm.max_map_count (%llu), see the "
		    "lines above",
		    (unsigned long long)pr->max_map_count);
	win32(p, &o);
	return buf;
}

const char *info_verdict(const struct probe *p, char *buf, size_t len)
{
	const struct awe_probe *pr = &p->pr;
	char why[200] = "", err[300];

	if (p->ioctls == 0)
		awe__uffd_probe_explain(p->ioctl_call, p->ioctl_err, why, sizeof(why));
	if (p->engine_env_bogus) {
		snprintf(buf, len, "libawe cannot work: %s",
			 info_engine_error(p, err, sizeof(err)));
		return buf;
	}
	if (info_works(p) && pr->engine)
		return works(p, why, buf, len);
	if (p->smoke_rc == -EPERM)
		return "libawe cannot lock frames: run as root (CAP_IPC_LOCK), raise RLIMIT_MEMLOCK,"
		       " or set LIBAWE_UNLOCKED=1";
	if (!pr->engine)
		return no_engine(p, why, buf, len);
	snprintf(buf, len, "libawe fails here: %s: %s", p->smoke_call, awe_strerror(p->smoke_rc));
	return buf;
}
