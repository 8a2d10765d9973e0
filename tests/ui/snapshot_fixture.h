#pragma once

#include "core/snapshot/snapshot_format.h"

#include <QFile>
#include <QString>
#include <QtGlobal>

#include <string_view>

// The captured `sleep` process the snapshot GUI tests start from.
namespace vmalab::ui::test {

inline const QString snapshotFixture =
    QStringLiteral(VMALAB_SOURCE_DIR "/tests/snapshot/corpus/fuzz_snapshot_format/sleep.vsnap");

inline snapshot::Snapshot loadSnapshotFixture()
{
    QFile f(snapshotFixture);
    if (!f.open(QIODevice::ReadOnly))
        qFatal("cannot read the fixture");
    const QByteArray b = f.readAll();
    auto parsed = snapshot::parseSnapshots(std::string_view(b.constData(), static_cast<std::size_t>(b.size())));
    if (!parsed || parsed->empty())
        qFatal("the fixture does not parse");
    return parsed->back();
}

} // namespace vmalab::ui::test
