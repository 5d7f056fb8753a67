// The fuzz harnesses, one function per target. Each takes one input, runs it, and
// checks its invariants with FUZZ_CHECK (fuzz_util.h). They return 0 like
// LLVMFuzzerTestOneInput.
#pragma once

#include <cstddef>
#include <cstdint>

namespace sctpp::fuzz {

// Packet, chunk, parameter and error-cause codecs on arbitrary bytes.
int fuzz_packet(const uint8_t* data, size_t size);
// Two endpoints after a real handshake, fed interleaved network events, injected and
// mutated packets, user calls and time (fuzz_endpoint.h describes the input).
int fuzz_endpoint(const uint8_t* data, size_t size);
// DataTracker + ReassemblyQueue driven by arbitrary DATA chunk sequences.
int fuzz_receive(const uint8_t* data, size_t size);

}  // namespace sctpp::fuzz
