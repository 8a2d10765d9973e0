#include "ui/scenario_session.h"

#include "ui/diagnostics_text.h"

#include "core/engine/model_backend.h"
#include "core/host/runner.h"
#include "core/scenario/interpreter.h"
#include "core/scenario/parser.h"
#include "core/scenario/recording_files.h"
#include "core/snapshot/snapshot_format.h"
#include "core/vm_flags.h"

#include <QFile>

#include <algorithm>
#include <optional>

namespace vmalab::ui {

namespace {

// Notes where each statement starts in the operation sequence, so operations can be mapped
// back to statements, lines and narration.
class MarkListener : public scenario::StepListener
{
public:
    MarkListener(const ModelBackend& backend, std::vector<std::pair<int, std::pair<int, std::string>>>& marks)
        : m_backend(backend)
        , m_marks(marks)
    {
    }
    void beforeStatement(const scenario::Stmt& stmt, scenario::ProcIndex) override
    {
        const History* h = m_backend.history();
        const int ops = h ? static_cast<int>(h->opCount()) : 0;
        m_marks.push_back({ ops, { stmt.loc.line, stmt.narration } });
    }

private:
    const ModelBackend& m_backend;
    std::vector<std::pair<int, std::pair<int, std::string>>>& m_marks;
};

} // namespace

ScenarioSession::ScenarioSession(QObject* parent)
    : QObject(parent)
{
}

ScenarioSession::~ScenarioSession() = default;

void ScenarioSession::setProfileName(const QString& name)
{
    m_profileName = name;
}

void ScenarioSession::setReferenceMachine(bool on)
{
    m_referenceMachine = on;
}

Diagnostics ScenarioSession::check(const QString& text, const QString& fileName)
{
    const std::string bytes = text.toStdString();
    auto parsed = scenario::parseScenario(bytes, fileName.toStdString());
    return parsed ? Diagnostics {} : parsed.error();
}

bool ScenarioSession::run(const QString& text, const QString& fileName)
{
    const std::string bytes = text.toStdString();
    auto parsed = scenario::parseScenario(bytes, fileName.toStdString());
    if (!parsed) {
        m_diagnostics = parsed.error();
        Q_EMIT ran();
        return false;
    }
    // A recording starts from snapshot files beside it (docs/recording.md).
    Diagnostics missing = scenario::loadRecordingFiles(*parsed, m_baseDirectory.toStdString(),
        [](const std::string& path, std::string* error) -> std::optional<std::string> {
            QFile f(QString::fromStdString(path));
            if (!f.open(QIODevice::ReadOnly)) {
                *error = f.errorString().toStdString();
                return std::nullopt;
            }
            const QByteArray b = f.readAll();
            return std::string(b.constData(), static_cast<std::size_t>(b.size()));
        });
    if (!missing.empty()) {
        m_diagnostics = std::move(missing);
        Q_EMIT ran();
        return false;
    }
    QString name = m_profileName;
    // A snapshot brings its machine: its configuration and the behaviour its probe found.
    if (name.isEmpty() && m_snapshot && !m_snapshot->host.behaviour.empty())
        name = QString::fromStdString(m_snapshot->host.behaviour);
    if (name.isEmpty())
        name = QString::fromStdString(scenario::scenarioProfile(*parsed).value_or("host"));
    const QString cacheKey = name + (m_referenceMachine ? QStringLiteral("@reference") : QString());
    auto cached = m_profileCache.find(cacheKey);
    if (cached == m_profileCache.end()) {
        std::optional<Profile> p;
        if (m_referenceMachine && name != QLatin1String("host")) {
            p = builtinProfile(name.toStdString());
        } else if (auto r = host::resolveProfile(name.toStdString())) {
            p = *r;
        }
        if (!p) {
            m_diagnostics = { Diagnostic {
                fileName.toStdString(), 0, 0, "unknown profile \"" + name.toStdString() + "\"" } };
            Q_EMIT ran();
            return false;
        }
        cached = m_profileCache.emplace(cacheKey, *p).first;
    }
    m_effectiveProfile = name;

    Profile profile = cached->second;
    std::optional<World> start;
    if (m_snapshot) {
        if (auto b = builtinProfile(name.toStdString(), m_snapshot->host.config))
            profile = *b;
        std::vector<SnapshotAssumption> assumptions;
        auto w = worldFromSnapshot(*m_snapshot, profile, &assumptions);
        if (!w) {
            m_diagnostics = w.error();
            Q_EMIT ran();
            return false;
        }
        start = std::move(*w);
        m_assumptions = std::move(assumptions);
    } else {
        m_assumptions.clear();
    }
    auto backend = std::make_unique<ModelBackend>(profile);
    backend->keepHistory(true);
    if (start)
        backend->startFrom(std::move(*start));
    std::vector<std::pair<int, std::pair<int, std::string>>> marks;
    MarkListener listener(*backend, marks);
    m_outcome = scenario::runScenario(*parsed, *backend, &listener);
    m_diagnostics = m_outcome.errors;
    if (!backend->history()) {
        if (m_diagnostics.empty())
            m_diagnostics.push_back({ fileName.toStdString(), 0, 0,
                m_outcome.skipReason.empty() ? "the scenario did not run" : m_outcome.skipReason });
        Q_EMIT ran();
        return false;
    }
    m_backend = std::move(backend);
    m_history = m_backend->history();
    m_runProfile = profile;
    m_marks.clear();
    for (const auto& m : marks)
        m_marks.push_back({ m.second.first, m.first, QString::fromStdString(m.second.second).trimmed() });
    m_processNames.clear();
    for (const auto& p : m_outcome.processes)
        m_processNames << QString::fromStdString(p.name);
    if (m_snapshot)
        for (std::size_t i = 0; i < m_snapshot->processes.size() && static_cast<int>(i) < m_processNames.size(); ++i)
            m_processNames[static_cast<int>(i)] =
                QStringLiteral("%1 (captured)").arg(QString::fromStdString(m_snapshot->processes[i].name));
    while (m_processNames.size() < static_cast<int>(m_history->initial().procs.size()))
        m_processNames << QStringLiteral("process %1").arg(m_processNames.size());
    // A process that appears after an operation was forked by the process that ran it.
    m_forkParents.assign(m_history->initial().procs.size(), -1);
    for (std::size_t i = 0; i < m_history->opCount(); ++i)
        while (m_forkParents.size() < m_history->afterOp(i).procs.size())
            m_forkParents.push_back(m_history->op(i).process);
    const int keep = std::min(m_op, opCount() - 1);
    Q_EMIT ran();
    setPosition(keep, -1);
    return true;
}

int ScenarioSession::opCount() const
{
    return m_history ? static_cast<int>(m_history->opCount()) : 0;
}

int ScenarioSession::stepCount(int op) const
{
    if (!m_history || op < 0 || op >= opCount())
        return 0;
    return static_cast<int>(m_history->op(static_cast<std::size_t>(op)).steps.size());
}

int ScenarioSession::lineOfOp(int op) const
{
    if (!m_history || op < 0 || op >= opCount())
        return 0;
    return m_history->op(static_cast<std::size_t>(op)).line;
}

std::vector<int> ScenarioSession::opsOfLine(int line) const
{
    std::vector<int> out;
    for (int i = 0; i < opCount(); ++i)
        if (lineOfOp(i) == line)
            out.push_back(i);
    return out;
}

QString ScenarioSession::narrationForOp(int op) const
{
    // Before the first operation: the first narration, as an introduction.
    const int at = std::max(op, 0);
    QString text;
    for (const StatementMark& m : m_marks) {
        if (m.firstOp > at)
            break;
        if (!m.narration.isEmpty()) {
            text = m.narration;
            if (op < 0)
                break;
        }
    }
    return text;
}

void ScenarioSession::setPosition(int op, int step)
{
    if (!m_history)
        return;
    op = std::clamp(op, -1, opCount() - 1);
    const int steps = stepCount(op);
    if (step < 0 || step > steps)
        step = steps;
    m_op = op;
    m_step = op < 0 ? 0 : step;
    const auto uop = static_cast<std::size_t>(std::max(op, 0));
    if (op < 0) {
        m_world = m_history->initial();
        m_before = m_world;
    } else {
        // Copies are cheap (shared persistent parts) and outlive History's step cache.
        m_before = m_step == 0 || m_step >= steps ? m_history->beforeOp(uop)
                                                  : m_history->afterStep(uop, static_cast<std::size_t>(m_step - 1));
        m_world = m_history->afterStep(uop, static_cast<std::size_t>(m_step));
    }
    m_changes = {};
    const std::size_t procs = std::max(m_world.procs.size(), m_before.procs.size());
    for (std::size_t p = 0; p < procs; ++p) {
        for (const VmaChange& c : compareVmas(m_before, m_world, p)) {
            switch (c.kind) {
            case VmaChange::Kind::Added:
                m_changes.created.insert(c.id);
                break;
            case VmaChange::Kind::Changed:
                m_changes.changed.insert(c.id);
                break;
            case VmaChange::Kind::Removed:
                if (c.before)
                    m_changes.removed.push_back({ static_cast<int>(p), *c.before });
                break;
            }
        }
    }
    Q_EMIT currentChanged();
}

void ScenarioSession::jumpTo(int op, int step)
{
    setPosition(op, step);
}

void ScenarioSession::stepForward()
{
    if (m_op < 0 || atWholeOp())
        setPosition(std::min(m_op + 1, opCount() - 1), -1);
    else
        setPosition(m_op, -1); // finish the operation we are inside
}

void ScenarioSession::stepBack()
{
    if (m_op >= 0 && !atWholeOp())
        setPosition(m_op - 1, -1);
    else
        setPosition(std::max(m_op - 1, -1), -1);
}

void ScenarioSession::microStepForward()
{
    if (m_op >= 0 && m_step + 1 < stepCount(m_op))
        setPosition(m_op, m_step + 1);
    else if (m_op + 1 < opCount())
        setPosition(m_op + 1, stepCount(m_op + 1) > 0 ? 0 : -1);
}

void ScenarioSession::microStepBack()
{
    if (m_op < 0)
        return;
    // After the whole operation the world is the one after its last step.
    const int shown = atWholeOp() ? stepCount(m_op) - 1 : m_step;
    if (shown > 0)
        setPosition(m_op, shown - 1);
    else
        setPosition(m_op - 1, -1);
}

void ScenarioSession::runToEnd()
{
    setPosition(opCount() - 1, -1);
}

void ScenarioSession::toStart()
{
    setPosition(-1, -1);
}

std::pair<Addr, Addr> scenarioFocusRange(const History& h)
{
    // What the scenario made: VMAs newer than every VMA its process started with (a fork
    // child's copies of its parent's libc and stack are new VMAs, but not the scenario's).
    auto maxId = [](const World& w) {
        VmaId m = 0;
        for (const Mm& mm : w.procs)
            for (const auto& e : mm.vmas)
                m = std::max(m, e.second.id);
        return m;
    };
    std::vector<VmaId> baseline(h.initial().procs.size(), maxId(h.initial()));
    for (std::size_t i = 0; i < h.opCount(); ++i)
        while (baseline.size() < h.afterOp(i).procs.size())
            baseline.push_back(maxId(h.afterOp(i)));
    // Accessible VMAs first: a PROT_NONE reservation around them would shrink them to slivers.
    Addr lo[2] = { ~Addr { 0 }, ~Addr { 0 } }, hi[2] = { 0, 0 };
    const std::size_t stride = std::max<std::size_t>(1, h.opCount() / 500);
    for (std::size_t i = 0; i < h.opCount(); i += stride) {
        const World& w = h.afterOp(i);
        for (std::size_t p = 0; p < w.procs.size(); ++p)
            for (const auto& e : w.procs[p].vmas)
                if (e.second.id > baseline[p]) {
                    const int k = (e.second.vm_flags & VM_ACCESS_FLAGS) ? 0 : 1;
                    lo[k] = std::min(lo[k], e.second.vm_start);
                    hi[k] = std::max(hi[k], e.second.vm_end);
                }
    }
    const int k = hi[0] > lo[0] ? 0 : 1;
    return hi[k] > lo[k] ? std::pair<Addr, Addr> { lo[k], hi[k] } : std::pair<Addr, Addr> { 0, 0 };
}

} // namespace vmalab::ui

