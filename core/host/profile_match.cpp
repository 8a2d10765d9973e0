#include "core/host/profile_match.h"

#include "core/assert.h"
#include "core/host/host_facts.h"
#include "core/host/runner.h"
#include "core/report/check.h"
#include "core/scenario/parser.h"

#include <map>

namespace vmalab::host {

namespace {

struct Probe
{
    const char* name;
    const char* text;
};

// Small scenarios, one per profile row of kernel-model.md §17 that this kernel can run. The
// shipped scenarios of the same rows (docs/guard-regions.md) narrate them; these stay short so
// the probe runs in well under a second per profile.
constexpr const char* arena = "arena_len = 512 * page_size\n"
                              "arena = mmap(NULL, arena_len, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0)\n";

const Probe probes[] = {
    { "P1 gu after guard install and remove",
      "require \"guard-regions\"\n"
      "p = mmap(arena + 16 * page_size, 4 * page_size, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED, -1, 0)\n"
      "madvise(p + page_size, page_size, MADV_GUARD_INSTALL)\n"
      "madvise(p + page_size, page_size, MADV_GUARD_REMOVE)\n" },
    { "P3 guarded memfd VMAs merge",
      "require \"guard-regions\"\n"
      "fd = memfd_create(\"p3\", 0)\n"
      "ftruncate(fd, 16 * page_size)\n"
      "x = mmap(arena + 16 * page_size, 8 * page_size, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_FIXED, fd, 0)\n"
      "madvise(x, 4 * page_size, MADV_RANDOM)\n"
      "madvise(x + page_size, page_size, MADV_GUARD_INSTALL)\n"
      "madvise(x + 5 * page_size, page_size, MADV_GUARD_INSTALL)\n"
      "madvise(x, 4 * page_size, MADV_NORMAL)\n" },
    { "P4 fork child's new neighbour merges",
      "require \"guard-regions\"\n"
      "fd = memfd_create(\"p4\", 0)\n"
      "ftruncate(fd, 16 * page_size)\n"
      "x = mmap(arena + 16 * page_size, 4 * page_size, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_FIXED, fd, 0)\n"
      "madvise(x + page_size, page_size, MADV_GUARD_INSTALL)\n"
      "child = fork()\n"
      "in child { mmap(arena + 20 * page_size, 4 * page_size, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_FIXED, fd, 4 * page_size) }\n" },
    { "P6 fork of a uffd-wp memfd VMA",
      "require \"userfaultfd\"\n"
      "fd = memfd_create(\"p6\", 0)\n"
      "ftruncate(fd, 8 * page_size)\n"
      "m = mmap(arena + 16 * page_size, 8 * page_size, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_FIXED, fd, 0)\n"
      "touch(m, 4 * page_size, PROT_WRITE)\n"
      "u = userfaultfd(O_CLOEXEC | O_NONBLOCK)\n"
      "uffdio_api(u, UFFD_FEATURE_SIGBUS)\n"
      "uffdio_register(u, m, 8 * page_size, UFFDIO_REGISTER_MODE_WP)\n"
      "uffdio_writeprotect(u, m, 6 * page_size, 1)\n"
      "child = fork()\n" },
    { "P7 the same with EVENT_FORK",
      "require \"userfaultfd\"\n"
      "fd = memfd_create(\"p7\", 0)\n"
      "ftruncate(fd, 8 * page_size)\n"
      "m = mmap(arena + 16 * page_size, 8 * page_size, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_FIXED, fd, 0)\n"
      "touch(m, 4 * page_size, PROT_WRITE)\n"
      "u = userfaultfd(O_CLOEXEC | O_NONBLOCK)\n"
      "uffdio_api(u, UFFD_FEATURE_SIGBUS | UFFD_FEATURE_EVENT_FORK)\n"
      "uffdio_register(u, m, 8 * page_size, UFFDIO_REGISTER_MODE_WP)\n"
      "uffdio_writeprotect(u, m, 6 * page_size, 1)\n"
      "child = fork()\n" },
};

// `require` must come first: the window goes after the probe's require lines.
std::string probeText(const Probe& p)
{
    std::string text = p.text;
    const std::size_t body = text.find('\n') + 1;
    return text.substr(0, body) + arena + text.substr(body);
}

} // namespace

std::vector<ProfileMatch> matchProfiles(std::vector<std::string>* notes)
{
    const MachineConfig machine = readMachineConfig(nullptr);
    std::vector<ProfileMatch> out;
    for (const Probe& p : probes) {
        auto parsed = scenario::parseScenario(probeText(p), std::string("probe:") + p.name);
        VMALAB_ASSERT(parsed, "the built-in probe scenarios parse");
        const scenario::RunOutcome kernel = runOnKernel(*parsed);
        if (kernel.exitStatus == 77 || kernel.exitStatus == 2) {
            if (notes)
                notes->push_back(std::string(p.name) + ": not run on this kernel ("
                                 + (kernel.errors.empty() ? std::string("skipped") : kernel.errors.front().message) + ")");
            continue;
        }
        for (const std::string& name : builtinProfileNames()) {
            const ModelRun model = runOnModel(*parsed, *builtinProfile(name, machine));
            const report::CheckResult r = report::compareRuns(model.outcome, kernel);
            ProfileMatch m { p.name, name, r.differences.empty() && model.outcome.exitStatus == kernel.exitStatus, {} };
            for (const report::Difference& d : r.differences)
                m.differences.push_back(d.line);
            out.push_back(std::move(m));
        }
    }
    return out;
}

std::string profileMatchReport()
{
    std::vector<std::string> notes;
    const std::vector<ProfileMatch> matches = matchProfiles(&notes);
    std::string out = "profiles against this kernel (each probe replayed here and run on the model):\n";
    std::map<std::string, bool> allMatch;
    for (const std::string& name : builtinProfileNames())
        allMatch[name] = true;
    std::string current;
    for (const ProfileMatch& m : matches) {
        if (m.probe != current) {
            current = m.probe;
            out += "  " + current + ":\n";
        }
        out += "    " + m.profile + (m.matches ? ": same\n" : ": differs — " + (m.differences.empty() ? std::string("exit status") : m.differences.front()) + "\n");
        allMatch[m.profile] = allMatch[m.profile] && m.matches;
    }
    for (const std::string& n : notes)
        out += "  " + n + "\n";
    std::string matching;
    for (const auto& [name, ok] : allMatch)
        if (ok)
            matching += (matching.empty() ? "" : ", ") + name;
    out += "matches every probe: " + (matching.empty() ? std::string("none") : matching) + "\n";
    return out;
}

} // namespace vmalab::host
