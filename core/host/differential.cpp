#include "core/host/differential.h"

#include "core/host/runner.h"
#include "core/report/check.h"
#include "core/report/window.h"
#include "core/scenario/parser.h"

#include <filesystem>
#include <algorithm>
#include <fstream>
#include <random>
#include <sstream>

namespace vmalab::host {

namespace {

constexpr unsigned windowPages = 512; // the 2 MiB arena
constexpr unsigned busyPages = 48; // most operations land here, so they meet each other

class Generator
{
public:
    explicit Generator(std::uint64_t seed, bool collapse = true)
        : m_rng(seed)
        , m_forkRng(seed ^ 0x666f726bull) // its own stream: the operations of a seed stay as they were
        , m_uffdRng(seed ^ 0x75666664ull) // likewise for userfaultfd
        , m_brkRng(seed ^ 0x62726bull) // and for brk
        , m_collapseRng(seed ^ 0x636f6cull) // and for MADV_COLLAPSE
        , m_collapse(collapse)
    {
    }

    std::string sequence(unsigned ops)
    {
        std::string out = "// random differential sequence\n";
        out += "arena_len = 512 * page_size\n";
        out += "arena = mmap(NULL, arena_len, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0)\n";
        if (chance(50)) {
            out += "mfd = memfd_create(\"m\", 0)\n";
            out += "ftruncate(mfd, " + std::to_string(pick(0, 64)) + " * page_size)\n";
            m_fds.push_back("mfd");
        }
        if (chance(35)) {
            out += "rfd = open_file(\"f\", " + std::to_string(pick(1, 64)) + " * page_size)\n";
            m_fds.push_back("rfd");
        }
        // Some sequences fork once; afterwards about half of the operations run in the child.
        const auto forkPick = [&](std::uint64_t lo, std::uint64_t hi) {
            return std::uniform_int_distribution<std::uint64_t>(lo, hi)(m_forkRng);
        };
        const std::uint64_t forkAt = ops > 0 && forkPick(0, 99) < 30 ? forkPick(0, ops - 1) : ops;
        const bool uffd = uffdPick(0, 99) < 30;
        if (uffd)
            out += uffdSetup();
        // Some sequences move the program break. It lies outside the window, so each call is an
        // expect (its verdict is compared); breaks stay at or above the one the process had.
        const bool brk = brkPick(0, 99) < 25;
        if (brk)
            out += "heap = brk(0)\ntop = (heap + page_size - 1) & ~(page_size - 1)\n";
        // Some sequences collapse THPs (unless --no-collapse); half of them first map the whole
        // (2 MiB aligned) window as one VMA with a written page, so that a block can collapse.
        const bool collapse = m_collapse && collapsePick(0, 99) < 20;
        if (collapse && collapsePick(0, 1))
            out += wholeWindowMapping();
        for (unsigned i = 0; i < ops; ++i) {
            if (i == forkAt)
                out += "child = fork()\n";
            if (brk && brkPick(0, 99) < 25)
                out += brkOperation();
            if (collapse && collapsePick(0, 99) < 15)
                out += "c" + std::to_string(i) + " = " + collapseOperation() + "\n";
            const bool uffdOp = uffd && uffdPick(0, 99) < 20;
            const std::string line = "r" + std::to_string(i) + " = " + (uffdOp ? uffdOperation() : operation());
            // Calls naming an fd stay in main: replay's child agent reuses fd numbers the scenario
            // closed for its own files, so a stale fd is not EBADF there (a replay limitation).
            const bool inChild = i > forkAt && forkPick(0, 1) && line.find("fd") == std::string::npos;
            out += (inChild ? "in child { " + line + " }" : line) + "\n";
        }
        return out;
    }

private:
    std::uint64_t collapsePick(std::uint64_t lo, std::uint64_t hi)
    {
        return std::uniform_int_distribution<std::uint64_t>(lo, hi)(m_collapseRng);
    }

