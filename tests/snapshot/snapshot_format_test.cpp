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
    const std::string json = all.substr(all.find("/tmp/a")); // the VMA with text fields
    const auto size = json.find("\"Size\""), thp = json.find("\"THPeligible\""), rss = json.find("\"Rss\""),
               future = json.find("\"Future\"");
    EXPECT_LT(size, thp);
    EXPECT_LT(thp, rss);
    EXPECT_LT(rss, future);
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
