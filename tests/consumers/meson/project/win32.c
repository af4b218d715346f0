/* SPDX-License-Identifier: MIT */
/* The Win32 API through <awe/win32.h>, for the Meson consumer. */
#include <awe/win32.h>
#include <stdio.h>

int main(void)
{
	ULONG_PTR n = 0;

	if (!AllocateUserPhysicalPages(GetCurrentProcess(), &n, NULL)) {
		fprintf(stderr, "zero pages failed: %u\n", (unsigned)GetLastError());
		return 1;
	}
	printf("meson win32 consumer: large pages of %zu bytes\n", (size_t)GetLargePageMinimum());
	return 0;
}
