#pragma once

#include "core/scenario/backend.h"

#include <cstdint>
#include <string>
#include <vector>

namespace vmalab {

// A call as a person writes it: "mmap(0x7ffff7a10000, 0x6000, PROT_READ | PROT_WRITE,
// MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED, -1, 0)", with the uapi names of protections,
// map flags, madvise advice and mremap/mlock flags.
std::string formatCall(const std::string& name, const std::vector<scenario::Value>& args);

// A syscall result: "-EINVAL" for errors, hex otherwise.
std::string formatResult(std::int64_t value);

} // namespace vmalab
