# Time limits of the hardening tests (tests/cli/test_hardening_*.c): the
# crash-safety test trains a run twice over, killing one of them 24 times.
math(EXPR cn_hardening_timeout "300 * ${CN_TEST_TIME_SCALE}")
set_tests_properties(cli/test_hardening_kill PROPERTIES TIMEOUT ${cn_hardening_timeout})
# Each slow input is stopped after 30 s (timeout(1) in the test itself).
set_tests_properties(cli/test_hardening_slow PROPERTIES TIMEOUT ${cn_hardening_timeout})
