#include "core/scenario/parser.h"

#include <gtest/gtest.h>

#include "scenario_test_util.h"

namespace vmalab::scenario {
namespace {

using test::parseOk;
using test::sexpr;
using SK = Stmt::Kind;

TEST(Parser, ContractExample)
{
    const Scenario s = parseOk(test::kContractExample);
    EXPECT_EQ(s.file, "t.vlab");
    ASSERT_EQ(s.stmts.size(), 10u);
    EXPECT_EQ(s.stmts[0].kind, SK::Assign);
    EXPECT_EQ(s.stmts[0].name, "arena_len");
    EXPECT_EQ(s.stmts[0].narration, "Guard regions survive fork and keep their VMA mergeable.");
    EXPECT_EQ(s.stmts[0].loc.line, 2);
    EXPECT_EQ(s.stmts[0].loc.col, 1);
    EXPECT_EQ(s.stmts[1].narration, "");
    EXPECT_EQ(sexpr(*s.stmts[1].expr),
        "(mmap NULL arena_len PROT_NONE (| (| MAP_PRIVATE MAP_ANONYMOUS) MAP_NORESERVE) (- 1) 0)");
    EXPECT_EQ(s.stmts[3].kind, SK::Call);
    EXPECT_EQ(s.stmts[3].expr->text, "touch");
    EXPECT_EQ(s.stmts[4].kind, SK::Expect);
    EXPECT_TRUE(s.stmts[4].expectEqual);
    EXPECT_EQ(s.stmts[4].lhsText, "madvise(ptr + 2 * page_size, 2 * page_size, MADV_GUARD_INSTALL)");
    EXPECT_EQ(s.stmts[4].rhsText, "0");
    EXPECT_EQ(s.stmts[6].kind, SK::Assign);
    EXPECT_EQ(s.stmts[6].expr->text, "fork");
    const Stmt& in = s.stmts[7];
    EXPECT_EQ(in.kind, SK::In);
    EXPECT_EQ(in.name, "child");
    EXPECT_EQ(in.loc.line, 9);
    ASSERT_EQ(in.body.size(), 2u);
    EXPECT_EQ(in.body[0].kind, SK::Expect);
    EXPECT_EQ(in.body[0].loc.line, 10);
    EXPECT_EQ(in.body[0].loc.col, 5);
    EXPECT_EQ(in.body[1].rhsText, "0");
}

TEST(Parser, CallArgumentsSpanLines)
{
    const Scenario s = parseOk("p = mmap(NULL,\n"
                               "         4 * page_size,   // length\n"
                               "         PROT_READ | (PROT_WRITE\n"
                               "           | PROT_EXEC),\n"
                               "         MAP_PRIVATE | MAP_ANONYMOUS, -1, 0)\n"
                               "munmap(p, page_size)\n");
    ASSERT_EQ(s.stmts.size(), 2u);
    EXPECT_EQ(s.stmts[0].expr->args.size(), 6u);
    EXPECT_EQ(sexpr(*s.stmts[0].expr->args[2]), "(| PROT_READ (| PROT_WRITE PROT_EXEC))");
    EXPECT_EQ(s.stmts[1].loc.line, 6);
}

TEST(Parser, ParenthesisedExpressionSpansLines)
{
    const Scenario s = parseOk("x = (1 +\n 2)\nexpect (x\n) == 3\n");
    ASSERT_EQ(s.stmts.size(), 2u);
    EXPECT_EQ(sexpr(*s.stmts[0].expr), "(+ 1 2)");
    EXPECT_EQ(s.stmts[1].lhsText, "(x\n)");
}

TEST(Parser, SemicolonsSeparateAndEnd)
{
    const Scenario s = parseOk("a = 1; b = 2;\n;c = a + b;;\n");
    ASSERT_EQ(s.stmts.size(), 3u);
    EXPECT_EQ(s.stmts[1].name, "b");
    EXPECT_EQ(s.stmts[1].loc.col, 8);
    EXPECT_EQ(s.stmts[2].loc.line, 2);
    EXPECT_EQ(s.stmts[2].loc.col, 2);
}

TEST(Parser, OneLineAndNestedInBlocks)
{
    const Scenario s = parseOk("p = 4096\n"
                               "c = fork()\n"
                               "in c { touch(p, page_size, PROT_WRITE) }\n"
                               "in c { g = fork(); in g { touch(p, 1, PROT_READ); touch(p, 1, PROT_READ) } }\n"
                               "in c\n{\n  in main {\n    munmap(p, 1)\n  }\n}\n"
                               "in c {}\n");
    ASSERT_EQ(s.stmts.size(), 6u);
    EXPECT_EQ(s.stmts[2].body.size(), 1u);
    const Stmt& nested = s.stmts[3];
    ASSERT_EQ(nested.body.size(), 2u);
    EXPECT_EQ(nested.body[1].kind, SK::In);
    EXPECT_EQ(nested.body[1].name, "g");
    EXPECT_EQ(nested.body[1].body.size(), 2u);
    ASSERT_EQ(s.stmts[4].body.size(), 1u);
    EXPECT_EQ(s.stmts[4].body[0].name, "main");
    EXPECT_EQ(s.stmts[4].body[0].body[0].loc.line, 8);
    EXPECT_TRUE(s.stmts[5].body.empty());
}

TEST(Parser, NarrationAttachesToTheNextStatement)
{
    const Scenario s = parseOk("/// First line.\n"
                               "// not narration\n"
                               "/// Second line.\n"
                               "\n"
                               "a = 1\n"
                               "c = fork()\n"
                               "/// The child writes.\n"
                               "in c {\n"
                               "    /// Inside.\n"
                               "    touch(a, 1, PROT_WRITE) /// trailing narration goes to the next\n"
                               "}\n"
                               "b = 2\n"
                               "/// dropped: nothing follows\n");
    ASSERT_EQ(s.stmts.size(), 4u);
    EXPECT_EQ(s.stmts[0].narration, "First line.\nSecond line.");
    EXPECT_EQ(s.stmts[1].narration, "");
    EXPECT_EQ(s.stmts[2].narration, "The child writes.");
    EXPECT_EQ(s.stmts[2].body[0].narration, "Inside.");
    EXPECT_EQ(s.stmts[3].narration, "");
}

TEST(Parser, LiteralsAndStrings)
{
    const Scenario s = parseOk("a = 2M + 0x10 + 1K\n"
                               "fd = memfd_create(\"da\\\"ta\\n\", MFD_CLOEXEC)\n"
                               "prctl(PR_SET_VMA, PR_SET_VMA_ANON_NAME, a, 1, NULL)\n");
    EXPECT_EQ(sexpr(*s.stmts[0].expr), "(+ (+ 2097152 16) 1024)");
    EXPECT_EQ(s.stmts[1].expr->args[0]->kind, Expr::Kind::String);
    EXPECT_EQ(s.stmts[1].expr->args[0]->text, "da\"ta\n");
}

TEST(Parser, ProfileAndRequire)
{
    const Scenario s =
        parseOk("// comment first is fine\nprofile \"v6.18\"\nrequire \"thp\"; require \"swap\"\na = 1\n");
    ASSERT_EQ(s.stmts.size(), 4u);
    EXPECT_EQ(s.stmts[0].kind, SK::Profile);
    EXPECT_EQ(s.stmts[0].name, "v6.18");
    EXPECT_EQ(s.stmts[1].kind, SK::Require);
    EXPECT_EQ(s.stmts[2].name, "swap");
}

struct PrecedenceCase
{
    const char* expr;
    const char* tree;
};

const PrecedenceCase kPrecedence[] = {
    { "1 + 2 * 3", "(+ 1 (* 2 3))" },
    { "1 * 2 + 3", "(+ (* 1 2) 3)" },
    { "10 - 4 - 3", "(- (- 10 4) 3)" },
    { "8 / 4 / 2", "(/ (/ 8 4) 2)" },
    { "7 % 4 * 2", "(* (% 7 4) 2)" },
    { "1 << 2 + 3", "(<< 1 (+ 2 3))" },
    { "1 + 2 << 3", "(<< (+ 1 2) 3)" },
    { "1 << 2 >> 3", "(>> (<< 1 2) 3)" },
    { "1 & 2 << 3", "(& 1 (<< 2 3))" },
    { "1 ^ 2 & 3", "(^ 1 (& 2 3))" },
    { "1 | 2 ^ 3", "(| 1 (^ 2 3))" },
    { "1 & 2 | 3 ^ 4", "(| (& 1 2) (^ 3 4))" },
    { "-1 * 2", "(* (- 1) 2)" },
    { "~1 & 2", "(& (~ 1) 2)" },
    { "- -1", "(- (- 1))" },
    { "+1 - -2", "(- (+ 1) (- 2))" },
    { "~(1 | 2)", "(~ (| 1 2))" },
    { "(1 + 2) * 3", "(* (+ 1 2) 3)" },
    { "2 * (3 + 4) % 5", "(% (* 2 (+ 3 4)) 5)" },
};

class Precedence : public ::testing::TestWithParam<PrecedenceCase>
{
};

TEST_P(Precedence, FollowsC)
{
    const Scenario s = parseOk(std::string("x = ") + GetParam().expr + "\n");
    ASSERT_EQ(s.stmts.size(), 1u);
    EXPECT_EQ(sexpr(*s.stmts[0].expr), GetParam().tree);
}

INSTANTIATE_TEST_SUITE_P(Table, Precedence, ::testing::ValuesIn(kPrecedence));

TEST(Parser, ExpectComparisonBindsLoosest)
{
    const Scenario s = parseOk("a = 3\nm = 1\nexpect a & m == 0\nexpect   a | 1  !=  m << 1   // why\n");
    const Stmt& e1 = s.stmts[2];
    EXPECT_EQ(sexpr(*e1.expr), "(& a m)");
    EXPECT_EQ(sexpr(*e1.rhs), "0");
    EXPECT_EQ(e1.lhsText, "a & m");
    EXPECT_EQ(e1.rhsText, "0");
    EXPECT_TRUE(e1.expectEqual);
    const Stmt& e2 = s.stmts[3];
    EXPECT_FALSE(e2.expectEqual);
    EXPECT_EQ(sexpr(*e2.rhs), "(<< m 1)");
    EXPECT_EQ(e2.lhsText, "a | 1");
    EXPECT_EQ(e2.rhsText, "m << 1");
}

TEST(Parser, OperatorLocations)
{
    const Scenario s = parseOk("x = 1 +  2 / 0\n");
    const Expr& plus = *s.stmts[0].expr;
    EXPECT_EQ(plus.loc.col, 7);
    EXPECT_EQ(plus.args[1]->loc.col, 12);
    EXPECT_EQ(plus.args[1]->args[1]->loc.col, 14);
}

} // namespace
} // namespace vmalab::scenario

namespace vmalab::scenario {
namespace {

TEST(Parser, DeepNestingIsRefusedNotOverflowed)
{
    const std::string deepParens = "x = " + std::string(100000, '(') + "1" + std::string(100000, ')') + "\n";
    EXPECT_EQ(
        test::parseErrors(deepParens), "t.vlab:1:205: error: expression nested too deeply (more than 200 levels)\n");
    const std::string deepUnary = "x = " + std::string(100000, '-') + "1\n";
    EXPECT_EQ(
        test::parseErrors(deepUnary), "t.vlab:1:205: error: expression nested too deeply (more than 200 levels)\n");
    const std::string fine = "x = " + std::string(50, '(') + "-~1" + std::string(50, ')') + "\n";
    EXPECT_EQ(test::parseErrors(fine), "(no diagnostics)");
}

TEST(Parser, Keywords)
{
    EXPECT_EQ(scenarioKeywords().size(), 6u); // with start_from and recorded_end (recordings)
}

} // namespace
} // namespace vmalab::scenario
