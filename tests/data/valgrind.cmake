# The reader's rejection tests again under valgrind: every error path must
# free what it allocated. Valgrind cannot run every instruction -march=native
# may emit, so this copy of the test builds core and data itself without it.
find_program(CN_VALGRIND valgrind)
if(CN_VALGRIND)
  file(GLOB cn_valgrind_src CONFIGURE_DEPENDS ${CMAKE_SOURCE_DIR}/src/core/*.c ${CMAKE_SOURCE_DIR}/src/data/*.c)
  # The reader alone: augmentation (which needs the spec area) is not on its path.
  list(FILTER cn_valgrind_src EXCLUDE REGEX "/augment\\.c$")
  add_executable(data_valgrind_idx_reject ${CMAKE_SOURCE_DIR}/tests/data/test_idx_reject.c ${cn_valgrind_src})
  get_property(cn_valgrind_options TARGET data_valgrind_idx_reject PROPERTY COMPILE_OPTIONS)
  list(REMOVE_ITEM cn_valgrind_options -march=native)
  set_property(TARGET data_valgrind_idx_reject PROPERTY COMPILE_OPTIONS ${cn_valgrind_options})
  target_include_directories(data_valgrind_idx_reject PRIVATE ${CMAKE_SOURCE_DIR}/include ${CMAKE_SOURCE_DIR}/src ${CMAKE_SOURCE_DIR}/tests)
  target_link_libraries(data_valgrind_idx_reject PRIVATE ${CN_EXTERNAL_LIBS})
  target_compile_definitions(data_valgrind_idx_reject PRIVATE
    CN_TEST_DATA_DIR="${CN_TEST_DATA_DIR}" CN_SOURCE_DIR="${CMAKE_SOURCE_DIR}" CN_BINARY_DIR="${CMAKE_BINARY_DIR}"
    CN_TEST_TMP="${CMAKE_BINARY_DIR}/test-tmp/data_valgrind_idx_reject")
  add_test(NAME data/idx_reject_valgrind
           COMMAND ${CN_VALGRIND} --quiet --leak-check=full --errors-for-leak-kinds=definite,indirect
                   --show-leak-kinds=definite,indirect --error-exitcode=99 $<TARGET_FILE:data_valgrind_idx_reject>
           WORKING_DIRECTORY ${CMAKE_BINARY_DIR})
endif()
