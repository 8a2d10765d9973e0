#include "core/scenario/interpreter.h"

#include "core/assert.h"
#include "core/scenario/calls.h"
#include "core/scenario/checker.h"
#include "core/scenario/uapi.h"
#include "core/snapshot/snapshot.h"

#include <cerrno>
#include <cinttypes>
#include <cstdio>
#include <cstdlib>
#include <limits>
#include <map>
#include <unordered_map>

namespace vmalab::scenario {

namespace {

using U64 = std::uint64_t;

// C's int64_t arithmetic, made total: overflow wraps (done in unsigned arithmetic, where
// wrapping is defined), INT64_MIN / -1 wraps to INT64_MIN with remainder 0, shift counts are
// taken modulo 64 (the low six bits, as x86's shift instructions do), `>>` is arithmetic.
// Division by zero is the caller's error; this returns nullopt for it.
std::optional<std::int64_t> applyBinary(const std::string& op, std::int64_t l, std::int64_t r)
{
    const U64 ul = static_cast<U64>(l);
    const U64 ur = static_cast<U64>(r);
    if (op == "+")
        return static_cast<std::int64_t>(ul + ur);
    if (op == "-")
        return static_cast<std::int64_t>(ul - ur);
    if (op == "*")
        return static_cast<std::int64_t>(ul * ur);
    if (op == "/" || op == "%") {
        if (r == 0)
            return std::nullopt;
        if (l == std::numeric_limits<std::int64_t>::min() && r == -1)
            return op == "/" ? l : 0;
        return op == "/" ? l / r : l % r;
    }
    if (op == "<<")
        return static_cast<std::int64_t>(ul << (ur & 63));
    if (op == ">>")
        return l >> (ur & 63); // arithmetic since C++20
    if (op == "&")
        return l & r;
    if (op == "^")
        return l ^ r;
    VMALAB_ASSERT(op == "|", "a binary operator of the language");
    return l | r;
}

std::int64_t applyUnary(const std::string& op, std::int64_t v)
{
    if (op == "-")
        return static_cast<std::int64_t>(U64 { 0 } - static_cast<U64>(v));
    if (op == "~")
        return ~v;
    VMALAB_ASSERT(op == "+", "a unary operator of the language");
    return v;
}

// Counts the calls in `stmts` (fork() included) and returns the first call past `limit`.
const Expr* callPastLimit(const std::vector<Stmt>& stmts, std::uint64_t limit, std::uint64_t& count)
{
    struct Walk
    {
        std::uint64_t limit;
        std::uint64_t& count;
        const Expr* expr(const Expr* e)
        {
            if (!e)
                return nullptr;
            for (const ExprPtr& a : e->args) {
                if (const Expr* past = expr(a.get()))
                    return past;
            }
            if (e->kind == Expr::Kind::Call && ++count > limit)
                return e;
            return nullptr;
        }
    };
    Walk walk { limit, count };
    for (const Stmt& s : stmts) {
        if (const Expr* past = walk.expr(s.expr.get()))
            return past;
        if (const Expr* past = walk.expr(s.rhs.get()))
            return past;
        if (const Expr* past = callPastLimit(s.body, limit, count))
            return past;
    }
    return nullptr;
}

std::string limitHint(const char* name, std::uint64_t value)
{
    return std::string(" (limit ") + name + "=" + std::to_string(value) + "; raise it with --limit " + name
        + "=N or VMALAB_LIMITS, see docs/limits.md)";
}

class Interpreter
{
public:
    Interpreter(const Scenario& scenario, Backend& backend, StepListener* listener, const RunLimits& limits)
        : m_scenario(scenario)
        , m_backend(backend)
        , m_listener(listener)
        , m_limits(limits)
    {
        m_procIndex["main"] = 0;
    }

