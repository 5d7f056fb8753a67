// Writes the seed corpora of the fuzz targets (scripts/fuzz-corpus.sh runs it):
//
//   make_fuzz_corpus OUTDIR
//       OUTDIR/fuzz_packet/   real packets of simulated associations (handshake, data,
//                             fragments, SACKs with gaps, heartbeats, shutdown, abort)
//                             and hand-built packets for every chunk, parameter and
//                             error cause, plus malformed framings;
//       OUTDIR/fuzz_endpoint/ scenarios in fuzz_endpoint's input language;
//       OUTDIR/fuzz_receive/  DATA sequences in fuzz_receive's input language.
//   make_fuzz_corpus --wrap-packets INDIR OUTDIR
//       for each raw SCTP packet in INDIR (e.g. extracted from a usrsctp capture),
//       writes OUTDIR/fuzz_endpoint/wrapped-<name>: an established association into
//       which that packet's chunks are injected from A to B and from B to A, with
//       the tags and checksum fixed up.
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <map>
#include <set>
#include <string>
#include <vector>

#include "fuzz_input.h"
#include "sim_network.h"
#include "wire/byte_io.h"
#include "wire/chunk_bytes.h"
#include "wire/chunks.h"
#include "wire/error_causes.h"
#include "wire/packet.h"
#include "wire/parameters.h"

namespace fs = std::filesystem;
using namespace sctpp;
using namespace sctpp::fuzz;
using Bytes = std::vector<uint8_t>;

