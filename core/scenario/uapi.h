#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace vmalab::scenario {

// The scenario language's built-in constants: page_size, NULL and the uapi names with their
// values on Linux 6.18, x86-64. We keep our own table because the build host's kernel headers
// (Debian 12) predate several of them (MADV_GUARD_INSTALL, MAP_DROPPABLE, UFFD_FEATURE_MOVE...).

// The value of a built-in name, nullopt when `name` is not one.
std::optional<std::int64_t> uapiConstant(std::string_view name);

// Every built-in name with its value, grouped by family (PROT_, MAP_, MADV_, ...). Aliases
// (MAP_ANON, EWOULDBLOCK, ENOTSUP, EDEADLOCK) follow the name they alias.
const std::vector<std::pair<std::string_view, std::int64_t>>& uapiTable();

// "-EINVAL" for -22 and other known negative errnos; otherwise the decimal number.
std::string errnoName(std::int64_t negErrno);

} // namespace vmalab::scenario
