/* Internal: the augmentation's geometry, apart from its random draws, so
 * that tests can check it with transforms they choose. */
#ifndef CN_DATA_AUGMENT_H
#define CN_DATA_AUGMENT_H

/* out (h x w) = in sampled bilinearly (zeros outside) at the inverse
 * mapping of each output pixel p: M (p - c) + c - t, plus alpha times the
 * displacement (dx, dy) at p when dx is not NULL; c is the image's centre,
 * m = {m00, m01, m10, m11} row-major over (x, y). The content thus moves by
 * +t: tx = 3 puts in's column j at out's column j + 3. */
void cn_augment_warp(const float *in, float *out, int h, int w, const float m[4], float tx, float ty, const float *dx,
                     const float *dy, float alpha);

#endif
