// Capture and snapshot load against procfs itself, in one run (vmalab issue 8, §Proof). Not a
// test: numbers are reported.
//
// A helper child builds 60,000 VMAs (one page each: mprotect of every other page of one
// mapping), writes every other read-write page and waits. Then, median of several rounds:
//   cat:     read(2) /proc/PID/smaps whole into one buffer (what `cat` costs)
//   capture: captureSnapshot() (status, smaps parsed, pagemap through PAGEMAP_SCAN, kpageflags)
//   pmap:    `pmap -XX PID` into /dev/null (skipped with a note if pmap is missing)
//   load:    parseSnapshots() of the compressed file, then worldFromSnapshot()
// Targets: capture <= 1.3x cat, pmap >= 5x capture, load (what the GUI does before its first
// frame) <= 1 s. Wall and CPU time are printed: on a shared machine compare the CPU times.
//
// `vmalab_bench_capture capture` or `... load` loops over one measurement (for perf record).
#include "core/engine/snapshot_world.h"
#include "core/host/capture.h"
#include "core/snapshot/snapshot_format.h"

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <ctime>
#include <fcntl.h>
#include <spawn.h>
#include <string>
#include <sys/mman.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>
#include <vector>

#include "bench/bench_util.h"
#include "bench/many_vmas_child.h"

extern char** environ;

namespace {

using namespace vmalab;
using Clock = std::chrono::steady_clock;

constexpr std::size_t kVmas = 60000;

struct Time
{
    double wall = 0;
    double cpu = 0; // user + system of the work (this process, or the child for pmap)
};

double processCpu()
{
    timespec ts {};
    clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
    return double(ts.tv_sec) + double(ts.tv_nsec) * 1e-9;
}

double tv(const timeval& t)
{
    return double(t.tv_sec) + double(t.tv_usec) * 1e-6;
}

template <typename F> Time timed(F f)
{
    const auto w0 = Clock::now();
    const double c0 = processCpu();
    f();
    return { bench::seconds(w0, Clock::now()), processCpu() - c0 };
}

Time median(std::vector<Time> v)
{
    std::vector<double> w, c;
    for (const Time& t : v) {
        w.push_back(t.wall);
        c.push_back(t.cpu);
    }
    std::sort(w.begin(), w.end());
    std::sort(c.begin(), c.end());
    return { w[w.size() / 2], c[c.size() / 2] };
}

// The helper: 60,000 one-page VMAs, alternately rw-p and r--p, a quarter of the pages written.
pid_t startHelper()
{
    const pid_t pid = bench::startManyVmasChild(kVmas);
    if (pid < 0) {
        std::fprintf(stderr, "the 60,000-VMA helper failed (vm.max_map_count?)\n");
        std::exit(1);
    }
    return pid;
}

std::size_t catSmaps(const std::string& path, std::vector<char>& buf)
{
    const int fd = open(path.c_str(), O_RDONLY | O_CLOEXEC);
    std::size_t n = 0;
    for (ssize_t r; fd >= 0;) {
        if (buf.size() - n < (1 << 20))
            buf.resize(buf.size() * 2);
        r = read(fd, buf.data() + n, buf.size() - n);
        if (r <= 0)
            break;
        n += std::size_t(r);
    }
    if (fd >= 0)
        close(fd);
    return n;
}

// `pmap -XX PID` > /dev/null; the CPU time is the child's (wait4's rusage).
Time runPmap(pid_t pid)
{
    const std::string p = std::to_string(pid);
    char* const argv[] = { const_cast<char*>("pmap"), const_cast<char*>("-XX"), const_cast<char*>(p.c_str()), nullptr };
    posix_spawn_file_actions_t fa;
    posix_spawn_file_actions_init(&fa);
    posix_spawn_file_actions_addopen(&fa, 1, "/dev/null", O_WRONLY, 0);
    const auto w0 = Clock::now();
    pid_t child = 0;
    if (posix_spawnp(&child, "pmap", &fa, nullptr, argv, environ) != 0) {
        posix_spawn_file_actions_destroy(&fa);
        return { -1, -1 };
    }
    posix_spawn_file_actions_destroy(&fa);
    int status = 0;
    rusage ru {};
    wait4(child, &status, 0, &ru);
    const double wall = bench::seconds(w0, Clock::now());
    if (!WIFEXITED(status) || WEXITSTATUS(status) != 0)
        return { -1, -1 };
    return { wall, tv(ru.ru_utime) + tv(ru.ru_stime) };
}

void print(const char* what, const Time& t)
{
    std::printf("%-34s %8.3f s wall  %8.3f s cpu\n", what, t.wall, t.cpu);
}

void ratio(const char* what, const Time& a, const Time& b, const char* target)
{
    std::printf("%-34s %8.2fx wall  %8.2fx cpu    (target %s)\n", what, a.wall / b.wall, a.cpu / b.cpu, target);
}

Profile benchProfile(const snapshot::Snapshot& s)
{
    return *builtinProfile(builtinProfileNames().front(), s.host.config);
}

} // namespace

