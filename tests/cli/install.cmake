# The installed package as a user's program sees it: install to a fresh
# prefix, build a small program with `pkg-config --cflags --libs cnist`
# against it, and run it. Included by CMakeLists.txt to add the test; run
# with -P (script mode) it is the test.
if(CMAKE_SCRIPT_MODE_FILE)
  file(REMOVE_RECURSE ${PREFIX})
  execute_process(COMMAND ${CMAKE_COMMAND} --install ${BUILD} --prefix ${PREFIX} OUTPUT_QUIET RESULT_VARIABLE rc)
  if(NOT rc EQUAL 0)
    message(FATAL_ERROR "cmake --install ${BUILD} --prefix ${PREFIX} failed (exit ${rc})")
  endif()
  file(WRITE ${PREFIX}/user.c [=[
#include <stdio.h>
#include "cnist.h"
int main(void) {
  cn_spec spec;
  cn_spec_init(&spec, 1, 28, 28);
  cn_spec_add_flatten(&spec);
  cn_spec_add_dense(&spec, 10, CN_ACT_SOFTMAX);
  cn_model *m;
  if (cn_model_new(&spec, 1, &m) != CN_OK) return fprintf(stderr, "%s\n", cn_last_error()), 1;
  printf("parameters %zu\n", cn_model_param_count(m));
  cn_model_free(m);
  return 0;
}
]=])
  set(ENV{PKG_CONFIG_PATH} ${PREFIX}/${LIBDIR}/pkgconfig)
  execute_process(COMMAND pkg-config --cflags --libs cnist OUTPUT_VARIABLE flags OUTPUT_STRIP_TRAILING_WHITESPACE
                  RESULT_VARIABLE rc)
  if(NOT rc EQUAL 0 OR NOT flags MATCHES "-I${PREFIX}/")
    message(FATAL_ERROR "pkg-config --cflags --libs cnist (exit ${rc}) gives `${flags}`, not ${PREFIX}'s folders")
  endif()
  separate_arguments(flags UNIX_COMMAND "${flags}")
  # A sanitized library needs a sanitized program (the ASan runtime must
  # load first); a user's normal build passes no such flags.
  separate_arguments(extra UNIX_COMMAND "${EXTRA_CFLAGS}")
  execute_process(COMMAND ${CC} ${extra} ${PREFIX}/user.c -o ${PREFIX}/user ${flags} RESULT_VARIABLE rc ERROR_VARIABLE err)
  if(NOT rc EQUAL 0)
    message(FATAL_ERROR "cc user.c ${flags} failed (exit ${rc}):\n${err}")
  endif()
  set(ENV{LD_LIBRARY_PATH} ${PREFIX}/${LIBDIR})
  execute_process(COMMAND ${PREFIX}/user OUTPUT_VARIABLE got RESULT_VARIABLE rc ERROR_VARIABLE err)
  if(NOT rc EQUAL 0 OR NOT got STREQUAL "parameters 7850\n")
    message(FATAL_ERROR "the installed program (exit ${rc}) printed `${got}${err}`, not `parameters 7850`")
  endif()
  return()
endif()

include(GNUInstallDirs)
set(CN_INSTALL_TEST_CFLAGS "")
if(CNIST_SANITIZE)
  set(CN_INSTALL_TEST_CFLAGS "-fsanitize=address,undefined")
endif()
add_test(NAME cli/install_pkg_config
         COMMAND ${CMAKE_COMMAND} -DBUILD=${CMAKE_BINARY_DIR} -DPREFIX=${CMAKE_BINARY_DIR}/test-tmp/install
                 -DCC=${CMAKE_C_COMPILER} -DLIBDIR=${CMAKE_INSTALL_LIBDIR}
                 "-DEXTRA_CFLAGS=${CN_INSTALL_TEST_CFLAGS}" -P ${CMAKE_CURRENT_LIST_FILE})
