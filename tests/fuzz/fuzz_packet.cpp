// fuzz_packet: the wire layer on arbitrary bytes.
//
// The input is one SCTP packet (common header + chunks). The harness
//  * parses it under every checksum policy, and a copy with the CRC32c fixed up (so
//    the fuzzer does not need to find checksums), and compares the verdicts with a
//    reference walk written independently from the RFC text;
//  * checks every chunk view stays inside the packet and matches its header;
//  * feeds every chunk's bytes to every typed chunk parser (as if it had that type),
//    and for each that accepts: serializes it again, re-parses and compares, and where
//    the encoding is canonical compares the bytes too;
//  * walks INIT/INIT ACK parameters and ABORT/ERROR causes (ParamList, CauseList,
//    typed parameter reads, describe_causes), rebuilds them with the writers and
//    compares;
//  * rebuilds the whole packet with PacketWriter and re-parses it with the checksum
//    verified;
//  * asks Endpoint::out_of_the_blue_reply for its §8.4 answer and checks its shape.
#include <cstring>
#include <vector>

#include "endpoint/endpoint.h"
#include "fuzz_targets.h"
#include "fuzz_util.h"
#include "wire/byte_io.h"
#include "wire/chunk_bytes.h"
#include "wire/chunks.h"
#include "wire/crc32c.h"
#include "wire/error_causes.h"
#include "wire/packet.h"
#include "wire/parameters.h"

