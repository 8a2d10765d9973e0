#pragma once

#include "core/result.h"

#include <QString>
#include <QStringList>

namespace vmalab::ui {

// Diagnostics as the GUI shows them: FILE:LINE:COL: error: MESSAGE, one a line.
inline QString diagnosticsText(const Diagnostics& diagnostics)
{
    QStringList lines;
    for (const Diagnostic& d : diagnostics)
        lines << QString::fromStdString(d.format());
    return lines.join(QLatin1Char('\n'));
}

} // namespace vmalab::ui
