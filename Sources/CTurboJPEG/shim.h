#ifndef ZOO_CTURBOJPEG_SHIM_H
#define ZOO_CTURBOJPEG_SHIM_H
#include <turbojpeg.h>
#endif
