# The CLI is a thin layer over the public API: no file under src/cli may
# include another module's internal header (only cnist.h, cnist/*.h,
# cli/cli.h and dist/dist.h, the tool's own layer over MPI). Included by CMakeLists.txt to add the test; run with -P
# (script mode) it is the test.
if(CMAKE_SCRIPT_MODE_FILE)
  file(GLOB files ${SRC}/src/cli/*.c ${SRC}/src/cli/*.h)
  set(bad "")
  foreach(f ${files})
    file(STRINGS ${f} lines REGEX "^#include \"")
    foreach(l ${lines})
      if(NOT l MATCHES "^#include \"(cnist\\.h|cnist/[a-z_]+\\.h|cli/cli\\.h|dist/dist\\.h)\"")
        get_filename_component(n ${f} NAME)
        string(APPEND bad "\n  src/cli/${n}: ${l}")
      endif()
    endforeach()
  endforeach()
  if(bad)
    message(FATAL_ERROR "the CLI includes internal headers (give the library a public call instead):${bad}")
  endif()
  list(LENGTH files n)
  message(STATUS "${n} files under src/cli include only public headers")
else()
  add_test(NAME cli/thin_cli COMMAND ${CMAKE_COMMAND} -DSRC=${CMAKE_SOURCE_DIR} -P ${CMAKE_CURRENT_LIST_FILE})
endif()
