// SPDX-License-Identifier: MIT
/*
 * Whether libawe-win32 would let this process use AWE: does its token hold
 * SeLockMemoryPrivilege? Asked the way a Windows program finds out, through
 * the layer's own API: enable the privilege with AdjustTokenPrivileges(),
 * which reports ERROR_NOT_ALL_ASSIGNED when it is not held, then put the
 * previous state back. So the answer is the layer's rule itself
 * (src/win32/token.c), never a copy of it.
 *
 * The reason is then worded from the facts that rule reads (CAP_IPC_LOCK,
 * RLIMIT_MEMLOCK, LIBAWE_UNLOCKED), with awe_probe()'s numbers.
 */
#include <stdio.h>
#include <unistd.h>

#include <awe/win32.h>

#include "info.h"

/* The privilege's state, enabled for a moment to see whether it is held. */
static void ask_layer(struct w32 *w)
{
	TOKEN_PRIVILEGES tp = {1, {{{0, 0}, SE_PRIVILEGE_ENABLED}}}, prev = {0};
	DWORD len = 0;
	HANDLE tok;

	w->held = -1;
	w->call = "OpenProcessToken";
	if (!OpenProcessToken(GetCurrentProcess(), TOKEN_ADJUST_PRIVILEGES | TOKEN_QUERY, &tok))
		goto failed;
	w->call = "LookupPrivilegeValueA";
	if (LookupPrivilegeValueA(NULL, SE_LOCK_MEMORY_NAME_A, &tp.Privileges[0].Luid)) {
		w->call = "AdjustTokenPrivileges";
		if (AdjustTokenPrivileges(tok, FALSE, &tp, sizeof(prev), &prev, &len)) {
			w->held = GetLastError() != ERROR_NOT_ALL_ASSIGNED;
			/* An empty @prev: nothing changed, so it was enabled already
			 * (or is not held). */
			w->enabled = w->held && prev.PrivilegeCount == 0;
			if (prev.PrivilegeCount)
				AdjustTokenPrivileges(tok, FALSE, &prev, 0, NULL, NULL);
		}
	}
	if (w->held < 0)
		w->error = GetLastError();
	CloseHandle(tok);
	return;
failed:
	w->error = GetLastError();
}

/* The facts the layer's rule reads, in its order: the lock limit libawe
 * sees (UINT64_MAX with CAP_IPC_LOCK or no RLIMIT_MEMLOCK), then
 * LIBAWE_UNLOCKED=1. */
static enum w32_why why(const struct probe *p)
{
	if (p->pr.cap_ipc_lock)
		return W32_CAP;
	if (p->pr.memlock_limit == UINT64_MAX)
		return W32_UNLIMITED;
	if (p->pr.memlock_limit >= W32_HELD_MEMLOCK)
		return W32_LIMIT;
	if (awe__env_unlocked())
		return W32_UNLOCKED;
	return W32_NONE;
}

void info_w32(struct probe *p)
{
	struct w32 *w = &p->w32;

	ask_layer(w);
	w->why = why(p);
	if (p->probe_rc || (w->held == 1 && w->why == W32_NONE) ||
	    (w->held == 0 && w->why != W32_NONE))
		w->why = W32_UNEXPLAINED;
}

const char *info_w32_reason(const struct probe *p, char *buf, size_t len)
{
	char a[32], b[32];

	fmt_limit(p->pr.memlock_limit, a, sizeof(a));
	fmt_limit(W32_HELD_MEMLOCK, b, sizeof(b));
	switch (p->w32.why) {
	case W32_CAP:
		snprintf(buf, len, "CAP_IPC_LOCK%s", geteuid() == 0 ? ", as root" : "");
		break;
	case W32_UNLIMITED:
		snprintf(buf, len, "RLIMIT_MEMLOCK is unlimited");
		break;
	case W32_LIMIT:
		snprintf(buf, len, "RLIMIT_MEMLOCK %s is at least %s", a, b);
		break;
	case W32_UNLOCKED:
		snprintf(buf, len, "LIBAWE_UNLOCKED=1: frames are not locked");
		break;
	case W32_NONE:
		snprintf(buf, len,
			 "no CAP_IPC_LOCK, RLIMIT_MEMLOCK %s, LIBAWE_UNLOCKED unset; "
			 "it needs one of CAP_IPC_LOCK, an RLIMIT_MEMLOCK of at least %s "
			 "or LIBAWE_UNLOCKED=1",
			 a, b);
		break;
	default:
		snprintf(buf, len,
			 "for a reason awe-info does not know (CAP_IPC_LOCK %s, "
			 "RLIMIT_MEMLOCK %s)",
			 p->pr.cap_ipc_lock ? "yes" : "no", a);
	}
	return buf;
}
