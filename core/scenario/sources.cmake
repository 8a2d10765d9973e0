# The scenario language (core/scenario/): constants, calls, lexer, parser,
# checker, printer, interpreter. Included from core/CMakeLists.txt, so paths start at core/.
list(APPEND VMALAB_CORE_SOURCES
    scenario/ast.h
    scenario/backend.h
    scenario/outcome.h
    scenario/calls.cpp scenario/calls.h
    scenario/checker.cpp scenario/checker.h
    scenario/interpreter.cpp scenario/interpreter.h
    scenario/lexer.cpp scenario/lexer.h
    scenario/parser.cpp scenario/parser.h
    scenario/printer.cpp scenario/printer.h
    scenario/recording_files.cpp scenario/recording_files.h
    scenario/uapi.cpp scenario/uapi.h
)
