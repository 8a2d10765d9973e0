#include "core/scenario/checker.h"

#include "core/scenario/calls.h"
#include "core/scenario/uapi.h"

#include <algorithm>
#include <array>
#include <set>
#include <string>

namespace vmalab::scenario {

namespace {

bool isObservedState(const std::string& s)
{
    return s == "none" || s == "anon" || s == "file" || s == "swap" || s == "guard";
}

constexpr std::array<std::string_view, 6> knownFeatures = {
    "userfaultfd",
    "guard-regions",
    "thp",
    "swap",
    "anon-vma-name",
    "soft-dirty",
};

std::string quoted(std::string_view s)
{
    return "'" + std::string(s) + "'";
}

std::string arityText(const CallSpec& spec)
{
    std::string n = std::to_string(spec.minArgs);
    if (spec.maxArgs != spec.minArgs)
        n += " or " + std::to_string(spec.maxArgs);
    return n + (spec.maxArgs == 1 ? " argument" : " arguments");
}

// Where an expression's text starts: its leftmost operand (a Binary's loc is its operator).
SourceLoc startLoc(const Expr& e)
{
    return e.kind == Expr::Kind::Binary ? startLoc(*e.args[0]) : e.loc;
}

// fork() and spawn() create a process, so they must be bound to its name.
bool isForkCall(const ExprPtr& e)
{
    return e && e->kind == Expr::Kind::Call && (e->text == "fork" || e->text == "spawn");
}

bool isDirective(Stmt::Kind k)
{
    return k == Stmt::Kind::Profile || k == Stmt::Kind::Require || k == Stmt::Kind::StartFrom
        || k == Stmt::Kind::RecordedEnd;
}

// `p<PID>`: how a recording names the processes its start snapshot holds.
bool isSnapshotProcessName(const std::string& name)
{
    return name.size() > 1 && name[0] == 'p'
        && name.find_first_not_of("0123456789", 1) == std::string::npos;
}

// What the place an expression sits in accepts.
struct Slot
{
    const CallSpec* call = nullptr; // set: argument `index` of this call
    int index = 0;
};

class Checker
{
public:
    Checker(const Scenario& scenario, const NameLocs* nameLocs)
        : m_file(scenario.file)
        , m_nameLocs(nameLocs)
    {
        collectAssigned(scenario.stmts);
    }

    Diagnostics run(const std::vector<Stmt>& stmts)
    {
        bool onlyDirectivesBefore = true;
        for (std::size_t i = 0; i < stmts.size(); ++i) {
            const Stmt& s = stmts[i];
            if (s.kind == Stmt::Kind::Profile && i != 0)
                error(s.loc, "'profile' must be the first statement");
            if (s.kind == Stmt::Kind::Require && !onlyDirectivesBefore)
                error(s.loc, "'require' must come before every statement but 'profile' and other 'require's");
            if ((s.kind == Stmt::Kind::StartFrom || s.kind == Stmt::Kind::RecordedEnd) && !onlyDirectivesBefore)
                error(s.loc, "'" + std::string(s.kind == Stmt::Kind::StartFrom ? "start_from" : "recorded_end")
                        + "' belongs to the header: before every statement but 'profile', 'require' and each other");
            if (s.kind == Stmt::Kind::StartFrom && m_startFrom++)
                error(s.loc, "a scenario starts from one snapshot: 'start_from' is given twice");
            if (s.kind == Stmt::Kind::RecordedEnd && m_recordedEnd++)
                error(s.loc, "'recorded_end' is given twice");
            onlyDirectivesBefore = onlyDirectivesBefore && isDirective(s.kind);
            checkStmt(s, true);
        }
        sortByPosition(m_diags);
        return std::move(m_diags);
    }

private:
    void error(SourceLoc loc, std::string message)
    {
        m_diags.push_back(Diagnostic { m_file, loc.line, loc.col, std::move(message) });
    }

    SourceLoc nameLoc(const Stmt& s) const
    {
        if (m_nameLocs) {
            const auto it = m_nameLocs->find(&s);
            if (it != m_nameLocs->end())
                return it->second;
        }
        return s.loc;
    }

    void collectAssigned(const std::vector<Stmt>& stmts)
    {
        for (const Stmt& s : stmts) {
            if (s.kind == Stmt::Kind::Assign)
                m_assignedAnywhere.insert(s.name);
            collectAssigned(s.body);
        }
    }

    void checkStmt(const Stmt& s, bool topLevel)
    {
        switch (s.kind) {
        case Stmt::Kind::Assign:
            return checkAssign(s);
        case Stmt::Kind::Call:
            checkExpr(s.expr, {}); // reports an unbound fork()
            return checkExpr(s.recorded, {});
        case Stmt::Kind::Expect:
            checkExpr(s.expr, {});
            return checkExpr(s.rhs, {});
        case Stmt::Kind::In:
            if (!m_processes.count(s.name) && !(m_startFrom && isSnapshotProcessName(s.name)))
                error(nameLoc(s),
                    "no process named " + quoted(s.name) + " exists here; create it first with '" + s.name
                        + " = fork()'");
            for (const Stmt& inner : s.body)
                checkStmt(inner, false);
            return;
        case Stmt::Kind::Profile:
            if (!topLevel)
                error(s.loc, "'profile' must be the first statement");
            return;
        case Stmt::Kind::StartFrom:
        case Stmt::Kind::RecordedEnd:
            if (!topLevel)
                error(s.loc, "'start_from' and 'recorded_end' belong to the header, not inside 'in'");
            return;
        case Stmt::Kind::Require:
            if (!topLevel)
                error(s.loc, "'require' must come before every statement but 'profile' and other 'require's");
            if (!isKnownFeature(s.name))
                error(nameLoc(s),
                    "unknown feature " + quoted(s.name)
                        + " (known: userfaultfd, guard-regions, thp, swap, anon-vma-name, soft-dirty)");
            return;
        }
    }

