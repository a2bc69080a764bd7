# The MPI tests (tests/cli/mpi_seeds.c: seeds over the ranks; mpi_split.c:
# one run's batches split across them), when MPI is compiled into the tool
# (CN_MPI, CMakeLists.txt) and mpirun is there.
if(CN_MPI AND MPIEXEC_EXECUTABLE)
  # minutes on a quiet machine; a loaded one (a training beside them) takes several times that
  math(EXPR cn_mpi_timeout "900 * ${CN_TEST_TIME_SCALE}")
  foreach(name seeds split)
    add_executable(cli_mpi_${name} ${CMAKE_CURRENT_LIST_DIR}/mpi_${name}.c)
    target_include_directories(cli_mpi_${name} PRIVATE ${CMAKE_SOURCE_DIR}/include ${CMAKE_SOURCE_DIR}/src
                               ${CMAKE_SOURCE_DIR}/tests)
    target_compile_definitions(cli_mpi_${name} PRIVATE
      CN_TEST_DATA_DIR="${CN_TEST_DATA_DIR}"
      CN_BINARY_DIR="${CMAKE_BINARY_DIR}"
      CN_MPIEXEC="${MPIEXEC_EXECUTABLE}"
      CN_TEST_TMP="${CMAKE_BINARY_DIR}/test-tmp/cli_mpi_${name}")
    add_dependencies(cli_mpi_${name} cnist)
    add_test(NAME cli/mpi_${name} COMMAND cli_mpi_${name} WORKING_DIRECTORY ${CMAKE_BINARY_DIR})
    set_tests_properties(cli/mpi_${name} PROPERTIES FIXTURES_REQUIRED cn_data TIMEOUT ${cn_mpi_timeout})
  endforeach()
endif()
