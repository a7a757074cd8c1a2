// The protocol state of one connection or listener (RFC 9293 §3.3.1's TCB) and the layer's
// shared state (TcpLayer::Impl). Internal to lib/net's tcp_*.cc files.
#pragma once

#include <cstddef>
#include <cstdint>

#include "lib/net/tcp.h"
#include "lib/net/tcp_buffers.h"
#include "lib/net/tcp_hash.h"
#include "lib/net/tcp_options.h"
#include "lib/net/tcp_seq.h"

namespace lib::net {

namespace tcp_const {
inline constexpr uint64_t kMs = 1000000;             // ns
inline constexpr uint64_t kMinRto = 200 * kMs;       // Linux's TCP_RTO_MIN
inline constexpr uint64_t kMaxRto = 120000 * kMs;    // RFC 6298 §2.5 allows a maximum
inline constexpr uint64_t kInitialRto = 1000 * kMs;  // RFC 6298 §2.1
inline constexpr uint64_t kDelayedAck = 40 * kMs;    // Linux's TCP_DELACK_MIN
inline constexpr uint64_t kTimeWait = 60000 * kMs;   // 2*MSL as Linux has it
inline constexpr uint64_t kFinWait2 = 60000 * kMs;   // Linux's tcp_fin_timeout
inline constexpr uint32_t kSynRetries = 6, kSynAckRetries = 5, kDataRetries = 15;
inline constexpr uint16_t kDefaultMss = 536;            // RFC 9293 §3.7.1
inline constexpr uint32_t kInitialWindowSegments = 10;  // RFC 6928
inline constexpr uint32_t kMaxWindow = 65535u << 14;    // RFC 7323 §2.3
inline constexpr uint16_t kEphemeralLow = 32768, kEphemeralHigh = 60999;
}  // namespace tcp_const

class TcpConnection;

struct TcpLayer::Impl {
    Impl(IpOutput& ip_, NetEnv& env_, TcpLimits limits_);
    ~Impl();

    IpOutput& ip;
    NetEnv& env;
    TcpLimits limits;
    Stats stats{};
    uint64_t now = 0;  // refreshed at every entry point

    // Every connection and listener, in creation order (newest first).
    TcpConnection* all = nullptr;
    // Connections with a remote end, by 4-tuple.
    static constexpr size_t kBuckets = 1024;
    TcpConnection* buckets[kBuckets] = {};
    // Listening sockets.
    TcpConnection* listeners = nullptr;
    // TIME_WAIT connections, oldest first.
    TcpConnection* time_wait_head = nullptr;
    TcpConnection* time_wait_tail = nullptr;
    uint32_t time_wait_count = 0;
    uint32_t connection_count = 0;
    uint64_t buffered_bytes = 0;  // ring capacity allocated across all connections
    // A lower bound of every connection's timers: each assignment of a deadline lowers it
    // (TcpConnection::note_deadline), run_timers() makes it exact again. next_deadline() is
    // then O(1), where a scan of every connection after every socket call cost more than the
    // call itself with a few hundred connections in TIME_WAIT.
    uint64_t earliest = kNoDeadline;
    bool has_dead = false;
    uint16_t next_ephemeral = 0;
    SipKey isn_key, cookie_key, misc_key;

    // Lookups.
    static size_t bucket_of(Endpoint local, Endpoint remote);
    TcpConnection* find(Endpoint local, Endpoint remote);
    TcpConnection* find_listener(Endpoint local, Endpoint remote);
    void hash_insert(TcpConnection& c);
    void hash_remove(TcpConnection& c);

    // Lifetime.
    TcpConnection* allocate();      // counts against max_connections, recycling TIME_WAIT
    void retire(TcpConnection& c);  // unlinks from lookups; freed by sweep()
    void sweep();
    void time_wait_link(TcpConnection& c);
    void time_wait_unlink(TcpConnection& c);

    // Ports (tcp_layer.cc).
    bool port_conflicts(const TcpConnection& who, Endpoint local) const;
    uint16_t ephemeral_port(const TcpConnection& who, Ipv4Address address);

