# vmalab_lang: the scenario language (core/scenario/): constants, calls, lexer, parser,
# checker, printer, interpreter. Included from core/CMakeLists.txt, so paths start at core/.
add_library(vmalab_lang STATIC
    scenario/ast.h
    scenario/backend.h
    scenario/outcome.h
    scenario/calls.cpp scenario/calls.h
    scenario/checker.cpp scenario/checker.h
    scenario/interpreter.cpp scenario/interpreter.h
    scenario/lexer.cpp scenario/lexer.h
    scenario/parser.cpp scenario/parser.h
    scenario/printer.cpp scenario/printer.h
    scenario/uapi.cpp scenario/uapi.h
)
target_link_libraries(vmalab_lang PUBLIC vmalab_base PRIVATE vmalab_warnings)