    void checkAssign(const Stmt& s)
    {
        if (!s.expr) {
            // A statement the parser could not read: its name counts as assigned so that later
            // uses do not report it again.
            m_assigned.insert(s.name);
            return;
        }
        const bool fork = isForkCall(s.expr);
        if (fork)
            checkCallArgs(*s.expr);
        else
            checkExpr(s.expr, {});
        checkExpr(s.recorded, {});
        if (isBuiltinName(s.name))
            error(s.loc, "cannot assign to " + quoted(s.name) + ": it is a built-in constant");
        else if (s.name == "main")
            error(s.loc, "cannot assign to 'main': it names the first process");
        else if (m_processes.count(s.name))
            error(s.loc, "cannot assign to " + quoted(s.name) + ": it already names a process");
        m_assigned.insert(s.name);
        if (fork)
            m_processes.insert(s.name);
    }

    void checkExpr(const ExprPtr& e, Slot slot)
    {
        if (!e)
            return;
        const ArgType want = slot.call ? slot.call->argType(slot.index) : ArgType::Number;
        if (e->kind == Expr::Kind::String) {
            if (want != ArgType::Number)
                return;
            if (slot.call)
                error(e->loc, argName(slot) + " must be a number, not a string");
            else
                error(e->loc, "a string can only be a call's name argument (memfd_create, open_file, prctl)");
            return;
        }
        if (want == ArgType::String)
            error(startLoc(*e), argName(slot) + " must be a string");
        switch (e->kind) {
        case Expr::Kind::Number:
        case Expr::Kind::String:
            return;
        case Expr::Kind::Name:
            return checkName(*e);
        case Expr::Kind::Unary:
        case Expr::Kind::Binary:
            for (const ExprPtr& a : e->args)
                checkExpr(a, {});
            return;
        case Expr::Kind::Call:
            if (e->text == "fork" || e->text == "spawn")
                error(e->loc, e->text + "() must be bound to a name, as in 'child = "
                        + (e->text == "fork" ? "fork()'" : "spawn(\"FILE.vsnap\")'"));
            if (e->text == "observe" && e->args.size() == 3 && e->args[2]->kind == Expr::Kind::String
                && !isObservedState(e->args[2]->text))
                error(e->args[2]->loc, "unknown page state " + quoted(e->args[2]->text)
                        + " (known: none, anon, file, swap, guard)");
            return checkCallArgs(*e);
        }
    }

    static std::string argName(Slot slot)
    {
        return "argument " + std::to_string(slot.index + 1) + " of " + quoted(slot.call->name);
    }

    void checkName(const Expr& e)
    {
        if (isBuiltinName(e.text) || m_assigned.count(e.text))
            return;
        if (m_assignedAnywhere.count(e.text))
            error(e.loc, quoted(e.text) + " is used before any statement assigns it");
        else
            error(e.loc, "unknown name " + quoted(e.text));
    }

    void checkCallArgs(const Expr& call)
    {
        const CallSpec* spec = findCall(call.text);
        const int count = static_cast<int>(call.args.size());
        if (!spec)
            error(call.loc, "unknown call " + quoted(call.text));
        else if (count < spec->minArgs || count > spec->maxArgs)
            error(call.loc, quoted(call.text) + " takes " + arityText(*spec) + ", not " + std::to_string(count));
        for (int i = 0; i < count; ++i) {
            Slot slot;
            if (spec && i < spec->maxArgs)
                slot = Slot { spec, i };
            checkExpr(call.args[static_cast<std::size_t>(i)], slot);
        }
    }

    std::string m_file;
    const NameLocs* m_nameLocs;
    Diagnostics m_diags;
    std::set<std::string> m_assignedAnywhere;
    std::set<std::string> m_assigned;
    std::set<std::string> m_processes { "main" };
    int m_startFrom = 0; // start_from statements seen
    int m_recordedEnd = 0;
};

} // namespace

void sortByPosition(Diagnostics& diagnostics)
{
    std::stable_sort(diagnostics.begin(), diagnostics.end(),
        [](const Diagnostic& a, const Diagnostic& b) { return a.line != b.line ? a.line < b.line : a.col < b.col; });
}

bool isKnownFeature(std::string_view feature)
{
    return std::find(knownFeatures.begin(), knownFeatures.end(), feature) != knownFeatures.end();
}

bool isBuiltinName(std::string_view name)
{
    return uapiConstant(name).has_value();
}

Diagnostics checkScenario(const Scenario& scenario, const NameLocs* nameLocs)
{
    return Checker(scenario, nameLocs).run(scenario.stmts);
}

} // namespace vmalab::scenario
