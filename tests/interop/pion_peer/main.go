// pion_peer: an SCTP peer on pion/sctp (the Go SCTP of the Pion WebRTC stack), the second
// independent stack sctpp's interop tests run against (run_interop.py --pion). Its one job:
// speak SCTP over UDP encapsulation (RFC 6951) on loopback as an echo server or as a
// checking client, and exit 0 only if every check passed.
//
// pion/sctp runs over any net.Conn; a UDP socket carries exactly what RFC 6951 puts in a
// datagram (SCTP common header plus chunks), so no encapsulation code is needed here. The
// net.Conn below also reads the packets going by, because pion's API hides things the tests
// must check: whether a message arrived unordered, and how the association ended (SHUTDOWN
// sequence or ABORT, and the ABORT's causes).
//
//	pion_peer server --listen IP:UDPPORT [--then none|shutdown|abort --after N]
//	                 [--expect-end any|shutdown|abort] [--reason TEXT] [--timeout S]
//	                 [--rwnd BYTES] [--read-delay S] [--loss F --seed N]
//	pion_peer client --connect IP:UDPPORT [--udp-port U] --builtin NAME
//	                 [--then shutdown|shutdown-now|abort|hold] [--abort-after N]
//	                 [--expect-peer shutdown|abort] [--expect-abort-reason TEXT]
//	                 [--reason TEXT] [--close-streams] [--loss F --seed N] [--timeout S]
//
// pion's own SCTP ports are fixed at 5000 on the client side (it answers on whatever port an
// INIT came to when it is the server), so sctpp must serve SCTP port 5000 for the client.
//
// Built offline from Debian's Go sources (golang-github-pion-sctp-dev, GO111MODULE=off).
package main

import (
	"context"
	"encoding/binary"
	"errors"
	"flag"
	"fmt"
	"hash/crc32"
	"io"
	"math/rand"
	"net"
	"os"
	"strings"
	"sync"
	"time"

	"github.com/pion/logging"
	"github.com/pion/sctp"
)

func logf(format string, a ...interface{}) {
	fmt.Fprintf(os.Stderr, "pion_peer: "+format+"\n", a...)
}

func fail(format string, a ...interface{}) {
	logf("error: "+format, a...)
	os.Exit(1)
}

// ---------------------------------------------------------------- packet observer

// observer decodes the chunks of every packet in and out (never changes them).
type observer struct {
	mu sync.Mutex
	// (stream, first bytes of the message) -> U flags, in arrival order, of DATA chunks
	// with the B bit: how a received message learns whether it was sent unordered.
	flags       map[string][]bool
	streamFlag  map[uint16]bool // last U flag per stream: fallback when a key is missing
	inAbort     []string        // causes of each ABORT received
	outAbort    bool
	inShutdown  bool // SHUTDOWN, SHUTDOWN ACK or SHUTDOWN COMPLETE received
	outShutdown bool
	completes   int // SHUTDOWN COMPLETE seen, either direction
	unknownIn   map[byte]int
	errorCauses []string // causes of ERROR chunks received
	initParams  []string // parameter types of the peer's INIT / INIT ACK
}

const flagKeyLen = 24

func flagKey(stream uint16, payload []byte) string {
	if len(payload) > flagKeyLen {
		payload = payload[:flagKeyLen]
	}
	return fmt.Sprintf("%d/%x", stream, payload)
}

func newObserver() *observer {
	return &observer{flags: map[string][]bool{}, streamFlag: map[uint16]bool{},
		unknownIn: map[byte]int{}}
}

func causesText(body []byte) string {
	var out []string
	for len(body) >= 4 {
		code := binary.BigEndian.Uint16(body)
		l := int(binary.BigEndian.Uint16(body[2:]))
		if l < 4 || l > len(body) {
			out = append(out, "malformed")
			break
		}
		info := body[4:l]
		if code == 12 { // User-Initiated Abort: the reason is text
			out = append(out, fmt.Sprintf("cause=%d info='%s'", code, string(info)))
		} else {
			out = append(out, fmt.Sprintf("cause=%d len=%d", code, l))
		}
		pad := (l + 3) &^ 3
		if pad > len(body) {
			break
		}
		body = body[pad:]
	}
	return strings.Join(out, " ")
}

