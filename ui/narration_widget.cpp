#include "ui/narration_widget.h"

#include <QLabel>
#include <QVBoxLayout>

namespace vmalab::ui {

NarrationWidget::NarrationWidget(QWidget* parent)
    : QWidget(parent)
    , m_position(new QLabel(this))
    , m_call(new QLabel(this))
    , m_text(new QLabel(this))
{
    auto* layout = new QVBoxLayout(this);
    layout->setContentsMargins(10, 6, 10, 8);
    layout->setSpacing(4);
    m_position->setStyleSheet(QStringLiteral("color: palette(placeholder-text);"));
    m_call->setTextFormat(Qt::RichText);
    m_call->setTextInteractionFlags(Qt::TextSelectableByMouse);
    m_text->setWordWrap(true);
    m_text->setTextInteractionFlags(Qt::TextSelectableByMouse);
    m_text->setAlignment(Qt::AlignTop | Qt::AlignLeft);
    layout->addWidget(m_position);
    layout->addWidget(m_call);
    layout->addWidget(m_text, 1);
    setPresentation(false);
}

void NarrationWidget::setPresentation(bool large)
{
    QFont f = font();
    f.setPointSizeF(f.pointSizeF() * (large ? 1.7 : 1.2));
    m_text->setFont(f);
    QFont c = font();
    c.setPointSizeF(c.pointSizeF() * (large ? 1.5 : 1.1));
    m_call->setFont(c);
}

void NarrationWidget::setContent(
    const QString& position, const QString& call, const QString& result, const QString& narration)
{
    m_position->setText(position);
    if (call.isEmpty())
        m_call->clear();
    else
        m_call->setText(QStringLiteral("<tt><b>%1</b></tt> &rarr; <tt><b>%2</b></tt>")
                            .arg(call.toHtmlEscaped(), result.toHtmlEscaped()));
    m_text->setText(narration);
}

QString NarrationWidget::narration() const
{
    return m_text->text();
}

} // namespace vmalab::ui
