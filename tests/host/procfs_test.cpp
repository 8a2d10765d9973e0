#include "core/host/procfs.h"

#include <gtest/gtest.h>

#include <cstdio>
#include <fcntl.h>
#include <string>
#include <sys/wait.h>
#include <unistd.h>

namespace vmalab::host {
namespace {

// A maps header padded as the kernel pads it: the name starts at 0-based column 73.
std::string header(const std::string& prefix, const std::string& name)
{
    std::string line = prefix + " ";
    if (!name.empty()) {
        if (line.size() < 73)
            line.resize(73, ' ');
        line += name;
    }
    return line + "\n";
}

std::string block(const std::string& prefix, const std::string& name, const std::string& flags = "rd wr mr mw me ac ")
{
    return header(prefix, name)
        + "Size:                  4 kB\nRss:                   4 kB\nAnonymous:             4 kB\n"
        + "Locked:                0 kB\nTHPeligible:           0\nVmFlags: " + flags + "\n";
}

TEST(ParseSmaps, KeepsEveryNameForm)
{
    const std::string text = block("00400000-00401000 r-xp 00001000 fe:00 247498", "/tmp/my file with  spaces.bin")
        + block("00401000-00402000 rw-s 00000000 00:01 1042", "/memfd:data (deleted)")
        + block("00402000-00403000 rw-p 00000000 00:00 0", "[anon:my name]")
        + block("00403000-00404000 rw-s 00000000 00:01 7", "[anon_shmem:shared]")
        + block("00404000-00405000 rw-p 00000000 00:00 0", "")
        + block("00405000-00406000 rw-p 00000000 00:00 0", "  leading blanks")
        + block("7ffe27d56000-7ffe27d77000 rw-p 00000000 00:00 0", "[stack]")
        + block("ffffffffff600000-ffffffffff601000 --xp 00000000 00:00 0", "[vsyscall]");
    auto vmas = parseSmaps(text, "fixture");
    ASSERT_TRUE(vmas) << vmas.error()[0].format();
    ASSERT_EQ(vmas->size(), 8u);
    const auto& v = *vmas;
    EXPECT_EQ(v[0].name, "/tmp/my file with  spaces.bin");
    EXPECT_EQ(v[0].start, 0x400000u);
    EXPECT_EQ(v[0].end, 0x401000u);
    EXPECT_EQ(v[0].perms, "r-xp");
    EXPECT_EQ(v[0].offset, 0x1000u);
    EXPECT_EQ(v[0].devMajor, 0xfeu);
    EXPECT_EQ(v[0].devMinor, 0u);
    EXPECT_EQ(v[0].inode, 247498u);
    EXPECT_EQ(v[1].name, "/memfd:data (deleted)");
    EXPECT_EQ(v[1].devMinor, 1u);
    EXPECT_EQ(v[2].name, "[anon:my name]");
    EXPECT_EQ(v[3].name, "[anon_shmem:shared]");
    EXPECT_EQ(v[4].name, "");
    EXPECT_EQ(v[5].name, "  leading blanks");
    EXPECT_EQ(v[6].name, "[stack]");
    EXPECT_EQ(v[7].start, 0xffffffffff600000u);
    EXPECT_EQ(v[7].name, "[vsyscall]");
}

TEST(ParseSmaps, UnpaddedHeaderStillGivesTheName)
{
    auto vmas = parseSmaps("1000-2000 rw-p 00000000 00:00 0 [heap]\nVmFlags: rd wr\n", "fixture");
    ASSERT_TRUE(vmas);
    EXPECT_EQ((*vmas)[0].name, "[heap]");
}

TEST(ParseSmaps, KeepsUnknownFieldsInOrderAndEveryFlag)
{
    const std::string text = header("1000-3000 rw-p 00000000 00:00 0", "")
        + "Size:                  8 kB\nFutureField:          12 kB\nRss:                   4 kB\n"
          "THPeligible:           1\nProtectionKey:         0\nLocked:                4 kB\n"
          "VmFlags: rd wr mr mw me lo ac gu zz xx yy \n";
    auto vmas = parseSmaps(text, "fixture");
    ASSERT_TRUE(vmas) << vmas.error()[0].format();
    const ObservedVma& v = (*vmas)[0];
    const std::vector<std::pair<std::string, std::uint64_t>> fields = { { "Size", 8 }, { "FutureField", 12 },
        { "Rss", 4 }, { "Locked", 4 } };
    EXPECT_EQ(v.smapsKb, fields);
    EXPECT_EQ(v.kb("FutureField"), 12u);
    const std::vector<std::string> flags = { "rd", "wr", "mr", "mw", "me", "lo", "ac", "gu", "zz", "xx", "yy" };
    EXPECT_EQ(v.vmFlags, flags);
}

TEST(ParseSmaps, EmptyTextHasNoVmas)
{
    auto vmas = parseSmaps("", "fixture");
    ASSERT_TRUE(vmas);
    EXPECT_TRUE(vmas->empty());
}

struct BadSmaps
{
    const char* name;
    const char* text;
    int line;
    int col;
    const char* words; // part of the message
};

const BadSmaps kBadSmaps[] = {
    { "cut_mid_line", "1000-2000 rw-p 00000000 00:00 0 \nSize:     4 kB\nRss:   ", 3, 8, "no newline" },
    { "cut_before_vmflags", "1000-2000 rw-p 00000000 00:00 0 \nSize:     4 kB\n", 3, 1, "no VmFlags" },
    { "bad_end_address", "1000-zz rw-p 00000000 00:00 0 \nVmFlags: rd\n", 1, 6, "end address" },
    { "bad_device", "1000-2000 rw-p 00000000 0000 0 \nVmFlags: rd\n", 1, 29, "MAJOR:MINOR" },
    { "field_first", "Size:     4 kB\n", 1, 1, "before the first VMA" },
    { "bad_unit", "1000-2000 rw-p 00000000 00:00 0 \nSize:     4 MB\nVmFlags: rd\n", 2, 12, "kB" },
    { "not_smaps", "1000-2000 rw-p 00000000 00:00 0 \nhello world\nVmFlags: rd\n", 2, 1, "Field:" },
    { "unaligned", "1001-2000 rw-p 00000000 00:00 0 \nVmFlags: rd\n", 1, 1, "page aligned" },
    { "out_of_order", "3000-4000 rw-p 00000000 00:00 0 \nVmFlags: rd\n1000-2000 rw-p 00000000 00:00 0 \nVmFlags: rd\n",
        3, 1, "out of order" },
};

class ParseBadSmaps : public ::testing::TestWithParam<BadSmaps>
{
};

TEST_P(ParseBadSmaps, GivesDiagnosticWithPosition)
{
    const BadSmaps& c = GetParam();
    auto vmas = parseSmaps(c.text, "bad.smaps");
    ASSERT_FALSE(vmas);
    const Diagnostic& d = vmas.error().front();
    EXPECT_EQ(d.file, "bad.smaps");
    EXPECT_EQ(d.line, c.line) << d.format();
    EXPECT_EQ(d.col, c.col) << d.format();
    EXPECT_NE(d.message.find(c.words), std::string::npos) << d.format();
}

INSTANTIATE_TEST_SUITE_P(Cases, ParseBadSmaps, ::testing::ValuesIn(kBadSmaps),
    [](const ::testing::TestParamInfo<BadSmaps>& c) { return std::string(c.param.name); });

// Runs as text, page numbers relative to the start: "0-2 present,uffd-wp;2-3 none".
std::string runsText(const std::vector<PageRun>& runs, Addr base)
{
    std::string out;
    for (const PageRun& r : runs) {
        out += (out.empty() ? "" : ";") + std::to_string((r.start - base) / pageSize) + "-"
            + std::to_string((r.end - base) / pageSize) + " " + pageStateName(r.state);
        if (r.uffdWp)
            out += ",uffd-wp";
        if (r.exclusive)
            out += ",excl";
        if (r.file)
            out += ",file";
    }
    return out;
}

constexpr std::uint64_t P = kPmPresent, S = kPmSwap, G = kPmGuard, W = kPmUffdWp, X = kPmExclusive, F = kPmFile;

struct RunCase
{
    const char* name;
    std::vector<std::uint64_t> entries;
    const char* runs;
};

const RunCase kRunCases[] = {
    { "empty", {}, "" },
    { "all_none", { 0, 0, 0 }, "0-3 none" },
    { "present_then_none", { P | 0x1234, P | 0x99, 0 }, "0-2 present;2-3 none" },
    { "guard_wins_over_swap", { S | G, S | G, S }, "0-2 guard;2-3 swap" },
    { "present_wins_over_everything", { P | S | G }, "0-1 present" },
    { "uffd_wp_marker_reads_swap", { S | W, S | W, 0 }, "0-2 swap,uffd-wp;2-3 none" },
    { "present_uffd_wp_splits", { P, P | W, P | W, P }, "0-1 present;1-3 present,uffd-wp;3-4 present" },
    { "exclusive_and_file_split", { P | X, P | X, P | F, P | F }, "0-2 present,excl;2-4 present,file" },
    { "pfn_bits_ignored", { P | 1, P | 2, P | 3 }, "0-3 present" },
};

class RunsFromEntries : public ::testing::TestWithParam<RunCase>
{
};

TEST_P(RunsFromEntries, MatchesTable)
{
    const RunCase& c = GetParam();
    const Addr base = 0x7f0000000000;
    EXPECT_EQ(runsText(runsFromEntries(base, c.entries.data(), c.entries.size()), base), c.runs);
}

INSTANTIATE_TEST_SUITE_P(Bits, RunsFromEntries, ::testing::ValuesIn(kRunCases),
    [](const ::testing::TestParamInfo<RunCase>& c) { return std::string(c.param.name); });

// A pagemap stand-in: a sparse file with entries at the offsets pagemap uses.
TEST(PageRunsFromPagemap, SplitsAtVmaBoundariesAndFillsMissingPagesWithNone)
{
    char path[] = "/tmp/vmalab-pagemap-XXXXXX";
    const int fd = ::mkstemp(path);
    ASSERT_GE(fd, 0);
    ::unlink(path);
    const std::uint64_t entries[6] = { P, P, P, P, G, 0 }; // pages 0x10..0x15
    ASSERT_EQ(::pwrite(fd, entries, sizeof entries, 0x10 * 8), ssize_t(sizeof entries));
    std::vector<ObservedVma> vmas(3);
    vmas[0].start = 0x10000, vmas[0].end = 0x12000;
    vmas[1].start = 0x12000, vmas[1].end = 0x16000;
    vmas[2].start = 0x20000, vmas[2].end = 0x22000; // beyond the end of the file
    const auto runs = pageRunsFromPagemap(vmas, fd);
    ::close(fd);
    EXPECT_EQ(runsText(runs, 0x10000), "0-2 present;2-4 present;4-5 guard;5-6 none;16-18 none");
}

TEST(ReadProcess, FindsOwnStackAndCoversEveryPage)
{
    volatile char local = 1;
    auto p = readProcess(::getpid());
    ASSERT_TRUE(p) << p.error()[0].format();
    EXPECT_EQ(p->pid, ::getpid());
    const Addr here = reinterpret_cast<Addr>(&local);
    bool sawStack = false;
    std::size_t run = 0;
    for (const ObservedVma& v : p->vmas) {
        if (v.name == "[stack]") {
            sawStack = true;
            EXPECT_TRUE(v.start <= here && here < v.end);
        }
        // The runs of this VMA tile it exactly.
        Addr next = v.start;
        while (run < p->pages.size() && p->pages[run].start < v.end) {
            EXPECT_EQ(p->pages[run].start, next);
            next = p->pages[run].end;
            if (p->pages[run].start <= here && here < p->pages[run].end) {
                EXPECT_EQ(p->pages[run].state, PageState::Present);
            }
            ++run;
        }
        EXPECT_EQ(next, v.end) << std::hex << v.start << " " << v.name;
    }
    EXPECT_TRUE(sawStack);
    EXPECT_EQ(run, p->pages.size());
    (void)local;
}

TEST(ReadProcess, VanishedPidIsAnError)
{
    const pid_t child = ::fork();
    ASSERT_GE(child, 0);
    if (child == 0)
        ::_exit(0);
    ASSERT_EQ(::waitpid(child, nullptr, 0), child);
    auto p = readProcess(child);
    ASSERT_FALSE(p);
    EXPECT_NE(p.error()[0].message.find("process " + std::to_string(child) + " no longer exists"), std::string::npos)
        << p.error()[0].format();
}

TEST(ReadProcess, PermissionDeniedSaysWhatWouldAllowIt)
{
    if (::geteuid() != 0)
        GTEST_SKIP() << "needs root to drop to another user";
    const pid_t child = ::fork();
    ASSERT_GE(child, 0);
    if (child == 0) {
        // As nobody, read init's address space (root's).
        if (::setgid(65534) != 0 || ::setuid(65534) != 0)
            ::_exit(3);
        auto p = readProcess(1);
        if (p)
            ::_exit(2);
        ::_exit(p.error()[0].message.find("CAP_SYS_PTRACE") != std::string::npos ? 0 : 1);
    }
    int status = 0;
    ASSERT_EQ(::waitpid(child, &status, 0), child);
    ASSERT_TRUE(WIFEXITED(status));
    EXPECT_EQ(WEXITSTATUS(status), 0) << "1: wrong message, 2: read succeeded, 3: setuid failed";
}

} // namespace
} // namespace vmalab::host
