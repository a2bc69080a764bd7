# The screenshot test needs Debian's chromium; without it the test reports
# itself skipped (exit code 77) instead of failing.
math(EXPR cn_render_timeout "300 * ${CN_TEST_TIME_SCALE}")
set_tests_properties(report/test_render PROPERTIES SKIP_RETURN_CODE 77 TIMEOUT ${cn_render_timeout})