func (o *observer) packet(raw []byte, inbound bool) {
	if len(raw) < 12 {
		return
	}
	o.mu.Lock()
	defer o.mu.Unlock()
	for off := 12; off+4 <= len(raw); {
		typ, flags := raw[off], raw[off+1]
		l := int(binary.BigEndian.Uint16(raw[off+2:]))
		if l < 4 || off+l > len(raw) {
			return
		}
		body := raw[off+4 : off+l]
		switch typ {
		case 0: // DATA
			if inbound && len(body) >= 12 && flags&0x02 != 0 {
				stream := binary.BigEndian.Uint16(body[4:])
				u := flags&0x04 != 0
				k := flagKey(stream, body[12:])
				o.flags[k] = append(o.flags[k], u)
				o.streamFlag[stream] = u
			}
		case 1, 2: // INIT, INIT ACK: note the peer's parameters
			if inbound && len(body) >= 16 {
				for p := body[16:]; len(p) >= 4; {
					pt := binary.BigEndian.Uint16(p)
					pl := int(binary.BigEndian.Uint16(p[2:]))
					o.initParams = append(o.initParams, fmt.Sprintf("0x%04x", pt))
					if pl < 4 || (pl+3)&^3 > len(p) {
						break
					}
					p = p[(pl+3)&^3:]
				}
			}
		case 6: // ABORT
			if inbound {
				o.inAbort = append(o.inAbort, causesText(body))
			} else {
				o.outAbort = true
			}
		case 7, 8: // SHUTDOWN, SHUTDOWN ACK
			if inbound {
				o.inShutdown = true
			} else {
				o.outShutdown = true
			}
		case 14: // SHUTDOWN COMPLETE
			o.completes++
			if inbound {
				o.inShutdown = true
			} else {
				o.outShutdown = true
			}
		case 9: // ERROR
			if inbound {
				o.errorCauses = append(o.errorCauses, causesText(body))
			}
		case 3, 4, 5, 10, 11, 130, 192:
		default:
			if inbound {
				o.unknownIn[typ]++
			}
		}
		off += (l + 3) &^ 3
	}
}

// unordered says whether the message just read on stream arrived with the U flag.
func (o *observer) unordered(stream uint16, msg []byte) bool {
	o.mu.Lock()
	defer o.mu.Unlock()
	k := flagKey(stream, msg)
	if q := o.flags[k]; len(q) > 0 {
		// Retransmissions put the same key in twice; every copy carries the same flag.
		u := q[0]
		if len(q) == 1 {
			delete(o.flags, k)
		} else {
			o.flags[k] = q[1:]
		}
		return u
	}
	return o.streamFlag[stream]
}

// ending describes how the association ended, as seen on the wire.
func (o *observer) ending() string {
	o.mu.Lock()
	defer o.mu.Unlock()
	switch {
	case len(o.inAbort) > 0:
		return "abort-received"
	case o.outAbort:
		return "abort-sent"
	case o.completes > 0:
		return "shutdown"
	}
	return "none"
}

// pionParams are the INIT / INIT ACK parameter types pion/sctp 1.8.6 can parse (its
// buildParam); any other one makes it drop the whole packet ("failed unmarshalling param in
// Init Chunk"), although RFC 9260 §3.2.1 says how to treat parameters a receiver does not
// know, and Supported Address Types (12), IPv4/IPv6 Address (5, 6) and Cookie Preservative
// (9) are RFC 9260's own. sctpp's INIT carries Supported Address Types, so without this
// pion never answers it.
var pionParams = map[uint16]bool{1: true, 7: true, 13: true, 16: true, 0x8000: true,
	0x8002: true, 0x8003: true, 0x8004: true, 0x8008: true, 0xC000: true}

var castagnoli = crc32.MakeTable(crc32.Castagnoli)

// inbound observes a received packet and returns it as pion gets it: an INIT or INIT ACK
// first chunk loses the parameters pion cannot parse (pion's bug, worked around here; each
// one is logged), with the chunk length and CRC32c fixed up. Nothing else is changed.
func (o *observer) inbound(raw []byte) []byte {
	o.packet(raw, true)
	if len(raw) < 16+20 || (raw[12] != 1 && raw[12] != 2) {
		return raw
	}
	l := int(binary.BigEndian.Uint16(raw[14:]))
	if l < 20 || 12+l > len(raw) {
		return raw
	}
	chunkEnd := 12 + l
	out := append([]byte(nil), raw[:12+20]...)
	stripped := false
	for p := raw[12+20 : chunkEnd]; len(p) >= 4; {
		pt := binary.BigEndian.Uint16(p)
		pl := int(binary.BigEndian.Uint16(p[2:]))
		if pl < 4 || pl > len(p) {
			return raw
		}
		next := (pl + 3) &^ 3
		if next > len(p) {
			next = len(p)
		}
		if pionParams[pt] {
			out = append(out, p[:next]...)
		} else {
			logf("workaround: hiding parameter 0x%04x of the peer's %s from pion (it cannot parse it)",
				pt, map[byte]string{1: "INIT", 2: "INIT ACK"}[raw[12]])
			stripped = true
		}
		p = p[next:]
	}
	if !stripped {
		return raw
	}
	binary.BigEndian.PutUint16(out[14:], uint16(len(out)-12))
	for len(out)%4 != 0 {
		out = append(out, 0)
	}
	if rest := (chunkEnd + 3) &^ 3; rest < len(raw) {
		out = append(out, raw[rest:]...)
	}
	binary.LittleEndian.PutUint32(out[8:], 0)
	binary.LittleEndian.PutUint32(out[8:], crc32.Checksum(out, castagnoli))
	return out
}

