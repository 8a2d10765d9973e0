#include "core/scenario/calls.h"

#include <gtest/gtest.h>

namespace vmalab::scenario {
namespace {

TEST(Calls, ArityOfEveryCall)
{
    const std::pair<const char*, std::pair<int, int>> expected[] = {
        { "mmap", { 6, 6 } },
        { "munmap", { 2, 2 } },
        { "mprotect", { 3, 3 } },
        { "mremap", { 4, 5 } },
        { "madvise", { 3, 3 } },
        { "mlock", { 2, 2 } },
        { "mlock2", { 3, 3 } },
        { "munlock", { 2, 2 } },
        { "memfd_create", { 2, 2 } },
        { "ftruncate", { 2, 2 } },
        { "close", { 1, 1 } },
        { "open_file", { 2, 2 } },
        { "prctl", { 5, 5 } },
        { "userfaultfd", { 1, 1 } },
        { "uffdio_api", { 2, 2 } },
        { "uffdio_register", { 4, 4 } },
        { "uffdio_unregister", { 3, 3 } },
        { "uffdio_writeprotect", { 4, 4 } },
        { "fork", { 0, 0 } },
        { "touch", { 3, 3 } },
        { "brk", { 1, 1 } },
        { "observe", { 3, 3 } },
        { "open_mapped", { 5, 5 } },
        { "exec", { 1, 1 } },
        { "spawn", { 1, 1 } },
    };
    EXPECT_EQ(callTable().size(), std::size(expected));
    for (const auto& [name, arity] : expected) {
        const CallSpec* spec = findCall(name);
        ASSERT_NE(spec, nullptr) << name;
        EXPECT_EQ(spec->minArgs, arity.first) << name;
        EXPECT_EQ(spec->maxArgs, arity.second) << name;
    }
}

TEST(Calls, StringArguments)
{
    EXPECT_EQ(findCall("memfd_create")->argType(0), ArgType::String);
    EXPECT_EQ(findCall("memfd_create")->argType(1), ArgType::Number);
    EXPECT_EQ(findCall("open_file")->argType(0), ArgType::String);
    EXPECT_EQ(findCall("prctl")->argType(4), ArgType::StringOrNumber);
    EXPECT_EQ(findCall("prctl")->argType(2), ArgType::Number);
    EXPECT_EQ(findCall("mmap")->argType(0), ArgType::Number);
}

TEST(Calls, HandleReturningCalls)
{
    for (const CallSpec& spec : callTable()) {
        const bool handle = spec.name == "memfd_create" || spec.name == "open_file" || spec.name == "userfaultfd"
            || spec.name == "open_mapped";
        EXPECT_EQ(spec.returnsHandle, handle) << spec.name;
    }
}

TEST(Calls, UnknownCall)
{
    EXPECT_EQ(findCall("mmap2"), nullptr);
}

} // namespace
} // namespace vmalab::scenario
