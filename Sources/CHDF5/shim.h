#ifndef ZOO_CHDF5_SHIM_H
#define ZOO_CHDF5_SHIM_H
#include <hdf5.h>

/* The HDF5 macros Swift cannot import (they expand to H5open() calls or casts), as functions. */
static inline hid_t zoo_H5T_NATIVE_FLOAT(void) { return H5T_NATIVE_FLOAT; }
static inline hid_t zoo_H5T_NATIVE_DOUBLE(void) { return H5T_NATIVE_DOUBLE; }
static inline hid_t zoo_H5T_NATIVE_INT64(void) { return H5T_NATIVE_INT64; }
static inline hid_t zoo_H5T_NATIVE_UINT8(void) { return H5T_NATIVE_UINT8; }
static inline hid_t zoo_H5T_C_S1(void) { return H5T_C_S1; }
static inline hid_t zoo_H5P_DEFAULT(void) { return H5P_DEFAULT; }
static inline hid_t zoo_H5S_ALL(void) { return H5S_ALL; }
static inline hid_t zoo_H5E_DEFAULT(void) { return H5E_DEFAULT; }
static inline hid_t zoo_H5P_DATASET_CREATE(void) { return H5P_DATASET_CREATE; }
static inline hid_t zoo_H5P_GROUP_CREATE(void) { return H5P_GROUP_CREATE; }
static inline hid_t zoo_H5P_FILE_CREATE(void) { return H5P_FILE_CREATE; }
static inline unsigned zoo_H5F_ACC_RDONLY(void) { return H5F_ACC_RDONLY; }
static inline unsigned zoo_H5F_ACC_RDWR(void) { return H5F_ACC_RDWR; }
static inline unsigned zoo_H5F_ACC_TRUNC(void) { return H5F_ACC_TRUNC; }
static inline unsigned zoo_H5F_ACC_EXCL(void) { return H5F_ACC_EXCL; }
static inline hsize_t zoo_H5S_UNLIMITED(void) { return H5S_UNLIMITED; }
static inline size_t zoo_H5T_VARIABLE(void) { return H5T_VARIABLE; }
static inline unsigned zoo_H5P_CRT_ORDER_TRACKED(void) { return H5P_CRT_ORDER_TRACKED; }
static inline unsigned zoo_H5P_CRT_ORDER_INDEXED(void) { return H5P_CRT_ORDER_INDEXED; }

/* Silences HDF5's automatic error printing (errors become Swift errors instead). */
static inline void zoo_H5_silence_errors(void) { H5Eset_auto2(H5E_DEFAULT, NULL, NULL); }

#endif
