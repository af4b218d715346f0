/* SPDX-License-Identifier: MIT */
/*
 * Reading /proc and /sys (sysfacts.h) with raw system calls: no descriptor
 * kept, errno never touched, no cancellation point, and every path under
 * the test suite's fake root when it sets one. Files are small and read
 * whole; numbers are parsed saturating.
 */
#include "sysfacts.h"

#include <fcntl.h>
#include <string.h>
#include <sys/syscall.h>

#include "linux_abi.h"

/* A v1 limit this high means none (the kernel shows ~2^63). */
#define V1_NO_LIMIT (1ull << 62)

/* --- raw reads ------------------------------------------------------------ */

#ifdef AWE_TEST_HOOKS
const char *awe__test_sysroot;

/* System call @nr (openat or faccessat) on @path under awe__test_sysroot:
 * out of line, so that only tests pay for the buffer on the stack. */
static __attribute__((noinline)) long rooted_call(long nr, const char *path, long arg)
{
	char buf[AWE__PATH_BUF];
	size_t a = strlen(awe__test_sysroot), b = strlen(path);

	if (a + b >= sizeof(buf))
		return -ENAMETOOLONG;
	memcpy(buf, awe__test_sysroot, a);
	memcpy(buf + a, path, b + 1);
	return awe__syscall3(nr, AT_FDCWD, (long)(uintptr_t)buf, arg);
}

#endif

long awe__path_call(long nr, const char *path, long arg)
{
#ifdef AWE_TEST_HOOKS
	if (awe__test_sysroot)
		return rooted_call(nr, path, arg);
#endif
	return awe__syscall3(nr, AT_FDCWD, (long)(uintptr_t)path, arg);
}

static int open_ro(const char *path)
{
	return (int)awe__path_call(SYS_openat, path, O_RDONLY | O_CLOEXEC);
}

/* Whether @path is missing: faccessat needs no descriptor. */
bool awe__path_missing(const char *path)
{
	return awe__path_call(SYS_faccessat, path, F_OK) == -ENOENT;
}

/* Read @fd until EOF or until @len bytes are in. */
static ssize_t read_upto(int fd, char *buf, size_t len)
{
	size_t got = 0;

	while (got < len) {
		long r = awe__syscall3(SYS_read, fd, (long)(uintptr_t)(buf + got),
				       (long)(len - got));

		if (r == -EINTR)
			continue;
		if (r < 0)
			return r;
		if (r == 0)
			break;
		got += (size_t)r;
	}
	return (ssize_t)got;
}

static void close_fd(int fd)
{
	/* Linux closes the descriptor even when close() reports an error. */
	awe__syscall3(SYS_close, fd, 0, 0);
}

ssize_t awe__read_file(const char *path, char *buf, size_t len)
{
	ssize_t n;
	int fd;

	if (len == 0)
		return -EINVAL;
	fd = open_ro(path);
	if (fd < 0)
		return fd;
	n = read_upto(fd, buf, len - 1);
	close_fd(fd);
	buf[n > 0 ? n : 0] = '\0';
	return n;
}

/* Call @fn on every line of @path, NUL-terminated without its newline, for
 * files that may be larger than any buffer (mountinfo). A line longer than
 * @len - 1 bytes is skipped. */
int awe__each_line(const char *path, char *buf, size_t len, void (*fn)(char *line))
{
	size_t have = 0;
	bool skipping = false, eof = false;
	int fd = open_ro(path);

	if (fd < 0)
		return fd;
	while (!eof) {
		ssize_t n = read_upto(fd, buf + have, len - 1 - have);
		char *s = buf, *nl;

		if (n < 0) {
			close_fd(fd);
			return (int)n;
		}
		eof = (size_t)n < len - 1 - have;
		have += (size_t)n;
		buf[have] = '\0';
		while ((nl = memchr(s, '\n', have - (size_t)(s - buf)))) {
			*nl = '\0';
			if (!skipping)
				fn(s);
			skipping = false;
			s = nl + 1;
		}
		if (eof && s < buf + have && !skipping)
			fn(s);
		if (s == buf) {
			skipping = true;
			have = 0;
		} else {
			have -= (size_t)(s - buf);
			memmove(buf, s, have);
		}
	}
	close_fd(fd);
	return 0;
}

/* --- parsers ---------------------------------------------------------------- */

static const char *skip_blanks(const char *s)
{
	while (*s == ' ' || *s == '\t')
		s++;
	return s;
}

/* The unsigned decimal number at @s (after blanks), saturating. */
static int parse_u64(const char *s, uint64_t *v)
{
	uint64_t n = 0;

	s = skip_blanks(s);
	if (*s < '0' || *s > '9')
		return -EINVAL;
	for (; *s >= '0' && *s <= '9'; s++) {
		unsigned int d = (unsigned int)(*s - '0');

		n = n > (UINT64_MAX - d) / 10 ? UINT64_MAX : n * 10 + d;
	}
	*v = n;
	return 0;
}

/* The number after "@key@sep" at the start of a line of @text. */
static int parse_field(const char *text, const char *key, char sep, uint64_t *v)
{
	size_t k = strlen(key);

	for (const char *s = text; s; s = strchr(s, '\n'), s = s ? s + 1 : NULL)
		if (strncmp(s, key, k) == 0 && s[k] == sep)
			return parse_u64(s + k + 1, v);
	return -ENOENT;
}

int awe__parse_kb(const char *text, const char *key, uint64_t *bytes)
{
	uint64_t kb;
	int r = parse_field(text, key, ':', &kb);

	if (!r)
		*bytes = kb > UINT64_MAX / 1024 ? UINT64_MAX : kb * 1024;
	return r;
}

int awe__read_u64(const char *path, uint64_t *v)
{
	char buf[64];
	ssize_t n = awe__read_file(path, buf, sizeof(buf));

	return n < 0 ? (int)n : parse_u64(buf, v);
}

int awe__read_kb(const char *path, const char *key, uint64_t *bytes)
{
	char buf[AWE__FILE_BUF];
	ssize_t n = awe__read_file(path, buf, sizeof(buf));

	return n < 0 ? (int)n : awe__parse_kb(buf, key, bytes);
}

int awe__read_key(const char *path, const char *key, uint64_t *v)
{
	char buf[AWE__FILE_BUF];
	ssize_t n = awe__read_file(path, buf, sizeof(buf));

	return n < 0 ? (int)n : parse_field(buf, key, ' ', v);
}

/* A cgroup limit: a number, or none (UINT64_MAX) for v2's "max" and v1's
 * ~2^63. */
int awe__read_limit(const char *path, uint64_t *v)
{
	char buf[64];
	ssize_t n = awe__read_file(path, buf, sizeof(buf));
	int r;

	if (n < 0)
		return (int)n;
	if (strncmp(skip_blanks(buf), "max", 3) == 0) {
		*v = UINT64_MAX;
		return 0;
	}
	r = parse_u64(buf, v);
	if (!r && *v >= V1_NO_LIMIT)
		*v = UINT64_MAX;
	return r;
}
