#pragma once

#include "core/scenario/ast.h"
#include "core/scenario/parser.h"

#include <gtest/gtest.h>

#include <string>

namespace vmalab::scenario::test {

// The example of the contract (docs/scenario-language.md).
inline constexpr const char* kContractExample = R"(/// Guard regions survive fork and keep their VMA mergeable.
arena_len = 512 * page_size
arena = mmap(NULL, arena_len, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0)
ptr = mmap(arena + 8 * page_size, 10 * page_size, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED, -1, 0)
touch(ptr, 10 * page_size, PROT_WRITE)
expect madvise(ptr + 2 * page_size, 2 * page_size, MADV_GUARD_INSTALL) == 0
expect touch(ptr + 2 * page_size, page_size, PROT_READ) == SIGSEGV
child = fork()
in child {
    expect touch(ptr + 3 * page_size, page_size, PROT_WRITE) == SIGSEGV
    expect touch(ptr + 4 * page_size, page_size, PROT_WRITE) == 0
}
mprotect(ptr + 5 * page_size, page_size, PROT_READ)
mprotect(ptr + 5 * page_size, page_size, PROT_READ | PROT_WRITE)
)";

// Parses text that must be valid; fails the test with the diagnostics otherwise.
inline Scenario parseOk(const std::string& text)
{
    Result<Scenario> r = parseScenario(text, "t.vlab");
    if (!r) {
        std::string all;
        for (const Diagnostic& d : r.error())
            all += d.format() + "\n";
        ADD_FAILURE() << "unexpected diagnostics:\n" << all << "in:\n" << text;
        return Scenario {};
    }
    return std::move(*r);
}

// Every diagnostic, formatted, one a line.
inline std::string parseErrors(const std::string& text)
{
    Result<Scenario> r = parseScenario(text, "t.vlab");
    if (r)
        return "(no diagnostics)";
    std::string all;
    for (const Diagnostic& d : r.error())
        all += d.format() + "\n";
    return all;
}

// An expression fully parenthesised in prefix form: "(+ 1 (* 2 3))".
inline std::string sexpr(const Expr& e)
{
    switch (e.kind) {
    case Expr::Kind::Number:
        return std::to_string(e.value);
    case Expr::Kind::String:
        return "\"" + e.text + "\"";
    case Expr::Kind::Name:
        return e.text;
    case Expr::Kind::Unary:
        return "(" + e.op + " " + sexpr(*e.args[0]) + ")";
    case Expr::Kind::Binary:
        return "(" + e.op + " " + sexpr(*e.args[0]) + " " + sexpr(*e.args[1]) + ")";
    case Expr::Kind::Call: {
        std::string out = "(" + e.text;
        for (const ExprPtr& a : e.args)
            out += " " + sexpr(*a);
        return out + ")";
    }
    }
    return "?";
}

} // namespace vmalab::scenario::test