namespace {

void write_file(const fs::path& p, const Bytes& b) {
  fs::create_directories(p.parent_path());
  std::ofstream out(p, std::ios::binary);
  out.write(reinterpret_cast<const char*>(b.data()), static_cast<std::streamsize>(b.size()));
}

// ------------------------------------------------------------------ fuzz_packet

std::string signature(const Bytes& packet) {
  auto pv = wire::PacketView::parse(packet, wire::ChecksumPolicy::Skip);
  if (!pv) return "bad";
  std::string s;
  for (const auto& c : *pv) s += std::to_string(c.type) + ".";
  return s + (packet.size() > 600 ? "L" : "S");
}

// Packets of simulated associations, one or two per distinct chunk-type signature.
std::vector<Bytes> simulated_packets() {
  std::vector<Bytes> out;
  std::map<std::string, int> seen;
  auto keep = [&](std::span<const uint8_t> b) {
    Bytes v(b.begin(), b.end());
    if (seen[signature(v)]++ < 1) out.push_back(std::move(v));
    return true;
  };
  const IpAddress a = *IpAddress::parse("10.0.0.1"), b = *IpAddress::parse("10.0.0.2");
  for (int scenario = 0; scenario < 5; ++scenario) {
    sim::SimNetwork net(100 + scenario);
    EndpointConfig sc;
    sc.port = 5000;
    sc.accept_incoming = true;
    sc.assoc.path_mtu = scenario == 1 ? 600 : 1500;
    EndpointConfig cc = sc;
    cc.port = 40000;
    cc.accept_incoming = false;
    Endpoint& client = net.add_host(a, cc);
    Endpoint& server = net.add_host(b, sc);
    if (scenario == 3) net.set_all_links(sim::LinkConditions{.loss = 0.2, .duplicate = 0.1});
    net.set_filter([&](const IpAddress&, std::span<const uint8_t> bytes) { return keep(bytes); });
    SocketAddress remote = net.address_of(b);
    InitOptions init;
    auto id = client.connect(net.now(), std::span(&remote, 1), 5000, init);
    std::optional<AssocId> sid;
    auto on_event = [&](Endpoint& ep, const Event& e) {
      if (&ep == &server && e.kind == EventKind::Accepted) sid = e.assoc;
      if (e.kind == EventKind::Readable)
        while (ep.receive(net.now(), e.assoc)) {
        }
    };
    net.run_until(
        [&] { return sid.has_value() && client.info(*id)->state == AssocState::Established; },
        seconds(10), on_event);
    std::vector<uint8_t> msg(scenario == 1 ? 5000 : 200, 0x5a);
    for (int i = 0; i < (scenario == 3 ? 30 : 3); ++i) {
      SendInfo si;
      si.stream = static_cast<uint16_t>(i % 3);
      si.ppid = 51;
      si.unordered = i % 2;
      client.send(net.now(), *id, si, msg);
      if (sid) server.send(net.now(), *sid, si, std::span(msg).first(100));
    }
    net.run_until([] { return false; }, seconds(scenario == 2 ? 70 : 5), on_event);
    if (scenario == 4) {
      client.abort(net.now(), *id, "seed abort");
    } else {
      client.shutdown(net.now(), *id);
    }
    net.run_until([] { return false; }, seconds(10), on_event);
  }
  return out;
}

template <class... C>
Bytes packet(uint32_t vtag, const C&... chunks) {
  Bytes buf;
  wire::PacketWriter w(buf);
  w.begin(6000, 5000, VerificationTag(vtag));
  (w.add(chunks), ...);
  w.finish();
  return buf;
}

struct RawChunk {
  uint8_t type, flags;
  Bytes value;
  size_t size() const { return 4 + value.size(); }
  void write(uint8_t* out) const {
    out[0] = type;
    out[1] = flags;
    wire::store16(out + 2, static_cast<uint16_t>(size()));
    std::copy(value.begin(), value.end(), out + 4);
  }
};

std::vector<Bytes> hand_built_packets() {
  std::vector<Bytes> out;
  const uint8_t payload[] = {'h', 'e', 'l', 'l', 'o'};
  // INIT with every parameter kind, INIT ACK with a cookie and an unknown parameter.
  Bytes params;
  wire::ParamWriter pw(params);
  pw.add_address(*IpAddress::parse("192.0.2.7"));
  pw.add_address(*IpAddress::parse("2001:db8::7"));
  pw.add_cookie_preservative(5000);
  const uint16_t types[] = {5, 6};
  pw.add_supported_address_types(types);
  const uint8_t ext[] = {0x82, 0xc0, 0x0f};
  pw.add_supported_extensions(ext);
  pw.add_forward_tsn_supported();
  pw.add_ecn_capable();
  pw.add_zero_checksum_acceptable(1);
  pw.add(uint16_t{11},
         std::span<const uint8_t>(reinterpret_cast<const uint8_t*>("host.example"), 12));
  const uint8_t junk[] = {1, 2, 3};
  for (uint16_t t : {uint16_t{0x4001}, uint16_t{0x8123}, uint16_t{0xC0FE}, uint16_t{0x0123}})
    pw.add(t, junk);
  wire::InitChunk init;
  init.initiate_tag = VerificationTag(0x01020304);
  init.a_rwnd = 65536;
  init.outbound_streams = 10;
  init.inbound_streams = 65535;
  init.initial_tsn = Tsn(0xfffffff0);
  init.params = params;
  out.push_back(packet(0, init));
  init.params = {};
  out.push_back(packet(0, init));
  Bytes ack_params;
  wire::ParamWriter apw(ack_params);
  Bytes cookie(96, 0xc0);
  apw.add(wire::ParamType::StateCookie, cookie);
  apw.add(wire::ParamType::UnrecognizedParameter, params);
  wire::InitAckChunk ack;
  static_cast<wire::InitFields&>(ack) = init;
  ack.params = ack_params;
  out.push_back(packet(0x01020304, ack));
  // ABORT / ERROR with each cause.
  Bytes causes;
  wire::CauseWriter cw(causes);
  cw.invalid_stream(StreamId(7));
  const uint16_t missing[] = {7, 9};
  cw.missing_mandatory_params(missing);
  cw.stale_cookie(123456);
  cw.out_of_resource();
  cw.unresolvable_address(junk);
  cw.unrecognized_chunk(junk);
  cw.invalid_mandatory_param();
  cw.unrecognized_params(junk);
  cw.no_user_data(Tsn(42));
  cw.cookie_while_shutting_down();
  cw.restart_with_new_addresses(junk);
  cw.user_initiated_abort(payload);
  cw.protocol_violation("seed");
  cw.add(0x1234, junk);
  wire::AbortChunk abort;
  abort.causes = causes;
  out.push_back(packet(0x11, abort));
  abort.t_bit = true;
  abort.causes = {};
  out.push_back(packet(0x11, abort));
  wire::ErrorChunk err;
  err.causes = causes;
  out.push_back(packet(0x11, err));
  // SACK with gaps and duplicates, heartbeats, shutdown family, cookie chunks, PAD.
  wire::SackChunk sack;
  sack.cum_tsn_ack = Tsn(1000);
  sack.a_rwnd = 4000;
  sack.gap_blocks = {{2, 3}, {5, 9}, {12, 12}};
  sack.dup_tsns = {Tsn(999), Tsn(998)};
  wire::DataChunk data;
  data.tsn = Tsn(77);
  data.stream = StreamId(3);
  data.ssn = Ssn(2);
  data.ppid = Ppid(51);
  data.beginning = data.ending = true;
  data.payload = payload;
  out.push_back(packet(0x11, sack, data));
  wire::HeartbeatChunk hb;
  const uint8_t info[20] = {0, 0, 0, 0, 1, 2, 3, 4, 5, 6, 7, 8};
  hb.info = info;
  out.push_back(packet(0x11, hb));
  wire::HeartbeatAckChunk hba;
  hba.info = info;
  out.push_back(packet(0x11, hba));
  wire::ShutdownChunk sd;
  sd.cum_tsn_ack = Tsn(55);
  out.push_back(packet(0x11, sd));
  out.push_back(packet(0x11, wire::ShutdownAckChunk{}));
  wire::ShutdownCompleteChunk sc;
  sc.t_bit = true;
  out.push_back(packet(0x11, sc));
  wire::CookieEchoChunk echo;
  echo.cookie = cookie;
  out.push_back(packet(0x11, echo, data));
  out.push_back(packet(0x11, wire::CookieAckChunk{}, data));
  wire::PadChunk pad;
  pad.padding = 64;
  out.push_back(packet(0x11, pad, data));
  // Unknown chunk types with each upper-two-bit action, and I-DATA/FORWARD-TSN/ASCONF
  // types we do not implement.
  for (uint8_t t : {0x3f, 0x7f, 0xbf, 0xff, 0x40, 0xc0, 0xc1, 0x80, 0x82, 0x0f})
    out.push_back(packet(0x11, RawChunk{t, 0xff, {1, 2, 3, 4, 5}}, data));
  // Malformed framings (checksums are fixed up by the harness anyway).
  Bytes p = packet(0x11, data);
  Bytes zero_len = p;
  wire::store16(zero_len.data() + 14, 0);
  out.push_back(zero_len);
  Bytes past_end = p;
  wire::store16(past_end.data() + 14, 400);
  out.push_back(past_end);
  Bytes unpadded = packet(0x11, data);
  unpadded.resize(unpadded.size() - 3);  // 5-byte payload, last chunk without padding
  out.push_back(unpadded);
  Bytes trailing = p;
  trailing.insert(trailing.end(), {1, 2, 3});
  out.push_back(trailing);
  out.push_back(Bytes(p.begin(), p.begin() + 12));  // header only
  return out;
}

// ------------------------------------------------------------------ fuzz_endpoint

// Header bytes of fuzz_endpoint (see EndpointHarness): mode, buffers, limits, seed.
Encoder ep_header(uint8_t mode, uint8_t rbuf = 3, uint8_t sbuf = 3, uint8_t msg = 3,
                  uint8_t mtu = 0, uint8_t extra = 0, uint8_t seed = 1) {
  Encoder e;
  e.u8(static_cast<uint8_t>(mode | rbuf << 2 | sbuf << 5));
  e.u8(static_cast<uint8_t>(msg | extra | mtu << 4));
  e.u8(seed);
  return e;
}
Encoder& send(Encoder& e, uint8_t host, uint8_t stream, uint16_t size, bool unordered = false) {
  return e.u8(kEpSend).u8(host).u8(0).u8(stream).u8(stream + 1).u8(unordered).u16(size);
}

std::map<std::string, Bytes> endpoint_seeds() {
  std::map<std::string, Bytes> s;
  {
    Encoder e = ep_header(2);
    for (uint16_t n : {1, 100, 1400, 5000}) send(e, kHostA, static_cast<uint8_t>(n % 5), n);
    send(e, kHostB, 1, 300, true);
    e.u8(kEpDeliverAll).u8(kEpReceive).u8(kHostB).u8(kEpReceive).u8(kHostA);
    e.u8(kEpShutdown).u8(kHostA).u8(0).u8(kEpRun).u8(10);
    s["established-send-shutdown"] = e.data();
  }
  {
    Encoder e = ep_header(0);
    e.u8(kEpConnect).u8(kHostA).u8(kEpRun).u8(5);
    send(e, kHostA, 0, 50);
    send(e, kHostB, 2, 70);
    e.u8(kEpRun).u8(5).u8(kEpReceive).u8(kHostA).u8(kEpReceive).u8(kHostB);
    e.u8(kEpAbort)
        .u8(kHostB)
        .u8(0)
        .u8(kEpRun)
        .u8(5)
        .u8(kEpRelease)
        .u8(kHostA)
        .u8(kEpRelease)
        .u8(kHostB);
    s["connect-exchange-abort"] = e.data();
  }
  {
    Encoder e = ep_header(1);
    e.u8(kEpDrop).u8(0).u8(kEpTime).u8(4).u8(kEpDeliver).u8(0).u8(kEpDuplicate).u8(0);
    e.u8(kEpDeliverAll).u8(kEpRun).u8(30);
    s["lost-init"] = e.data();
  }
  {
    Encoder e = ep_header(2, 2, 2, 3, 2);  // MTU 600: fragments
    send(e, kHostA, 0, 9000);
    send(e, kHostA, 1, 3000, true);
    e.u8(kEpDrop).u8(1).u8(kEpDeliver).u8(2).u8(kEpDuplicate).u8(0).u8(kEpDeliver).u8(0);
    e.u8(kEpTime).u8(3).u8(kEpRun).u8(30).u8(kEpReceive).u8(kHostB);
    s["fragments-loss-reorder"] = e.data();
  }
  {
    Encoder e = ep_header(3);
    for (uint8_t flags : {3, 2, 0, 1, 7}) {
      e.u8(kEpInjectTemplate).route(kHostA, kHostB, kTagExpected);
      e.u8(kTData).u8(0).u8(flags).u8(0).u16(0).u8(9).u16(40);
    }
    e.u8(kEpReceive).u8(kHostB).u8(kEpRun).u8(2);
    s["inject-data"] = e.data();
  }
  {
    Encoder e = ep_header(2);
    e.u8(kEpInjectTemplate).route(kHostC, kHostB, kTagZero);
    e.u8(kTInit).u32(0xc0ffee01).u32(100000).u16(5).u16(5).u32(7777).blob(std::string_view{});
    e.u8(kEpInjectTemplate).route(kHostC, kHostB, kTagExpected);
    e.u8(kTCookieEcho).u16(0).u8(0).u8(1);
    e.u8(kEpInjectTemplate).route(kHostC, kHostB, kTagExpected);
    e.u8(kTData).u8(1).u8(3).u8(1).u16(0).u8(0).u16(10);
    e.u8(kEpRun).u8(5).u8(kEpReceive).u8(kHostB);
    s["third-host-handshake"] = e.data();
  }
  {
    Encoder e = ep_header(2);
    for (int i = 0; i < 6; ++i) send(e, kHostA, 0, 1000);
    e.u8(kEpDrop).u8(0);
    e.u8(kEpInjectTemplate).route(kHostB, kHostA, kTagExpected);
    e.u8(kTSack).u8(0xfe).u8(2).u8(2).u16(2).u16(3).u16(5).u16(6).u8(2);
    e.u8(kEpRun).u8(10);
    s["inject-sack-gaps"] = e.data();
  }
  {
    Encoder e = ep_header(2);
    e.u8(kEpInjectTemplate).route(kHostA, kHostB, kTagOwn);
    e.u8(kTAbort).u8(1).blob(std::string_view{});
    e.u8(kEpInjectTemplate).route(kHostA, kHostB, kTagExpected);
    e.u8(kTAbort).u8(0).blob(
        std::string_view("\x00\x0c\x00\x08"
                         "bye!",
                         8));
    e.u8(kEpRun).u8(5);
    s["inject-abort"] = e.data();
  }
  {
    Encoder e = ep_header(2);
    send(e, kHostA, 0, 2000);
    e.u8(kEpShutdown).u8(kHostA).u8(0).u8(kEpShutdown).u8(kHostB).u8(0);
    e.u8(kEpDeliverAll).u8(kEpRun).u8(20);
    s["shutdown-both"] = e.data();
  }
  {
    Encoder e = ep_header(2, 0, 4, 1);  // receive buffer 1500: zero window
    for (int i = 0; i < 40; ++i) send(e, kHostA, static_cast<uint8_t>(i % 3), 1000);
    e.u8(kEpRun).u8(60).u8(kEpReceive).u8(kHostB).u8(kEpRun).u8(60).u8(kEpReceive).u8(kHostB);
    s["zero-window"] = e.data();
  }
  {
    Encoder e = ep_header(3);
    e.u8(kEpRestart).u8(kEpConnect).u8(kHostA).u8(kEpRun).u8(10);
    send(e, kHostA, 0, 80);
    e.u8(kEpRun).u8(3).u8(kEpReceive).u8(kHostB);
    s["peer-restart"] = e.data();
  }
  {
    Encoder e = ep_header(2);
    for (int i = 0; i < 3; ++i) e.u8(kEpTime).u8(7).u8(kEpDeliverAll);
    e.u8(kEpTime).u8(7);
    e.u8(kEpInjectTemplate).route(kHostB, kHostA, kTagExpected).u8(kTHeartbeatAck).u8(1).u8(0);
    e.u8(kEpInjectTemplate).route(kHostA, kHostB, kTagExpected).u8(kTHeartbeat).blob("ping");
    s["heartbeats"] = e.data();
  }
  {
    Encoder e = ep_header(2);
    send(e, kHostA, 0, 300);
    e.u8(kEpMutate).u8(0).u8(1).u16(20).u8(0x40).u8(0);  // corrupted: CRC must catch it
    send(e, kHostA, 0, 300);
    e.u8(kEpMutate).u8(0).u8(2).u16(30).u8(0x01).u16(5).u8(0xff).u8(1);
    e.u8(kEpRun).u8(10).u8(kEpReceive).u8(kHostB);
    s["mutate"] = e.data();
  }
  {
    Encoder e = ep_header(0);
    e.u8(kEpConnect).u8(kHostA).u8(kEpConnect).u8(kHostB).u8(kEpDeliverAll).u8(kEpRun).u8(10);
    send(e, kHostA, 0, 10);
    e.u8(kEpRun).u8(2).u8(kEpReceive).u8(kHostB);
    s["init-collision"] = e.data();
  }
  {
    Encoder e = ep_header(2);
    e.u8(kEpInjectTemplate).route(kHostA, kHostB, kTagZero);
    e.u8(kTInit).u32(0x12345678).u32(50000).u16(10).u16(10).u32(1).blob(std::string_view{});
    e.u8(kEpDeliverAll).u8(kEpRun).u8(5);
    s["init-on-established"] = e.data();
  }
  {
    Encoder e = ep_header(1);
    e.u8(kEpDeliver).u8(0);  // INIT reaches B; INIT ACK in flight
    e.u8(kEpDeliver).u8(0);  // INIT ACK reaches A; COOKIE ECHO in flight
    e.u8(kEpInjectTemplate).route(kHostB, kHostA, kTagExpected).u8(kTError).u8(1).u32(2000000);
    e.u8(kEpRun).u8(10);
    s["stale-cookie"] = e.data();
  }
  {
    Encoder e = ep_header(2);
    for (uint8_t t : {0x3f, 0x7f, 0xbf, 0xff, 0xc0, 0x40}) {
      e.u8(kEpInjectChunks).route(kHostA, kHostB, kTagExpected).u8(1).u8(t).u8(0).blob("abcd");
    }
    e.u8(kEpInjectRaw)
        .route(kHostA, kHostB, kTagExpected)
        .blob(std::string_view("\x00\x03\x00\x00", 4));
    e.u8(kEpRun).u8(2);
    s["unknown-chunks"] = e.data();
  }
  {
    Encoder e = ep_header(2);
    send(e, kHostA, 0, 500);
    for (int i = 0; i < 14; ++i) e.u8(kEpDrop).u8(0).u8(kEpDrop).u8(0).u8(kEpTime).u8(7);
    e.u8(kEpRelease).u8(kHostA).u8(kEpConnect).u8(kHostA).u8(kEpRun).u8(10);
    s["peer-lost-reconnect"] = e.data();
  }
  {
    Encoder e = ep_header(2);
    e.u8(kEpShutdown).u8(kHostA).u8(0);
    e.u8(kEpDeliver).u8(0);  // SHUTDOWN reaches B: SHUTDOWN ACK in flight
    e.u8(kEpDrop).u8(0);
    e.u8(kEpInjectTemplate).route(kHostA, kHostB, kTagExpected);
    e.u8(kTData).u8(0).u8(3).u8(0).u16(0).u8(0).u16(20);
    e.u8(kEpTime).u8(4).u8(kEpRun).u8(20);
    s["shutdown-ack-sent"] = e.data();
  }
  return s;
}

Bytes wrap_packet(const Bytes& pkt) {
  Encoder e = ep_header(3);
  Bytes chunks(pkt.size() > 12 ? pkt.begin() + 12 : pkt.end(), pkt.end());
  e.u8(kEpInjectRaw).route(kHostA, kHostB, kTagExpected).blob(chunks);
  e.u8(kEpInjectRaw).route(kHostB, kHostA, kTagExpected).blob(chunks);
  e.u8(kEpRun).u8(5).u8(kEpReceive).u8(kHostA).u8(kEpReceive).u8(kHostB);
  return e.data();
}

// ------------------------------------------------------------------ fuzz_receive

Encoder rx_header(uint8_t streams, uint8_t limit, uint8_t msg, uint32_t tsn) {
  Encoder e;
  e.u8(streams).u8(limit).u8(msg).u32(tsn);
  return e;
}
Encoder& rx_data(Encoder& e, int16_t delta, uint8_t flags, uint8_t stream, uint16_t ssn,
                 uint16_t len) {
  return e.u8(kRxData)
      .u16(static_cast<uint16_t>(delta))
      .u8(flags)
      .u8(stream)
      .u16(ssn)
      .u8(1)
      .u16(len);
}

std::map<std::string, Bytes> receive_seeds() {
  std::map<std::string, Bytes> s;
  {
    Encoder e = rx_header(3, 15, 63, 1000);
    for (uint16_t i = 0; i < 6; ++i) rx_data(e, 0, 3, i % 3, i / 3, 10 + i).u8(kRxPacketEnd).u8(0);
    e.u8(kRxReceiveAll).u8(kRxSack).u16(1200);
    s["in-order"] = e.data();
  }
  {
    Encoder e = rx_header(1, 31, 63, 5);
    e.u8(kRxMessage).u8(0).u8(0).u16(0).u8(0).u8(5).u8(100).u8(0);
    e.u8(kRxMessage).u8(0).u8(0).u16(1).u8(0).u8(5).u8(100).u8(1);
    e.u8(kRxReceiveAll).u8(kRxSack).u16(100);
    s["fragments"] = e.data();
  }
  {
    Encoder e = rx_header(2, 15, 63, 77);
    rx_data(e, 1, 3, 0, 1, 20);
    rx_data(e, 2, 3, 0, 2, 20);
    e.u8(kRxReceiveOne).u8(kRxSack).u16(200);
    rx_data(e, 0, 3, 0, 0, 20);
    e.u8(kRxReceiveAll);
    s["ssn-out-of-order"] = e.data();
  }
  {
    Encoder e = rx_header(4, 7, 31, 0xfffffff0);
    for (int i = 0; i < 40; ++i)
      rx_data(e, static_cast<int16_t>((i * 7) % 5), 4 | (i % 4 == 0 ? 2 : 0) | (i % 4 == 3 ? 1 : 0),
              1, 0, 64);
    e.u8(kRxReceiveAll).u8(kRxSack).u16(1400);
    s["unordered-wrap"] = e.data();
  }
  {
    Encoder e = rx_header(1, 0, 3, 10);
    for (int i = 0; i < 20; ++i)
      rx_data(e, static_cast<int16_t>(i), 2, 0, 0, 200).u8(kRxPacketEnd).u8(1);
    rx_data(e, 0, 0, 0, 0, 200);
    e.u8(kRxSack).u16(1200).u8(kRxReceiveAll);
    s["buffer-full"] = e.data();
  }
  {
    Encoder e = rx_header(1, 255, 0, 10);  // max message 64 bytes
    e.u8(kRxMessage).u8(0).u8(0).u16(0).u8(0).u8(3).u8(10).u8(0);
    s["too-large"] = e.data();
  }
  {
    Encoder e = rx_header(2, 63, 63, 3000);
    for (int i = 0; i < 30; i += 2)
      rx_data(e, static_cast<int16_t>(i), 3, 1, static_cast<uint16_t>(i / 2 + 1), 8);
    e.u8(kRxSack).u16(64).u8(kRxSack).u16(1400);
    for (int i = 0; i < 5; ++i) rx_data(e, 0, 3, 1, 0, 8).u8(kRxPacketEnd).u8(0);
    e.u8(kRxReceiveAll).u8(kRxTime).u16(300).u8(kRxSack).u16(1000);
    s["gaps-and-dups"] = e.data();
  }
  {
    Encoder e = rx_header(1, 15, 15, 1);
    rx_data(e, 0, 3, 5, 0, 10);  // stream out of range
    rx_data(e, 0, 3, 0, 0, 10);
    rx_data(e, 0, 3, 0, 0, 10);   // SSN reused
    rx_data(e, -3, 3, 0, 1, 10);  // duplicate
    e.u8(kRxDataAbsolute).u32(0x80000000).u8(3).u8(0).u16(1).u8(10);
    e.u8(kRxReceiveAll).u8(kRxSack).u16(1200);
    s["bad-stream-ssn-reuse"] = e.data();
  }
  {
    Encoder e = rx_header(2, 3, 63, 500);
    // Fragments of two messages interleaved on two streams, with a broken run.
    rx_data(e, 0, 2, 0, 0, 100);
    rx_data(e, 2, 0, 0, 0, 100);
    rx_data(e, 1, 2, 1, 0, 100);
    rx_data(e, 3, 1, 0, 0, 100);
    rx_data(e, 0, 0, 0, 0, 100);
    e.u8(kRxReceiveAll);
    s["broken-run"] = e.data();
  }
  return s;
}

}  // namespace

