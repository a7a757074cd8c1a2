// Two TcpLayers over a fake link: handshakes, data both ways, closing, and a long transfer
// over a link that drops, duplicates and reorders.
#include <algorithm>

#include "tests/unit/tcp_test_harness.h"

namespace tcp_test {
namespace {

struct Pair {
    Link link;
    TcpSocket* listener = nullptr;
    TcpSocket* client = nullptr;
    TcpSocket* server = nullptr;

    void open(uint16_t port = 80) {
        listener = link.b.create().value();
        ASSERT_FALSE(listener->bind({kAnyAddress, port}).is_error());
        ASSERT_FALSE(listener->listen(8).is_error());
        client = link.a.create().value();
        EXPECT_EQ(client->connect({kHostB, port}).error(), Errno::InProgress);
        link.run_for(50 * kMs);
        auto accepted = listener->accept();
        ASSERT_FALSE(accepted.is_error());
        server = accepted.value();
    }
};

TEST(TcpLink, HandshakeBothWays) {
    Pair p;
    Observer client_events;
    p.listener = p.link.b.create().value();
    ASSERT_FALSE(p.listener->bind({kAnyAddress, 80}).is_error());
    ASSERT_FALSE(p.listener->listen(4).is_error());
    EXPECT_EQ(p.listener->accept().error(), Errno::Again);
    p.client = p.link.a.create().value();
    p.client->set_observer(&client_events);
    EXPECT_EQ(p.client->connect({kHostB, 80}).error(), Errno::InProgress);
    EXPECT_EQ(p.client->state(), TcpState::SynSent);
    EXPECT_EQ(p.client->connect({kHostB, 80}).error(), Errno::Already);
    p.link.run_for(50 * kMs);
    EXPECT_EQ(p.client->state(), TcpState::Established);
    EXPECT_TRUE(client_events.seen & events::kOut);
    EXPECT_TRUE(p.client->poll_events() & events::kOut);
    EXPECT_TRUE(p.listener->poll_events() & events::kIn);
    auto accepted = p.listener->accept();
    ASSERT_FALSE(accepted.is_error());
    TcpSocket* s = accepted.value();
    EXPECT_EQ(s->state(), TcpState::Established);
    EXPECT_EQ(s->remote(), p.client->local());
    EXPECT_EQ(s->local(), p.client->remote());
    EXPECT_GE(p.client->local().port, 32768);
    EXPECT_LE(p.client->local().port, 60999);
    EXPECT_EQ(p.link.a.stats().active_opens, 1u);
    EXPECT_EQ(p.link.b.stats().passive_opens, 1u);
}

TEST(TcpLink, DataBothWaysAndCleanClose) {
    Pair p;
    p.open();
    auto out = bytes_of(5000, 1), back = bytes_of(3000, 2);
    EXPECT_EQ(p.client->send(out).value(), 5000u);
    EXPECT_EQ(p.server->send(back).value(), 3000u);
    p.link.run_for(200 * kMs);
    std::vector<uint8_t> got(10000);
    EXPECT_EQ(p.server->readable_bytes(), 5000u);
    EXPECT_EQ(p.server->recv(got, true).value(), 5000u);  // peek leaves it
    EXPECT_EQ(p.server->recv(got).value(), 5000u);
    EXPECT_TRUE(std::equal(out.begin(), out.end(), got.begin()));
    EXPECT_EQ(p.client->recv(got).value(), 3000u);
    EXPECT_TRUE(std::equal(back.begin(), back.end(), got.begin()));
    EXPECT_EQ(p.client->recv(got).error(), Errno::Again);
    EXPECT_EQ(p.client->unacknowledged_bytes(), 0u);

    ASSERT_FALSE(p.client->shutdown(false, true).is_error());
    p.link.run_for(100 * kMs);
    EXPECT_EQ(p.client->state(), TcpState::FinWait2);
    EXPECT_EQ(p.server->state(), TcpState::CloseWait);
    EXPECT_EQ(p.server->recv(got).value(), 0u);  // FIN reads as end of file
    EXPECT_TRUE(p.server->poll_events() & events::kRdHup);
    EXPECT_EQ(p.server->send(out).value(), 5000u);  // half-closed: the other way still works
    p.server->close();
    p.link.run_for(100 * kMs);
    EXPECT_EQ(p.client->recv(got).value(), 5000u);
    EXPECT_EQ(p.client->recv(got).value(), 0u);
    EXPECT_EQ(p.client->state(), TcpState::TimeWait);
    p.client->close();
    EXPECT_EQ(count_connections(p.link.b), 1u);  // only the listener
    size_t a = count_connections(p.link.a);
    EXPECT_EQ(a, 1u);  // the client in TIME_WAIT
    p.link.run_for(61000 * kMs);
    EXPECT_EQ(count_connections(p.link.a), 0u);
    EXPECT_EQ(p.link.a.next_deadline(), kNoDeadline);
    EXPECT_EQ(p.link.b.next_deadline(), kNoDeadline);
}

TEST(TcpLink, SimultaneousClose) {
    Pair p;
    p.open();
    ASSERT_FALSE(p.client->shutdown(false, true).is_error());
    ASSERT_FALSE(p.server->shutdown(false, true).is_error());
    EXPECT_EQ(p.client->state(), TcpState::FinWait1);
    EXPECT_EQ(p.server->state(), TcpState::FinWait1);
    p.link.run_for(100 * kMs);
    EXPECT_EQ(p.client->state(), TcpState::TimeWait);
    EXPECT_EQ(p.server->state(), TcpState::TimeWait);
    EXPECT_TRUE(p.client->poll_events() & events::kHup);
    p.client->close();
    p.server->close();
    p.link.run_for(61000 * kMs);
    EXPECT_EQ(count_connections(p.link.a), 0u);
    EXPECT_EQ(count_connections(p.link.b), 1u);
}

TEST(TcpLink, ConnectWithoutListenerIsRefused) {
    Link link;
    Observer seen;
    TcpSocket* c = link.a.create().value();
    c->set_observer(&seen);
    EXPECT_EQ(c->connect({kHostB, 9}).error(), Errno::InProgress);
    link.run_for(50 * kMs);
    EXPECT_EQ(c->state(), TcpState::Closed);
    EXPECT_TRUE(seen.seen & events::kErr);
    EXPECT_TRUE(c->poll_events() & events::kErr);
    EXPECT_EQ(c->take_error(), Errno::ConnRefused);
    EXPECT_EQ(c->take_error(), Errno{});
    EXPECT_EQ(link.b.stats().resets_sent, 1u);
}

TEST(TcpLink, TimeWaitReuseWithReuseAddress) {
    Pair p;
    p.open();
    Endpoint client_end = p.client->local();
    p.client->close();
    p.link.run_for(50 * kMs);
    p.server->close();
    p.link.run_for(50 * kMs);
    ASSERT_EQ(count_connections(p.link.a), 1u);  // TIME_WAIT
    TcpSocket* again = p.link.a.create().value();
    EXPECT_EQ(again->bind(client_end).error(), Errno::AddrInUse);
    again->options().reuse_address = true;
    ASSERT_FALSE(again->bind(client_end).is_error());
    EXPECT_EQ(again->connect({kHostB, 80}).error(), Errno::InProgress);
    p.link.run_for(50 * kMs);
    EXPECT_EQ(again->state(), TcpState::Established);
    EXPECT_FALSE(p.listener->accept().is_error());
}

void transfer(Link& link, TcpSocket* a, TcpSocket* b, size_t total, uint64_t budget) {
    std::vector<uint8_t> a_out = bytes_of(total, 3), b_out = bytes_of(total, 4);
    std::vector<uint8_t> a_in, b_in;
    size_t a_sent = 0, b_sent = 0;
    bool a_closed = false, b_closed = false;
    std::vector<uint8_t> buffer(65536);
    uint64_t end = link.env.now + budget;
    while (link.env.now < end) {
        if (a_sent < total) {
            auto r = a->send(std::span(a_out).subspan(a_sent));
            if (!r.is_error()) a_sent += r.value();
        } else if (!a_closed) {
            ASSERT_FALSE(a->shutdown(false, true).is_error());
            a_closed = true;
        }
        if (b_sent < total) {
            auto r = b->send(std::span(b_out).subspan(b_sent));
            if (!r.is_error()) b_sent += r.value();
        } else if (!b_closed) {
            ASSERT_FALSE(b->shutdown(false, true).is_error());
            b_closed = true;
        }
        for (auto [s, in] : {std::pair{a, &a_in}, std::pair{b, &b_in}}) {
            for (;;) {
                auto r = s->recv(buffer);
                if (r.is_error() || r.value() == 0) break;
                in->insert(in->end(), buffer.begin(), buffer.begin() + r.value());
            }
        }
        if (a_in.size() == total && b_in.size() == total && a_closed && b_closed &&
            a->state() == TcpState::TimeWait && b->state() == TcpState::TimeWait)
            break;
        link.step(10 * kMs);
        if (getenv("TCP_TRACE") && link.env.now > end - budget + 2000 * kMs) {
            for (auto& f : link.queue) {
                TcpSegment s = f.wire.segment();
                printf("%lu %s seq=%u ack=%u fl=%x win=%u len=%zu\n", link.env.now / kMs,
                       f.to_b ? "A>B" : "B>A", s.seq, s.ack, s.flags, s.window, s.payload.size());
            }
            printf("t=%lu a_in %zu b_in %zu a_sent %zu b_sent %zu dl %lu %lu\n", link.env.now / kMs,
                   a_in.size(), b_in.size(), a_sent, b_sent, link.a.next_deadline(),
                   link.b.next_deadline());
            if (link.env.now > end - budget + 2100 * kMs) break;
        }
    }
    ASSERT_EQ(a_in.size(), total);
    ASSERT_EQ(b_in.size(), total);
    EXPECT_TRUE(a_in == b_out);
    EXPECT_TRUE(b_in == a_out);
    EXPECT_EQ(a->recv(buffer).value(), 0u);
    EXPECT_EQ(b->recv(buffer).value(), 0u);
    EXPECT_TRUE(a->state() == TcpState::TimeWait || a->state() == TcpState::Closed)
        << tcp_state_name(a->state());
    EXPECT_TRUE(b->state() == TcpState::TimeWait || b->state() == TcpState::Closed)
        << tcp_state_name(b->state());
}

TEST(TcpLink, CleanLinkTransfersFast) {
    Pair p;
    p.open();
    transfer(p.link, p.client, p.server, 1 << 20, 20000 * kMs);
    EXPECT_EQ(p.link.a.stats().retransmits, 0u);
}

TEST(TcpLink, LossyLinkTransfersEightMiBBothWays) {
    Pair p;
    p.link.drop_per_mille = 20;
    p.link.dup_per_mille = 10;
    p.link.reorder_per_mille = 30;
    p.open();
    transfer(p.link, p.client, p.server, 8 << 20, 3600000 * kMs);
    EXPECT_GT(p.link.a.stats().retransmits, 0u);
    EXPECT_GT(p.link.b.stats().retransmits, 0u);
    p.client->close();
    p.server->close();
    p.link.run_for(70000 * kMs);
    EXPECT_EQ(count_connections(p.link.a), 0u);
    EXPECT_EQ(count_connections(p.link.b), 1u);
}

}  // namespace
}  // namespace tcp_test
