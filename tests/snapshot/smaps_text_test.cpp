#include "core/snapshot/smaps_text.h"

#include <gtest/gtest.h>

#include <string>

namespace vmalab::snapshot {
namespace {

// A maps line padded as the kernel pads it: the name starts at column 73.
std::string header(const std::string& range, const std::string& rest, const std::string& name)
{
    std::string line = range + " " + rest;
    if (!name.empty()) {
        line.resize(73, ' ');
        line += name;
    }
    return line + "\n";
}

std::string block(const std::string& range, const std::string& name, const std::string& flags = "rd wr mr mw me ac")
{
    return header(range, "rw-p 00000000 00:00 0", name) + "Size:                 16 kB\nRss:                   4 kB\n"
        + "THPeligible:    0\nVmFlags: " + flags + " \n";
}

TEST(SmapsText, KeepsEveryNameFormAsPrinted)
{
    const char* names[] = { "[heap]", "[stack]", "[vdso]", "[vvar]", "[vsyscall]", "[anon:my buffer]",
        "[anon_shmem:shared one]", "/memfd:x (deleted)", "/tmp/a file with spaces", "/tmp/new\\012line (deleted)",
        "  /tmp/leading blanks", "" };
    std::string text;
    Addr a = 0x10000;
    for (const char* n : names) {
        char range[64];
        std::snprintf(range, sizeof range, "%llx-%llx", (unsigned long long)a, (unsigned long long)(a + 0x4000));
        text += block(range, n);
        a += 0x10000;
    }
    auto vmas = parseSmapsText(text, "smaps");
    ASSERT_TRUE(vmas) << vmas.error().front().format();
    ASSERT_EQ(vmas->size(), std::size(names));
    for (std::size_t i = 0; i < std::size(names); ++i)
        EXPECT_EQ((*vmas)[i].vma.name, names[i]);
}

TEST(SmapsText, ParsesTheMapsLine)
{
    const std::string text = header("7f0000001000-7f0000003000", "r-xs 0001a000 fd:01 123456", "/usr/lib/libc.so.6")
        + "Size: 8 kB\nVmFlags: rd ex sh mr mw me ms\n";
    auto vmas = parseSmapsText(text, "smaps");
    ASSERT_TRUE(vmas);
    const ObservedVma& v = vmas->front().vma;
    EXPECT_EQ(v.start, 0x7f0000001000u);
    EXPECT_EQ(v.end, 0x7f0000003000u);
    EXPECT_EQ(v.perms, "r-xs");
    EXPECT_EQ(v.offset, 0x1a000u);
    EXPECT_EQ(v.devMajor, 0xfdu);
    EXPECT_EQ(v.devMinor, 1u);
    EXPECT_EQ(v.inode, 123456u);
}

TEST(SmapsText, KeepsUnknownFieldsAndTheirOrder)
{
    const std::string text = header("1000-2000", "rw-p 00000000 00:00 0", "")
        + "Size:                  4 kB\nFutureCounter:        12 kB\nTHPeligible:    1\nProtectionKey:         0\n"
        + "Rss:                   4 kB\nFutureText: some words here\nVmFlags: rd wr\n";
    auto vmas = parseSmapsText(text, "smaps");
    ASSERT_TRUE(vmas) << vmas.error().front().format();
    const SnapshotVma& s = vmas->front();
    ASSERT_EQ(s.vma.smapsKb.size(), 3u);
    EXPECT_EQ(s.vma.smapsKb[1], (std::pair<std::string, std::uint64_t> { "FutureCounter", 12 }));
    EXPECT_EQ(s.vma.kb("Rss"), 4u);
    ASSERT_EQ(s.textFields.size(), 3u);
    EXPECT_EQ(s.textFields[0], (TextField { "THPeligible", "1", 2 }));
    EXPECT_EQ(s.textFields[1], (TextField { "ProtectionKey", "0", 2 }));
    EXPECT_EQ(s.textFields[2], (TextField { "FutureText", "some words here", 3 }));
}

TEST(SmapsText, KeepsLongVmFlagsListsWithUnknownMnemonics)
{
    const std::string flags = "rd wr ex sh mr mw me ms gd pf gu uw lo io sr rr dc de ac nr ht sf ar wf dd sd mm hg nh "
                              "mg um ui sl xx yy";
    auto vmas = parseSmapsText(block("1000-5000", "", flags), "smaps");
    ASSERT_TRUE(vmas);
    const auto& f = vmas->front().vma.vmFlags;
    ASSERT_EQ(f.size(), 35u);
    EXPECT_EQ(f.front(), "rd");
    EXPECT_EQ(f[33], "xx");
    EXPECT_EQ(f.back(), "yy");
}

struct BadCase
{
    const char* name;
    std::string text;
    int line;
    const char* message;
};

class SmapsTextErrors : public ::testing::TestWithParam<BadCase>
{
};

TEST_P(SmapsTextErrors, ReportsTheLine)
{
    auto vmas = parseSmapsText(GetParam().text, "smaps");
    ASSERT_FALSE(vmas);
    const Diagnostic& d = vmas.error().front();
    EXPECT_EQ(d.file, "smaps");
    EXPECT_EQ(d.line, GetParam().line) << d.format();
    EXPECT_NE(d.message.find(GetParam().message), std::string::npos) << d.format();
}

const BadCase kBadCases[] = {
    { "cut_mid_line", block("1000-5000", "") + "7000-8000 rw-p 000", 6, "no newline" },
    { "cut_before_vmflags", block("1000-5000", "") + header("7000-8000", "rw-p 00000000 00:00 0", "") + "Size: 4 kB\n",
        8, "without a VmFlags line" },
    { "header_only", header("7000-8000", "rw-p 00000000 00:00 0", "[heap]"), 2, "without a VmFlags line" },
    { "garbage", block("1000-5000", "") + "this is not smaps\n", 6, "expected a maps line" },
    { "field_first", "Size: 4 kB\n", 1, "before the first maps line" },
    { "after_vmflags", block("1000-5000", "") + "Rss: 4 kB\n", 6, "after VmFlags" },
    { "unaligned", "1001-5000 rw-p 00000000 00:00 0\nVmFlags: rd\n", 1, "page aligned" },
    { "reversed", "5000-1000 rw-p 00000000 00:00 0\nVmFlags: rd\n", 1, "page aligned" },
    { "overlap", block("1000-5000", "") + block("4000-6000", ""), 6, "overlap" },
    { "bad_perms", "1000-2000 rw 00000000 00:00 0\nVmFlags: rd\n", 1, "permission" },
    { "bad_device", "1000-2000 rw-p 00000000 0000 0\nVmFlags: rd\n", 1, "MAJOR:MINOR" },
    { "address_overflow", "1ffffffffffffffff-2000 rw-p 00000000 00:00 0\nVmFlags: rd\n", 1, "START-END" },
    { "bad_inode", "1000-2000 rw-p 00000000 00:00 x\nVmFlags: rd\n", 1, "inode" },
};

INSTANTIATE_TEST_SUITE_P(Truncated, SmapsTextErrors, ::testing::ValuesIn(kBadCases),
    [](const auto& param) { return std::string(param.param.name); });

TEST(SmapsText, EmptyTextIsNoVmas)
{
    auto vmas = parseSmapsText("", "smaps");
    ASSERT_TRUE(vmas);
    EXPECT_TRUE(vmas->empty());
}

TEST(SmapsText, StopsAfterTwentyDiagnostics)
{
    std::string text;
    for (int i = 0; i < 50; ++i)
        text += "nonsense\n";
    auto vmas = parseSmapsText(text, "smaps");
    ASSERT_FALSE(vmas);
    EXPECT_EQ(vmas.error().size(), 20u);
}

struct NameCase
{
    const char* printed;
    NameKind kind;
    const char* text;
};

class ClassifyName : public ::testing::TestWithParam<NameCase>
{
};

TEST_P(ClassifyName, SaysWhatTheNameIs)
{
    const VmaName n = classifyName(GetParam().printed);
    EXPECT_EQ(n.kind, GetParam().kind);
    EXPECT_EQ(n.text, GetParam().text);
}

const NameCase kNames[] = {
    { "", NameKind::None, "" },
    { "/usr/lib/libc.so.6", NameKind::File, "/usr/lib/libc.so.6" },
    { "/tmp/with space", NameKind::File, "/tmp/with space" },
    { "/memfd:x (deleted)", NameKind::DeletedFile, "/memfd:x" },
    { "/tmp/a\\012b (deleted)", NameKind::DeletedFile, "/tmp/a\nb" },
    { "/dev/zero (deleted)", NameKind::DeletedFile, "/dev/zero" },
    { "[heap]", NameKind::Heap, "[heap]" },
    { "[stack]", NameKind::Stack, "[stack]" },
    { "[stack:1234]", NameKind::Stack, "[stack:1234]" },
    { "[vdso]", NameKind::Special, "[vdso]" },
    { "[vvar]", NameKind::Special, "[vvar]" },
    { "[vsyscall]", NameKind::Special, "[vsyscall]" },
    { "[anon:jit code]", NameKind::AnonNamed, "jit code" },
    { "[anon_shmem:ring]", NameKind::AnonShmemNamed, "ring" },
    { "[anon:]", NameKind::Special, "[anon:]" },
};

INSTANTIATE_TEST_SUITE_P(Forms, ClassifyName, ::testing::ValuesIn(kNames));

TEST(StatusText, ReadsKeyValuePairs)
{
    auto s = parseStatusText("Name:\tmy prog\nPid:\t42\nPPid:\t1\nUid:\t0\t0\t0\t0\n", "status");
    ASSERT_TRUE(s);
    ASSERT_EQ(s->size(), 4u);
    EXPECT_EQ((*s)[0], (std::pair<std::string, std::string> { "Name", "my prog" }));
    EXPECT_EQ((*s)[3].second, "0\t0\t0\t0");
    auto bad = parseStatusText("Name: x\nno colon here\n", "status");
    ASSERT_FALSE(bad);
    EXPECT_EQ(bad.error().front().line, 2);
}

} // namespace
} // namespace vmalab::snapshot
