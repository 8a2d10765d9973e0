#pragma once

#include <cstdio>
#include <cstdlib>

// Our own bugs: a model that carries on after one shows the user a false picture,
// so this aborts in every build type.
#define VMALAB_ASSERT(cond, why)                                                                               \
    do {                                                                                                       \
        if (!(cond)) {                                                                                         \
            std::fprintf(stderr, "%s:%d: vmalab internal error: %s (%s)\n", __FILE__, __LINE__, #cond, why); \
            std::abort();                                                                                      \
        }                                                                                                      \
    } while (0)
