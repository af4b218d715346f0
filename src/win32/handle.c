/* SPDX-License-Identifier: MIT */
/*
 * Handles: the process pseudo-handle, handles to this process from
 * OpenProcess(), this process's PID, token handles and AWE section handles.
 * libawe acts only on the calling process, so that is the only process a
 * handle can name.
 */
#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <unistd.h>

#include "w32.h"

#define PSEUDO_PROCESS ((HANDLE)(LONG_PTR)-1)
#define MAX_HANDLES 4096
/* Handle values are multiples of 4 as on Windows, away from small integers
 * a careless caller might pass, and from every PID: a PID is below
 * PID_MAX_LIMIT, 4 Mi on 64-bit Linux, and this process's names it. */
#define HANDLE_BASE 0x400000u

struct entry {
	unsigned char type; /* enum w32__htype, 0 when free */
	DWORD access;
	struct w32__section section; /* W32__H_SECTION: what it names */
};

static struct entry table[MAX_HANDLES];
/* Held only around table accesses, never across a call into libawe, so
 * that it cannot take part in a lock cycle with libawe's own lock. */
static pthread_mutex_t table_mu = PTHREAD_MUTEX_INITIALIZER;

/* A fork() child inherits none of libawe's sections, and its libawe numbers
 * new sections from 1 again: a section handle it inherited must be invalid
 * rather than name one of those. */
void w32__handles_fork(enum w32__fork_phase phase)
{
	if (phase == W32__FORK_PREPARE) {
		pthread_mutex_lock(&table_mu);
		return;
	}
	for (size_t i = 0; phase == W32__FORK_CHILD && i < MAX_HANDLES; i++)
		if (table[i].type == W32__H_SECTION)
			table[i].type = 0;
	pthread_mutex_unlock(&table_mu);
}

/* Whether @h is this process's PID: what .NET Core 2.x's
 * Process.GetCurrentProcess().Handle holds on Linux. getpid() is asked each
 * time, so that a fork() child's PID names the child, and its parent's no
 * longer does. */
static bool own_pid(HANDLE h)
{
	uintptr_t v = (uintptr_t)h;

	return v && v < HANDLE_BASE && v == (uintptr_t)getpid();
}

static struct entry *lookup(HANDLE h)
{
	uintptr_t v = (uintptr_t)h;

	if (v < HANDLE_BASE || (v - HANDLE_BASE) % 4 || (v - HANDLE_BASE) / 4 >= MAX_HANDLES)
		return NULL;
	return &table[(v - HANDLE_BASE) / 4];
}

static HANDLE handle_new(enum w32__htype type, DWORD access, const struct w32__section *section)
{
	static const struct w32__section none = {0, false, -1};
	HANDLE h = NULL;

	pthread_mutex_lock(&table_mu);
	for (size_t i = 0; i < MAX_HANDLES; i++) {
		if (!table[i].type) {
			table[i] = (struct entry){(unsigned char)type, access,
						  section ? *section : none};
			h = (HANDLE)(uintptr_t)(HANDLE_BASE + 4 * i);
			break;
		}
	}
	pthread_mutex_unlock(&table_mu);
	return h;
}

HANDLE w32__handle_new(enum w32__htype type, DWORD access)
{
	return handle_new(type, access, NULL);
}

HANDLE w32__section_handle_new(const struct w32__section *s, DWORD access)
{
	return handle_new(W32__H_SECTION, access, s);
}

/* 0 and the rights of @h (and its section, if @section is not NULL) when
 * it is a handle of @type; else 6. */
static DWORD rights(HANDLE h, enum w32__htype type, DWORD *out, struct w32__section *section)
{
	struct entry *e;
	DWORD r = ERROR_INVALID_HANDLE;

	if (type == W32__H_PROCESS && (h == PSEUDO_PROCESS || own_pid(h))) {
		*out = PROCESS_ALL_ACCESS;
		return 0;
	}
	e = lookup(h);
	if (!e)
		return r;
	pthread_mutex_lock(&table_mu);
	if (e->type == type) {
		*out = e->access;
		if (section)
			*section = e->section;
		r = 0;
	}
	pthread_mutex_unlock(&table_mu);
	return r;
}

static DWORD check(HANDLE h, enum w32__htype type, DWORD access)
{
	DWORD have = 0, r = rights(h, type, &have, NULL);

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
	return rights(h, W32__H_PROCESS, access, NULL);
}

DWORD w32__check_section(HANDLE h, DWORD access, struct w32__section *s)
{
	DWORD have = 0, r = rights(h, W32__H_SECTION, &have, s);

	if (r)
		return r;
	return (have & access) == access ? 0 : ERROR_ACCESS_DENIED;
}

bool w32__section_open(HANDLE h, awe_section_t section)
{
	struct w32__section now = {0, false, -1};
	DWORD have;

	return rights(h, W32__H_SECTION, &have, &now) == 0 && now.id == section;
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
	HANDLE h;

	(void)bInheritHandle; /* nothing is inherited: no CreateProcess */
	if (dwProcessId != (DWORD)getpid()) {
		/* Another process exists (kill(0) works or is refused) or it
		 * does not; either way libawe cannot act on it, and the call
		 * fails, so kill()'s errno need not be kept. */
		bool exists = dwProcessId != 0 && dwProcessId <= INT32_MAX &&
			      (kill((pid_t)dwProcessId, 0) == 0 || errno == EPERM);

		return w32__fail_ptr(exists ? ERROR_ACCESS_DENIED : ERROR_INVALID_PARAMETER);
	}
	h = w32__handle_new(W32__H_PROCESS, dwDesiredAccess);
	if (!h)
		return w32__fail_ptr(ERROR_NO_SYSTEM_RESOURCES);
	return h;
}

BOOL CloseHandle(HANDLE hObject)
{
	struct entry *e = lookup(hObject);
	bool ok = hObject == PSEUDO_PROCESS || own_pid(hObject);
	awe_section_t section = 0;

	if (e) {
		pthread_mutex_lock(&table_mu);
		ok = e->type != 0;
		if (e->type == W32__H_SECTION)
			section = e->section.id;
		e->type = 0;
		pthread_mutex_unlock(&table_mu);
	}
	/* The handle is gone first, so no other thread can start a call with
	 * it; the section itself lives on while a region is tied to it, as a
	 * Windows section object lives while a view references it. Closing it
	 * cannot fail for want of the section: the handle was open, and only
	 * a fork() drops sections, whose handles atfork_child() dropped too.
	 * (It can for a signal handler calling in on a thread inside libawe;
	 * the handle is gone all the same.) */
	if (section)
		(void)W32__KEEP_ERRNO(awe_section_close(section));
	return ok ? TRUE : w32__fail(ERROR_INVALID_HANDLE);
}
