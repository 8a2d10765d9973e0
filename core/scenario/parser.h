#pragma once

#include "core/result.h"
#include "core/scenario/ast.h"

#include <string>
#include <string_view>
#include <vector>

namespace vmalab::scenario {

// Parses and checks a scenario. On failure, every problem found (syntax, unknown names,
// arity, misplaced profile/require...; see docs/language.md) sorted by position; `file`
// names the scenario in each Diagnostic.
Result<Scenario> parseScenario(std::string_view text, const std::string& file);

// The reserved words, for highlighters: expect, in, profile, require.
const std::vector<std::string_view>& scenarioKeywords();

} // namespace vmalab::scenario
