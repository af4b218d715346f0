/* SPDX-License-Identifier: MIT */
/*
 * Process and token handles: GetCurrentProcess(Id), OpenProcess, CloseHandle, access rights,
 * and this process's PID as a handle to it.
 */
#include "w32helpers.h"

#include <pthread.h>
#include <sys/syscall.h>

Test(handles, current_process)
{
	SetLastError(LE_CANARY);
	errno = ERRNO_CANARY;
	cr_assert_eq(GetCurrentProcess(), (HANDLE)(intptr_t)-1);
	cr_assert_eq(GetCurrentProcess(), INVALID_HANDLE_VALUE, "the pseudo-handle is -1");
	cr_assert_eq(GetCurrentProcessId(), (DWORD)getpid());
	cr_assert_eq(GetLastError(), LE_CANARY);
	cr_assert_eq(errno, ERRNO_CANARY);
}

static int child_pid(void *arg)
{
	(void)arg;
	CHILD_CHECK(GetCurrentProcessId() == (DWORD)getpid(), "%u vs %d", GetCurrentProcessId(),
		    (int)getpid());
	return 0;
}

Test(handles, current_process_id_after_fork)
{
	(void)GetCurrentProcessId();
	run_in_child(child_pid, NULL, NULL);
}

/* A handle of our own process carries exactly the rights asked for. */
Test(handles, open_own_process)
{
	HANDLE h = open_self(PROCESS_ALL_ACCESS), vm = open_self(PROCESS_VM_OPERATION);
	HANDLE inherit = W32_OK(OpenProcess(PROCESS_VM_OPERATION, TRUE, GetCurrentProcessId()));
	HANDLE q = open_self(PROCESS_QUERY_INFORMATION);
	ULONG_PTR n = 1, pfn[1];
	void *r;

	cr_assert_neq(h, GetCurrentProcess(), "a real handle, not the pseudo-handle");
	cr_assert_neq(h, vm, "every OpenProcess() is a new handle");
	enable_lock_privilege();
	W32_OK(AllocateUserPhysicalPages(vm, &n, pfn));
	cr_assert_eq(n, 1);
	r = W32_OK(VirtualAllocEx(inherit, NULL, pg(), MEM_RESERVE | MEM_PHYSICAL, PAGE_READWRITE));
	W32_OK(VirtualFreeEx(h, r, 0, MEM_RELEASE));
	/* Without PROCESS_VM_OPERATION. */
	W32_FAIL(AllocateUserPhysicalPages(q, &n, pfn), ERROR_ACCESS_DENIED);
	W32_FAIL(FreeUserPhysicalPages(q, &n, pfn), ERROR_ACCESS_DENIED);
	cr_assert_eq(n, 0, "FreeUserPhysicalPages zeroes *NumberOfPages first");
	W32_FAIL(VirtualAllocEx(q, NULL, pg(), MEM_RESERVE | MEM_PHYSICAL, PAGE_READWRITE),
		 ERROR_ACCESS_DENIED);
	n = 1;
	W32_OK(FreeUserPhysicalPages(vm, &n, pfn));
	W32_OK(CloseHandle(h));
	W32_OK(CloseHandle(vm));
	W32_OK(CloseHandle(inherit));
	W32_OK(CloseHandle(q));
}

/* libawe acts on the calling process only: another process is "access denied". */
Test(handles, open_other_process_is_denied)
{
	int pipefd[2];
	pid_t pid;
	int status;

	cr_assert_eq(pipe(pipefd), 0);
	fflush(NULL);
	pid = fork();
	cr_assert_neq(pid, -1);
	if (pid == 0) {
		char c;

		close(pipefd[1]);
		_exit(read(pipefd[0], &c, 1) < 0); /* until the parent closes the pipe */
	}
	close(pipefd[0]);
	W32_FAIL(OpenProcess(PROCESS_ALL_ACCESS, FALSE, (DWORD)pid), ERROR_ACCESS_DENIED);
	W32_FAIL(OpenProcess(PROCESS_QUERY_LIMITED_INFORMATION, FALSE, (DWORD)pid),
		 ERROR_ACCESS_DENIED);
	/* init exists too, and is not us. */
	W32_FAIL(OpenProcess(PROCESS_VM_OPERATION, FALSE, 1), ERROR_ACCESS_DENIED);
	close(pipefd[1]);
	cr_assert_eq(waitpid(pid, &status, 0), pid);

	/* Once reaped, the pid names no process. */
	W32_FAIL(OpenProcess(PROCESS_ALL_ACCESS, FALSE, (DWORD)pid), ERROR_INVALID_PARAMETER);
}

