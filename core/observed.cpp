#include "core/observed.h"

namespace vmalab {

const char* pageStateName(PageState s)
{
    switch (s) {
    case PageState::None:
        return "none";
    case PageState::Present:
        return "present";
    case PageState::Swap:
        return "swap";
    case PageState::Guard:
        return "guard";
    }
    return "?";
}

std::uint64_t ObservedVma::kb(const std::string& field) const
{
    for (const auto& [label, value] : smapsKb)
        if (label == field)
            return value;
    return 0;
}

} // namespace vmalab
