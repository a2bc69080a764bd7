# CLI tests for `cnist models` and `cnist summary`. Included by CMakeLists.txt
# to add the tests; run with -P (script mode) it is the summary comparison.
if(CMAKE_SCRIPT_MODE_FILE)
  execute_process(COMMAND ${TOOL} summary ${MODEL} OUTPUT_VARIABLE got ERROR_VARIABLE err RESULT_VARIABLE rc)
  file(READ ${EXPECTED} want)
  if(NOT rc EQUAL 0 OR NOT got STREQUAL want)
    message(FATAL_ERROR "cnist summary ${MODEL} (exit ${rc}) differs from ${EXPECTED}\n"
                        "--- got:\n${got}${err}--- expected:\n${want}")
  endif()
  return()
endif()

add_test(NAME spec/summary_custom2
         COMMAND ${CMAKE_COMMAND} -DTOOL=$<TARGET_FILE:cnist> -DMODEL=custom2
                 -DEXPECTED=${CMAKE_CURRENT_LIST_DIR}/summary_custom2.txt -P ${CMAKE_CURRENT_LIST_FILE})

add_test(NAME spec/models_list COMMAND cnist models)
set_tests_properties(spec/models_list PROPERTIES PASS_REGULAR_EXPRESSION
  "custom2 +436,202  99\\.61% +study 000.*lenet +61,706 .*mlp512 +407,050  97\\.83% +study 003")

add_test(NAME spec/summary_model_file COMMAND cnist summary ${CMAKE_CURRENT_LIST_DIR}/data/no_flatten.model)
set_tests_properties(spec/summary_model_file PROPERTIES WILL_FAIL TRUE)
add_test(NAME spec/summary_model_file_message COMMAND cnist summary ${CMAKE_CURRENT_LIST_DIR}/data/no_flatten.model)
set_tests_properties(spec/summary_model_file_message PROPERTIES PASS_REGULAR_EXPRESSION
  "cnist: error: [^\n]*/no_flatten\\.model:4:1: dense needs a flat input but gets 26x26x8 \\(HxWxC\\); add `flatten` before it")

add_test(NAME spec/summary_unknown_model COMMAND cnist summary no_such_model)
set_tests_properties(spec/summary_unknown_model PROPERTIES PASS_REGULAR_EXPRESSION
  "cnist: error: no_such_model: no such model file, and not a zoo model \\(zoo: best, cnn_bn, custom1")
