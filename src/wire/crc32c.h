// CRC32c (Castagnoli), the SCTP checksum (RFC 9260 Appendix A). Uses carry-less
// multiplication on 512-bit vectors when the CPU has AVX-512 and VPCLMULQDQ, the SSE4.2
// crc32 instruction when it has that, a table-driven fallback otherwise.
#pragma once

#include <cstddef>
#include <cstdint>
#include <span>

namespace sctpp::wire {

// Returns the CRC32c of data, continuing from a previous value `crc` (0 to start).
// The result is in host order; SCTP stores it little-endian-reflected as RFC 9260
// Appendix A describes, which PacketWriter/PacketView handle.
uint32_t crc32c(std::span<const uint8_t> data, uint32_t crc = 0);
// Copies `src` to `dst` (which must not overlap it) and returns crc32c(src, crc), in one
// pass over the bytes where the CPU allows: a packet's payload is copied in and summed.
uint32_t crc32c_copy(uint8_t* dst, std::span<const uint8_t> src, uint32_t crc = 0);

// Implementations, exposed so tests can check both against the same vectors.
uint32_t crc32c_portable(std::span<const uint8_t> data, uint32_t crc = 0);
uint32_t crc32c_hw(std::span<const uint8_t> data, uint32_t crc = 0);  // requires SSE4.2
bool crc32c_hw_available();
// Requires AVX-512F/VL, VPCLMULQDQ, PCLMULQDQ and SSE4.2; falls back to crc32c_hw (then
// crc32c_portable) without them. Short inputs take the crc32c_hw path either way.
uint32_t crc32c_avx512(std::span<const uint8_t> data, uint32_t crc = 0);
bool crc32c_avx512_available();

}  // namespace sctpp::wire
