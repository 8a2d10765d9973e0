# Lessons (core/lesson/): quiz points in lesson narration and the quiz engine, which computes
# every choice with the model. Included from core/CMakeLists.txt, so paths start at core/.
list(APPEND VMALAB_CORE_SOURCES
    lesson/quiz.cpp lesson/quiz.h
)
