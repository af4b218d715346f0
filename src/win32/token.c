/* SPDX-License-Identifier: MIT */
/*
 * The process token, reduced to what AWE programs use: SeLockMemoryPrivilege.
 *
 * On Windows an administrator grants "Lock pages in memory"; the token then
 * *holds* the privilege, disabled until the program enables it. Here the
 * process holds it when Linux would let it lock the memory AWE needs:
 * CAP_IPC_LOCK, or an RLIMIT_MEMLOCK an administrator raised (unlimited, or at
 * least AWE__W32_HELD_MEMLOCK, token.h), or when frames are unlocked and nothing needs locking.
 */
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "sysfacts.h"
#include "token.h"
#include "w32.h"

#define LOCK_MEMORY 4
#define CHANGE_NOTIFY 23

static const char *const names[] = {
	[2] = "SeCreateTokenPrivilege",
	[3] = "SeAssignPrimaryTokenPrivilege",
	[4] = "SeLockMemoryPrivilege",
	[5] = "SeIncreaseQuotaPrivilege",
	[6] = "SeMachineAccountPrivilege",
	[7] = "SeTcbPrivilege",
	[8] = "SeSecurityPrivilege",
	[9] = "SeTakeOwnershipPrivilege",
	[10] = "SeLoadDriverPrivilege",
	[11] = "SeSystemProfilePrivilege",
	[12] = "SeSystemtimePrivilege",
	[13] = "SeProfileSingleProcessPrivilege",
	[14] = "SeIncreaseBasePriorityPrivilege",
	[15] = "SeCreatePagefilePrivilege",
	[16] = "SeCreatePermanentPrivilege",
	[17] = "SeBackupPrivilege",
	[18] = "SeRestorePrivilege",
	[19] = "SeShutdownPrivilege",
	[20] = "SeDebugPrivilege",
	[21] = "SeAuditPrivilege",
	[22] = "SeSystemEnvironmentPrivilege",
	[23] = "SeChangeNotifyPrivilege",
	[24] = "SeRemoteShutdownPrivilege",
	[25] = "SeUndockPrivilege",
	[26] = "SeSyncAgentPrivilege",
	[27] = "SeEnableDelegationPrivilege",
	[28] = "SeManageVolumePrivilege",
	[29] = "SeImpersonatePrivilege",
	[30] = "SeCreateGlobalPrivilege",
	[31] = "SeTrustedCredManAccessPrivilege",
	[32] = "SeRelabelPrivilege",
	[33] = "SeIncreaseWorkingSetPrivilege",
	[34] = "SeTimeZonePrivilege",
	[35] = "SeCreateSymbolicLinkPrivilege",
	[36] = "SeDelegateSessionUserImpersonatePrivilege",
};
#define NPRIV (sizeof(names) / sizeof(names[0]))

/* State of the privileges the token can hold (all others it never holds). */
struct priv {
	bool enabled, removed, by_default;
};

static struct priv lock_memory, change_notify = {true, false, true};
static pthread_mutex_t priv_mu = PTHREAD_MUTEX_INITIALIZER;
static pthread_once_t priv_once = PTHREAD_ONCE_INIT;

/* Whether the account "was granted" Lock pages in memory (see the top), by
 * libawe's own facts: awe__memlock_limit() (sysfacts.h) is UINT64_MAX with
 * CAP_IPC_LOCK or no RLIMIT_MEMLOCK, read with raw system calls (errno
 * stays alone). awe_probe() tells the same, but also reads the memory
 * available, VmLck and vm.max_map_count, some seven files on every
 * AllocateUserPhysicalPages (ten times its cost for one page), and starts
 * and stops an engine while libawe has not started. Frames count as
 * unlocked only by LIBAWE_UNLOCKED=1, never by awe_init()'s
 * AWE_INIT_UNLOCKED, which asks for unlocked frames, not for the
 * privilege: probe.locked tells either once libawe runs. Both facts come
 * from sysfacts.c, the one reader of them libawe uses too. */
static bool lock_memory_granted(void)
{
	return awe__memlock_limit() >= AWE__W32_HELD_MEMLOCK || awe__env_unlocked();
}

static struct priv *held_priv(DWORD id)
{
	if (id == CHANGE_NOTIFY)
		return change_notify.removed ? NULL : &change_notify;
	if (id == LOCK_MEMORY && !lock_memory.removed && lock_memory_granted())
		return &lock_memory;
	return NULL;
}

static void start_state(void)
{
	const char *v = getenv("LIBAWE_WIN32_LOCK_PRIVILEGE");

	lock_memory.enabled = v && strcmp(v, "1") == 0 && lock_memory_granted();
}

bool w32__lock_privilege_enabled(void)
{
	bool on;

	pthread_once(&priv_once, start_state);
	pthread_mutex_lock(&priv_mu);
	on = lock_memory.enabled && held_priv(LOCK_MEMORY);
	pthread_mutex_unlock(&priv_mu);
	return on;
}

BOOL OpenProcessToken(HANDLE ProcessHandle, DWORD DesiredAccess, PHANDLE TokenHandle)
{
	DWORD have = 0, r;
	HANDLE h;

	if (!TokenHandle)
		return w32__fail(ERROR_NOACCESS);
	r = w32__process_rights(ProcessHandle, &have);
	if (r)
		return w32__fail(r);
	if (!(have & (PROCESS_QUERY_INFORMATION | PROCESS_QUERY_LIMITED_INFORMATION)))
		return w32__fail(ERROR_ACCESS_DENIED);
	h = w32__handle_new(W32__H_TOKEN, DesiredAccess);
	if (!h)
		return w32__fail(ERROR_NO_SYSTEM_RESOURCES);
	*TokenHandle = h;
	return TRUE;
}

