#ifndef RWS_CZLIB_SHIM_H
#define RWS_CZLIB_SHIM_H
#include <zlib.h>

/* deflateInit2/inflateInit2 are macros (they pass the header's version and struct size), which
   do not import into Swift: wrap them. */
static inline int rws_deflate_init2(z_streamp strm, int level, int window_bits, int mem_level) {
    return deflateInit2(strm, level, Z_DEFLATED, window_bits, mem_level, Z_DEFAULT_STRATEGY);
}
static inline int rws_inflate_init2(z_streamp strm, int window_bits) {
    return inflateInit2(strm, window_bits);
}
#endif
