#pragma once

#include "core/scenario/ast.h"

#include <string>

namespace vmalab::scenario {

// Canonical source text of a scenario: one statement a line, `in` blocks indented by four
// spaces, narration as `///` lines, the fewest parentheses C precedence needs, numbers below
// 4096 in decimal and the rest in hex. Parsing it gives back an equivalent Scenario (used to
// write out shrunk scenarios).
std::string printScenario(const Scenario& scenario);

// One expression, as printScenario() writes it.
std::string printExpr(const Expr& expr);

} // namespace vmalab::scenario