/* The LUID of privilege @name (ASCII, any case), or 0. */
static DWORD lookup_name(const char *name)
{
	for (DWORD i = 0; i < NPRIV; i++)
		if (names[i] && strcasecmp(names[i], name) == 0)
			return i;
	return 0;
}

static BOOL lookup_done(DWORD id, PLUID lpLuid)
{
	if (!id)
		return w32__fail(ERROR_NO_SUCH_PRIVILEGE);
	lpLuid->LowPart = id;
	lpLuid->HighPart = 0;
	return TRUE;
}

BOOL LookupPrivilegeValueA(LPCSTR lpSystemName, LPCSTR lpName, PLUID lpLuid)
{
	if (lpSystemName && *lpSystemName)
		return w32__fail(ERROR_NOT_SUPPORTED); /* no remote machines */
	if (!lpName || !lpLuid)
		return w32__fail(ERROR_NOACCESS);
	return lookup_done(lookup_name(lpName), lpLuid);
}

BOOL LookupPrivilegeValueW(LPCWSTR lpSystemName, LPCWSTR lpName, PLUID lpLuid)
{
	char name[64];
	size_t i;

	if (lpSystemName && *lpSystemName)
		return w32__fail(ERROR_NOT_SUPPORTED);
	if (!lpName || !lpLuid)
		return w32__fail(ERROR_NOACCESS);
	/* Privilege names are ASCII: anything else names no privilege. */
	for (i = 0; lpName[i] && i < sizeof(name) - 1; i++) {
		if (lpName[i] > 0x7f)
			return w32__fail(ERROR_NO_SUCH_PRIVILEGE);
		name[i] = (char)lpName[i];
	}
	if (lpName[i])
		return w32__fail(ERROR_NO_SUCH_PRIVILEGE);
	name[i] = '\0';
	return lookup_done(lookup_name(name), lpLuid);
}

static DWORD attributes(const struct priv *p)
{
	return (p->enabled ? SE_PRIVILEGE_ENABLED : 0) |
	       (p->by_default ? SE_PRIVILEGE_ENABLED_BY_DEFAULT : 0);
}

struct change {
	DWORD id;
	struct priv *p;
	struct priv to;
};

/* What @want does to the privileges; returns how many change and whether
 * some of them are not held. */
static size_t plan(BOOL disable_all, const TOKEN_PRIVILEGES *want, struct change *out,
		   bool *not_all)
{
	static const DWORD held_ids[] = {LOCK_MEMORY, CHANGE_NOTIFY};
	size_t n = 0;

	*not_all = false;
	if (disable_all) {
		for (size_t i = 0; i < 2; i++) {
			struct priv *p = held_priv(held_ids[i]);

			if (p && p->enabled)
				out[n++] = (struct change){
					held_ids[i], p, {false, false, p->by_default}};
		}
		return n;
	}
	for (DWORD i = 0; i < want->PrivilegeCount; i++) {
		const LUID_AND_ATTRIBUTES *la = &want->Privileges[i];
		struct priv *p = la->Luid.HighPart ? NULL : held_priv(la->Luid.LowPart);
		struct priv to;
		size_t k;

		if (!p) {
			*not_all = true;
			continue;
		}
		to = *p;
		to.removed = la->Attributes & SE_PRIVILEGE_REMOVED;
		to.enabled = !to.removed && (la->Attributes & SE_PRIVILEGE_ENABLED);
		/* A privilege listed twice: the later entry decides. */
		for (k = 0; k < n && out[k].p != p; k++)
			;
		if (k == n && to.enabled == p->enabled && !to.removed)
			continue;
		out[k] = (struct change){la->Luid.LowPart, p, to};
		n += k == n;
	}
	return n;
}

BOOL AdjustTokenPrivileges(HANDLE TokenHandle, BOOL DisableAllPrivileges,
			   PTOKEN_PRIVILEGES NewState, DWORD BufferLength,
			   PTOKEN_PRIVILEGES PreviousState, PDWORD ReturnLength)
{
	struct change ch[2];
	DWORD need, r;
	bool not_all;
	size_t n;

	r = w32__check_token(TokenHandle,
			     TOKEN_ADJUST_PRIVILEGES | (PreviousState ? TOKEN_QUERY : 0));
	if (r)
		return w32__fail(r);
	if (!DisableAllPrivileges && !NewState)
		return w32__fail(ERROR_INVALID_PARAMETER);
	if (PreviousState && !ReturnLength)
		return w32__fail(ERROR_NOACCESS);
	pthread_once(&priv_once, start_state);
	pthread_mutex_lock(&priv_mu);
	n = plan(DisableAllPrivileges, NewState, ch, &not_all);
	need = (DWORD)(offsetof(TOKEN_PRIVILEGES, Privileges) + n * sizeof(LUID_AND_ATTRIBUTES));
	if (PreviousState && BufferLength < need) {
		pthread_mutex_unlock(&priv_mu);
		*ReturnLength = need;
		return w32__fail(ERROR_INSUFFICIENT_BUFFER);
	}
	for (size_t i = 0; i < n; i++) {
		if (PreviousState) {
			PreviousState->Privileges[i].Luid = (LUID){ch[i].id, 0};
			PreviousState->Privileges[i].Attributes = attributes(ch[i].p);
		}
		*ch[i].p = ch[i].to;
	}
	pthread_mutex_unlock(&priv_mu);
	if (PreviousState) {
		PreviousState->PrivilegeCount = (DWORD)n;
		*ReturnLength = need;
	}
	/* Windows documents the last error of a successful call. */
	w32__set_error(not_all ? ERROR_NOT_ALL_ASSIGNED : ERROR_SUCCESS);
	return TRUE;
}
