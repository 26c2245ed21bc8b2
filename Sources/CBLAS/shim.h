#ifndef ZOO_CBLAS_SHIM_H
#define ZOO_CBLAS_SHIM_H
#include <cblas.h>
#endif
