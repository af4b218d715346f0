// SPDX-License-Identifier: MIT
// A C++ consumer of the installed headers: both APIs in one translation unit
// (awe.h and awe/win32.h are extern "C"), C++17, every warning an error.
#include <awe.h>
#include <awe/win32.h>

#include <cstdio>
#include <cstring>
#include <string>

int main()
{
	if (std::string(awe_version()) != AWE_VERSION) {
		std::fprintf(stderr, "c++ consumer: headers %s, library %s\n", AWE_VERSION,
			     awe_version());
		return 1;
	}
	SYSTEM_INFO si;
	GetSystemInfo(&si);
	if (si.dwPageSize != awe_page_size()) {
		std::fprintf(stderr, "c++ consumer: page sizes differ\n");
		return 1;
	}
	ULONG_PTR n = 0;
	if (!AllocateUserPhysicalPages(GetCurrentProcess(), &n, nullptr)) {
		std::fprintf(stderr, "c++ consumer: zero pages failed: %u\n",
			     static_cast<unsigned>(GetLastError()));
		return 1;
	}
	std::printf("c++ consumer: libawe %s, page size %zu, %s\n", awe_version(),
		    awe_page_size(), awe_strerror(-22));
	return 0;
}
