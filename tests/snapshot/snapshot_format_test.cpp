#include "core/snapshot/smaps_text.h"
#include "core/snapshot/snapshot_format.h"

#include <gtest/gtest.h>

#include "tests/snapshot/snapshot_test_util.h"

namespace vmalab::snapshot {
namespace {

using namespace testing;

Snapshot richSnapshot()
{
    Snapshot s = oneProcess({ makeVma(0x1000, 0x5000, "rw-p", "[heap]"),
                                makeVma(0x7000, 0x9000, "r--s", "/tmp/a\\012b c (deleted)", "rd sh mr me ms xx") },
        { { 0x1000, 0x3000, PageState::Present }, { 0x4000, 0x5000, PageState::Guard } });
    s.realtimeNs = 1234567890123;
    s.monotonicNs = 99;
    s.frozen = true;
    s.pagemapMethod = "PAGEMAP_SCAN";
    s.kpageflags = true;
    s.notes = { "a note" };
    s.host.sysname = "Linux";
    s.host.release = "6.18.44";
    s.host.behaviour = "maybe-guard-fixed";
    s.host.config.thp = MachineConfig::Thp::Always;
    s.host.config.swap = true;
    s.host.config.maxMapCount = 100000;
    s.host.notes = { "probe note" };
    SnapshotProcess& p = s.processes.front();
    p.ppid = 1;
    p.status = { { "Name", "test" }, { "State", "S (sleeping)" } };
    p.vmas[1].vma.devMajor = 0xfd;
    p.vmas[1].vma.devMinor = 1;
    p.vmas[1].vma.inode = 77;
    p.vmas[1].vma.offset = 0x3000;
    p.vmas[1].textFields = { { "THPeligible", "0", 1 }, { "Future", "x y", 3 } };
    p.pages[0].run.uffdWp = true;
    p.pages[0].run.file = true;
    p.pages[0].kpageflags = 0x1800;
    p.vmas.push_back(makeVma(0xffffffffff600000, 0xffffffffff601000, "--xp", "[vsyscall]"));
    p.pages.push_back({ PageRun { 0xffffffffff600000, 0xffffffffff601000, PageState::None, false, false, false }, 0 });
    return s;
}

void expectSame(const Snapshot& a, const Snapshot& b)
{
    EXPECT_EQ(a.realtimeNs, b.realtimeNs);
    EXPECT_EQ(a.monotonicNs, b.monotonicNs);
    EXPECT_EQ(a.frozen, b.frozen);
    EXPECT_EQ(a.pagemapMethod, b.pagemapMethod);
    EXPECT_EQ(a.kpageflags, b.kpageflags);
    EXPECT_EQ(a.notes, b.notes);
    EXPECT_EQ(a.host.sysname, b.host.sysname);
    EXPECT_EQ(a.host.release, b.host.release);
    EXPECT_EQ(a.host.behaviour, b.host.behaviour);
    EXPECT_EQ(a.host.config.thp, b.host.config.thp);
    EXPECT_EQ(a.host.config.swap, b.host.config.swap);
    EXPECT_EQ(a.host.config.maxMapCount, b.host.config.maxMapCount);
    EXPECT_EQ(a.host.notes, b.host.notes);
    EXPECT_EQ(a.processes, b.processes);
}

TEST(SnapshotFormat, RoundTripsCompressed)
{
    const Snapshot s = richSnapshot();
    const std::string bytes = writeSnapshots({ s });
    ASSERT_GE(bytes.size(), 4u);
    EXPECT_EQ(static_cast<unsigned char>(bytes[0]), 0x28); // a zstd frame
    auto back = parseSnapshot(bytes);
    ASSERT_TRUE(back) << back.error().front().format();
    expectSame(s, *back);
}

TEST(SnapshotFormat, RoundTripsPlainJsonAndTimelines)
{
    const Snapshot s = richSnapshot();
    Snapshot later = s;
    later.monotonicNs = 1000;
    auto back = parseSnapshots(snapshotsToJson({ s, later }), "t.json");
    ASSERT_TRUE(back);
    ASSERT_EQ(back->size(), 2u);
    expectSame(later, (*back)[1]);
    auto one = parseSnapshot(snapshotsToJson({ s, later }));
    ASSERT_FALSE(one);
    EXPECT_NE(one.error().front().message.find("holds 2"), std::string::npos);
}

TEST(SnapshotFormat, KeepsTheSmapsFieldOrder)
{
    const std::string all = snapshotsToJson({ richSnapshot() });
    const std::string json = all.substr(all.find("/tmp/a")); // the VMA with text fields, in the smaps section
    const auto size = json.find("Size: "), thp = json.find("THPeligible: "), rss = json.find("Rss: "),
               future = json.find("Future: ");
    ASSERT_NE(future, std::string::npos);
    EXPECT_LT(size, thp);
    EXPECT_LT(thp, rss);
    EXPECT_LT(rss, future);
}

// Version 2: the VMAs as smaps text and the runs as lines, each in a JSON string after the
// document, so that loading 60,000 VMAs does not build a JSON tree of them.
TEST(SnapshotFormat, VersionTwoKeepsBulkDataInSections)
{
    const std::string text = snapshotsToJson({ richSnapshot() });
    const std::size_t docEnd = text.find('\n');
    ASSERT_NE(docEnd, std::string::npos);
    const std::string document = text.substr(0, docEnd);
    EXPECT_NE(document.find("\"version\":2"), std::string::npos);
    EXPECT_NE(document.find("\"smaps_section\":0"), std::string::npos);
    EXPECT_NE(document.find("\"pages_section\":1"), std::string::npos);
    EXPECT_EQ(document.find("\"vmas\""), std::string::npos);
    // The smaps section is smaps text the kernel's way (the name at column 73).
    EXPECT_NE(
        text.find("1000-5000 rw-p 00000000 00:00 0" + std::string(73 - 31, ' ') + "[heap]\\n"), std::string::npos);
    EXPECT_NE(text.find("\\nVmFlags: rd sh mr me ms xx\\n"), std::string::npos);
    EXPECT_NE(text.find("\"1000 3000 present wxf 1800\\n"), std::string::npos); // first run: w f, kpageflags
    EXPECT_EQ(text.back(), '\n');
}

// What smaps text cannot say exactly stays an array of objects, and reads back the same.
TEST(SnapshotFormat, VmasThatSmapsTextCannotHoldFallBackToObjects)
{
    const Snapshot s = richSnapshot();
    for (int odd = 0; odd < 4; ++odd) {
        SCOPED_TRACE(odd);
        Snapshot t = s;
        SnapshotVma& v = t.processes.front().vmas[1];
        if (odd == 0) {
            v.vma.name = "a\nb";
        } else if (odd == 1) {
            // A name that begins with a blank after a header too long for the kernel's padding.
            v.vma.name = " leading blank";
            v.vma.start = 0x7fffffff0000;
            v.vma.end = 0x7fffffff2000;
            v.vma.offset = 0xfffffffffffff000;
            v.vma.inode = 12345678901234567890u;
        } else if (odd == 2) {
            v.textFields.push_back({ "Odd", "5 kB", v.vma.smapsKb.size() });
        } else {
            v.vma.smapsKb.push_back({ "Has:colon", 1 });
        }
        EXPECT_FALSE(smapsTextRoundTrips(v));
        const std::string text = snapshotsToJson({ t });
        EXPECT_NE(text.find("\"vmas\":["), std::string::npos);
        auto back = parseSnapshot(text);
        ASSERT_TRUE(back) << back.error().front().message;
        EXPECT_EQ(back->processes, t.processes);
    }
    // A name that begins with blanks survives behind the padding.
    Snapshot t = s;
    t.processes.front().vmas[1].vma.name = "  two blanks";
    EXPECT_TRUE(smapsTextRoundTrips(t.processes.front().vmas[1]));
    auto back = parseSnapshot(writeSnapshots({ t }));
    ASSERT_TRUE(back);
    EXPECT_EQ(back->processes, t.processes);
}

// A name that is not UTF-8 and control characters come back byte for byte in version 2.
TEST(SnapshotFormat, SectionsKeepEveryByte)
{
    Snapshot s = richSnapshot();
    s.processes.front().vmas[0].vma.name = std::string("/tmp/\xff\xfe \"q\" \\ \t\x01 end\0", 21);
    auto back = parseSnapshot(writeSnapshots({ s }));
    ASSERT_TRUE(back) << back.error().front().message;
    EXPECT_EQ(back->processes, s.processes);
}

TEST(SnapshotFormat, ReadsVersionOne)
{
    const std::string v1 =
        R"({"format":"vmalab-snapshot","version":1,"snapshots":[{"processes":[{"pid":7,"vmas":[)"
        R"({"start":"0x1000","end":"0x3000","perms":"rw-p","offset":"0x0","dev":"00:00","inode":0,"name":"[heap]",)"
        R"("smaps":{"Size":8,"THPeligible":"0","Rss":4},"vmflags":"rd wr mr mw me ac"}],)"
        R"("pages":[["0x1000","0x2000","present","x"],["0x2000","0x3000","none",""]]}]}]})"
        "\n";
    auto s = parseSnapshot(v1);
    ASSERT_TRUE(s) << s.error().front().message;
    const SnapshotProcess& p = s->processes.front();
    ASSERT_EQ(p.vmas.size(), 1u);
    EXPECT_EQ(p.vmas[0].vma.name, "[heap]");
    EXPECT_EQ(p.vmas[0].vma.kb("Rss"), 4u);
    ASSERT_EQ(p.vmas[0].textFields.size(), 1u);
    EXPECT_EQ(p.vmas[0].textFields[0].afterKb, 1u);
    ASSERT_EQ(p.pages.size(), 2u);
    EXPECT_TRUE(p.pages[0].run.exclusive);
    // Written again it is version 2 and reads back the same.
    auto again = parseSnapshot(writeSnapshots({ *s }));
    ASSERT_TRUE(again);
    EXPECT_EQ(again->processes, s->processes);
}

struct BadFile
{
    const char* name;
    std::string bytes;
    const char* message;
};

class SnapshotFormatErrors : public ::testing::TestWithParam<BadFile>
{
};

TEST_P(SnapshotFormatErrors, SaysWhatIsWrong)
{
    auto r = parseSnapshots(GetParam().bytes, "f.vsnap");
    ASSERT_FALSE(r);
    EXPECT_EQ(r.error().front().file, "f.vsnap");
    EXPECT_NE(r.error().front().message.find(GetParam().message), std::string::npos) << r.error().front().message;
}

std::string doc(const std::string& snapshots)
{
    return R"({"format":"vmalab-snapshot","version":1,"snapshots":)" + snapshots + "}";
}
std::string proc(const std::string& vmas, const std::string& pages = "[]")
{
    return doc(R"([{"processes":[{"pid":1,"vmas":)" + vmas + R"(,"pages":)" + pages + "}]}]");
}
// A version 2 document whose one process has `members`, followed by `sections`.
std::string v2(const std::string& members, const std::string& sections)
{
    return R"({"format":"vmalab-snapshot","version":2,"snapshots":[{"processes":[{"pid":1,)" + members + "}]}]}"
        + sections;
}
const std::string kVma =
    R"({"start":"0x1000","end":"0x2000","perms":"rw-p","offset":"0x0","dev":"00:00","inode":0,"name":"","smaps":{"Size":4},"vmflags":"rd wr"})";

const BadFile kBadFiles[] = {
    { "empty", "", "neither zstd" },
    { "not_json", "hello", "neither zstd" },
    { "truncated_json", doc("[").substr(0, 30), "neither zstd" },
    { "wrong_format", R"({"format":"other","version":1,"snapshots":[]})", "format is \"other\"" },
    { "newer_version", R"({"format":"vmalab-snapshot","version":9,"snapshots":[]})", "newer vmalab" },
    { "version_type", R"({"format":"vmalab-snapshot","version":"1","snapshots":[]})", "expected an integer" },
    { "no_processes", doc("[{}]"), "missing \"processes\"" },
    { "snapshots_type", doc("{}"), "expected an array" },
    { "bad_hex", proc(R"([{"start":"1000","end":"0x2000"}])"), "hex string" },
    { "hex_garbage", proc(R"([{"start":"0x10zz","end":"0x2000"}])"), "malformed hex" },
    { "reversed",
        proc(
            R"([{"start":"0x3000","end":"0x2000","perms":"rw-p","offset":"0x0","dev":"00:00","inode":0,"name":"","smaps":{},"vmflags":""}])"),
        "reversed" },
    { "bad_dev",
        proc(
            R"([{"start":"0x1000","end":"0x2000","perms":"rw-p","offset":"0x0","dev":"0000","inode":0,"name":"","smaps":{},"vmflags":""}])"),
        "MAJOR:MINOR" },
    { "negative_inode",
        proc(
            R"([{"start":"0x1000","end":"0x2000","perms":"rw-p","offset":"0x0","dev":"00:00","inode":-1,"name":"","smaps":{},"vmflags":""}])"),
        ">= 0" },
    { "smaps_float",
        proc(
            R"([{"start":"0x1000","end":"0x2000","perms":"rw-p","offset":"0x0","dev":"00:00","inode":0,"name":"","smaps":{"Rss":1.5},"vmflags":""}])"),
        "expected an integer" },
    { "overlap", proc("[" + kVma + "," + kVma + "]"), "overlap" },
    { "bad_state", proc("[" + kVma + "]", R"([["0x1000","0x2000","gone",""]])"), "unknown page state" },
    { "bad_page_flag", proc("[" + kVma + "]", R"([["0x1000","0x2000","present","q"]])"), "unknown page flag" },
    { "short_run", proc("[" + kVma + "]", R"([["0x1000","0x2000"]])"), "expected [start" },
    { "corrupt_zstd", std::string("\x28\xb5\x2f\xfd\x00\x00\x00\x00", 8), "compressed snapshot" },
    { "v1_trailing_data", doc("[]") + " x", "neither zstd" },
    { "no_section", v2(R"("smaps_section":0,"pages_section":1)", "\n"), "no section 0 follows" },
    { "section_cut", v2(R"("smaps_section":0,"pages_section":1)", "\n\"abc"), "closing quote" },
    { "no_final_newline", v2(R"("pages_section":0,"vmas":[])", "\n\"\""), "cut short" },
    { "section_not_string", v2(R"("pages_section":0,"vmas":[])", "\n[]\n"), "expected a JSON string" },
    { "bad_escape", v2(R"("pages_section":0,"vmas":[])", "\n\"\\q\"\n"), "unknown escape" },
    { "lone_surrogate", v2(R"("pages_section":0,"vmas":[])", "\n\"\\ud800\"\n"), "surrogate" },
    { "smaps_section_bad",
        v2(R"("smaps_section":0,"pages_section":1)", "\n\"1000-2000 rw-p 0 00:00 0\\nSize: 4 kB\\n\"\n\"\"\n"),
        "smaps_section: line 3" },
    { "pages_line_short", v2(R"("pages_section":0,"vmas":[])", "\n\"1000 2000 present\\n\"\n"),
        "pages_section line 1: expected START END" },
    { "pages_line_hex", v2(R"("pages_section":0,"vmas":[])", "\n\"1000 20zz present -\\n\"\n"), "malformed hex" },
    { "pages_line_state", v2(R"("pages_section":0,"vmas":[])", "\n\"1000 2000 gone -\\n\"\n"), "unknown page state" },
    { "pages_line_order", v2(R"("pages_section":0,"vmas":[])", "\n\"3000 4000 none -\\n1000 2000 none -\\n\"\n"),
        "line 2: page runs overlap" },
    { "pages_line_unended", v2(R"("pages_section":0,"vmas":[])", "\n\"1000 2000 none -\"\n"), "no newline" },
};

INSTANTIATE_TEST_SUITE_P(Input, SnapshotFormatErrors, ::testing::ValuesIn(kBadFiles),
    [](const auto& param) { return std::string(param.param.name); });

TEST(SnapshotFormat, TruncatedCompressedFileIsAnError)
{
    const std::string bytes = writeSnapshots({ richSnapshot() });
    auto r = parseSnapshots(bytes.substr(0, bytes.size() / 2), "cut.vsnap");
    ASSERT_FALSE(r);
    EXPECT_NE(r.error().front().message.find("compressed snapshot"), std::string::npos) << r.error().front().message;
}

TEST(SnapshotFormat, EveryPrefixIsRejectedCleanly)
{
    // What a fuzzer would try first: every cut of a valid document.
    const std::string json = snapshotsToJson({ richSnapshot() });
    for (std::size_t n = 0; n < json.size(); n += 7)
        EXPECT_FALSE(parseSnapshots(json.substr(0, n))) << "prefix of " << n << " bytes";
}

} // namespace
} // namespace vmalab::snapshot
