#pragma once

#include <chrono>
#include <cstdint>
#include <fstream>

namespace vmalab::bench {

// The process's resident set, from /proc/self/statm.
inline std::uint64_t rssBytes()
{
    std::ifstream statm("/proc/self/statm");
    std::uint64_t size = 0, resident = 0;
    statm >> size >> resident;
    return resident * 4096;
}

inline double seconds(std::chrono::steady_clock::time_point a, std::chrono::steady_clock::time_point b)
{
    return std::chrono::duration<double>(b - a).count();
}

} // namespace vmalab::bench