// ---------------------------------------------------------------- net.Conn over UDP

// udpConn is the net.Conn pion runs over: one UDP socket, one peer address. A server learns
// the peer from the first datagram (pion's Server needs a connected conn before any packet
// has arrived); datagrams from anyone else are dropped.
type udpConn struct {
	pc     *net.UDPConn
	peer   *net.UDPAddr
	first  []byte
	obs    *observer
	closed chan struct{}
	once   sync.Once
	// loss drops this fraction of the packets carrying DATA or SACK, each way (--loss), so
	// both stacks' retransmission and gap reporting run; handshake and shutdown packets are
	// spared, or pion's 3 s initial RTO would make the tests slow, and so are packets
	// with a retransmitted DATA chunk.
	loss    float64
	lossMu  sync.Mutex
	rng     *rand.Rand
	dropped [2]int
	sent    [2]map[uint32]bool // TSNs seen, per direction (in, out)
}

func (c *udpConn) drop(raw []byte, dir int) bool {
	if c.loss <= 0 || len(raw) < 16 {
		return false
	}
	if t := raw[12]; t != 0 && t != 3 {
		return false
	}
	c.lossMu.Lock()
	defer c.lossMu.Unlock()
	// Only first transmissions are dropped: a retransmission lost again doubles the RTO
	// each time (1, 2, 4 s...), which would make the run times too long to bound.
	var tsns []uint32
	for off := 12; off+4 <= len(raw); {
		l := int(binary.BigEndian.Uint16(raw[off+2:]))
		if l < 4 {
			break
		}
		if raw[off] == 0 && l >= 16 && off+8 <= len(raw) {
			tsn := binary.BigEndian.Uint32(raw[off+4:])
			if c.sent[dir][tsn] {
				return false
			}
			tsns = append(tsns, tsn)
		}
		off += (l + 3) &^ 3
	}
	for _, tsn := range tsns {
		c.sent[dir][tsn] = true
	}
	if c.rng.Float64() < c.loss {
		c.dropped[dir]++
		if os.Getenv("PION_PEER_LOG_DROPS") != "" {
			logf("drop %s type=%d word=%d", []string{"in", "out"}[dir], raw[12],
				binary.BigEndian.Uint32(raw[16:]))
		}
		return true
	}
	return false
}

func (c *udpConn) Read(b []byte) (int, error) {
	if c.first != nil {
		pkt := c.obs.inbound(c.first)
		c.first = nil
		return copy(b, pkt), nil
	}
	for {
		n, from, err := c.pc.ReadFromUDP(b)
		if err != nil {
			select {
			case <-c.closed:
				return 0, io.EOF
			default:
				return 0, err
			}
		}
		if !from.IP.Equal(c.peer.IP) || from.Port != c.peer.Port {
			logf("dropping a datagram from %v (peer is %v)", from, c.peer)
			continue
		}
		if c.drop(b[:n], 0) {
			continue
		}
		return copy(b, c.obs.inbound(b[:n])), nil
	}
}

func (c *udpConn) Write(b []byte) (int, error) {
	if c.drop(b, 1) {
		return len(b), nil
	}
	c.obs.packet(b, false)
	return c.pc.WriteToUDP(b, c.peer)
}

func (c *udpConn) Close() error {
	c.once.Do(func() { close(c.closed); c.pc.Close() })
	return nil
}

func (c *udpConn) LocalAddr() net.Addr                { return c.pc.LocalAddr() }
func (c *udpConn) RemoteAddr() net.Addr               { return c.peer }
func (c *udpConn) SetDeadline(t time.Time) error      { return nil }
func (c *udpConn) SetReadDeadline(t time.Time) error  { return nil }
func (c *udpConn) SetWriteDeadline(t time.Time) error { return nil }

// ---------------------------------------------------------------- messages

type message struct {
	stream    uint16
	ppid      uint32
	unordered bool
	payload   []byte
}

