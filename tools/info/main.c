// SPDX-License-Identifier: MIT
/*
 * awe-info - tell why libawe does or does not work on this machine, and how
 * much of it this process could have.
 *
 * It checks, independently of libawe, everything the library depends on
 * (userfaultfd, its features and whether its ioctls are allowed, the sysctls
 * and limits that matter), then asks libawe itself and moves one frame in and
 * out of a window. The facts libawe itself judges by (the engine it would
 * choose and why, whether frames are locked, CAP_IPC_LOCK, the lock limit
 * and room, the memory available, vm.max_map_count) come from awe_probe(),
 * asked before libawe starts, and so do the capacity and the verdict's
 * engine. The Win32 layer is asked for SeLockMemoryPrivilege through its own
 * API. info.h lists the files.
 *
 * Exit status: 0 when libawe works here, 1 when it does not (a bogus
 * AWE_ENGINE included), 2 on bad usage.
 */
#include <getopt.h>
#include <stdio.h>
#include <string.h>

#include <awe/version.h>

#include "info.h"

static void usage(FILE *f)
{
	fprintf(f, "usage: awe-info [--json] [--version] [--help]\n"
		   "Tell whether libawe works on this machine and why not, how much of frames and\n"
		   "windows this process could have, and whether the Win32 layer grants\n"
		   "SeLockMemoryPrivilege.\n"
		   "  --json     the same facts as one JSON object (see awe-info(1))\n"
		   "  --version  print the version and exit\n"
		   "  --help     print this and exit\n"
		   "Exit status: 0 when libawe works, 1 when it does not, 2 on bad usage.\n");
}

/* The version awe-info was built as (the project's, as every tool of it),
 * and the library's when another one was loaded. */
static void version(void)
{
	printf("awe-info (libawe) %s\n", AWE_VERSION);
	if (strcmp(awe_version(), AWE_VERSION) != 0)
		printf("libawe loaded: %s\n", awe_version());
}

int main(int argc, char **argv)
{
	static const struct option opts[] = {
		{"json", no_argument, NULL, 'j'},
		{"version", no_argument, NULL, 'V'},
		{"help", no_argument, NULL, 'h'},
		{0},
	};
	static struct probe p;
	char buf[512];
	bool json = false;
	int c;

	while ((c = getopt_long(argc, argv, "hV", opts, NULL)) != -1) {
		switch (c) {
		case 'j':
			json = true;
			break;
		case 'V':
			version();
			return 0;
		case 'h':
			usage(stdout);
			return 0;
		default:
			usage(stderr);
			return 2;
		}
	}
	if (optind < argc) {
		fprintf(stderr, "awe-info: unexpected argument '%s'\n", argv[optind]);
		usage(stderr);
		return 2;
	}
	info_probe_all(&p);
	/* A bogus AWE_ENGINE makes every libawe call fail: say so where it is
	 * seen even when stdout goes to a parser. */
	if (p.engine_env_bogus)
		fprintf(stderr, "awe-info: %s\n", info_engine_error(&p, buf, sizeof(buf)));
	if (json)
		info_print_json(&p);
	else
		info_print_text(&p);
	return info_works(&p) && !p.engine_env_bogus ? 0 : 1;
}
