# The MPI tests (tests/cli/mpi_seeds.c), when MPI is compiled into the tool
# (CN_MPI, CMakeLists.txt) and mpirun is there.
if(CN_MPI AND MPIEXEC_EXECUTABLE)
  add_executable(cli_mpi_seeds ${CMAKE_CURRENT_LIST_DIR}/mpi_seeds.c)
  target_include_directories(cli_mpi_seeds PRIVATE ${CMAKE_SOURCE_DIR}/include ${CMAKE_SOURCE_DIR}/src ${CMAKE_SOURCE_DIR}/tests)
  target_compile_definitions(cli_mpi_seeds PRIVATE
    CN_TEST_DATA_DIR="${CN_TEST_DATA_DIR}"
    CN_BINARY_DIR="${CMAKE_BINARY_DIR}"
    CN_MPIEXEC="${MPIEXEC_EXECUTABLE}"
    CN_TEST_TMP="${CMAKE_BINARY_DIR}/test-tmp/cli_mpi_seeds")
  add_dependencies(cli_mpi_seeds cnist)
  add_test(NAME cli/mpi_seeds COMMAND cli_mpi_seeds WORKING_DIRECTORY ${CMAKE_BINARY_DIR})
  math(EXPR cn_mpi_timeout "300 * ${CN_TEST_TIME_SCALE}")
  set_tests_properties(cli/mpi_seeds PROPERTIES FIXTURES_REQUIRED cn_data TIMEOUT ${cn_mpi_timeout})
endif()
