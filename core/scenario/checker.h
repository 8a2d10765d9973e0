#pragma once

#include "core/result.h"
#include "core/scenario/ast.h"

#include <string_view>
#include <unordered_map>

namespace vmalab::scenario {

// Where the parser saw the name of an `in` block or the string of a profile/require, so
// diagnostics about them point there rather than at the keyword (Stmt::loc).
using NameLocs = std::unordered_map<const Stmt*, SourceLoc>;

// The checks made before running, on a Scenario that parsed: names assigned before use,
// processes created before `in`, calls known with the right arguments, fork() bound to a
// name, profile/require placement. Also for Scenarios built or shrunk in code, which
// runScenario() checks again. Empty when all is well; otherwise sorted by position.
Diagnostics checkScenario(const Scenario& scenario, const NameLocs* nameLocs = nullptr);

// Sorts diagnostics by line, then column, keeping the order of equal positions.
void sortByPosition(Diagnostics& diagnostics);

// The features `require` accepts.
bool isKnownFeature(std::string_view feature);

// A name a scenario may not assign: a built-in constant (page_size, NULL, uapi names).
bool isBuiltinName(std::string_view name);

} // namespace vmalab::scenario
