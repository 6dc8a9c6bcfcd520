/* unit.h — a tiny test harness: each test file is one program that ends with
 * "<suite>: N passed, N failed" and exits non-zero on any failure. */
#ifndef EG_UNIT_H
#define EG_UNIT_H
#include <stdio.h>
#include <string.h>

static int unit_passed, unit_failed, unit_case_failed;

#define CHECK(cond) do { \
    if (!(cond)) { \
        fprintf(stderr, "  %s:%d: CHECK(%s) failed\n", __FILE__, __LINE__, #cond); \
        unit_case_failed = 1; \
    } } while (0)

#define CHECK_STR(a, b) do { \
    const char *a_ = (a), *b_ = (b); \
    if (!a_ || !b_ || strcmp(a_, b_) != 0) { \
        fprintf(stderr, "  %s:%d: \"%s\" != \"%s\"\n", __FILE__, __LINE__, a_ ? a_ : "(null)", b_ ? b_ : "(null)"); \
        unit_case_failed = 1; \
    } } while (0)

#define CHECK_INT(a, b) do { \
    long long a_ = (long long)(a), b_ = (long long)(b); \
    if (a_ != b_) { \
        fprintf(stderr, "  %s:%d: %s == %lld, expected %lld\n", __FILE__, __LINE__, #a, a_, b_); \
        unit_case_failed = 1; \
    } } while (0)

#define RUN(fn) do { \
    unit_case_failed = 0; fn(); \
    if (unit_case_failed) { unit_failed++; fprintf(stderr, "FAIL %s\n", #fn); } \
    else unit_passed++; } while (0)

#define UNIT_END(suite) do { \
    printf("%s: %d passed, %d failed\n", suite, unit_passed, unit_failed); \
    return unit_failed ? 1 : 0; } while (0)

#endif