namespace vmalab::ui {

QString ScenarioSession::loadSnapshot(const QString& path)
{
    QFile f(path);
    if (!f.open(QIODevice::ReadOnly))
        return tr("cannot read %1: %2").arg(path, f.errorString());
    const QByteArray bytes = f.readAll();
    auto parsed = snapshot::parseSnapshots(std::string_view(bytes.constData(), static_cast<std::size_t>(bytes.size())),
        path.toStdString());
    if (!parsed)
        return diagnosticsText(parsed.error());
    if (parsed->empty() || parsed->back().processes.empty())
        return tr("%1 holds no captured process").arg(path);
    // A watch timeline: start from its last capture, as vmalab-cli run --snapshot does.
    const int entries = static_cast<int>(parsed->size());
    setSnapshot(std::move(parsed->back()), path);
    m_snapshotEntries = entries;
    return {};
}

void ScenarioSession::setSnapshot(snapshot::Snapshot snap, const QString& label)
{
    m_snapshot = std::make_shared<const snapshot::Snapshot>(std::move(snap));
    m_snapshotPath = label;
    m_snapshotEntries = 1;
}

void ScenarioSession::clearSnapshot()
{
    m_snapshot.reset();
    m_snapshotPath.clear();
    m_assumptions.clear();
}

QStringList ScenarioSession::assumptionsInEffect() const
{
    QStringList out;
    if (!m_history)
        return out;
    for (const SnapshotAssumption* a : assumptionsUsed(m_assumptions, m_history->initial(), m_world))
        out << QString::fromStdString(a->text);
    return out;
}

} // namespace vmalab::ui
