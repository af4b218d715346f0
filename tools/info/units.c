// SPDX-License-Identifier: MIT
/*
 * Sizes and error numbers in words, for every part of awe-info's report
 * (the text, the verdict, the privilege's reason): the bottom of awe-info,
 * using nothing of it.
 */
#include <stdio.h>
#include <string.h>

#include "info.h"

/* A limit in bytes: RLIM_INFINITY and libawe's UINT64_MAX are unlimited. */
void fmt_limit(uint64_t v, char *buf, size_t len)
{
	if (v == (uint64_t)RLIM_INFINITY || v == UINT64_MAX)
		snprintf(buf, len, "unlimited");
	else if (v >= 1024 * 1024 && v % (1024 * 1024) == 0)
		snprintf(buf, len, "%llu MiB", (unsigned long long)v / (1024 * 1024));
	else if (v >= 1024 && v % 1024 == 0)
		snprintf(buf, len, "%llu KiB", (unsigned long long)v / 1024);
	else
		snprintf(buf, len, "%llu bytes", (unsigned long long)v);
}

/* Memory that moves anyway, rounded to a tenth. */
void fmt_size(uint64_t v, char *buf, size_t len)
{
	if (v >= (1ull << 30))
		snprintf(buf, len, "%.1f GiB", (double)v / (1ull << 30));
	else if (v >= (1ull << 20))
		snprintf(buf, len, "%.1f MiB", (double)v / (1ull << 20));
	else
		snprintf(buf, len, "%llu KiB", (unsigned long long)v >> 10);
}

/* An errno value's name ("ENOMEM"), for reports. */
const char *errno_text(int e)
{
	const char *name = strerrorname_np(e);

	return name ? name : "?";
}
