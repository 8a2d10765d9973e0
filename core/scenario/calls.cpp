#include "core/scenario/calls.h"

namespace vmalab::scenario {

ArgType CallSpec::argType(int index) const
{
    const unsigned bitOf = 1u << index;
    if (stringOrNumberArgs & bitOf)
        return ArgType::StringOrNumber;
    return (stringArgs & bitOf) ? ArgType::String : ArgType::Number;
}

const std::vector<CallSpec>& callTable()
{
    // name, min args, max args, string args, string-or-number args, returns a handle
    static const std::vector<CallSpec> table = {
        { "mmap", 6, 6, 0, 0, false },
        { "munmap", 2, 2, 0, 0, false },
        { "mprotect", 3, 3, 0, 0, false },
        { "mremap", 4, 5, 0, 0, false },
        { "madvise", 3, 3, 0, 0, false },
        { "mlock", 2, 2, 0, 0, false },
        { "mlock2", 3, 3, 0, 0, false },
        { "munlock", 2, 2, 0, 0, false },
        { "memfd_create", 2, 2, 1u << 0, 0, true },
        { "ftruncate", 2, 2, 0, 0, false },
        { "close", 1, 1, 0, 0, false },
        { "open_file", 2, 2, 1u << 0, 0, true },
        { "prctl", 5, 5, 0, 1u << 4, false },
        { "userfaultfd", 1, 1, 0, 0, true },
        { "uffdio_api", 2, 2, 0, 0, false },
        { "uffdio_register", 4, 4, 0, 0, false },
        { "uffdio_unregister", 3, 3, 0, 0, false },
        { "uffdio_writeprotect", 4, 4, 0, 0, false },
        { "fork", 0, 0, 0, 0, false },
        { "touch", 3, 3, 0, 0, false },
        { "brk", 1, 1, 0, 0, false },
        // Recordings (docs/recording.md).
        { "observe", 3, 3, 1u << 2, 0, false },
        { "open_mapped", 5, 5, (1u << 0) | (1u << 1), 0, true },
        { "exec", 1, 1, 1u << 0, 0, false },
        { "spawn", 1, 1, 1u << 0, 0, false },
    };
    return table;
}

const CallSpec* findCall(std::string_view name)
{
    for (const CallSpec& spec : callTable()) {
        if (spec.name == name)
            return &spec;
    }
    return nullptr;
}

} // namespace vmalab::scenario
