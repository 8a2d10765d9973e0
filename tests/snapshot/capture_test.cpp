#include "core/host/capture.h"
#include "core/host/procfs.h"
#include "core/snapshot/smaps_text.h"
#include "core/snapshot/snapshot_diff.h"
#include "core/snapshot/snapshot_format.h"

#include <gtest/gtest.h>

#include <csignal>
#include <cstring>
#include <fcntl.h>
#include <string>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include "tests/snapshot/helper_process.h"

namespace vmalab::host {
namespace {

constexpr Addr P = pageSize;
constexpr Addr kBase = 0x600000000000; // where the helper maps its test range
constexpr int kMadvGuardInstall = 102; // MADV_GUARD_INSTALL (6.13)
const char* const kOddFile = "/tmp/vmalab snap\ntest file";

// A helper process of known shape, killed when the test ends:
//   [kBase, +4p) rw-p, pages 0-2 written
//   [+4p, +8p)   r--p (mprotect splits the 16-page mapping)
//   [+8p, +16p)  rw-p, page 10 written, page 15 a guard page (if the kernel has them)
// plus a memfd "snap test" mapped shared and a deleted file with a space and a newline in its name.
class Helper
{
public:
    explicit Helper(bool guard)
        : m_process([guard] { return build(guard) ? testing::Outcome::Ready : testing::Outcome::Failed; })
    {
    }
    pid_t pid() const { return m_process.pid(); }
    bool ready() const { return m_process.outcome() == testing::Outcome::Ready; }

private:
    static bool build(bool guard)
    {
        char* p = static_cast<char*>(::mmap(reinterpret_cast<void*>(kBase), 16 * P, PROT_READ | PROT_WRITE,
            MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED_NOREPLACE, -1, 0));
        if (p != reinterpret_cast<char*>(kBase))
            return false;
        for (int i : { 0, 1, 2, 10 })
            p[i * P] = 1;
        if (::mprotect(p + 4 * P, 4 * P, PROT_READ) != 0)
            return false;
        if (guard && ::madvise(p + 15 * P, P, kMadvGuardInstall) != 0)
            return false;
        const int mfd = static_cast<int>(::syscall(SYS_memfd_create, "snap test", 0));
        if (mfd < 0 || ::ftruncate(mfd, 2 * P) != 0)
            return false;
        char* m = static_cast<char*>(::mmap(reinterpret_cast<void*>(kBase + 64 * P), 2 * P, PROT_READ | PROT_WRITE,
            MAP_SHARED | MAP_FIXED_NOREPLACE, mfd, 0));
        if (m == MAP_FAILED)
            return false;
        m[0] = 1;
        const int ffd = ::open(kOddFile, O_RDWR | O_CREAT | O_TRUNC, 0600);
        if (ffd < 0 || ::ftruncate(ffd, P) != 0)
            return false;
        if (::mmap(reinterpret_cast<void*>(kBase + 128 * P), P, PROT_READ, MAP_PRIVATE | MAP_FIXED_NOREPLACE, ffd, 0)
            == MAP_FAILED)
            return false;
        ::unlink(kOddFile);
        return true;
    }