Test(handles, open_missing_process)
{
	FILE *f = fopen("/proc/sys/kernel/pid_max", "r");
	unsigned long pid_max = 4194304;

	if (f) {
		cr_assert_eq(fscanf(f, "%lu", &pid_max), 1);
		fclose(f);
	}
	W32_FAIL(OpenProcess(PROCESS_ALL_ACCESS, FALSE, 0), ERROR_INVALID_PARAMETER);
	W32_FAIL(OpenProcess(PROCESS_ALL_ACCESS, FALSE, (DWORD)pid_max + 1),
		 ERROR_INVALID_PARAMETER);
	W32_FAIL(OpenProcess(PROCESS_ALL_ACCESS, FALSE, 0xFFFFFFF0u), ERROR_INVALID_PARAMETER);
}

Test(handles, close_handle)
{
	HANDLE h = open_self(PROCESS_ALL_ACCESS), tok = open_token(TOKEN_ALL_ACCESS);
	ULONG_PTR n = 1, pfn[1];

	W32_OK(CloseHandle(h));
	W32_FAIL(CloseHandle(h), ERROR_INVALID_HANDLE);
	W32_OK(CloseHandle(tok));
	W32_FAIL(CloseHandle(tok), ERROR_INVALID_HANDLE);
	W32_FAIL(CloseHandle(NULL), ERROR_INVALID_HANDLE);
	W32_FAIL(CloseHandle(bogus_handle(0x1234)), ERROR_INVALID_HANDLE);
	/* The pseudo-handle closes without effect, as often as asked. */
	W32_OK(CloseHandle(GetCurrentProcess()));
	W32_OK(CloseHandle(GetCurrentProcess()));
	enable_lock_privilege();
	W32_OK(AllocateUserPhysicalPages(GetCurrentProcess(), &n, pfn));
	/* A closed handle is invalid everywhere. */
	n = 1;
	W32_FAIL(AllocateUserPhysicalPages(h, &n, pfn), ERROR_INVALID_HANDLE);
	W32_FAIL(AdjustTokenPrivileges(tok, TRUE, NULL, 0, NULL, NULL), ERROR_INVALID_HANDLE);
	W32_FAIL(OpenProcessToken(h, TOKEN_QUERY, &tok), ERROR_INVALID_HANDLE);
}

/* Handle values are not reused while others are open, and many can be open. */
Test(handles, many_handles)
{
	enum { N = 200 };
	HANDLE h[N];

	for (int i = 0; i < N; i++) {
		h[i] = open_self(PROCESS_VM_OPERATION);
		for (int j = 0; j < i; j++)
			cr_assert_neq(h[i], h[j]);
	}
	for (int i = 0; i < N; i++)
		W32_OK(CloseHandle(h[i]));
}

/*
 * Every function that takes a process handle: NULL, unknown, closed and
 * token handles are invalid (6); a process handle without the right is 5.
 */
