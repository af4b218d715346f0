/* SPDX-License-Identifier: MIT */
/*
 * Handles: the process pseudo-handle, handles to this process from
 * OpenProcess() and token handles. libawe acts only on the calling process,
 * so that is the only process a handle can name.
 */
#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <unistd.h>

#include "w32.h"

#define PSEUDO_PROCESS ((HANDLE)(LONG_PTR)-1)
#define MAX_HANDLES 4096
/* Handle values are multiples of 4 as on Windows, away from small integers
 * a careless caller might pass. */
#define HANDLE_BASE 0x1000u

struct entry {
	unsigned char type; /* enum w32__htype, 0 when free */
	DWORD access;
};

static struct entry table[MAX_HANDLES];
static pthread_mutex_t table_mu = PTHREAD_MUTEX_INITIALIZER;

static struct entry *lookup(HANDLE h)
{
	uintptr_t v = (uintptr_t)h;

	if (v < HANDLE_BASE || (v - HANDLE_BASE) % 4 || (v - HANDLE_BASE) / 4 >= MAX_HANDLES)
		return NULL;
	return &table[(v - HANDLE_BASE) / 4];
}

HANDLE w32__handle_new(enum w32__htype type, DWORD access)
{
	HANDLE h = NULL;

	pthread_mutex_lock(&table_mu);
	for (size_t i = 0; i < MAX_HANDLES; i++) {
		if (!table[i].type) {
			table[i] = (struct entry){(unsigned char)type, access};
			h = (HANDLE)(uintptr_t)(HANDLE_BASE + 4 * i);
			break;
		}
	}
	pthread_mutex_unlock(&table_mu);
	return h;
}

/* 0 and the rights of @h when it is a handle of @type; else 6. */
static DWORD rights(HANDLE h, enum w32__htype type, DWORD *out)
{
	struct entry *e;
	DWORD r = ERROR_INVALID_HANDLE;

	if (type == W32__H_PROCESS && h == PSEUDO_PROCESS) {
		*out = PROCESS_ALL_ACCESS;
		return 0;
	}
	e = lookup(h);
	if (!e)
		return r;
	pthread_mutex_lock(&table_mu);
	if (e->type == type) {
		*out = e->access;
		r = 0;
	}
	pthread_mutex_unlock(&table_mu);
	return r;
}

static DWORD check(HANDLE h, enum w32__htype type, DWORD access)
{
	DWORD have = 0, r = rights(h, type, &have);

	if (r)
		return r;
	return (have & access) == access ? 0 : ERROR_ACCESS_DENIED;
}

DWORD w32__check_process(HANDLE h, DWORD access)
{
	return check(h, W32__H_PROCESS, access);
}

DWORD w32__check_token(HANDLE h, DWORD access)
{
	return check(h, W32__H_TOKEN, access);
}

DWORD w32__process_rights(HANDLE h, DWORD *access)
{
	return rights(h, W32__H_PROCESS, access);
}

HANDLE GetCurrentProcess(void)
{
	return PSEUDO_PROCESS;
}

DWORD GetCurrentProcessId(void)
{
	return (DWORD)getpid();
}

HANDLE OpenProcess(DWORD dwDesiredAccess, BOOL bInheritHandle, DWORD dwProcessId)
{
	int e = errno;
	HANDLE h;

	(void)bInheritHandle; /* nothing is inherited: no CreateProcess */
	if (dwProcessId != (DWORD)getpid()) {
		/* Another process exists (kill(0) works or is refused) or it
		 * does not; either way libawe cannot act on it. */
		bool exists = dwProcessId != 0 && dwProcessId <= INT32_MAX &&
			      (kill((pid_t)dwProcessId, 0) == 0 || errno == EPERM);

		return w32__fail_ptr(exists ? ERROR_ACCESS_DENIED : ERROR_INVALID_PARAMETER);
	}
	h = w32__handle_new(W32__H_PROCESS, dwDesiredAccess);
	if (!h)
		return w32__fail_ptr(ERROR_NO_SYSTEM_RESOURCES);
	errno = e;
	return h;
}

BOOL CloseHandle(HANDLE hObject)
{
	struct entry *e = lookup(hObject);
	bool ok = hObject == PSEUDO_PROCESS;

	if (e) {
		pthread_mutex_lock(&table_mu);
		ok = e->type != 0;
		e->type = 0;
		pthread_mutex_unlock(&table_mu);
	}
	return ok ? TRUE : w32__fail(ERROR_INVALID_HANDLE);
}