    // Sequence numbers (RFC 6528) and the keyed hashes built on the same SipHash.
    uint32_t initial_sequence(Endpoint local, Endpoint remote);
    uint64_t keyed(const SipKey& key, Endpoint local, Endpoint remote, uint64_t extra) const;
    uint32_t ts_clock() const { return static_cast<uint32_t>(now / tcp_const::kMs); }

    // Input for segments no connection claims (tcp_listen.cc / tcp_output.cc).
    void listener_input(TcpConnection& listener, const IncomingPacket& packet,
                        const TcpSegment& seg);
    void send_reset_for(const IncomingPacket& packet, const TcpSegment& seg);
    bool send_raw(Ipv4Address source, Ipv4Address destination, uint8_t* header,
                  size_t header_length, std::span<const uint8_t> payload0 = {},
                  std::span<const uint8_t> payload1 = {});

    // SYN cookies (tcp_listen.cc).
    uint32_t make_cookie(Endpoint local, Endpoint remote, uint32_t peer_isn, uint16_t mss);
    uint16_t check_cookie(Endpoint local, Endpoint remote, uint32_t peer_isn, uint32_t cookie);
};

class TcpConnection {
public:
    explicit TcpConnection(TcpLayer::Impl& layer_) : layer(layer_), socket(*this) {}
    // Called after every deadline assignment (see Impl::earliest).
    void note_deadline(uint64_t deadline) {
        if (deadline < layer.earliest) layer.earliest = deadline;
    }
    ~TcpConnection();
    TcpConnection(const TcpConnection&) = delete;
    TcpConnection& operator=(const TcpConnection&) = delete;

    TcpLayer::Impl& layer;
    TcpSocket socket;
    TcpOptions options;
    SocketObserver* observer = nullptr;
    TcpState state = TcpState::Closed;
    Endpoint local{}, remote{};
    bool bound = false;
    bool owner_closed = false;  // close() was called (or nobody will ever own it)
    bool dead = false;          // retired, waiting for sweep()
    bool hashed = false;
    bool was_connected = false;  // reached SYN_SENT or beyond once (NotConn vs Pipe)
    bool reset = false;          // ended by a RST or an abort
    bool read_shut = false, write_shut = false;
    Errno error{};       // SO_ERROR
    Errno soft_error{};  // an ICMP error remembered for a timeout (RFC 1122 §4.2.3.9)

    // Links.
    TcpConnection* all_prev = nullptr;
    TcpConnection* all_next = nullptr;
    TcpConnection* hash_next = nullptr;
    TcpConnection* listen_next = nullptr;
    TcpConnection* tw_prev = nullptr;
    TcpConnection* tw_next = nullptr;

    // Listener side: the accept queue, half-open children counted.
    TcpConnection* parent = nullptr;      // the listener of a not yet accepted child
    TcpConnection* queue_next = nullptr;  // in the parent's accept queue
    bool queued = false;
    TcpConnection* accept_head = nullptr;
    TcpConnection* accept_tail = nullptr;
    uint32_t accept_count = 0, backlog = 0, half_open = 0;

    // Send sequence space (RFC 9293 §3.3.1) and queue. snd_max is the highest sent (snd_nxt
    // goes back to snd_una on a retransmission timeout).
    uint32_t iss = 0, snd_una = 0, snd_nxt = 0, snd_max = 0;
    uint32_t snd_wnd = 0, snd_wl1 = 0, snd_wl2 = 0, max_snd_wnd = 0;
    uint32_t send_seq = 0;  // sequence number of send_ring's first byte
    ByteRing send_ring;
    bool fin_queued = false;
    bool more = false;                      // MSG_MORE on the last send
    uint16_t mss = tcp_const::kDefaultMss;  // the peer's MSS, lowered by PMTU
    uint8_t snd_wscale = 0, rcv_wscale = 0;
    bool ts_ok = false, sack_ok = false, wscale_ok = false;
    uint32_t ts_offset = 0, ts_recent = 0;
    uint64_t ts_recent_time = 0;
    uint32_t last_ack_sent = 0;