Test(handles, process_handle_checks)
{
	HANDLE closed = open_self(PROCESS_ALL_ACCESS), tok = open_token(TOKEN_QUERY);
	HANDLE noright = open_self(PROCESS_QUERY_INFORMATION | PROCESS_VM_READ);
	HANDLE bad[] = {NULL, bogus_handle(0x1234), closed, tok};
	PULONG_PTR pfn = pfns_new(1);
	char *r = region_new(1);
	MEMORY_BASIC_INFORMATION m;
	ULONG_PTR n;
	DWORD old;

	W32_OK(CloseHandle(closed));
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		HANDLE h = bad[i];

		n = 1;
		W32_FAIL(AllocateUserPhysicalPages(h, &n, pfn), ERROR_INVALID_HANDLE);
		W32_FAIL(AllocateUserPhysicalPagesNuma(h, &n, pfn, 0), ERROR_INVALID_HANDLE);
		W32_FAIL(AllocateUserPhysicalPages2(h, &n, pfn, NULL, 0), ERROR_INVALID_HANDLE);
		cr_assert_eq(n, 1);
		W32_FAIL(FreeUserPhysicalPages(h, &n, pfn), ERROR_INVALID_HANDLE);
		cr_assert_eq(n, 0);
		W32_FAIL(VirtualAllocEx(h, NULL, pg(), MEM_RESERVE | MEM_PHYSICAL, PAGE_READWRITE),
			 ERROR_INVALID_HANDLE);
		W32_FAIL(VirtualAllocExNuma(h, NULL, pg(), MEM_RESERVE, PAGE_READWRITE, 0),
			 ERROR_INVALID_HANDLE);
		if (h) /* VirtualAlloc2 takes NULL for this process */
			W32_FAIL(VirtualAlloc2(h, NULL, pg(), MEM_RESERVE, PAGE_READWRITE, NULL, 0),
				 ERROR_INVALID_HANDLE);
		W32_FAIL(VirtualFreeEx(h, r, 0, MEM_RELEASE), ERROR_INVALID_HANDLE);
		W32_FAIL(VirtualProtectEx(h, r, pg(), PAGE_READONLY, &old), ERROR_INVALID_HANDLE);
		W32_FAIL(VirtualQueryEx(h, r, &m, sizeof(m)), ERROR_INVALID_HANDLE);
		W32_FAIL(OpenProcessToken(h, TOKEN_QUERY, &(HANDLE){NULL}), ERROR_INVALID_HANDLE);
	}

	n = 1;
	W32_FAIL(AllocateUserPhysicalPages(noright, &n, pfn), ERROR_ACCESS_DENIED);
	W32_FAIL(AllocateUserPhysicalPagesNuma(noright, &n, pfn, 0), ERROR_ACCESS_DENIED);
	W32_FAIL(AllocateUserPhysicalPages2(noright, &n, pfn, NULL, 0), ERROR_ACCESS_DENIED);
	cr_assert_eq(n, 1);
	W32_FAIL(FreeUserPhysicalPages(noright, &n, pfn), ERROR_ACCESS_DENIED);
	cr_assert_eq(n, 0);
	W32_FAIL(VirtualAllocEx(noright, NULL, pg(), MEM_RESERVE | MEM_PHYSICAL, PAGE_READWRITE),
		 ERROR_ACCESS_DENIED);
	W32_FAIL(VirtualAllocExNuma(noright, NULL, pg(), MEM_RESERVE, PAGE_READWRITE, 0),
		 ERROR_ACCESS_DENIED);
	W32_FAIL(VirtualAlloc2(noright, NULL, pg(), MEM_RESERVE, PAGE_READWRITE, NULL, 0),
		 ERROR_ACCESS_DENIED);
	W32_FAIL(VirtualFreeEx(noright, r, 0, MEM_RELEASE), ERROR_ACCESS_DENIED);
	W32_FAIL(VirtualProtectEx(noright, r, pg(), PAGE_READONLY, &old), ERROR_ACCESS_DENIED);

	/* Nothing happened: the frame is still ours, the region still there. */
	assert_parked(pfn[0]);
	assert_unmapped(r);
	W32_OK(VirtualFree(r, 0, MEM_RELEASE));
	free(pfn);
}

/* The rights OpenProcessToken and the token functions need. */
Test(handles, token_rights)
{
	HANDLE noquery = open_self(PROCESS_VM_OPERATION);
	HANDLE limited = open_self(PROCESS_QUERY_LIMITED_INFORMATION);
	HANDLE query = open_self(PROCESS_QUERY_INFORMATION);
	HANDLE tok = NULL;

	W32_FAIL(OpenProcessToken(noquery, TOKEN_QUERY, &tok), ERROR_ACCESS_DENIED);
	cr_assert_null(tok);
	W32_OK(OpenProcessToken(limited, TOKEN_ADJUST_PRIVILEGES, &tok));
	W32_OK(CloseHandle(tok));
	W32_OK(OpenProcessToken(query, TOKEN_ADJUST_PRIVILEGES, &tok));
	/* A token handle is not a process handle, nor the reverse. */
	W32_FAIL(VirtualAllocEx(tok, NULL, pg(), MEM_RESERVE, PAGE_READWRITE),
		 ERROR_INVALID_HANDLE);
	W32_FAIL(AdjustTokenPrivileges(query, TRUE, NULL, 0, NULL, NULL), ERROR_INVALID_HANDLE);
	W32_FAIL(AdjustTokenPrivileges(GetCurrentProcess(), TRUE, NULL, 0, NULL, NULL),
		 ERROR_INVALID_HANDLE);
	W32_OK(CloseHandle(tok));
	W32_OK(CloseHandle(noquery));
	W32_OK(CloseHandle(limited));
	W32_OK(CloseHandle(query));
}

