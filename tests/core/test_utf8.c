/* The one UTF-8 check (model files, checkpoint headers): the offset of the
 * first bad byte for each kind of fault, NUL included. */
#include <string.h>

#include "core/utf8.h"
#include "test.h"

#define AT(s, want) CHECK_MSG(cn_utf8_invalid_at(s, sizeof s - 1) == (size_t)(want), "%s: %zu, want %d", #s, \
                              cn_utf8_invalid_at(s, sizeof s - 1), (int)(want))

int main(void) {
  AT("", 0);
  AT("plain ascii", 11);
  AT("caf\xc3\xa9 \xe2\x82\xac \xf0\x9f\x98\x80", 14); /* é, €, an emoji */
  AT("\xf4\x8f\xbf\xbf", 4);                         /* U+10FFFF, the last code point */
  AT("ab\0cd", 2);                                   /* NUL */
  AT("a\xff", 1);                                    /* never a UTF-8 byte */
  AT("a\xc0\xaf", 1);                                /* overlong '/' */
  AT("a\xe0\x80\xaf", 1);                            /* overlong, three bytes */
  AT("a\xf0\x80\x80\xaf", 1);                        /* overlong, four bytes */
  AT("a\xed\xa0\x80", 1);                            /* UTF-16 surrogate U+D800 */
  AT("a\xf4\x90\x80\x80", 1);                        /* U+110000 */
  AT("a\xf5\x80\x80\x80", 1);                        /* lead byte beyond U+10FFFF */
  AT("ab\xe2\x82", 2);                               /* cut sequence */
  AT("a\xe2\x28\xa1", 1);                            /* bad continuation */
  AT("\x80", 0);                                     /* lone continuation */
  CHECK(cn_utf8_chars("caf\xc3\xa9", 5) == 4);
  CHECK(cn_utf8_chars("\xf0\x9f\x98\x80!", 5) == 2);
  return test_summary();
}
