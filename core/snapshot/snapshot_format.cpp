#include "core/snapshot/snapshot_format.h"

#include "core/assert.h"

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

Json processJson(const SnapshotProcess& p)
{
    Json j;
    j["pid"] = p.pid;
    j["ppid"] = p.ppid;
    j["name"] = p.name;
    Json status = Json::object();
    for (const auto& [k, v] : p.status)
        status[k] = v;
    j["status"] = std::move(status);
    Json vmas = Json::array();
    for (const SnapshotVma& v : p.vmas)
        vmas.push_back(vmaJson(v));
    j["vmas"] = std::move(vmas);
    Json pages = Json::array();
    for (const SnapshotPageRun& r : p.pages) {
        Json run = Json::array({ hex(r.run.start), hex(r.run.end), pageStateName(r.run.state), runFlags(r.run) });
        if (r.kpageflags)
            run.push_back(hex(r.kpageflags));
        pages.push_back(std::move(run));
    }
    j["pages"] = std::move(pages);
    return j;
}

Json snapshotJson(const Snapshot& s)
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
        procs.push_back(processJson(p));
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
    if (state == "none")
        run.state = PageState::None;
    else if (state == "present")
        run.state = PageState::Present;
    else if (state == "swap")
        run.state = PageState::Swap;
    else if (state == "guard")
        run.state = PageState::Guard;
    else
        return r.fail(path + "[2]", "unknown page state \"" + state.substr(0, 40) + "\"");
    for (char c : j[3].get_ref<const std::string&>()) {
        if (c == 'w')
            run.uffdWp = true;
        else if (c == 'x')
            run.exclusive = true;
        else if (c == 'f')
            run.file = true;
        else
            return r.fail(path + "[3]", std::string("unknown page flag '") + c + "' (known: w, x, f)");
    }
    return j.size() < 5 || r.hexValue(j[4], path + "[4]", &out->kpageflags);
}

bool readProcess(Reader& r, const Json& j, const std::string& path, SnapshotProcess* p)
{
    if (!r.num(j, path, "pid", &p->pid) || !r.num(j, path, "ppid", &p->ppid, false)
        || !r.str(j, path, "name", &p->name, false))
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
    const Json* vmas = r.member(j, path, "vmas");
    const Json* pages = r.member(j, path, "pages");
    if (!vmas || !pages)
        return false;
    if (!vmas->is_array() || !pages->is_array())
        return r.fail(path, "vmas and pages must be arrays");
    for (std::size_t i = 0; i < vmas->size(); ++i) {
        const std::string at = path + ".vmas[" + std::to_string(i) + "]";
        SnapshotVma v;
        if (!readVma(r, (*vmas)[i], at, &v))
            return false;
        if (!p->vmas.empty() && v.vma.start < p->vmas.back().vma.end)
            return r.fail(at, "VMAs overlap or are out of address order");
        p->vmas.push_back(std::move(v));
    }
    for (std::size_t i = 0; i < pages->size(); ++i) {
        const std::string at = path + ".pages[" + std::to_string(i) + "]";
        SnapshotPageRun run;
        if (!readRun(r, (*pages)[i], at, &run))
            return false;
        if (!p->pages.empty() && run.run.start < p->pages.back().run.end)
            return r.fail(at, "page runs overlap or are out of address order");
        p->pages.push_back(run);
    }
    return true;
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

} // namespace

std::string snapshotsToJson(const std::vector<Snapshot>& timeline)
{
    Json doc;
    doc["format"] = kFormatName;
    doc["version"] = kFormatVersion;
    Json entries = Json::array();
    for (const Snapshot& s : timeline)
        entries.push_back(snapshotJson(s));
    doc["snapshots"] = std::move(entries);
    // Invalid UTF-8 in a name (paths are bytes) is replaced rather than refused.
    return doc.dump(-1, ' ', false, Json::error_handler_t::replace);
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
    Json doc = Json::parse(*text, nullptr, false);
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
            "snapshot format version " + std::to_string(version) + ": this vmalab reads version "
                + std::to_string(kFormatVersion) + (version > kFormatVersion ? "; a newer vmalab wrote it" : "") };
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