    // The whole window as one VMA: shared memfd (its file may be shorter: pages past EOF) or
    // private anonymous memory, with one written page.
    std::string wholeWindowMapping()
    {
        const bool memfd = std::find(m_fds.begin(), m_fds.end(), "mfd") != m_fds.end() && collapsePick(0, 1);
        const std::string page = "arena + " + std::to_string(collapsePick(0, windowPages - 1)) + " * page_size";
        return std::string(memfd ? "mmap(arena, arena_len, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_FIXED, mfd, 0)\n"
                                 : "mmap(arena, arena_len, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED, -1, 0)\n")
            + "touch(" + page + ", page_size, PROT_WRITE)\n";
    }

    std::string collapseOperation()
    {
        if (collapsePick(0, 1))
            return "madvise(arena, arena_len, MADV_COLLAPSE)";
        const std::uint64_t first = collapsePick(0, windowPages - 1);
        const std::uint64_t pages = collapsePick(1, windowPages - first);
        return "madvise(arena + " + std::to_string(first) + " * page_size, " + std::to_string(pages)
            + " * page_size, MADV_COLLAPSE)";
    }

    std::uint64_t brkPick(std::uint64_t lo, std::uint64_t hi)
    {
        return std::uniform_int_distribution<std::uint64_t>(lo, hi)(m_brkRng);
    }

    std::string brkOperation()
    {
        const std::string target = "top + " + std::to_string(brkPick(0, 64)) + " * page_size"
            + (brkPick(0, 3) == 0 ? " + " + std::to_string(brkPick(1, 4095)) : "");
        if (brkPick(0, 9) == 0)
            return "expect brk(0) == brk(0)\n";
        return "expect brk(" + target + ") == " + target + "\n";
    }

    std::uint64_t uffdPick(std::uint64_t lo, std::uint64_t hi)
    {
        return std::uniform_int_distribution<std::uint64_t>(lo, hi)(m_uffdRng);
    }

    // A userfaultfd with SIGBUS always on (a fault that would wait for a monitor ends a replay),
    // and a random choice of the features that change what the kernel does.
    std::string uffdSetup()
    {
        std::string features = "UFFD_FEATURE_SIGBUS";
        if (uffdPick(0, 1))
            features += " | UFFD_FEATURE_WP_UNPOPULATED";
        if (uffdPick(0, 99) < 30)
            features += " | UFFD_FEATURE_EVENT_FORK";
        if (uffdPick(0, 99) < 30)
            features += " | UFFD_FEATURE_EVENT_REMAP";
        return "uffd = userfaultfd(O_CLOEXEC | O_NONBLOCK)\nuffdio_api(uffd, " + features + ")\n";
    }

    // Register, unregister or write-protect a random range. The range helpers draw from the
    // uffd stream, so sequences without userfaultfd stay what they were.
    std::string uffdOperation()
    {
        std::swap(m_rng, m_uffdRng);
        static const char* const modes[] = { "UFFDIO_REGISTER_MODE_MISSING", "UFFDIO_REGISTER_MODE_WP",
            "UFFDIO_REGISTER_MODE_WP", "UFFDIO_REGISTER_MODE_MISSING | UFFDIO_REGISTER_MODE_WP",
            "UFFDIO_REGISTER_MODE_MINOR" };
        std::uint64_t page = 0;
        std::string addr = address(&page);
        std::string len = length(page);
        const std::uint64_t kind = pick(0, 9);
        // Most write-protects aim inside a range registered earlier, where they do something.
        if (kind >= 6 && !m_registered.empty() && chance(70)) {
            const auto [from, pages] = m_registered[pick(0, m_registered.size() - 1)];
            const std::uint64_t first = from + pick(0, pages - 1);
            addr = "arena + " + std::to_string(first) + " * page_size";
            len = std::to_string(pick(1, from + pages - first)) + " * page_size";
        }
        std::string call;
        if (kind < 4) {
            call = "uffdio_register(uffd, " + addr + ", " + len + ", " + modes[pick(0, std::size(modes) - 1)] + ")";
            if (addr.find(" + ", addr.find("page_size")) == std::string::npos && len.find('+') == std::string::npos
                && len != "0")
                m_registered.emplace_back(page, std::stoull(len));
        }
        else if (kind < 6)
            call = "uffdio_unregister(uffd, " + addr + ", " + len + ")";
        else
            call = "uffdio_writeprotect(uffd, " + addr + ", " + len + ", " + (chance(75) ? "1" : "0") + ")";
        std::swap(m_rng, m_uffdRng);
        return call;
    }