func payload(i, size int) []byte {
	const alphabet = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789"
	head := fmt.Sprintf("%c%d|", alphabet[i%62], i)
	b := make([]byte, size)
	for j := range b {
		if j < len(head) {
			b[j] = head[j]
		} else {
			b[j] = alphabet[(j*7+i+j/62)%62]
		}
	}
	return b
}

// builtin message sets. PPID 50 (WebRTC DCEP) is never sent unordered: pion forces DCEP
// messages to be ordered (draft-ietf-rtcweb-data-protocol §6), whatever the stream says.
func builtin(name string, mtuPayload int) ([]message, error) {
	var ms []message
	add := func(stream uint16, ppid uint32, u bool, size int) {
		ms = append(ms, message{stream, ppid, u, payload(len(ms), size)})
	}
	switch name {
	case "single":
		add(0, 51, false, 32)
	case "small":
		for i := 0; i < 6; i++ {
			add(uint16(i%3), uint32(i), i%2 == 1, 10+i)
		}
	case "mixed":
		// Streams 0-7, PPIDs 0-7 and 0xFFFFFFFF, every third unordered, 1 B to 100 kB,
		// then one 300 kB message (above pion's default 64 KiB message limit, raised here).
		sizes := []int{1, 2, 3, 100, 1000, 1200, 1201, 1452, 1453, 3000, 10000, 65535, 65536,
			100000}
		for i := 0; i < 34; i++ {
			ppid := uint32(i % 8)
			if i%5 == 4 {
				ppid = 0xFFFFFFFF
			}
			add(uint16(i%8), ppid, i%3 == 2, sizes[i%len(sizes)])
		}
		add(1, 53, false, 307200)
	case "frag":
		// Sizes around both stacks' fragmentation points: pion cuts DATA at 1200 bytes of
		// user data (1228-byte packets); sctpp at its path MTU minus the IP, UDP, SCTP and
		// DATA headers (mtuPayload). One of each on stream 0, ordered and unordered.
		pts := []int{1200, 2400, 3600, mtuPayload, 2 * mtuPayload, 3 * mtuPayload}
		for _, p := range pts {
			for d := -2; d <= 2; d++ {
				add(0, 51, false, p+d)
				add(1, 53, true, p+d)
			}
		}
	case "many":
		// Many messages at once, faster than they can be echoed: pion queues them all
		// (its WriteSCTP never blocks), so flow control is the receivers' windows.
		for i := 0; i < 3000; i++ {
			add(uint16(i%4), uint32(i%3), i%7 == 3, 1000+(i%5)*300)
		}
	case "unordered":
		for i := 0; i < 200; i++ {
			add(uint16(i%2), 51, true, 1+(i*97)%5000)
		}
	case "streams":
		// Many streams (pion accepts 65535 each way; sctpp grants what it was asked for
		// up to its limit), including high stream numbers.
		for i := 0; i < 64; i++ {
			add(uint16(i*3), uint32(i), i%4 == 1, 50+i*10)
		}
	default:
		return nil, fmt.Errorf("unknown builtin %q (single, small, mixed, frag, many, unordered, streams)", name)
	}
	seen := map[string]bool{}
	for _, m := range ms {
		if seen[string(m.payload)] {
			return nil, fmt.Errorf("builtin %s: two messages with the same payload", name)
		}
		seen[string(m.payload)] = true
	}
	return ms, nil
}

// ---------------------------------------------------------------- common

type options struct {
	listen, connect   string
	udpPort           int
	builtinName       string
	then, expectEnd   string
	expectPeer        string
	expectAbortReason string
	reason            string
	after             int
	timeout           time.Duration
	hold              time.Duration
	mtuPayload        int
	maxMessage        int
	verbose, quiet    bool
	loss              float64
	seed              int64
	rwnd              int
	readDelay         time.Duration
	closeStreams      bool
	abortAfter        int
	bindIP            string
	thenDelay         time.Duration
}

func newConn(pc *net.UDPConn, peer *net.UDPAddr, first []byte, o *options) *udpConn {
	return &udpConn{pc: pc, peer: peer, first: first, obs: newObserver(),
		closed: make(chan struct{}), loss: o.loss, rng: rand.New(rand.NewSource(o.seed)),
		sent: [2]map[uint32]bool{{}, {}}}
}

func loggerFactory(verbose bool) logging.LoggerFactory {
	f := logging.NewDefaultLoggerFactory()
	if verbose {
		f.DefaultLogLevel = logging.LogLevelDebug
	}
	return f
}

func config(conn net.Conn, o *options) sctp.Config {
	return sctp.Config{NetConn: conn, LoggerFactory: loggerFactory(o.verbose),
		MaxMessageSize: uint32(o.maxMessage), MaxReceiveBufferSize: uint32(o.rwnd)}
}

