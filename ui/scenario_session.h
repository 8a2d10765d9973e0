#pragma once

#include "core/engine/history.h"
#include "core/engine/snapshot_world.h"
#include "core/engine/world.h"
#include "core/result.h"
#include "core/scenario/outcome.h"

#include <QObject>
#include <QString>
#include <QStringList>

#include <map>
#include <memory>
#include <optional>
#include <set>
#include <utility>
#include <vector>

namespace vmalab {
class ModelBackend;
}

namespace vmalab::ui {

// A VMA that the current position removed, kept so the map can draw where it was.
struct RemovedVma
{
    int proc = 0;
    Vma vma;
};

// What the current position changed compared with the position before it (compareVmas()).
struct PositionChanges
{
    std::set<VmaId> created;
    std::set<VmaId> changed;
    std::vector<RemovedVma> removed;
};

// The part of the address space a run works in: the range of the accessible VMAs it
// created ([0, 0) when none), else of those without access. "Fit scenario" zooms to it.
std::pair<Addr, Addr> scenarioFocusRange(const History& history);

// One scenario run on the model with its whole history, and where the user is in it.
//
// The session parses the editor's text, runs it on a ModelBackend that keeps History, and
// remembers which statement each operation came from. The position is an operation and a
// micro-step inside it: op -1 is the state before the first operation; step == the
// operation's step count means "after the whole operation". Views only read from it.
class ScenarioSession : public QObject
{
    Q_OBJECT
public:
    explicit ScenarioSession(QObject* parent = nullptr);
    ~ScenarioSession() override;

    // "" follows the scenario's own `profile` statement, else "host".
    void setProfileName(const QString& name);
    QString profileName() const { return m_profileName; }
    // The profile actually used by the last run ("host", "v6.18"...).
    QString effectiveProfile() const { return m_effectiveProfile; }
    // The profile of the last successful run (nullptr before one): what quizzes compute with.
    const Profile* runProfile() const { return m_runProfile ? &*m_runProfile : nullptr; }
    // Model the documented reference machine (built-in profiles only) instead of this one.
    void setReferenceMachine(bool on);
    bool referenceMachine() const { return m_referenceMachine; }

    // Parses and runs `text`. On parse errors, diagnostics() holds them and the previous run
    // stays on show. Keeps the current operation where it can (clamped), else starts at the
    // state before the first operation. Returns true when the scenario ran.
    bool run(const QString& text, const QString& fileName);
    // Starts every later run from the last snapshot in `path` (a .vsnap file, docs/snapshots.md)
    // instead of the scenario's own start: "what if" the scenario's calls ran on that process.
    // Returns an error sentence ("" on success); on error the previous start stays.
    QString loadSnapshot(const QString& path);
    // The same with a snapshot in memory (a capture just made); label names it in views.
    void setSnapshot(snapshot::Snapshot snap, const QString& label);
    void clearSnapshot();
    bool hasSnapshot() const { return m_snapshot != nullptr; }
    QString snapshotPath() const { return m_snapshotPath; }
    // Where relative file names in the scenario (a recording's snapshots) are looked up: the
    // scenario file's directory; "" = the current directory.
    void setBaseDirectory(const QString& dir) { m_baseDirectory = dir; }
    QString baseDirectory() const { return m_baseDirectory; }
    // How many captures the loaded file held (a watch timeline holds several).
    int snapshotEntries() const { return m_snapshot ? m_snapshotEntries : 0; }
    // The assumptions the snapshot's World rests on (procfs does not show everything), and
    // those the current position depends on: they meet a VMA that differs from the capture.
    const std::vector<SnapshotAssumption>& assumptions() const { return m_assumptions; }
    QStringList assumptionsInEffect() const;

    // Parses only (for live diagnostics while typing).
    static Diagnostics check(const QString& text, const QString& fileName);

    const Diagnostics& diagnostics() const { return m_diagnostics; }
    const scenario::RunOutcome& outcome() const { return m_outcome; }
    bool hasRun() const { return m_history != nullptr; }
    const History* history() const { return m_history; }
    QStringList processNames() const { return m_processNames; }
    // Per process: the process whose fork() made it, or -1 (a process of the start).
    const std::vector<int>& forkParents() const { return m_forkParents; }

    int opCount() const;
    int currentOp() const { return m_op; }
    int currentStep() const { return m_step; }
    int stepCount(int op) const; // trace steps of operation op (0 for op -1)
    bool atWholeOp() const { return m_op < 0 || m_step >= stepCount(m_op); }
    const World& world() const { return m_world; }
    const World& worldBefore() const { return m_before; }
    const PositionChanges& changes() const { return m_changes; }

    // Source line of operation op (0 when unknown), and the operations a line produced.
    int lineOfOp(int op) const;
    std::vector<int> opsOfLine(int line) const;
    // The narration in effect at operation op: that of the latest narrated statement that ran
    // before it (a `///` comment may sit above a plain assignment that runs no call).
    QString narrationForOp(int op) const;

public Q_SLOTS:
    void stepForward();
    void stepBack();
    void microStepForward();
    void microStepBack();
    void runToEnd();
    void toStart();
    // op in [-1, opCount()-1]; step < 0 or beyond the op's steps means after the whole op.
    void jumpTo(int op, int step = -1);

Q_SIGNALS:
    void ran(); // a new run replaced the history (or diagnostics changed)
    void currentChanged(); // the position moved (also after ran())

private:
    struct StatementMark
    {
        int line = 0;
        int firstOp = 0; // operations recorded before the statement started
        QString narration;
    };
    void setPosition(int op, int step);

    QString m_profileName;
    QString m_effectiveProfile;
    bool m_referenceMachine = false;
    std::map<QString, Profile> m_profileCache; // host probing is slow; a profile never changes in a session
    std::unique_ptr<ModelBackend> m_backend;
    const History* m_history = nullptr;
    Diagnostics m_diagnostics;
    scenario::RunOutcome m_outcome;
    QStringList m_processNames;
    std::vector<int> m_forkParents;
    std::vector<StatementMark> m_marks;
    int m_op = -1;
    int m_step = 0;
    World m_world;
    World m_before;
    PositionChanges m_changes;
    std::optional<Profile> m_runProfile;
    std::shared_ptr<const snapshot::Snapshot> m_snapshot;
    QString m_snapshotPath;
    int m_snapshotEntries = 0;
    QString m_baseDirectory;
    std::vector<SnapshotAssumption> m_assumptions;
};

} // namespace vmalab::ui
