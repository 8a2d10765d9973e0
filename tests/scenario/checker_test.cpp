#include "core/scenario/checker.h"

#include <gtest/gtest.h>

#include "scenario_test_util.h"

namespace vmalab::scenario {
namespace {

using test::parseErrors;

struct DiagCase
{
    const char* name;
    const char* source;
    const char* diagnostics; // every one, formatted, one a line
};

const DiagCase kDiagnostics[] = {
    // syntax
    { "expression_missing", "a = 1 +\n", "t.vlab:1:8: error: expected an expression, found end of line\n" },
    { "paren_unclosed", "a = (1 + 2\nb = 3\n", "t.vlab:2:1: error: expected ')' to close '(', found 'b'\n" },
    { "call_comma_missing", "munmap(1 2)\n",
        "t.vlab:1:10: error: expected ',' or ')' in the arguments of 'munmap', found a number\n" },
    { "not_a_statement", "a = 1\na + 1\n",
        "t.vlab:2:1: error: expected a statement (a call, 'NAME = ...', 'expect', 'in', 'profile' or 'require')\n" },
    { "compare_outside_expect", "a = 1 == 1\n", "t.vlab:1:7: error: '==' compares only in 'expect' statements\n" },
    { "expect_without_compare", "expect 1\n",
        "t.vlab:1:9: error: expected '==' or '!=' in 'expect', found end of line\n" },
    { "expect_chained", "expect 1 == 1 != 0\n",
        "t.vlab:1:15: error: 'expect' compares once; write a second 'expect' for another comparison\n" },
    { "junk_after_statement", "a = 1 2\n", "t.vlab:1:7: error: expected end of statement, found a number\n" },
    { "in_brace_unclosed", "c = fork()\nin c {\n  a = 1\n", "t.vlab:2:6: error: '{' of 'in c' is never closed\n" },
    { "in_brace_missing", "c = fork()\nin c touch(1, 1, 1)\n",
        "t.vlab:2:6: error: expected '{' after 'in c', found 'touch'\n" },
    { "in_name_missing", "in 5 {}\n", "t.vlab:1:4: error: expected a process name after 'in', found a number\n" },
    { "stray_brace", "a = 1\n  }\n", "t.vlab:2:3: error: '}' without a matching 'in NAME {'\n" },
    { "profile_needs_string", "profile v6\n", "t.vlab:1:9: error: expected a string after 'profile', found 'v6'\n" },
    { "lexer_error", "a = 1\nb = 08\n",
        "t.vlab:2:5: error: octal literals are not supported: write decimal or 0x hex\n" },
    { "literal_overflow", "a = 0x1_0\nb = 99999999999999999999\n",
        "t.vlab:1:5: error: invalid suffix '_0' on integer literal (K, M and G are allowed)\n"
        "t.vlab:2:5: error: integer literal is too large (the largest is 2^64 - 1)\n" },
    // names
    { "unknown_name", "a = foo + 1\n", "t.vlab:1:5: error: unknown name 'foo'\n" },
    { "main_is_no_value", "a = main\n", "t.vlab:1:5: error: unknown name 'main'\n" },
    { "used_before_assigned", "a = b\nb = 1\n", "t.vlab:1:5: error: 'b' is used before any statement assigns it\n" },
    { "self_reference", "a = a + 1\n", "t.vlab:1:5: error: 'a' is used before any statement assigns it\n" },
    { "in_unknown_process", "in kid { }\n",
        "t.vlab:1:4: error: no process named 'kid' exists here; create it first with 'kid = fork()'\n" },
    { "in_before_fork", "main = 1\n  in   c { }\nc = fork()\n",
        "t.vlab:1:1: error: cannot assign to 'main': it names the first process\n"
        "t.vlab:2:8: error: no process named 'c' exists here; create it first with 'c = fork()'\n" },
    { "assign_builtin", "PROT_READ = 3\n",
        "t.vlab:1:1: error: cannot assign to 'PROT_READ': it is a built-in constant\n" },
    { "assign_process", "c = fork()\nc = 1\n",
        "t.vlab:2:1: error: cannot assign to 'c': it already names a process\n" },
    // calls
    { "arity", "munmap(1)\nclose(1, 2)\nmremap(1, 2, 3)\nx = fork(1)\n",
        "t.vlab:1:1: error: 'munmap' takes 2 arguments, not 1\n"
        "t.vlab:2:1: error: 'close' takes 1 argument, not 2\n"
        "t.vlab:3:1: error: 'mremap' takes 4 or 5 arguments, not 3\n"
        "t.vlab:4:5: error: 'fork' takes 0 arguments, not 1\n" },
    { "unknown_call", "x = 1 + mmapp(1)\n", "t.vlab:1:9: error: unknown call 'mmapp'\n" },
    { "string_for_number", "munmap(\"a\", 1)\n",
        "t.vlab:1:8: error: argument 1 of 'munmap' must be a number, not a string\n" },
    { "number_for_string", "fd = memfd_create(1 + 2, 0)\n",
        "t.vlab:1:19: error: argument 1 of 'memfd_create' must be a string\n" },
    { "string_in_expression", "a = \"x\"\n",
        "t.vlab:1:5: error: a string can only be a call's name argument (memfd_create, open_file, prctl)\n" },
    { "fork_unbound", "fork()\n", "t.vlab:1:1: error: fork() must be bound to a name, as in 'child = fork()'\n" },
    { "fork_in_expression", "c = fork() + 1\nexpect 0 == fork()\n",
        "t.vlab:1:5: error: fork() must be bound to a name, as in 'child = fork()'\n"
        "t.vlab:2:13: error: fork() must be bound to a name, as in 'child = fork()'\n" },
    // profile and require
    { "profile_not_first", "a = 1\nprofile \"v6.18\"\n", "t.vlab:2:1: error: 'profile' must be the first statement\n" },
    { "profile_after_require", "require \"thp\"\nprofile \"v6.18\"\n",
        "t.vlab:2:1: error: 'profile' must be the first statement\n" },
    { "profile_in_block", "in main { profile \"x\" }\n",
        "t.vlab:1:11: error: 'profile' must be the first statement\n" },
    { "require_not_at_top", "a = 1\nrequire \"thp\"\n",
        "t.vlab:2:1: error: 'require' must come before every statement but 'profile' and other 'require's\n" },
    { "require_unknown_feature", "require   \"hugetlb\"\n",
        "t.vlab:1:11: error: unknown feature 'hugetlb' (known: userfaultfd, guard-regions, thp, swap, anon-vma-name, "
        "soft-dirty)\n" },
};

class DiagnosticCase : public ::testing::TestWithParam<DiagCase>
{
};

TEST_P(DiagnosticCase, ExactLineAndColumn)
{
    EXPECT_EQ(parseErrors(GetParam().source), GetParam().diagnostics);
}

INSTANTIATE_TEST_SUITE_P(Kinds, DiagnosticCase, ::testing::ValuesIn(kDiagnostics),
    [](const auto& caseInfo) { return std::string(caseInfo.param.name); });

TEST(Checker, ReportsEveryProblemInOrder)
{
    const char* source = "profile \"v6.18\"\n"
                         "require \"thp\"\n"
                         "p = mmap(NULL, page_size, PROT_READ,\n"
                         "         MAP_PRIVATE | MAP_ANONYMOUS, -1)\n" // 5 args
                         "q = p + + \n" // syntax; q stays assigned
                         "munmap(q, zz)\n" // unknown name
                         "in child { touch(p, 1, PROT_READ) }\n" // no such process
                         "child = fork()\n"
                         "in child {\n"
                         "    x = 1 $ 2\n" // lexer error
                         "    require \"swap\"\n"
                         "}\n"
                         "expect q == 1 }\n"; // stray brace
    EXPECT_EQ(parseErrors(source),
        "t.vlab:3:5: error: 'mmap' takes 6 arguments, not 5\n"
        "t.vlab:5:11: error: expected an expression, found end of line\n"
        "t.vlab:6:11: error: unknown name 'zz'\n"
        "t.vlab:7:4: error: no process named 'child' exists here; create it first with "
        "'child = fork()'\n"
        "t.vlab:10:11: error: unexpected character '$'\n"
        "t.vlab:11:5: error: 'require' must come before every statement but 'profile' "
        "and other 'require's\n"
        "t.vlab:13:15: error: '}' without a matching 'in NAME {'\n");
}

TEST(Checker, BrokenMultiLineCallDoesNotCascade)
{
    const char* source = "p = mmap(NULL, page_size, PROT_READ %,\n"
                         "         MAP_PRIVATE, -1, 0)\n"
                         "munmap(p, page_size)\n";
    EXPECT_EQ(parseErrors(source), "t.vlab:1:38: error: expected an expression, found ','\n");
}

TEST(Checker, ValidScenarioHasNoDiagnostics)
{
    const Scenario s = test::parseOk(test::kContractExample);
    EXPECT_TRUE(checkScenario(s).empty());
}

TEST(Checker, ScenarioEditedInCodeIsCheckedToo)
{
    Scenario s = test::parseOk("c = fork()\nin c {\n  a = 1\n}\nexpect a == 1\n");
    s.stmts.erase(s.stmts.begin()); // a shrinker dropped the fork
    const Diagnostics d = checkScenario(s);
    ASSERT_EQ(d.size(), 1u);
    EXPECT_EQ(d[0].format(), "t.vlab:2:1: error: no process named 'c' exists here; create it first with 'c = fork()'");
}

TEST(Checker, KnownFeaturesAndBuiltins)
{
    for (const char* f : { "userfaultfd", "guard-regions", "thp", "swap", "anon-vma-name", "soft-dirty" })
        EXPECT_TRUE(isKnownFeature(f)) << f;
    EXPECT_FALSE(isKnownFeature("ksm"));
    EXPECT_TRUE(isBuiltinName("page_size"));
    EXPECT_TRUE(isBuiltinName("MADV_GUARD_INSTALL"));
    EXPECT_FALSE(isBuiltinName("arena"));
}

} // namespace
} // namespace vmalab::scenario