int main(int argc, char** argv) {
  if (argc == 4 && std::string(argv[1]) == "--wrap-packets") {
    fs::path out = fs::path(argv[3]) / "fuzz_endpoint";
    int n = 0;
    for (const auto& f : fs::directory_iterator(argv[2])) {
      std::ifstream in(f.path(), std::ios::binary);
      Bytes b((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
      write_file(out / ("wrapped-" + f.path().filename().string()), wrap_packet(b));
      ++n;
    }
    std::printf("wrapped %d packets into %s\n", n, out.c_str());
    return 0;
  }
  if (argc != 2) {
    std::fprintf(stderr, "usage: make_fuzz_corpus OUTDIR | --wrap-packets INDIR OUTDIR\n");
    return 2;
  }
  fs::path out = argv[1];
  int n = 0;
  for (const auto& p : simulated_packets()) {
    char name[64];
    std::snprintf(name, sizeof name, "sim-%03d", n++);
    write_file(out / "fuzz_packet" / name, p);
  }
  n = 0;
  for (const auto& p : hand_built_packets()) {
    char name[64];
    std::snprintf(name, sizeof name, "built-%03d", n++);
    write_file(out / "fuzz_packet" / name, p);
  }
  for (const auto& [name, b] : endpoint_seeds()) write_file(out / "fuzz_endpoint" / name, b);
  for (const auto& [name, b] : receive_seeds()) write_file(out / "fuzz_receive" / name, b);
  std::printf("seed corpora written to %s\n", out.c_str());
  return 0;
}