    std::uint64_t pick(std::uint64_t lo, std::uint64_t hi)
    {
        return std::uniform_int_distribution<std::uint64_t>(lo, hi)(m_rng);
    }
    bool chance(unsigned percent) { return pick(0, 99) < percent; }

    // A page-aligned address in the busy part, sometimes anywhere in the window, sometimes
    // not aligned.
    std::string address(std::uint64_t* pageOut)
    {
        const std::uint64_t page = chance(90) ? pick(0, busyPages - 1) : pick(0, windowPages - 16);
        *pageOut = page;
        std::string a = "arena + " + std::to_string(page) + " * page_size";
        if (chance(4))
            a += " + " + std::to_string(pick(1, 4095));
        return a;
    }

    std::string length(std::uint64_t page)
    {
        const std::uint64_t room = windowPages - page - 1; // an unaligned start must not reach past the window
        const std::uint64_t pages = std::min<std::uint64_t>(room, chance(80) ? pick(1, 8) : pick(1, 24));
        if (chance(3))
            return "0";
        std::string l = std::to_string(pages) + " * page_size";
        if (chance(4) && pages > 1)
            l = std::to_string(pages - 1) + " * page_size + " + std::to_string(pick(1, 4095));
        return l;
    }

    std::string prot()
    {
        static const char* const prots[] = { "PROT_READ | PROT_WRITE", "PROT_READ | PROT_WRITE", "PROT_READ",
            "PROT_NONE", "PROT_READ | PROT_EXEC", "PROT_WRITE", "PROT_READ | PROT_WRITE | PROT_EXEC" };
        return prots[pick(0, std::size(prots) - 1)];
    }

    std::string mmapCall()
    {
        std::uint64_t page = 0;
        const std::string addr = address(&page);
        const std::string len = length(page);
        std::string flags;
        std::string fd = "-1";
        std::string off = "0";
        const std::uint64_t kind = pick(0, 9);
        if (kind < 5 || m_fds.empty()) {
            flags = chance(15) ? "MAP_SHARED | MAP_ANONYMOUS" : "MAP_PRIVATE | MAP_ANONYMOUS";
        } else {
            fd = m_fds[pick(0, m_fds.size() - 1)];
            flags = chance(50) ? "MAP_SHARED" : "MAP_PRIVATE";
            off = std::to_string(pick(0, 16)) + " * page_size";
        }
        flags += chance(85) ? " | MAP_FIXED" : " | MAP_FIXED_NOREPLACE";
        if (chance(8))
            flags += " | MAP_POPULATE";
        if (chance(8))
            flags += " | MAP_NORESERVE";
        if (chance(3))
            flags += " | MAP_LOCKED";
        if (chance(2))
            flags += " | MAP_GROWSDOWN";
        return "mmap(" + addr + ", " + len + ", " + prot() + ", " + flags + ", " + fd + ", " + off + ")";
    }

    // mremap that never lets the kernel choose an address: moves always carry MREMAP_FIXED
    // with a target inside the window, and a grow (which moves when it cannot grow in place
    // and MREMAP_MAYMOVE is given) is generated without MREMAP_MAYMOVE.
    std::string mremapCall()
    {
        std::uint64_t page = 0;
        const std::string addr = address(&page);
        const std::uint64_t oldPages = std::min<std::uint64_t>(pick(0, 8), windowPages - page - 1);
        std::uint64_t newPages = chance(50) ? oldPages : pick(1, 8);
        const std::uint64_t kind = pick(0, 9);
        if (kind < 4) { // resize in place: shrink, grow or no-op
            newPages = std::min<std::uint64_t>(newPages, windowPages - page - 1);
            return "mremap(" + addr + ", " + std::to_string(oldPages) + " * page_size, " + std::to_string(newPages)
                + " * page_size, 0)";
        }
        std::string flags = "MREMAP_MAYMOVE | MREMAP_FIXED";
        if (kind >= 8) {
            flags += " | MREMAP_DONTUNMAP";
            if (chance(90))
                newPages = oldPages;
        }
        if (chance(3))
            flags = chance(50) ? "MREMAP_FIXED" : "MREMAP_DONTUNMAP | MREMAP_FIXED"; // refused without MAYMOVE
        newPages = std::max<std::uint64_t>(newPages, 1);
        const std::uint64_t target = chance(80) ? pick(0, busyPages + 16) : pick(0, windowPages - 16);
        newPages = std::min<std::uint64_t>(newPages, windowPages - target);
        return "mremap(" + addr + ", " + std::to_string(oldPages) + " * page_size, " + std::to_string(newPages)
            + " * page_size, " + flags + ", arena + " + std::to_string(target) + " * page_size)";
    }

