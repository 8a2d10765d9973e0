#include "core/host/record_writer.h"
#include "core/host/strace_import.h"

#include <gtest/gtest.h>

#include <algorithm>

namespace vmalab::host {
namespace {

Recording import(const std::string& name)
{
    auto r = importStraceFile(std::string(RECORD_TEST_DATA) + "/" + name);
    EXPECT_TRUE(r.has_value()) << (r ? "" : r.error().front().format());
    return r ? *r : Recording {};
}

std::vector<RecordedEvent> calls(const Recording& r, const std::string& name)
{
    std::vector<RecordedEvent> out;
    std::copy_if(r.events.begin(), r.events.end(), std::back_inserter(out),
        [&](const RecordedEvent& e) { return e.kind == RecordedKind::Call && e.call == name; });
    return out;
}

// strace -f -o FILE: every line starts with the pid.
TEST(StraceImport, PidPrefixedLogWithFork)
{
    const Recording r = import("maps_and_forks.strace");
    EXPECT_EQ(r.mainPid, 16755);
    EXPECT_TRUE(r.startSnapshot.empty());
    const auto munmaps = calls(r, "munmap");
    ASSERT_EQ(munmaps.size(), 5u);
    EXPECT_EQ(munmaps[2].args[0], 0x7f3a01e77001u);
    EXPECT_EQ(munmaps[2].result, -22); // "-1 EINVAL (Invalid argument)"
    EXPECT_EQ(munmaps[3].pid, 16756); // in the child
    const auto fork = std::find_if(
        r.events.begin(), r.events.end(), [](const RecordedEvent& e) { return e.kind == RecordedKind::Fork; });
    ASSERT_NE(fork, r.events.end());
    EXPECT_EQ(fork->pid, 16755);
    EXPECT_EQ(fork->child, 16756);
    const auto mremaps = calls(r, "mremap");
    ASSERT_EQ(mremaps.size(), 1u);
    EXPECT_EQ(mremaps[0].args[3], 1u); // MREMAP_MAYMOVE
    EXPECT_EQ(mremaps[0].result, 0x7f3a0206f000);

    const std::string text = writeRecording(r);
    EXPECT_EQ(text.find("start_from"), std::string::npos) << text;
    EXPECT_NE(text.find("the starting state and the page states are unknown"), std::string::npos) << text;
    // Descriptor 3 maps ld.so.cache, then libc at a new address: two files, not one.
    EXPECT_NE(text.find("fd3_1 = open_mapped(\"fd 3\", \"00:00\", 0, 44987, O_RDONLY)"), std::string::npos) << text;
    EXPECT_NE(text.find("fd3_2 = open_mapped(\"fd 3\", \"00:00\", 0, 1974096, O_RDONLY)"), std::string::npos) << text;
    EXPECT_NE(text.find("MAP_PRIVATE|MAP_FIXED|MAP_DENYWRITE, fd3_2, 0x26000) -> 0x7f3a01eb0000"), std::string::npos)
        << text;
    EXPECT_NE(
        text.find("p16756 = fork() -> 16756\nin p16756 {\n  munmap(0x7f3a01e79000, 4096) -> 0\n"), std::string::npos)
        << text;
}

// strace -f to a terminal: [pid N] prefixes, none for the program itself, unfinished and
// resumed halves, strace's own messages glued into lines.
TEST(StraceImport, TerminalLogWithThreads)
{
    const Recording r = import("threads_terminal.strace");
    EXPECT_EQ(r.mainPid, 16760);
    for (const RecordedEvent& e : r.events) {
        EXPECT_EQ(e.pid, 16760) << "threads share the process's block: " << e.call << " of " << e.tid;
        EXPECT_NE(e.kind, RecordedKind::Fork);
    }
    const auto mprotects = calls(r, "mprotect");
    // Two thread stacks, two threads' mprotect (one resumed), and the loader's.
    ASSERT_GE(mprotects.size(), 4u);
    const auto resumed = std::find_if(mprotects.begin(), mprotects.end(),
        [](const RecordedEvent& e) { return e.tid == 16762 && e.args[0] == 0x7f81e15f9000; });
    ASSERT_NE(resumed, mprotects.end());
    EXPECT_EQ(resumed->args[2], 1u);
    EXPECT_EQ(resumed->result, 0);
    const auto mmaps = calls(r, "mmap");
    ASSERT_FALSE(mmaps.empty());
    EXPECT_EQ(mmaps.back().result, -12); // -1 ENOMEM
    const auto threadNotes = std::count_if(r.events.begin(), r.events.end(),
        [](const RecordedEvent& e) { return e.kind == RecordedKind::Note && e.text.find("thread") == 0; });
    EXPECT_EQ(threadNotes, 2);
}

TEST(StraceImport, BadArgumentsAreReportedWithLineAndColumn)
{
    auto r = importStrace("123 brk(NULL) = 0x1000\n123 mprotect(0x1000, 4096, PROT_BOGUS) = 0\n", "x.log");
    ASSERT_FALSE(r.has_value());
    EXPECT_EQ(r.error().front().format(), "x.log:2:28: error: unknown constant PROT_BOGUS");
}

TEST(StraceImport, TextThatIsNotStraceOutputIsRefused)
{
    auto r = importStrace("hello\nworld\n", "notes.txt");
    ASSERT_FALSE(r.has_value());
    EXPECT_NE(r.error().front().message.find("strace output"), std::string::npos);
}

} // namespace
} // namespace vmalab::host
