#include "core/host/record.h"
#include "core/host/record_writer.h"
#include "core/snapshot/snapshot_format.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <cstdio>
#include <fstream>
#include <iterator>
#include <set>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

namespace vmalab::host {
namespace {

class Record : public ::testing::Test
{
protected:
    void SetUp() override
    {
        std::string why;
        if (!ptraceAvailable(&why))
            GTEST_SKIP() << why;
    }
    RecordSession record(const char* program)
    {
        RecordOptions options;
        options.stem = "test";
        auto s = recordCommand({ program }, snapshot::HostInfo {}, options);
        EXPECT_TRUE(s.has_value()) << (s ? "" : s.error().front().message);
        return s ? std::move(*s) : RecordSession {};
    }
};

const RecordedEvent* findCall(const Recording& r, const std::string& name, std::uint64_t arg0, std::uint64_t arg1)
{
    for (const RecordedEvent& e : r.events)
        if (e.kind == RecordedKind::Call && e.call == name && e.args[0] == arg0 && e.args[1] == arg1)
            return &e;
    return nullptr;
}

TEST_F(Record, MapsProtectsRemapsAndForks)
{
    const RecordSession s = record(REC_MAPS_AND_FORKS);
    const Recording& r = s.recording;
    const std::uint64_t page = 4096;
    // The test program's 16-page arena: the first anonymous mmap of that length.
    const auto arena = std::find_if(r.events.begin(), r.events.end(),
        [&](const RecordedEvent& e) { return e.call == "mmap" && e.args[1] == 16 * page && (e.args[3] & 0x20); });
    ASSERT_NE(arena, r.events.end());
    const std::uint64_t a = std::uint64_t(arena->result);
    EXPECT_EQ(arena->pid, r.mainPid);

    const RecordedEvent* prot = findCall(r, "mprotect", a + 4 * page, 4 * page);
    ASSERT_NE(prot, nullptr);
    EXPECT_EQ(prot->args[2], 1u);
    EXPECT_EQ(prot->result, 0);
    // The memset of pages 0 and 1 is observed before the mprotect that touches their VMA.
    const auto protAt = std::size_t(prot - r.events.data());
    const bool observed = std::any_of(r.events.begin() + long(std::size_t(arena - r.events.begin())),
        r.events.begin() + long(protAt), [&](const RecordedEvent& e) {
            return e.kind == RecordedKind::Observe && e.addr == a && e.len == 2 * page && e.state == "anon";
        });
    EXPECT_TRUE(observed) << writeRecording(r);

    ASSERT_NE(findCall(r, "madvise", a, page), nullptr);
    const RecordedEvent* remap = findCall(r, "mremap", a + 12 * page, 4 * page);
    ASSERT_NE(remap, nullptr);
    EXPECT_GT(remap->result, 0);
    const RecordedEvent* misaligned = findCall(r, "munmap", a + 1, page);
    ASSERT_NE(misaligned, nullptr);
    EXPECT_EQ(misaligned->result, -22);

    // The program maps its own file.
    const auto fileMap = std::find_if(r.events.begin(), r.events.end(),
        [](const RecordedEvent& e) { return e.call == "mmap" && e.file && e.file->path == REC_MAPS_AND_FORKS; });
    ASSERT_NE(fileMap, r.events.end());
    struct stat st
    {
    };
    ASSERT_EQ(::stat(REC_MAPS_AND_FORKS, &st), 0);
    EXPECT_EQ(fileMap->file->inode, st.st_ino);
    EXPECT_EQ(fileMap->file->size, std::uint64_t(st.st_size));
    EXPECT_EQ(fileMap->file->accessMode, 0);

    // fork: the child's munmap sits in its own block.
    const auto fork = std::find_if(
        r.events.begin(), r.events.end(), [](const RecordedEvent& e) { return e.kind == RecordedKind::Fork; });
    ASSERT_NE(fork, r.events.end());
    const RecordedEvent* childUnmap = findCall(r, "munmap", a + 2 * page, page);
    ASSERT_NE(childUnmap, nullptr);
    EXPECT_EQ(childUnmap->pid, fork->child);
    EXPECT_GT(childUnmap, &*fork);

    const std::string text = writeRecording(r);
    EXPECT_NE(text.find("p" + std::to_string(fork->child) + " = fork() -> " + std::to_string(fork->child)),
        std::string::npos);
    EXPECT_NE(text.find("start_from \"test.start.vsnap\""), std::string::npos);

    // Snapshots: the start one and both processes at their exit, main first.
    ASSERT_EQ(s.start.processes.size(), 1u);
    EXPECT_EQ(s.start.processes[0].pid, r.mainPid);
    ASSERT_EQ(s.end.processes.size(), 2u);
    EXPECT_EQ(s.end.processes[0].pid, r.mainPid);
    EXPECT_EQ(s.end.processes[1].pid, fork->child);
    EXPECT_FALSE(s.end.processes[1].vmas.empty());
    EXPECT_TRUE(WIFEXITED(s.exitStatus) && WEXITSTATUS(s.exitStatus) == 0);

    // The files: the scenario and its snapshots side by side, readable again.
    char dir[] = "/tmp/vmalab-record-test-XXXXXX";
    ASSERT_NE(::mkdtemp(dir), nullptr);
    auto files = writeRecordingFiles(s, std::string(dir) + "/test.vlab");
    ASSERT_TRUE(files.has_value()) << files.error().front().message;
    ASSERT_EQ(files->size(), 3u);
    EXPECT_EQ((*files)[2], std::string(dir) + "/test.end.vsnap");
    std::ifstream in((*files)[2], std::ios::binary);
    const std::string bytes((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
    auto end = snapshot::parseSnapshot(bytes);
    ASSERT_TRUE(end.has_value());
    EXPECT_EQ(end->processes.size(), 2u);
    for (const std::string& f : *files)
        std::remove(f.c_str());
    ::rmdir(dir);
}

TEST_F(Record, ThreadsWriteIntoTheirProcess)
{
    const RecordSession s = record(REC_THREADS);
    const Recording& r = s.recording;
    std::set<std::int64_t> threadTids;
    for (const RecordedEvent& e : r.events) {
        EXPECT_EQ(e.pid, r.mainPid) << "every event belongs to the one process";
        EXPECT_NE(e.kind, RecordedKind::Fork);
        if (e.kind == RecordedKind::Call && e.call == "mmap" && e.args[1] == 4 * 4096 && e.tid != r.mainPid)
            threadTids.insert(e.tid);
    }
    EXPECT_EQ(threadTids.size(), 2u) << writeRecording(r);
    const std::string text = writeRecording(r);
    EXPECT_NE(text.find("  // tid " + std::to_string(*threadTids.begin())), std::string::npos) << text;
    EXPECT_EQ(text.find("in p"), std::string::npos) << text;
    ASSERT_EQ(s.end.processes.size(), 1u);
    EXPECT_EQ(s.end.processes[0].pid, r.mainPid);
}

TEST_F(Record, AMissingProgramIsAClearError)
{
    auto s = recordCommand({ "/nonexistent/program" }, snapshot::HostInfo {}, RecordOptions {});
    ASSERT_FALSE(s.has_value());
    EXPECT_NE(
        s.error().front().message.find("cannot run /nonexistent/program: No such file or directory"), std::string::npos)
        << s.error().front().message;
}

} // namespace
} // namespace vmalab::host
