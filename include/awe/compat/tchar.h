/* SPDX-License-Identifier: MIT */
/*
 * <tchar.h> for Windows programs built with libawe-win32's compat headers:
 * the generic-text names mapped to the char functions of the C library
 * (ANSI builds only, see windows.h beside this file).
 *
 * The _s ("secure") variants are not mapped: their semantics differ from
 * anything in the C library of Linux, and a silent approximation would hide
 * the difference.
 */
#ifndef AWE_COMPAT_TCHAR_H
#define AWE_COMPAT_TCHAR_H

#if defined(UNICODE) || defined(_UNICODE)
#error "libawe-win32 supports ANSI builds only: undefine UNICODE and _UNICODE (see <windows.h> of awe/compat)."
#endif

#include <ctype.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#define _tmain main

#define __T(x) x
#define _T(x) __T(x)
#define _TEXT(x) __T(x)

typedef char _TCHAR;
typedef signed char _TSCHAR;
typedef unsigned char _TUCHAR;
typedef char _TXCHAR;
typedef int _TINT;
#define _TEOF EOF

/* Formatted I/O */
#define _tprintf printf
#define _ftprintf fprintf
#define _stprintf sprintf
#define _sntprintf snprintf
#define _vtprintf vprintf
#define _vftprintf vfprintf
#define _vstprintf vsprintf
#define _vsntprintf vsnprintf
#define _tscanf scanf
#define _ftscanf fscanf
#define _stscanf sscanf

/* Character and line I/O */
#define _fgettc fgetc
#define _gettc getc
#define _gettchar getchar
#define _fgetts fgets
#define _fputtc fputc
#define _puttc putc
#define _puttchar putchar
#define _fputts fputs
#define _ungettc ungetc

/* Files, environment, processes */
#define _tfopen fopen
#define _tfreopen freopen
#define _tremove remove
#define _trename rename
#define _tgetenv getenv
#define _tsystem system
#define _tperror perror

/* Strings */
#define _tcslen strlen
#define _tcsnlen strnlen
#define _tcscpy strcpy
#define _tcsncpy strncpy
#define _tcscat strcat
#define _tcsncat strncat
#define _tcscmp strcmp
#define _tcsncmp strncmp
#define _tcsicmp strcasecmp
#define _tcsnicmp strncasecmp
#define _tcscoll strcoll
#define _tcschr strchr
#define _tcsrchr strrchr
#define _tcsstr strstr
#define _tcsspn strspn
#define _tcscspn strcspn
#define _tcspbrk strpbrk
#define _tcstok strtok
#define _tcsdup strdup
#define _tcserror strerror
#define _tcsftime strftime

/* Conversions */
#define _ttoi atoi
#define _tstoi atoi
#define _ttol atol
#define _tstol atol
#define _ttoi64 atoll
#define _tstoi64 atoll
#define _ttof atof
#define _tstof atof
#define _tcstol strtol
#define _tcstoul strtoul
#define _tcstoi64 strtoll
#define _tcstoui64 strtoull
#define _tcstod strtod

/* Character classes */
#define _istalnum isalnum
#define _istalpha isalpha
#define _istdigit isdigit
#define _istxdigit isxdigit
#define _istspace isspace
#define _istupper isupper
#define _istlower islower
#define _istprint isprint
#define _istpunct ispunct
#define _istcntrl iscntrl
#define _totupper toupper
#define _totlower tolower

#endif /* AWE_COMPAT_TCHAR_H */
