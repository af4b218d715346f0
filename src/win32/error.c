/* SPDX-License-Identifier: MIT */
/*
 * The last error. Windows keeps it per thread; so does this file. Failures
 * also store it in errno because that is where .NET (SetLastError = true on
 * Unix) and Python's ctypes (use_errno) look for it.
 *
 * Also the checks that decide an error the same way in every call: user
 * memory, Server 2003's codes or Windows 10's, libawe's errors in Win32
 * terms, and the capture of extended parameters.
 */
#include <errno.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "uaddr.h"
#include "w32.h"

static __thread DWORD last_error;

void w32__set_error(DWORD code)
{
	last_error = code;
	errno = (int)code;
}

BOOL w32__fail(DWORD code)
{
	w32__set_error(code);
	return FALSE;
}

void *w32__fail_ptr(DWORD code)
{
	w32__set_error(code);
	return NULL;
}

DWORD GetLastError(void)
{
	return last_error;
}

void SetLastError(DWORD dwErrCode)
{
	last_error = dwErrCode;
}

static pthread_once_t uaddr_once = PTHREAD_ONCE_INIT;

bool w32__user_memory(const void *p, size_t n, size_t size)
{
	pthread_once(&uaddr_once, awe__uaddr_init);
	return awe__uaddr_array_ok(p, n, size);
}

static bool wrk_mode;
static pthread_once_t wrk_once = PTHREAD_ONCE_INIT;

static void read_mode(void)
{
	const char *v = getenv("LIBAWE_WIN32_ERRORS");

	wrk_mode = v && strcmp(v, "wrk") == 0;
}

bool w32__wrk(void)
{
	pthread_once(&wrk_once, read_mode);
	return wrk_mode;
}

DWORD w32__map_error(int err)
{
	switch (err < 0 ? -err : err) {
	case EINVAL:
	case EFAULT: /* a NULL address in a scatter list: in no region */
		return ERROR_INVALID_PARAMETER;
	case ENOENT:
		return ERROR_INVALID_ADDRESS;
	case EBUSY:
		/* Server 2003 said INVALID_PARAMETER_3; Windows 10 says
		 * CONFLICTING_ADDRESSES (the frame's map count is already > 1). */
		return w32__wrk() ? ERROR_INVALID_PARAMETER : ERROR_INVALID_ADDRESS;
	case EPERM:
		return ERROR_COMMITMENT_LIMIT;
	case ENOSYS:
	case EOPNOTSUPP:
		return ERROR_NOT_SUPPORTED;
	case EDEADLK: /* a signal handler calling in on a thread inside libawe */
		return ERROR_POSSIBLE_DEADLOCK;
	default: /* ENOMEM, EIO, EMFILE: the kernel is out of something */
		return ERROR_NO_SYSTEM_RESOURCES;
	}
}

_Static_assert(MemExtendedParameterInvalidType == 0 && MemSectionExtendedParameterInvalidType == 0,
	       "type 0 is invalid for both kinds of extended parameter");
_Static_assert(MemExtendedParameterMax <= 32 && MemSectionExtendedParameterMax <= 32,
	       "the types seen fit in an unsigned int");

DWORD w32__ext_params(const MEM_EXTENDED_PARAMETER *p, ULONG count, unsigned int max,
		      w32__ext_param_fn *fn, void *ctx)
{
	unsigned int seen = 0;

	if (!p && count)
		return ERROR_INVALID_PARAMETER;
	for (ULONG i = 0; i < count; i++) {
		unsigned int type = (unsigned int)p[i].Type;
		DWORD r;

		if (p[i].Reserved || type == 0 || type >= max || (seen & (1u << type)))
			return ERROR_INVALID_PARAMETER;
		seen |= 1u << type;
		r = fn(&p[i], ctx);
		if (r)
			return r;
	}
	return 0;
}