/* ---- The PID as a process handle ------------------------------------------------------------ */

/* This process's PID as a handle: what .NET Core 2.x's Process.Handle is on Linux. */
static HANDLE own_pid(void)
{
	return (HANDLE)(uintptr_t)getpid();
}

/*
 * Every call that takes a process handle, with @h: 0 when all succeed,
 * else the first failure's last error (the calls that follow it are not
 * made). No asserts: children and threads use it.
 */
static DWORD every_process_call(HANDLE h)
{
	ULONG_PTR n = 1, pfn[1], m1 = 1, m2 = 1, pfn1[1], pfn2[1];
	MEMORY_BASIC_INFORMATION m;
	HANDLE tok = NULL;
	DWORD old;
	char *r;

#define TRY(call)                                                                                  \
	do {                                                                                       \
		if (!(call))                                                                       \
			return GetLastError();                                                     \
	} while (0)
	TRY(AllocateUserPhysicalPages(h, &n, pfn) && n == 1);
	TRY(AllocateUserPhysicalPagesNuma(h, &m1, pfn1, 0) && m1 == 1);
	/* As the object handle of AllocateUserPhysicalPages2: the process. */
	TRY(AllocateUserPhysicalPages2(h, &m2, pfn2, NULL, 0) && m2 == 1);
	r = VirtualAllocEx(h, NULL, pg(), MEM_RESERVE | MEM_PHYSICAL, PAGE_READWRITE);
	TRY(r);
	TRY(MapUserPhysicalPages(r, 1, pfn));
	r[0] = 'p';
	TRY(VirtualQueryEx(h, r, &m, sizeof(m)) == sizeof(m) && m.State == MEM_COMMIT);
	TRY(VirtualFreeEx(h, r, 0, MEM_RELEASE));
	TRY(FreeUserPhysicalPages(h, &n, pfn) && n == 1);
	TRY(FreeUserPhysicalPages(h, &m1, pfn1) && FreeUserPhysicalPages(h, &m2, pfn2));
	r = VirtualAllocExNuma(h, NULL, pg(), MEM_RESERVE | MEM_COMMIT, PAGE_READWRITE, 0);
	TRY(r);
	TRY(VirtualProtectEx(h, r, pg(), PAGE_READONLY, &old) && old == PAGE_READWRITE);
	TRY(VirtualFreeEx(h, r, 0, MEM_RELEASE));
	r = VirtualAlloc2(h, NULL, pg(), MEM_RESERVE | MEM_PHYSICAL, PAGE_READWRITE, NULL, 0);
	TRY(r);
	TRY(VirtualFreeEx(h, r, 0, MEM_RELEASE));
	TRY(OpenProcessToken(h, TOKEN_QUERY, &tok));
	TRY(CloseHandle(tok));
#undef TRY
	return 0;
}

/* The PID names this process with every right, as the pseudo-handle does. */
Test(handles, own_pid_is_this_process)
{
	HANDLE pid = own_pid();

	enable_lock_privilege();
	SetLastError(LE_CANARY);
	cr_assert_eq(every_process_call(pid), 0, "a call with the PID failed: %u", GetLastError());
	cr_assert_eq(GetLastError(), LE_CANARY, "success touched the last error");
	/* Closing it closes nothing, as closing the pseudo-handle. */
	W32_OK(CloseHandle(pid));
	W32_OK(CloseHandle(pid));
	cr_assert_eq(every_process_call(pid), 0, "after CloseHandle: %u", GetLastError());
	/* The pseudo-handle and OpenProcess() are as they were. */
	cr_assert_eq(every_process_call(GetCurrentProcess()), 0);
	cr_assert_eq(every_process_call(open_self(PROCESS_ALL_ACCESS)), 0);
}

