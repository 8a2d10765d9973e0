#include "core/report/window.h"

#include "core/scenario/outcome.h"

namespace vmalab::report {

const scenario::VarRecord* findVar(const scenario::RunOutcome& run, const std::string& name)
{
    for (const auto& var : run.vars)
        if (var.name == name)
            return &var;
    return nullptr;
}

Result<Window> findWindow(const scenario::RunOutcome& run)
{
    const scenario::VarRecord* arena = findVar(run, "arena");
    const scenario::VarRecord* arenaLen = findVar(run, "arena_len");
    if (!arena || !arenaLen)
        return Diagnostic { "", 0, 0, "no arena/arena_len: check needs a window" };
    if (isErrorValue(arena->value))
        return Diagnostic { "", 0, 0,
            "arena is " + std::to_string(arena->value) + ": the window could not be reserved" };
    if (arenaLen->value <= 0)
        return Diagnostic { "", 0, 0, "arena_len is " + std::to_string(arenaLen->value) + ": the window is empty" };
    return Window { static_cast<Addr>(arena->value), static_cast<Addr>(arenaLen->value) };
}

} // namespace vmalab::report
