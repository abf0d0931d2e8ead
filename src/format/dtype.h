/* Element types: sizes, names, and the scalar conversions to f32 that every fast path is held to. */
#ifndef LINEAGE_FORMAT_DTYPE_H
#define LINEAGE_FORMAT_DTYPE_H
#include <stddef.h>
#include <stdint.h>
#include "lineage.h"

/* Bytes per element for plain types; for block types, bytes per block. */
size_t dtype_block_bytes(lineage_dtype t);
/* Elements per block: 1 for plain types, 32 or 256 for GGUF quant types. */
size_t dtype_block_elems(lineage_dtype t);
int dtype_is_float(lineage_dtype t);       /* converts to f32 */
int dtype_is_quantized(lineage_dtype t);   /* GGUF block types */
lineage_dtype dtype_from_safetensors(const char *name);

float f16_to_f32(uint16_t h);
float bf16_to_f32(uint16_t b);
float f8e4m3_to_f32(uint8_t v);
float f8e5m2_to_f32(uint8_t v);
uint16_t f32_to_f16(float f);   /* round to nearest even */
uint16_t f32_to_bf16(float f);  /* round to nearest even */
/* Round to nearest even. E4M3 (no infinities) saturates to +-448; E5M2 overflows to infinity. */
uint8_t f32_to_f8e4m3(float f);
uint8_t f32_to_f8e5m2(float f);

/* Converts n elements of a plain (non-block) type to f32. Returns 0 for unsupported types. */
int dtype_convert_f32(lineage_dtype t, const void *src, size_t n, float *dst);
/* Dequantizes nblocks GGUF blocks (dtype_block_elems each). Returns 0 for unsupported types. */
int dtype_dequantize_blocks(lineage_dtype t, const void *src, size_t nblocks, float *dst);
#endif