static void *pid_from_thread(void *arg)
{
	(void)arg;
	return (void *)(uintptr_t)every_process_call(own_pid());
}

/* Any thread may use it; a thread's own ID is not a process handle. */
Test(handles, own_pid_from_a_thread)
{
	pthread_t t;
	void *r;

	enable_lock_privilege();
	cr_assert_eq(pthread_create(&t, NULL, pid_from_thread, NULL), 0);
	cr_assert_eq(pthread_join(t, &r), 0);
	cr_assert_eq((DWORD)(uintptr_t)r, 0, "from a thread: %u", (DWORD)(uintptr_t)r);
}

static void *tid_as_handle(void *arg)
{
	DWORD *le = arg;
	HANDLE tid = (HANDLE)(uintptr_t)syscall(SYS_gettid);

	le[0] = every_process_call(tid);
	le[1] = CloseHandle(tid) ? 0 : GetLastError();
	return NULL;
}

Test(handles, thread_id_is_no_process_handle)
{
	DWORD le[2] = {0, 0};
	pthread_t t;

	enable_lock_privilege();
	cr_assert_eq(pthread_create(&t, NULL, tid_as_handle, le), 0);
	cr_assert_eq(pthread_join(t, NULL), 0);
	cr_assert_eq(le[0], ERROR_INVALID_HANDLE, "a thread ID as process handle: %u", le[0]);
	cr_assert_eq(le[1], ERROR_INVALID_HANDLE, "CloseHandle(thread ID): %u", le[1]);
}

/* Another process's PID (existing or not) is no handle: 6, as any unknown value. */
Test(handles, other_pids_are_invalid)
{
	pid_t reaped = fork(), me = getpid();
	uintptr_t others[] = {(uintptr_t)getppid(), 1, 0, (uintptr_t)me + 1, 0x3fffff, 0x400000};
	int status;

	cr_assert_neq(reaped, -1);
	if (reaped == 0)
		_exit(0);
	cr_assert_eq(waitpid(reaped, &status, 0), reaped);
	others[2] = (uintptr_t)reaped;
	enable_lock_privilege();
	for (size_t i = 0; i < sizeof(others) / sizeof(others[0]); i++) {
		HANDLE h = (HANDLE)others[i];
		ULONG_PTR n = 1, pfn[1];

		if (others[i] == (uintptr_t)me)
			continue;
		W32_FAIL(AllocateUserPhysicalPages(h, &n, pfn), ERROR_INVALID_HANDLE);
		W32_FAIL(VirtualAllocEx(h, NULL, pg(), MEM_RESERVE | MEM_PHYSICAL, PAGE_READWRITE),
			 ERROR_INVALID_HANDLE);
		W32_FAIL(OpenProcessToken(h, TOKEN_QUERY, &(HANDLE){NULL}), ERROR_INVALID_HANDLE);
		W32_FAIL(CloseHandle(h), ERROR_INVALID_HANDLE);
		cr_assert_eq(every_process_call(h), ERROR_INVALID_HANDLE);
	}
}

static int child_own_pid(void *arg)
{
	HANDLE parent = (HANDLE)(uintptr_t) * (pid_t *)arg;
	DWORD le;

	CHILD_CHECK(getpid() != *(pid_t *)arg, "the child has its parent's PID");
	/* Its own PID names it... */
	le = every_process_call(own_pid());
	CHILD_CHECK(le == 0, "the child's own PID: %u", le);
	CHILD_W32_OK(CloseHandle(own_pid()));
	/* ...and its parent's, which named this address space before fork(), no longer does. */
	le = every_process_call(parent);
	CHILD_CHECK(le == ERROR_INVALID_HANDLE, "the parent's PID in the child: %u", le);
	CHILD_W32_FAIL(CloseHandle(parent), ERROR_INVALID_HANDLE);
	return 0;
}

Test(handles, own_pid_after_fork)
{
	pid_t me = getpid();

	enable_lock_privilege();
	cr_assert_eq(every_process_call(own_pid()), 0);
	run_in_child(child_own_pid, &me, NULL);
	cr_assert_eq(every_process_call(own_pid()), 0, "the parent's PID after the fork");
}