// withDeadline runs f and fails the process if it does not return in time.
func withDeadline(what string, d time.Duration, f func() error) {
	done := make(chan error, 1)
	go func() { done <- f() }()
	select {
	case err := <-done:
		if err != nil {
			fail("%s: %v", what, err)
		}
	case <-time.After(d):
		fail("%s: no result within %v", what, d)
	}
}

func reportEnd(obs *observer) {
	obs.mu.Lock()
	for _, a := range obs.inAbort {
		logf("event: ABORT received %s", a)
	}
	for _, e := range obs.errorCauses {
		logf("event: ERROR received %s", e)
	}
	for t, n := range obs.unknownIn {
		logf("event: %d chunks of type %d received", n, t)
	}
	obs.mu.Unlock()
	logf("association ended: %s", obs.ending())
}

func reportLoss(c *udpConn) {
	if c.loss > 0 {
		c.lossMu.Lock()
		logf("loss: dropped %d packets in, %d out", c.dropped[0], c.dropped[1])
		c.lossMu.Unlock()
	}
}

func checkEnd(obs *observer, want, reason string) {
	got := obs.ending()
	switch want {
	case "", "any":
	case "shutdown":
		if got != "shutdown" {
			fail("association ended by %s, expected a graceful shutdown", got)
		}
	case "abort":
		if got != "abort-received" && got != "abort-sent" {
			fail("association ended by %s, expected an ABORT", got)
		}
	default:
		fail("unknown end %q", want)
	}
	if reason != "" {
		obs.mu.Lock()
		found := false
		for _, a := range obs.inAbort {
			found = found || strings.Contains(a, "info='"+reason+"'")
		}
		obs.mu.Unlock()
		if !found {
			fail("no ABORT carried a User-Initiated Abort cause with %q", reason)
		}
	}
}

// ---------------------------------------------------------------- server

func server(o *options) {
	laddr, err := net.ResolveUDPAddr("udp", o.listen)
	if err != nil {
		fail("--listen: %v", err)
	}
	pc, err := net.ListenUDP("udp", laddr)
	if err != nil {
		fail("listen %v: %v", laddr, err)
	}
	fmt.Printf("listening %v\n", pc.LocalAddr())
	os.Stdout.Sync()
	deadline := time.Now().Add(o.timeout)
	go func() {
		time.Sleep(time.Until(deadline))
		fail("overall deadline of %v passed", o.timeout)
	}()

	buf := make([]byte, 65536)
	n, from, err := pc.ReadFromUDP(buf)
	if err != nil {
		fail("first datagram: %v", err)
	}
	conn := newConn(pc, from, append([]byte(nil), buf[:n]...), o)
	obs := conn.obs
	var assoc *sctp.Association
	withDeadline("handshake", time.Until(deadline), func() error {
		var err error
		assoc, err = sctp.Server(config(conn, o))
		return err
	})
	logf("established with %v", from)

	var mu sync.Mutex
	count := 0
	acted := false
	var accepted []*sctp.Stream
	buffered := func() uint64 {
		mu.Lock()
		defer mu.Unlock()
		var n uint64
		for _, s := range accepted {
			n += s.BufferedAmount()
		}
		return n
	}
	act := func() {
		// The action runs outside the stream goroutine: pion's Abort waits for its read
		// loop, and Shutdown for the SHUTDOWN sequence.
		switch o.then {
		case "shutdown":
			logf("shutting down after %d messages", o.after)
			// pion's Shutdown sends SHUTDOWN as soon as nothing is in flight, dropping
			// messages still queued but not yet sent (RFC 9260 §9.2 says to send them
			// first): wait until every echo has been acknowledged.
			for buffered() > 0 && time.Now().Before(deadline) {
				time.Sleep(5 * time.Millisecond)
			}
			ctx, cancel := context.WithDeadline(context.Background(), deadline)
			defer cancel()
			if err := assoc.Shutdown(ctx); err != nil {
				fail("Shutdown: %v", err)
			}
		case "abort":
			logf("aborting after %d messages", o.after)
			assoc.Abort(o.reason)
		}
	}
	var wg sync.WaitGroup
	for {
		s, err := assoc.AcceptStream()
		if err != nil {
			break
		}
		mu.Lock()
		accepted = append(accepted, s)
		mu.Unlock()
		wg.Add(1)
		go func(s *sctp.Stream) {
			defer wg.Done()
			rbuf := make([]byte, 1<<20)
			for {
				if o.readDelay > 0 {
					// A slow reader: pion's window shrinks as its reassembly queues fill.
					time.Sleep(o.readDelay)
				}
				n, ppi, err := s.ReadSCTP(rbuf)
				if err != nil {
					return
				}
				msg := rbuf[:n]
				u := obs.unordered(s.StreamIdentifier(), msg)
				s.SetReliabilityParams(u, sctp.ReliabilityTypeReliable, 0)
				if _, err := s.WriteSCTP(msg, ppi); err != nil {
					logf("echo on stream %d: %v", s.StreamIdentifier(), err)
					return
				}
				mode := "ordered"
				if u {
					mode = "unordered"
				}
				if !o.quiet {
					logf("echoed message stream=%d ppid=%d %s len=%d", s.StreamIdentifier(),
						uint32(ppi), mode, n)
				}
				mu.Lock()
				count++
				trigger := o.then != "none" && !acted && count >= o.after
				acted = acted || trigger
				mu.Unlock()
				if trigger {
					go act()
				}
			}
		}(s)
	}
	<-conn.closed
	wg.Wait()
	reportEnd(obs)
	reportLoss(conn)
	mu.Lock()
	logf("echoed %d messages", count)
	mu.Unlock()
	checkEnd(obs, o.expectEnd, o.expectAbortReason)
	obs.mu.Lock()
	logf("peer INIT parameters: %s", strings.Join(obs.initParams, " "))
	obs.mu.Unlock()
	fmt.Println("server done")
}

