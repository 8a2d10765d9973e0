#include "core/scenario/printer.h"

#include <gtest/gtest.h>

#include "scenario_test_util.h"

namespace vmalab::scenario {
namespace {

using test::parseOk;

// parse -> print -> parse gives the same scenario: compared through the printed text, and the
// second print is a fixed point.
void expectRoundTrip(const std::string& source)
{
    const Scenario first = parseOk(source);
    const std::string printed = printScenario(first);
    const Scenario second = parseOk(printed);
    EXPECT_EQ(printScenario(second), printed) << "source:\n" << source;
    ASSERT_EQ(first.stmts.size(), second.stmts.size());
    for (std::size_t i = 0; i < first.stmts.size(); ++i) {
        EXPECT_EQ(first.stmts[i].narration, second.stmts[i].narration);
        if (first.stmts[i].expr && second.stmts[i].expr) {
            EXPECT_EQ(test::sexpr(*first.stmts[i].expr), test::sexpr(*second.stmts[i].expr));
        }
    }
}

TEST(Printer, ContractExampleRoundTrips)
{
    expectRoundTrip(test::kContractExample);
}

TEST(Printer, TrickyFormsRoundTrip)
{
    expectRoundTrip("profile \"maybe-guard\"\nrequire \"userfaultfd\"\n"
                    "/// Two lines\n///\n/// of narration.\n"
                    "a = 10 - (4 - 3) - 2; b = (1 << 2) << 3 | ~(a & 0xf0) ^ -(-a)\n"
                    "c = 8 / (4 / 2) % 3 * (2 + 1)\n"
                    "big = 0xffffffffffffffff + 9223372036854775808 + 2G\n"
                    "fd = memfd_create(\"we\\\"ird\\\\name\\n\", MFD_CLOEXEC)\n"
                    "k = fork()\n"
                    "in k { in main { expect a & b == 0 }\n"
                    "  /// inside\n  prctl(PR_SET_VMA, PR_SET_VMA_ANON_NAME, a, 1, NULL) }\n"
                    "expect mremap(a,\n 1, 2, MREMAP_MAYMOVE) != -EINVAL\n");
}

TEST(Printer, CanonicalText)
{
    const Scenario s = parseOk("/// Map it.\n"
                               "p=mmap(NULL,2*page_size,PROT_READ|PROT_WRITE,MAP_PRIVATE|MAP_ANONYMOUS,-1,0)\n"
                               "x = (p - 1) - (p - 1) + 8192 * (1 + 2)\n"
                               "c = fork(); in c { touch(p, 4096, PROT_WRITE) }\n"
                               "expect  x==0\n");
    EXPECT_EQ(printScenario(s),
        "/// Map it.\n"
        "p = mmap(NULL, 2 * page_size, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0)\n"
        "x = p - 1 - (p - 1) + 0x2000 * (1 + 2)\n"
        "c = fork()\n"
        "in c {\n"
        "    touch(p, 0x1000, PROT_WRITE)\n"
        "}\n"
        "expect x == 0\n");
}

} // namespace
} // namespace vmalab::scenario
