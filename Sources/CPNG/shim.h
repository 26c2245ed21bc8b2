#ifndef ZOO_CPNG_SHIM_H
#define ZOO_CPNG_SHIM_H
#include <png.h>
#endif
