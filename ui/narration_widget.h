#pragma once

#include <QWidget>

class QLabel;

namespace vmalab::ui {

// The lesson's voice: where we are (operation n of N, line), the call and what it returned,
// and the `///` narration in effect, in a large readable font.
class NarrationWidget : public QWidget
{
    Q_OBJECT
public:
    explicit NarrationWidget(QWidget* parent = nullptr);

    void setContent(const QString& position, const QString& call, const QString& result, const QString& narration);
    QString narration() const;
    void setPresentation(bool large);

private:
    QLabel* m_position = nullptr;
    QLabel* m_call = nullptr;
    QLabel* m_text = nullptr;
};

} // namespace vmalab::ui