    RunOutcome run()
    {
        Diagnostics problems = checkScenario(m_scenario);
        if (!problems.empty()) {
            m_out.exitStatus = 2;
            m_out.errors = std::move(problems);
            return std::move(m_out);
        }
        std::uint64_t calls = 0;
        if (const Expr* past = callPastLimit(m_scenario.stmts, m_limits.maxCalls, calls)) {
            runtimeError(past->loc, "the scenario makes more than " + std::to_string(m_limits.maxCalls) + " calls"
                    + limitHint("max-calls", m_limits.maxCalls));
            return std::move(m_out);
        }
        for (const std::string& feature : scenarioRequires(m_scenario)) {
            if (const auto missing = m_backend.missingFeature(feature)) {
                m_out.exitStatus = 77;
                m_out.skipReason = *missing;
                return std::move(m_out);
            }
        }
        if (!startFromSnapshot())
            return std::move(m_out);
        if (const auto startError = m_backend.start()) {
            m_out.exitStatus = 2;
            m_out.errors.push_back(Diagnostic { m_scenario.file, 0, 0, *startError });
            m_backend.finish();
            return std::move(m_out);
        }
        m_out.ran = true;
        execStmts(m_scenario.stmts);
        m_out.processes = m_backend.observe();
        for (std::size_t i = 0; i < m_out.processes.size() && i < m_procNames.size(); ++i)
            m_out.processes[i].name = m_procNames[i];
        m_backend.finish();
        return std::move(m_out);
    }

private:
    // The snapshot a recording file names (the last of its timeline); nullptr after a
    // run-time error at `loc` when the file was not loaded.
    const snapshot::Snapshot* snapshotFile(const std::string& path, SourceLoc loc)
    {
        const auto it = m_scenario.snapshotFiles.find(path);
        if (it == m_scenario.snapshotFiles.end() || !it->second || it->second->empty()) {
            runtimeError(loc, "the snapshot file \"" + path + "\" was not loaded (recordings are opened from a file)");
            return nullptr;
        }
        return &it->second->back();
    }

    // start_from: the backend starts from the snapshot; its processes are main, then p<PID>.
    bool startFromSnapshot()
    {
        const Stmt* start = nullptr;
        for (const Stmt& st : m_scenario.stmts)
            if (st.kind == Stmt::Kind::StartFrom)
                start = &st;
        if (!start)
            return true;
        const snapshot::Snapshot* snap = snapshotFile(start->name, start->loc);
        if (!snap)
            return false;
        if (const auto refused = m_backend.startFromSnapshot(*snap)) {
            runtimeError(start->loc, *refused);
            return false;
        }
        for (std::size_t i = 1; i < snap->processes.size(); ++i) {
            const std::string name = "p" + std::to_string(snap->processes[i].pid);
            m_procIndex[name] = static_cast<ProcIndex>(m_procNames.size());
            m_procNames.push_back(name);
        }
        return true;
    }

    // false once a run-time error stopped the run.
    bool execStmts(const std::vector<Stmt>& stmts)
    {
        for (const Stmt& s : stmts) {
            if (!exec(s))
                return false;
        }
        return true;
    }

    bool exec(const Stmt& s)
    {
        if (s.kind == Stmt::Kind::Profile || s.kind == Stmt::Kind::Require)
            return true; // read before the run, by runScenario() and the CLI
        if (s.kind == Stmt::Kind::StartFrom || s.kind == Stmt::Kind::RecordedEnd)
            return true; // start_from ran before the first statement; recorded_end is for check-recording
        if (m_listener)
            m_listener->beforeStatement(s, m_current);
        m_recorded.reset();
        if (s.recorded) {
            m_recorded = eval(*s.recorded, s);
            if (!m_recorded)
                return false;
        }
        switch (s.kind) {
        case Stmt::Kind::Assign:
            return execAssign(s);
        case Stmt::Kind::Call:
            return eval(*s.expr, s).has_value();
        case Stmt::Kind::Expect:
            return execExpect(s);
        case Stmt::Kind::In:
            return execIn(s);
        case Stmt::Kind::Profile:
        case Stmt::Kind::Require:
        case Stmt::Kind::StartFrom:
        case Stmt::Kind::RecordedEnd:
            break;
        }
        return true;
    }

    // A recorded call's result against the model's: a difference is a divergence, and the run goes on.
    void compareRecorded(const Expr& call, std::int64_t model)
    {
        if (!m_recorded || *m_recorded == model)
            return;
        Diagnostic d { m_scenario.file, call.loc.line, call.loc.col,
            "model returned " + formatResult(model) + ", the kernel returned " + formatResult(*m_recorded) };
        m_out.notes.push_back(formatDivergence(d));
        m_out.divergences.push_back(std::move(d));
    }

    bool execAssign(const Stmt& s)
    {
        const Expr& e = *s.expr;
        if (e.kind == Expr::Kind::Call && (e.text == "fork" || e.text == "spawn"))
            return execFork(s);
        const auto value = eval(e, s);
        if (!value)
            return false;
        const CallSpec* spec = e.kind == Expr::Kind::Call ? findCall(e.text) : nullptr;
        setVar(s.name, *value, spec && spec->returnsHandle ? VarKind::Handle : VarKind::Plain);
        return true;
    }

