/* SPDX-License-Identifier: MIT */
/* Process and token handles: GetCurrentProcess(Id), OpenProcess, CloseHandle, access rights. */
#include "w32helpers.h"

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
	W32_FAIL(CloseHandle((HANDLE)(uintptr_t)0x1234), ERROR_INVALID_HANDLE);
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
	HANDLE bad[] = {NULL, (HANDLE)(uintptr_t)0x1234, closed, tok};
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
