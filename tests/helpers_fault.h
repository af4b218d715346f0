/* SPDX-License-Identifier: MIT */
/*
 * Test helpers (included by helpers.h): fault probes. One access performed
 * under a handler that reports the signal it raised and si_addr, the checks
 * that it is the engine's fault at the right address, and children that
 * must die of it.
 */
#ifndef AWE_TEST_HELPERS_FAULT_H
#define AWE_TEST_HELPERS_FAULT_H

#include "helpers.h"

#include <setjmp.h>
#include <signal.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

/*
 * Fault probe: performs one access and reports the signal it raised, if
 * any, with si_addr. SIGSEGV is caught too so that a wrong signal is a
 * test failure with a message rather than a crash.
 */
struct fault {
	int sig; /* 0 when the access completed */
	int code;
	void *addr;
};

static sigjmp_buf probe_env __attribute__((unused));
static siginfo_t probe_info __attribute__((unused));

static inline void probe_handler(int sig, siginfo_t *si, void *uc)
{
	(void)sig;
	(void)uc;
	probe_info = *si;
	siglongjmp(probe_env, 1);
}

/* Kept out of line so that no local lives across the sigsetjmp. */
static __attribute__((noinline)) int probe_do(volatile char *p, bool write, char val)
{
	if (sigsetjmp(probe_env, 1))
		return 1;
	if (write)
		*p = val;
	else
		(void)*p;
	return 0;
}

static inline struct fault probe(void *p, bool write, char val)
{
	struct sigaction sa, obus, osegv;
	struct fault f = {0};

	memset(&sa, 0, sizeof(sa));
	sa.sa_sigaction = probe_handler;
	sa.sa_flags = SA_SIGINFO;
	sigemptyset(&sa.sa_mask);
	sigaction(SIGBUS, &sa, &obus);
	sigaction(SIGSEGV, &sa, &osegv);
	if (probe_do(p, write, val)) {
		f.sig = probe_info.si_signo;
		f.code = probe_info.si_code;
		f.addr = probe_info.si_addr;
	}
	sigaction(SIGBUS, &obus, NULL);
	sigaction(SIGSEGV, &osegv, NULL);
	return f;
}

static inline struct fault probe_read(void *p)
{
	return probe(p, false, 0);
}

static inline struct fault probe_write(void *p, char val)
{
	return probe(p, true, val);
}

/* @f is the engine's fault (fault_signal()) at exactly @addr. */
static inline void assert_fault_at(struct fault f, void *addr, const char *what)
{
	int want = fault_signal();

	cr_assert_eq(f.sig, want, "%s at %p: got signal %d (%s), expected %s (%s engine)", what,
		     addr, f.sig, f.sig ? strsignal(f.sig) : "no fault", strsignal(want),
		     engine_label());
	cr_assert_eq(f.addr, addr, "%s: si_addr %p, expected %p", what, f.addr, addr);
}

static inline void assert_no_fault(struct fault f, void *addr, const char *what)
{
	cr_assert_eq(f.sig, 0, "%s at %p raised %s (si_addr %p)", what, addr,
		     f.sig ? strsignal(f.sig) : "", f.addr);
}

/* Unmapped, write-protected and PROT_NONE slots: every listed access faults. */
static inline void assert_read_faults(void *addr)
{
	assert_fault_at(probe_read(addr), addr, "read");
}

static inline void assert_write_faults(void *addr)
{
	assert_fault_at(probe_write(addr, 0x5a), addr, "write");
}

/*
 * For Criterion tests that expect to die of a signal (.signal = SIGSEGV or
 * SIGBUS): .init = default_fault_action puts the default action back, which
 * sanitizer runtimes replace with handlers of their own (ASan reports a
 * SIGSEGV and aborts).
 */
static inline void default_fault_action(void)
{
	signal(SIGBUS, SIG_DFL);
	signal(SIGSEGV, SIG_DFL);
}

/*
 * Runs @fn in a forked child and asserts that the child dies of the engine's
 * fault signal (fault_signal()). The child gets the default action for
 * SIGBUS and SIGSEGV (sanitizer runtimes install handlers) and no core
 * dump; @fn must not use Criterion's asserts: it _exit()s with a non-zero
 * code, after a message on stderr, when something else goes wrong.
 */
static inline void assert_child_dies_of_fault(void (*fn)(void))
{
	int want = fault_signal(), status;
	pid_t pid;

	fflush(NULL);
	pid = fork();
	cr_assert_neq(pid, -1, "fork: %s", strerror(errno));
	if (pid == 0) {
		struct rlimit none = {0, 0};

		setrlimit(RLIMIT_CORE, &none);
		signal(SIGBUS, SIG_DFL);
		signal(SIGSEGV, SIG_DFL);
		fn();
		fprintf(stderr, "the access did not fault\n");
		_exit(99);
	}
	cr_assert_eq(waitpid(pid, &status, 0), pid);
	cr_assert(WIFSIGNALED(status),
		  "child exited with %d instead of dying of %s (99: no fault; else see stderr)",
		  WEXITSTATUS(status), strsignal(want));
	cr_assert_eq(WTERMSIG(status), want, "child died of %s, expected %s (%s engine)",
		     strsignal(WTERMSIG(status)), strsignal(want), engine_label());
}

#endif /* AWE_TEST_HELPERS_FAULT_H */