    // On success the child becomes process `s.name`; a failed fork (-errno) creates none.
    bool execFork(const Stmt& s)
    {
        const auto child = static_cast<ProcIndex>(m_procNames.size());
        if (m_procNames.size() >= m_limits.maxProcesses)
            return runtimeError(s.expr->loc, "fork() would make more than " + std::to_string(m_limits.maxProcesses)
                    + " processes" + limitHint("max-processes", m_limits.maxProcesses));
        CallResult r;
        if (s.expr->text == "spawn") {
            const snapshot::Snapshot* snap = snapshotFile(s.expr->args.at(0)->text, s.expr->args.at(0)->loc);
            if (!snap)
                return false;
            r = m_backend.spawn(m_current, child, *snap, s.expr->loc);
        } else {
            m_backend.setRecordedResult(m_recorded);
            r = m_backend.fork(m_current, child, s.expr->loc);
            m_backend.setRecordedResult(std::nullopt);
        }
        if (m_listener)
            m_listener->afterCall(s, s.expr->text, r.value);
        if (r.runtimeError)
            return runtimeError(s.expr->loc, *r.runtimeError);
        compareRecorded(*s.expr, r.value);
        if (r.value >= 0) {
            m_procNames.push_back(s.name);
            m_procIndex[s.name] = child;
        }
        setVar(s.name, r.value, VarKind::Pid);
        return true;
    }

    bool execExpect(const Stmt& s)
    {
        const auto lhs = eval(*s.expr, s);
        if (!lhs)
            return false;
        const auto rhs = eval(*s.rhs, s);
        if (!rhs)
            return false;
        ExpectRecord rec;
        rec.loc = s.loc;
        rec.process = m_procNames[static_cast<std::size_t>(m_current)];
        rec.lhsText = s.lhsText;
        rec.rhsText = s.rhsText;
        rec.lhs = *lhs;
        rec.rhs = *rhs;
        rec.equal = s.expectEqual;
        rec.passed = (*lhs == *rhs) == s.expectEqual;
        if (!rec.passed && m_out.exitStatus == 0)
            m_out.exitStatus = 1;
        m_out.expects.push_back(std::move(rec));
        return true;
    }

    bool execIn(const Stmt& s)
    {
        const auto it = m_procIndex.find(s.name);
        if (it == m_procIndex.end()) {
            const auto var = m_varIndex.find(s.name);
            std::string why = "process '" + s.name + "' does not exist";
            if (var != m_varIndex.end())
                why += ": its fork() returned " + errnoName(m_out.vars[var->second].value);
            return runtimeError(s.loc, why);
        }
        const ProcIndex saved = m_current;
        m_current = it->second;
        const bool ok = execStmts(s.body);
        m_current = saved;
        return ok;
    }

    std::optional<std::int64_t> eval(const Expr& e, const Stmt& s)
    {
        switch (e.kind) {
        case Expr::Kind::Number:
            return e.value;
        case Expr::Kind::String:
            break; // the checker allows strings only as call arguments
        case Expr::Kind::Name:
            return lookup(e);
        case Expr::Kind::Unary: {
            const auto v = eval(*e.args[0], s);
            return v ? std::optional(applyUnary(e.op, *v)) : std::nullopt;
        }
        case Expr::Kind::Binary: {
            const auto l = eval(*e.args[0], s);
            if (!l)
                return std::nullopt;
            const auto r = eval(*e.args[1], s);
            if (!r)
                return std::nullopt;
            const auto v = applyBinary(e.op, *l, *r);
            if (!v)
                runtimeError(e.loc, e.op == "/" ? "division by zero" : "modulo by zero");
            return v;
        }
        case Expr::Kind::Call:
            return call(e, s);
        }
        runtimeError(e.loc, "a string where a number is needed");
        return std::nullopt;
    }

    std::optional<std::int64_t> lookup(const Expr& e)
    {
        const auto it = m_varIndex.find(e.text);
        if (it != m_varIndex.end())
            return m_out.vars[it->second].value;
        if (const auto c = uapiConstant(e.text))
            return c;
        runtimeError(e.loc, "unknown name '" + e.text + "'");
        return std::nullopt;
    }