// ---------------------------------------------------------------- client

type echo struct {
	stream    uint16
	ppid      uint32
	unordered bool
	payload   []byte
}

func client(o *options) {
	msgs, err := builtin(o.builtinName, o.mtuPayload)
	if err != nil {
		fail("%v", err)
	}
	raddr, err := net.ResolveUDPAddr("udp", o.connect)
	if err != nil {
		fail("--connect: %v", err)
	}
	local := raddr.IP
	if o.bindIP != "" {
		// Another loopback address makes another SCTP endpoint: pion's client always
		// uses SCTP port 5000, so two pion clients on one IP are one endpoint to the peer.
		if local = net.ParseIP(o.bindIP); local == nil {
			fail("--bind-ip: %q is not an IP address", o.bindIP)
		}
	}
	pc, err := net.ListenUDP("udp", &net.UDPAddr{IP: local, Port: o.udpPort})
	if err != nil {
		fail("bind UDP port %d: %v", o.udpPort, err)
	}
	deadline := time.Now().Add(o.timeout)
	go func() {
		time.Sleep(time.Until(deadline))
		fail("overall deadline of %v passed", o.timeout)
	}()
	conn := newConn(pc, raddr, nil, o)
	obs := conn.obs
	var assoc *sctp.Association
	withDeadline("handshake", time.Until(deadline), func() error {
		var err error
		assoc, err = sctp.Client(config(conn, o))
		return err
	})
	start := time.Now()
	logf("established with %v", raddr)

	echoes := make(chan echo, len(msgs)+16)
	streams := map[uint16]*sctp.Stream{}
	// Messages pion delivered before the association closed stay readable after it: the
	// readers end only once their stream is drained, so the end is judged after them.
	var readers sync.WaitGroup
	for _, m := range msgs {
		if _, ok := streams[m.stream]; ok {
			continue
		}
		s, err := assoc.OpenStream(m.stream, sctp.PayloadProtocolIdentifier(m.ppid))
		if err != nil {
			fail("OpenStream %d: %v", m.stream, err)
		}
		streams[m.stream] = s
		readers.Add(1)
		go func(s *sctp.Stream) {
			defer readers.Done()
			rbuf := make([]byte, 1<<20)
			for {
				n, ppi, err := s.ReadSCTP(rbuf)
				if err != nil {
					return
				}
				p := append([]byte(nil), rbuf[:n]...)
				echoes <- echo{s.StreamIdentifier(), uint32(ppi),
					obs.unordered(s.StreamIdentifier(), p), p}
			}
		}(s)
	}
	byPayload := map[string]int{}
	for i, m := range msgs {
		byPayload[string(m.payload)] = i
		s := streams[m.stream]
		s.SetReliabilityParams(m.unordered, sctp.ReliabilityTypeReliable, 0)
		if _, err := s.WriteSCTP(m.payload, sctp.PayloadProtocolIdentifier(m.ppid)); err != nil {
			fail("WriteSCTP message %d (%d bytes): %v", i, len(m.payload), err)
		}
	}
	logf("sent %d messages", len(msgs))
	if o.then == "shutdown-now" {
		// Shut down with the echoes still coming: the peer gets SHUTDOWN while it has
		// data of its own outstanding, which it must still deliver (RFC 9260 §9.2).
		go func() {
			// But only once our messages are acknowledged: pion's Shutdown would drop
			// the ones still queued (see the server's "shutdown").
			for {
				var n uint64
				for _, s := range streams {
					n += s.BufferedAmount()
				}
				if n == 0 || time.Now().After(deadline) {
					break
				}
				time.Sleep(time.Millisecond)
			}
			ctx, cancel := context.WithDeadline(context.Background(), deadline)
			defer cancel()
			if err := assoc.Shutdown(ctx); err != nil {
				fail("Shutdown: %v", err)
			}
		}()
	}

	readersDone := make(chan struct{})
	go func() { readers.Wait(); close(readersDone) }()
	got := make([]bool, len(msgs))
	lastOrdered := map[uint16]int{} // per stream: index of the last ordered echo
	for received := 0; received < len(msgs); {
		var e echo
		select {
		case e = <-echoes:
		case <-readersDone:
			if len(echoes) > 0 {
				e = <-echoes
				break
			}
			reportEnd(obs)
			if o.then == "shutdown-now" {
				// Echoes the peer accepted before our SHUTDOWN came arrived intact; the
				// others it refused (its user may not send in SHUTDOWN-RECEIVED).
				checkEnd(obs, "shutdown", "")
				fmt.Printf("echoes ok: %d of %d before the shutdown\n", received, len(msgs))
				fmt.Println("client done")
				return
			}
			if o.expectPeer == "abort" {
				// The peer was told to abort mid-exchange: fewer echoes are expected.
				checkEnd(obs, "abort", o.expectAbortReason)
				fmt.Printf("peer aborted after %d of %d echoes\n", received, len(msgs))
				fmt.Println("client done")
				return
			}
			fail("association ended after %d of %d echoes", received, len(msgs))
		case <-time.After(time.Until(deadline)):
			fail("%d of %d echoes after %v", received, len(msgs), o.timeout)
		}
		i, ok := byPayload[string(e.payload)]
		if !ok {
			fail("echo on stream %d (%d bytes) matches no message sent", e.stream, len(e.payload))
		}
		m := msgs[i]
		if got[i] {
			fail("message %d echoed twice", i)
		}
		got[i] = true
		received++
		if o.abortAfter > 0 && received == o.abortAfter {
			// ABORT with messages still in flight both ways: the peer must drop the
			// association at once and stay healthy.
			logf("aborting after %d of %d echoes", received, len(msgs))
			assoc.Abort(o.reason)
			<-conn.closed
			reportEnd(obs)
			checkEnd(obs, "abort", "")
			fmt.Printf("aborted after %d of %d echoes\n", received, len(msgs))
			fmt.Println("client done")
			return
		}
		if e.stream != m.stream || e.ppid != m.ppid || e.unordered != m.unordered {
			fail("message %d: sent stream=%d ppid=%d unordered=%v, echo stream=%d ppid=%d unordered=%v",
				i, m.stream, m.ppid, m.unordered, e.stream, e.ppid, e.unordered)
		}
		if !m.unordered {
			if prev, ok := lastOrdered[m.stream]; ok && prev > i {
				fail("stream %d: ordered message %d echoed after %d", m.stream, i, prev)
			}
			lastOrdered[m.stream] = i
		}
	}
	elapsed := time.Since(start)
	total := 0
	for _, m := range msgs {
		total += len(m.payload)
	}
	fmt.Printf("echoes ok: %d messages, %d bytes on %d streams in %.3f s\n", len(msgs), total,
		len(streams), elapsed.Seconds())

	reportLoss(conn)
	if o.thenDelay > 0 {
		// Lets the final action meet the peer's: e.g. a SHUTDOWN from each side at once.
		time.Sleep(o.thenDelay)
	}
	if o.closeStreams {
		// pion resets a closed stream's outgoing side with RE-CONFIG (RFC 6525); a peer
		// without it must skip the chunk (RFC 9260 §3.2) and the association carry on.
		for _, s := range streams {
			if err := s.Close(); err != nil {
				fail("Close stream %d: %v", s.StreamIdentifier(), err)
			}
		}
		time.Sleep(200 * time.Millisecond)
	}
	switch o.then {
	case "shutdown":
		withDeadline("Shutdown", time.Until(deadline), func() error {
			err := assoc.Shutdown(context.Background())
			if errors.Is(err, sctp.ErrShutdownNonEstablished) {
				// The peer's SHUTDOWN came first: the association is already on its way
				// out, and how it ended is checked below.
				logf("Shutdown: the peer is already shutting down")
				return nil
			}
			return err
		})
	case "abort":
		assoc.Abort(o.reason)
	case "shutdown-now":
	case "hold":
		fmt.Println("holding")
		select {
		case <-conn.closed:
		case <-time.After(o.hold):
			fail("the peer did not end the association within %v", o.hold)
		}
	default:
		fail("unknown --then %q", o.then)
	}
	<-conn.closed
	reportEnd(obs)
	want := o.expectPeer
	if want == "" && o.then != "hold" {
		want = strings.TrimSuffix(o.then, "-now")
	}
	checkEnd(obs, want, o.expectAbortReason)
	obs.mu.Lock()
	logf("peer INIT ACK parameters: %s", strings.Join(obs.initParams, " "))
	obs.mu.Unlock()
	fmt.Println("client done")
}

