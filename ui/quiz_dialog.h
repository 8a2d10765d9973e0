#pragma once

#include "core/lesson/quiz.h"

#include <QDialog>
#include <QString>

#include <vector>

class QButtonGroup;
class QFrame;
class QLabel;
class QPushButton;

namespace vmalab::ui {

// Quiz mode (issue 7 §6): before a lesson's quiz statement, the question and every choice
// the engine computed (core/lesson/quiz.h) as the text of what /proc would show of the
// region afterwards; Answer reveals which one is right, what each wrong one varied ("if the
// kernel ignored anon_vma compatibility…") and the statement's narration; Continue steps.
class QuizDialog : public QDialog
{
    Q_OBJECT
public:
    explicit QuizDialog(lesson::Quiz quiz, QWidget* parent = nullptr);

    int choiceCount() const { return static_cast<int>(m_quiz.choices.size()); }
    void choose(int index);
    int chosen() const;
    // Reveals the answer (needs a choice); returns whether the chosen one is right.
    bool answer();
    bool revealed() const { return m_revealed; }
    QString revealText() const;
    const lesson::Quiz& quiz() const { return m_quiz; }

private:
    lesson::Quiz m_quiz;
    QButtonGroup* m_group = nullptr;
    std::vector<QFrame*> m_frames;
    std::vector<QLabel*> m_verdicts;
    QLabel* m_reveal = nullptr;
    QPushButton* m_answer = nullptr;
    bool m_revealed = false;
};

} // namespace vmalab::ui
