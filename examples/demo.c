// SPDX-License-Identifier: MIT
/*
 * awe-demo - a guided tour of libawe that checks every claim it prints.
 *
 * It allocates frames, maps them into a window, unmaps them, maps them back
 * scattered in another order, moves them to a second window, write-protects
 * one page and frees everything, verifying the data and libawe's own view
 * (awe_query, awe_frame_addr, awe_stats) after each step.
 *
 * Exit status: 0 when every step verified, 1 when one did not, 77 when libawe
 * cannot run here at all (missing kernel feature, locking refused); 77 is
 * what meson's test runner reports as "skipped".
 */
#include <errno.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <awe.h>

#define NFRAMES 256
#define EXIT_CANNOT_RUN 77

struct demo {
	size_t page;
	awe_frame_t frames[NFRAMES];
	size_t nframes; /* frames[0..nframes-1] are allocated */
	unsigned char *win[2];
	bool locked;
	bool cannot_run; /* the failure was the environment's, not libawe's */
};

static void say(const char *tag, const char *fmt, va_list ap)
{
	printf("[%s] ", tag);
	vprintf(fmt, ap);
	putchar('\n');
	fflush(stdout);
}

static void ok(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static void ok(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	say("ok", fmt, ap);
	va_end(ap);
}

static bool fail(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static bool fail(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	say("FAIL", fmt, ap);
	va_end(ap);
	return false;
}

static const char *errname(int rc)
{
	const char *name = strerrorname_np(rc < 0 ? -rc : rc);

	return name ? name : "?";
}

static bool fail_call(const char *call, int rc)
{
	return fail("%s: %s (-%s)", call, awe_strerror(rc), errname(rc));
}

static void hint_memlock(struct demo *d)
{
	d->cannot_run = true;
	printf("hint: libawe locks frames and windows in memory by default, and this process\n"
	       "      may not lock that much. Either run as root (CAP_IPC_LOCK), raise\n"
	       "      RLIMIT_MEMLOCK (ulimit -l, or memlock in /etc/security/limits.conf),\n"
	       "      or set LIBAWE_UNLOCKED=1 to use frames that are not locked.\n");
}

/*
 * Explain the failures that are about this machine rather than about
 * libawe, so that a user knows what to change.
 */
static bool fail_env(struct demo *d, const char *call, int rc)
{
	fail_call(call, rc);
	switch (rc) {
	case -EPERM:
		hint_memlock(d);
		break;
	case -ENOSYS:
	case -EOPNOTSUPP:
		d->cannot_run = true;
		printf("hint: run awe-info to see what this kernel or sandbox lacks.\n");
		break;
	}
	return false;
}

/* Every word depends on the frame, so a page showing up in the wrong slot cannot pass. */
static uint64_t pattern(awe_frame_t frame, size_t word)
{
	return (frame * 0x9e3779b97f4a7c15ull) ^ (word * 0xbf58476d1ce4e5b9ull) ^ word;
}

static void fill(struct demo *d, unsigned char *slot, awe_frame_t frame)
{
	uint64_t *w = (uint64_t *)slot;

	for (size_t i = 0; i < d->page / sizeof(*w); i++)
		w[i] = pattern(frame, i);
}

static bool holds(struct demo *d, const unsigned char *slot, awe_frame_t frame)
{
	const uint64_t *w = (const uint64_t *)slot;

	for (size_t i = 0; i < d->page / sizeof(*w); i++)
		if (w[i] != pattern(frame, i))
			return false;
	return true;
}

static bool zero_filled(struct demo *d, const unsigned char *slot)
{
	for (size_t i = 0; i < d->page; i++)
		if (slot[i])
			return false;
	return true;
}

/*
 * Check that slot i of @win holds frame @expect[i] for every i: the data,
 * what awe_query() says about the slot and where awe_frame_addr() finds the
 * frame must all agree.
 */
static bool check_window(struct demo *d, unsigned char *win, const awe_frame_t *expect)
{
	for (size_t i = 0; i < NFRAMES; i++) {
		unsigned char *slot = win + i * d->page;
		struct awe_page_info info;
		void *where;
		int rc;

		if (!holds(d, slot, expect[i]))
			return fail("slot %zu of window %p does not hold frame %#llx's data", i,
				    (void *)win, (unsigned long long)expect[i]);
		rc = awe_query(slot + d->page / 2, &info);
		if (rc)
			return fail_call("awe_query", rc);
		if (info.frame != expect[i] || info.prot != AWE_PROT_READWRITE ||
		    info.window != win || info.window_size != NFRAMES * d->page)
			return fail("awe_query of slot %zu: frame %#llx prot %d window %p", i,
				    (unsigned long long)info.frame, info.prot, info.window);
		rc = awe_frame_addr(expect[i], &where);
		if (rc)
			return fail_call("awe_frame_addr", rc);
		if (where != slot)
			return fail("awe_frame_addr(%#llx) = %p, expected %p",
				    (unsigned long long)expect[i], where, (void *)slot);
	}
	return true;
}

static bool check_unmapped(struct demo *d, unsigned char *win)
{
	for (size_t i = 0; i < NFRAMES; i++) {
		struct awe_page_info info;
		int rc = awe_query(win + i * d->page, &info);

		if (rc)
			return fail_call("awe_query", rc);
		if (info.frame != 0 || info.prot != AWE_PROT_NONE)
			return fail("slot %zu of window %p still shows frame %#llx", i, (void *)win,
				    (unsigned long long)info.frame);
	}
	return true;
}

static bool check_stats(uint64_t allocated, uint64_t mapped, uint64_t windows,
			uint64_t window_bytes, struct awe_stats *out)
{
	struct awe_stats st;
	int rc = awe_stats(&st);

	if (rc)
		return fail_call("awe_stats", rc);
	if (st.frames_allocated != allocated || st.frames_mapped != mapped ||
	    st.windows != windows || st.window_bytes != window_bytes)
		return fail(
			"awe_stats: %llu frames allocated, %llu mapped, %llu windows of %llu bytes;"
			" expected %llu, %llu, %llu, %llu",
			(unsigned long long)st.frames_allocated,
			(unsigned long long)st.frames_mapped, (unsigned long long)st.windows,
			(unsigned long long)st.window_bytes, (unsigned long long)allocated,
			(unsigned long long)mapped, (unsigned long long)windows,
			(unsigned long long)window_bytes);
	if (out)
		*out = st;
	return true;
}

/*
 * libawe reports a bad access with SIGBUS, as Windows reports an access
 * violation. Probe one access with a temporary handler that jumps back.
 */
static sigjmp_buf probe_env;
static void *volatile probe_addr;

static void on_sigbus(int sig, siginfo_t *si, void *ctx)
{
	(void)sig;
	(void)ctx;
	probe_addr = si->si_addr;
	siglongjmp(probe_env, 1);
}

/* Returns true when the access to @p raised SIGBUS at @p. */
static bool access_faults(volatile unsigned char *p, bool write)
{
	struct sigaction sa = {.sa_sigaction = on_sigbus, .sa_flags = SA_SIGINFO};
	struct sigaction old;
	bool faulted = false;

	sigemptyset(&sa.sa_mask);
	sigaction(SIGBUS, &sa, &old);
	probe_addr = NULL;
	if (sigsetjmp(probe_env, 1) == 0) {
		if (write)
			*p = 0x5a;
		else
			(void)*p;
	} else {
		faulted = probe_addr == (void *)p;
	}
	sigaction(SIGBUS, &old, NULL);
	return faulted;
}

static bool step_start(struct demo *d)
{
	struct awe_stats st;
	int rc = awe_stats(&st); /* starts libawe, honouring LIBAWE_UNLOCKED */

	if (rc)
		return fail_env(d, "awe_stats", rc);
	d->page = awe_page_size();
	d->locked = st.locked;
	ok("libawe %s started: engine %s, page size %zu, frames %s", awe_version(), st.engine,
	   d->page, st.locked ? "locked" : "not locked (LIBAWE_UNLOCKED)");
	return true;
}

static const char *human(size_t bytes, char *buf, size_t len)
{
	if (bytes % (1024 * 1024) == 0)
		snprintf(buf, len, "%zu MiB", bytes / (1024 * 1024));
	else
		snprintf(buf, len, "%zu KiB", bytes / 1024);
	return buf;
}

static bool step_alloc(struct demo *d)
{
	char size[32];
	ssize_t n = awe_alloc(d->frames, NFRAMES);

	if (n < 0)
		return fail_env(d, "awe_alloc", (int)n);
	d->nframes = (size_t)n;
	if (n < NFRAMES) {
		/* Short of memory, or, for locked frames, of RLIMIT_MEMLOCK room. */
		fail("awe_alloc returned only %zd of %d frames", n, NFRAMES);
		if (d->locked)
			hint_memlock(d);
		return false;
	}
	ok("allocated %d frames (%s), %s", NFRAMES, human(NFRAMES * d->page, size, sizeof(size)),
	   d->locked ? "locked" : "not locked");
	return check_stats(NFRAMES, 0, 0, 0, NULL);
}

static bool step_windows(struct demo *d)
{
	for (int i = 0; i < 2; i++) {
		void *base;
		int rc = awe_window_create(NFRAMES * d->page, NULL, 0, &base);

		if (rc)
			return fail_env(d, "awe_window_create", rc);
		d->win[i] = base;
	}
	if (!check_unmapped(d, d->win[0]) || !check_unmapped(d, d->win[1]))
		return false;
	ok("created windows A at %p and B at %p, %d slots each, all unmapped", (void *)d->win[0],
	   (void *)d->win[1], NFRAMES);
	return check_stats(NFRAMES, 0, 2, 2 * NFRAMES * d->page, NULL);
}

static bool step_map(struct demo *d)
{
	int rc = awe_map(d->win[0], NFRAMES, d->frames);

	if (rc)
		return fail_call("awe_map", rc);
	for (size_t i = 0; i < NFRAMES; i++)
		if (!zero_filled(d, d->win[0] + i * d->page))
			return fail("frame %#llx was not zero-filled",
				    (unsigned long long)d->frames[i]);
	for (size_t i = 0; i < NFRAMES; i++)
		fill(d, d->win[0] + i * d->page, d->frames[i]);
	if (!check_window(d, d->win[0], d->frames))
		return false;
	ok("mapped all frames into window A in order, wrote and read back a pattern");
	return check_stats(NFRAMES, NFRAMES, 2, 2 * NFRAMES * d->page, NULL);
}

static bool step_unmap(struct demo *d)
{
	unsigned char *slot = d->win[0] + 7 * d->page + 123;
	int rc = awe_map(d->win[0], NFRAMES, NULL);

	if (rc)
		return fail_call("awe_map (unmap)", rc);
	if (!check_unmapped(d, d->win[0]))
		return false;
	if (!access_faults(slot, false))
		return fail("reading an unmapped slot did not raise SIGBUS at its address");
	ok("unmapped window A; reading %p now raises SIGBUS at that address", (void *)slot);
	return check_stats(NFRAMES, 0, 2, 2 * NFRAMES * d->page, NULL);
}

static bool step_scatter(struct demo *d)
{
	void *addrs[NFRAMES];
	awe_frame_t expect[NFRAMES];
	int rc;

	/* 97 is odd, so i -> 97 * i mod 256 visits every slot once, in a jumbled order. */
	for (size_t i = 0; i < NFRAMES; i++) {
		size_t slot = (i * 97) % NFRAMES;

		addrs[i] = d->win[0] + slot * d->page;
		expect[slot] = d->frames[i];
	}
	rc = awe_map_scatter(addrs, NFRAMES, d->frames);
	if (rc)
		return fail_call("awe_map_scatter", rc);
	if (!check_window(d, d->win[0], expect))
		return false;
	ok("scatter-mapped the frames into window A in another order; every frame kept its data");
	return check_stats(NFRAMES, NFRAMES, 2, 2 * NFRAMES * d->page, NULL);
}

static bool step_remap(struct demo *d)
{
	int rc = awe_map(d->win[1], NFRAMES, d->frames);

	if (rc != -EBUSY)
		return fail(
			"mapping frames that are still mapped in window A returned %d, expected -EBUSY",
			rc);
	ok("mapping frames that are still mapped in A into B fails with -EBUSY, as it must");

	rc = awe_map(d->win[0], NFRAMES, NULL);
	if (rc)
		return fail_call("awe_map (unmap)", rc);
	rc = awe_map(d->win[1], NFRAMES, d->frames);
	if (rc)
		return fail_call("awe_map", rc);
	if (!check_unmapped(d, d->win[0]) || !check_window(d, d->win[1], d->frames))
		return false;
	ok("unmapped A and mapped the frames into window B in order; data intact");
	return check_stats(NFRAMES, NFRAMES, 2, 2 * NFRAMES * d->page, NULL);
}

static bool step_protect(struct demo *d)
{
	const size_t idx = 5;
	unsigned char *slot = d->win[1] + idx * d->page;
	struct awe_page_info info;
	int old = -1;
	int rc = awe_protect(slot, 1, AWE_PROT_READ, &old);

	if (rc)
		return fail_call("awe_protect", rc);
	if (old != AWE_PROT_READWRITE)
		return fail("awe_protect reported old protection %d, expected read-write", old);
	rc = awe_query(slot, &info);
	if (rc)
		return fail_call("awe_query", rc);
	if (info.prot != AWE_PROT_READ || info.frame != d->frames[idx])
		return fail("awe_query after awe_protect: frame %#llx prot %d",
			    (unsigned long long)info.frame, info.prot);
	if (!holds(d, slot, d->frames[idx]))
		return fail("the read-only page no longer holds its data");
	if (!access_faults(slot + 64, true))
		return fail("writing the read-only page did not raise SIGBUS at its address");
	if (!holds(d, slot, d->frames[idx]))
		return fail("the faulting write changed the read-only page");
	ok("protected slot %zu of B read-only: reads work, a write raises SIGBUS, data unchanged",
	   idx);

	rc = awe_protect(slot, 1, AWE_PROT_READWRITE, &old);
	if (rc)
		return fail_call("awe_protect", rc);
	if (old != AWE_PROT_READ)
		return fail("awe_protect reported old protection %d, expected read-only", old);
	fill(d, slot, d->frames[idx]);
	if (!check_window(d, d->win[1], d->frames))
		return false;
	ok("made it read-write again and rewrote it");
	return true;
}

static bool step_free(struct demo *d)
{
	struct awe_stats st;
	size_t freed = 0;
	void *where;
	int rc;

	/* Freeing mapped frames is allowed: they are unmapped first. */
	rc = awe_free(d->frames, d->nframes, &freed);
	if (rc)
		return fail_call("awe_free", rc);
	if (freed != NFRAMES)
		return fail("awe_free freed %zu frames, expected %d", freed, NFRAMES);
	d->nframes = 0;
	if (!check_unmapped(d, d->win[1]))
		return false;
	rc = awe_frame_addr(d->frames[0], &where);
	if (rc != -ENOENT)
		return fail("awe_frame_addr of a freed frame returned %d, expected -ENOENT", rc);
	ok("freed all frames while mapped in B; their slots are empty, their numbers invalid");

	for (int i = 0; i < 2; i++) {
		rc = awe_window_destroy(d->win[i]);
		if (rc)
			return fail_call("awe_window_destroy", rc);
		d->win[i] = NULL;
	}
	ok("destroyed both windows");

	if (!check_stats(0, 0, 0, 0, &st))
		return false;
	ok("awe_stats is back to 0 frames, 0 mapped, 0 windows (%llu bytes of parking address space kept)",
	   (unsigned long long)st.parking_bytes);
	return true;
}

/* After a failed step, give back what is left so that the process exits clean. */
static void cleanup(struct demo *d)
{
	if (d->nframes)
		awe_free(d->frames, d->nframes, NULL);
	for (int i = 0; i < 2; i++)
		if (d->win[i])
			awe_window_destroy(d->win[i]);
}

int main(void)
{
	static bool (*const steps[])(struct demo *) = {
		step_start,   step_alloc, step_windows, step_map,  step_unmap,
		step_scatter, step_remap, step_protect, step_free,
	};
	static struct demo d;

	for (size_t i = 0; i < sizeof(steps) / sizeof(steps[0]); i++) {
		if (!steps[i](&d)) {
			cleanup(&d);
			printf("demo failed\n");
			return d.cannot_run ? EXIT_CANNOT_RUN : EXIT_FAILURE;
		}
	}
	printf("demo passed: every step verified\n");
	return EXIT_SUCCESS;
}