    std::optional<std::int64_t> call(const Expr& e, const Stmt& s)
    {
        std::vector<Value> args;
        for (const ExprPtr& a : e.args) {
            Value v;
            if (a->kind == Expr::Kind::String) {
                v.isString = true;
                v.str = a->text;
            } else {
                const auto n = eval(*a, s);
                if (!n)
                    return std::nullopt;
                v.num = *n;
            }
            args.push_back(std::move(v));
        }
        const std::uint64_t pages = faultPages(e.text, args);
        if (pages > m_limits.maxFaultPages - m_faultPages) {
            runtimeError(e.loc, e.text + "() may fault " + std::to_string(pages) + " pages, more than the "
                    + std::to_string(m_limits.maxFaultPages - m_faultPages) + " left to this run"
                    + limitHint("max-fault-pages", m_limits.maxFaultPages));
            return std::nullopt;
        }
        m_faultPages += pages;
        // The recorded result belongs to the statement's own call, not to calls in its arguments.
        const bool recordedCall = &e == s.expr.get() && m_recorded;
        CallResult r;
        if (e.text == "exec") {
            const snapshot::Snapshot* snap = snapshotFile(args.at(0).str, e.args.at(0)->loc);
            if (!snap)
                return std::nullopt;
            r = m_backend.exec(m_current, *snap, e.loc);
        } else {
            m_backend.setRecordedResult(recordedCall ? m_recorded : std::nullopt);
            r = m_backend.call(m_current, e.text, args, e.loc);
            m_backend.setRecordedResult(std::nullopt);
        }
        if (m_listener)
            m_listener->afterCall(s, e.text, r.value);
        if (r.runtimeError) {
            runtimeError(e.loc, *r.runtimeError);
            return std::nullopt;
        }
        if (recordedCall)
            compareRecorded(e, r.value);
        return r.value;
    }

    // How many pages a call may fault in or populate, from its arguments (an upper bound: what
    // the run charges against max-fault-pages); 0 for calls that never populate.
    static std::uint64_t faultPages(const std::string& name, const std::vector<Value>& args)
    {
        auto num = [&](std::size_t i) { return i < args.size() ? static_cast<U64>(args[i].num) : U64 { 0 }; };
        auto constant = [](const char* c) { return static_cast<U64>(uapiConstant(c).value_or(0)); };
        auto span = [](U64 addr, U64 len) -> U64 {
            const U64 first = addr >> 12;
            const U64 end = addr + len < addr ? ~U64 { 0 } : addr + len; // a wrapping range: as much as there is
            const U64 last = (end >> 12) + ((end & 4095) != 0);
            return len == 0 ? 0 : last - first;
        };
        if (name == "touch" || name == "mlock" || name == "mlock2")
            return span(num(0), num(1));
        if (name == "mmap" && (num(3) & (constant("MAP_POPULATE") | constant("MAP_LOCKED"))))
            return span(num(0), num(1));
        if (name == "madvise") {
            const U64 advice = num(2);
            if (advice == constant("MADV_POPULATE_READ") || advice == constant("MADV_POPULATE_WRITE")
                || advice == constant("MADV_WILLNEED"))
                return span(num(0), num(1));
        }
        if (name == "mremap" && num(2) > num(1))
            return span(0, num(2) - num(1));
        return 0;
    }

    void setVar(const std::string& name, std::int64_t value, VarKind kind)
    {
        const auto [it, inserted] = m_varIndex.emplace(name, m_out.vars.size());
        if (inserted)
            m_out.vars.push_back(VarRecord { name, value, kind });
        else
            m_out.vars[it->second] = VarRecord { name, value, kind };
    }

    bool runtimeError(SourceLoc loc, const std::string& message)
    {
        m_out.errors.push_back(Diagnostic { m_scenario.file, loc.line, loc.col, message });
        m_out.exitStatus = 2;
        return false;
    }

