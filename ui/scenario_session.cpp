#include "ui/scenario_session.h"

#include "core/engine/model_backend.h"
#include "core/host/runner.h"
#include "core/scenario/interpreter.h"
#include "core/scenario/parser.h"

#include <algorithm>

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
    QString name = m_profileName;
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

    auto backend = std::make_unique<ModelBackend>(cached->second);
    backend->keepHistory(true);
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
    m_marks.clear();
    for (const auto& m : marks)
        m_marks.push_back({ m.second.first, m.first, QString::fromStdString(m.second.second).trimmed() });
    m_processNames.clear();
    for (const auto& p : m_outcome.processes)
        m_processNames << QString::fromStdString(p.name);
    while (m_processNames.size() < static_cast<int>(m_history->initial().procs.size()))
        m_processNames << QStringLiteral("process %1").arg(m_processNames.size());
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

} // namespace vmalab::ui
