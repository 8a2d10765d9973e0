#include "core/snapshot/snapshot_format.h"

#include "core/assert.h"
#include "core/snapshot/smaps_text.h"

#include <algorithm>
#include <charconv>
#include <cstdio>
#include <cstring>
#include <limits>
#include <memory>
#include <nlohmann/json.hpp>
#include <zstd.h>

namespace vmalab::snapshot {

namespace {

using Json = nlohmann::ordered_json;

// A bigger document is refused rather than read: a small compressed file can claim any size.
constexpr std::size_t kMaxJsonBytes = std::size_t { 1 } << 30;
constexpr unsigned char kZstdMagic[4] = { 0x28, 0xb5, 0x2f, 0xfd };

std::string hex(std::uint64_t v)
{
    char buf[24];
    std::snprintf(buf, sizeof buf, "0x%llx", static_cast<unsigned long long>(v));
    return buf;
}

const char* thpName(MachineConfig::Thp t)
{
    switch (t) {
    case MachineConfig::Thp::Always:
        return "always";
    case MachineConfig::Thp::Madvise:
        return "madvise";
    case MachineConfig::Thp::Never:
        return "never";
    }
    return "madvise";
}

std::string runFlags(const PageRun& r)
{
    std::string f;
    if (r.uffdWp)
        f += 'w';
    if (r.exclusive)
        f += 'x';
    if (r.file)
        f += 'f';
    return f;
}

Json machineJson(const MachineConfig& m)
{
    Json j;
    j["kernel_release"] = m.kernelRelease;
    j["anon_vma_name"] = m.anonVmaName;
    j["soft_dirty"] = m.softDirty;
    j["userfaultfd"] = m.userfaultfd;
    j["pt_reclaim"] = m.ptReclaim;
    j["ksm"] = m.ksm;
    j["guard_regions"] = m.guardRegions;
    j["thp"] = thpName(m.thp);
    j["thp_use_zero_page"] = m.thpUseZeroPage;
    j["read_ahead_kb"] = m.readAheadKb;
    j["swap"] = m.swap;
    j["max_map_count"] = m.maxMapCount;
    j["mmap_min_addr"] = m.mmapMinAddr;
    j["overcommit_memory"] = m.overcommitMemory;
    j["mem_total_kb"] = m.memTotalKb;
    j["swap_total_kb"] = m.swapTotalKb;
    j["stack_rlimit"] = m.stackRlimit;
    j["tmp_is_tmpfs"] = m.tmpIsTmpfs;
    return j;
}

Json vmaJson(const SnapshotVma& s)
{
    const ObservedVma& v = s.vma;
    Json j;
    j["start"] = hex(v.start);
    j["end"] = hex(v.end);
    j["perms"] = v.perms;
    j["offset"] = hex(v.offset);
    char dev[24];
    std::snprintf(dev, sizeof dev, "%02x:%02x", v.devMajor, v.devMinor);
    j["dev"] = dev;
    j["inode"] = v.inode;
    j["name"] = v.name;
    // Fields in the kernel's order: numbers are kB, strings are lines kept verbatim.
    Json fields = Json::object();
    std::size_t text = 0;
    for (std::size_t kb = 0; kb <= v.smapsKb.size(); ++kb) {
        for (; text < s.textFields.size() && s.textFields[text].afterKb <= kb; ++text)
            fields[s.textFields[text].name] = s.textFields[text].value;
        if (kb < v.smapsKb.size())
            fields[v.smapsKb[kb].first] = v.smapsKb[kb].second;
    }
    j["smaps"] = std::move(fields);
    std::string flags;
    for (const std::string& f : v.vmFlags)
        flags += (flags.empty() ? "" : " ") + f;
    j["vmflags"] = flags;
    return j;
}

// The page runs as text, one per line: "START END STATE FLAGS[ KPAGEFLAGS]", hex without 0x,
// FLAGS "-" when there are none.
std::string pagesText(const std::vector<SnapshotPageRun>& runs)
{
    std::string out;
    out.reserve(runs.size() * 40);
    char buf[96];
    using ull = unsigned long long;
    for (const SnapshotPageRun& r : runs) {
        const std::string flags = runFlags(r.run);
        const int n = r.kpageflags
            ? std::snprintf(buf, sizeof buf, "%llx %llx %s %s %llx\n", ull(r.run.start), ull(r.run.end),
                pageStateName(r.run.state), flags.empty() ? "-" : flags.c_str(), ull(r.kpageflags))
            : std::snprintf(buf, sizeof buf, "%llx %llx %s %s\n", ull(r.run.start), ull(r.run.end),
                pageStateName(r.run.state), flags.empty() ? "-" : flags.c_str());
        out.append(buf, std::size_t(n));
    }
    return out;
}

// Whether the VMAs go into an smaps section: every one reads back the same, in address order.
bool smapsSectionFits(const std::vector<SnapshotVma>& vmas)
{
    for (std::size_t i = 0; i < vmas.size(); ++i)
        if (!smapsTextRoundTrips(vmas[i]) || (i && vmas[i].vma.start < vmas[i - 1].vma.end))
            return false;
    return true;
}

// The process; its VMAs (as smaps text) and page runs go to sections of their own.
Json processJson(const SnapshotProcess& p, std::vector<std::string>* sections)
{
    Json j;
    j["pid"] = p.pid;
    j["ppid"] = p.ppid;
    j["name"] = p.name;
    if (p.start_brk)
        j["start_brk"] = p.start_brk;
    Json status = Json::object();
    for (const auto& [k, v] : p.status)
        status[k] = v;
    j["status"] = std::move(status);
    if (smapsSectionFits(p.vmas)) {
        std::string text;
        text.reserve(p.vmas.size() * 512);
        for (const SnapshotVma& v : p.vmas)
            appendSmapsText(text, v);
        j["smaps_section"] = sections->size();
        sections->push_back(std::move(text));
    } else {
        Json vmas = Json::array();
        for (const SnapshotVma& v : p.vmas)
            vmas.push_back(vmaJson(v));
        j["vmas"] = std::move(vmas);
    }
    j["pages_section"] = sections->size();
    sections->push_back(pagesText(p.pages));
    return j;
}

Json snapshotJson(const Snapshot& s, std::vector<std::string>* sections)
{
    Json j;
    j["realtime_ns"] = s.realtimeNs;
    j["monotonic_ns"] = s.monotonicNs;
    j["frozen"] = s.frozen;
    j["pagemap_method"] = s.pagemapMethod;
    j["kpageflags"] = s.kpageflags;
    j["notes"] = s.notes;
    Json host;
    host["uname"] = { { "sysname", s.host.sysname }, { "nodename", s.host.nodename }, { "release", s.host.release },
        { "version", s.host.version }, { "machine", s.host.machine } };
    host["behaviour"] = s.host.behaviour;
    host["config"] = machineJson(s.host.config);
    host["notes"] = s.host.notes;
    j["host"] = std::move(host);
    Json procs = Json::array();
    for (const SnapshotProcess& p : s.processes)
        procs.push_back(processJson(p, sections));
    j["processes"] = std::move(procs);
    return j;
}

// Reading: every accessor checks the type and names the path of what it rejects, since the
// library would otherwise throw on a type mismatch.
class Reader
{
public:
    explicit Reader(std::string source)
        : m_source(std::move(source))
    {
    }
    bool failed() const { return m_failed; }
    Diagnostic error() const { return { m_source, 0, 0, m_message }; }
    // The text sections that follow the document (version 2), by index.
    std::vector<std::string> sections;
    const std::string* section(const Json& obj, const std::string& path, const char* key)
    {
        std::size_t i = 0;
        if (!num(obj, path, key, &i))
            return nullptr;
        if (i >= sections.size())
            return fail(path + "." + key, "no section " + std::to_string(i) + " follows the document"), nullptr;
        return &sections[i];
    }

