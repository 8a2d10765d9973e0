#include "core/scenario/recording_files.h"

#include "core/snapshot/snapshot_format.h"

namespace vmalab::scenario {

namespace {

struct FileUse
{
    std::string path;
    SourceLoc loc;
};

void collectUses(const std::vector<Stmt>& stmts, std::vector<FileUse>& out)
{
    for (const Stmt& s : stmts) {
        if (s.kind == Stmt::Kind::StartFrom || s.kind == Stmt::Kind::RecordedEnd) {
            // The string follows the keyword on the same line.
            out.push_back({ s.name, s.loc });
        }
        const Expr* e = s.expr.get();
        if (e && e->kind == Expr::Kind::Call && (e->text == "exec" || e->text == "spawn") && e->args.size() == 1
            && e->args[0]->kind == Expr::Kind::String)
            out.push_back({ e->args[0]->text, e->args[0]->loc });
        collectUses(s.body, out);
    }
}

std::optional<std::string> pathOf(const Scenario& scenario, Stmt::Kind kind)
{
    for (const Stmt& s : scenario.stmts)
        if (s.kind == kind)
            return s.name;
    return std::nullopt;
}

} // namespace

std::string resolveRecordingPath(const std::string& baseDir, const std::string& path)
{
    if (path.empty() || path[0] == '/' || baseDir.empty())
        return path;
    return baseDir + (baseDir.back() == '/' ? "" : "/") + path;
}

Diagnostics loadRecordingFiles(Scenario& scenario, const std::string& baseDir, const FileReader& read)
{
    std::vector<FileUse> uses;
    collectUses(scenario.stmts, uses);
    Diagnostics diags;
    for (const FileUse& use : uses) {
        if (scenario.snapshotFiles.count(use.path))
            continue;
        auto fail = [&](const std::string& why) {
            diags.push_back(Diagnostic { scenario.file, use.loc.line, use.loc.col, why });
        };
        const std::string resolved = resolveRecordingPath(baseDir, use.path);
        std::string error;
        const auto bytes = read(resolved, &error);
        if (!bytes) {
            fail("cannot read the snapshot file " + resolved + ": " + error);
            continue;
        }
        auto parsed = snapshot::parseSnapshots(*bytes, resolved);
        if (!parsed) {
            fail(resolved + " is not a snapshot file: " + parsed.error().front().format());
            continue;
        }
        if (parsed->empty() || parsed->back().processes.empty()) {
            fail(resolved + " holds no snapshot of a process");
            continue;
        }
        scenario.snapshotFiles[use.path] = std::make_shared<const std::vector<snapshot::Snapshot>>(std::move(*parsed));
    }
    return diags;
}

std::optional<std::string> startFromPath(const Scenario& scenario)
{
    return pathOf(scenario, Stmt::Kind::StartFrom);
}

std::optional<std::string> recordedEndPath(const Scenario& scenario)
{
    return pathOf(scenario, Stmt::Kind::RecordedEnd);
}

} // namespace vmalab::scenario