    std::string madviseCall()
    {
        static const char* const advice[] = { "MADV_NORMAL", "MADV_RANDOM", "MADV_SEQUENTIAL", "MADV_DONTFORK",
            "MADV_DOFORK", "MADV_WIPEONFORK", "MADV_KEEPONFORK", "MADV_DONTDUMP", "MADV_DODUMP", "MADV_HUGEPAGE",
            "MADV_NOHUGEPAGE", "MADV_MERGEABLE", "MADV_UNMERGEABLE", "MADV_DONTNEED", "MADV_DONTNEED",
            "MADV_DONTNEED_LOCKED", "MADV_FREE", "MADV_WILLNEED", "MADV_COLD", "MADV_PAGEOUT", "MADV_POPULATE_READ",
            "MADV_POPULATE_WRITE", "MADV_REMOVE", "5", "26", "MADV_GUARD_INSTALL", "MADV_GUARD_INSTALL",
            "MADV_GUARD_INSTALL", "MADV_GUARD_INSTALL", "MADV_GUARD_INSTALL", "MADV_GUARD_REMOVE", "MADV_GUARD_REMOVE",
            "MADV_GUARD_REMOVE" }; // guard regions: about a quarter of madvise calls (MADV_COLLAPSE: its own stream)
        std::uint64_t page = 0;
        const std::string addr = address(&page);
        return "madvise(" + addr + ", " + length(page) + ", " + advice[pick(0, std::size(advice) - 1)] + ")";
    }

    std::string mlockCall()
    {
        std::uint64_t page = 0;
        const std::string addr = address(&page);
        const std::string len = length(page);
        const std::uint64_t kind = pick(0, 9);
        if (kind < 4)
            return "mlock(" + addr + ", " + len + ")";
        if (kind < 6)
            return "mlock2(" + addr + ", " + len + (chance(90) ? ", MLOCK_ONFAULT)" : ", 2)");
        return "munlock(" + addr + ", " + len + ")";
    }

    std::string operation()
    {
        std::uint64_t page = 0;
        const std::uint64_t which = pick(0, 99);
        if (which < 24)
            return mmapCall();
        if (which < 38) {
            const std::string addr = address(&page);
            return "mprotect(" + addr + ", " + length(page) + ", " + prot() + ")";
        }
        if (which < 45) {
            const std::string addr = address(&page);
            return "munmap(" + addr + ", " + length(page) + ")";
        }
        if (which < 53)
            return mremapCall();
        if (which < 65)
            return madviseCall();
        if (which < 71)
            return mlockCall();
        if (which < 95 || m_fds.empty()) {
            const std::string addr = address(&page);
            return "touch(" + addr + ", " + length(page) + (chance(50) ? ", PROT_WRITE)" : ", PROT_READ)");
        }
        const std::string fd = m_fds[pick(0, m_fds.size() - 1)];
        if (fd == "mfd" || chance(50))
            return "ftruncate(" + fd + ", " + std::to_string(pick(0, 64)) + " * page_size)";
        return "close(" + fd + ")";
    }

