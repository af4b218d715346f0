/* SPDX-License-Identifier: MIT */
/*
 * Test helpers (included by helpers.h): readers of /proc. This process's
 * VMAs (/proc/self/maps), fields of /proc/self/status (VmLck), a number
 * from a /proc or /sys file, and libawe's descriptors (/proc/self/fd).
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
 * [lo, hi); all of them when hi is NULL.
 */
static inline long count_maps_in(const void *lo, const void *hi)
{
	FILE *fp = fopen("/proc/self/maps", "r");
	unsigned long start, end;
	char line[512];
	long n = 0;

	cr_assert_not_null(fp, "/proc/self/maps: %s", strerror(errno));
	while (fgets(line, sizeof(line), fp)) {
		/* Long lines (paths) arrive in pieces: count line starts only. */
		bool whole = strchr(line, '\n') != NULL;

		if (sscanf(line, "%lx-%lx", &start, &end) == 2 &&
		    (!hi || (start < (uintptr_t)hi && end > (uintptr_t)lo)))
			n++;
		while (!whole && fgets(line, sizeof(line), fp))
			whole = strchr(line, '\n') != NULL;
	}
	fclose(fp);
	return n;
}

static inline long count_maps(void)
{
	return count_maps_in(NULL, NULL);
}

/* A "Key:   N kB" field of /proc/self/status, or -1 when missing. */
static inline long status_kb(const char *key)
{
	FILE *fp = fopen("/proc/self/status", "r");
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

#endif /* AWE_TEST_HELPERS_PROC_H */
