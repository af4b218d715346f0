/* SPDX-License-Identifier: MIT */
/*
 * Test helpers (included by helpers.h): readers of /proc. This process's
 * VMAs (/proc/self/maps), "Key: N kB" fields (VmLck of /proc/self/status,
 * /proc/meminfo), a number from a /proc or /sys file, and this process's
 * descriptors, libawe's among them (/proc/self/fd).
 */
#ifndef AWE_TEST_HELPERS_PROC_H
#define AWE_TEST_HELPERS_PROC_H

#include <criterion/criterion.h>

#include <dirent.h>
#include <errno.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/*
 * Number of VMAs of this process (lines of /proc/self/maps) that overlap
 * [lo, hi), all of them when hi is NULL; their total size in *@bytes when
 * @bytes is not NULL.
 */
static inline long scan_maps(const void *lo, const void *hi, uint64_t *bytes)
{
	FILE *fp = fopen("/proc/self/maps", "r");
	unsigned long start, end;
	char line[512];
	long n = 0;

	cr_assert_not_null(fp, "/proc/self/maps: %s", strerror(errno));
	if (bytes)
		*bytes = 0;
	while (fgets(line, sizeof(line), fp)) {
		/* Long lines (paths) arrive in pieces: count line starts only. */
		bool whole = strchr(line, '\n') != NULL;

		if (sscanf(line, "%lx-%lx", &start, &end) == 2 &&
		    (!hi || (start < (uintptr_t)hi && end > (uintptr_t)lo))) {
			n++;
			if (bytes)
				*bytes += end - start;
		}
		while (!whole && fgets(line, sizeof(line), fp))
			whole = strchr(line, '\n') != NULL;
	}
	fclose(fp);
	return n;
}

static inline long count_maps_in(const void *lo, const void *hi)
{
	return scan_maps(lo, hi, NULL);
}

static inline long count_maps(void)
{
	return scan_maps(NULL, NULL, NULL);
}

/* Bytes of address space this process has mapped, all VMAs together. */
static inline uint64_t mapped_bytes(void)
{
	uint64_t bytes;

	scan_maps(NULL, NULL, &bytes);
	return bytes;
}

/* A "Key:   N kB" field of @path, or -1 when missing. */
static inline long proc_kb(const char *path, const char *key)
{
	FILE *fp = fopen(path, "r");
	size_t klen = strlen(key);
	char line[256];
	long kb = -1;

	if (!fp)
		return -1;
	while (fgets(line, sizeof(line), fp)) {
		if (!strncmp(line, key, klen) && line[klen] == ':') {
			kb = strtol(line + klen + 1, NULL, 10);
			break;
		}
	}
	fclose(fp);
	return kb;
}

/* A "Key:   N kB" field of /proc/self/status, or -1 when missing. */
static inline long status_kb(const char *key)
{
	return proc_kb("/proc/self/status", key);
}

static inline long vmlck_kb(void)
{
	return status_kb("VmLck");
}

/* The number a /proc or /sys file starts with; fails the test without one. */
static inline uint64_t proc_u64(const char *path)
{
	FILE *fp = fopen(path, "r");
	unsigned long long v = 0;

	cr_assert_not_null(fp, "%s: %s", path, strerror(errno));
	cr_assert_eq(fscanf(fp, "%llu", &v), 1, "%s holds no number", path);
	fclose(fp);
	return v;
}

/*
 * Descriptors of this process that are libawe's (its frame stores, memfds
 * named libawe, and its userfaultfd), each reported on stderr; how many, -1
 * without /proc. For fork children, before they call libawe: they must
 * have none of their parent's.
 */
static inline int libawe_fds(void)
{
	char path[300], target[256];
	struct dirent *d;
	DIR *dir = opendir("/proc/self/fd");
	int found = 0;

	if (!dir)
		return -1;
	while ((d = readdir(dir))) {
		ssize_t n;

		snprintf(path, sizeof(path), "/proc/self/fd/%s", d->d_name);
		n = readlink(path, target, sizeof(target) - 1);
		if (n <= 0)
			continue;
		target[n] = 0;
		if (strstr(target, "memfd:libawe") || strstr(target, "userfaultfd")) {
			fprintf(stderr, "descriptor %s is libawe's: %s\n", d->d_name, target);
			found++;
		}
	}
	closedir(dir);
	return found;
}

/* Open descriptors of this process whose target contains @what (all with
 * NULL), or -1 when /proc/self/fd cannot be read. No Criterion asserts: for
 * children too. */
static inline int count_fds_of(const char *what)
{
	DIR *d = opendir("/proc/self/fd");
	struct dirent *de;
	int n = 0;

	if (!d)
		return -1;
	while ((de = readdir(d))) {
		char path[sizeof("/proc/self/fd/") + sizeof(de->d_name)], target[256];
		ssize_t len;

		if (de->d_name[0] == '.' || atoi(de->d_name) == dirfd(d))
			continue;
		snprintf(path, sizeof(path), "/proc/self/fd/%s", de->d_name);
		len = readlink(path, target, sizeof(target) - 1);
		if (len < 0)
			continue;
		target[len] = '\0';
		n += !what || strstr(target, what);
	}
	closedir(d);
	return n;
}

static inline int count_fds(void)
{
	return count_fds_of(NULL);
}

#endif /* AWE_TEST_HELPERS_PROC_H */
