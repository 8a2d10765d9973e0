#pragma once

#include <QString>

#include <optional>

namespace vmalab::ui {

// Keeps a copy of the editor's text on disk after every edit, so a crash (or a
// VMALAB_ASSERT abort in the engine) loses nothing; the next start offers it back.
// One recovery slot: the text and the path of the file it was an edit of ("" if untitled).
class RecoveryStore
{
public:
    struct Recovery
    {
        QString sourcePath;
        QString text;
    };

    // `dir` is created when needed; the application passes its AppDataLocation.
    explicit RecoveryStore(QString dir);
    static QString defaultDir();

    // Writes atomically (QSaveFile), so a crash mid-write keeps the previous copy.
    bool save(const QString& sourcePath, const QString& text);
    std::optional<Recovery> pending() const;
    void clear();
    QString dir() const { return m_dir; }

private:
    QString textPath() const;
    QString metaPath() const;
    QString m_dir;
};

} // namespace vmalab::ui
