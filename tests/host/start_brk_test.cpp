// start_brk from /proc/PID/stat (field 47), for snapshots.

#include "core/host/procfs.h"

#include <gtest/gtest.h>

#include <unistd.h>

namespace vmalab::host {
namespace {

TEST(StartBrk, Field47AfterACommWithSpacesAndParentheses)
{
    std::string stat = "4242 (a (b) c) S";
    for (int field = 4; field <= 52; ++field)
        stat += " " + std::to_string(field == 47 ? 93824992235520 : field);
    stat += "\n";
    EXPECT_EQ(parseStartBrk(stat), 93824992235520u);
}

TEST(StartBrk, TooFewFields)
{
    EXPECT_FALSE(parseStartBrk("1 (x) S 1 2 3"));
    EXPECT_FALSE(parseStartBrk("no parenthesis"));
}

TEST(StartBrk, OwnProcessHasOne)
{
    EXPECT_NE(readStartBrk(::getpid()), 0u);
}

} // namespace
} // namespace vmalab::host
