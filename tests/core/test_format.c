/* cn_format_thousands: groups of three digits, the sign kept, rounding,
 * and an output that stops at its size. */
#include "cnist.h"
#include "test.h"

static void check(double v, size_t size, const char *want) {
  char out[32] = "untouched";
  cn_format_thousands(out, size, v);
  CHECK_MSG(strcmp(out, want) == 0, "%.17g in %zu bytes gave \"%s\", wanted \"%s\"", v, size, out, want);
}

int main(void) {
  check(0, 32, "0");
  check(999, 32, "999");
  check(1000, 32, "1,000");
  check(436202, 32, "436,202");
  check(1234567.6, 32, "1,234,568");
  check(-60000, 32, "-60,000");
  char small[8];
  memset(small, 'x', sizeof small);
  cn_format_thousands(small, 4, 436202); /* truncated to fit, still terminated */
  CHECK(memchr(small, '\0', 4) && strncmp("436,202", small, strlen(small)) == 0 && small[4] == 'x');
  check(436202, 0, "untouched"); /* nothing written */
  return test_summary();
}
