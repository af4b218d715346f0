/* SPDX-License-Identifier: MIT */
/*
 * When the Win32 layer's process token holds SeLockMemoryPrivilege
 * (token.c): written once here because awe-info words its reason with it.
 */
#ifndef AWE_W32_TOKEN_H
#define AWE_W32_TOKEN_H

/* The RLIMIT_MEMLOCK from which the process holds the privilege without
 * CAP_IPC_LOCK: one an administrator raised, well above the 8 MiB every
 * user gets. */
#define AWE__W32_HELD_MEMLOCK (64ull << 20)

#endif