    std::mt19937_64 m_rng;
    std::mt19937_64 m_forkRng;
    std::mt19937_64 m_uffdRng;
    std::mt19937_64 m_brkRng;
    std::mt19937_64 m_collapseRng;
    bool m_collapse = false;
    std::vector<std::pair<std::uint64_t, std::uint64_t>> m_registered; // (first page, pages) given to register
    std::vector<std::string> m_fds;
};

std::vector<std::string> splitLines(const std::string& text)
{
    std::vector<std::string> lines;
    std::stringstream in(text);
    std::string l;
    while (std::getline(in, l))
        lines.push_back(l);
    return lines;
}

std::string joinLines(const std::vector<std::string>& lines)
{
    std::string out;
    for (const std::string& l : lines)
        out += l + "\n";
    return out;
}

} // namespace

std::string generateSequence(std::uint64_t seed, unsigned ops, bool collapse)
{
    return Generator(seed, collapse).sequence(ops);
}

std::vector<std::string> compareOnBoth(
    const std::string& text, const Profile& profile, std::string* signature, bool* skipped)
{
    auto parsed = scenario::parseScenario(text, "fuzz.vlab");
    if (!parsed)
        return { "the generated scenario does not parse: " + parsed.error().front().format() };
    const ModelRun model = runOnModel(*parsed, profile);
    const scenario::RunOutcome kernel = runOnKernel(*parsed);
    if (skipped)
        *skipped = model.outcome.exitStatus == 77 || kernel.exitStatus == 77;
    report::CheckOptions opts;
    opts.file = "fuzz.vlab";
    const report::CheckResult r = report::compareRuns(model.outcome, kernel, opts);
    std::vector<std::string> lines;
    for (const report::Difference& d : r.differences)
        lines.push_back(d.line);
    std::string sig = report::differenceSignature(r.differences);
    if (model.outcome.exitStatus != kernel.exitStatus && (model.outcome.exitStatus == 2 || kernel.exitStatus == 2)) {
        lines.push_back("exit status: model " + std::to_string(model.outcome.exitStatus) + ", kernel "
            + std::to_string(kernel.exitStatus));
        for (const Diagnostic& d : model.outcome.errors)
            lines.push_back("model: " + d.format());
        for (const Diagnostic& d : kernel.errors)
            lines.push_back("kernel: " + d.format());
        sig += ";exit";
    }
    if (signature)
        *signature = sig;
    return lines;
}

std::string shrinkSequence(const std::string& text, const Profile& profile, const std::string& signature)
{
    std::vector<std::string> lines = splitLines(text);
    bool progress = true;
    while (progress) {
        progress = false;
        for (std::size_t i = lines.size(); i-- > 0;) {
            if (lines[i].rfind("arena", 0) == 0 || lines[i].rfind("//", 0) == 0)
                continue;
            std::vector<std::string> candidate = lines;
            candidate.erase(candidate.begin() + static_cast<std::ptrdiff_t>(i));
            const std::string candidateText = joinLines(candidate);
            if (!scenario::parseScenario(candidateText, "shrink.vlab"))
                continue;
            std::string sig;
            if (!compareOnBoth(candidateText, profile, &sig).empty() && sig == signature) {
                lines = std::move(candidate);
                progress = true;
            }
        }
    }
    return joinLines(lines);
}

FuzzSummary runDifferential(const FuzzOptions& options, const std::function<void(const std::string&)>& log)
{
    FuzzSummary sum;
    for (std::uint64_t seed = options.firstSeed; seed < options.firstSeed + options.count; ++seed) {
        const std::string text = generateSequence(seed, options.opsPerSequence, options.collapse);
        std::string signature;
        bool skipped = false;
        const std::vector<std::string> diffs = compareOnBoth(text, options.profile, &signature, &skipped);
        ++sum.ran;
        if (skipped) {
            ++sum.skipped;
            continue;
        }
        if (diffs.empty()) {
            ++sum.clean;
            continue;
        }
        ++sum.failed;
        const bool shrink = sum.failed <= options.maxShrink;
        log("seed " + std::to_string(seed) + ": " + std::to_string(diffs.size()) + " difference(s) [" + signature + "]"
            + (shrink ? ", shrinking" : ""));
        const std::string shrunk = shrink ? shrinkSequence(text, options.profile, signature) : text;
        std::filesystem::create_directories(options.outDir);
        const std::string path = options.outDir + "/fuzz-" + std::to_string(seed) + ".vlab";
        std::ofstream out(path);
        out << "// Shrunk by `vmalab-cli fuzz --seed " << seed << " --count 1`; differences:\n";
        std::string sig2;
        for (const std::string& d : compareOnBoth(shrunk, options.profile, &sig2))
            out << "//   " << d << "\n";
        out << shrunk;
        sum.failureFiles.push_back(path);
        log("  wrote " + path);
    }
    return sum;
}

} // namespace vmalab::host