    const Scenario& m_scenario;
    Backend& m_backend;
    StepListener* m_listener;
    const RunLimits m_limits;
    std::uint64_t m_faultPages = 0; // charged so far against m_limits.maxFaultPages
    RunOutcome m_out;
    std::optional<std::int64_t> m_recorded; // the `-> EXPR` of the statement running
    ProcIndex m_current = 0;
    std::vector<std::string> m_procNames { "main" };
    std::map<std::string, ProcIndex> m_procIndex;
    std::unordered_map<std::string, std::size_t> m_varIndex;
};

} // namespace

const std::vector<std::string>& limitNames()
{
    static const std::vector<std::string> names { "max-calls", "max-processes", "max-fault-pages", "max-file-bytes" };
    return names;
}

Result<RunLimits> parseLimits(const std::string& spec, RunLimits limits)
{
    std::size_t pos = 0;
    while (pos <= spec.size()) {
        std::size_t comma = spec.find(',', pos);
        if (comma == std::string::npos)
            comma = spec.size();
        const std::string item = spec.substr(pos, comma - pos);
        pos = comma + 1;
        if (item.empty())
            continue;
        const std::size_t eq = item.find('=');
        const std::string name = item.substr(0, eq);
        std::uint64_t* field = name == "max-calls" ? &limits.maxCalls
            : name == "max-processes"              ? &limits.maxProcesses
            : name == "max-fault-pages"            ? &limits.maxFaultPages
            : name == "max-file-bytes"             ? &limits.maxFileBytes
                                                   : nullptr;
        std::string known;
        for (const std::string& n : limitNames())
            known += (known.empty() ? "" : ", ") + n;
        if (!field)
            return Diagnostic { "", 0, 0, "unknown limit \"" + name + "\" (known: " + known + ")" };
        const std::string text = eq == std::string::npos ? "" : item.substr(eq + 1);
        char* end = nullptr;
        errno = 0;
        std::uint64_t value = text.empty() || text[0] == '-' ? 0 : std::strtoull(text.c_str(), &end, 0);
        const std::string suffix = end ? std::string(end) : "x";
        const int shift = suffix.empty() ? 0 : suffix == "K" ? 10 : suffix == "M" ? 20 : suffix == "G" ? 30 : -1;
        if (text.empty() || text[0] == '-' || errno || shift < 0 || (shift && value > (~std::uint64_t { 0} >> shift)))
            return Diagnostic { "", 0, 0, "limit " + name + " needs a number, not \"" + text + "\"" };
        *field = value << shift;
    }
    return limits;
}

RunLimits defaultRunLimits()
{
    // Read here rather than by each tool so the GUI, the CLI and the tests' runs all obey it.
    const char* env = std::getenv("VMALAB_LIMITS");
    if (!env)
        return RunLimits {};
    auto parsed = parseLimits(env);
    return parsed ? *parsed : RunLimits {};
}

RunOutcome runScenario(const Scenario& scenario, Backend& backend, StepListener* listener)
{
    return Interpreter(scenario, backend, listener, defaultRunLimits()).run();
}

RunOutcome runScenario(const Scenario& scenario, Backend& backend, StepListener* listener, const RunLimits& limits)
{
    return Interpreter(scenario, backend, listener, limits).run();
}

std::optional<std::string> scenarioProfile(const Scenario& scenario)
{
    for (const Stmt& s : scenario.stmts) {
        if (s.kind == Stmt::Kind::Profile)
            return s.name;
    }
    return std::nullopt;
}

std::vector<std::string> scenarioRequires(const Scenario& scenario)
{
    std::vector<std::string> features;
    for (const Stmt& s : scenario.stmts) {
        if (s.kind == Stmt::Kind::Require)
            features.push_back(s.name);
    }
    return features;
}

std::string formatHex(std::int64_t value)
{
    char buf[24];
    std::snprintf(buf, sizeof buf, "0x%" PRIx64, static_cast<std::uint64_t>(value));
    return buf;
}

std::string formatResult(std::int64_t value)
{
    if (value < 0 && value >= -4095) {
        const std::string name = errnoName(value);
        return name.empty() ? std::to_string(value) : name;
    }
    if (value >= 0 && value < 0x10000)
        return std::to_string(value);
    return formatHex(value);
}

std::string formatDivergence(const Diagnostic& d)
{
    return d.file + ":" + std::to_string(d.line) + ":" + std::to_string(d.col) + ": divergence: " + d.message;
}

std::string formatExpectFailure(const ExpectRecord& record, const std::string& file)
{
    std::string out = record.process.empty() || record.process == "main" ? "" : record.process + ": ";
    out += file + ":" + std::to_string(record.loc.line) + ": expect failed: " + record.lhsText
        + (record.equal ? " == " : " != ") + record.rhsText + " (" + formatHex(record.lhs) + " vs "
        + formatHex(record.rhs) + ")";
    return out;
}

} // namespace vmalab::scenario