    testing::Helper m_process;
};

bool guardRegions()
{
    void* p = ::mmap(nullptr, P, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    const bool ok = ::madvise(p, P, kMadvGuardInstall) == 0;
    ::munmap(p, P);
    return ok;
}

const snapshot::SnapshotVma* vmaAt(const snapshot::SnapshotProcess& p, Addr a)
{
    for (const snapshot::SnapshotVma& v : p.vmas)
        if (v.vma.start <= a && a < v.vma.end)
            return &v;
    return nullptr;
}

TEST(Capture, AChildOfKnownShape)
{
    const bool guard = guardRegions();
    Helper h(guard);
    ASSERT_TRUE(h.ready());
    CaptureOptions opts;
    opts.freeze = true;
    auto s = captureSnapshot(h.pid(), opts, {});
    ASSERT_TRUE(s) << s.error().front().message;
    EXPECT_TRUE(s->frozen);
    EXPECT_EQ(s->pagemapMethod, "PAGEMAP_SCAN");
    ASSERT_EQ(s->processes.size(), 1u);
    const snapshot::SnapshotProcess& p = s->processes.front();
    EXPECT_EQ(p.pid, h.pid());
    EXPECT_EQ(p.ppid, ::getpid());
    EXPECT_FALSE(p.name.empty());

    const auto* a = vmaAt(p, kBase);
    const auto* b = vmaAt(p, kBase + 4 * P);
    const auto* c = vmaAt(p, kBase + 8 * P);
    ASSERT_TRUE(a && b && c);
    EXPECT_EQ(a->vma.start, kBase);
    EXPECT_EQ(a->vma.end, kBase + 4 * P);
    EXPECT_EQ(a->vma.perms, "rw-p");
    EXPECT_EQ(b->vma.end, kBase + 8 * P);
    EXPECT_EQ(b->vma.perms, "r--p");
    EXPECT_EQ(c->vma.start, kBase + 8 * P);
    EXPECT_EQ(c->vma.end, kBase + 16 * P);
    EXPECT_EQ(a->vma.kb("Rss"), 12u);
    EXPECT_EQ(snapshot::countPages(p.pages, kBase, kBase + 4 * P).present, 3u);
    EXPECT_EQ(snapshot::countPages(p.pages, kBase + 4 * P, kBase + 8 * P).present, 0u);
    const snapshot::PageCounts last = snapshot::countPages(p.pages, kBase + 8 * P, kBase + 16 * P);
    EXPECT_EQ(last.present, 1u);
    EXPECT_EQ(last.guard, guard ? 1u : 0u);
    bool thpField = false;
    for (const snapshot::TextField& f : a->textFields)
        thpField = thpField || f.name == "THPeligible";
    EXPECT_TRUE(thpField);

    const auto* memfd = vmaAt(p, kBase + 64 * P);
    ASSERT_TRUE(memfd);
    EXPECT_EQ(memfd->vma.name, "/memfd:snap test (deleted)");
    EXPECT_EQ(memfd->vma.perms, "rw-s");
    EXPECT_EQ(snapshot::countPages(p.pages, kBase + 64 * P, kBase + 66 * P).present, 1u);
    const auto* odd = vmaAt(p, kBase + 128 * P);
    ASSERT_TRUE(odd);
    const snapshot::VmaName name = snapshot::classifyName(odd->vma.name);
    EXPECT_EQ(name.kind, snapshot::NameKind::DeletedFile);
    EXPECT_EQ(name.text, kOddFile);

    // The process runs again afterwards.
    auto stat = readProcess(h.pid());
    ASSERT_TRUE(stat);
    char state = 0;
    for (int i = 0; i < 1000 && state != 'S'; ++i) {
        const std::string path = "/proc/" + std::to_string(h.pid()) + "/stat";
        const int fd = ::open(path.c_str(), O_RDONLY);
        char buf[512] = {};
        (void)::read(fd, buf, sizeof buf - 1);
        ::close(fd);
        const char* paren = std::strrchr(buf, ')');
        state = paren ? paren[2] : 0;
        if (state != 'S')
            ::usleep(1000);
    }
    EXPECT_EQ(state, 'S');
}

// The runs inside the helper's test range, neighbours in the same state joined (a snapshot
// also splits runs where kpageflags differ; the replay reader does not read them).
std::vector<PageRun> helperRuns(const std::vector<PageRun>& runs)
{
    std::vector<PageRun> out;
    for (PageRun r : runs) {
        if (r.end <= kBase || r.start >= kBase + 256 * P)
            continue;
        if (!out.empty() && out.back().end == r.start && out.back().state == r.state && out.back().uffdWp == r.uffdWp
            && out.back().exclusive == r.exclusive && out.back().file == r.file)
            out.back().end = r.end;
        else
            out.push_back(r);
    }
    return out;
}

TEST(Capture, ScanAndPreadAgreeWithTheReplayReader)
{
    Helper h(guardRegions());
    ASSERT_TRUE(h.ready());
    CaptureOptions scan, pread;
    pread.usePagemapScan = false;
    auto a = captureSnapshot(h.pid(), scan, {});
    auto b = captureSnapshot(h.pid(), pread, {});
    auto replay = readProcess(h.pid());
    ASSERT_TRUE(a && b && replay);
    EXPECT_EQ(b->pagemapMethod, "pread");
    // Only the helper's own range: the rest is shared copy-on-write with this process, whose
    // writes change the helper's exclusive bits between the captures.
    EXPECT_EQ(helperRuns(a->processes.front().observed().pages), helperRuns(b->processes.front().observed().pages));
    const ObservedProcess seen = a->processes.front().observed();
    ASSERT_EQ(seen.vmas.size(), replay->vmas.size());
    for (std::size_t i = 0; i < seen.vmas.size(); ++i) {
        EXPECT_EQ(seen.vmas[i].start, replay->vmas[i].start);
        EXPECT_EQ(seen.vmas[i].name, replay->vmas[i].name);
        EXPECT_EQ(seen.vmas[i].vmFlags, replay->vmas[i].vmFlags);
    }
    EXPECT_EQ(helperRuns(seen.pages), helperRuns(replay->pages));
    EXPECT_FALSE(helperRuns(seen.pages).empty());
}

TEST(Capture, VanishedAndZombieProcesses)
{
    const pid_t gone = ::fork();
    if (gone == 0)
        ::_exit(0);
    ::waitpid(gone, nullptr, 0);
    auto r = captureSnapshot(gone, {}, {});
    ASSERT_FALSE(r);
    EXPECT_EQ(r.error().front().message, "process " + std::to_string(gone) + " no longer exists");

    const pid_t zombie = ::fork();
    if (zombie == 0)
        ::_exit(0);
    for (int i = 0; i < 1000; ++i) { // until it has exited, without reaping it
        siginfo_t info {};
        if (::waitid(P_PID, static_cast<id_t>(zombie), &info, WEXITED | WNOWAIT | WNOHANG) == 0
            && info.si_pid == zombie)
            break;
        ::usleep(1000);
    }
    auto z = captureSnapshot(zombie, {}, {});
    ::waitpid(zombie, nullptr, 0);
    ASSERT_FALSE(z);
    EXPECT_EQ(z.error().front().message, "process " + std::to_string(zombie) + " no longer exists");
}

TEST(Capture, PermissionDeniedSaysWhatWouldAllowIt)
{
    if (::geteuid() != 0)
        GTEST_SKIP() << "needs root to drop to another user";
    int fds[2];
    ASSERT_EQ(::pipe(fds), 0);
    const pid_t child = ::fork();
    if (child == 0) {
        ::close(fds[0]);
        std::string msg = "setresuid failed";
        if (::setresgid(65534, 65534, 65534) == 0 && ::setresuid(65534, 65534, 65534) == 0) {
            auto r = captureSnapshot(1, {}, {});
            msg = r ? "captured" : r.error().front().message;
        }
        (void)::write(fds[1], msg.data(), msg.size());
        ::_exit(0);
    }
    ::close(fds[1]);
    std::string msg;
    char buf[512];
    for (ssize_t n; (n = ::read(fds[0], buf, sizeof buf)) > 0;)
        msg.append(buf, std::size_t(n));
    ::close(fds[0]);
    ::waitpid(child, nullptr, 0);
    EXPECT_NE(msg.find("permission denied"), std::string::npos) << msg;
    EXPECT_NE(msg.find("CAP_SYS_PTRACE"), std::string::npos) << msg;
}

TEST(Capture, WatchRecordsATimelineThatDiffs)
{
    Helper h(false);
    ASSERT_TRUE(h.ready());
    int calls = 0;
    auto t = watchProcess(h.pid(), {}, {}, 10, 3, [&] { return ++calls < 1000; });
    ASSERT_TRUE(t) << t.error().front().message;
    ASSERT_EQ(t->size(), 3u);
    EXPECT_LT((*t)[0].monotonicNs, (*t)[2].monotonicNs);
    EXPECT_GE((*t)[2].monotonicNs - (*t)[0].monotonicNs, 20 * 1000000);
    // The helper sleeps: nothing happens between the entries.
    EXPECT_TRUE(snapshot::diffSnapshots((*t)[0], (*t)[1]).empty());
    auto back = snapshot::parseSnapshots(snapshot::writeSnapshots(*t));
    ASSERT_TRUE(back);
    EXPECT_EQ(back->size(), 3u);
    EXPECT_EQ((*back)[2].processes, (*t)[2].processes);
}

TEST(Capture, WatchStopsWhenTheProcessExits)
{
    auto h = std::make_unique<Helper>(false);
    ASSERT_TRUE(h->ready());
    const pid_t pid = h->pid();
    int calls = 0;
    auto t = watchProcess(pid, {}, {}, 5, 0, [&] {
        if (++calls == 3)
            h.reset(); // kills and reaps it
        return calls < 1000;
    });
    ASSERT_TRUE(t);
    ASSERT_FALSE(t->empty());
    ASSERT_FALSE(t->back().notes.empty());
    EXPECT_NE(t->back().notes.back().find("no longer exists"), std::string::npos);
}

} // namespace
} // namespace vmalab::host