int main(int argc, char** argv)
{
    const std::string mode = argc > 1 ? argv[1] : "all";
    const int rounds = argc > 2 ? std::atoi(argv[2]) : 5;
    const pid_t helper = startHelper();
    const std::string smaps = "/proc/" + std::to_string(helper) + "/smaps";
    host::CaptureOptions opts;
    const snapshot::HostInfo hostInfo;
    std::vector<char> buf(std::size_t(64) << 20);
    const std::size_t smapsBytes = catSmaps(smaps, buf);

    auto first = host::captureSnapshot(helper, opts, hostInfo);
    if (!first) {
        std::fprintf(stderr, "capture failed: %s\n", first.error().front().message.c_str());
        kill(helper, SIGKILL);
        return 1;
    }
    const std::string file = snapshot::writeSnapshots({ *first });
    const Profile profile = benchProfile(*first);

    auto load = [&] {
        auto back = snapshot::parseSnapshots(file);
        if (!back)
            std::abort();
        auto w = worldFromSnapshot(back->back(), profile);
        if (!w)
            std::abort();
    };
    if (mode == "capture" || mode == "load") {
        for (int i = 0; i < rounds; ++i) {
            if (mode == "capture")
                (void)host::captureSnapshot(helper, opts, hostInfo);
            else
                load();
        }
        kill(helper, SIGKILL);
        waitpid(helper, nullptr, 0);
        return 0;
    }

    std::vector<Time> cat, capture, pmap, parse, world;
    bool havePmap = true;
    for (int i = 0; i < rounds; ++i) {
        cat.push_back(timed([&] { catSmaps(smaps, buf); }));
        // The snapshot is freed outside the timed part, as cat's buffer is never freed.
        std::vector<snapshot::Snapshot> keep;
        capture.push_back(timed([&] { keep.push_back(std::move(*host::captureSnapshot(helper, opts, hostInfo))); }));
        keep.clear();
        if (havePmap && i < 3) {
            const Time t = runPmap(helper);
            havePmap = t.wall >= 0;
            if (havePmap)
                pmap.push_back(t);
        }
        std::vector<snapshot::Snapshot> back;
        parse.push_back(timed([&] { back = std::move(*snapshot::parseSnapshots(file)); }));
        std::vector<World> worlds;
        world.push_back(timed([&] { worlds.push_back(std::move(*worldFromSnapshot(back.back(), profile))); }));
    }
    kill(helper, SIGKILL);
    waitpid(helper, nullptr, 0);

    std::printf("helper: %zu VMAs captured, %zu page runs; smaps %.1f MB; snapshot file %.1f MB (zstd)\n",
        first->processes.front().vmas.size(), first->processes.front().pages.size(), double(smapsBytes) / 1e6,
        double(file.size()) / 1e6);
    std::printf("median of %d rounds (pmap: %zu)\n", rounds, pmap.size());
    const Time c = median(cat), cap = median(capture), pa = median(parse), wo = median(world);
    print("cat /proc/PID/smaps (read(2))", c);
    print("capture (smaps + pagemap)", cap);
    if (havePmap)
        print("pmap -XX", median(pmap));
    else
        std::printf("pmap -XX                           skipped: pmap not found (procps)\n");
    print("load: decompress + parse", pa);
    print("load: worldFromSnapshot", wo);
    print("load: total", { pa.wall + wo.wall, pa.cpu + wo.cpu });
    ratio("capture / cat", cap, c, "<= 1.3");
    if (havePmap)
        ratio("pmap / capture", median(pmap), cap, ">= 5");
    return 0;
}
