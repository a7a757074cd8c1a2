// CHECK(cond) for the in-guest test programs: on failure print "FAILED line N: cond (errno E
// text)" and exit 1, so that the integration test sees both the line and the status.
#pragma once

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define CHECK(cond)                                                                     \
    do {                                                                                \
        if (!(cond)) {                                                                  \
            int check_errno_ = errno;                                                   \
            printf("FAILED line %d: %s (errno %d %s)\n", __LINE__, #cond, check_errno_, \
                   strerror(check_errno_));                                             \
            fflush(stdout);                                                             \
            exit(1);                                                                    \
        }                                                                               \
    } while (0)