namespace sctpp::fuzz {
namespace {

using namespace sctpp::wire;
using Bytes = std::span<const uint8_t>;

bool same(Bytes a, Bytes b) {
  return a.size() == b.size() && (a.empty() || std::memcmp(a.data(), b.data(), a.size()) == 0);
}
bool inside(Bytes inner, Bytes outer) {
  if (inner.empty()) return true;
  return inner.data() >= outer.data() && inner.data() + inner.size() <= outer.data() + outer.size();
}

// --- reference walks (written from RFC 9260 §3.2 / §3.2.1, not from the codec) ---

// Chunk region after the common header: each chunk length >= 4 and inside the packet;
// chunks padded to 4 except the last; fewer than 4 trailing bytes are ignored.
// Returns the chunk count or -1 when malformed.
long reference_chunk_count(Bytes packet) {
  if (packet.size() < 12) return -1;
  long count = 0;
  size_t at = 12;
  while (packet.size() >= at + 4) {
    size_t len = size_t{packet[at + 2]} * 256 + packet[at + 3];
    if (len < 4 || at + len > packet.size()) return -1;
    ++count;
    size_t padded = (len + 3) / 4 * 4;
    if (at + padded > packet.size()) break;  // unpadded last chunk
    at += padded;
  }
  return count;
}

// TLV region (parameters, causes): every TLV complete, length >= 4, padded to 4 except
// possibly the last; no trailing bytes. -1 when malformed, else the TLV count.
long reference_tlv_count(Bytes region) {
  long count = 0;
  size_t at = 0;
  while (at < region.size()) {
    if (region.size() - at < 4) return -1;
    size_t len = size_t{region[at + 2]} * 256 + region[at + 3];
    if (len < 4 || at + len > region.size()) return -1;
    ++count;
    size_t padded = (len + 3) / 4 * 4;
    at = at + padded > region.size() ? at + len : at + padded;
    if (at > region.size()) return -1;
  }
  return count;
}

// --- chunk round trips ---

// A ChunkView over our own serialization of a chunk.
ChunkView view_of(const std::vector<uint8_t>& buf, size_t size) {
  FUZZ_CHECK(buf.size() >= size && size >= 4, "serialized chunk too small");
  FUZZ_CHECK(load16(buf.data() + 2) == size, "length field differs from size()");
  for (size_t i = size; i < buf.size(); ++i) FUZZ_CHECK(buf[i] == 0, "padding not zero");
  ChunkView v;
  v.type = buf[0];
  v.flags = buf[1];
  v.whole = Bytes(buf.data(), size);
  v.value = v.whole.subspan(4);
  return v;
}

// Compares `out` (our serialization) with `in` (the original chunk bytes) ignoring
// flag bits the type does not define; `out` may be shorter (a prefix).
void check_bytes(Bytes out, Bytes in, uint8_t flag_mask, const char* what) {
  FUZZ_CHECK(out.size() <= in.size(), std::string(what) + ": re-serialization grew");
  FUZZ_CHECK(out[0] == in[0], what);
  FUZZ_CHECK(out[1] == (in[1] & flag_mask), std::string(what) + ": flags");
  FUZZ_CHECK(same(out.subspan(4), in.subspan(4, out.size() - 4)), std::string(what) + ": body");
}

template <class C>
std::optional<C> retyped_parse(const ChunkView& c) {
  ChunkView v = c;
  v.type = static_cast<uint8_t>(C::kType);
  return C::parse(v);
}

// How a re-serialization compares with the original bytes: exactly (same length),
// as a prefix shorter by at most 3 bytes (chunks ending in a TLV region, whose length
// leaves out the last element's padding, RFC 9260 §3.2), or not at all.
enum Canonical { kNotCanonical, kExact, kUpToPadding };

// A TLV region without the padding after its last element (as the chunk length counts
// it), or the region itself when it is not well-formed.
Bytes trimmed(Bytes region) {
  if (reference_tlv_count(region) <= 0) return region;
  size_t at = 0, end = 0;
  while (at < region.size()) {
    size_t len = size_t{region[at + 2]} * 256 + region[at + 3];
    end = at + len;
    at += (len + 3) / 4 * 4;
  }
  return region.first(end);
}

template <class C, class Eq>
void round_trip(const ChunkView& orig, const char* name, Eq eq, Canonical canonical,
                uint8_t flag_mask) {
  auto parsed = retyped_parse<C>(orig);
  if (!parsed) return;
  // write() writes exactly size() bytes (the chunks.h contract).
  std::vector<uint8_t> canary(parsed->size() + 8, 0xA5);
  parsed->write(canary.data());
  for (size_t i = parsed->size(); i < canary.size(); ++i)
    FUZZ_CHECK(canary[i] == 0xA5, std::string(name) + ": write() wrote past size()");
  std::vector<uint8_t> buf = chunk_bytes(*parsed);
  FUZZ_CHECK(buf.size() == pad4(parsed->size()), name);
  ChunkView v = view_of(buf, parsed->size());
  auto again = C::parse(v);
  FUZZ_CHECK(again.has_value(), std::string(name) + ": own serialization does not parse");
  FUZZ_CHECK(eq(*parsed, *again), std::string(name) + ": round trip changed the value");
  if (canonical != kNotCanonical) {
    if (canonical == kExact)
      FUZZ_CHECK(parsed->size() == orig.whole.size(),
                 std::string(name) + ": size() != chunk length");
    else
      FUZZ_CHECK(parsed->size() <= orig.whole.size() && orig.whole.size() - parsed->size() <= 3,
                 std::string(name) + ": size() differs from the chunk length beyond padding");
    // Compare against the original with its type byte replaced.
    std::vector<uint8_t> in(orig.whole.begin(), orig.whole.end());
    in[0] = static_cast<uint8_t>(C::kType);
    check_bytes(Bytes(buf.data(), parsed->size()), in, flag_mask, name);
  }
}

void walk_params(Bytes region) {
  auto list = ParamList::parse(region);
  long ref = reference_tlv_count(region);
  FUZZ_CHECK(list.has_value() == (ref >= 0), "ParamList::parse disagrees with the reference walk");
  if (!list) return;
  long n = 0;
  std::vector<uint8_t> rebuilt;
  ParamWriter pw(rebuilt);
  std::vector<std::pair<uint16_t, std::vector<uint8_t>>> seen;
  for (const ParamView& p : *list) {
    ++n;
    FUZZ_CHECK(n <= ref, "ParamList iterates more parameters than the region holds");
    FUZZ_CHECK(inside(p.whole, region), "parameter outside its region");
    FUZZ_CHECK(p.whole.size() >= 4 && load16(p.whole.data()) == p.type, "parameter header");
    FUZZ_CHECK(load16(p.whole.data() + 2) == p.whole.size(), "parameter length");
    FUZZ_CHECK(same(p.value, p.whole.subspan(4)), "parameter value");
    // Typed reads must accept exactly the sizes the RFC gives.
    auto v4 = parse_ipv4_param(p);
    auto v6 = parse_ipv6_param(p);
    auto cp = parse_cookie_preservative(p);
    auto sat = parse_supported_address_types(p);
    auto ext = parse_supported_extensions(p);
    auto zc = parse_zero_checksum_acceptable(p);
    FUZZ_CHECK(v4.has_value() == (p.type == 5 && p.value.size() == 4), "IPv4 address param");
    FUZZ_CHECK(v6.has_value() == (p.type == 6 && p.value.size() == 16), "IPv6 address param");
    FUZZ_CHECK(cp.has_value() == (p.type == 9 && p.value.size() == 4), "cookie preservative");
    FUZZ_CHECK(sat.has_value() == (p.type == 12 && p.value.size() % 2 == 0), "address types");
    if (sat) FUZZ_CHECK(sat->size() * 2 == p.value.size(), "address types count");
    FUZZ_CHECK(ext.size() == (p.type == 0x8008 ? p.value.size() : 0), "supported extensions");
    FUZZ_CHECK(zc.has_value() == (p.type == 0x8001 && p.value.size() == 4), "zero checksum");
    if (v4) {
      std::vector<uint8_t> w;
      ParamWriter(w).add_address(*v4);
      FUZZ_CHECK(same(Bytes(w).first(8), p.whole), "IPv4 address param round trip");
    }
    if (v6) {
      std::vector<uint8_t> w;
      ParamWriter(w).add_address(*v6);
      FUZZ_CHECK(same(Bytes(w).first(20), p.whole), "IPv6 address param round trip");
    }
    pw.add_raw(p.whole);
    seen.emplace_back(p.type, std::vector<uint8_t>(p.value.begin(), p.value.end()));
  }
  FUZZ_CHECK(n == ref, "ParamList iterates fewer parameters than the region holds");
  auto again = ParamList::parse(rebuilt);
  FUZZ_CHECK(again.has_value(), "rebuilt parameters do not parse");
  size_t i = 0;
  for (const ParamView& p : *again) {
    FUZZ_CHECK(i < seen.size() && p.type == seen[i].first && same(p.value, seen[i].second),
               "rebuilt parameters differ");
    ++i;
  }
  FUZZ_CHECK(i == seen.size(), "rebuilt parameter count differs");
}

void walk_causes(Bytes region) {
  auto list = CauseList::parse(region);
  long ref = reference_tlv_count(region);
  FUZZ_CHECK(list.has_value() == (ref >= 0), "CauseList::parse disagrees with the reference walk");
  std::string text = describe_causes(region);
  FUZZ_CHECK(!text.empty(), "describe_causes returned nothing");
  if (!list) return;
  auto all = list->all();
  FUZZ_CHECK(static_cast<long>(all.size()) == ref, "CauseList::all count");
  std::vector<uint8_t> rebuilt;
  CauseWriter cw(rebuilt);
  for (const CauseView& c : all) {
    FUZZ_CHECK(inside(c.value, region), "cause outside its region");
    std::string d = describe_cause(c);
    FUZZ_CHECK(!d.empty(), "describe_cause returned nothing");
    // Descriptions go to logs: peer bytes appear only as printable ASCII.
    for (char ch : d)
      FUZZ_CHECK(ch >= 0x20 && ch <= 0x7e, "unprintable byte in a cause description");
    cw.add(c.code, c.value);
  }
  auto again = CauseList::parse(rebuilt);
  FUZZ_CHECK(again.has_value(), "rebuilt causes do not parse");
  auto all2 = again->all();
  FUZZ_CHECK(all2.size() == all.size(), "rebuilt cause count");
  for (size_t i = 0; i < all.size(); ++i)
    FUZZ_CHECK(all2[i].code == all[i].code && same(all2[i].value, all[i].value), "rebuilt cause");
}

void check_chunk(const ChunkView& c) {
  auto init_eq = [](const InitFields& a, const InitFields& b) {
    return a.initiate_tag == b.initiate_tag && a.a_rwnd == b.a_rwnd &&
           a.outbound_streams == b.outbound_streams && a.inbound_streams == b.inbound_streams &&
           a.initial_tsn == b.initial_tsn && same(trimmed(a.params), trimmed(b.params));
  };
  round_trip<DataChunk>(
      c, "DATA",
      [](const DataChunk& a, const DataChunk& b) {
        return a.immediate == b.immediate && a.unordered == b.unordered &&
               a.beginning == b.beginning && a.ending == b.ending && a.tsn == b.tsn &&
               a.stream == b.stream && a.ssn == b.ssn && a.ppid == b.ppid &&
               same(a.payload, b.payload);
      },
      kExact, 0x0f);
  round_trip<InitChunk>(c, "INIT", init_eq, kUpToPadding, 0);
  round_trip<InitAckChunk>(c, "INIT ACK", init_eq, kUpToPadding, 0);
  round_trip<SackChunk>(
      c, "SACK",
      [](const SackChunk& a, const SackChunk& b) {
        return a.cum_tsn_ack == b.cum_tsn_ack && a.a_rwnd == b.a_rwnd &&
               a.gap_blocks == b.gap_blocks && a.dup_tsns == b.dup_tsns;
      },
      kNotCanonical, 0);
  if (auto s = retyped_parse<SackChunk>(c)) {
    FUZZ_CHECK(s->size() <= c.whole.size(), "SACK counts claim more than the chunk holds");
    std::vector<uint8_t> in(c.whole.begin(), c.whole.end());
    in[0] = static_cast<uint8_t>(ChunkType::Sack);
    auto buf = chunk_bytes(*s);
    check_bytes(Bytes(buf.data(), s->size()), in, 0, "SACK bytes");
  }
  auto hb_eq = [](const auto& a, const auto& b) { return same(a.info, b.info); };
  round_trip<HeartbeatChunk>(c, "HEARTBEAT", hb_eq, kNotCanonical, 0);
  round_trip<HeartbeatAckChunk>(c, "HEARTBEAT ACK", hb_eq, kNotCanonical, 0);
  if (auto h = retyped_parse<HeartbeatChunk>(c)) {
    FUZZ_CHECK(inside(h->info, c.value) && h->size() <= c.whole.size(), "HEARTBEAT info bounds");
  }
  round_trip<AbortChunk>(
      c, "ABORT",
      [](const AbortChunk& a, const AbortChunk& b) {
        return a.t_bit == b.t_bit && same(trimmed(a.causes), trimmed(b.causes));
      },
      kUpToPadding, 0x01);
  round_trip<ShutdownChunk>(
      c, "SHUTDOWN",
      [](const ShutdownChunk& a, const ShutdownChunk& b) { return a.cum_tsn_ack == b.cum_tsn_ack; },
      kExact, 0);
  auto empty_eq = [](const auto&, const auto&) { return true; };
  round_trip<ShutdownAckChunk>(c, "SHUTDOWN ACK", empty_eq, kExact, 0);
  round_trip<ErrorChunk>(
      c, "ERROR",
      [](const ErrorChunk& a, const ErrorChunk& b) {
        return same(trimmed(a.causes), trimmed(b.causes));
      },
      kUpToPadding, 0);
  round_trip<CookieEchoChunk>(
      c, "COOKIE ECHO",
      [](const CookieEchoChunk& a, const CookieEchoChunk& b) { return same(a.cookie, b.cookie); },
      kExact, 0);
  round_trip<CookieAckChunk>(c, "COOKIE ACK", empty_eq, kExact, 0);
  round_trip<ShutdownCompleteChunk>(
      c, "SHUTDOWN COMPLETE",
      [](const ShutdownCompleteChunk& a, const ShutdownCompleteChunk& b) {
        return a.t_bit == b.t_bit;
      },
      kExact, 0x01);
  round_trip<PadChunk>(
      c, "PAD", [](const PadChunk& a, const PadChunk& b) { return a.padding == b.padding; },
      kNotCanonical, 0);

  // Fixed-length chunks accept exactly their length.
  FUZZ_CHECK(retyped_parse<ShutdownChunk>(c).has_value() == (c.value.size() == 4),
             "SHUTDOWN length");
  FUZZ_CHECK(retyped_parse<CookieAckChunk>(c).has_value() == c.value.empty(), "COOKIE ACK length");
  FUZZ_CHECK(retyped_parse<DataChunk>(c).has_value() == (c.value.size() >= 12), "DATA length");
  FUZZ_CHECK(retyped_parse<InitChunk>(c).has_value() == (c.value.size() >= 16), "INIT length");
  // A parser never accepts a chunk of another type.
  if (c.type != static_cast<uint8_t>(ChunkType::Data))
    FUZZ_CHECK(!DataChunk::parse(c), "DATA type");
  if (c.type != static_cast<uint8_t>(ChunkType::Sack))
    FUZZ_CHECK(!SackChunk::parse(c), "SACK type");

  // Variable parts, walked as their type says and also regardless of type (more
  // coverage of the TLV walk on real-looking bytes).
  switch (static_cast<ChunkType>(c.type)) {
    case ChunkType::Init:
      if (auto i = InitChunk::parse(c)) walk_params(i->params);
      break;
    case ChunkType::InitAck:
      if (auto i = InitAckChunk::parse(c)) walk_params(i->params);
      break;
    case ChunkType::Abort:
      if (auto a = AbortChunk::parse(c)) walk_causes(a->causes);
      break;
    case ChunkType::Error:
      if (auto e = ErrorChunk::parse(c)) walk_causes(e->causes);
      break;
    default:
      walk_params(c.value);
      walk_causes(c.value);
  }
}

void check_view(const PacketView& v, Bytes bytes) {
  FUZZ_CHECK(same(v.bytes(), bytes), "view bytes");
  const auto& h = v.header();
  FUZZ_CHECK(h.src_port == load16(bytes.data()) && h.dst_port == load16(bytes.data() + 2) &&
                 h.vtag.value() == load32(bytes.data() + 4),
             "common header fields");
  size_t n = 0;
  const uint8_t* expect = bytes.data() + kCommonHeaderSize;
  for (const ChunkView& c : v) {
    ++n;
    FUZZ_CHECK(n <= v.chunk_count(), "iterates more chunks than chunk_count()");
    FUZZ_CHECK(inside(c.whole, bytes) && c.whole.data() == expect, "chunk not where expected");
    FUZZ_CHECK(c.whole.size() >= 4 && c.whole[0] == c.type && c.whole[1] == c.flags,
               "chunk header");
    FUZZ_CHECK(load16(c.whole.data() + 2) == c.whole.size(), "chunk length");
    FUZZ_CHECK(same(c.value, c.whole.subspan(4)), "chunk value");
    expect += pad4(c.whole.size());
  }
  FUZZ_CHECK(n == v.chunk_count(), "iterates fewer chunks than chunk_count()");
}

}  // namespace

int fuzz_packet(const uint8_t* data, size_t size) {
  Bytes raw(data, size);

  // Verdicts on the raw bytes under each policy.
  ParseError e_verify{}, e_skip{};
  auto v_verify = PacketView::parse(raw, ChecksumPolicy::Verify, &e_verify);
  auto v_zero = PacketView::parse(raw, ChecksumPolicy::AllowZero);
  auto v_skip = PacketView::parse(raw, ChecksumPolicy::Skip, &e_skip);
  long ref = reference_chunk_count(raw);
  FUZZ_CHECK(v_skip.has_value() == (ref >= 0),
             "PacketView::parse disagrees with the reference walk");
  if (v_skip) {
    FUZZ_CHECK(static_cast<long>(v_skip->chunk_count()) == ref, "chunk count");
    check_view(*v_skip, raw);
  } else {
    FUZZ_CHECK(
        e_skip == (size < kCommonHeaderSize ? ParseError::TooShort : ParseError::BadChunkLength),
        "parse error kind");
  }
  if (v_verify) FUZZ_CHECK(v_skip && v_zero, "Verify accepted what a laxer policy refused");
  if (v_zero) FUZZ_CHECK(v_skip.has_value(), "AllowZero accepted what Skip refused");
  if (size >= kCommonHeaderSize) {
    uint32_t wire_crc = uint32_t{data[8]} | uint32_t{data[9]} << 8 | uint32_t{data[10]} << 16 |
                        uint32_t{data[11]} << 24;
    bool crc_ok = wire_crc == packet_checksum(raw);
    FUZZ_CHECK(v_verify.has_value() == (crc_ok && v_skip.has_value()), "Verify verdict");
    FUZZ_CHECK(v_zero.has_value() == ((crc_ok || wire_crc == 0) && v_skip.has_value()),
               "AllowZero verdict");
    if (!crc_ok) FUZZ_CHECK(e_verify == ParseError::BadChecksum, "bad checksum error kind");
  }
  // CRC32c: the hardware and portable implementations agree on every input.
  if (crc32c_hw_available())
    FUZZ_CHECK(crc32c_hw(raw) == crc32c_portable(raw), "CRC32c hw != portable");

  if (size < kCommonHeaderSize) return 0;

  // A copy with a correct checksum reaches every later stage.
  std::vector<uint8_t> fixed(raw.begin(), raw.end());
  uint32_t crc = packet_checksum(fixed);
  fixed[8] = static_cast<uint8_t>(crc);
  fixed[9] = static_cast<uint8_t>(crc >> 8);
  fixed[10] = static_cast<uint8_t>(crc >> 16);
  fixed[11] = static_cast<uint8_t>(crc >> 24);
  auto v = PacketView::parse(fixed, ChecksumPolicy::Verify);
  FUZZ_CHECK(v.has_value() == v_skip.has_value(), "fixed-checksum verdict");
  if (!v) return 0;
  check_view(*v, fixed);

  for (const ChunkView& c : *v) check_chunk(c);

  // Rebuild: header + every chunk, padded. Same chunks, valid checksum.
  std::vector<uint8_t> out;
  PacketWriter w(out);
  const auto& h = v->header();
  w.begin(h.src_port, h.dst_port, h.vtag);
  for (const ChunkView& c : *v) w.add_raw(c.whole);
  w.finish();
  auto r = PacketView::parse(out, ChecksumPolicy::Verify);
  FUZZ_CHECK(r.has_value(), "rebuilt packet does not parse");
  FUZZ_CHECK(r->chunk_count() == v->chunk_count(), "rebuilt chunk count");
  auto a = v->begin();
  for (const ChunkView& c : *r) {
    FUZZ_CHECK(same(c.whole, a->whole), "rebuilt chunk differs");
    ++a;
  }
  // Zero checksum (RFC 9653) is accepted only when allowed.
  w.finish(true);
  FUZZ_CHECK(PacketView::parse(out, ChecksumPolicy::AllowZero).has_value(),
             "zero checksum refused");

  // §8.4 answer to the packet as out of the blue.
  if (auto reply = Endpoint::out_of_the_blue_reply(fixed)) {
    auto rv = PacketView::parse(*reply, ChecksumPolicy::Verify);
    FUZZ_CHECK(rv && rv->chunk_count() == 1, "OOTB reply is not one valid chunk");
    FUZZ_CHECK(rv->header().src_port == h.dst_port && rv->header().dst_port == h.src_port,
               "OOTB reply ports");
    const ChunkView rc = *rv->begin();
    bool is_abort = rc.type == static_cast<uint8_t>(ChunkType::Abort);
    bool is_sc = rc.type == static_cast<uint8_t>(ChunkType::ShutdownComplete);
    FUZZ_CHECK(is_abort || is_sc, "OOTB reply is neither ABORT nor SHUTDOWN COMPLETE");
    // T bit set: the tag is reflected; clear: it is an INIT's Initiate Tag (§8.4 (3)).
    if (rc.flags & 1) {
      FUZZ_CHECK(rv->header().vtag == h.vtag, "OOTB reply with T bit must reflect the tag");
    } else {
      bool init_tag = false;
      for (const ChunkView& c : *v)
        if (auto init = InitChunk::parse(c)) init_tag |= rv->header().vtag == init->initiate_tag;
      FUZZ_CHECK(is_abort && init_tag,
                 "OOTB ABORT without T bit must answer an INIT with its Initiate Tag");
    }
  }
  return 0;
}

}  // namespace sctpp::fuzz
