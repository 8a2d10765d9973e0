#include "ui/quiz_dialog.h"

#include "ui/map_palette.h"

#include <QButtonGroup>
#include <QDialogButtonBox>
#include <QFontDatabase>
#include <QFrame>
#include <QGridLayout>
#include <QLabel>
#include <QPlainTextEdit>
#include <QPushButton>
#include <QRadioButton>
#include <QScrollArea>
#include <QVBoxLayout>

namespace vmalab::ui {

QuizDialog::QuizDialog(lesson::Quiz quiz, QWidget* parent)
    : QDialog(parent)
    , m_quiz(std::move(quiz))
{
    setWindowTitle(tr("Quiz"));
    resize(980, 720);
    auto* layout = new QVBoxLayout(this);
    auto* question = new QLabel(QString::fromStdString(m_quiz.point.question), this);
    question->setWordWrap(true);
    QFont qf = question->font();
    qf.setPointSizeF(qf.pointSizeF() * 1.3);
    qf.setBold(true);
    question->setFont(qf);
    layout->addWidget(question);
    auto* call = new QLabel(tr("Next step, in %1: <tt>%2</tt>. What will the address space look like after it?")
                                .arg(QString::fromStdString(m_quiz.process).toHtmlEscaped(),
                                    QString::fromStdString(m_quiz.call).toHtmlEscaped()),
        this);
    call->setWordWrap(true);
    layout->addWidget(call);

    auto* area = new QScrollArea(this);
    area->setWidgetResizable(true);
    auto* inner = new QWidget(area);
    auto* grid = new QGridLayout(inner);
    m_group = new QButtonGroup(this);
    const QFont mono = QFontDatabase::systemFont(QFontDatabase::FixedFont);
    for (int i = 0; i < choiceCount(); ++i) {
        const lesson::QuizChoice& c = m_quiz.choices[static_cast<std::size_t>(i)];
        auto* frame = new QFrame(inner);
        frame->setFrameShape(QFrame::StyledPanel);
        auto* fl = new QVBoxLayout(frame);
        auto* radio = new QRadioButton(tr("Choice %1").arg(QChar(u'A' + i)), frame);
        m_group->addButton(radio, i);
        fl->addWidget(radio);
        auto* text = new QPlainTextEdit(QString::fromStdString(c.outcome.text), frame);
        text->setReadOnly(true);
        text->setFont(mono);
        text->setLineWrapMode(QPlainTextEdit::NoWrap);
        text->setMinimumHeight(110);
        fl->addWidget(text);
        auto* verdict = new QLabel(frame);
        verdict->setWordWrap(true);
        verdict->hide();
        fl->addWidget(verdict);
        grid->addWidget(frame, i / 2, i % 2);
        m_frames.push_back(frame);
        m_verdicts.push_back(verdict);
    }
    area->setWidget(inner);
    layout->addWidget(area, 1);
    m_reveal = new QLabel(this);
    m_reveal->setWordWrap(true);
    m_reveal->setTextInteractionFlags(Qt::TextSelectableByMouse);
    m_reveal->hide();
    layout->addWidget(m_reveal);
    auto* buttons = new QDialogButtonBox(this);
    m_answer = buttons->addButton(tr("Answer"), QDialogButtonBox::ActionRole);
    m_answer->setEnabled(false);
    auto* skip = buttons->addButton(tr("Skip the quiz"), QDialogButtonBox::RejectRole);
    layout->addWidget(buttons);
    connect(m_group, &QButtonGroup::idClicked, this, [this] { m_answer->setEnabled(true); });
    connect(skip, &QPushButton::clicked, this, &QDialog::reject);
    connect(m_answer, &QPushButton::clicked, this, [this] {
        if (m_revealed)
            accept();
        else
            answer();
    });
}

void QuizDialog::choose(int index)
{
    if (QAbstractButton* b = m_group->button(index)) {
        b->setChecked(true);
        m_answer->setEnabled(true);
    }
}

int QuizDialog::chosen() const
{
    return m_group->checkedId();
}

bool QuizDialog::answer()
{
    const int pick = chosen();
    if (pick < 0)
        return false;
    m_revealed = true;
    const bool right = pick == static_cast<int>(m_quiz.correctIndex);
    // Shape as well as colour: a tick or a cross in words, not only green or red.
    for (int i = 0; i < choiceCount(); ++i) {
        const lesson::QuizChoice& c = m_quiz.choices[static_cast<std::size_t>(i)];
        QLabel* v = m_verdicts[static_cast<std::size_t>(i)];
        QString text = c.correct ? tr("✓ What happens (profile %1).").arg(QString::fromStdString(c.profile))
                                 : tr("✗ What would happen %1.").arg(QString::fromStdString(c.varied));
        if (i == pick)
            text += tr("  — your answer");
        v->setText(text);
        v->show();
        const QColor edge = c.correct ? createdColor() : (i == pick ? removedColor() : QColor(Qt::gray));
        m_frames[static_cast<std::size_t>(i)]->setStyleSheet(
            QStringLiteral("QFrame { border: %1px solid %2; }").arg(c.correct || i == pick ? 3 : 1).arg(edge.name()));
        m_group->button(i)->setEnabled(false);
    }
    m_reveal->setText((right ? tr("Right. ") : tr("Not quite: the answer is choice %1. ").arg(QChar(u'A' + static_cast<int>(m_quiz.correctIndex))))
        + QString::fromStdString(m_quiz.point.narration));
    m_reveal->show();
    m_answer->setText(tr("Continue"));
    return right;
}

QString QuizDialog::revealText() const
{
    QStringList parts { m_reveal->text() };
    for (QLabel* v : m_verdicts)
        parts << v->text();
    return parts.join(QLatin1Char('\n'));
}

} // namespace vmalab::ui