    bool fail(const std::string& path, const std::string& what)
    {
        if (!m_failed) {
            m_failed = true;
            m_message = "bad snapshot: " + path + ": " + what;
        }
        return false;
    }
    const Json* member(const Json& obj, const std::string& path, const char* key, bool required = true)
    {
        if (!obj.is_object())
            return fail(path, "expected an object"), nullptr;
        auto it = obj.find(key);
        if (it == obj.end()) {
            if (required)
                fail(path, std::string("missing \"") + key + "\"");
            return nullptr;
        }
        return &*it;
    }
    bool str(const Json& obj, const std::string& path, const char* key, std::string* out, bool required = true)
    {
        const Json* v = member(obj, path, key, required);
        if (!v)
            return !required;
        if (!v->is_string())
            return fail(path + "." + key, "expected a string");
        *out = v->get_ref<const std::string&>();
        return true;
    }
    template <typename T>
    bool num(const Json& obj, const std::string& path, const char* key, T* out, bool required = true)
    {
        const Json* v = member(obj, path, key, required);
        if (!v)
            return !required;
        return number(*v, path + "." + key, out);
    }
    template <typename T> bool number(const Json& v, const std::string& path, T* out)
    {
        if (v.is_number_unsigned()) {
            const auto u = v.get<std::uint64_t>();
            if (u > static_cast<std::uint64_t>(std::numeric_limits<T>::max()))
                return fail(path, "number out of range");
            *out = static_cast<T>(u);
            return true;
        }
        if (v.is_number_integer()) {
            const auto s = v.get<std::int64_t>();
            if (s < 0 && !std::numeric_limits<T>::is_signed)
                return fail(path, "expected a number >= 0");
            if (s < static_cast<std::int64_t>(std::numeric_limits<T>::min()))
                return fail(path, "number out of range");
            *out = static_cast<T>(s);
            return true;
        }
        return fail(path, "expected an integer");
    }
    bool boolean(const Json& obj, const std::string& path, const char* key, bool* out)
    {
        const Json* v = member(obj, path, key, false);
        if (!v)
            return true; // absent booleans keep their defaults
        if (!v->is_boolean())
            return fail(path + "." + key, "expected true or false");
        *out = v->get<bool>();
        return true;
    }
    bool hexValue(const Json& v, const std::string& path, std::uint64_t* out)
    {
        if (!v.is_string())
            return fail(path, "expected a hex string such as \"0x7f0000000000\"");
        const std::string& s = v.get_ref<const std::string&>();
        if (s.size() < 3 || s[0] != '0' || (s[1] != 'x' && s[1] != 'X'))
            return fail(path, "expected a hex string such as \"0x7f0000000000\", not \"" + s.substr(0, 40) + "\"");
        const auto [ptr, ec] = std::from_chars(s.data() + 2, s.data() + s.size(), *out, 16);
        if (ec != std::errc() || ptr != s.data() + s.size())
            return fail(path, "malformed hex number \"" + s.substr(0, 40) + "\"");
        return true;
    }
    bool hexMember(const Json& obj, const std::string& path, const char* key, std::uint64_t* out)
    {
        const Json* v = member(obj, path, key);
        return v && hexValue(*v, path + "." + key, out);
    }
    bool strings(const Json& obj, const std::string& path, const char* key, std::vector<std::string>* out)
    {
        const Json* v = member(obj, path, key, false);
        if (!v)
            return true;
        if (!v->is_array())
            return fail(path + "." + key, "expected an array of strings");
        for (const Json& e : *v) {
            if (!e.is_string())
                return fail(path + "." + key, "expected an array of strings");
            out->push_back(e.get<std::string>());
        }
        return true;
    }

private:
    std::string m_source;
    bool m_failed = false;
    std::string m_message;
};

bool readMachine(Reader& r, const Json& j, const std::string& path, MachineConfig* m)
{
    std::string thp = thpName(m->thp);
    const bool ok = r.str(j, path, "kernel_release", &m->kernelRelease, false)
        && r.boolean(j, path, "anon_vma_name", &m->anonVmaName) && r.boolean(j, path, "soft_dirty", &m->softDirty)
        && r.boolean(j, path, "userfaultfd", &m->userfaultfd) && r.boolean(j, path, "pt_reclaim", &m->ptReclaim)
        && r.boolean(j, path, "ksm", &m->ksm) && r.boolean(j, path, "guard_regions", &m->guardRegions)
        && r.str(j, path, "thp", &thp, false) && r.boolean(j, path, "thp_use_zero_page", &m->thpUseZeroPage)
        && r.num(j, path, "read_ahead_kb", &m->readAheadKb, false) && r.boolean(j, path, "swap", &m->swap)
        && r.num(j, path, "max_map_count", &m->maxMapCount, false)
        && r.num(j, path, "mmap_min_addr", &m->mmapMinAddr, false)
        && r.num(j, path, "overcommit_memory", &m->overcommitMemory, false)
        && r.num(j, path, "mem_total_kb", &m->memTotalKb, false)
        && r.num(j, path, "swap_total_kb", &m->swapTotalKb, false)
        && r.num(j, path, "stack_rlimit", &m->stackRlimit, false) && r.boolean(j, path, "tmp_is_tmpfs", &m->tmpIsTmpfs);
    if (!ok)
        return false;
    if (thp == "always")
        m->thp = MachineConfig::Thp::Always;
    else if (thp == "madvise")
        m->thp = MachineConfig::Thp::Madvise;
    else if (thp == "never")
        m->thp = MachineConfig::Thp::Never;
    else
        return r.fail(path + ".thp", "expected always, madvise or never");
    return true;
}

bool readFields(Reader& r, const Json& fields, const std::string& path, SnapshotVma* s)
{
    if (!fields.is_object())
        return r.fail(path, "expected an object of smaps fields");
    for (auto it = fields.begin(); it != fields.end(); ++it) {
        if (it->is_string()) {
            s->textFields.push_back({ it.key(), it->get<std::string>(), s->vma.smapsKb.size() });
            continue;
        }
        std::uint64_t kb = 0;
        if (!r.number(*it, path + "." + it.key(), &kb))
            return false;
        s->vma.smapsKb.emplace_back(it.key(), kb);
    }
    return true;
}

bool readVma(Reader& r, const Json& j, const std::string& path, SnapshotVma* s)
{
    ObservedVma& v = s->vma;
    std::string dev, flags;
    if (!r.hexMember(j, path, "start", &v.start) || !r.hexMember(j, path, "end", &v.end)
        || !r.str(j, path, "perms", &v.perms) || !r.hexMember(j, path, "offset", &v.offset)
        || !r.str(j, path, "dev", &dev) || !r.num(j, path, "inode", &v.inode) || !r.str(j, path, "name", &v.name)
        || !r.str(j, path, "vmflags", &flags))
        return false;
    if (v.end <= v.start || !pageAligned(v.start) || !pageAligned(v.end))
        return r.fail(path, "the range is empty, reversed or not page aligned");
    if (v.perms.size() != 4)
        return r.fail(path + ".perms", "expected four characters such as \"rw-p\"");
    unsigned major = 0, minor = 0;
    const std::size_t colon = dev.find(':');
    const auto a = std::from_chars(dev.data(), dev.data() + (colon == std::string::npos ? 0 : colon), major, 16);
    const auto b = colon == std::string::npos
        ? std::from_chars_result { dev.data(), std::errc::invalid_argument }
        : std::from_chars(dev.data() + colon + 1, dev.data() + dev.size(), minor, 16);
    if (a.ec != std::errc() || b.ec != std::errc() || b.ptr != dev.data() + dev.size() || a.ptr != dev.data() + colon)
        return r.fail(path + ".dev", "expected MAJOR:MINOR in hex such as \"fd:01\"");
    v.devMajor = major;
    v.devMinor = minor;
    for (std::size_t i = 0; i < flags.size();) {
        const std::size_t sp = std::min(flags.find(' ', i), flags.size());
        if (sp > i)
            v.vmFlags.push_back(flags.substr(i, sp - i));
        i = sp + 1;
    }
    const Json* fields = r.member(j, path, "smaps");
    return fields && readFields(r, *fields, path + ".smaps", s);
}

// A run's state by name ("present"); false when unknown.
bool setRunState(std::string_view state, PageRun* run)
{
    if (state == "none")
        run->state = PageState::None;
    else if (state == "present")
        run->state = PageState::Present;
    else if (state == "swap")
        run->state = PageState::Swap;
    else if (state == "guard")
        run->state = PageState::Guard;
    else
        return false;
    return true;
}

// A run's flags ("wxf"); the first unknown letter, or 0.
char setRunFlags(std::string_view flags, PageRun* run)
{
    for (char c : flags) {
        if (c == 'w')
            run->uffdWp = true;
        else if (c == 'x')
            run->exclusive = true;
        else if (c == 'f')
            run->file = true;
        else
            return c;
    }
    return 0;
}

std::string unknownState(std::string_view state)
{
    return "unknown page state \"" + std::string(state.substr(0, 40)) + "\"";
}

std::string unknownFlag(char c)
{
    return std::string("unknown page flag '") + c + "' (known: w, x, f)";
}

bool readRun(Reader& r, const Json& j, const std::string& path, SnapshotPageRun* out)
{
    if (!j.is_array() || j.size() < 4 || j.size() > 5)
        return r.fail(path, "expected [start, end, state, flags] or [start, end, state, flags, kpageflags]");
    PageRun& run = out->run;
    if (!r.hexValue(j[0], path + "[0]", &run.start) || !r.hexValue(j[1], path + "[1]", &run.end))
        return false;
    if (run.end <= run.start || !pageAligned(run.start) || !pageAligned(run.end))
        return r.fail(path, "the run is empty, reversed or not page aligned");
    if (!j[2].is_string() || !j[3].is_string())
        return r.fail(path, "expected the state and the flags as strings");
    const std::string& state = j[2].get_ref<const std::string&>();
    if (!setRunState(state, &run))
        return r.fail(path + "[2]", unknownState(state));
    if (const char c = setRunFlags(j[3].get_ref<const std::string&>(), &run))
        return r.fail(path + "[3]", unknownFlag(c));
    return j.size() < 5 || r.hexValue(j[4], path + "[4]", &out->kpageflags);
}

// The VMAs: an smaps section (version 2) or an array of objects.
bool readVmas(Reader& r, const Json& j, const std::string& path, SnapshotProcess* p)
{
    if (r.member(j, path, "smaps_section", false)) {
        const std::string* text = r.section(j, path, "smaps_section");
        if (!text)
            return false;
        auto vmas = parseSmapsText(*text, "smaps");
        if (!vmas) {
            const Diagnostic& d = vmas.error().front();
            return r.fail(path + ".smaps_section",
                "line " + std::to_string(d.line) + " col " + std::to_string(d.col) + ": " + d.message);
        }
        p->vmas = std::move(*vmas);
        return true;
    }
    const Json* vmas = r.member(j, path, "vmas");
    if (!vmas)
        return false;
    if (!vmas->is_array())
        return r.fail(path + ".vmas", "expected an array");
    for (std::size_t i = 0; i < vmas->size(); ++i) {
        const std::string at = path + ".vmas[" + std::to_string(i) + "]";
        SnapshotVma v;
        if (!readVma(r, (*vmas)[i], at, &v))
            return false;
        if (!p->vmas.empty() && v.vma.start < p->vmas.back().vma.end)
            return r.fail(at, "VMAs overlap or are out of address order");
        p->vmas.push_back(std::move(v));
    }
    return true;
}

bool addRun(Reader& r, const std::string& at, const SnapshotPageRun& run, SnapshotProcess* p)
{
    if (!p->pages.empty() && run.run.start < p->pages.back().run.end)
        return r.fail(at, "page runs overlap or are out of address order");
    p->pages.push_back(run);
    return true;
}

bool hexWord(std::string_view w, std::uint64_t* v)
{
    const auto [ptr, ec] = std::from_chars(w.data(), w.data() + w.size(), *v, 16);
    return !w.empty() && ec == std::errc() && ptr == w.data() + w.size();
}

// One line of a pages section, "START END STATE FLAGS[ KPAGEFLAGS]"; what is wrong, or "".
std::string runFromLine(std::string_view line, SnapshotPageRun* out)
{
    std::string_view word[5];
    std::size_t words = 0;
    for (std::size_t i = 0;;) {
        const std::size_t sp = line.find(' ', i);
        if (words == 5)
            return "expected START END STATE FLAGS [KPAGEFLAGS]";
        word[words++] = line.substr(i, sp == std::string_view::npos ? sp : sp - i);
        if (sp == std::string_view::npos)
            break;
        i = sp + 1;
    }
    if (words < 4)
        return "expected START END STATE FLAGS [KPAGEFLAGS]";
    PageRun& run = out->run;
    if (!hexWord(word[0], &run.start) || !hexWord(word[1], &run.end)
        || (words == 5 && !hexWord(word[4], &out->kpageflags)))
        return "malformed hex number";
    if (run.end <= run.start || !pageAligned(run.start) || !pageAligned(run.end))
        return "the run is empty, reversed or not page aligned";
    if (!setRunState(word[2], &run))
        return unknownState(word[2]);
    if (const char c = setRunFlags(word[3] == "-" ? std::string_view() : word[3], &run))
        return unknownFlag(c);
    return {};
}

// The page runs: a pages section (version 2) or an array of arrays.
bool readPages(Reader& r, const Json& j, const std::string& path, SnapshotProcess* p)
{
    if (r.member(j, path, "pages_section", false)) {
        const std::string* text = r.section(j, path, "pages_section");
        if (!text)
            return false;
        p->pages.reserve(std::size_t(std::count(text->begin(), text->end(), '\n')));
        std::size_t lineNo = 0;
        for (std::size_t pos = 0; pos < text->size();) {
            const std::size_t nl = text->find('\n', pos);
            ++lineNo;
            SnapshotPageRun run;
            std::string problem = nl == std::string::npos
                ? "the last line has no newline"
                : runFromLine(std::string_view(*text).substr(pos, nl - pos), &run);
            if (problem.empty() && !p->pages.empty() && run.run.start < p->pages.back().run.end)
                problem = "page runs overlap or are out of address order";
            if (!problem.empty())
                return r.fail(path + ".pages_section line " + std::to_string(lineNo), problem);
            p->pages.push_back(run);
            pos = nl + 1;
        }
        return true;
    }
    const Json* pages = r.member(j, path, "pages");
    if (!pages)
        return false;
    if (!pages->is_array())
        return r.fail(path + ".pages", "expected an array");
    for (std::size_t i = 0; i < pages->size(); ++i) {
        const std::string at = path + ".pages[" + std::to_string(i) + "]";
        SnapshotPageRun run;
        if (!readRun(r, (*pages)[i], at, &run) || !addRun(r, at, run, p))
            return false;
    }
    return true;
}

bool readProcess(Reader& r, const Json& j, const std::string& path, SnapshotProcess* p)
{
    if (!r.num(j, path, "pid", &p->pid) || !r.num(j, path, "ppid", &p->ppid, false)
        || !r.str(j, path, "name", &p->name, false) || !r.num(j, path, "start_brk", &p->start_brk, false))
        return false;
    if (const Json* status = r.member(j, path, "status", false)) {
        if (!status->is_object())
            return r.fail(path + ".status", "expected an object of strings");
        for (auto it = status->begin(); it != status->end(); ++it) {
            if (!it->is_string())
                return r.fail(path + ".status." + it.key(), "expected a string");
            p->status.emplace_back(it.key(), it->get<std::string>());
        }
    }
    return readVmas(r, j, path, p) && readPages(r, j, path, p);
}

bool readSnapshot(Reader& r, const Json& j, const std::string& path, Snapshot* s)
{
    if (!r.num(j, path, "realtime_ns", &s->realtimeNs, false) || !r.num(j, path, "monotonic_ns", &s->monotonicNs, false)
        || !r.boolean(j, path, "frozen", &s->frozen) || !r.str(j, path, "pagemap_method", &s->pagemapMethod, false)
        || !r.boolean(j, path, "kpageflags", &s->kpageflags) || !r.strings(j, path, "notes", &s->notes))
        return false;
    if (const Json* host = r.member(j, path, "host", false)) {
        const std::string hp = path + ".host";
        if (const Json* u = r.member(*host, hp, "uname", false)) {
            const std::string up = hp + ".uname";
            if (!r.str(*u, up, "sysname", &s->host.sysname, false)
                || !r.str(*u, up, "nodename", &s->host.nodename, false)
                || !r.str(*u, up, "release", &s->host.release, false)
                || !r.str(*u, up, "version", &s->host.version, false)
                || !r.str(*u, up, "machine", &s->host.machine, false))
                return false;
        }
        if (!r.str(*host, hp, "behaviour", &s->host.behaviour, false) || !r.strings(*host, hp, "notes", &s->host.notes))
            return false;
        if (const Json* c = r.member(*host, hp, "config", false);
            c && !readMachine(r, *c, hp + ".config", &s->host.config))
            return false;
    }
    const Json* procs = r.member(j, path, "processes");
    if (!procs)
        return false;
    if (!procs->is_array())
        return r.fail(path + ".processes", "expected an array");
    for (std::size_t i = 0; i < procs->size(); ++i) {
        SnapshotProcess p;
        if (!readProcess(r, (*procs)[i], path + ".processes[" + std::to_string(i) + "]", &p))
            return false;
        s->processes.push_back(std::move(p));
    }
    return true;
}

// The JSON text of a file: zstd frames are decompressed (up to kMaxJsonBytes), anything
// else is taken as JSON already.
Result<std::string> jsonText(std::string_view bytes, const std::string& source)
{
    if (bytes.size() < 4 || std::memcmp(bytes.data(), kZstdMagic, 4) != 0)
        return std::string(bytes);
    std::unique_ptr<ZSTD_DStream, decltype(&ZSTD_freeDStream)> ds(ZSTD_createDStream(), ZSTD_freeDStream);
    if (!ds)
        return Diagnostic { source, 0, 0, "cannot decompress: out of memory" };
    ZSTD_initDStream(ds.get());
    std::string out;
    ZSTD_inBuffer in { bytes.data(), bytes.size(), 0 };
    std::string chunk(ZSTD_DStreamOutSize(), '\0');
    for (;;) {
        ZSTD_outBuffer o { chunk.data(), chunk.size(), 0 };
        const std::size_t ret = ZSTD_decompressStream(ds.get(), &o, &in);
        if (ZSTD_isError(ret))
            return Diagnostic { source, 0, 0, std::string("corrupt compressed snapshot: ") + ZSTD_getErrorName(ret) };
        out.append(chunk.data(), o.pos);
        if (out.size() > kMaxJsonBytes)
            return Diagnostic { source, 0, 0, "snapshot too large: more than 1 GiB of JSON" };
        // All input read and the output not filled: the decoder holds nothing more.
        if (in.pos == in.size && o.pos < o.size) {
            if (ret != 0)
                return Diagnostic { source, 0, 0, "truncated compressed snapshot: the zstd frame is incomplete" };
            break;
        }
    }
    return out;
}

// A section as a JSON string: escapes where JSON requires them; bytes of 0x80 and above are
// kept as they are, so that a name which is not UTF-8 reads back unchanged.
void appendJsonString(std::string& out, std::string_view s)
{
    static constexpr char kHex[] = "0123456789abcdef";
    out += '"';
    std::size_t plain = 0;
    for (std::size_t i = 0; i < s.size(); ++i) {
        const unsigned char c = static_cast<unsigned char>(s[i]);
        if (c >= 0x20 && c != '"' && c != '\\')
            continue;
        out.append(s.data() + plain, i - plain);
        plain = i + 1;
        out += '\\';
        if (c == '"' || c == '\\')
            out += char(c);
        else if (c == '\n')
            out += 'n';
        else if (c == '\t')
            out += 't';
        else {
            out += "u00";
            out += kHex[c >> 4];
            out += kHex[c & 15];
        }
    }
    out.append(s.data() + plain, s.size() - plain);
    out += '"';
}

void appendUtf8(std::string& out, std::uint32_t cp)
{
    if (cp < 0x80) {
        out += char(cp);
    } else if (cp < 0x800) {
        out += char(0xc0 | (cp >> 6));
        out += char(0x80 | (cp & 0x3f));
    } else if (cp < 0x10000) {
        out += char(0xe0 | (cp >> 12));
        out += char(0x80 | ((cp >> 6) & 0x3f));
        out += char(0x80 | (cp & 0x3f));
    } else {
        out += char(0xf0 | (cp >> 18));
        out += char(0x80 | ((cp >> 12) & 0x3f));
        out += char(0x80 | ((cp >> 6) & 0x3f));
        out += char(0x80 | (cp & 0x3f));
    }
}

bool hex4(std::string_view s, std::size_t at, std::uint32_t* v)
{
    if (at + 4 > s.size())
        return false;
    const auto [ptr, ec] = std::from_chars(s.data() + at, s.data() + at + 4, *v, 16);
    return ec == std::errc() && ptr == s.data() + at + 4;
}

// The JSON string that starts at s[*pos] (its opening quote), unescaped; *pos ends after the
// closing quote. What is wrong, or "".
std::string readJsonString(std::string_view s, std::size_t* pos, std::string* out)
{
    std::size_t i = *pos + 1;
    while (i < s.size()) {
        std::size_t plain = i;
        while (plain < s.size() && s[plain] != '"' && s[plain] != '\\' && static_cast<unsigned char>(s[plain]) >= 0x20)
            ++plain;
        out->append(s.data() + i, plain - i);
        i = plain;
        if (i >= s.size())
            break;
        if (s[i] == '"') {
            *pos = i + 1;
            return {};
        }
        if (s[i] != '\\')
            return "a control character inside a string (a line cut short?)";
        if (i + 1 >= s.size())
            break;
        const char e = s[i + 1];
        i += 2;
        switch (e) {
        case '"':
        case '\\':
        case '/':
            *out += e;
            break;
        case 'b':
            *out += '\b';
            break;
        case 'f':
            *out += '\f';
            break;
        case 'n':
            *out += '\n';
            break;
        case 'r':
            *out += '\r';
            break;
        case 't':
            *out += '\t';
            break;
        case 'u': {
            std::uint32_t cp = 0, low = 0;
            if (!hex4(s, i, &cp))
                return "malformed \\u escape";
            i += 4;
            if (cp >= 0xd800 && cp < 0xdc00) {
                if (s.substr(i, 2) != "\\u" || !hex4(s, i + 2, &low) || low < 0xdc00 || low >= 0xe000)
                    return "a lone UTF-16 surrogate in a \\u escape";
                i += 6;
                cp = 0x10000 + ((cp - 0xd800) << 10) + (low - 0xdc00);
            } else if (cp >= 0xdc00 && cp < 0xe000) {
                return "a lone UTF-16 surrogate in a \\u escape";
            }
            appendUtf8(*out, cp);
            break;
        }
        default:
            return std::string("unknown escape \\") + e;
        }
    }
    return "a string without its closing quote (the file is cut short)";
}

// Where the first JSON value of the text ends (after its closing brace), or the text's size
// when it does not end: nlohmann then says what is wrong with it.
std::size_t documentEnd(std::string_view s)
{
    std::size_t i = s.find_first_not_of(" \t\r\n");
    if (i == std::string_view::npos || s[i] != '{')
        return s.size();
    int depth = 0;
    bool inString = false;
    for (; i < s.size(); ++i) {
        const char c = s[i];
        if (inString) {
            if (c == '\\')
                ++i;
            else if (c == '"')
                inString = false;
        } else if (c == '"') {
            inString = true;
        } else if (c == '{' || c == '[') {
            ++depth;
        } else if ((c == '}' || c == ']') && --depth == 0) {
            return i + 1;
        }
    }
    return s.size();
}

// Version 2: after the document, each section on a line of its own as a JSON string, and a
// final newline. What is wrong, or "".
std::string readSections(std::string_view rest, std::vector<std::string>* out)
{
    for (std::size_t pos = 0;;) {
        if (pos >= rest.size() || rest[pos] != '\n')
            return "section " + std::to_string(out->size()) + ": expected a newline and a JSON string"
                + (pos >= rest.size() ? " (the file is cut short)" : "");
        if (++pos == rest.size())
            return {};
        if (rest[pos] != '"')
            return "section " + std::to_string(out->size()) + ": expected a JSON string";
        out->emplace_back();
        const std::string problem = readJsonString(rest, &pos, &out->back());
        if (!problem.empty())
            return "section " + std::to_string(out->size() - 1) + ": " + problem;
    }
}

} // namespace

std::string snapshotsToJson(const std::vector<Snapshot>& timeline)
{
    Json doc;
    doc["format"] = kFormatName;
    doc["version"] = kFormatVersion;
    std::vector<std::string> sections;
    Json entries = Json::array();
    for (const Snapshot& s : timeline)
        entries.push_back(snapshotJson(s, &sections));
    doc["snapshots"] = std::move(entries);
    // Invalid UTF-8 in a name (paths are bytes) is replaced rather than refused.
    std::string out = doc.dump(-1, ' ', false, Json::error_handler_t::replace);
    std::size_t size = out.size() + 2;
    for (const std::string& t : sections)
        size += t.size() + t.size() / 16 + 3;
    out.reserve(size);
    for (const std::string& t : sections) {
        out += '\n';
        appendJsonString(out, t);
    }
    out += '\n';
    return out;
}

std::string writeSnapshots(const std::vector<Snapshot>& timeline)
{
    const std::string json = snapshotsToJson(timeline);
    std::string out(ZSTD_compressBound(json.size()), '\0');
    const std::size_t n = ZSTD_compress(out.data(), out.size(), json.data(), json.size(), 3);
    VMALAB_ASSERT(!ZSTD_isError(n), "zstd compression into a buffer of compressBound() size failed");
    out.resize(n);
    return out;
}

Result<std::vector<Snapshot>> parseSnapshots(std::string_view bytes, const std::string& sourceName)
{
    auto text = jsonText(bytes, sourceName);
    if (!text)
        return text.error();
    // Version 2 puts text sections after the document: parse the document alone first.
    const std::size_t end = documentEnd(*text);
    const std::string_view rest = std::string_view(*text).substr(end);
    Json doc = Json::parse(text->data(), text->data() + end, nullptr, false);
    if (doc.is_discarded())
        return Diagnostic { sourceName, 0, 0, "not a snapshot: the file is neither zstd-compressed nor valid JSON" };
    Reader r(sourceName);
    std::string format;
    int version = 0;
    if (!r.str(doc, "(top)", "format", &format))
        return r.error();
    if (format != kFormatName)
        return Diagnostic { sourceName, 0, 0, "not a snapshot: format is \"" + format.substr(0, 40) + "\"" };
    if (!r.num(doc, "(top)", "version", &version))
        return r.error();
    if (version > kFormatVersion || version < 1)
        return Diagnostic { sourceName, 0, 0,
            "snapshot format version " + std::to_string(version) + ": this vmalab reads versions 1 to "
                + std::to_string(kFormatVersion) + (version > kFormatVersion ? "; a newer vmalab wrote it" : "") };
    if (version == 1 && rest.find_first_not_of(" \t\r\n") != std::string_view::npos)
        return Diagnostic { sourceName, 0, 0, "not a snapshot: the file is neither zstd-compressed nor valid JSON" };
    if (version >= 2) {
        const std::string problem = readSections(rest, &r.sections);
        if (!problem.empty())
            return Diagnostic { sourceName, 0, 0, "bad snapshot: sections: " + problem };
    }
    const Json* entries = r.member(doc, "(top)", "snapshots");
    if (!entries)
        return r.error();
    if (!entries->is_array())
        return Diagnostic { sourceName, 0, 0, "bad snapshot: snapshots: expected an array" };
    std::vector<Snapshot> out;
    for (std::size_t i = 0; i < entries->size(); ++i) {
        Snapshot s;
        if (!readSnapshot(r, (*entries)[i], "snapshots[" + std::to_string(i) + "]", &s))
            return r.error();
        out.push_back(std::move(s));
    }
    return out;
}

Result<Snapshot> parseSnapshot(std::string_view bytes)
{
    auto all = parseSnapshots(bytes);
    if (!all)
        return all.error();
    if (all->size() != 1)
        return Diagnostic { "", 0, 0,
            "expected one snapshot, the file holds " + std::to_string(all->size()) + " (a watch timeline)" };
    return std::move(all->front());
}

} // namespace vmalab::snapshot
