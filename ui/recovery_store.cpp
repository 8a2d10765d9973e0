#include "ui/recovery_store.h"

#include <QDir>
#include <QFile>
#include <QSaveFile>
#include <QStandardPaths>

namespace vmalab::ui {

RecoveryStore::RecoveryStore(QString dir)
    : m_dir(std::move(dir))
{
}

QString RecoveryStore::defaultDir()
{
    return QStandardPaths::writableLocation(QStandardPaths::AppDataLocation);
}

QString RecoveryStore::textPath() const
{
    return m_dir + QStringLiteral("/recovery.vlab");
}

QString RecoveryStore::metaPath() const
{
    return m_dir + QStringLiteral("/recovery.source");
}

namespace {

bool writeFile(const QString& path, const QByteArray& bytes)
{
    QSaveFile f(path);
    if (!f.open(QIODevice::WriteOnly))
        return false;
    f.write(bytes);
    return f.commit();
}

} // namespace

bool RecoveryStore::save(const QString& sourcePath, const QString& text)
{
    if (!QDir().mkpath(m_dir))
        return false;
    // The source path first: a recovery text is never offered back with another file's name.
    return writeFile(metaPath(), sourcePath.toUtf8()) && writeFile(textPath(), text.toUtf8());
}

std::optional<RecoveryStore::Recovery> RecoveryStore::pending() const
{
    QFile t(textPath());
    if (!t.open(QIODevice::ReadOnly))
        return std::nullopt;
    Recovery r;
    r.text = QString::fromUtf8(t.readAll());
    QFile m(metaPath());
    if (m.open(QIODevice::ReadOnly))
        r.sourcePath = QString::fromUtf8(m.readAll());
    return r;
}

void RecoveryStore::clear()
{
    QFile::remove(textPath());
    QFile::remove(metaPath());
}

} // namespace vmalab::ui
