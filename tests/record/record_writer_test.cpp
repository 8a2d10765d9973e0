#include "core/host/record_writer.h"

#include <gtest/gtest.h>

namespace vmalab::host {
namespace {

RecordedEvent call(
    std::int64_t pid, std::int64_t tid, const char* name, std::array<std::uint64_t, 6> args, std::int64_t result)
{
    RecordedEvent e;
    e.pid = pid;
    e.tid = tid;
    e.call = name;
    e.args = args;
    e.hasResult = true;
    e.result = result;
    return e;
}

Recording sample()
{
    Recording r;
    r.program = "./maps-and-forks";
    r.date = "2026-11-23";
    r.kernel = "6.18.0 x86_64";
    r.mainPid = 4242;
    r.startSnapshot = "maps-and-forks.start.vsnap";
    r.endSnapshot = "maps-and-forks.end.vsnap";
    return r;
}

TEST(RecordWriter, HeaderAndCallsAsInTheDocumentedExample)
{
    Recording r = sample();
    r.events.push_back(call(4242, 4242, "brk", { 0 }, 0x5581d8a3e000));
    RecordedEvent m = call(4242, 4242, "mmap", { 0, 1970000, 1, 0x802, 3, 0 }, 0x7f1c2a400000);
    m.file = RecordedFile { "/usr/lib/x86_64-linux-gnu/libc.so.6", 8, 3, 1835102, 1922136, 0, true, true, "" };
    r.events.push_back(m);
    RecordedEvent o;
    o.kind = RecordedKind::Observe;
    o.pid = 4242;
    o.addr = 0x7ffd3b2f0000;
    o.len = 0x2000;
    o.state = "anon";
    r.events.push_back(o);
    r.events.push_back(call(4242, 4242, "mprotect", { 0x7f1c2a428000, 0x1cc000, 0 }, 0));
    RecordedEvent f;
    f.kind = RecordedKind::Fork;
    f.pid = 4242;
    f.tid = 4242;
    f.child = 4243;
    r.events.push_back(f);
    r.events.push_back(call(4243, 4243, "munmap", { 0x7f1c2a7e6000, 8192 }, 0));
    EXPECT_EQ(writeRecording(r),
        "// vmalab recording of: ./maps-and-forks\n"
        "// recorded 2026-11-23 on Linux 6.18.0 x86_64; 4 memory calls, 2 processes\n"
        "profile \"host\"\n"
        "start_from \"maps-and-forks.start.vsnap\"\n"
        "recorded_end \"maps-and-forks.end.vsnap\"\n"
        "\n"
        "brk(0) -> 0x5581d8a3e000\n"
        "f_803_1835102 = open_mapped(\"/usr/lib/x86_64-linux-gnu/libc.so.6\", \"08:03\", 1835102, 1922136, O_RDONLY)\n"
        "mmap(0, 1970000, PROT_READ, MAP_PRIVATE|MAP_DENYWRITE, f_803_1835102, 0) -> 0x7f1c2a400000\n"
        "observe(0x7ffd3b2f0000, 0x2000, \"anon\")\n"
        "mprotect(0x7f1c2a428000, 0x1cc000, PROT_NONE) -> 0\n"
        "p4243 = fork() -> 4243\n"
        "in p4243 {\n"
        "  munmap(0x7f1c2a7e6000, 8192) -> 0\n"
        "}\n");
}

TEST(RecordWriter, EachFileIsOpenedOncePerMode)
{
    Recording r = sample();
    const RecordedFile lib { "/lib/x.so", 254, 0, 77, 8192, 0, true, true, "" };
    for (int i = 0; i < 2; ++i) {
        RecordedEvent m = call(4242, 4242, "mmap", { 0, 4096, 1, 2, 3, 0 }, 0x7f0000000000 + i * 0x1000);
        m.file = lib;
        r.events.push_back(m);
    }
    RecordedEvent shared = call(4242, 4242, "mmap", { 0, 4096, 3, 1, 4, 0 }, 0x7f0000010000);
    shared.file = lib;
    shared.file->accessMode = 2;
    r.events.push_back(shared);
    const std::string text = writeRecording(r);
    EXPECT_EQ(text.find("f_fe00_77 = open_mapped"), text.rfind("f_fe00_77 = open_mapped")) << text;
    EXPECT_NE(text.find("f_fe00_77_rw = open_mapped(\"/lib/x.so\", \"fe:00\", 77, 8192, O_RDWR)"), std::string::npos)
        << text;
    EXPECT_NE(text.find("mmap(0, 4096, PROT_READ|PROT_WRITE, MAP_SHARED, f_fe00_77_rw, 0) -> 0x7f0000010000"),
        std::string::npos)
        << text;
}

TEST(RecordWriter, ErrorsThreadsAndUnmodelledCalls)
{
    Recording r = sample();
    r.events.push_back(call(4242, 4242, "munmap", { 0x7f0000000001, 4096 }, -22));
    r.events.push_back(call(4242, 4250, "mmap", { 0, 0x10000, 3, 0x22, std::uint64_t(-1), 0 }, -12));
    r.events.push_back(call(4242, 4242, "mlockall", { 1 }, 0));
    r.events.push_back(call(4242, 4242, "madvise", { 0x7f0000000000, 4096, 102 }, 0));
    r.events.push_back(call(4242, 4242, "mremap", { 0x7f0000000000, 4096, 8192, 3, 0x7f0000100000 }, 0x7f0000100000));
    const std::string text = writeRecording(r);
    EXPECT_NE(text.find("munmap(0x7f0000000001, 4096) -> -EINVAL\n"), std::string::npos) << text;
    EXPECT_NE(
        text.find("mmap(0, 0x10000, PROT_READ|PROT_WRITE, MAP_PRIVATE|MAP_ANONYMOUS, -1, 0) -> -ENOMEM  // tid 4250\n"),
        std::string::npos)
        << text;
    EXPECT_NE(text.find("// not modelled: mlockall(1) = 0\n"), std::string::npos) << text;
    EXPECT_NE(text.find("madvise(0x7f0000000000, 4096, MADV_GUARD_INSTALL) -> 0\n"), std::string::npos) << text;
    EXPECT_NE(
        text.find("mremap(0x7f0000000000, 4096, 8192, MREMAP_MAYMOVE|MREMAP_FIXED, 0x7f0000100000) -> 0x7f0000100000"),
        std::string::npos)
        << text;
}

TEST(RecordWriter, ThreadStacksAreNarrated)
{
    Recording r = sample();
    RecordedEvent plain;
    plain.kind = RecordedKind::Note;
    plain.pid = plain.tid = 4242;
    plain.text = "process exited";
    RecordedEvent thread = plain;
    thread.narrate = true;
    thread.text = "Thread 4250 starts; its stack is the mapping below 0x7f0000800000.";
    r.events.push_back(thread);
    r.events.push_back(call(4242, 4250, "munmap", { 0x7f0000000000, 4096 }, 0));
    r.events.push_back(plain);
    const std::string text = writeRecording(r);
    EXPECT_NE(text.find("\n/// Thread 4250 starts; its stack is the mapping below 0x7f0000800000.\nmunmap("), std::string::npos)
        << text;
    EXPECT_NE(text.find("\n// process exited\n"), std::string::npos) << text;
}

TEST(RecordWriter, SpawnAndExecNameTheirSnapshots)
{
    Recording r = sample();
    RecordedEvent s;
    s.kind = RecordedKind::Spawn;
    s.pid = 4242;
    s.tid = 4300;
    s.child = 4300;
    s.snapshotFile = "x.exec-4300.vsnap";
    r.events.push_back(s);
    RecordedEvent e;
    e.kind = RecordedKind::Exec;
    e.pid = 4300;
    e.tid = 4300;
    e.snapshotFile = "x.exec-4300-2.vsnap";
    r.events.push_back(e);
    const std::string text = writeRecording(r);
    EXPECT_NE(text.find("p4300 = spawn(\"x.exec-4300.vsnap\")\nin p4300 {\n  exec(\"x.exec-4300-2.vsnap\")\n}\n"),
        std::string::npos)
        << text;
}

TEST(RecordWriter, UserfaultfdCallsUseTheHandleOfTheirProcess)
{
    Recording r = sample();
    r.events.push_back(call(4242, 4242, "userfaultfd", { 02004000 }, 3));
    r.events.push_back(call(4242, 4242, "uffdio_api", { 3, 0x2 }, 0));
    r.events.push_back(call(4242, 4242, "uffdio_register", { 3, 0x7f0000000000, 0x10000, 2 }, 0));
    r.events.push_back(call(4242, 4242, "uffdio_register", { 5, 0x7f0000000000, 0x10000, 1 }, 0));
    RecordedEvent f;
    f.kind = RecordedKind::Fork;
    f.pid = 4242;
    f.child = 4243;
    r.events.push_back(f);
    r.events.push_back(call(4243, 4243, "uffdio_unregister", { 3, 0x7f0000000000, 4096 }, 0));
    const std::string text = writeRecording(r);
    EXPECT_NE(text.find("uffd_4242_3 = userfaultfd(O_CLOEXEC|O_NONBLOCK)  // fd 3\n"
                        "uffdio_api(uffd_4242_3, UFFD_FEATURE_EVENT_FORK) -> 0\n"
                        "uffdio_register(uffd_4242_3, 0x7f0000000000, 0x10000, UFFDIO_REGISTER_MODE_WP) -> 0\n"
                        "// not modelled: uffdio_register on descriptor 5, not a recorded userfaultfd = 0\n"),
        std::string::npos)
        << text;
    // The child inherits the descriptor.
    EXPECT_NE(text.find("  uffdio_unregister(uffd_4242_3, 0x7f0000000000, 4096) -> 0\n"), std::string::npos) << text;
}

TEST(RecordWriter, FlagsWithoutNamesStayNumbers)
{
    EXPECT_EQ(protText(0), "PROT_NONE");
    EXPECT_EQ(protText(0x7), "PROT_READ|PROT_WRITE|PROT_EXEC");
    EXPECT_EQ(protText(0x10000001), "PROT_READ|0x10000000");
    EXPECT_EQ(mapFlagsText(0x22 | 0x4000), "MAP_PRIVATE|MAP_ANONYMOUS|MAP_NORESERVE");
    EXPECT_EQ(mapFlagsText(0x02 | 0x1000 | 0x800), "MAP_PRIVATE|MAP_DENYWRITE|MAP_EXECUTABLE");
    EXPECT_EQ(mapFlagsText(0x03 | 0x10), "MAP_SHARED_VALIDATE|MAP_FIXED");
    EXPECT_EQ(mapFlagsText((std::uint64_t(21) << 26) | 0x40022), "MAP_PRIVATE|MAP_HUGE_2MB|MAP_ANONYMOUS|MAP_HUGETLB");
    EXPECT_EQ(madviseText(4), "MADV_DONTNEED");
    EXPECT_EQ(madviseText(999), "999");
}

} // namespace
} // namespace vmalab::host