// ---------------------------------------------------------------- main

func usage() {
	fmt.Fprintln(os.Stderr, `usage: pion_peer server --listen IP:UDPPORT [--then none|shutdown|abort --after N]
                        [--expect-end any|shutdown|abort] [--expect-abort-reason TEXT]
                        [--reason TEXT] [--quiet] [--rwnd BYTES] [--read-delay S]
       pion_peer client --connect IP:UDPPORT [--udp-port U] [--builtin NAME]
                        [--then shutdown|shutdown-now|abort|hold] [--hold S] [--abort-after N]
                        [--expect-peer shutdown|abort] [--expect-abort-reason TEXT]
                        [--reason TEXT] [--close-streams] [--rwnd BYTES] [--bind-ip IP]
                        [--then-delay S]
common: [--timeout S] [--mtu-payload N] [--max-message N] [--loss F --seed N] [-v]
builtins: single small mixed frag many unordered streams`)
	os.Exit(2)
}

func main() {
	if len(os.Args) < 2 {
		usage()
	}
	mode := os.Args[1]
	fs := flag.NewFlagSet(mode, flag.ExitOnError)
	o := &options{}
	fs.StringVar(&o.listen, "listen", "127.0.0.1:0", "server: local UDP address")
	fs.StringVar(&o.connect, "connect", "", "client: the peer's UDP address")
	fs.IntVar(&o.udpPort, "udp-port", 0, "client: local UDP port")
	fs.StringVar(&o.builtinName, "builtin", "mixed", "client: message set")
	fs.StringVar(&o.then, "then", "", "what to do after the exchange")
	fs.IntVar(&o.after, "after", 1, "server: act after this many echoes")
	fs.StringVar(&o.expectEnd, "expect-end", "any", "server: how the association must end")
	fs.StringVar(&o.expectPeer, "expect-peer", "", "client: how the peer must end it")
	fs.StringVar(&o.expectAbortReason, "expect-abort-reason", "", "text of a received ABORT")
	fs.StringVar(&o.reason, "reason", "pion-peer abort", "text of the ABORT we send")
	timeout := fs.Float64("timeout", 20, "overall deadline, seconds")
	hold := fs.Float64("hold", 10, "client --then hold: seconds to wait for the peer")
	fs.IntVar(&o.mtuPayload, "mtu-payload", 1444, "sctpp's user data per DATA chunk")
	fs.IntVar(&o.maxMessage, "max-message", 1<<20, "pion's largest message, bytes")
	fs.BoolVar(&o.verbose, "v", false, "pion debug logs")
	fs.BoolVar(&o.quiet, "quiet", false, "server: no line per message")
	fs.Float64Var(&o.loss, "loss", 0, "drop this fraction of DATA/SACK packets each way")
	fs.Int64Var(&o.seed, "seed", 1, "seed of --loss")
	fs.IntVar(&o.rwnd, "rwnd", 0, "pion's receive buffer, bytes (0: pion's 1 MiB)")
	readDelay := fs.Float64("read-delay", 0, "server: seconds to wait before each read")
	thenDelay := fs.Float64("then-delay", 0, "client: seconds to wait before --then")
	fs.BoolVar(&o.closeStreams, "close-streams", false, "client: Close every stream before the end")
	fs.IntVar(&o.abortAfter, "abort-after", 0, "client: ABORT after this many echoes")
	fs.StringVar(&o.bindIP, "bind-ip", "", "client: local IP (default: the --connect IP)")
	if err := fs.Parse(os.Args[2:]); err != nil || fs.NArg() != 0 {
		usage()
	}
	o.timeout = time.Duration(*timeout * float64(time.Second))
	o.hold = time.Duration(*hold * float64(time.Second))
	o.readDelay = time.Duration(*readDelay * float64(time.Second))
	o.thenDelay = time.Duration(*thenDelay * float64(time.Second))
	switch mode {
	case "server":
		if o.then == "" {
			o.then = "none"
		}
		server(o)
	case "client":
		if o.connect == "" {
			usage()
		}
		if o.then == "" {
			o.then = "shutdown"
		}
		client(o)
	default:
		usage()
	}
}