    // Receive sequence space and queue (out-of-order bytes sit in rcv_ring's free space).
    uint32_t irs = 0, rcv_nxt = 0, rcv_adv = 0;  // rcv_adv: the right edge advertised
    uint32_t rcv_capacity = 0;
    ByteRing rcv_ring;
    SeqRanges ooo;
    uint32_t ooo_latest = 0;  // start of the most recent out-of-order segment (RFC 2018 §4)
    bool fin_received = false;
    bool ooo_fin = false;
    uint32_t ooo_fin_seq = 0;

    // RTT and retransmission (RFC 6298), congestion control (RFC 5681, 6582, 6675's scoreboard).
    uint64_t srtt = 0, rttvar = 0, rto = tcp_const::kInitialRto;  // ns
    bool rtt_valid = false, rtt_timing = false;
    uint32_t rtt_seq = 0;
    uint64_t rtt_start = 0;
    uint32_t cwnd = 0, ssthresh = 0xffffffff, bytes_acked = 0;
    uint32_t dupacks = 0;
    bool in_recovery = false;
    uint32_t recover = 0, high_rxt = 0;
    SeqRanges scoreboard;

    // Timers (absolute ns, kNoDeadline when off).
    uint64_t rexmit_deadline = kNoDeadline;  // retransmission, or persist when `persist`
    uint64_t delack_deadline = kNoDeadline;
    uint64_t keepalive_deadline = kNoDeadline;
    uint64_t state_deadline = kNoDeadline;  // TIME_WAIT, FIN_WAIT_2 orphan
    bool persist = false;
    uint32_t retries = 0;        // consecutive timeouts
    uint64_t first_timeout = 0;  // when the current run of retransmissions began
    uint32_t keepalive_probes = 0;
    uint64_t last_received = 0;
    uint32_t unacked_segments = 0;  // full segments received since our last ACK
    bool ack_now = false;

    // tcp_socket.cc
    void notify(uint32_t events);
    void notify_parent();
    uint32_t poll_events() const;
    bool synchronized() const;
    void release_buffers();

    // tcp_input.cc
    void segment_arrives(const TcpSegment& seg);
    void syn_sent_input(const TcpSegment& seg);
    void take_syn_options(const TcpSegment& seg);
    bool acceptable(const TcpSegment& seg) const;
    bool handle_rst(const TcpSegment& seg);
    bool handle_ack(const TcpSegment& seg);
    void take_ack(const TcpSegment& seg);
    void receive_data(uint32_t seq, std::span<const uint8_t> data);
    void receive_fin();
    void established();

    // tcp_output.cc
    void output();
    void force_output();
    bool transmit(uint32_t seq, uint32_t length, bool retransmission);
    void send_syn();
    void send_ack();
    void send_rst(uint32_t seq);
    void send_probe();
    uint32_t receive_window() const;
    uint32_t effective_mss() const;
    void arm_rexmit();
    uint32_t unsent() const;
    uint32_t fin_seq() const { return send_seq + send_ring.size(); }

    // tcp_congestion.cc
    void congestion_init();
    void rtt_sample(uint64_t rtt);
    void on_new_ack(uint32_t acked, const TcpSegment& seg);
    void on_dupack(const TcpSegment& seg);
    void on_timeout();
    void update_scoreboard(const TcpSegment& seg);
    bool retransmit_hole();
    uint32_t flight() const { return snd_max - snd_una; }

    // tcp_timer.cc
    void run_timers(uint64_t now);
    uint64_t next_deadline() const;
    void rexmit_timeout();
    void keepalive_timeout();
    void arm_keepalive();
    void enter_time_wait();
    void abort(Errno why);  // reports `why`, enters CLOSED (no RST sent)
    void to_closed();

    // tcp_socket.cc / tcp_layer.cc
    ErrorOr start_connect(Endpoint to);
    void queue_fin();
    void close_listener();
    void rcv_window_update();
};

}  // namespace lib::net
