# The model's output for a scenario on the reference machine, compared with SCENARIO's
# golden file (same name, .golden); every scenario has one. VMALAB_UPDATE_GOLDEN=1 writes it instead.
string(REGEX REPLACE "\\.vlab$" ".golden" golden "${SCENARIO}")
execute_process(COMMAND ${CLI} run ${SCENARIO} --machine reference --profile maybe-guard-fixed
                        --emit maps,smaps,pages,stats,vars
                OUTPUT_VARIABLE out ERROR_VARIABLE err RESULT_VARIABLE rc)
set(out "${out}# exit ${rc}\n")
if(DEFINED ENV{VMALAB_UPDATE_GOLDEN})
    file(WRITE ${golden} "${out}")
    return()
endif()
if(NOT EXISTS ${golden})
    message(FATAL_ERROR "no golden file ${golden}: VMALAB_UPDATE_GOLDEN=1 ctest -L model creates it")
endif()
file(READ ${golden} expected)
if(NOT out STREQUAL expected)
    file(WRITE ${golden}.actual "${out}")
    message(FATAL_ERROR "model output differs from ${golden}; see ${golden}.actual (diff them; "
                        "VMALAB_UPDATE_GOLDEN=1 ctest -L model updates the golden files)\n${err}")
endif()
