#pragma once

#include <string_view>
#include <vector>

namespace vmalab::scenario {

// What an argument position of a call takes.
enum class ArgType
{
    Number,
    String,
    StringOrNumber, // prctl's name: a string, or NULL to clear the name as the kernel allows
};

// One call of the language (the contract's call table, plus brk).
struct CallSpec
{
    std::string_view name;
    int minArgs = 0;
    int maxArgs = 0;
    // Bit i set: argument i is a string; in stringOrNumberArgs: either is accepted.
    unsigned stringArgs = 0;
    unsigned stringOrNumberArgs = 0;
    bool returnsHandle = false; // the value is an fd (VarKind::Handle)

    ArgType argType(int index) const;
};

// Every call, in the contract's order.
const std::vector<CallSpec>& callTable();

// The call named `name`, nullptr when there is none.
const CallSpec* findCall(std::string_view name);

} // namespace vmalab::scenario
